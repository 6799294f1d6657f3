//! One attempt of one job under a supervisor: a process forked by the run's keeper (see
//! [`super::keeper`]) in the keeper's session, so that it outlives the `cdl` that asked for it
//! (`kill -9`, a closed terminal) and the keeper too. It owns the job's whole process tree (a
//! child subreaper), enforces the timeout from the job's start whoever holds its output, writes
//! the masked output to the job's log with bounded memory, holds the environment lock while the
//! job runs, and writes the attempt's result atomically before it exits.
//!
//! Liveness is a lock, never a PID: the attempt's lock file is locked by the run *before* the
//! supervisor exists and handed over to it through the keeper, so from the journal's
//! `attempt started` on, the run, the request in flight, the keeper or the supervisor holds it.
//! Whoever can take the lock knows the supervisor is gone; then a result file means finished,
//! none means vanished.

use std::fs::File;
use std::io::{Read, Seek, Write};
use std::os::fd::AsRawFd;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::lock;
use super::mask::{self, Masker};
use super::process;
use super::record::now_ms;

/// The shell every step runs in (by path: no PATH search per step).
const SHELL: &str = if cfg!(target_os = "android") {
    "/system/bin/sh"
} else {
    "/bin/sh"
};

/// How long a stopped job gets between SIGTERM and SIGKILL.
const GRACE: Duration = Duration::from_millis(500);

/// Bytes reserved for the result file when the attempt starts, so a full disk cannot stop the
/// supervisor from saying how the attempt ended.
const RESERVED: usize = 4096;

/// Everything a supervisor needs, sent on its stdin (secrets never go through argv or a file).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Spec {
    pub run_dir: PathBuf,
    /// The job's id as a file name.
    pub key: String,
    pub attempt: u32,
    /// `CDL_ATTEMPT`: `<run>/<job>/<n>/<random>`, to find the attempt's processes later.
    pub cookie: String,
    /// How the run tells this attempt's end from the others' on the keeper's event pipe.
    #[serde(default)]
    pub ticket: u64,
    pub steps: Vec<String>,
    pub env: Vec<(String, String)>,
    /// Variables of the parent's environment the job must not see (other jobs' secrets).
    pub remove_env: Vec<String>,
    pub workdir: PathBuf,
    pub log: PathBuf,
    pub timeout_ms: Option<u64>,
    pub environment: Option<EnvironmentLock>,
    /// Every secret value of the run, masked in the output.
    pub secrets: Vec<String>,
    /// The job's steps with their rules (v2 §4); empty: each of `steps` with `sh`.
    #[serde(default)]
    pub step_specs: Vec<super::steps::StepSpec>,
    // v2 i14d: services
    /// Containers started before the steps and removed after them (`run/services.rs`).
    #[serde(default)]
    pub services: Vec<crate::model::services::Service>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EnvironmentLock {
    pub dir: PathBuf,
    pub name: String,
    pub slots: u32,
}

/// How an attempt ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "end", rename_all = "snake_case")]
pub enum Ending {
    Exited {
        code: i32,
    },
    /// Killed by a signal it did not handle.
    Signaled {
        signal: i32,
    },
    TimedOut,
    Cancelled,
    /// The job could not start (a missing folder, a refused lock …).
    Error {
        message: String,
    },
}

/// `results/<job>.<n>.json`, written by the supervisor before it exits.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttemptResult {
    pub attempt: u32,
    pub ending: Ending,
    pub started_ms: u64,
    pub finished_ms: u64,
    /// Output bytes that could not be written to the log (a full disk).
    pub log_lost_bytes: u64,
    pub log_error: Option<String>,
    /// Processes that survived every SIGKILL round (stuck in the kernel).
    pub stragglers: usize,
}

/// Where an attempt's lock and result live. They are one file: the lock file, with space
/// reserved for the result, becomes the result file by a rename once the attempt is over (one
/// file created per attempt).
#[derive(Debug, Clone)]
pub struct Paths {
    pub lock: PathBuf,
    pub result: PathBuf,
}

