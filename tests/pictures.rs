//! `cdl graph`, the run report, JUnit XML, `cdl init`, completions and the man page.
//! Checks that need Graphviz, xmllint or Chromium run when the tool is installed (`.ci/run`
//! installs them and sets CDL_REQUIRE_TOOLS=1, which turns a missing tool into a failure).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use assert_cmd::cargo::cargo_bin_cmd;

use crate::support::{cdl_files, root};

fn tool(name: &str) -> bool {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {name}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !found {
        assert!(
            std::env::var_os("CDL_REQUIRE_TOOLS").is_none(),
            "{name} is required (CDL_REQUIRE_TOOLS is set)"
        );
        eprintln!("skipping the {name} check: {name} is not installed");
    }
    found
}

fn graph(file: &Path, format: &str) -> String {
    let out = cargo_bin_cmd!("cdl")
        .current_dir(root())
        .args(["graph", "--format", format])
        .arg(file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn plan(file: &Path) -> cdl::plan::Plan {
    cdl::plan::build(&crate::support::compile(file)).unwrap()
}

fn run_with_stdin(program: &str, args: &[&str], input: &str) -> std::process::Output {
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(child.stdin.as_mut().unwrap(), input.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn every_format_draws_every_job() {
    for file in cdl_files("examples") {
        let plan = plan(&file);
        let (mermaid, dot, svg) = (
            graph(&file, "mermaid"),
            graph(&file, "dot"),
            graph(&file, "svg"),
        );
        assert!(mermaid.starts_with("flowchart LR\n"));
        for job in &plan.jobs {
            assert!(mermaid.contains(&job.id), "{} missing in mermaid", job.id);
            assert!(
                dot.contains(&format!("\"{}\"", job.id)),
                "{} missing in dot",
                job.id
            );
            assert!(
                svg.contains(&format!("data-job=\"{}\"", job.id)),
                "{} missing in svg",
                job.id
            );
        }
        for stage in &plan.stages {
            assert!(mermaid.contains(&format!("stage {}", stage.name)));
        }
    }
}

#[test]
fn graphviz_accepts_the_dot() {
    if !tool("dot") {
        return;
    }
    for file in cdl_files("examples") {
        let out = run_with_stdin("dot", &["-Tsvg"], &graph(&file, "dot"));
        assert!(
            out.status.success(),
            "{}: {}",
            file.display(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn the_svg_is_well_formed_xml() {
    if !tool("xmllint") {
        return;
    }
    for file in cdl_files("examples") {
        let out = run_with_stdin("xmllint", &["--noout", "-"], &graph(&file, "svg"));
        assert!(
            out.status.success(),
            "{}: {}",
            file.display(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// Runs `outcomes.cdl` (a pass, a failure, skips) into a temporary state folder.
fn outcomes_run() -> (tempfile::TempDir, PathBuf, PathBuf) {
    let work = tempfile::tempdir().unwrap();
    std::fs::copy(
        root().join("tests/fixtures/run/outcomes.cdl"),
        work.path().join("outcomes.cdl"),
    )
    .unwrap();
    let junit = work.path().join("junit.xml");
    let out = cargo_bin_cmd!("cdl")
        .current_dir(work.path())
        .args([
            "run",
            "outcomes.cdl",
            "--branch",
            "main",
            "--junit",
            "junit.xml",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let runs = work.path().join(".cdl/runs");
    let run = std::fs::read_dir(&runs)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    (work, junit, run.join("report.html"))
}

#[test]
fn junit_has_one_testcase_per_job_grouped_by_stage() {
    let (_work, junit, _) = outcomes_run();
    let xml = std::fs::read_to_string(junit).unwrap();
    assert_eq!(xml.matches("<testsuite ").count(), 3);
    assert_eq!(xml.matches("<testcase ").count(), 8);
    assert!(xml.contains("<testcase name=\"broken\" classname=\"outcomes.test\""));
    assert!(
        xml.contains("<failure type=\"failed\" message=\"exited with 3\">"),
        "{xml}"
    );
    assert!(
        xml.contains("broken\n</failure>") || xml.contains("broken</failure>"),
        "the log tail: {xml}"
    );
    assert!(
        xml.contains("<skipped message=\"stopped: `broken` failed\"/>"),
        "{xml}"
    );
    if tool("xmllint") {
        let out = Command::new("xmllint")
            .args(["--noout"])
            .arg(_work.path().join("junit.xml"))
            .output()
            .unwrap();
        assert!(out.status.success());
    }
}

#[test]
fn the_report_is_self_contained_and_chromium_finds_every_job() {
    let (work, _, report) = outcomes_run();
    let html = std::fs::read_to_string(&report).unwrap();
    assert!(
        !html.contains("http://")
            || html
                .matches("http://")
                .all(|_| html.contains("xmlns=\"http://www.w3.org/2000/svg\""))
    );
    assert!(
        !html.contains("<script src") && !html.contains("<link "),
        "no external resources"
    );
    assert!(html.contains("exited with 3") && html.contains("log tail"));
    if !tool("chromium") {
        return;
    }
    let profile = work.path().join("chromium-profile");
    let out = Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg("--dump-dom")
        .arg(format!("file://{}", report.display()))
        .output()
        .unwrap();
    let dom = String::from_utf8_lossy(&out.stdout);
    for job in [
        "compile",
        "lint",
        "docs",
        "docs_index",
        "check",
        "broken",
        "after_broken",
        "summary",
    ] {
        assert!(
            dom.contains(&format!("<tr class=\"job\" data-job=\"{job}\">")),
            "{job} not in the rendered report"
        );
        assert!(
            dom.contains(&format!("data-job=\"{job}\"><rect"))
                || dom.contains(&format!("data-job=\"{job}\"><polygon")),
            "{job} not in the graph"
        );
    }
}

#[test]
fn init_writes_a_starter_that_checks_and_runs_and_never_overwrites() {
    let work = tempfile::tempdir().unwrap();
    let out = cargo_bin_cmd!("cdl")
        .current_dir(work.path())
        .args(["init"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(work.path().join("pipeline.cdl")).unwrap();
    assert!(text.starts_with("// A starter pipeline"));
    let check = cargo_bin_cmd!("cdl")
        .current_dir(work.path())
        .args(["check", "pipeline.cdl"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&check.stderr).contains("no problems"));
    let run = cargo_bin_cmd!("cdl")
        .current_dir(work.path())
        .args(["run", "pipeline.cdl", "--auto-approve"])
        .output()
        .unwrap();
    assert_eq!(
        run.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&run.stdout)
    );
    let again = cargo_bin_cmd!("cdl")
        .current_dir(work.path())
        .args(["init"])
        .output()
        .unwrap();
    assert_eq!(again.status.code(), Some(2));
    assert_eq!(
        std::fs::read_to_string(work.path().join("pipeline.cdl")).unwrap(),
        text,
        "not overwritten"
    );
}

#[test]
fn completions_man_page_and_examples_in_every_help() {
    for shell in ["bash", "zsh", "fish"] {
        let out = cargo_bin_cmd!("cdl")
            .args(["completions", shell])
            .output()
            .unwrap();
        assert!(out.status.success() && String::from_utf8_lossy(&out.stdout).contains("cdl"));
    }
    let man = cargo_bin_cmd!("cdl").args(["manpage"]).output().unwrap();
    assert!(String::from_utf8_lossy(&man.stdout).contains(".TH cdl"));
    let help =
        String::from_utf8(cargo_bin_cmd!("cdl").arg("--help").output().unwrap().stdout).unwrap();
    let commands: Vec<&str> = help
        .lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|c| *c != "help")
        .collect();
    assert!(commands.len() >= 10, "{commands:?}");
    for command in commands {
        let out = cargo_bin_cmd!("cdl")
            .args([command, "--help"])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            text.contains("Example"),
            "`cdl {command} --help` shows no example"
        );
    }
}

#[test]
fn plan_estimates_stage_durations_from_recorded_runs() {
    let (work, _, _) = outcomes_run();
    let out = cargo_bin_cmd!("cdl")
        .current_dir(work.path())
        .args(["plan", "outcomes.cdl"])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("stage build  ≈ "), "{text}");
    assert!(text.contains("(recorded in 1 run)"), "{text}");
    assert!(
        text.contains("\nstage report\n"),
        "a stage that never ran has no estimate: {text}"
    );
    assert!(text.contains("estimated duration: "), "{text}");
    assert!(text.contains("critical path (5 jobs): "), "{text}");
}
