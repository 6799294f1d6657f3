//! Steps and shells (language v2 §4) under `cdl run`, the real binary on pipelines written to a
//! temporary folder: which steps run after a failure, what a step sees, and how the job ends.

use std::path::Path;
use std::process::{Command, Output, Stdio};

fn run(pipeline: &str, dir: &Path, envs: &[(&str, &str)]) -> Output {
    std::fs::write(dir.join("pipeline.cdl"), pipeline).unwrap();
    let mut command = Command::new(assert_cmd::cargo::cargo_bin!("cdl"));
    command
        .current_dir(dir)
        .args(["run", "pipeline.cdl"])
        .env_remove("NO_COLOR")
        .stdin(Stdio::null());
    for (k, v) in envs {
        command.env(k, v);
    }
    command.output().expect("cdl runs")
}

/// The log of job `j` of the only run.
fn log(dir: &Path) -> String {
    let runs = dir.join(".cdl/runs");
    let run = std::fs::read_dir(&runs)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    std::fs::read_to_string(run.join("logs/j.log")).unwrap_or_default()
}

fn read(dir: &Path, file: &str) -> String {
    std::fs::read_to_string(dir.join(file)).unwrap_or_default()
}

#[test]
fn a_failed_step_stops_the_rest_but_always_and_on_failure_steps_and_fails_the_job() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(
        r#"pipeline p { stage s {
            job j {
                step one     { run = "echo one >> ran.txt" }
                step lenient { run = "echo lenient >> ran.txt; exit 9"  allow_failure = true }
                step two     { run = "echo two >> ran.txt; exit 3" }
                step three   { run = "echo three >> ran.txt" }
                step cleanup { run = "echo cleanup >> ran.txt"  runs = always }
                step report  { run = "echo report >> ran.txt"  runs = on_failure }
                run = "echo run >> ran.txt"
            }
            job later { after = [j]  run = "touch later.txt" }
        } }"#,
        dir.path(),
        &[],
    );
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert_eq!(
        read(dir.path(), "ran.txt"),
        "one\nlenient\ntwo\ncleanup\nreport\n"
    );
    assert!(!dir.path().join("later.txt").exists(), "the job failed");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("exited with 3"),
        "the first failure is the job's: {stdout}"
    );
}

#[test]
fn on_failure_steps_are_skipped_when_everything_passed() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(
        r#"pipeline p { stage s { job j {
            step one    { run = "echo one >> ran.txt" }
            step report { run = "echo report >> ran.txt"  runs = on_failure }
            step always { run = "echo always >> ran.txt"  runs = always }
            run = ["echo a >> ran.txt", "echo b >> ran.txt"]
        } } }"#,
        dir.path(),
        &[],
    );
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(read(dir.path(), "ran.txt"), "one\nalways\na\nb\n");
}

#[test]
fn steps_pass_variables_and_folders_on_and_have_their_own_env_and_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(
        r#"pipeline p {
            secret TOKEN
            stage s { job j {
                secrets = [TOKEN]
                env { WHO = "job" }
                step make_tool {
                    run = "mkdir -p bin && printf '#!/bin/sh\necho tool\n' > bin/tool && chmod +x bin/tool && echo \"$PWD/bin\" >> \"$CDL_PATH\" && echo 'PASSED=a b=c' >> \"$CDL_ENV\" && echo 'WHO=file' >> \"$CDL_ENV\""
                }
                step use {
                    run = "tool > seen.txt; echo \"$PASSED|$WHO|${TOKEN:-none}\" >> seen.txt"
                }
                step own {
                    run = "echo \"$WHO|$TOKEN\" >> seen.txt"
                    env { WHO = "step" }
                    secrets = [TOKEN]
                }
            } }
        }"#,
        dir.path(),
        &[("TOKEN", "tok")],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert_eq!(
        read(dir.path(), "seen.txt"),
        "tool\na b=c|file|none\nstep|tok\n",
        "a later step reads $CDL_ENV and $CDL_PATH; a step's env wins; a step's secret is its own"
    );
}

#[test]
fn a_steps_timeout_fails_the_job_and_cleanup_still_runs() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(
        r#"pipeline p { stage s { job j {
            step slow    { run = "sleep 30"  timeout = 1s }
            step next    { run = "touch next.txt" }
            step cleanup { run = "touch cleanup.txt"  runs = always }
        } } }"#,
        dir.path(),
        &[],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(dir.path().join("cleanup.txt").exists());
    assert!(!dir.path().join("next.txt").exists());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("the step `slow` timed out after 1s"),
        "{stdout}"
    );
}

#[test]
fn shells_run_the_designs_command_lines() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(
        r#"pipeline p { shell = "bash"  stage s { job j {
            step pipefail { run = "false | true"  allow_failure = true }
            step marker   { run = "echo $BASH_VERSION > bash.txt; echo printed" }
            step posix    { run = "false | true; echo sh-ok > sh.txt"  shell = "sh" }
        } } }"#,
        dir.path(),
        &[],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(
        !read(dir.path(), "bash.txt").trim().is_empty(),
        "bash ran the step"
    );
    assert_eq!(read(dir.path(), "sh.txt"), "sh-ok\n", "sh has no pipefail");
    let log = log(dir.path());
    assert!(
        log.contains("── step pipefail failed; its failure is allowed ──"),
        "bash -o pipefail fails `false | true`: {log}"
    );
}

/// v2 §2: a step's composed `env` values are computed from the job's variables (the run
/// context, the secrets), not from what an earlier step wrote to `$CDL_ENV`; they stand over
/// `$CDL_ENV`'s values for that step only, and a secret in one is masked in the log.
#[test]
fn a_steps_composed_values_are_its_own_and_read_the_jobs_variables() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("pipeline.cdl"),
        r#"pipeline p {
          secret TOKEN
          stage s {
            job j {
              secrets = [TOKEN]
              step one { run = "echo LABEL=file >> \"$CDL_ENV\"; echo CDL_SHA=changed >> \"$CDL_ENV\"" }
              step two {
                secrets = [TOKEN]
                env {
                  LABEL = "at-" + sha + "-" + branch
                  AUTH  = "Bearer " + secret.TOKEN
                }
                run = "printf '%s|%s\\n' \"$LABEL\" \"$AUTH\" > seen.txt; echo \"auth is $AUTH\""
              }
              step three { run = "printf '%s|%s\\n' \"$LABEL\" \"${AUTH:-none}\" >> seen.txt" }
            }
          }
        }"#,
    )
    .unwrap();
    let out = Command::new(assert_cmd::cargo::cargo_bin!("cdl"))
        .current_dir(dir.path())
        .args(["run", "pipeline.cdl", "--sha", "abc123", "--branch", "main"])
        .env_remove("NO_COLOR")
        .env("TOKEN", "s3cret-value")
        .stdin(Stdio::null())
        .output()
        .expect("cdl runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert_eq!(
        read(dir.path(), "seen.txt"),
        "at-abc123-main|Bearer s3cret-value\nfile|none\n"
    );
    let log = log(dir.path());
    assert!(log.contains("auth is Bearer ***"), "{log}");
    assert!(!log.contains("s3cret-value") && !stdout.contains("s3cret-value"));
}
