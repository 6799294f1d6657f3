//! Jobs that run after a failure and jobs started by hand (language v2 §6) under `cdl run`,
//! the real binary on pipelines written to a temporary folder. Jobs leave marks in a ledger
//! file; coordination goes through files, never through wall-clock assertions.

use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

fn command(dir: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(assert_cmd::cargo::cargo_bin!("cdl"));
    command
        .current_dir(dir)
        .args(args)
        .env_remove("NO_COLOR")
        .stdin(Stdio::null());
    command
}

fn run(pipeline: &str, dir: &Path, extra: &[&str]) -> Output {
    std::fs::write(dir.join("pipeline.cdl"), pipeline).unwrap();
    let mut args = vec!["run", "pipeline.cdl"];
    args.extend_from_slice(extra);
    command(dir, &args).output().expect("cdl runs")
}

fn spawn(pipeline: &str, dir: &Path) -> Child {
    std::fs::write(dir.join("pipeline.cdl"), pipeline).unwrap();
    command(dir, &["run", "pipeline.cdl"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("cdl starts")
}

fn ledger(dir: &Path) -> Vec<String> {
    let mut lines: Vec<String> = std::fs::read_to_string(dir.join("ledger"))
        .unwrap_or_default()
        .lines()
        .map(String::from)
        .collect();
    lines.sort();
    lines
}

fn wait_for(dir: &Path, file: &str) {
    let until = Instant::now() + Duration::from_secs(20);
    while !dir.join(file).exists() {
        assert!(Instant::now() < until, "{file} never appeared");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The state of each job of the latest run, as `cdl` reads its record.
fn state(dir: &Path, job: &str) -> String {
    let store = cdl::run::record::Store::new(dir.join(".cdl"));
    let id = store.run_ids().pop().expect("a run");
    let record = serde_json::to_value(store.load(&id).expect("a readable record")).unwrap();
    record["jobs"][job]["state"].as_str().unwrap().to_string()
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// `build` passes or fails (`EXIT`), then jobs of every `runs` follow it.
fn pipeline(exit: u8) -> String {
    format!(
        r#"pipeline p {{
        stage build {{
            job build {{ run = "echo build >> ledger; exit {exit}" }}
            job other {{ run = "echo other >> ledger" }}
        }}
        stage after {{
            job next    {{ run = "echo next >> ledger" }}
            job cleanup {{ run = "echo cleanup >> ledger"  runs = always }}
            job alert   {{ run = "echo alert >> ledger"    runs = on_failure }}
            job then    {{ run = "echo then >> ledger"     after = [cleanup] }}
        }}
        stage last {{
            job final {{ run = "echo final >> ledger"  runs = always }}
        }}
    }}"#
    )
}

#[test]
fn always_runs_after_a_pass_and_on_failure_is_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(&pipeline(0), dir.path(), &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(
        ledger(dir.path()),
        ["build", "cleanup", "final", "next", "other", "then"]
    );
    assert_eq!(state(dir.path(), "alert"), "skipped");
}

#[test]
fn always_and_on_failure_run_after_a_failure_and_the_run_still_fails() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(&pipeline(3), dir.path(), &[]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "a passing always job does not turn the run green: {}",
        text(&out)
    );
    // `next` is stopped by the failure; `then` follows `cleanup`, which passed, but it runs
    // only when nothing before it failed.
    assert_eq!(
        ledger(dir.path()),
        ["alert", "build", "cleanup", "final", "other"]
    );
    assert_eq!(state(dir.path(), "next"), "skipped");
    assert_eq!(state(dir.path(), "then"), "skipped");
}

#[test]
fn an_allowed_failure_is_no_failure_for_on_failure() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(
        r#"pipeline p {
            stage a { job flaky { run = "exit 1"  allow_failure = true } }
            stage b { job alert { run = "echo alert >> ledger"  runs = on_failure } }
        }"#,
        dir.path(),
        &[],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(ledger(dir.path()).is_empty());
}

#[test]
fn always_runs_after_a_skipped_need_and_its_own_when_still_applies() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(
        r#"pipeline p { stage s {
            job gated { run = "echo gated >> ledger"  when = branch == "main" }
            job after_all { run = "echo after_all >> ledger"  after = [gated]  runs = always }
            job own { run = "echo own >> ledger"  after = [gated]  runs = always  when = branch == "main" }
            job plain { run = "echo plain >> ledger"  after = [gated] }
        } }"#,
        dir.path(),
        &["--branch", "dev"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(ledger(dir.path()), ["after_all"]);
    assert_eq!(state(dir.path(), "own"), "skipped");
    assert_eq!(state(dir.path(), "plain"), "skipped");
}

#[test]
fn a_cancelled_run_runs_neither_always_nor_on_failure_jobs() {
    for signal in [libc::SIGINT, libc::SIGTERM] {
        let dir = tempfile::tempdir().unwrap();
        let mut child = spawn(
            r#"pipeline p {
                stage a { job long { run = "touch started; while true; do sleep 0.05; done" } }
                stage b {
                    job cleanup { run = "echo cleanup >> ledger"  runs = always }
                    job alert { run = "echo alert >> ledger"  runs = on_failure }
                }
            }"#,
            dir.path(),
        );
        wait_for(dir.path(), "started");
        // SAFETY: sends a signal to a child process of this test.
        unsafe { libc::kill(child.id() as i32, signal) };
        let status = child.wait().unwrap();
        assert_eq!(status.code(), Some(128 + signal));
        assert!(ledger(dir.path()).is_empty(), "{:?}", ledger(dir.path()));
        for job in ["cleanup", "alert"] {
            assert_ne!(state(dir.path(), job), "succeeded");
        }
    }
}

