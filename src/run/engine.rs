//! The scheduler: starts each job as soon as its needs and the earlier stages are done, up to
//! `--jobs` at once; propagates skips and failures; opens gates; retries; records every change.

use std::collections::{HashMap, HashSet};
use std::process::Child;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use super::artifacts;
use super::error::RunError;
use super::follow::Follow;
use super::guard;
use super::journal::Journal;
use super::process;
use super::record::{
    Attempt, Change, Decision, JobRecord, JobState, RunRecord, RunStatus, Store, now_ms,
};
use super::secrets::Secrets;
use super::supervisor::{self, AttemptResult, Ending};
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
    /// The first stage that still has unfinished jobs.
    cursor: usize,
    /// A failure that stops every later stage, in words.
    stopped_by: Option<String>,
    /// Jobs changed since the last save.
    dirty: Vec<String>,
    /// Artifacts stored since the last save.
    new_artifacts: Vec<String>,
    journal: Journal,
    /// Why the record can no longer be written, once it cannot.
    broken: Option<String>,
}

impl<'a> Engine<'a> {
    pub fn new(
        store: &'a Store,
        record: RunRecord,
        secrets: Secrets,
        interactive: bool,
        signal: Arc<AtomicUsize>,
    ) -> Result<Engine<'a>, RunError> {
        let plan = &record.plan;
        let stage_index: HashMap<&str, usize> = plan
            .stages
            .iter()
            .enumerate()
            .map(|(i, s)| (s.name.as_str(), i))
            .collect();
        let mut stage_jobs = vec![Vec::new(); plan.stages.len()];
        for (i, job) in plan.jobs.iter().enumerate() {
            let stage = stage_index.get(job.stage.as_str()).ok_or_else(|| {
                RunError::Record(format!(
                    "the job `{}` is in the stage `{}`, which the run's plan does not have",
                    job.id, job.stage
                ))
            })?;
            stage_jobs[*stage].push(i);
        }
        let index: HashMap<String, usize> = plan
            .jobs
            .iter()
            .enumerate()
            .map(|(i, j)| (j.id.clone(), i))
            .collect();
        for job in &plan.jobs {
            if !record.jobs.contains_key(&job.id) {
                return Err(RunError::Record(format!(
                    "run {}: the record has no entry for the job `{}` of its plan",
                    record.id, job.id
                )));
            }
            if let Some(need) = job.needs.iter().find(|n| !index.contains_key(*n)) {
                return Err(RunError::Record(format!(
                    "run {}: the job `{}` needs `{need}`, which the plan does not have",
                    record.id, job.id
                )));
            }
        }
        let view = View::new(&record);
        let journal = Journal::new(store.clone(), record.id.clone());
        Ok(Engine {
            store,
            record,
            secrets,
            interactive,
            signal,
            view,
            stage_jobs,
            index,
            running: HashMap::new(),
            cursor: 0,
            stopped_by: None,
            dirty: Vec::new(),
            new_artifacts: Vec::new(),
            journal,
            broken: None,
        })
    }

    fn job(&self, index: usize) -> &Job {
        &self.record.plan.jobs[index]
    }

    /// The state of the job at `index` in the plan (records are kept in plan order).
    fn state(&self, index: usize) -> JobState {
        self.record.jobs[index].state
    }

    /// Journals every change since the last call (or writes a snapshot of the same state).
    fn save(&mut self) -> Result<(), RunError> {
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
                .filter_map(|name| {
                    let stored = self.record.artifacts.get(&name)?.clone();
                    Some(Change::Artifact { stored, name })
                }),
        );
        self.journal
            .write(&self.record, &changes)
            .map_err(RunError::Write)
    }

    /// A full snapshot now (at the start, a pause, the end).
    fn snapshot(&mut self) -> Result<(), RunError> {
        self.journal.snapshot_next();
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
    pub fn drive(&mut self) -> Result<Outcome, RunError> {
        self.record.status = RunStatus::Running;
        self.record.pid = std::process::id();
        self.snapshot()?;
        self.reattach();
        let outcome = match self.schedule_loop() {
            Ok(outcome) => outcome,
            Err(error) => return Err(self.stop_broken(error)),
        };
        self.view.close();
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

    /// The record could not be written: no new work starts; the running jobs end under their
    /// supervisors (their results stay in the run folder for `cdl resume`).
    fn stop_broken(&mut self, error: RunError) -> RunError {
        self.broken = Some(error.to_string());
        let running = self.running.len();
        if running > 0 {
            self.view.note(&format!(
                "{error}: no new job starts; waiting for the {running} running"
            ));
            let _ = self.wait_running();
        }
        self.view.close();
        RunError::Stopped(format!(
            "{error}.\nthe run stopped: no job started after this; {running} job(s) that were running finished under their supervisors, and their results are kept in {}.\nfree space, then `cdl resume {}` records them and continues",
            self.store.run_dir(&self.record.id).display(),
            self.record.id
        ))
    }

    fn schedule_loop(&mut self) -> Result<Outcome, RunError> {
        let mut pause = Duration::from_micros(200);
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
                if self.poll()? || changed {
                    pause = Duration::from_micros(200);
                } else {
                    std::thread::sleep(pause);
                    pause = (pause * 2).min(Duration::from_millis(20));
                }
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
    fn advance(&mut self) -> Result<bool, RunError> {
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

    fn open_gate(&mut self, index: usize) -> Result<(), RunError> {
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

    /// Starts an attempt of a job under a supervisor. The attempt is journaled before the
    /// supervisor exists, so a crash in between is seen by resume as "never started".
    fn start(&mut self, index: usize) -> Result<(), RunError> {
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
        let cookie = supervisor::cookie(&self.record.id, &job.id, attempt_number);
        self.touch(&job.id).attempts.push(Attempt {
            number: attempt_number,
            started_ms: now_ms(),
            finished_ms: None,
            exit_code: None,
            timed_out: false,
            interrupted: false,
            vanished: false,
            cookie: Some(cookie.clone()),
        });
        self.touch(&job.id).state = JobState::Running;
        // Journaled before acting; a deploy's start is also flushed to disk.
        self.journal.durable_next(job.job_type == JobType::Deploy);
        self.save()?;
        self.view.started(&job.id, attempt_number);

        let environment = job
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
            .and_then(|e| {
                e.concurrency.map(|slots| supervisor::EnvironmentLock {
                    dir: self.store.locks_dir(),
                    name: e.name.clone(),
                    slots,
                })
            });
        let run_dir = self.store.run_dir(&self.record.id);
        let key = self.store.job_key(&job.id);
        let log = self.store.log_path(&self.record.id, &job.id);
        let spec = supervisor::Spec {
            run_dir: run_dir.clone(),
            key: key.clone(),
            attempt: attempt_number,
            cookie,
            steps: job.steps.clone(),
            env,
            remove_env: self.record.plan.secrets.clone(),
            workdir: self.record.workdir.clone(),
            log: log.clone(),
            timeout_ms: job.timeout_seconds.map(|s| s * 1000),
            environment,
            secrets: self.secrets.values(),
        };
        let follow = Follow::new(log);
        match supervisor::launch(&spec) {
            Ok(child) => {
                self.running.insert(
                    index,
                    Running {
                        child: Some(child),
                        paths: supervisor::paths(&run_dir, &key, attempt_number),
                        follow,
                        stop_sent: false,
                    },
                );
            }
            Err(e) => {
                let result = AttemptResult {
                    attempt: attempt_number,
                    ending: Ending::Error {
                        message: format!("cannot start the job's supervisor: {e}"),
                    },
                    started_ms: now_ms(),
                    finished_ms: now_ms(),
                    log_lost_bytes: 0,
                    log_error: None,
                    stragglers: 0,
                };
                self.finish(index, Some(Ok(result)))?;
            }
        }
        Ok(())
    }

    /// Re-attaches to the attempts a dead `cdl` left running: each is followed like one this
    /// process started; the first look decides whether it finished, runs on, or vanished.
    fn reattach(&mut self) {
        let run_dir = self.store.run_dir(&self.record.id);
        for index in 0..self.record.plan.jobs.len() {
            if self.state(index) != JobState::Running {
                continue;
            }
            let id = self.job(index).id.clone();
            let number = self.record.job(&id).attempts.last().map_or(0, |a| a.number);
            let key = self.store.job_key(&id);
            let log = self.store.log_path(&self.record.id, &id);
            self.running.insert(
                index,
                Running {
                    child: None,
                    paths: supervisor::paths(&run_dir, &key, number),
                    follow: Follow::new(log),
                    stop_sent: false,
                },
            );
        }
    }

    /// Looks at every running attempt once: new output is shown, ended ones are recorded (and
    /// journaled at once). True when anything happened.
    fn poll(&mut self) -> Result<bool, RunError> {
        let mut ended = Vec::new();
        let mut happened = false;
        let indices: Vec<usize> = self.running.keys().copied().collect();
        for index in indices {
            let id = self.job(index).id.clone();
            let running = self.running.get_mut(&index).expect("listed");
            let view = &self.view;
            happened |= running
                .follow
                .poll(&mut |line: &str| view.output(&id, line));
            let gone = match &mut running.child {
                Some(child) => !matches!(child.try_wait(), Ok(None)),
                None => supervisor::alive(&running.paths) != Some(true),
            };
            if gone {
                ended.push(index);
            }
        }
        for index in ended {
            happened = true;
            let mut running = self.running.remove(&index).expect("listed");
            let id = self.job(index).id.clone();
            let view = &self.view;
            running
                .follow
                .finish(&mut |line: &str| view.output(&id, line));
            let result = supervisor::read_result(&running.paths);
            if result.is_none() && running.stop_sent {
                // Stopped before its job started: nothing ran, nothing to run again.
                self.set(index, JobState::Cancelled, Some("cancelled".into()));
                continue;
            }
            self.finish(index, result)?;
        }
        if happened {
            self.save()?;
        }
        Ok(happened)
    }

    /// Records how an attempt ended; `None` when its supervisor vanished without a result.
    fn finish(
        &mut self,
        index: usize,
        result: Option<Result<AttemptResult, String>>,
    ) -> Result<(), RunError> {
        let job = self.job(index).clone();
        let result = match result {
            Some(Ok(result)) => result,
            Some(Err(reason)) => {
                self.set(index, JobState::Failed, Some(reason));
                return Ok(());
            }
            None => return self.vanished(index),
        };
        {
            let record = self.touch(&job.id);
            let attempt = record.attempts.last_mut().ok_or_else(|| {
                RunError::Record(format!("`{}` ended without a started attempt", job.id))
            })?;
            attempt.finished_ms = Some(result.finished_ms.max(attempt.started_ms));
            match &result.ending {
                Ending::Exited { code } => attempt.exit_code = Some(*code),
                Ending::Signaled { signal } => attempt.exit_code = Some(128 + signal),
                Ending::TimedOut => attempt.timed_out = true,
                Ending::Cancelled => attempt.interrupted = true,
                Ending::Error { .. } => {}
            }
        }
        let failure = match &result.ending {
            Ending::Exited { code: 0 } if result.log_lost_bytes > 0 => Some(format!(
                "exited with 0, but {} bytes of its output could not be written to its log ({}); its log is incomplete",
                result.log_lost_bytes,
                result.log_error.as_deref().unwrap_or("write failed")
            )),
            Ending::Exited { code: 0 } => None,
            Ending::Exited { code } => Some(format!("exited with {code}")),
            Ending::Signaled { signal } => Some(format!("killed by signal {signal}")),
            Ending::TimedOut => Some(format!(
                "timed out after {}",
                crate::syntax::literal::format_duration(job.timeout_seconds.unwrap_or(0))
            )),
            Ending::Cancelled => {
                self.set(index, JobState::Cancelled, Some("cancelled".into()));
                return Ok(());
            }
            Ending::Error { message } => Some(message.clone()),
        };
        let counted = self
            .record
            .job(&job.id)
            .attempts
            .iter()
            .filter(|a| !a.vanished)
            .count() as u32;
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
                                &stored.digest[..16.min(stored.digest.len())]
                            ));
                            self.record.artifacts.insert(name.clone(), stored);
                            // Journaled in the same write as the job's success.
                            self.new_artifacts.push(name.clone());
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
            Some(reason) if counted <= job.retries && !self.stopping() => {
                self.view.note(&format!(
                    "↻ {} {reason}; retrying ({} of {})",
                    job.id, counted, job.retries
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

    /// An attempt whose supervisor is gone without a result: what it left is killed, the
    /// record says so, and the job runs again (this does not use up a retry), at most
    /// [`RELAUNCHES`] times.
    fn vanished(&mut self, index: usize) -> Result<(), RunError> {
        let id = self.job(index).id.clone();
        let record = self.touch(&id);
        let Some(attempt) = record.attempts.last_mut() else {
            record.state = JobState::Pending;
            return Ok(());
        };
        attempt.vanished = true;
        attempt.interrupted = true;
        attempt.finished_ms.get_or_insert(now_ms());
        if let Some(cookie) = attempt.cookie.clone() {
            process::kill_by_cookie(&cookie);
        }
        let vanished = record.attempts.iter().filter(|a| a.vanished).count();
        if vanished > RELAUNCHES {
            self.set(
                index,
                JobState::Failed,
                Some(format!(
                    "its supervisor ended without a result {vanished} times (attempt results are written to the run folder: is the disk full?)"
                )),
            );
            return Ok(());
        }
        self.view.note(&format!(
            "↻ {id}: attempt {} ended without a result (its supervisor vanished); running it again",
            record_number(&self.record.jobs[&id])
        ));
        self.touch(&id).state = JobState::Pending;
        if self.stopping() {
            return Ok(());
        }
        self.start(index)
    }

    /// Whether the run is being stopped (a signal, or the record can no longer be written).
    fn stopping(&self) -> bool {
        self.signal.load(Ordering::SeqCst) != 0 || self.broken.is_some()
    }

    /// Asks every running attempt's supervisor to stop its job.
    fn stop_running(&mut self) {
        for running in self.running.values_mut() {
            if running.stop_sent {
                continue;
            }
            running.stop_sent = true;
            match &running.child {
                Some(child) => {
                    // SAFETY: our own unreaped child: the pid cannot have been reused.
                    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
                }
                None => supervisor::stop_detached(&running.paths),
            }
        }
    }

    /// With `--fail-fast`, a failure stops everything: running jobs are cancelled and the
    /// rest is skipped.
    fn fail_fast(&mut self) {
        if !self.record.selection.fail_fast {
            return;
        }
        self.stop_running();
        self.stopped_by
            .get_or_insert_with(|| "--fail-fast after a failure".to_string());
        self.cursor = 0;
    }

    /// Waits for every running attempt to end and records it (results are still read and
    /// journaled while the record can be written).
    fn wait_running(&mut self) -> Result<(), RunError> {
        let mut pause = Duration::from_micros(200);
        while !self.running.is_empty() {
            if self.poll()? {
                pause = Duration::from_micros(200);
            } else {
                std::thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_millis(20));
            }
        }
        Ok(())
    }

    /// Stops every running job under its supervisor, waits for them, and records the run as
    /// cancelled. The recorded outcome of each job is its real ending (a job that finished
    /// before the stop reached it keeps its result).
    fn cancel_all(&mut self, signal: i32) -> Result<Outcome, RunError> {
        if signal == libc::SIGHUP {
            // The terminal is gone: nothing more is shown.
            self.view.mute();
        }
        self.view
            .note(&format!("stopping: received signal {signal}"));
        self.stop_running();
        self.wait_running()?;
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

/// A vanished attempt is run again at most this many times.
const RELAUNCHES: usize = 3;

fn record_number(job: &JobRecord) -> u32 {
    job.attempts.last().map_or(0, |a| a.number)
}

enum Readiness {
    Ready,
    Blocked,
    Skip(String),
}

/// An attempt under way.
struct Running {
    /// The supervisor, when this process started it; `None` when re-attached by a resume.
    child: Option<Child>,
    paths: supervisor::Paths,
    follow: Follow,
    /// Whether its supervisor was asked to stop.
    stop_sent: bool,
}
