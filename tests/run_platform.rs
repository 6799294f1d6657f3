//! Platform settings (language v2 §9) under `cdl run`, the real binary on pipelines written to
//! a temporary folder: the OIDC token of `--oidc-token-file` (masked, or the job fails naming
//! the flag), a new run cancelling the older live run of its concurrency group, and checkout
//! and permissions, which change nothing locally.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

fn cdl(dir: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(assert_cmd::cargo::cargo_bin!("cdl"));
    command
        .current_dir(dir)
        .args(args)
        .env_remove("NO_COLOR")
        .env_remove("CDL_OIDC_TOKEN")
        .env_remove("CDL_REGISTRY")
        .env_remove("CDL_REGISTRY_IMAGE")
        .env_remove("CDL_REGISTRY_USER")
        .env_remove("CDL_REGISTRY_PASSWORD")
        .stdin(Stdio::null());
    command
}

fn run(pipeline: &str, dir: &Path, args: &[&str]) -> Output {
    std::fs::write(dir.join("pipeline.cdl"), pipeline).unwrap();
    let mut all = vec!["run", "pipeline.cdl"];
    all.extend(args);
    cdl(dir, &all).output().expect("cdl runs")
}

/// Every run folder, oldest first.
fn runs(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir.join(".cdl/runs")) else {
        return Vec::new();
    };
    let mut runs: Vec<PathBuf> = entries.map(|e| e.unwrap().path()).collect();
    runs.sort();
    runs
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

const OIDC: &str = r#"pipeline p { stage s {
    job j {
        oidc { audience = "sts.amazonaws.com" }
        run = "printf '%s' \"$CDL_OIDC_TOKEN\" > token.txt; echo \"token: $CDL_OIDC_TOKEN\""
    }
} }"#;

#[test]
fn the_oidc_token_comes_from_the_file_and_is_masked_in_the_log() {
    let dir = tempfile::tempdir().unwrap();
    let token = "eyJhbGciOiJSUzI1NiJ9.e30.c2lnbmF0dXJl";
    std::fs::write(dir.path().join("oidc.jwt"), format!("{token}\n")).unwrap();
    let out = run(OIDC, dir.path(), &["--oidc-token-file", "oidc.jwt"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("token.txt")).unwrap(),
        token
    );
    let run = runs(dir.path()).pop().unwrap();
    let log = std::fs::read_to_string(run.join("logs/j.log")).unwrap();
    assert!(log.contains("token: ***"), "{log}");
    assert!(!log.contains(token), "{log}");
    assert!(!text(&out).contains(token));
}

#[test]
fn without_the_flag_a_job_with_oidc_fails_naming_it_and_the_others_run() {
    let dir = tempfile::tempdir().unwrap();
    let pipeline = OIDC.replace(
        "\n} }",
        "\n    job other { run = \"touch other.txt\" }\n} }",
    );
    let out = run(&pipeline, dir.path(), &[]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("--oidc-token-file"),
        "the failure names the flag: {}",
        text(&out)
    );
    assert!(!dir.path().join("token.txt").exists());
    assert!(dir.path().join("other.txt").exists());
}

#[test]
fn an_empty_or_missing_token_file_is_refused_before_anything_runs() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("empty.jwt"), "\n \n").unwrap();
    for file in ["empty.jwt", "absent.jwt"] {
        let out = run(OIDC, dir.path(), &["--oidc-token-file", file]);
        assert_eq!(out.status.code(), Some(2), "{}", text(&out));
        assert!(text(&out).contains("--oidc-token-file"), "{}", text(&out));
        assert!(text(&out).contains(file), "{}", text(&out));
    }
    assert!(!dir.path().join("token.txt").exists());
}

#[test]
fn checkout_and_permissions_change_nothing_locally() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(
        r#"pipeline p {
            permissions = write_all
            checkout { depth = 1 }
            stage s {
                job j {
                    checkout = false
                    permissions { contents = read  pull_requests = write }
                    run = "touch ran.txt"
                }
            }
        }"#,
        dir.path(),
        &[],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(dir.path().join("ran.txt").exists());
}

