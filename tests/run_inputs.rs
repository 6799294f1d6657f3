//! Inputs and vars (language v2 §2) under `cdl run`, the real binary on pipelines written to
//! a temporary folder: `--input` checked against the type and the choices, `--var` before the
//! environment before the default, what jobs see, and conditions choosing the jobs.

use std::path::Path;
use std::process::{Command, Output, Stdio};

const PIPELINE: &str = r#"pipeline p {
  secret TOKEN
  input target { type = choice  choices = ["staging", "production"]  default = "staging" }
  input dry_run { type = bool  default = false }
  input note { }
  var FLAG { default = "from default" }
  var CHANNEL { }
  stage s {
    job show {
      run = "printf '%s|%s|%s|%s|%s\n' \"$CDL_INPUT_TARGET\" \"$CDL_INPUT_DRY_RUN\" \"$CDL_INPUT_NOTE\" \"$FLAG\" \"$CHANNEL\" > seen.txt"
    }
    job production {
      run  = "touch production.txt"
      when = input.target == "production" && input.dry_run == false
    }
    job rehearsal {
      run  = "touch rehearsal.txt"
      when = input.dry_run == true
    }
    job flagged {
      run  = "touch flagged.txt"
      when = var.FLAG == "on" && defined(var.CHANNEL)
    }
    job secret_set {
      run  = "touch secret.txt"
      when = defined(secret.TOKEN)
    }
    job on_default {
      run  = "touch default.txt"
      when = branch == default_branch && repository matches "*"
    }
  }
}
"#;

fn run(dir: &Path, args: &[&str], envs: &[(&str, &str)]) -> Output {
    std::fs::write(dir.join("pipeline.cdl"), PIPELINE).unwrap();
    let mut command = Command::new(assert_cmd::cargo::cargo_bin!("cdl"));
    command
        .current_dir(dir)
        .args(["run", "pipeline.cdl", "--branch", "main"])
        .args(args)
        .env_remove("FLAG")
        .env_remove("CHANNEL")
        .env_remove("TOKEN")
        .stdin(Stdio::null());
    for (k, v) in envs {
        command.env(k, v);
    }
    command.output().expect("cdl runs")
}

fn exists(dir: &Path, file: &str) -> bool {
    dir.join(file).exists()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn defaults_reach_the_jobs_and_choose_them() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(dir.path(), &[], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let seen = std::fs::read_to_string(dir.path().join("seen.txt")).unwrap();
    assert_eq!(seen, "staging|false||from default|\n");
    for (file, ran) in [
        ("production.txt", false),
        ("rehearsal.txt", false),
        ("flagged.txt", false),
        ("secret.txt", false),
        ("default.txt", true),
    ] {
        assert_eq!(exists(dir.path(), file), ran, "{file}");
    }
}

#[test]
fn given_inputs_vars_and_secrets_choose_the_jobs() {
    let dir = tempfile::tempdir().unwrap();
    let hostile = "it's \"$HOME\" `x` $(y)\n#: {{z}} ${{ w }}";
    let note = format!("note={hostile}");
    let out = run(
        dir.path(),
        &[
            "--input",
            "target=production",
            "--input",
            &note,
            "--var",
            "FLAG=on",
        ],
        &[
            ("FLAG", "from env"),
            ("CHANNEL", "#releases"),
            ("TOKEN", "s3cret"),
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let seen = std::fs::read_to_string(dir.path().join("seen.txt")).unwrap();
    assert_eq!(seen, format!("production|false|{hostile}|on|#releases\n"));
    assert!(exists(dir.path(), "production.txt"));
    assert!(!exists(dir.path(), "rehearsal.txt"));
    assert!(exists(dir.path(), "flagged.txt"));
    assert!(exists(dir.path(), "secret.txt"));
    // The run record keeps the inputs given (and the vars), never a secret's value.
    let runs = dir.path().join(".cdl/runs");
    let run = std::fs::read_dir(&runs)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let record = std::fs::read_to_string(run.join("run.json")).unwrap();
    let record: serde_json::Value = serde_json::from_str(&record).unwrap();
    assert_eq!(record["inputs"]["target"], "production");
    assert_eq!(record["inputs"]["note"], hostile);
    assert_eq!(record["vars"]["FLAG"], "on");
    assert_eq!(record["defined_secrets"][0], "TOKEN");
    assert!(!record.to_string().contains("s3cret"));
}

#[test]
fn the_environment_comes_before_the_default() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(
        dir.path(),
        &["--input", "dry_run=true"],
        &[("FLAG", "from env")],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let seen = std::fs::read_to_string(dir.path().join("seen.txt")).unwrap();
    assert_eq!(seen, "staging|true||from env|\n");
    assert!(exists(dir.path(), "rehearsal.txt"));
}

#[test]
fn bad_inputs_are_refused_with_exit_2_before_anything_runs() {
    for (args, says) in [
        (
            vec!["--input", "target=prod"],
            "\"staging\", \"production\"",
        ),
        (vec!["--input", "dry_run=yes"], "`true` or `false`"),
        (vec!["--input", "targte=staging"], "did you mean `target`?"),
        (vec!["--input", "target"], "NAME=VALUE"),
        (vec!["--var", "NOPE=1"], "no var named `NOPE`"),
        (
            vec!["--input", "note=a", "--input", "note=b"],
            "given twice",
        ),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let out = run(dir.path(), &args, &[]);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains(says), "{args:?}: {}", stderr(&out));
        assert!(!exists(dir.path(), "seen.txt"), "{args:?} ran a job");
    }
}