pub fn paths(run_dir: &Path, key: &str, attempt: u32) -> Paths {
    Paths {
        lock: run_dir
            .join("attempts")
            .join(format!("{key}.{attempt}.lock")),
        result: run_dir
            .join("results")
            .join(format!("{key}.{attempt}.json")),
    }
}

/// A cookie no other attempt has.
pub fn cookie(run: &str, job: &str, attempt: u32) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let salt = (nanos as u64) ^ (u64::from(std::process::id()) << 40);
    format!("{run}/{job}/{attempt}/{salt:016x}")
}

// ------------------------------------------------------------------ the run's side

/// Creates and locks the attempt's lock file, before its supervisor exists: the run hands the
/// locked file over to the keeper, which hands it to the supervisor, so there is no moment when
/// the attempt runs unlocked. Space for the result is reserved in it now, so that a full disk
/// cannot stop the supervisor from saying how the attempt ended.
pub fn lock_attempt(paths: &Paths) -> std::io::Result<File> {
    for path in [&paths.lock, &paths.result] {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
    }
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&paths.lock)?;
    lock.try_lock().map_err(|e| match e {
        std::fs::TryLockError::WouldBlock => {
            std::io::Error::other("the attempt's lock is held by another process")
        }
        std::fs::TryLockError::Error(e) => e,
    })?;
    reserve(&lock)?;
    Ok(lock)
}

/// Blocks or unblocks SIGTERM and SIGINT for this thread.
///
/// # Safety
/// Async-signal-safe (sigemptyset, sigaddset, sigprocmask): callable between fork and exec.
pub(super) unsafe fn block_stop_signals(how: i32) {
    // SAFETY: a zeroed sigset_t is a valid argument to sigemptyset, which initialises it.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGTERM);
        libc::sigaddset(&mut set, libc::SIGINT);
        libc::sigprocmask(how, &set, std::ptr::null_mut());
    }
}

/// Whether the attempt's supervisor is alive: its lock is held. `None` when the attempt never
/// got a lock file (it never started).
pub fn alive(paths: &Paths) -> Option<bool> {
    let file = std::fs::OpenOptions::new()
        .write(true)
        .open(&paths.lock)
        .ok()?;
    Some(matches!(
        file.try_lock(),
        Err(std::fs::TryLockError::WouldBlock)
    ))
}

/// The attempt's result, if its supervisor wrote one; `Err` when the file is unreadable.
pub fn read_result(paths: &Paths) -> Option<Result<AttemptResult, String>> {
    let text = match std::fs::read(&paths.result) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
        Err(e) => return Some(Err(format!("cannot read {}: {e}", paths.result.display()))),
    };
    Some(
        serde_json::from_slice(&text)
            .map_err(|e| format!("{} is not an attempt result: {e}", paths.result.display())),
    )
}

/// Asks a live supervisor to stop its job: the pid written in the lock file, signalled only
/// while the lock is held (so never a reused pid). False when the supervisor holds the lock but
/// has not written its pid yet (it is starting): ask again a moment later.
pub fn request_stop(paths: &Paths) -> bool {
    let pid: i32 = std::fs::read_to_string(&paths.lock)
        .ok()
        .and_then(|t| t.split_whitespace().next()?.parse().ok())
        .unwrap_or(0);
    if alive(paths) != Some(true) {
        return true;
    }
    if pid <= 0 {
        return false;
    }
    // SAFETY: kill only sends a signal; the lock shows the pid is still the supervisor.
    unsafe { libc::kill(pid, libc::SIGTERM) };
    true
}

// ------------------------------------------------------------------ the supervisor's side

