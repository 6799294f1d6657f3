//! The scheduler: starts each job as soon as its needs and the earlier stages are done, up to
//! `--jobs` at once; propagates skips and failures; opens gates; retries; records every change.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use super::approval;
use super::error::RunError;
use super::gates;
use super::journal::Journal;
use super::prompt::Answer;
use super::record::{Change, Decision, JobRecord, JobState, RunRecord, RunStatus, Store, now_ms};
use super::secrets::Secrets;
use super::view::View;
use super::wake::Waker;
use crate::plan::Job;
use crate::plan::JobType;

mod after_failure;
mod attempts;
use attempts::Running;

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
    /// Who answers a gate's prompt on this terminal (`--as` of `cdl run` or `cdl resume`);
    /// `None`: the run's identity.
    pub answerer: Option<String>,
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
    waker: Waker,
    launcher: attempts::Launcher,
    // v2 i14c: the keys of the caches each running job restored (by job id), for its save.
    cache_keys: HashMap<String, Vec<super::cache::Restored>>,
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
            answerer: None,
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
            waker: Waker::new(),
            launcher: attempts::Launcher::default(),
            cache_keys: HashMap::new(),
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
                record: Box::new(self.record.job(&id).clone()),
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
            .write(&mut self.record, &changes)
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
            if !self.running.is_empty() && !self.poll()? && !changed {
                // Woken at once when a supervisor reports its end; else output is looked at
                // every 20 ms, and the locks of attempts every 250 ms.
                self.wait_for_news(Duration::from_millis(20));
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
    /// Whether another instance of the job's matrix may start: fewer than its `max_parallel`
    /// instances (jobs of its name) are running.
    fn under_matrix_limit(&self, index: usize) -> bool {
        let job = self.job(index);
        job.max_parallel.is_none_or(|limit| {
            let running = self
                .running
                .keys()
                .filter(|i| self.job(**i).name == job.name)
                .count();
            running < limit as usize
        })
    }

    fn advance(&mut self) -> Result<bool, RunError> {
        let mut changed = false;
        while self.cursor < self.stage_jobs.len() {
            let stage = self.cursor;
            for index in self.stage_jobs[stage].clone() {
                if self.state(index) == JobState::Waiting {
                    changed |= self.check_gate_timeout(index)?;
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
                        } else if self.running.len() < self.record.selection.jobs.max(1)
                            && self.under_matrix_limit(index)
                        {
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
        // v2 i13f: jobs that run after a failure
        if self.job(index).runs != crate::plan::Runs::OnSuccess {
            return self.readiness_after_failure(index);
        }
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
            match self.stopped_through(index) {
                Some(reason) => Readiness::Skip(reason),
                None => Readiness::Ready,
            }
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
        // i12: --auto-approve records an automatic approval, never a person's; --approve
        // records the person it was checked for (see run::approval).
        let automatic = self.record.selection.auto_approve
            && approval::auto_approval_refused(&self.record.plan, &gate).is_none();
        let by = if automatic {
            approval::AUTO_APPROVED.to_string()
        } else {
            identity.clone()
        };
        let allowed = automatic || approval::may_decide(&self.record.plan, &gate, &identity);
        if ahead
            && allowed
            && !self
                .record
                .job(&gate.id)
                .decisions
                .iter()
                .any(|d| d.by == by)
        {
            let comment = if automatic {
                "approved automatically with --auto-approve; no person approved"
            } else {
                "approved ahead with --approve"
            };
            self.touch(&gate.id).decisions.push(Decision {
                by,
                approved: true,
                at_ms: now_ms(),
                comment: Some(comment.into()),
            });
        }
        if self.settle_gate(index)? {
            return Ok(());
        }
        let signed = self.record.identities == super::record::Identities::Signed;
        if signed && self.interactive {
            self.view.note(&format!(
                "approvals of this pipeline are signed: approve with `cdl approve {} --as WHO --key KEY`",
                gate.id
            ));
        }
        if self.interactive && !signed {
            // Who answers here: `--as` of this command (a resume's, not the starter's).
            let identity = self.answerer.clone().unwrap_or(identity);
            let question = format!(
                "approve {}? {} (as {identity})",
                gate.id,
                gate.message.as_deref().unwrap_or("")
            );
            // Everything so far is recorded before waiting for a person.
            self.save()?;
            let deadline = gates::deadline_ms(&gate, self.record.job(&gate.id));
            let answer = self.view.ask(question.trim(), deadline, &self.signal);
            let approved = match answer {
                Answer::Yes => Some(true),
                Answer::No => Some(false),
                // The timeout settles the gate below; a signal cancels the run with no
                // decision; a closed input leaves the gate waiting.
                Answer::TimedOut | Answer::Cancelled | Answer::Closed => None,
                // The terminal is gone: as after a hang-up, the run is cancelled.
                Answer::Gone => {
                    let _ = self.signal.compare_exchange(
                        0,
                        libc::SIGHUP as usize,
                        Ordering::SeqCst,
                        Ordering::SeqCst,
                    );
                    None
                }
            };
            let may_decide = approval::may_decide(&self.record.plan, &gate, &identity);
            if let Some(approved) = approved
                && may_decide
            {
                self.touch(&gate.id).decisions.push(Decision {
                    by: identity.clone(),
                    approved,
                    at_ms: now_ms(),
                    comment: Some("answered at the terminal".into()),
                });
            }
            if self.settle_gate(index)? {
                return Ok(());
            }
            if approved.is_some() && !may_decide {
                self.view.note(&format!(
                    "`{identity}` is not an approver of `{}` (approvers: {}); the gate waits",
                    gate.id,
                    approval::approvers_text(&self.record.plan, &gate)
                ));
            }
        }
        if !self.state(index).is_finished() {
            self.touch(&gate.id).state = JobState::Waiting;
            if self.signal.load(Ordering::SeqCst) == 0 {
                self.view.note(&format!("⏸ {} waits for approval", gate.id));
            }
        }
        Ok(())
    }

    /// Decides a gate from its decisions and timeout ([`gates::settle`]); true when decided.
    /// The decision is journaled and flushed to disk before it is shown: a decision anyone
    /// has seen survives `kill -9` and a power loss.
    fn settle_gate(&mut self, index: usize) -> Result<bool, RunError> {
        let gate = self.job(index).clone();
        let proved = gates::proved_decisions(self.store, &self.record, &gate);
        let settlement = gates::settle(
            &self.record.plan,
            &gate,
            self.record.job(&gate.id),
            &proved,
            now_ms(),
        );
        match settlement {
            Some(settlement) => {
                crate::failpoint!("gate-settling");
                let (state, reason) = settlement.outcome();
                let elapsed = self.record.job(&gate.id).duration_ms();
                let reason = self.secrets.mask(&reason);
                let record = self.touch(&gate.id);
                record.state = state;
                record.reason = Some(reason.clone());
                self.journal.durable_next(true);
                self.save()?;
                self.view.finished(&gate.id, state, elapsed, Some(&reason));
                crate::failpoint!("gate-reported");
                Ok(true)
            }
            None => Ok(false),
        }
    }

    /// Settles a waiting gate once its timeout passed; true when it is decided. Before the
    /// deadline nothing can have changed (`cdl approve` moves a decided gate out of waiting),
    /// so the scheduler's every pass costs no signature checks.
    fn check_gate_timeout(&mut self, index: usize) -> Result<bool, RunError> {
        let gate = self.job(index);
        let passed = gates::deadline_ms(gate, self.record.job(&gate.id))
            .is_some_and(|deadline| now_ms() >= deadline);
        Ok(passed && self.settle_gate(index)?)
    }
}

enum Readiness {
    Ready,
    Blocked,
    Skip(String),
}
