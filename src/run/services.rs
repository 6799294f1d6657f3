//! A job's services in `cdl run` (language v2 §9): each started with docker or podman before the
//! job's steps (`run -d --rm`, its port published on 127.0.0.1), awaited (its `health` command in
//! the container, else its port accepting connections), given to the job as
//! `CDL_SERVICE_<NAME>_HOST`/`_PORT`, and removed after the job whatever its outcome.
//!
//! Durability: each container's name is written to `services/<job>.<attempt>` in the run folder
//! (and synced) before it is started, and the file is removed only once every container of the
//! attempt is gone. A supervisor killed before that leaves the file: the run (or `cdl resume`)
//! removes the containers it lists when it records the attempt's end ([`stop_leftovers`]).
//! Values reach docker only through its environment (`-e NAME`), never its argv.

use std::io::Write;
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::model::services::Service;

/// The variable that names the container runtime to use instead of looking on `PATH`.
pub const RUNTIME_VARIABLE: &str = "CDL_CONTAINER_RUNTIME";

/// The variable that bounds the wait for a service to be ready, in seconds (default
/// [`READY_TIMEOUT`]).
pub const TIMEOUT_VARIABLE: &str = "CDL_SERVICE_TIMEOUT";

/// How long a service may take to be ready when nothing else says.
pub const READY_TIMEOUT: Duration = Duration::from_secs(120);

/// The runtimes looked for on `PATH`, in order.
pub const RUNTIMES: &[&str] = &["docker", "podman"];

/// The services of one attempt, started; [`Started::stop`] removes them.
#[derive(Debug)]
pub struct Started {
    runtime: PathBuf,
    record: PathBuf,
    containers: Vec<String>,
    /// `CDL_SERVICE_<NAME>_HOST`/`_PORT` for the job.
    pub variables: Vec<(String, String)>,
}

/// Why the services could not be made ready.
#[derive(Debug)]
pub enum Failure {
    /// The job fails with this message.
    Error(String),
    /// The run was cancelled while waiting.
    Cancelled,
    /// The job's deadline passed while waiting.
    TimedOut,
}

/// Where an attempt's containers are recorded.
pub fn record_path(run_dir: &Path, key: &str, attempt: u32) -> PathBuf {
    run_dir
        .join("services")
        .join(format!("{key}.{attempt}.containers"))
}

/// The container's name: unique per run, job, attempt and service, in docker's alphabet.
pub fn container_name(run_dir: &Path, key: &str, attempt: u32, service: &str) -> String {
    let run = run_dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let raw = format!("cdl-{run}-{key}-{attempt}-{service}");
    raw.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-') {
                c
            } else {
                '-'
            }
        })
        .collect()
}

/// The container runtime: `$CDL_CONTAINER_RUNTIME` (a name on `path`, or a path), else the first
/// of docker and podman on `path`. The error names both and how to install them.
pub fn runtime(path: &str, override_with: Option<&str>) -> Result<PathBuf, String> {
    let find = |name: &str| -> Option<PathBuf> {
        if name.contains('/') {
            return is_executable(Path::new(name)).then(|| PathBuf::from(name));
        }
        std::env::split_paths(path)
            .map(|dir| dir.join(name))
            .find(|candidate| is_executable(candidate))
    };
    if let Some(name) = override_with.filter(|n| !n.is_empty()) {
        return find(name).ok_or_else(|| {
            format!("{RUNTIME_VARIABLE}={name} names no executable program (looked on PATH)")
        });
    }
    RUNTIMES.iter().find_map(|name| find(name)).ok_or_else(|| {
        "the job's services need a container runtime, and neither `docker` nor `podman` is on PATH: install Docker (https://docs.docker.com/engine/install/) or Podman (https://podman.io/docs/installation), or name one with CDL_CONTAINER_RUNTIME".to_string()
    })
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// What [`start`] needs besides the services.
pub struct Context<'a> {
    pub run_dir: &'a Path,
    pub key: &'a str,
    pub attempt: u32,
    /// The `PATH` the runtime is looked for on (the job's).
    pub path: &'a str,
    /// `$CDL_CONTAINER_RUNTIME`, `$CDL_SERVICE_TIMEOUT` as the job sees them.
    pub runtime_override: Option<&'a str>,
    pub ready_timeout: Duration,
    pub deadline: Option<Instant>,
    pub cancelled: &'a dyn Fn() -> bool,
}