/// The supervisor of one attempt, forked by the run's keeper (see [`super::keeper`]): `lock`
/// is the attempt's lock, already locked; `events` is where `ended <ticket>` is written once
/// the result is in place and the locks are released. Returns the process's exit code (for
/// debugging only: the result file is what counts).
pub fn supervise(spec: Spec, mut lock: File, events: Option<i32>) -> i32 {
    let cancel = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
        let _ = signal_hook::flag::register(signal, cancel.clone());
    }
    // SAFETY: setting a signal's disposition to ignored; a closed terminal must not stop us.
    unsafe { libc::signal(libc::SIGHUP, libc::SIG_IGN) };
    // SAFETY: unblocks what the keeper blocked before forking, now that the handlers are in
    // place.
    unsafe { block_stop_signals(libc::SIG_UNBLOCK) };
    process::become_subreaper();
    // Who holds the lock, over the first of the reserved bytes.
    let _ = writeln!(lock, "{} {}", std::process::id(), spec.cookie);
    let paths = paths(&spec.run_dir, &spec.key, spec.attempt);
    let started_ms = now_ms();
    let mut log = Log::new(spec.log.clone(), &spec.secrets);
    let (ending, environment) = attempt(&spec, &cancel, &mut log);
    let result = AttemptResult {
        attempt: spec.attempt,
        ending,
        started_ms,
        finished_ms: now_ms(),
        log_lost_bytes: log.lost,
        log_error: log.error.clone(),
        stragglers: log.stragglers,
    };
    if write_result(&mut lock, &paths, &result).is_err() {
        return 3;
    }
    crate::failpoint!("result-renamed");
    // The environment lock and the attempt lock go only now, after the result is in place and
    // no process of the job is left; then the run is told.
    drop(environment);
    drop(lock);
    if let Some(fd) = events {
        let line = format!("ended {}\n", spec.ticket);
        // SAFETY: one write of a short line (atomic on a pipe) to a descriptor we hold.
        unsafe { libc::write(fd, line.as_ptr().cast(), line.len()) };
    }
    0
}

/// Reserves [`RESERVED`] bytes of the disk in `file` (spaces: the pid written over them is
/// still read as its first word).
fn reserve(mut file: &File) -> std::io::Result<()> {
    file.write_all(&[b' '; RESERVED])?;
    file.rewind()
}

/// Writes the result into the lock file's reserved space and renames the file into place; the
/// lock stays held (the open file is the same) until the supervisor exits.
fn write_result(file: &mut File, paths: &Paths, result: &AttemptResult) -> std::io::Result<()> {
    let text = serde_json::to_vec(result).map_err(std::io::Error::other)?;
    file.rewind()?;
    file.write_all(&text)?;
    file.set_len(text.len() as u64)?;
    std::fs::rename(&paths.lock, &paths.result)
}

/// The attempt: the environment lock, then each step; the lock is returned to be held until
/// the result is written.
fn attempt(spec: &Spec, cancel: &AtomicBool, log: &mut Log) -> (Ending, Option<File>) {
    log.header(&format!("── attempt {} ──", spec.attempt));
    let environment = match &spec.environment {
        Some(env) => {
            let shared = std::cell::RefCell::new(&mut *log);
            let taken = lock::lock_environment(&env.dir, &env.name, env.slots, cancel, &|m| {
                let mut log = shared.borrow_mut();
                log.output(format!("{m}\n").as_bytes());
                log.end_stream();
            });
            match taken {
                Ok(Some(file)) => Some(file),
                Ok(None) => return (Ending::Cancelled, None),
                Err(e) => {
                    let message = format!("cannot lock the environment `{}`: {e}", env.name);
                    return (Ending::Error { message }, None);
                }
            }
        }
        None => None,
    };
    // The timeout counts from here: the job's start, once it holds its environment.
    let deadline = spec
        .timeout_ms
        .map(|ms| Instant::now() + Duration::from_millis(ms));
    // v2 i14d: services, started before the steps and removed after them, whatever happened.
    if !spec.services.is_empty() {
        return (with_services(spec, deadline, cancel, log), environment);
    }
    (run_steps(spec, deadline, cancel, log), environment)
}