const SLOW: &str = r#"pipeline p {
    concurrency { per = ref  cancel_in_progress = true }
    stage s { job j { run = "touch started-$CDL_BRANCH; sleep 60" } }
}"#;

/// Starts a run in the background and waits until its job has started.
fn start_slow(dir: &Path, branch: &str) -> Child {
    let child = cdl(dir, &["run", "pipeline.cdl", "--branch", branch])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_for(|| dir.join(format!("started-{branch}")).exists());
    child
}

fn wait_for(mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !done() {
        assert!(Instant::now() < deadline, "gave up waiting");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_new_run_cancels_the_older_live_run_of_its_ref_only() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("pipeline.cdl"), SLOW).unwrap();
    let mut main = start_slow(dir.path(), "main");
    let mut other = start_slow(dir.path(), "other");
    // The new run of `main` finishes at once, and cancels the older run of `main` only.
    std::fs::write(
        dir.path().join("pipeline.cdl"),
        SLOW.replace("sleep 60", "true"),
    )
    .unwrap();
    let out = cdl(dir.path(), &["run", "pipeline.cdl", "--branch", "main"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        text(&out).contains("cancelling the older run"),
        "{}",
        text(&out)
    );
    let status = main.wait().unwrap();
    assert_eq!(
        status.code(),
        Some(143),
        "the older run of main is cancelled"
    );
    assert_eq!(
        other.try_wait().unwrap(),
        None,
        "the run of another branch goes on"
    );
    let records: Vec<String> = runs(dir.path())
        .iter()
        .map(|r| std::fs::read_to_string(r.join("run.json")).unwrap())
        .collect();
    assert!(records[0].contains("\"cancelled\""), "{}", records[0]);
    other.kill().unwrap();
    other.wait().unwrap();
}

#[test]
fn without_cancel_in_progress_runs_of_a_ref_do_not_touch_each_other() {
    let dir = tempfile::tempdir().unwrap();
    let pipeline = SLOW.replace("concurrency { per = ref  cancel_in_progress = true }", "");
    std::fs::write(dir.path().join("pipeline.cdl"), &pipeline).unwrap();
    let mut first = start_slow(dir.path(), "main");
    std::fs::write(
        dir.path().join("pipeline.cdl"),
        pipeline.replace("sleep 60", "true"),
    )
    .unwrap();
    let out = cdl(dir.path(), &["run", "pipeline.cdl", "--branch", "main"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(!text(&out).contains("cancelling"), "{}", text(&out));
    assert_eq!(first.try_wait().unwrap(), None, "the first run goes on");
    first.kill().unwrap();
    first.wait().unwrap();
}

/// v2 i14b: a run stopped before its `oidc` job (paused at a gate) and resumed with
/// `cdl resume --oidc-token-file`: the job gets the token, and its log has it masked. A resume
/// without the flag fails the job naming it (the token is never kept in the record).
const OIDC_AFTER_GATE: &str = r#"pipeline p {
  stage build { job first { run = "touch first.txt" } }
  stage release { gate ship { approvers = ["alice"] } }
  stage deploy {
    job publish {
      oidc { audience = "sts.amazonaws.com" }
      run = "printf '%s' \"$CDL_OIDC_TOKEN\" > token.txt; echo \"token: $CDL_OIDC_TOKEN\""
    }
  }
}"#;

#[test]
fn a_resume_gives_the_oidc_token_of_its_own_flag_masked() {
    let token = "eyJhbGciOiJFUzI1NiJ9.cmVzdW1l.c2lnbmVk";
    for with_flag in [true, false] {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("oidc.jwt"), format!("{token}\n")).unwrap();
        // The run starts with the token, but stops at the gate before the `oidc` job.
        let out = run(
            OIDC_AFTER_GATE,
            dir.path(),
            &["--oidc-token-file", "oidc.jwt"],
        );
        assert_eq!(out.status.code(), Some(3), "{}", text(&out));
        assert!(dir.path().join("first.txt").exists());
        assert!(!dir.path().join("token.txt").exists());
        let record = std::fs::read_to_string(runs(dir.path()).pop().unwrap().join("run.json"));
        assert!(
            !record.unwrap().contains(token),
            "the token is not in the record"
        );
        let out = cdl(dir.path(), &["approve", "ship", "--as", "alice"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        let mut args = vec!["resume"];
        if with_flag {
            args.extend(["--oidc-token-file", "oidc.jwt"]);
        }
        let out = cdl(dir.path(), &args).output().unwrap();
        let run = runs(dir.path()).pop().unwrap();
        let log = std::fs::read_to_string(run.join("logs/publish.log")).unwrap_or_default();
        assert!(!log.contains(token), "{log}");
        assert!(!text(&out).contains(token), "{}", text(&out));
        if with_flag {
            assert_eq!(out.status.code(), Some(0), "{}", text(&out));
            assert_eq!(
                std::fs::read_to_string(dir.path().join("token.txt")).unwrap(),
                token
            );
            assert!(log.contains("token: ***"), "{log}");
        } else {
            assert_eq!(out.status.code(), Some(1), "{}", text(&out));
            assert!(
                text(&out).contains("cdl resume --oidc-token-file"),
                "{}",
                text(&out)
            );
            assert!(!dir.path().join("token.txt").exists());
        }
    }
}

const REGISTRY: &str = r#"pipeline p { stage s {
    job j {
        registry = true
        run = "printf '%s|%s|%s|%s' \"$CDL_REGISTRY\" \"$CDL_REGISTRY_IMAGE\" \"$CDL_REGISTRY_USER\" \"$CDL_REGISTRY_PASSWORD\" > registry.txt; echo \"password: $CDL_REGISTRY_PASSWORD\""
    }
} }"#;

#[test]
fn the_registry_comes_from_the_environment_and_its_password_is_masked() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("pipeline.cdl"), REGISTRY).unwrap();
    let password = "p'a$s \"w`o`rd";
    let out = cdl(dir.path(), &["run", "pipeline.cdl"])
        .env("CDL_REGISTRY", "registry.example:5000")
        .env("CDL_REGISTRY_IMAGE", "registry.example:5000/group/app")
        .env("CDL_REGISTRY_USER", "ci-bot")
        .env("CDL_REGISTRY_PASSWORD", password)
        .output()
        .expect("cdl runs");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("registry.txt")).unwrap(),
        format!("registry.example:5000|registry.example:5000/group/app|ci-bot|{password}")
    );
    let run = runs(dir.path()).pop().unwrap();
    let log = std::fs::read_to_string(run.join("logs/j.log")).unwrap();
    assert!(log.contains("password: ***"), "{log}");
    assert!(!log.contains(password), "{log}");
}

#[test]
fn without_the_registry_a_job_with_it_fails_naming_what_is_missing_and_the_others_run() {
    let dir = tempfile::tempdir().unwrap();
    let pipeline = REGISTRY.replace(
        "\n} }",
        "\n    job other { run = \"touch other.txt\" }\n} }",
    );
    std::fs::write(dir.path().join("pipeline.cdl"), pipeline).unwrap();
    let out = cdl(dir.path(), &["run", "pipeline.cdl"])
        .env("CDL_REGISTRY", "registry.example")
        .output()
        .expect("cdl runs");
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let all = text(&out);
    assert!(all.contains("`CDL_REGISTRY_PASSWORD`"), "{all}");
    assert!(all.contains("`CDL_REGISTRY_IMAGE`"), "{all}");
    assert!(
        !all.contains("`CDL_REGISTRY`,"),
        "the host was given: {all}"
    );
    assert!(!dir.path().join("registry.txt").exists());
    assert!(dir.path().join("other.txt").exists());
}