/// Starts every service and waits until each is ready. On failure, the ones started are
/// removed before returning.
pub fn start(
    services: &[Service],
    context: &Context,
    log: &mut dyn FnMut(&str),
) -> Result<Started, Failure> {
    let runtime = runtime(context.path, context.runtime_override).map_err(Failure::Error)?;
    let record = record_path(context.run_dir, context.key, context.attempt);
    let mut started = Started {
        runtime,
        record,
        containers: Vec::new(),
        variables: Vec::new(),
    };
    match start_all(&mut started, services, context, log) {
        Ok(()) => Ok(started),
        Err(failure) => {
            started.stop(log);
            Err(failure)
        }
    }
}

fn start_all(
    started: &mut Started,
    services: &[Service],
    context: &Context,
    log: &mut dyn FnMut(&str),
) -> Result<(), Failure> {
    for service in services {
        let name = container_name(context.run_dir, context.key, context.attempt, &service.name);
        started.containers.push(name.clone());
        // Recorded (and synced) before the container exists: a supervisor killed between the
        // two leaves a name that `stop_leftovers` removes, never a container nobody knows.
        write_record(&started.record, &started.runtime, &started.containers)
            .map_err(|e| Failure::Error(format!("cannot record the service containers: {e}")))?;
        log(&format!(
            "▶ service {}: starting {} as {name}",
            service.name, service.image
        ));
        let mut command = Command::new(&started.runtime);
        command.args(["run", "-d", "--rm", "--name", &name]);
        if let Some(port) = service.port {
            command.args(["-p", &format!("127.0.0.1::{port}")]);
        }
        for (key, value) in &service.env {
            // `-e NAME` takes the value from the runtime's own environment: not in argv.
            command.args(["-e", key]);
            command.env(key, value);
        }
        command.arg("--").arg(&service.image);
        command.args(&service.command);
        let output = run(&mut command)
            .map_err(|e| Failure::Error(format!("the service `{}`: {e}", service.name)))?;
        if !output.status.success() {
            return Err(Failure::Error(format!(
                "the service `{}` did not start ({}): {}",
                service.name,
                output.status,
                String::from_utf8_lossy(&output.stderr).trim()
            )));
        }
        let host = "127.0.0.1".to_string();
        started
            .variables
            .push((service.host_variable(), host.clone()));
        let mut address = None;
        if let Some(port) = service.port {
            let published = published_port(&started.runtime, &name, port).map_err(|e| {
                Failure::Error(format!(
                    "the service `{}`: cannot read its published port: {e}",
                    service.name
                ))
            })?;
            started
                .variables
                .push((service.port_variable(), published.to_string()));
            address = Some(SocketAddr::from(([127, 0, 0, 1], published)));
        }
        wait_ready(started, service, &name, address, context)?;
        log(&format!(
            "✓ service {} is ready{}",
            service.name,
            address.map_or(String::new(), |a| format!(" at {a}"))
        ));
    }
    Ok(())
}

/// Waits until the service's `health` passes in its container, else until its port accepts
/// a connection, else not at all; bounded by the ready timeout and the job's deadline.
fn wait_ready(
    started: &Started,
    service: &Service,
    name: &str,
    address: Option<SocketAddr>,
    context: &Context,
) -> Result<(), Failure> {
    if service.health.is_none() && address.is_none() {
        return Ok(());
    }
    let until = Instant::now() + context.ready_timeout;
    let mut nap = Duration::from_millis(50);
    loop {
        let ready = match (&service.health, address) {
            (Some(health), _) => {
                let mut command = Command::new(&started.runtime);
                command.args(["exec", name, "sh", "-c", health]);
                run(&mut command).is_ok_and(|o| o.status.success())
            }
            (None, Some(address)) => {
                TcpStream::connect_timeout(&address, Duration::from_millis(500)).is_ok()
            }
            (None, None) => true,
        };
        if ready {
            return Ok(());
        }
        if (context.cancelled)() {
            return Err(Failure::Cancelled);
        }
        if context.deadline.is_some_and(|d| Instant::now() >= d) {
            return Err(Failure::TimedOut);
        }
        if Instant::now() >= until {
            return Err(Failure::Error(format!(
                "the service `{}` was not ready after {}s ({}); raise {TIMEOUT_VARIABLE} to wait longer",
                service.name,
                context.ready_timeout.as_secs(),
                match &service.health {
                    Some(_) => "its `health` command kept failing",
                    None => "its port accepted no connection",
                }
            )));
        }
        std::thread::sleep(nap);
        nap = (nap * 2).min(Duration::from_secs(1));
    }
}