/// The steps between the start of the job's services and their removal (v2 §9).
fn with_services(
    spec: &Spec,
    deadline: Option<Instant>,
    cancel: &AtomicBool,
    log: &mut Log,
) -> Ending {
    use super::services;
    let job_env = |name: &str| {
        spec.env
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .or_else(|| std::env::var(name).ok())
    };
    let path = job_env("PATH").unwrap_or_default();
    let runtime_override = job_env(services::RUNTIME_VARIABLE);
    let ready_timeout = job_env(services::TIMEOUT_VARIABLE)
        .and_then(|s| s.trim().parse().ok())
        .map_or(services::READY_TIMEOUT, Duration::from_secs);
    let cancelled = || cancel.load(Ordering::SeqCst);
    let context = services::Context {
        run_dir: &spec.run_dir,
        key: &spec.key,
        attempt: spec.attempt,
        path: &path,
        runtime_override: runtime_override.as_deref(),
        ready_timeout,
        deadline,
        cancelled: &cancelled,
    };
    let started = {
        let mut note = |line: &str| {
            log.header(line);
        };
        services::start(&spec.services, &context, &mut note)
    };
    let mut started = match started {
        Ok(started) => started,
        Err(services::Failure::Error(message)) => return Ending::Error { message },
        Err(services::Failure::Cancelled) => return Ending::Cancelled,
        Err(services::Failure::TimedOut) => return Ending::TimedOut,
    };
    let mut with_env = spec.clone();
    with_env.env.extend(started.variables.iter().cloned());
    let ending = run_steps(&with_env, deadline, cancel, log);
    started.stop(&mut |line: &str| log.header(line));
    ending
}

/// The job's steps, by the rules of `steps::run_all`, each with what earlier steps wrote to
/// `$CDL_ENV` and `$CDL_PATH`.
fn run_steps(spec: &Spec, deadline: Option<Instant>, cancel: &AtomicBool, log: &mut Log) -> Ending {
    let legacy: Vec<super::steps::StepSpec>;
    let specs = if spec.step_specs.is_empty() {
        legacy = spec
            .steps
            .iter()
            .map(|s| super::steps::StepSpec::sh(s))
            .collect();
        &legacy
    } else {
        &spec.step_specs
    };
    let files_dir = super::steps::files_dir(&spec.run_dir, &spec.key, spec.attempt);
    let files = match super::steps::Files::create(&files_dir) {
        Ok(files) => files,
        Err(e) => {
            return Ending::Error {
                message: format!(
                    "cannot create the files of $CDL_ENV, $CDL_PATH and $CDL_VALUES: {e}"
                ),
            };
        }
    };
    let base_path = spec
        .env
        .iter()
        .rev()
        .find(|(k, _)| k == "PATH")
        .map(|(_, v)| v.clone())
        .or_else(|| std::env::var("PATH").ok())
        .unwrap_or_default();
    let masked = mask::patterns(spec.secrets.iter().map(String::as_str));
    let ending = super::steps::run_all(
        specs,
        deadline,
        &|| cancel.load(Ordering::SeqCst),
        log,
        &mut |step, deadline, log| {
            let shown = mask::mask_bytes(&masked, step.script.as_bytes());
            log.header(&format!("$ {}", String::from_utf8_lossy(&shown)));
            let (passed, problems) = files.read(&base_path);
            for problem in problems {
                log.header(&problem);
            }
            match run_step(spec, step, &passed, deadline, cancel, log) {
                Ok(ending) => ending,
                Err(e) => Ending::Error {
                    message: format!(
                        "cannot run `{}`: {e}",
                        step.argv.first().map_or("sh", |a| a.as_str())
                    ),
                },
            }
        },
    );
    if let Err(e) = files.persist_values() {
        return Ending::Error {
            message: format!("cannot keep what the steps wrote to $CDL_VALUES: {e}"),
        };
    }
    ending
}

