//! Step conditions (language v2 §4) under `cdl run`, the real binary: a step whose `when` is
//! false is skipped and shown as skipped, whatever the earlier steps did; the condition reads
//! the run context, inputs, vars, `defined(secret.NAME)` and the instance's `matrix.KEY`.

use std::path::Path;
use std::process::{Command, Output, Stdio};

fn run(pipeline: &str, dir: &Path, args: &[&str], envs: &[(&str, &str)]) -> Output {
    std::fs::write(dir.join("pipeline.cdl"), pipeline).unwrap();
    let mut command = Command::new(assert_cmd::cargo::cargo_bin!("cdl"));
    command
        .current_dir(dir)
        .args(["run", "pipeline.cdl"])
        .args(args)
        .env_remove("NO_COLOR")
        .env_remove("FLAG")
        .env_remove("TOKEN")
        .stdin(Stdio::null());
    for (k, v) in envs {
        command.env(k, v);
    }
    command.output().expect("cdl runs")
}

/// The log of job `job` of the only run.
fn log(dir: &Path, job: &str) -> String {
    let runs = dir.join(".cdl/runs");
    let run = std::fs::read_dir(&runs)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    std::fs::read_to_string(run.join(format!("logs/{job}.log"))).unwrap_or_default()
}

fn read(dir: &Path, file: &str) -> String {
    std::fs::read_to_string(dir.join(file)).unwrap_or_default()
}

const PIPELINE: &str = r#"pipeline p {
    secret TOKEN
    input mode { type = choice  choices = ["fast", "it's \"$(x)\" ${{ y }}"]  default = "fast" }
    var FLAG { description = "a flag" }
    stage s { job j {
        secrets = [TOKEN]
        step one     { run = "echo one >> ran.txt" }
        step on_main { run = "echo on_main >> ran.txt"  when = branch == "main" }
        step mode    { run = "echo mode >> ran.txt"  when = input.mode == "it's \"$(x)\" ${{ y }}" }
        step flag    { run = "echo flag >> ran.txt"  when = var.FLAG == "$HOME `x`" }
        step token   { run = "echo token >> ran.txt"  when = defined(secret.TOKEN) }
        step fail    { run = "echo fail >> ran.txt; exit 4"  when = tag matches "v*" }
        step after   { run = "echo after >> ran.txt; echo printed" }
        step cleanup { run = "echo cleanup >> ran.txt"  runs = always  when = event != schedule }
    } }
}"#;

#[test]
fn a_step_whose_condition_is_false_is_skipped_and_shown_as_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(PIPELINE, dir.path(), &["--branch", "dev"], &[("TOKEN", "")]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(read(dir.path(), "ran.txt"), "one\nafter\ncleanup\n");
    let log = log(dir.path(), "j");
    for skipped in ["on_main", "mode", "flag", "token", "fail"] {
        assert!(
            log.contains(&format!(
                "── step {skipped}: skipped (its condition is false) ──"
            )),
            "{skipped}: {log}"
        );
    }
}

#[test]
fn each_condition_reads_its_own_part_of_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(
        PIPELINE,
        dir.path(),
        &[
            "--branch",
            "main",
            "--input",
            "mode=it's \"$(x)\" ${{ y }}",
            "--var",
            "FLAG=$HOME `x`",
        ],
        &[("TOKEN", "secret-value")],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        read(dir.path(), "ran.txt"),
        "one\non_main\nmode\nflag\ntoken\nafter\ncleanup\n"
    );
}

#[test]
fn a_false_condition_skips_a_step_after_a_failure_too_and_a_true_one_keeps_the_rule() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(
        PIPELINE,
        dir.path(),
        &["--event", "tag", "--tag", "v1.0"],
        &[("TOKEN", "")],
    );
    assert_eq!(out.status.code(), Some(1), "the step `fail` failed the job");
    // `after` is skipped by the failure, `cleanup` runs (always, and its condition holds).
    assert_eq!(read(dir.path(), "ran.txt"), "one\nfail\ncleanup\n");

    let dir = tempfile::tempdir().unwrap();
    let out = run(
        PIPELINE,
        dir.path(),
        &["--event", "schedule", "--branch", "main"],
        &[("TOKEN", "")],
    );
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(read(dir.path(), "ran.txt"), "one\non_main\nafter\n");
}

#[test]
fn a_matrix_instance_sees_its_own_values_in_a_step_condition() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(
        r#"pipeline p { stage s { job j {
            matrix { os = ["linux", "mac"]  include { os = "bsd"  extra = "yes" } }
            step all   { run = "echo \"all $CDL_MATRIX_OS\" >> ran.txt" }
            step linux { run = "echo linux >> ran.txt"  when = matrix.os == "linux" }
            step extra { run = "echo extra >> ran.txt"  when = matrix.extra == "yes" }
        } } }"#,
        dir.path(),
        &["--jobs", "1"],
        &[],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut lines: Vec<String> = read(dir.path(), "ran.txt")
        .lines()
        .map(String::from)
        .collect();
    lines.sort();
    assert_eq!(lines, ["all bsd", "all linux", "all mac", "extra", "linux"]);
}

#[test]
fn a_step_condition_testing_a_secret_the_job_does_not_list_is_e0318() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(
        r#"pipeline p { secret TOKEN  stage s { job j {
            step one { run = "true"  when = defined(secret.TOKEN) }
        } } }"#,
        dir.path(),
        &[],
        &[],
    );
    assert_eq!(out.status.code(), Some(2), "a check error");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("E0318"), "{stderr}");
}
