//! Services (language v2 §9) under `cdl run`, the real binary, with a fake `docker` on PATH
//! that records its argv and environment: the order (start, port, health, job, remove), the
//! removal after a failing job and after a failed health wait, no value in argv, the port wait
//! without `health`, leftovers of a killed supervisor removed, and the message without a runtime.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// Records `argv` (one line, `\x1f`-separated) and `env POSTGRES_PASSWORD=…` for `run`;
/// answers `port` with `$FAKE_PORT`, `exec` with success once `$FAKE_HEALTH_FAILS` calls have
/// failed, everything else with success.
const FAKE_DOCKER: &str = r#"#!/bin/sh
log="$FAKE_DOCKER_LOG"
line="docker"
for a in "$@"; do line="$line$(printf '\037')$a"; done
printf '%s\n' "$line" >> "$log"
case "$1" in
  run)
    printf 'env POSTGRES_PASSWORD=%s\n' "${POSTGRES_PASSWORD-unset}" >> "$log"
    echo 4f1c0ffee ;;
  port) echo "127.0.0.1:${FAKE_PORT:-49153}" ;;
  exec)
    n=$(cat "$log.exec" 2>/dev/null || echo 0)
    echo $((n + 1)) > "$log.exec"
    if [ "$n" -lt "${FAKE_HEALTH_FAILS:-0}" ]; then exit 1; fi ;;
esac
exit 0
"#;

struct Project {
    dir: tempfile::TempDir,
    bin: PathBuf,
    log: PathBuf,
}

fn project(pipeline: &str) -> Project {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("pipeline.cdl"), pipeline).unwrap();
    let bin = dir.path().join("fake-bin");
    std::fs::create_dir(&bin).unwrap();
    let docker = bin.join("docker");
    std::fs::write(&docker, FAKE_DOCKER).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&docker, std::fs::Permissions::from_mode(0o755)).unwrap();
    let log = dir.path().join("calls.log");
    Project { dir, bin, log }
}

