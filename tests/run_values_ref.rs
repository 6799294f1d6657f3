//! Composed values (language v2 §2 "Typed references and composed values") under `cdl run`,
//! the real binary on pipelines written to a temporary folder: each `env` value is computed
//! from the run context, inputs, vars, the matrix instance, the values of the jobs waited
//! for and the job's secrets; literal parts stay literal however hostile; a secret composed
//! into a value is masked in the log and the record.

use std::path::Path;
use std::process::{Command, Output, Stdio};

fn cdl(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    Command::new(assert_cmd::cargo::cargo_bin!("cdl"))
        .current_dir(dir)
        .args(args)
        .env("NO_COLOR", "1")
        .env("HOME", dir)
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .output()
        .expect("cdl runs")
}

fn read(dir: &Path, file: &str) -> String {
    std::fs::read_to_string(dir.join(file)).unwrap_or_default()
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Every file under `dir`.
fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

const PIPELINE: &str = r#"pipeline p {
  default_branch = "trunk"
  secret TOKEN
  input channel { type = choice  choices = ["beta", "stable"]  default = "beta" }
  var REGISTRY { default = "reg.example" }
  env { NOTE = "${{ x }}" + sha + "$HOME" + "<< y >>" + "{{z}}" + "$(id)" + branch }
  stage build {
    job meta {
      values = [version]
      run = "echo version=1.2.3 >> \"$CDL_VALUES\""
    }
    test unit {
      matrix { os = ["linux", "mac"] }
      env { LABEL = matrix.os + "@" + tag + "|" + default_branch + "|" + repository }
      run = "printf '%s' \"$LABEL\" > \"label-$CDL_MATRIX_OS.txt\""
    }
  }
  stage publish {
    job image {
      secrets = [TOKEN]
      env {
        IMAGE = var.REGISTRY + "/app:" + value.meta.version + "-" + input.channel
        AUTH  = "Bearer " + secret.TOKEN
        WHERE = workspace + "/dist"
      }
      run = "printf '%s' \"$IMAGE\" > image.txt; printf '%s' \"$WHERE\" > where.txt; printf '%s' \"$NOTE\" > note.txt; echo \"auth is $AUTH\"; printf '%s' \"$AUTH\" > auth.txt"
    }
  }
}"#;

#[test]
fn values_are_computed_from_the_run_and_secrets_in_them_are_masked() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("pipeline.cdl"), PIPELINE).unwrap();
    let out = cdl(
        dir.path(),
        &[
            "run",
            "pipeline.cdl",
            "--branch",
            "feat/$(x)",
            "--tag",
            "v1",
            "--sha",
            "abc123",
            "--input",
            "channel=stable",
        ],
        &[("TOKEN", "s3cr3t-value"), ("REGISTRY", "env.example")],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(
        read(dir.path(), "image.txt"),
        "env.example/app:1.2.3-stable"
    );
    assert_eq!(
        read(dir.path(), "note.txt"),
        "${{ x }}abc123$HOME<< y >>{{z}}$(id)feat/$(x)",
        "literal parts are never expanded"
    );
    let workspace = read(dir.path(), "where.txt");
    assert!(workspace.ends_with("/dist"), "{workspace}");
    assert_eq!(read(dir.path(), "auth.txt"), "Bearer s3cr3t-value");
    let repository = dir
        .path()
        .file_name()
        .unwrap()
        .to_string_lossy()
        .to_string();
    assert_eq!(
        read(dir.path(), "label-linux.txt"),
        format!("linux@v1|trunk|{repository}")
    );
    assert_eq!(
        read(dir.path(), "label-mac.txt"),
        format!("mac@v1|trunk|{repository}")
    );
    let all = text(&out);
    assert!(all.contains("auth is Bearer ***"), "{all}");
    assert!(!all.contains("s3cr3t-value"), "{all}");
    for file in walk(&dir.path().join(".cdl")) {
        let content = std::fs::read_to_string(&file).unwrap_or_default();
        assert!(!content.contains("s3cr3t-value"), "{}", file.display());
    }
}

#[test]
fn a_reference_the_job_does_not_receive_is_refused_before_running() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("pipeline.cdl"),
        r#"pipeline p {
          secret TOKEN
          stage s {
            job meta { values = [version]  run = "echo version=1 >> \"$CDL_VALUES\"" }
            job beside { run = "true"  env { V = value.meta.version  A = secret.TOKEN  B = input.nope } }
          }
        }"#,
    )
    .unwrap();
    let out = cdl(dir.path(), &["run", "pipeline.cdl"], &[("TOKEN", "t")]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let all = text(&out);
    for code in ["E0330", "E0331"] {
        assert!(all.contains(code), "{code}: {all}");
    }
    assert!(!dir.path().join(".cdl").exists() || walk(&dir.path().join(".cdl")).is_empty());
}

#[test]
fn a_templates_composed_values_reach_the_jobs_that_merge_it() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("pipeline.cdl"),
        r#"template tagged {
          image = "rust:" + var.RUST
          env { NOTE = "at " + sha + " $HOME" }
        }
        pipeline p {
          var RUST { default = "1.89" }
          stage s { job j from tagged { run = "printf '%s' \"$NOTE\" > note.txt" } }
        }"#,
    )
    .unwrap();
    let out = cdl(dir.path(), &["run", "pipeline.cdl", "--sha", "f00d"], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(read(dir.path(), "note.txt"), "at f00d $HOME");
    let plan = cdl(
        dir.path(),
        &["plan", "--format", "json", "pipeline.cdl"],
        &[],
    );
    let plan: serde_json::Value = serde_json::from_slice(&plan.stdout).unwrap();
    assert_eq!(
        plan["jobs"][0]["image_value"],
        serde_json::json!([{"text": "rust:"}, {"ref": "var.RUST"}])
    );
}
