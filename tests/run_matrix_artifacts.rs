//! Matrix artifacts (language v2 §7, i13k) under `cdl run`, the real binary: each instance
//! builds in its own copy of the working folder and is sealed on its own; the consumer gets one
//! subfolder per instance; a missing optional output is fine, a missing required one fails its
//! instance; a run killed between instances resumes by building only the missing ones; a
//! promotion checks every instance's bytes.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn cdl(dir: &Path, args: &[&str], envs: &[(&str, &str)]) -> Output {
    let mut command = Command::new(assert_cmd::cargo::cargo_bin!("cdl"));
    command
        .current_dir(dir)
        .args(args)
        .env_remove("NO_COLOR")
        .env_remove("CDL_FAILPOINT")
        .stdin(Stdio::null());
    for (k, v) in envs {
        command.env(k, v);
    }
    command.output().expect("cdl runs")
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Three instances (one with a space and a `/` in its value); only `linux` makes the optional
/// `.deb`; every build appends its instance to `builds.txt` outside the working folder; the
/// deploy lists what it received into `shipped.txt`. `{REQUIRED}` is what `macos` writes.
const PIPELINE: &str = r#"pipeline p {
  env { BUILDS = "{BUILDS}" }
  environment shelf { url = "https://example.com" }
  environment store {
    url = "https://example.com"
    requires promotion from shelf
  }
  stage build {
    artifact pkgs {
      matrix {
        os = ["linux", "macos", "win dows/x"]
        include { os = "linux"  deb = "yes" }
      }
      run = """
        echo "$CDL_MATRIX_OS" >> "$BUILDS"
        ls dist 2>/dev/null && { echo "another instance's files are here" >&2; exit 1; }
        if [ "$CDL_MATRIX_OS" != macos ] || [ "{REQUIRED}" = yes ]; then
          mkdir -p dist/pkg
          printf '%s\n' "$CDL_MATRIX_OS" > "dist/pkg/app.txt"
        fi
        if [ -n "$CDL_MATRIX_DEB" ]; then mkdir -p dist/deb; echo deb > dist/deb/app.deb; fi
        """
      outputs          = ["dist/pkg/**"]
      optional_outputs = ["dist/deb/**"]
    }
  }
  stage ship {
    deploy pkgs to shelf {
      run = "cd \"$CDL_ARTIFACT_PKGS\" && find . -type f -exec sh -c 'printf \"%s %s\\n\" \"$1\" \"$(cat \"$1\")\"' _ {} \\; | sort > \"$CDL_WORKSPACE/shipped.txt\""
    }
  }
  stage promote {
    deploy pkgs to store { run = "test -f \"$CDL_ARTIFACT_PKGS/linux/dist/deb/app.deb\"" }
  }
}
"#;

fn project(required: bool) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let builds = dir.path().join("builds.txt");
    let pipeline = PIPELINE
        .replace("{BUILDS}", &builds.display().to_string())
        .replace("{REQUIRED}", if required { "yes" } else { "no" });
    std::fs::write(dir.path().join("pipeline.cdl"), pipeline).unwrap();
    (dir, builds)
}

fn lines(path: &Path) -> Vec<String> {
    let mut lines: Vec<String> = std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(String::from)
        .collect();
    lines.sort();
    lines
}

#[test]
fn every_instance_is_built_apart_and_the_deploy_gets_one_folder_each() {
    let (dir, builds) = project(true);
    let out = cdl(dir.path(), &["run", "pipeline.cdl"], &[]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(lines(&builds), ["linux", "macos", "win dows/x"]);
    assert_eq!(
        lines(&dir.path().join("shipped.txt")),
        [
            "./linux/dist/deb/app.deb deb",
            "./linux/dist/pkg/app.txt linux",
            "./macos/dist/pkg/app.txt macos",
            "./win_dows_x/dist/pkg/app.txt win dows/x",
        ]
    );
    // Nothing was built in the working folder itself.
    assert!(!dir.path().join("dist").exists());
    // Each instance is its own sealed part of the record, and the promotion passed.
    let stdout = text(&out);
    for part in [
        "pkgs/linux stored",
        "pkgs/macos stored",
        "pkgs/win_dows_x stored",
    ] {
        assert!(stdout.contains(part), "{stdout}");
    }
    assert!(stdout.contains("deploy_pkgs_store"), "{stdout}");
}

#[test]
fn a_missing_required_output_fails_its_instance_only() {
    let (dir, builds) = project(false);
    let out = cdl(dir.path(), &["run", "pipeline.cdl"], &[]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let stdout = text(&out);
    assert!(
        stdout.contains("the output `dist/pkg/**` matched no file"),
        "{stdout}"
    );
    assert!(stdout.contains("pkgs/linux stored"), "{stdout}");
    assert!(!stdout.contains("pkgs/macos stored"), "{stdout}");
    assert_eq!(lines(&builds).len(), 3);
    assert!(
        !dir.path().join("shipped.txt").exists(),
        "no partial deploy"
    );
}

/// Killed at `point` (its `N`th passage, one job at a time): `before` were built when it died;
/// the resume builds only the others, and the deploy gets all three.
fn killed_and_resumed(point: &str, before: &[&str]) {
    let (dir, builds) = project(true);
    let killed = cdl(
        dir.path(),
        &["run", "pipeline.cdl", "--jobs", "1"],
        &[("CDL_FAILPOINT", point)],
    );
    assert_eq!(killed.status.code(), None, "killed: {}", text(&killed));
    assert_eq!(lines(&builds), before);
    let resumed = cdl(dir.path(), &["resume"], &[]);
    assert!(resumed.status.success(), "{}", text(&resumed));
    // Each instance built exactly once across the run and its resume.
    assert_eq!(lines(&builds), ["linux", "macos", "win dows/x"]);
    assert_eq!(lines(&dir.path().join("shipped.txt")).len(), 4);
}

#[test]
fn a_run_killed_as_an_instance_starts_resumes_building_only_the_missing_ones() {
    // The second instance's attempt is journaled, its build never started.
    killed_and_resumed("attempt-started:2", &["linux"]);
}

#[test]
fn a_run_killed_as_an_instance_is_sealed_resumes_without_building_it_again() {
    // The second instance's outputs are sealed, its success not yet recorded: the resume
    // takes its finished attempt's result and seals it again, same bytes, no second build.
    killed_and_resumed("artifact-stored:2", &["linux", "macos"]);
}
