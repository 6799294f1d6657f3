//! Runs one step: `sh -e -c COMMAND` in a process group of its own, its output streamed line
//! by line, killed as a whole group on timeout or cancellation, and every process of the
//! group reaped afterwards.

use std::io::{BufRead, BufReader, Read};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    Stdout,
    Stderr,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepEnd {
    Exited(i32),
    /// Killed by a signal it did not handle.
    Signaled(i32),
    TimedOut,
    Cancelled,
}

pub struct Step<'a> {
    pub command: &'a str,
    pub cwd: &'a Path,
    pub env: &'a [(String, String)],
    /// Variables of the parent's environment the step must not see (other jobs' secrets).
    pub remove_env: &'a [String],
    pub deadline: Option<Instant>,
}

/// How long a group gets between SIGTERM and SIGKILL.
const GRACE: Duration = Duration::from_millis(500);

/// Makes this process adopt orphaned grandchildren so that it can reap them (Linux); without
/// it they would be left to PID 1, which in some sandboxes never reaps.
pub fn become_subreaper() {
    #[cfg(target_os = "linux")]
    // SAFETY: prctl with PR_SET_CHILD_SUBREAPER takes plain integers and changes only this
    // process's own attribute.
    unsafe {
        libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
    }
}

/// Sends a signal to every process of a group; false when the group no longer exists.
pub fn signal_group(group: i32, signal: i32) -> bool {
    // SAFETY: killpg only sends a signal; a negative or stale group id makes it fail harmlessly.
    group > 0 && unsafe { libc::killpg(group, signal) } == 0
}

/// Reaps the processes of a group that have exited (the adopted orphans among them).
fn reap_group(group: i32) {
    loop {
        let mut status = 0;
        // SAFETY: waitpid on a process group with WNOHANG; `status` is a valid out pointer.
        let pid = unsafe { libc::waitpid(-group, &mut status, libc::WNOHANG) };
        if pid <= 0 {
            break;
        }
    }
}

/// Stops a whole group: SIGTERM, a grace period, then SIGKILL, and reaps what exited.
/// Used on groups whose leader is not our child (left over from a killed `cdl`).
pub fn kill_group(group: i32) {
    if !signal_group(group, libc::SIGTERM) {
        return;
    }
    let until = Instant::now() + GRACE;
    while Instant::now() < until {
        reap_group(group);
        if !signal_group(group, 0) {
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    signal_group(group, libc::SIGKILL);
    for _ in 0..100 {
        reap_group(group);
        if !signal_group(group, 0) {
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Runs a step to its end; `cancel` stops it early. `on_spawn` is told the step's process
/// group the moment it exists, before its shell has started. Each output line goes to
/// `on_line`.
pub fn run(
    step: &Step,
    cancel: &AtomicBool,
    on_spawn: &dyn Fn(i32),
    on_line: &(dyn Fn(Stream, String) + Sync),
) -> std::io::Result<StepEnd> {
    let mut command = Command::new("sh");
    command
        .arg("-e")
        .arg("-c")
        .arg(step.command)
        .current_dir(step.cwd)
        .process_group(0)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for name in step.remove_env {
        command.env_remove(name);
    }
    command.envs(step.env.iter().map(|(k, v)| (k, v)));
    let mut child = command.spawn()?;
    let pgid = child.id() as i32;
    on_spawn(pgid);
    let stdout = child.stdout.take().expect("piped");
    let stderr = child.stderr.take().expect("piped");

    std::thread::scope(|scope| {
        scope.spawn(|| read_lines(stdout, Stream::Stdout, on_line));
        scope.spawn(|| read_lines(stderr, Stream::Stderr, on_line));
        let end = wait(&mut child, pgid, step.deadline, cancel);
        // Whatever the step left behind in its group goes with it.
        signal_group(pgid, libc::SIGKILL);
        reap_group(pgid);
        end
    })
}

fn wait(
    child: &mut Child,
    pgid: i32,
    deadline: Option<Instant>,
    cancel: &AtomicBool,
) -> std::io::Result<StepEnd> {
    let mut pause = Duration::from_micros(200);
    loop {
        if let Some(status) = child.try_wait()? {
            use std::os::unix::process::ExitStatusExt;
            return Ok(match (status.code(), status.signal()) {
                (Some(code), _) => StepEnd::Exited(code),
                (None, Some(signal)) => StepEnd::Signaled(signal),
                (None, None) => StepEnd::Exited(-1),
            });
        }
        let cancelled = cancel.load(Ordering::SeqCst);
        let timed_out = deadline.is_some_and(|d| Instant::now() >= d);
        if cancelled || timed_out {
            stop(child, pgid)?;
            return Ok(if cancelled {
                StepEnd::Cancelled
            } else {
                StepEnd::TimedOut
            });
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(10));
    }
}

/// SIGTERM to the group, up to [`GRACE`] for the leader to exit, then SIGKILL.
fn stop(child: &mut Child, pgid: i32) -> std::io::Result<()> {
    signal_group(pgid, libc::SIGTERM);
    let until = Instant::now() + GRACE;
    while Instant::now() < until {
        if child.try_wait()?.is_some() {
            signal_group(pgid, libc::SIGKILL);
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    signal_group(pgid, libc::SIGKILL);
    child.wait()?;
    Ok(())
}

fn read_lines(stream: impl Read, kind: Stream, on_line: &(dyn Fn(Stream, String) + Sync)) {
    let mut reader = BufReader::new(stream);
    let mut buffer = Vec::new();
    loop {
        buffer.clear();
        match reader.read_until(b'\n', &mut buffer) {
            Ok(0) | Err(_) => return,
            Ok(_) => {
                let line = String::from_utf8_lossy(&buffer);
                on_line(kind, line.trim_end_matches(['\n', '\r']).to_string());
            }
        }
    }
}
