//! The scheduler: starts each job as soon as its needs and the earlier stages are done, up to
//! `--jobs` at once; propagates skips and failures; opens gates; retries; records every change.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::artifacts;
use super::guard;
use super::lock;
use super::process::{self, StepEnd, Stream};
use super::record::{
    Attempt, Change, Decision, JobRecord, JobState, RunRecord, RunStatus, Store, now_ms,
};
use super::secrets::Secrets;
use super::view::View;
use crate::check::model::JobType;
use crate::plan::{Job, build::env_name};

/// How a run ended, for the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Succeeded,
    Failed,
    /// Waiting for an approval; resumable.
    Paused,
    /// Stopped by this signal.
    Cancelled(i32),
}

enum Event {
    Line { job: usize, text: String },
    Done { job: usize, end: End },
}

enum End {
    Finished(StepEnd),
    /// The job could not start (a missing folder, a refused lock …).
    Error(String),
}

struct Running {
    cancel: Arc<AtomicBool>,
    handle: std::thread::JoinHandle<()>,
    started: Instant,
}

pub struct Engine<'a> {
    pub store: &'a Store,
    pub record: RunRecord,
    pub secrets: Secrets,
    pub interactive: bool,
    /// The signal that stopped the run, set by the handlers (0: none).
    pub signal: Arc<AtomicUsize>,
    view: View,
    stage_jobs: Vec<Vec<usize>>,
    index: HashMap<String, usize>,
    running: HashMap<usize, Running>,
    events: (Sender<Event>, Receiver<Event>),
    /// The first stage that still has unfinished jobs.
    cursor: usize,
    /// A failure that stops every later stage, in words.
    stopped_by: Option<String>,
    /// Jobs changed since the last save.
    dirty: Vec<String>,
    /// Artifacts stored since the last save.
    new_artifacts: Vec<String>,
    /// Whether `run.json` has been written by this process.
    snapshotted: bool,
    /// Journal entries since the last snapshot.
    journaled: usize,
}

/// How many journal entries are written before the next full snapshot of `run.json`.
const SNAPSHOT_EVERY: usize = 2000;