fn run_step(
    spec: &Spec,
    step: &super::steps::StepSpec,
    passed: &[(String, String)],
    deadline: Option<Instant>,
    cancel: &AtomicBool,
    log: &mut Log,
) -> std::io::Result<Ending> {
    let (mut reader, writer) = std::io::pipe()?;
    let program = match step.argv.first().map(String::as_str) {
        Some("sh") | None => SHELL,
        Some(other) => other,
    };
    let mut command = Command::new(program);
    command
        .args(step.argv.iter().skip(1))
        .current_dir(&spec.workdir)
        .process_group(0)
        .stdin(Stdio::null())
        .stdout(writer.try_clone()?)
        .stderr(writer);
    for name in &spec.remove_env {
        command.env_remove(name);
    }
    command.envs(spec.env.iter().map(|(k, v)| (k, v)));
    for name in &step.remove_env {
        command.env_remove(name);
    }
    command.envs(passed.iter().map(|(k, v)| (k, v)));
    command.envs(step.env.iter().map(|(k, v)| (k, v)));
    command.env("CDL_ATTEMPT", &spec.cookie);
    let supervisor = std::process::id() as i32;
    // SAFETY: only async-signal-safe calls between fork and exec.
    unsafe {
        command.pre_exec(move || {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0);
            // A supervisor killed before the line above leaves no death signal to come: the
            // shell must not start (its cookie is not in its environment yet, so nothing
            // would find it).
            if libc::getppid() != supervisor {
                libc::_exit(127);
            }
            for signal in [libc::SIGHUP, libc::SIGPIPE, libc::SIGINT, libc::SIGTERM] {
                libc::signal(signal, libc::SIG_DFL);
            }
            Ok(())
        });
    }
    let spawned = command.spawn();
    // The parent's copies of the pipe's write end go with the command.
    drop(command);
    let mut child = spawned?;
    let group = child.id() as i32;
    let fd = reader.as_raw_fd();
    let mut buffer = vec![0u8; 64 * 1024];
    let mut open = true;
    // After the pipe closed, the shell is usually about to exit: short naps first.
    let mut nap = Duration::from_micros(50);
    let ending = loop {
        let wait_ms = deadline.map_or(50, |d| {
            d.saturating_duration_since(Instant::now())
                .as_millis()
                .min(50) as i32
        });
        if open {
            let mut poll = libc::pollfd {
                fd,
                events: libc::POLLIN,
                revents: 0,
            };
            // SAFETY: one valid pollfd, for the duration of the call.
            let ready = unsafe { libc::poll(&mut poll, 1, wait_ms) };
            if ready > 0 {
                match reader.read(&mut buffer) {
                    Ok(0) => open = false,
                    Ok(n) => log.output(&buffer[..n]),
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(_) => open = false,
                }
            }
        } else {
            std::thread::sleep(nap.min(Duration::from_millis(wait_ms.max(1) as u64)));
            nap = (nap * 2).min(Duration::from_millis(50));
        }
        if let Some(status) = child.try_wait()? {
            use std::os::unix::process::ExitStatusExt;
            break match (status.code(), status.signal()) {
                (Some(code), _) => Ending::Exited { code },
                (None, Some(signal)) => Ending::Signaled { signal },
                (None, None) => Ending::Exited { code: -1 },
            };
        }
        if cancel.load(Ordering::SeqCst) {
            // The recorded outcome is the shell's real ending: one that finished its command
            // (exit 0, e.g. it ignored SIGTERM) succeeded.
            let status = stop(&mut child, group, &mut reader, log)?;
            break match status.and_then(|s| s.code()) {
                Some(0) => Ending::Exited { code: 0 },
                _ => Ending::Cancelled,
            };
        }
        if deadline.is_some_and(|d| Instant::now() >= d) {
            stop(&mut child, group, &mut reader, log)?;
            break Ending::TimedOut;
        }
    };
    // The step is over: whatever it left behind goes, escaped or not, then the rest of its
    // output is read (no writer is left, so this ends).
    log.stragglers += process::kill_descendants();
    drain(&mut reader, &mut buffer, log);
    log.end_stream();
    Ok(ending)
}