impl Project {
    fn run(&self, envs: &[(&str, &str)]) -> Output {
        let path = format!(
            "{}:{}",
            self.bin.display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let mut command = Command::new(assert_cmd::cargo::cargo_bin!("cdl"));
        command
            .current_dir(self.dir.path())
            .args(["run", "pipeline.cdl"])
            .env_remove("CDL_FAILPOINT")
            .env_remove("CDL_CONTAINER_RUNTIME")
            .env("PATH", path)
            .env("FAKE_DOCKER_LOG", &self.log)
            .stdin(Stdio::null());
        for (k, v) in envs {
            command.env(k, v);
        }
        command.output().expect("cdl runs")
    }

    /// Each call: its words (the first is `docker`, or `job`).
    fn calls(&self) -> Vec<Vec<String>> {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .map(|l| l.split('\u{1f}').map(str::to_string).collect())
            .collect()
    }

    fn verbs(&self) -> Vec<String> {
        self.calls()
            .iter()
            .map(|c| match c[0].as_str() {
                "docker" => c.get(1).cloned().unwrap_or_default(),
                other => other.split(' ').next().unwrap_or_default().to_string(),
            })
            .collect()
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

const SECRET: &str = "s3cr3t $(id) '\"#";

fn pipeline(run: &str) -> String {
    format!(
        r##"pipeline shop {{
  stage test {{
    test integration {{
      run = "{run}"
      service db {{
        image = "postgres:16"
        env {{ POSTGRES_PASSWORD = "s3cr3t $(id) '\"#" }}
        port    = 5432
        command = ["postgres", "-c", "fsync=off"]
        health  = "pg_isready -U postgres"
      }}
    }}
  }}
}}
"##
    )
}

const JOB: &str =
    "echo \\\"job $CDL_SERVICE_DB_HOST:$CDL_SERVICE_DB_PORT\\\" >> \\\"$FAKE_DOCKER_LOG\\\"";

#[test]
fn a_service_starts_is_awaited_reaches_the_job_and_is_removed_after_it() {
    let project = project(&pipeline(JOB));
    let output = project.run(&[("FAKE_HEALTH_FAILS", "2"), ("FAKE_PORT", "40001")]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert_eq!(
        project.verbs(),
        ["run", "env", "port", "exec", "exec", "exec", "job", "rm"],
        "{:?}",
        project.calls()
    );
    let calls = project.calls();
    let run = &calls[0];
    let name = &run[run.iter().position(|w| w == "--name").unwrap() + 1];
    assert!(
        name.starts_with("cdl-") && name.ends_with("-integration-1-db"),
        "{name}"
    );
    for expected in [
        "-d",
        "--rm",
        "-p",
        "127.0.0.1::5432",
        "-e",
        "POSTGRES_PASSWORD",
    ] {
        assert!(run.iter().any(|w| w == expected), "{expected}: {run:?}");
    }
    assert!(run.ends_with(&[
        "--".to_string(),
        "postgres:16".into(),
        "postgres".into(),
        "-c".into(),
        "fsync=off".into()
    ]));
    // The value reaches docker only through its environment.
    for call in &calls {
        if call[0] == "docker" {
            assert!(!call.iter().any(|w| w.contains("s3cr3t")), "{call:?}");
        }
    }
    assert_eq!(calls[1].join(""), format!("env POSTGRES_PASSWORD={SECRET}"));
    assert_eq!(
        calls[2],
        ["docker", "port", name.as_str(), "5432/tcp"].map(String::from)
    );
    assert_eq!(
        calls[3],
        ["docker", "exec", name, "sh", "-c", "pg_isready -U postgres"].map(String::from)
    );
    assert_eq!(calls[6], ["job 127.0.0.1:40001"]);
    assert_eq!(
        calls[7],
        ["docker", "rm", "-f", name.as_str()].map(String::from)
    );
    // Nothing is left for resume to remove.
    let runs: Vec<PathBuf> = std::fs::read_dir(project.dir.path().join(".cdl/runs"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    let services = runs[0].join("services");
    let left: Vec<_> = std::fs::read_dir(&services)
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn a_failing_job_still_removes_its_service_and_fails() {
    let project = project(&pipeline("exit 3"));
    let output = project.run(&[]);
    assert!(!output.status.success());
    assert_eq!(project.verbs(), ["run", "env", "port", "exec", "rm"]);
}

#[test]
fn a_service_that_never_gets_ready_fails_the_job_removed_and_the_job_never_runs() {
    let project = project(&pipeline(JOB));
    let output = project.run(&[("FAKE_HEALTH_FAILS", "1000"), ("CDL_SERVICE_TIMEOUT", "1")]);
    assert!(!output.status.success());
    let verbs = project.verbs();
    assert!(!verbs.contains(&"job".to_string()), "{verbs:?}");
    assert_eq!(verbs.last().map(String::as_str), Some("rm"), "{verbs:?}");
    let all = format!("{}{}", text(&output.stdout), text(&output.stderr));
    let log = std::fs::read_dir(project.dir.path().join(".cdl/runs"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .next()
        .unwrap();
    let logs = walk(&log);
    assert!(
        all.contains("was not ready after 1s") || logs.contains("was not ready after 1s"),
        "{all}\n{logs}"
    );
}

fn walk(dir: &Path) -> String {
    let mut out = String::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.push_str(&walk(&path));
        } else if let Ok(text) = std::fs::read_to_string(&path) {
            out.push_str(&text);
        }
    }
    out
}

#[test]
fn without_health_the_job_waits_for_the_published_port_to_accept_a_connection() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port().to_string();
    let project = project(&format!(
        r#"pipeline shop {{
  stage test {{
    job it {{
      run = "{JOB}"
      service db {{
        image = "redis:7"
        port  = 6379
      }}
    }}
  }}
}}
"#
    ));
    let output = project.run(&[("FAKE_PORT", &port)]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert_eq!(project.verbs(), ["run", "env", "port", "job", "rm"]);
    assert_eq!(project.calls()[3], [format!("job 127.0.0.1:{port}")]);
}

#[test]
fn without_docker_or_podman_the_job_fails_naming_both_and_how_to_install() {
    let project = project(&pipeline(JOB));
    let empty = tempfile::tempdir().unwrap();
    let mut command = Command::new(assert_cmd::cargo::cargo_bin!("cdl"));
    let output = command
        .current_dir(project.dir.path())
        .args(["run", "pipeline.cdl"])
        .env_remove("CDL_FAILPOINT")
        .env_remove("CDL_CONTAINER_RUNTIME")
        .env("PATH", empty.path())
        .env("FAKE_DOCKER_LOG", &project.log)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(!output.status.success());
    let all = format!("{}{}", text(&output.stdout), text(&output.stderr));
    let logs = walk(&project.dir.path().join(".cdl/runs"));
    let said = format!("{all}\n{logs}");
    for word in ["docker", "podman", "install", "CDL_CONTAINER_RUNTIME"] {
        assert!(said.contains(word), "{word}: {said}");
    }
    assert!(project.calls().is_empty());
}

#[test]
fn the_runtime_can_be_named_and_a_wrong_name_fails_the_job() {
    let project = project(&pipeline(JOB));
    let docker = project.bin.join("docker");
    let output = project.run(&[("CDL_CONTAINER_RUNTIME", docker.to_str().unwrap())]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert_eq!(project.verbs().last().map(String::as_str), Some("rm"));
    let project = self::project(&pipeline(JOB));
    let output = project.run(&[("CDL_CONTAINER_RUNTIME", "no-such-runtime")]);
    assert!(!output.status.success());
    assert!(project.calls().is_empty());
}

/// A supervisor killed while its job runs leaves its containers recorded; the run removes them
/// when it sees the attempt vanished (as `cdl resume` does after a crash of `cdl` itself).
#[test]
fn containers_left_by_a_killed_supervisor_are_removed() {
    let project = project(&pipeline(
        "if [ ! -e killed ]; then touch killed; kill -9 $PPID; sleep 5; fi; echo job >> \\\"$FAKE_DOCKER_LOG\\\"",
    ));
    let output = project.run(&[]);
    let verbs = project.verbs();
    // First attempt: started, then its supervisor died; the run removed its container, and the
    // attempt ran again with a new one that its own supervisor removed.
    let calls = project.calls();
    let names: Vec<&String> = calls
        .iter()
        .filter(|c| c.get(1).map(String::as_str) == Some("rm"))
        .map(|c| &c[3])
        .collect();
    let started: Vec<&String> = calls
        .iter()
        .filter(|c| c.get(1).map(String::as_str) == Some("run"))
        .map(|c| &c[c.iter().position(|w| w == "--name").unwrap() + 1])
        .collect();
    assert_eq!(started.len(), 2, "{verbs:?}\n{}", text(&output.stderr));
    assert_ne!(started[0], started[1]);
    for name in &started {
        assert!(names.contains(name), "{name} never removed: {calls:?}");
    }
    assert!(output.status.success(), "{}", text(&output.stderr));
}

/// A cancel (SIGINT to `cdl`) while the job runs stops the job and still removes the service.
#[test]
fn a_cancelled_job_still_removes_its_service() {
    let project = project(&pipeline(
        "echo job >> \\\"$FAKE_DOCKER_LOG\\\"; touch started; sleep 60",
    ));
    let path = format!(
        "{}:{}",
        project.bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut child = Command::new(assert_cmd::cargo::cargo_bin!("cdl"))
        .current_dir(project.dir.path())
        .args(["run", "pipeline.cdl"])
        .env_remove("CDL_FAILPOINT")
        .env_remove("CDL_CONTAINER_RUNTIME")
        .env("PATH", path)
        .env("FAKE_DOCKER_LOG", &project.log)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = project.dir.path().join("started");
    for _ in 0..3000 {
        if started.exists() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    assert!(
        started.exists(),
        "the job never started: {:?}",
        project.calls()
    );
    // SAFETY: a signal to the child we started.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let status = child.wait().unwrap();
    assert!(!status.success());
    assert_eq!(project.verbs(), ["run", "env", "port", "exec", "job", "rm"]);
}

/// A kill of `cdl` itself leaves the job's supervisor running: it removes the service when the
/// job ends.
#[test]
fn a_killed_cdl_leaves_the_supervisor_to_remove_the_service() {
    let project = project(&pipeline(
        "touch started; while [ ! -e go ]; do sleep 0.05; done; echo job >> \\\"$FAKE_DOCKER_LOG\\\"",
    ));
    let path = format!(
        "{}:{}",
        project.bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut child = Command::new(assert_cmd::cargo::cargo_bin!("cdl"))
        .current_dir(project.dir.path())
        .args(["run", "pipeline.cdl"])
        .env_remove("CDL_FAILPOINT")
        .env_remove("CDL_CONTAINER_RUNTIME")
        .env("PATH", path)
        .env("FAKE_DOCKER_LOG", &project.log)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let dir = project.dir.path();
    let wait_for = |what: &dyn Fn() -> bool| {
        for _ in 0..3000 {
            if what() {
                return true;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        false
    };
    assert!(wait_for(&|| dir.join("started").exists()));
    child.kill().unwrap();
    child.wait().unwrap();
    std::fs::write(dir.join("go"), "").unwrap();
    assert!(
        wait_for(&|| project.verbs().last().map(String::as_str) == Some("rm")),
        "{:?}",
        project.calls()
    );
    assert_eq!(project.verbs(), ["run", "env", "port", "exec", "job", "rm"]);
}