impl<'a> Engine<'a> {
    pub fn new(
        store: &'a Store,
        record: RunRecord,
        secrets: Secrets,
        interactive: bool,
        signal: Arc<AtomicUsize>,
    ) -> Engine<'a> {
        let plan = &record.plan;
        let stage_index: HashMap<&str, usize> = plan
            .stages
            .iter()
            .enumerate()
            .map(|(i, s)| (s.name.as_str(), i))
            .collect();
        let stage_of: Vec<usize> = plan
            .jobs
            .iter()
            .map(|j| stage_index[j.stage.as_str()])
            .collect();
        let mut stage_jobs = vec![Vec::new(); plan.stages.len()];
        for (i, stage) in stage_of.iter().enumerate() {
            stage_jobs[*stage].push(i);
        }
        let index = plan
            .jobs
            .iter()
            .enumerate()
            .map(|(i, j)| (j.id.clone(), i))
            .collect();
        let view = View::new(&record);
        Engine {
            store,
            record,
            secrets,
            interactive,
            signal,
            view,
            stage_jobs,
            index,
            running: HashMap::new(),
            events: channel(),
            cursor: 0,
            stopped_by: None,
            dirty: Vec::new(),
            new_artifacts: Vec::new(),
            snapshotted: false,
            journaled: 0,
        }
    }

    fn job(&self, index: usize) -> &Job {
        &self.record.plan.jobs[index]
    }

    /// The state of the job at `index` in the plan (records are kept in plan order).
    fn state(&self, index: usize) -> JobState {
        self.record.jobs[index].state
    }

    /// Records every change since the last call: the changed jobs appended to the journal,
    /// or, every [`SNAPSHOT_EVERY`] changes, a new snapshot of the whole record.
    fn save(&mut self) -> Result<(), String> {
        let mut changes: Vec<Change> = std::mem::take(&mut self.dirty)
            .into_iter()
            .map(|id| Change::Job {
                record: self.record.job(&id).clone(),
                id,
            })
            .collect();
        changes.extend(
            std::mem::take(&mut self.new_artifacts)
                .into_iter()
                .map(|name| Change::Artifact {
                    stored: self.record.artifacts[&name].clone(),
                    name,
                }),
        );
        let result = if !self.snapshotted || self.journaled + changes.len() > SNAPSHOT_EVERY {
            self.journaled = 0;
            self.snapshotted = true;
            self.store.save(&self.record)
        } else {
            self.journaled += changes.len();
            self.store.append(&self.record.id, &changes)
        };
        result.map_err(|e| format!("cannot write the run record: {e}"))
    }

    /// A full snapshot now (at the start, a pause, the end).
    fn snapshot(&mut self) -> Result<(), String> {
        self.snapshotted = false;
        self.save()
    }

    /// A job's record, to change it; the change is journaled at the next save.
    fn touch(&mut self, id: &str) -> &mut JobRecord {
        if !self.dirty.iter().any(|d| d == id) {
            self.dirty.push(id.to_string());
        }
        self.record.job_mut(id)
    }

    /// Sets a job's state; the reason is masked, as it may quote a command's output.
    fn set(&mut self, index: usize, state: JobState, reason: Option<String>) {
        let id = self.job(index).id.clone();
        let elapsed = self.record.job(&id).duration_ms();
        let reason = reason.map(|r| self.secrets.mask(&r));
        let job = self.touch(&id);
        job.state = state;
        job.reason = reason.clone();
        if state.is_finished() {
            self.view.finished(&id, state, elapsed, reason.as_deref());
        }
    }

    /// Drives the run until it ends, pauses for an approval, or is cancelled.
    pub fn drive(&mut self) -> Result<Outcome, String> {
        process::become_subreaper();
        self.record.status = RunStatus::Running;
        self.record.pid = std::process::id();
        self.snapshot()?;
        let outcome = self.schedule_loop();
        self.view.close();
        let outcome = outcome?;
        self.record.status = match outcome {
            Outcome::Succeeded => RunStatus::Succeeded,
            Outcome::Failed => RunStatus::Failed,
            Outcome::Paused => RunStatus::Paused,
            Outcome::Cancelled(_) => RunStatus::Cancelled,
        };
        if outcome != Outcome::Paused {
            self.record.finished_ms = Some(now_ms());
        }
        self.snapshot()?;
        Ok(outcome)
    }

    fn schedule_loop(&mut self) -> Result<Outcome, String> {
        loop {
            let signal = self.signal.load(Ordering::SeqCst);
            if signal != 0 {
                return self.cancel_all(signal as i32);
            }
            let changed = self.advance()?;
            if changed {
                self.save()?;
            }
            let waiting = self
                .record
                .jobs
                .values()
                .filter(|j| j.state == JobState::Waiting)
                .count();
            self.view.counts(self.running.len(), waiting);
            if self.running.is_empty() && !changed {
                return Ok(self.ending(waiting));
            }
            if !self.running.is_empty() {
                self.receive(Duration::from_millis(50))?;
            }
        }
    }

    /// The outcome once nothing runs and nothing can start.
    fn ending(&self, waiting: usize) -> Outcome {
        if waiting > 0 {
            return Outcome::Paused;
        }
        let failed = self.record.plan.jobs.iter().any(|j| {
            matches!(
                self.record.job(&j.id).state,
                JobState::Failed | JobState::Cancelled
            ) && !j.allow_failure
        });
        if failed {
            Outcome::Failed
        } else {
            Outcome::Succeeded
        }
    }

    /// Starts, skips or opens every job that can move; true when anything changed.
    fn advance(&mut self) -> Result<bool, String> {
        let mut changed = false;
        while self.cursor < self.stage_jobs.len() {
            let stage = self.cursor;
            for index in self.stage_jobs[stage].clone() {
                if self.state(index) == JobState::Waiting {
                    changed |= self.check_gate_timeout(index);
                }
                if self.state(index) != JobState::Pending {
                    continue;
                }
                match self.readiness(index) {
                    Readiness::Blocked => {}
                    Readiness::Skip(reason) => {
                        self.set(index, JobState::Skipped, Some(reason));
                        changed = true;
                    }
                    Readiness::Ready => {
                        if self.job(index).job_type == JobType::Gate {
                            self.open_gate(index)?;
                            changed = true;
                        } else if self.running.len() < self.record.selection.jobs.max(1) {
                            self.start(index)?;
                            changed = true;
                        }
                    }
                }
            }
            let done = self.stage_jobs[stage]
                .iter()
                .all(|i| self.state(*i).is_finished());
            if !done {
                break;
            }
            if self.stopped_by.is_none() {
                self.stopped_by = self.stage_jobs[stage]
                    .iter()
                    .find(|i| {
                        matches!(self.state(**i), JobState::Failed | JobState::Cancelled)
                            && !self.job(**i).allow_failure
                    })
                    .map(|i| format!("`{}` failed", self.job(*i).id));
            }
            self.cursor += 1;
        }
        Ok(changed)
    }

    fn readiness(&self, index: usize) -> Readiness {
        if let Some(stopped) = &self.stopped_by {
            return Readiness::Skip(format!("stopped: {stopped}"));
        }
        let mut ready = true;
        for need in &self.job(index).needs {
            let n = self.index[need];
            match self.state(n) {
                JobState::Succeeded => {}
                JobState::Skipped => return Readiness::Skip(format!("skipped with `{need}`")),
                JobState::Failed | JobState::Cancelled if self.job(n).allow_failure => {}
                JobState::Failed | JobState::Cancelled => {
                    return Readiness::Skip(format!("stopped: `{need}` failed"));
                }
                JobState::Pending | JobState::Running | JobState::Waiting => ready = false,
            }
        }
        if ready {
            Readiness::Ready
        } else {
            Readiness::Blocked
        }
    }

    // ------------------------------------------------------------------ gates

    fn open_gate(&mut self, index: usize) -> Result<(), String> {
        let gate = self.job(index).clone();
        let identity = self.record.selection.identity.clone();
        let ahead = self.record.selection.auto_approve
            || self
                .record
                .selection
                .approve
                .iter()
                .any(|g| *g == gate.id || *g == gate.name);
        let record = self.touch(&gate.id);
        if record.waiting_since_ms.is_none() {
            record.waiting_since_ms = Some(now_ms());
        }
        if ahead && !record.decisions.iter().any(|d| d.by == identity) {
            let comment = if self.record.selection.auto_approve {
                "--auto-approve"
            } else {
                "--approve"
            };
            self.touch(&gate.id).decisions.push(Decision {
                by: identity.clone(),
                approved: true,
                at_ms: now_ms(),
                comment: Some(format!("approved ahead with {comment}")),
            });
        }
        if self.settle_gate(index) {
            return Ok(());
        }
        if self.interactive && !self.check_gate_timeout(index) {
            let question = format!(
                "approve {}? {} (as {identity})",
                gate.id,
                gate.message.as_deref().unwrap_or("")
            );
            // Everything so far is recorded before waiting for a person.
            self.save()?;
            let yes = self.view.ask(question.trim());
            if gate.approvers.contains(&identity) {
                self.touch(&gate.id).decisions.push(Decision {
                    by: identity.clone(),
                    approved: yes,
                    at_ms: now_ms(),
                    comment: Some("answered at the terminal".into()),
                });
                if self.settle_gate(index) {
                    return Ok(());
                }
            } else {
                self.view.note(&format!(
                    "`{identity}` is not an approver of `{}` (approvers: {}); the gate waits",
                    gate.id,
                    gate.approvers.join(", ")
                ));
            }
        }
        if !self.state(index).is_finished() {
            self.touch(&gate.id).state = JobState::Waiting;
            self.view.note(&format!("⏸ {} waits for approval", gate.id));
        }
        Ok(())
    }

    /// Decides a gate from its decisions; true when it is decided.
    fn settle_gate(&mut self, index: usize) -> bool {
        let gate = self.job(index).clone();
        let record = self.record.job(&gate.id);
        if let Some(rejection) = record.decisions.iter().find(|d| !d.approved) {
            let reason = format!("rejected by {}", rejection.by);
            self.set(index, JobState::Failed, Some(reason));
            return true;
        }
        let approvers: HashSet<&str> = record
            .decisions
            .iter()
            .filter(|d| d.approved)
            .map(|d| d.by.as_str())
            .collect();
        let auto = self.record.selection.auto_approve;
        if auto || approvers.len() as u32 >= gate.required.unwrap_or(1) {
            let who: Vec<&str> = approvers.into_iter().collect();
            self.set(
                index,
                JobState::Succeeded,
                Some(format!("approved by {}", who.join(", "))),
            );
            return true;
        }
        false
    }

    /// Rejects a gate whose timeout passed; true when it did.
    fn check_gate_timeout(&mut self, index: usize) -> bool {
        let gate = self.job(index).clone();
        let (Some(timeout), Some(since)) = (
            gate.timeout_seconds,
            self.record.job(&gate.id).waiting_since_ms,
        ) else {
            return false;
        };
        if now_ms() < since + timeout * 1000 {
            return false;
        }
        self.set(
            index,
            JobState::Failed,
            Some("timed out waiting for approval: rejected".into()),
        );
        true
    }

    // ------------------------------------------------------------------ jobs

    fn start(&mut self, index: usize) -> Result<(), String> {
        let job = self.job(index).clone();
        if job.job_type == JobType::Deploy
            && let Err(reason) = guard::check(&self.record, &job)
        {
            self.set(index, JobState::Failed, Some(format!("refused: {reason}")));
            return Ok(());
        }
        let mut env: Vec<(String, String)> = job
            .env
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        env.push(("CDL_RUN_ID".into(), self.record.id.clone()));
        for input in &job.inputs {
            let Some(stored) = self.record.artifacts.get(input).cloned() else {
                self.set(
                    index,
                    JobState::Failed,
                    Some(format!("the artifact `{input}` was not built in this run")),
                );
                return Ok(());
            };
            let dest = self.store.artifact_dir(&self.record.id, input);
            if let Err(reason) = artifacts::verify(&stored, &dest) {
                self.set(index, JobState::Failed, Some(reason));
                return Ok(());
            }
            env.push((
                format!("CDL_ARTIFACT_{}", env_name(input)),
                stored.path.display().to_string(),
            ));
            self.record
                .job_mut(&job.id)
                .artifact_digests
                .insert(input.clone(), stored.digest.clone());
        }
        for secret in &job.secrets {
            if let Some(value) = self.secrets.get(secret) {
                env.push((secret.clone(), value.to_string()));
            }
        }
        let attempt_number = self.record.job(&job.id).attempts.len() as u32 + 1;
        self.touch(&job.id).attempts.push(Attempt {
            number: attempt_number,
            started_ms: now_ms(),
            finished_ms: None,
            exit_code: None,
            timed_out: false,
            interrupted: false,
        });
        self.touch(&job.id).state = JobState::Running;
        self.view.started(&job.id, attempt_number);

        let environment_lock = job
            .environment
            .as_ref()
            .filter(|_| job.job_type == JobType::Deploy)
            .and_then(|name| {
                self.record
                    .plan
                    .environments
                    .iter()
                    .find(|e| &e.name == name)
            })
            .and_then(|e| e.concurrency.map(|n| (e.name.clone(), n)));
        let cancel = Arc::new(AtomicBool::new(false));
        let work = Work {
            index,
            steps: job.steps.clone(),
            env,
            remove_env: self.record.plan.secrets.clone(),
            workdir: self.record.workdir.clone(),
            log: self.store.log_path(&self.record.id, &job.id),
            job_id: job.id.clone(),
            store: self.store.clone(),
            run_id: self.record.id.clone(),
            attempt: attempt_number,
            timeout: job.timeout_seconds.map(Duration::from_secs),
            environment_lock,
            locks_dir: self.store.locks_dir(),
            secrets: self.secrets.clone(),
            cancel: cancel.clone(),
            events: self.events.0.clone(),
        };
        let handle = std::thread::spawn(move || work.run());
        self.running.insert(
            index,
            Running {
                cancel,
                handle,
                started: Instant::now(),
            },
        );
        Ok(())
    }

    fn receive(&mut self, timeout: Duration) -> Result<(), String> {
        let Ok(first) = self.events.1.recv_timeout(timeout) else {
            return Ok(());
        };
        let mut pending = vec![first];
        pending.extend(self.events.1.try_iter());
        for event in pending {
            match event {
                Event::Line { job, text } => self.view.output(&self.job(job).id.clone(), &text),
                Event::Done { job, end } => self.finish(job, end)?,
            }
        }
        Ok(())
    }

    fn finish(&mut self, index: usize, end: End) -> Result<(), String> {
        let running = self
            .running
            .remove(&index)
            .expect("a finished job was running");
        let _ = running.handle.join();
        let job = self.job(index).clone();
        let elapsed = running.started.elapsed();
        let attempt = {
            let record = self.touch(&job.id);
            let attempt = record.attempts.last_mut().expect("an attempt was started");
            attempt.finished_ms = Some(attempt.started_ms + elapsed.as_millis() as u64);
            match &end {
                End::Finished(StepEnd::Exited(code)) => attempt.exit_code = Some(*code),
                End::Finished(StepEnd::Signaled(signal)) => attempt.exit_code = Some(128 + signal),
                End::Finished(StepEnd::TimedOut) => attempt.timed_out = true,
                End::Finished(StepEnd::Cancelled) => attempt.interrupted = true,
                End::Error(_) => {}
            }
            attempt.clone()
        };
        let failure = match &end {
            End::Finished(StepEnd::Exited(0)) => None,
            End::Finished(StepEnd::Exited(code)) => Some(format!("exited with {code}")),
            End::Finished(StepEnd::Signaled(signal)) => Some(format!("killed by signal {signal}")),
            End::Finished(StepEnd::TimedOut) => Some(job.timeout_reason()),
            End::Finished(StepEnd::Cancelled) => {
                self.set(index, JobState::Cancelled, Some("cancelled".into()));
                return Ok(());
            }
            End::Error(reason) => Some(reason.clone()),
        };
        match failure {
            None => {
                if job.job_type == JobType::Artifact
                    && let Some(name) = &job.artifact
                {
                    let dest = self.store.artifact_dir(&self.record.id, name);
                    match artifacts::store(&self.record.workdir, &job.outputs, &dest) {
                        Ok(stored) => {
                            self.view.note(&format!(
                                "  {} stored: sha256 {}",
                                name,
                                &stored.digest[..16]
                            ));
                            self.record.artifacts.insert(name.clone(), stored);
                        }
                        Err(reason) => {
                            self.set(index, JobState::Failed, Some(reason));
                            self.fail_fast();
                            return Ok(());
                        }
                    }
                }
                self.set(index, JobState::Succeeded, None);
            }
            Some(reason) if attempt.number <= job.retries => {
                self.view.note(&format!(
                    "↻ {} {reason}; retrying ({} of {})",
                    job.id, attempt.number, job.retries
                ));
                self.touch(&job.id).state = JobState::Pending;
                self.start(index)?;
            }
            Some(reason) => {
                self.set(index, JobState::Failed, Some(reason));
                if !job.allow_failure {
                    self.fail_fast();
                }
            }
        }
        Ok(())
    }

    /// With `--fail-fast`, a failure stops everything: running jobs are cancelled and the
    /// rest is skipped.
    fn fail_fast(&mut self) {
        if !self.record.selection.fail_fast {
            return;
        }
        for running in self.running.values() {
            running.cancel.store(true, Ordering::SeqCst);
        }
        self.stopped_by
            .get_or_insert_with(|| "--fail-fast after a failure".to_string());
        self.cursor = 0;
    }

    /// Stops every running job's process group, waits for the workers, and records the run
    /// as cancelled.
    fn cancel_all(&mut self, signal: i32) -> Result<Outcome, String> {
        self.view
            .note(&format!("stopping: received signal {signal}"));
        for running in self.running.values() {
            running.cancel.store(true, Ordering::SeqCst);
        }
        while !self.running.is_empty() {
            self.receive(Duration::from_millis(50))?;
        }
        for index in 0..self.record.plan.jobs.len() {
            if matches!(self.state(index), JobState::Pending | JobState::Waiting) {
                let id = self.job(index).id.clone();
                self.touch(&id).state = JobState::Cancelled;
                self.touch(&id).reason = Some("the run was cancelled".into());
            }
        }
        Ok(Outcome::Cancelled(signal))
    }
}