/// SIGTERM and SIGCONT to the job's group, [`GRACE`] for its shell to exit, then SIGKILL.
fn stop(
    child: &mut Child,
    group: i32,
    reader: &mut std::io::PipeReader,
    log: &mut Log,
) -> std::io::Result<Option<std::process::ExitStatus>> {
    process::signal_group(group, libc::SIGTERM);
    process::signal_group(group, libc::SIGCONT);
    let until = Instant::now() + GRACE;
    set_nonblocking(reader);
    let mut buffer = vec![0u8; 16 * 1024];
    while Instant::now() < until {
        if let Some(status) = child.try_wait()? {
            return Ok(Some(status));
        }
        if let Ok(n) = reader.read(&mut buffer)
            && n > 0
        {
            log.output(&buffer[..n]);
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    process::signal_group(group, libc::SIGKILL);
    child.wait()?;
    Ok(None)
}

fn set_nonblocking(reader: &std::io::PipeReader) {
    let fd = reader.as_raw_fd();
    // SAFETY: fcntl on our own descriptor.
    unsafe {
        let flags = libc::fcntl(fd, libc::F_GETFL);
        libc::fcntl(fd, libc::F_SETFL, flags | libc::O_NONBLOCK);
    }
}

/// Reads what is left in the pipe without waiting (a process stuck in the kernel may still
/// hold its write end).
fn drain(reader: &mut std::io::PipeReader, buffer: &mut [u8], log: &mut Log) {
    set_nonblocking(reader);
    while let Ok(n) = reader.read(buffer) {
        if n == 0 {
            break;
        }
        log.output(&buffer[..n]);
    }
}

impl super::steps::Sink for Log {
    fn header(&mut self, text: &str) {
        Log::header(self, text);
    }
}

/// A job's log: created at its first byte of output (a job that prints nothing leaves none);
/// headers written before then are kept and written first. Output is masked on the way in; a
/// failed write is counted, never fatal.
struct Log {
    path: PathBuf,
    file: Option<File>,
    pending: Vec<u8>,
    masker: Masker,
    patterns: Vec<Vec<u8>>,
    /// Whether the last byte written ended a line.
    at_line_start: bool,
    lost: u64,
    error: Option<String>,
    stragglers: usize,
}

impl Log {
    fn new(path: PathBuf, secrets: &[String]) -> Log {
        let patterns = mask::patterns(secrets.iter().map(String::as_str));
        Log {
            path,
            file: None,
            pending: Vec::new(),
            masker: Masker::new(&patterns),
            patterns,
            at_line_start: true,
            lost: 0,
            error: None,
            stragglers: 0,
        }
    }

    fn header(&mut self, text: &str) {
        if !self.at_line_start {
            self.pending.push(b'\n');
        }
        self.pending.extend_from_slice(text.as_bytes());
        self.pending.push(b'\n');
        self.at_line_start = true;
        if self.file.is_some() {
            self.write(&[]);
        }
    }

    fn output(&mut self, bytes: &[u8]) {
        let mut masker = std::mem::replace(&mut self.masker, Masker::new(&[]));
        masker.feed(bytes, &mut |b| self.write(b));
        self.masker = masker;
    }

    /// The end of one step's output: what the masker held back is written.
    fn end_stream(&mut self) {
        let mut masker = std::mem::replace(&mut self.masker, Masker::new(&[]));
        masker.finish(&mut |b| self.write(b));
        self.masker = Masker::new(&self.patterns);
    }

    fn write(&mut self, bytes: &[u8]) {
        if self.file.is_none() {
            if bytes.is_empty() {
                return;
            }
            if let Some(parent) = self.path.parent() {
                let _ = std::fs::create_dir_all(parent);
            }
            match std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&self.path)
            {
                Ok(file) => self.file = Some(file),
                Err(e) => {
                    self.lost += (self.pending.len() + bytes.len()) as u64;
                    self.pending.clear();
                    self.error.get_or_insert_with(|| e.to_string());
                    return;
                }
            }
        }
        let Some(file) = &mut self.file else {
            return;
        };
        if !self.pending.is_empty() {
            if let Err(e) = super::fault::write_all(super::fault::Place::Log, file, &self.pending) {
                self.lost += self.pending.len() as u64;
                self.error.get_or_insert_with(|| e.to_string());
            }
            self.pending.clear();
        }
        if !bytes.is_empty() {
            if let Err(e) = super::fault::write_all(super::fault::Place::Log, file, bytes) {
                self.lost += bytes.len() as u64;
                self.error.get_or_insert_with(|| e.to_string());
            }
            self.at_line_start = bytes.last() == Some(&b'\n');
        }
    }
}
