//! When a job with `runs = on_failure` or `always` (language v2 §6) may start: once
//! everything it waits for has finished, `always` whatever they did, `on_failure` only when one
//! of them failed. A job that runs after a failure does not heal the chain: a job that waits
//! for it runs only if nothing before it failed. A person's cancel stops the run before any of
//! this (the scheduler's loop ends at the signal).

use super::super::record::JobState;
use super::{Engine, Readiness};
use crate::plan::Runs;

impl Engine<'_> {
    /// The readiness of a job whose `runs` is not `on_success`. Earlier stages are finished
    /// (the scheduler looks at a stage only then), so only the needs can still be running.
    pub(super) fn readiness_after_failure(&self, index: usize) -> Readiness {
        let job = self.job(index);
        if !job.needs.iter().all(|n| self.settled(self.index[n])) {
            return Readiness::Blocked;
        }
        match job.runs {
            Runs::OnSuccess | Runs::Always => Readiness::Ready,
            Runs::OnFailure => match self.failed_before(index) {
                Some(_) => Readiness::Ready,
                None => Readiness::Skip("no job it waits for failed (`runs = on_failure`)".into()),
            },
        }
    }

    /// Whether a job this one waits for is done: finished, and when it was skipped up front
    /// (by its condition, or as a manual job nobody started), the jobs it waits for too, as
    /// on the CI systems, which skip a job only once its needs are done.
    fn settled(&self, index: usize) -> bool {
        let mut stack = vec![index];
        let mut seen = vec![false; self.record.plan.jobs.len()];
        while let Some(i) = stack.pop() {
            if std::mem::replace(&mut seen[i], true) {
                continue;
            }
            match self.state(i) {
                JobState::Skipped => {
                    stack.extend(self.job(i).needs.iter().map(|n| self.index[n]));
                }
                state if state.is_finished() => {}
                _ => return false,
            }
        }
        true
    }

    /// For a job of the default `runs` whose needs all allow it to start: the failure that
    /// still stops it when a need that runs after a failure stood between (`None` otherwise,
    /// and when no need runs after a failure: plain needs already carry their failures).
    pub(super) fn stopped_through(&self, index: usize) -> Option<String> {
        let job = self.job(index);
        let through = job
            .needs
            .iter()
            .any(|n| self.job(self.index[n]).runs != Runs::OnSuccess);
        if !through {
            return None;
        }
        self.failed_before(index)
            .map(|failed| format!("stopped: `{failed}` failed"))
    }

    /// The first job this one waits for, directly or not (its needs, theirs, and every job
    /// of an earlier stage), that failed and is not allowed to fail.
    pub(super) fn failed_before(&self, index: usize) -> Option<String> {
        let plan = &self.record.plan;
        let failed = |i: usize| {
            matches!(self.state(i), JobState::Failed | JobState::Cancelled)
                && !plan.jobs[i].allow_failure
        };
        let stage = self
            .stage_jobs
            .iter()
            .position(|jobs| jobs.contains(&index))
            .unwrap_or(0);
        if let Some(i) = self.stage_jobs[..stage]
            .iter()
            .flatten()
            .find(|i| failed(**i))
        {
            return Some(plan.jobs[*i].id.clone());
        }
        let mut seen = vec![false; plan.jobs.len()];
        let mut stack: Vec<usize> = plan.jobs[index]
            .needs
            .iter()
            .map(|n| self.index[n])
            .collect();
        while let Some(i) = stack.pop() {
            if std::mem::replace(&mut seen[i], true) {
                continue;
            }
            if failed(i) {
                return Some(plan.jobs[i].id.clone());
            }
            stack.extend(plan.jobs[i].needs.iter().map(|n| self.index[n]));
        }
        None
    }
}