enum Readiness {
    Ready,
    Blocked,
    Skip(String),
}

/// Everything a worker thread needs to run one attempt of a job.
struct Work {
    index: usize,
    steps: Vec<String>,
    env: Vec<(String, String)>,
    remove_env: Vec<String>,
    workdir: PathBuf,
    log: PathBuf,
    job_id: String,
    store: Store,
    run_id: String,
    attempt: u32,
    timeout: Option<Duration>,
    environment_lock: Option<(String, u32)>,
    locks_dir: PathBuf,
    secrets: Secrets,
    cancel: Arc<AtomicBool>,
    events: Sender<Event>,
}

impl Work {
    fn run(self) {
        let end = self.steps();
        let _ = self.events.send(Event::Done {
            job: self.index,
            end,
        });
    }

    fn steps(&self) -> End {
        if let Some(parent) = self.log.parent()
            && let Err(e) = std::fs::create_dir_all(parent)
        {
            return End::Error(format!("cannot create {}: {e}", parent.display()));
        }
        let log = Mutex::new(Log::new(self.log.clone()));
        let write_log = |text: &str, output: bool| {
            if let Ok(mut log) = log.lock() {
                log.write(text, output);
            }
        };
        let say = |text: String| {
            let text = self.secrets.mask(&text);
            write_log(&text, true);
            let _ = self.events.send(Event::Line {
                job: self.index,
                text,
            });
        };
        write_log(&format!("── attempt {} ──", self.attempt), false);
        let _environment = match &self.environment_lock {
            Some((name, slots)) => {
                match lock::lock_environment(&self.locks_dir, name, *slots, &self.cancel, &say) {
                    Ok(Some(file)) => Some(file),
                    Ok(None) => return End::Finished(StepEnd::Cancelled),
                    Err(e) => {
                        return End::Error(format!("cannot lock the environment `{name}`: {e}"));
                    }
                }
            }
            None => None,
        };
        let deadline = self.timeout.map(|t| Instant::now() + t);
        let on_line = |_stream: Stream, line: String| say(line);
        let note_group = |group: i32| {
            let change = Change::Group {
                job: self.job_id.clone(),
                group,
            };
            let _ = self.store.append(&self.run_id, &[change]);
        };
        for command in &self.steps {
            write_log(&format!("$ {}", self.secrets.mask(command)), false);
            let step = process::Step {
                command,
                cwd: &self.workdir,
                env: &self.env,
                remove_env: &self.remove_env,
                deadline,
            };
            let end = process::run(&step, &self.cancel, &note_group, &on_line);
            note_group(0);
            match end {
                Ok(StepEnd::Exited(0)) => continue,
                Ok(end) => return End::Finished(end),
                Err(e) => return End::Error(format!("cannot run `sh`: {e}")),
            }
        }
        End::Finished(StepEnd::Exited(0))
    }
}

/// A job's log file, created at its first line of output: a job that prints nothing leaves
/// none (and costs no file). Headers written before then are kept and written first.
struct Log {
    path: PathBuf,
    file: Option<std::fs::File>,
    pending: String,
}

impl Log {
    fn new(path: PathBuf) -> Log {
        Log {
            path,
            file: None,
            pending: String::new(),
        }
    }

    fn write(&mut self, text: &str, output: bool) {
        use std::io::Write;
        self.pending.push_str(text);
        self.pending.push('\n');
        if self.file.is_none() && output {
            self.file = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&self.path)
                .ok();
        }
        if let Some(file) = &mut self.file {
            let _ = file.write_all(self.pending.as_bytes());
            self.pending.clear();
        }
    }
}
