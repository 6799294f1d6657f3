//! The scheduler's side of a job attempt: journaled, then started under its supervisor;
//! followed (output, exit) until its result is recorded; re-attached after a crash; retried,
//! re-run when its supervisor vanished, or stopped.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use super::super::artifacts;
use super::super::error::RunError;
use super::super::follow::Follow;
use super::super::guard;
use super::super::keeper::Keeper;
use super::super::matrix_artifacts;
use super::super::process;
use super::super::record::{Attempt, JobRecord, JobState, now_ms};
use super::super::supervisor::{self, AttemptResult, Ending};
use super::{Engine, Outcome};
use crate::plan::Job;
use crate::plan::JobType;
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
        env.extend(super::super::context::variables(
            &self.record.context(),
            &self.record.facts,
            &self.record.workdir,
        ));
        // v2 i13d: `CDL_INPUT_<NAME>` and the vars.
        env.extend(crate::run::inputs::variables(
            &self.record.plan,
            &self.record.context(),
        ));
        for input in &job.inputs {
            // v2 i13k: a matrix artifact is one stored part per instance.
            let parts = match matrix_artifacts::stored_parts(&self.record, input) {
                Ok(parts) => parts,
                Err(reason) => {
                    self.set(index, JobState::Failed, Some(reason));
                    return Ok(());
                }
            };
            // A private copy, verified and listed against the manifest before the job starts.
            let copy = self.store.input_dir(&self.record.id, &job.id, input);
            if let Err(error) = matrix_artifacts::fetch_parts(&parts, &copy) {
                let reason = format!("the artifact `{input}`: {error}");
                self.set(index, JobState::Failed, Some(reason));
                return Ok(());
            }
            env.push((
                format!("CDL_ARTIFACT_{}", env_name(input)),
                copy.display().to_string(),
            ));
            for (key, _, stored) in parts {
                self.record
                    .job_mut(&job.id)
                    .artifact_digests
                    .insert(key, stored.digest.clone());
            }
        }
        // v2 i13k: an instance of a matrix artifact builds in its own copy of the folder.
        let workdir = matrix_artifacts::workdir(
            &self.store.run_dir(&self.record.id),
            &self.record.workdir,
            &job,
        );
        if workdir != self.record.workdir {
            if let Err(reason) =
                matrix_artifacts::copy_workdir(&self.record.workdir, &self.store.root, &workdir)
            {
                let reason = format!("its copy of the working folder: {reason}");
                self.set(index, JobState::Failed, Some(reason));
                return Ok(());
            }
            env.push(("CDL_WORKSPACE".into(), workdir.display().to_string()));
        }
        // v2 i13i: the values of the jobs it waits for (empty when not written or not run).
        env.extend(super::super::values::variables(&self.record, &job));
        for secret in &job.secrets {
            if let Some(value) = self.secrets.get(secret) {
                env.push((secret.clone(), value.to_string()));
            }
        }
        // v2 i14a: the OIDC token of `--oidc-token-file`, or the job fails saying so.
        if let Some(oidc) = &job.oidc {
            match self.secrets.oidc_token(&oidc.audience) {
                Ok(token) => env.push((crate::plan::OIDC_VARIABLE.into(), token.to_string())),
                Err(reason) => {
                    self.set(index, JobState::Failed, Some(reason));
                    return Ok(());
                }
            }
        }
        // `registry = true`: the registry of `cdl run`'s environment, or the job fails saying so.
        if job.registry {
            match self.secrets.registry() {
                Ok(variables) => env.extend(variables),
                Err(reason) => {
                    self.set(index, JobState::Failed, Some(reason));
                    return Ok(());
                }
            }
        }
        // v2 i13j: composed values, from the variables above.
        let composed = crate::run::composed::variables(&job, &env);
        env.extend(composed);
        // Review environments: the name and url this run gives them, shown and recorded.
        if let Some(review) = &job.review {
            let find = |name: &str| {
                env.iter()
                    .rev()
                    .find(|(k, _)| k == name)
                    .map(|(_, v)| v.clone())
            };
            let record = crate::run::record::ReviewRecord {
                name: find("CDL_ENV_NAME").unwrap_or_default(),
                url: review.url.as_ref().and(find("CDL_ENV_URL")),
                stopped: review.stops.is_some(),
            };
            let at = record
                .url
                .as_deref()
                .map(|u| format!(" at {u}"))
                .unwrap_or_default();
            let verb = if record.stopped { "stops" } else { "makes" };
            self.view.note(&format!(
                "{}: {verb} the review environment {}{at}",
                job.id, record.name
            ));
            self.touch(&job.id).environment = Some(Box::new(record));
        }
        // v2 i14c: caches restored before the first step; `CDL_CACHE_<NAME>_HIT`.
        if !job.caches.is_empty() {
            let (restored, notes) =
                super::super::cache::restore(&self.store.root, &self.record.workdir, &job.caches);
            for note in notes {
                self.view.note(&note);
            }
            env.extend(super::super::cache::variables(&restored));
            self.cache_keys.insert(job.id.clone(), restored);
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
            stop_requested_ms: None,
        });
        self.touch(&job.id).state = JobState::Running;
        // Journaled before acting. A deploy's start, and the start of any job that receives an
        // artifact (so the artifact's record, written before it), are also flushed to disk;
        // other entries reach it at most a second later.
        self.journal
            .durable_next(job.job_type == JobType::Deploy || !job.inputs.is_empty());
        self.save()?;
        crate::failpoint!("attempt-started");
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
        let mut step_specs = crate::run::steps::specs_in(&job, &self.record.context());
        // v2: the steps' composed values, from the job's variables.
        crate::run::composed::steps(&job, &env, &mut step_specs);
        let spec = supervisor::Spec {
            run_dir: run_dir.clone(),
            key: key.clone(),
            attempt: attempt_number,
            cookie,
            ticket: 0,
            steps: job.steps.clone(),
            env,
            remove_env: self.record.plan.secrets.clone(),
            workdir,
            log: log.clone(),
            timeout_ms: job.timeout_seconds.map(|s| s * 1000),
            environment,
            secrets: self.secrets.values(),
            step_specs,
            services: job.services.clone(),
        };
        let paths = supervisor::paths(&run_dir, &key, attempt_number);
        let follow = Follow::new(log);
        match self.launcher.launch(spec, &paths) {
            Ok(ticket) => {
                self.running.insert(
                    index,
                    Running {
                        ticket: Some(ticket),
                        paths,
                        follow,
                        look_at: Instant::now() + LOOK_EVERY,
                        stop_sent: false,
                        stop_delivered: false,
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
                    ticket: None,
                    paths: supervisor::paths(&run_dir, &key, number),
                    follow: Follow::new(log),
                    look_at: Instant::now(),
                    stop_sent: false,
                    stop_delivered: false,
                },
            );
        }
    }

    /// Looks at every running attempt once: new output is shown, ended ones are recorded (and
    /// journaled at once). True when anything happened.
    pub(super) fn poll(&mut self) -> Result<bool, RunError> {
        let mut ended = Vec::new();
        let mut happened = false;
        let reported = self.launcher.ended();
        let now = Instant::now();
        let indices: Vec<usize> = self.running.keys().copied().collect();
        for index in indices {
            let id = self.job(index).id.clone();
            let running = self.running.get_mut(&index).expect("listed");
            let view = &self.view;
            happened |= running
                .follow
                .poll(&mut |line: &str| view.output(&id, line));
            // A supervisor reports its end on the keeper's pipe; one killed before it could is
            // found by its lock, looked at now and then.
            let gone = if running.ticket.is_some_and(|t| reported.contains(&t)) {
                true
            } else if now >= running.look_at {
                running.look_at = now + LOOK_EVERY;
                supervisor::alive(&running.paths) != Some(true)
            } else {
                false
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
        // Once the record cannot be written, the jobs still running are only waited for:
        // their result files stay for `cdl resume`.
        if happened && self.broken.is_none() {
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
        // v2 i14d: containers its supervisor could not remove (killed, or `rm` failed).
        self.stop_service_leftovers(&job.id);
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
        // v2 reports and kept files (i13h): kept passed or failed, not when cancelled; v2:
        // `keep_when` keeps them only on failure or on success.
        let passed = matches!(result.ending, Ending::Exited { code: 0 });
        let keep = match job.keep_when {
            Some(crate::plan::Runs::OnFailure) => !passed,
            Some(crate::plan::Runs::OnSuccess) => passed,
            _ => true,
        };
        if keep && !matches!(result.ending, Ending::Cancelled) {
            let attempt = record_number(self.record.job(&job.id));
            for line in super::super::reports::collect(self.store, &self.record, &job, attempt) {
                self.view.note(&line);
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
                // v2 i13i: what the job wrote to `$CDL_VALUES`, kept in the same write as its
                // success; an undeclared name fails it.
                let attempt = self
                    .record
                    .job(&job.id)
                    .attempts
                    .last()
                    .map_or(0, |a| a.number);
                let dir = super::super::steps::files_dir(
                    &self.store.run_dir(&self.record.id),
                    &self.store.job_key(&job.id),
                    attempt,
                );
                match super::super::values::read(&dir, &job) {
                    Ok(values) => self.touch(&job.id).values = values,
                    Err(reason) => {
                        self.set(index, JobState::Failed, Some(reason));
                        if !job.allow_failure {
                            self.fail_fast();
                        }
                        return Ok(());
                    }
                }
                if job.job_type == JobType::Artifact
                    && let Some(name) = &job.artifact
                {
                    let dest = self.store.artifacts_dir(&self.record.id);
                    // v2 i13k: an instance's own folder and part (`NAME/FOLDER`).
                    let workdir = matrix_artifacts::workdir(
                        &self.store.run_dir(&self.record.id),
                        &self.record.workdir,
                        &job,
                    );
                    let name = &match &job.artifact_folder {
                        Some(folder) => format!("{name}/{folder}"),
                        None => name.clone(),
                    };
                    match artifacts::store_outputs(
                        &workdir,
                        &job.outputs,
                        &job.optional_outputs,
                        &dest,
                    ) {
                        Ok(stored) => {
                            self.view.note(&format!(
                                "  {} stored: sha256 {}",
                                name,
                                &stored.digest[..16.min(stored.digest.len())]
                            ));
                            crate::failpoint!("artifact-stored");
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
                // v2 i14c: caches saved after success, per policy (a failed save is a note).
                if !job.caches.is_empty() {
                    let keys = self.cache_keys.remove(&job.id).unwrap_or_default();
                    for note in super::super::cache::save(
                        &self.store.root,
                        &self.record.workdir,
                        &job.caches,
                        &keys,
                    ) {
                        self.view.note(&note);
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
            Some(reason) if counted <= job.retries => {
                // Stopping (a signal, a record that cannot be written): the retry is left to
                // `cdl resume`, which runs a cancelled job again; not a failure of the run.
                self.set(
                    index,
                    JobState::Cancelled,
                    Some(format!("{reason}; the run stopped before its retry")),
                );
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
            // v2 i13k: every instance of a matrix artifact.
            let parts = matrix_artifacts::stored_parts(&self.record, input).ok()?;
            let copy = self.store.input_dir(&self.record.id, &job.id, input);
            matrix_artifacts::verify_parts(&parts, &copy)
                .err()
                .map(|error| format!("the artifact `{input}` changed while deployed: {error}"))
        })
    }

    /// An attempt whose supervisor is gone without a result: what it left is killed, the
    /// record says so, and the job runs again (this does not use up a retry), at most
    /// [`RELAUNCHES`] times.
    pub(super) fn vanished(&mut self, index: usize) -> Result<(), RunError> {
        let id = self.job(index).id.clone();
        self.stop_service_leftovers(&id);
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

    /// v2 i14d: removes the service containers the job's last attempt recorded and did not
    /// remove (its supervisor was killed): a run, or `cdl resume`, leaves none behind.
    fn stop_service_leftovers(&mut self, id: &str) {
        let Some(number) = self.record.job(id).attempts.last().map(|a| a.number) else {
            return;
        };
        let run_dir = self.store.run_dir(&self.record.id);
        let key = self.store.job_key(id);
        for line in super::super::services::stop_leftovers(&run_dir, &key, number) {
            self.view.note(&format!("{id}: {line}"));
        }
    }

    /// Whether the run is being stopped (a signal, or the record can no longer be written).
    pub(super) fn stopping(&self) -> bool {
        self.signal.load(Ordering::SeqCst) != 0 || self.broken.is_some()
    }

    /// Asks every running attempt's supervisor to stop its job (again later for one that is
    /// still starting). The request is journaled, and flushed, before the first signal goes
    /// out (design note 3 of runs-v2): a record never lacks a stop that a supervisor acted on;
    /// a stop recorded but never sent (`cdl` killed in between) leaves a live supervisor,
    /// which a resume waits for.
    pub(super) fn stop_running(&mut self) {
        let asked: Vec<usize> = self
            .running
            .iter()
            .filter(|(_, r)| !r.stop_sent)
            .map(|(index, _)| *index)
            .collect();
        if !asked.is_empty() && self.broken.is_none() {
            let now = now_ms();
            for index in asked {
                let id = self.job(index).id.clone();
                if let Some(attempt) = self.touch(&id).attempts.last_mut() {
                    attempt.stop_requested_ms.get_or_insert(now);
                }
            }
            self.journal.durable_next(true);
            if let Err(error) = self.save() {
                // The stop goes out all the same (a person asked for it); nothing new starts.
                self.broken = Some(error.to_string());
            }
            crate::failpoint!("cancel-journaled");
        }
        for running in self.running.values_mut() {
            running.stop_sent = true;
            if !running.stop_delivered {
                running.stop_delivered = supervisor::request_stop(&running.paths);
            }
        }
    }

    /// Waits up to `timeout` for news: a supervisor's end on the keeper's pipe, or a child of
    /// this process (the keeper) exiting.
    pub(super) fn wait_for_news(&mut self, timeout: Duration) {
        let events = self.launcher.keeper.as_ref().map(Keeper::events_fd);
        self.waker.wait(timeout, events);
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
            if self
                .running
                .values()
                .any(|r| r.stop_sent && !r.stop_delivered)
            {
                self.stop_running();
            }
            if !self.poll()? {
                self.wait_for_news(Duration::from_millis(20));
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

/// How often the lock of an attempt is looked at, for a supervisor that could not report its
/// end (killed) or that another run's keeper forked (re-attached).
const LOOK_EVERY: Duration = Duration::from_millis(250);

/// An attempt under way.
pub(super) struct Running {
    /// How its supervisor reports its end, when this process started it; `None` when
    /// re-attached by a resume.
    ticket: Option<u64>,
    paths: supervisor::Paths,
    follow: Follow,
    /// When its lock is looked at next.
    look_at: Instant,
    /// Whether its supervisor was asked to stop.
    stop_sent: bool,
    /// Whether that request reached it (or it was gone already).
    stop_delivered: bool,
}

/// Starts attempts through the run's keeper, started at the first attempt (and again if it
/// died).
#[derive(Default)]
pub(super) struct Launcher {
    keeper: Option<Keeper>,
    tickets: u64,
}

impl Launcher {
    /// Locks the attempt and hands it to the keeper; returns the attempt's ticket.
    fn launch(
        &mut self,
        mut spec: supervisor::Spec,
        paths: &supervisor::Paths,
    ) -> std::io::Result<u64> {
        let lock = supervisor::lock_attempt(paths)?;
        self.tickets += 1;
        spec.ticket = self.tickets;
        if let Some(keeper) = &mut self.keeper
            && keeper.launch(&spec, &lock).is_ok()
        {
            return Ok(spec.ticket);
        }
        // No keeper yet, or it died: a new one (supervisors of the old one run on, found by
        // their locks).
        self.keeper = None;
        let mut keeper = Keeper::start()?;
        keeper.launch(&spec, &lock)?;
        self.keeper = Some(keeper);
        Ok(spec.ticket)
    }

    /// The tickets of the attempts that reported their end since the last look.
    fn ended(&mut self) -> Vec<u64> {
        self.keeper.as_mut().map_or_else(Vec::new, Keeper::ended)
    }
}
