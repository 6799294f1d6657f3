//! Target-native steps (language v2 §5) under `cdl run`, the real binary: a step with a
//! native form runs its portable `run`; a step with only native forms is skipped, said in the
//! job's log and in the run's summary, and is no failure.

use std::path::Path;
use std::process::{Command, Output, Stdio};

fn run(pipeline: &str, dir: &Path) -> Output {
    std::fs::write(dir.join("pipeline.cdl"), pipeline).unwrap();
    Command::new(assert_cmd::cargo::cargo_bin!("cdl"))
        .current_dir(dir)
        .args(["run", "pipeline.cdl"])
        .env_remove("NO_COLOR")
        .stdin(Stdio::null())
        .output()
        .expect("cdl runs")
}

fn log(dir: &Path) -> String {
    std::fs::read_dir(dir.join(".cdl/runs"))
        .unwrap()
        .filter_map(|e| std::fs::read_to_string(e.unwrap().path().join("logs/j.log")).ok())
        .collect()
}

const SHA: &str = "49933ea5288caeca8642d1e84afbd3f7d6820020";

#[test]
fn the_fallback_runs_and_a_step_without_run_is_skipped_not_failed() {
    let dir = tempfile::tempdir().unwrap();
    let pipeline = format!(
        r#"pipeline p {{ stage s {{
            job j {{
                step setup {{
                    github   {{ uses = "actions/setup-node@{SHA} # v4"  with {{ node-version = "20" }} }}
                    circleci {{ orb = "node: circleci/node@5.2"  command = "node/install" }}
                    run = "echo fallback >> ran.txt && echo TOOL=yes >> \"$CDL_ENV\""
                }}
                step attest {{
                    github {{ uses = "actions/attest-build-provenance@{SHA} # v2" }}
                }}
                step after {{ run = "echo \"after $TOOL\" | tee -a ran.txt" }}
            }}
        }} }}"#
    );
    let out = run(&pipeline, dir.path());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("ran.txt")).unwrap(),
        "fallback\nafter yes\n"
    );
    let log = log(dir.path());
    assert!(
        log.contains("step attest: skipped (no `run` for cdl run"),
        "{log}\n{stdout}"
    );
    assert!(
        stdout.contains("step attest of j: skipped (no `run` for cdl run"),
        "{stdout}"
    );
}

#[test]
fn a_skipped_native_step_does_not_hide_a_failure() {
    let dir = tempfile::tempdir().unwrap();
    let pipeline = format!(
        r#"pipeline p {{ stage s {{
            job j {{
                step fail {{ run = "exit 4" }}
                step attest {{ github {{ uses = "actions/attest-build-provenance@{SHA}" }}  runs = always }}
                step cleanup {{ run = "echo cleanup >> ran.txt"  runs = always }}
            }}
        }} }}"#
    );
    let out = run(&pipeline, dir.path());
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("ran.txt")).unwrap(),
        "cleanup\n"
    );
}

/// A template's native step reaches the jobs made from it: the GitHub export runs the action,
/// GitLab the step's `run`.
#[test]
fn a_templates_native_step_reaches_its_jobs_exports() {
    let dir = tempfile::tempdir().unwrap();
    let pipeline = format!(
        r#"template node {{
  step node {{
    github {{ uses = "actions/setup-node@{SHA} # v4"  with {{ node-version = "20" }} }}
    run = "fnm use 20"
  }}
}}
pipeline p {{ stage s {{ job a from node {{ run = "npm test" }} }} }}
"#
    );
    std::fs::write(dir.path().join("p.cdl"), pipeline).unwrap();
    let export = |target: &str| {
        let out = Command::new(assert_cmd::cargo::cargo_bin!("cdl"))
            .current_dir(dir.path())
            .args(["export", "--target", target, "p.cdl", "-o", "-"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let github = export("github");
    assert!(
        github.contains(&format!("uses: actions/setup-node@{SHA}")),
        "{github}"
    );
    assert!(
        github.contains("node-version: '20'") || github.contains("node-version: \"20\""),
        "{github}"
    );
    let gitlab = export("gitlab");
    assert!(gitlab.contains("fnm use 20"), "{gitlab}");
    assert!(!gitlab.contains("setup-node"), "{gitlab}");
}
