//! The `cdl` binary run as a real process: exit codes, output formats, colour rules.

use assert_cmd::cargo::cargo_bin_cmd;
use serde_json::Value;

use crate::support::root;

fn cdl(args: &[&str]) -> std::process::Output {
    cargo_bin_cmd!("cdl")
        .current_dir(root())
        .args(args)
        .output()
        .expect("cdl runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).expect("utf-8 output")
}

#[test]
fn check_accepts_a_clean_example() {
    let out = cdl(&["check", "examples/webshop.cdl"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(text(&out.stderr).contains("checked 1 file: no problems"));
}

#[test]
fn check_reports_errors_like_rustc_without_colour_off_a_terminal() {
    let out = cdl(&["check", "tests/fixtures/err/E0200-unknown-job.cdl"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("error[E0200]"), "{stderr}");
    assert!(
        stderr.contains("tests/fixtures/err/E0200-unknown-job.cdl:"),
        "{stderr}"
    );
    assert!(stderr.contains("help:"), "{stderr}");
    assert!(
        !stderr.contains('\u{1b}'),
        "no colour when not on a terminal: {stderr}"
    );
}

#[test]
fn check_several_files_fails_when_one_has_an_error() {
    let out = cdl(&[
        "check",
        "examples/hello.cdl",
        "tests/fixtures/err/E0200-unknown-job.cdl",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("checked 2 files"));
}

#[test]
fn check_json_gives_one_object_per_diagnostic() {
    let out = cdl(&[
        "check",
        "--format",
        "json",
        "tests/fixtures/err/E0200-unknown-job.cdl",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let stdout = text(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(!lines.is_empty());
    for line in lines {
        let value: Value = serde_json::from_str(line).expect("each line is a JSON object");
        for field in [
            "file",
            "line",
            "column",
            "end_line",
            "end_column",
            "severity",
            "code",
            "message",
            "help",
            "labels",
        ] {
            assert!(value.get(field).is_some(), "missing {field} in {line}");
        }
        assert!(value["line"].as_u64().unwrap() >= 1 && value["column"].as_u64().unwrap() >= 1);
    }
    assert!(stdout.contains("\"code\":\"E0200\""));
}

#[test]
fn check_sarif_is_a_sarif_2_1_0_log() {
    let out = cdl(&[
        "check",
        "--format",
        "sarif",
        "tests/fixtures/err/E0200-unknown-job.cdl",
        "examples/hello.cdl",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let log: Value = serde_json::from_slice(&out.stdout).expect("SARIF is JSON");
    assert_eq!(log["version"], "2.1.0");
    let run = &log["runs"][0];
    assert_eq!(run["tool"]["driver"]["name"], "cdl");
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    assert_eq!(rules.len(), cdl::codes::Code::ALL.len());
    let result = &run["results"][0];
    assert_eq!(result["ruleId"], "E0200");
    assert_eq!(
        rules[result["ruleIndex"].as_u64().unwrap() as usize]["id"],
        "E0200"
    );
    let location = &result["locations"][0]["physicalLocation"];
    assert_eq!(
        location["artifactLocation"]["uri"],
        "tests/fixtures/err/E0200-unknown-job.cdl"
    );
    assert!(location["region"]["startLine"].as_u64().unwrap() >= 1);
}

#[test]
fn check_a_missing_file_is_a_usage_error() {
    let out = cdl(&["check", "no/such/file.cdl"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("cannot read no/such/file.cdl"));
}

#[test]
fn plan_text_shows_stages_gates_environments_and_the_critical_path() {
    let out = cdl(&["plan", "examples/webshop.cdl"]);
    assert_eq!(out.status.code(), Some(0));
    let stdout = text(&out.stdout);
    for expected in [
        "stage staging",
        "gate approve_release",
        "approvers @release-managers (1 of 1)",
        "production  https://webshop.example",
        "requires approval, tests [integration, ui, load], promotion from staging",
        "needs deploy_app_staging",
        "critical path (6 jobs): app → deploy_app_staging",
    ] {
        assert!(
            stdout.contains(expected),
            "missing `{expected}` in:\n{stdout}"
        );
    }
}

#[test]
fn plan_text_marks_jobs_a_run_would_skip() {
    let out = cdl(&["plan", "examples/webshop.cdl", "--branch", "feature/x"]);
    assert!(
        text(&out.stdout).contains("for this run, skipped: approve_release, deploy_app_production")
    );
}

#[test]
fn plan_json_carries_the_schema() {
    let out = cdl(&["plan", "--format", "json", "examples/hello.cdl"]);
    assert_eq!(out.status.code(), Some(0));
    let plan: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(plan["schema"], "cdl.plan/v2");
    assert_eq!(plan["jobs"][0]["id"], "greeting");
}

#[test]
fn plan_refuses_a_file_that_does_not_compile() {
    let out = cdl(&["plan", "tests/fixtures/err/E0400-dependency-cycle.cdl"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    assert!(text(&out.stderr).contains("error[E0400]"));
}

#[test]
fn plan_of_a_file_without_pipeline_says_so() {
    let out = cdl(&["plan", "tests/fixtures/ok/shared/kinds.cdl"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("error[E0106]"));
}

#[test]
fn explain_prints_a_page_and_lists_codes() {
    let out = cdl(&["explain", "e0500"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(text(&out.stdout).starts_with("# E0500"));
    let list = text(&cdl(&["explain"]).stdout);
    assert_eq!(list.lines().count(), cdl::codes::Code::ALL.len());
    let unknown = cdl(&["explain", "E9999"]);
    assert_eq!(unknown.status.code(), Some(2));
}

#[test]
fn bad_usage_exits_2_and_help_exits_0() {
    assert_eq!(cdl(&["frobnicate"]).status.code(), Some(2));
    assert_eq!(cdl(&["check"]).status.code(), Some(2));
    let help = cdl(&["check", "--help"]);
    assert_eq!(help.status.code(), Some(0));
    assert!(text(&help.stdout).contains("Examples:"));
}

/// Scripts pass absolute paths: one that leads inside the current directory is the file's
/// folder in the repository, as the relative path is (no "not inside the current directory").
#[test]
fn export_reads_an_absolute_path_inside_the_current_directory_as_relative() {
    let file = root().join("examples/webshop.cdl");
    let out = cdl(&[
        "export",
        "--target",
        "github",
        file.to_str().unwrap(),
        "-o",
        "-",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("working-directory: examples"),
        "{}",
        text(&out.stdout)
    );
    assert!(
        !text(&out.stderr).contains("not inside the current directory"),
        "{}",
        text(&out.stderr)
    );
}