const MANUAL: &str = r#"pipeline p {
    stage s {
        job build { run = "echo build >> ledger" }
        job bench { run = "echo bench >> ledger"  start = manual  after = [build] }
        job report { run = "echo report >> ledger"  after = [bench] }
        job tidy { run = "echo tidy >> ledger"  after = [bench]  runs = always }
    }
}"#;

#[test]
fn a_manual_job_is_skipped_unless_started_and_its_dependents_with_it() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(MANUAL, dir.path(), &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(ledger(dir.path()), ["build", "tidy"]);
    assert_eq!(state(dir.path(), "bench"), "skipped");
    assert_eq!(state(dir.path(), "report"), "skipped");

    let dir = tempfile::tempdir().unwrap();
    let out = run(MANUAL, dir.path(), &["--start", "bench"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(ledger(dir.path()), ["bench", "build", "report", "tidy"]);
}

#[test]
fn start_of_an_unknown_or_not_manual_job_is_bad_usage() {
    for (name, expected) in [
        ("nope", "no job named `nope`"),
        ("build", "not a `start = manual` job"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let out = run(MANUAL, dir.path(), &["--start", name]);
        assert_eq!(out.status.code(), Some(2), "{}", text(&out));
        assert!(text(&out).contains(expected), "{}", text(&out));
        assert!(ledger(dir.path()).is_empty(), "nothing ran");
    }
}

#[test]
fn a_dry_run_says_a_manual_job_is_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(MANUAL, dir.path(), &["--dry-run"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("skip  bench  (`start = manual`"),
        "{stdout}"
    );
    assert!(
        stdout.contains("skip  report  (skipped with `bench`)"),
        "{stdout}"
    );
    assert!(stdout.contains("run   tidy"), "{stdout}");
}

#[test]
fn a_run_killed_after_an_always_job_finished_does_not_run_it_again_on_resume() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = spawn(
        r#"pipeline p {
            stage a { job fails { run = "echo fails >> ledger; exit 1" } }
            stage b {
                job cleanup { run = "echo cleanup >> ledger"  runs = always }
                job hold { run = "echo hold >> ledger; touch held; while [ ! -e release ]; do sleep 0.05; done"  runs = always }
            }
            stage c { job alert { run = "echo alert >> ledger"  runs = on_failure } }
        }"#,
        dir.path(),
    );
    wait_for(dir.path(), "held");
    // `cleanup` may still be running: wait until the record says it finished.
    let until = Instant::now() + Duration::from_secs(20);
    while state(dir.path(), "cleanup") != "succeeded" {
        assert!(Instant::now() < until, "cleanup never finished");
        std::thread::sleep(Duration::from_millis(20));
    }
    // SAFETY: sends a signal to a child process of this test.
    unsafe { libc::kill(child.id() as i32, libc::SIGKILL) };
    child.wait().unwrap();
    std::fs::write(dir.path().join("release"), "").unwrap();
    let out = command(dir.path(), &["resume"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert_eq!(
        ledger(dir.path()),
        ["alert", "cleanup", "fails", "hold"],
        "nothing ran twice"
    );
    assert_eq!(state(dir.path(), "hold"), "succeeded");
}

/// `auto_when`: the manual job starts by itself on `main` and on `gnome-*` branches.
const AUTO: &str = r#"pipeline p {
    stage s {
        job build { run = "echo build >> ledger" }
        job guard {
            run       = "echo guard >> ledger"
            start     = manual
            auto_when = branch == "main" || branch matches "gnome-[0-9]*"
            after     = [build]
        }
        job report { run = "echo report >> ledger"  after = [guard] }
    }
}"#;

#[test]
fn a_manual_job_with_auto_when_starts_by_itself_where_it_holds_and_waits_elsewhere() {
    for branch in ["main", "gnome-48"] {
        let dir = tempfile::tempdir().unwrap();
        let out = run(AUTO, dir.path(), &["--branch", branch]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        assert_eq!(ledger(dir.path()), ["build", "guard", "report"], "{branch}");
    }
    for branch in ["dev", "gnome-", "xgnome-1"] {
        let dir = tempfile::tempdir().unwrap();
        let out = run(AUTO, dir.path(), &["--branch", branch, "--dry-run"]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            stdout.contains("skip  guard  (`start = manual` and `auto_when = "),
            "{branch}: {stdout}"
        );
        assert!(
            stdout.contains("skip  report  (skipped with `guard`)"),
            "{stdout}"
        );

        let dir = tempfile::tempdir().unwrap();
        let out = run(AUTO, dir.path(), &["--branch", branch]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        assert_eq!(ledger(dir.path()), ["build"], "{branch}");
        assert_eq!(state(dir.path(), "guard"), "skipped");

        let dir = tempfile::tempdir().unwrap();
        let out = run(AUTO, dir.path(), &["--branch", branch, "--start", "guard"]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        assert_eq!(ledger(dir.path()), ["build", "guard", "report"], "{branch}");
    }
}