/// The host port the runtime published the container's `port` on (`docker port NAME PORT/tcp`
/// prints `127.0.0.1:49153`, one line per address).
fn published_port(runtime: &Path, name: &str, port: u16) -> Result<u16, String> {
    let mut command = Command::new(runtime);
    command.args(["port", name, &format!("{port}/tcp")]);
    let output = run(&mut command)?;
    if !output.status.success() {
        return Err(String::from_utf8_lossy(&output.stderr).trim().to_string());
    }
    parse_port(&String::from_utf8_lossy(&output.stdout))
        .ok_or_else(|| format!("`port` printed no host port: {:?}", output.stdout))
}

/// The port of the first `HOST:PORT` line.
pub fn parse_port(text: &str) -> Option<u16> {
    text.lines()
        .filter_map(|line| line.trim().rsplit_once(':'))
        .find_map(|(_, port)| port.trim().parse().ok())
}

fn run(command: &mut Command) -> Result<std::process::Output, String> {
    command.stdin(Stdio::null());
    let program = command.get_program().to_string_lossy().into_owned();
    command
        .output()
        .map_err(|e| format!("cannot run `{program}`: {e}"))
}

fn write_record(record: &Path, runtime: &Path, containers: &[String]) -> std::io::Result<()> {
    if let Some(dir) = record.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut text = format!("{}\n", runtime.display());
    for name in containers {
        text.push_str(name);
        text.push('\n');
    }
    let partial = record.with_extension("partial");
    let mut file = std::fs::File::create(&partial)?;
    file.write_all(text.as_bytes())?;
    file.sync_all()?;
    std::fs::rename(&partial, record)
}

impl Started {
    /// Removes every container (`rm -f`), then the record when all are gone.
    pub fn stop(&mut self, log: &mut dyn FnMut(&str)) {
        if remove(&self.runtime, &self.containers, log) {
            let _ = std::fs::remove_file(&self.record);
        }
        self.containers.clear();
    }
}

/// Removes the containers of `names`; true when each is gone.
fn remove(runtime: &Path, names: &[String], log: &mut dyn FnMut(&str)) -> bool {
    let mut all = true;
    for name in names.iter().rev() {
        let mut command = Command::new(runtime);
        command.args(["rm", "-f", name]);
        match run(&mut command) {
            Ok(output) if output.status.success() => {
                log(&format!("■ service container {name} removed"))
            }
            Ok(output) => {
                let error = String::from_utf8_lossy(&output.stderr);
                // Gone already (`--rm` after it exited): nothing left to remove.
                if error.contains("No such container") || error.contains("no such container") {
                    continue;
                }
                all = false;
                log(&format!(
                    "cannot remove the service container {name}: {}",
                    error.trim()
                ));
            }
            Err(e) => {
                all = false;
                log(&format!("cannot remove the service container {name}: {e}"));
            }
        }
    }
    all
}

/// Removes the containers an attempt recorded and did not remove itself (its supervisor was
/// killed, or removing failed). Returns what to tell the user, one line each.
pub fn stop_leftovers(run_dir: &Path, key: &str, attempt: u32) -> Vec<String> {
    let record = record_path(run_dir, key, attempt);
    let Ok(text) = std::fs::read_to_string(&record) else {
        return Vec::new();
    };
    let mut lines = text.lines();
    let Some(runtime) = lines.next() else {
        let _ = std::fs::remove_file(&record);
        return Vec::new();
    };
    let names: Vec<String> = lines
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect();
    let mut notes = Vec::new();
    let all = remove(Path::new(runtime), &names, &mut |line| {
        notes.push(line.to_string())
    });
    if all {
        let _ = std::fs::remove_file(&record);
    }
    notes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_published_port_is_read_from_the_first_address() {
        assert_eq!(parse_port("127.0.0.1:49153\n"), Some(49153));
        assert_eq!(parse_port("[::1]:5\n127.0.0.1:6\n"), Some(5));
        assert_eq!(parse_port("nothing\n"), None);
    }

    #[test]
    fn container_names_stay_in_dockers_alphabet() {
        let name = container_name(Path::new("/x/runs/2026 a/b"), "job[os=x y]", 2, "db");
        assert_eq!(name, "cdl-b-job-os-x-y--2-db");
    }

    #[test]
    fn no_runtime_names_both_and_how_to_install() {
        let error = runtime("/nonexistent", None).unwrap_err();
        for word in ["docker", "podman", "install", RUNTIME_VARIABLE] {
            assert!(error.contains(word), "{error}");
        }
        assert!(runtime("/nonexistent", Some("nerdctl")).is_err());
    }
}
