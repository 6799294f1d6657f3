//! The scheduler's side of a job attempt: journaled, then started under its supervisor;
//! followed (output, exit) until its result is recorded; re-attached after a crash; retried,
//! re-run when its supervisor vanished, or stopped.

use std::process::Child;
use std::sync::atomic::Ordering;
use std::time::Duration;

use super::super::artifacts;
use super::super::error::RunError;
use super::super::follow::Follow;
use super::super::guard;
use super::super::process;
use super::super::record::{Attempt, JobRecord, JobState, now_ms};
use super::super::supervisor::{self, AttemptResult, Ending};
use super::{Engine, Outcome};
use crate::check::model::JobType;
use crate::plan::Job;
use crate::plan::build::env_name;

impl Engine<'_> {
    /// Starts an attempt of a job under a supervisor. The attempt is journaled before the
    /// supervisor exists, so a crash in between is seen by resume as "never started".
    pub(super) fn start(&mut self, index: usize) -> Result<(), RunError> {
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
            // A private copy, verified and listed against the manifest before the job starts.
            let copy = self.store.input_dir(&self.record.id, &job.id, input);
            if let Err(error) = artifacts::fetch_for_consumer(&stored, &copy) {
                let reason = format!("the artifact `{input}`: {error}");
                self.set(index, JobState::Failed, Some(reason));
                return Ok(());
            }
            env.push((
                format!("CDL_ARTIFACT_{}", env_name(input)),
                copy.display().to_string(),
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
            step_specs: crate::run::steps::specs(&job),
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
    pub(super) fn reattach(&mut self) {
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
    pub(super) fn poll(&mut self) -> Result<bool, RunError> {
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
    pub(super) fn finish(
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
            Ending::TimedOut => Some(job.timeout_reason()),
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
                    let dest = self.store.artifacts_dir(&self.record.id);
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
                        Err(error) => {
                            self.set(index, JobState::Failed, Some(error.to_string()));
                            self.fail_fast();
                            return Ok(());
                        }
                    }
                }
                if let Some(reason) = self.deployed_copy_changed(&job) {
                    self.set(index, JobState::Failed, Some(reason));
                    self.fail_fast();
                    return Ok(());
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

    /// A deploy's copies of its artifacts, listed again after it ran: what it deployed must
    /// be what was stored.
    fn deployed_copy_changed(&self, job: &Job) -> Option<String> {
        if job.job_type != JobType::Deploy {
            return None;
        }
        job.inputs.iter().find_map(|input| {
            let stored = self.record.artifacts.get(input)?;
            let copy = self.store.input_dir(&self.record.id, &job.id, input);
            artifacts::verify_copy(stored, &copy)
                .err()
                .map(|error| format!("the artifact `{input}` changed while deployed: {error}"))
        })
    }

    /// An attempt whose supervisor is gone without a result: what it left is killed, the
    /// record says so, and the job runs again (this does not use up a retry), at most
    /// [`RELAUNCHES`] times.
    pub(super) fn vanished(&mut self, index: usize) -> Result<(), RunError> {
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
    pub(super) fn stopping(&self) -> bool {
        self.signal.load(Ordering::SeqCst) != 0 || self.broken.is_some()
    }

    /// Asks every running attempt's supervisor to stop its job.
    pub(super) fn stop_running(&mut self) {
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
    pub(super) fn fail_fast(&mut self) {
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
    pub(super) fn wait_running(&mut self) -> Result<(), RunError> {
        while !self.running.is_empty() {
            if !self.poll()? {
                self.waker.wait(Duration::from_millis(20));
            }
        }
        Ok(())
    }

    /// Stops every running job under its supervisor, waits for them, and records the run as
    /// cancelled. The recorded outcome of each job is its real ending (a job that finished
    /// before the stop reached it keeps its result).
    pub(super) fn cancel_all(&mut self, signal: i32) -> Result<Outcome, RunError> {
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

/// An attempt under way.
pub(super) struct Running {
    /// The supervisor, when this process started it; `None` when re-attached by a resume.
    child: Option<Child>,
    paths: supervisor::Paths,
    follow: Follow,
    /// Whether its supervisor was asked to stop.
    stop_sent: bool,
}
