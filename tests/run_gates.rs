//! A gate's terminal prompt, under a pseudo-terminal (`script` from bsdutils): its timeout
//! rejects (a late `y` does not approve), Ctrl-C cancels without a decision and without Enter,
//! and `cdl resume --as WHO` answers as WHO, never as whoever started the run.

use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use cdl::run::record::{RunRecord, Store};

const RELEASE: &str = r#"pipeline p {
    stage build { job compile { run = "echo compiled" } }
    stage release { gate ship { approvers = ["alice", "bob", "carol"]; message = "Ship it?" TIMEOUT } }
    stage deploy { job publish { run = "touch published" } }
}"#;

fn project(timeout: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("pipeline.cdl"),
        RELEASE.replace("TIMEOUT", timeout),
    )
    .unwrap();
    dir
}

fn latest(dir: &std::path::Path) -> Option<RunRecord> {
    let store = Store::new(dir.join(".cdl"));
    let id = store.run_ids().pop()?;
    store.load(&id).ok()
}

/// Runs `cdl ARGS` on a pseudo-terminal; once the gate `ship` is asking (its wait has started
/// and `pause` has passed), types `input`. Returns the exit status and the screen.
fn on_terminal(
    dir: &std::path::Path,
    args: &str,
    env: &[(&str, &str)],
    pause: Duration,
    input: &[u8],
) -> (ExitStatus, String) {
    let cdl = assert_cmd::cargo::cargo_bin!("cdl").display().to_string();
    let mut child = Command::new("script")
        .args(["-qec", &format!("{cdl} {args}"), "/dev/null"])
        .current_dir(dir)
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("script(1) runs");
    let mut stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut seen = Vec::new();
        let mut buffer = [0u8; 4096];
        while let Ok(n) = std::io::Read::read(&mut stdout, &mut buffer) {
            if n == 0 {
                break;
            }
            seen.extend_from_slice(&buffer[..n]);
        }
        String::from_utf8_lossy(&seen).into_owned()
    });
    let asking = || {
        latest(dir).is_some_and(|r| {
            r.status == cdl::run::record::RunStatus::Running
                && r.job("ship").waiting_since_ms.is_some()
        })
    };
    let until = Instant::now() + Duration::from_secs(30);
    while !asking() {
        assert!(Instant::now() < until, "the gate never asked");
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(pause);
    // cdl may have ended already (a timed-out gate): then nothing reads the answer.
    let _ = std::io::Write::write_all(child.stdin.as_mut().unwrap(), input);
    let status = child.wait().unwrap();
    (status, reader.join().unwrap())
}

#[test]
fn the_prompt_ends_at_the_gates_timeout_and_a_late_yes_does_not_approve() {
    let dir = project("; timeout = 1s");
    let (status, screen) = on_terminal(
        dir.path(),
        "run pipeline.cdl --as alice",
        &[],
        Duration::from_millis(1500),
        b"y\n",
    );
    assert_eq!(status.code(), Some(1), "{screen}");
    assert!(
        screen.contains("approve ship? Ship it? (as alice) [y/N]"),
        "{screen}"
    );
    assert!(
        screen.contains("no answer before the gate's timeout: rejected"),
        "{screen}"
    );
    let record = latest(dir.path()).unwrap();
    let ship = record.job("ship");
    assert_eq!(ship.state.as_str(), "failed");
    assert_eq!(
        ship.reason.as_deref(),
        Some("timed out waiting for approval: rejected")
    );
    assert!(ship.decisions.is_empty(), "{:?}", ship.decisions);
    assert!(!dir.path().join("published").exists());
}

#[test]
fn ctrl_c_at_the_prompt_cancels_without_enter_and_without_a_decision() {
    let dir = project("");
    // ^C alone, no Enter: the terminal sends SIGINT to cdl.
    let (status, screen) = on_terminal(
        dir.path(),
        "run pipeline.cdl --as alice",
        &[],
        Duration::from_millis(300),
        b"\x03",
    );
    assert_eq!(status.code(), Some(130), "{screen}");
    assert!(
        screen.contains("cancelled: no decision recorded"),
        "{screen}"
    );
    let record = latest(dir.path()).unwrap();
    assert_eq!(record.status, cdl::run::record::RunStatus::Cancelled);
    let ship = record.job("ship");
    assert!(ship.decisions.is_empty(), "{:?}", ship.decisions);
    assert_eq!(ship.state.as_str(), "cancelled");
    assert!(!dir.path().join("published").exists());
    // The run can be resumed and the gate asked again.
    let (status, screen) = on_terminal(
        dir.path(),
        "resume --as bob",
        &[],
        Duration::from_millis(300),
        b"y\n",
    );
    assert!(status.success(), "{screen}");
    assert!(dir.path().join("published").exists());
}

#[test]
fn resume_answers_as_who_resumes_never_as_who_started() {
    let dir = project("");
    // Started by alice off a terminal: the gate waits, the run pauses.
    let out = Command::new(assert_cmd::cargo::cargo_bin!("cdl"))
        .args(["run", "pipeline.cdl", "--as", "alice"])
        .current_dir(dir.path())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    // carol resumes on a terminal without `--as`: she is asked as herself (her user name —
    // from USER, or from the OS), never as alice who started the run.
    let (_, screen) = on_terminal(
        dir.path(),
        "resume",
        &[("USER", "carol"), ("LOGNAME", "carol")],
        Duration::from_millis(300),
        b"y\n",
    );
    let asked_as = screen
        .split("(as ")
        .nth(1)
        .and_then(|rest| rest.split(") [y/N]").next())
        .unwrap_or_else(|| panic!("no prompt: {screen}"))
        .to_string();
    assert_ne!(asked_as, "alice", "{screen}");
    let record = latest(dir.path()).unwrap();
    let by: Vec<&str> = record
        .job("ship")
        .decisions
        .iter()
        .map(|d| d.by.as_str())
        .collect();
    if asked_as == "carol" {
        assert_eq!(by, ["carol"], "{screen}");
        assert!(dir.path().join("published").exists());
    } else {
        // Not an approver: nothing is recorded in anyone's name.
        assert!(by.is_empty(), "{by:?}");
    }
}

#[test]
fn resume_as_someone_who_may_not_approve_leaves_the_gate_waiting() {
    let dir = project("");
    let out = Command::new(assert_cmd::cargo::cargo_bin!("cdl"))
        .args(["run", "pipeline.cdl", "--as", "alice"])
        .current_dir(dir.path())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let (status, screen) = on_terminal(
        dir.path(),
        "resume --as mallory",
        &[],
        Duration::from_millis(300),
        b"y\n",
    );
    assert_eq!(status.code(), Some(3), "{screen}");
    assert!(
        screen.contains("`mallory` is not an approver of `ship`"),
        "{screen}"
    );
    let record = latest(dir.path()).unwrap();
    assert!(record.job("ship").decisions.is_empty());
    assert_eq!(record.job("ship").state.as_str(), "waiting");
}
