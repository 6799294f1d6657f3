//! Gate settlement, once: how a gate's decisions and timeout decide it, used by the scheduler
//! (when a gate opens, after a prompt) and by `cdl approve` / `cdl reject`.
//!
//! A decision is who, when, approve or reject, and a comment ([`Decision`]); more fields (a
//! signature, an automatic approval) can be added without changing how a gate settles.

use std::collections::HashSet;

use super::lock;
use super::record::{Decision, JobRecord, JobState, RunRecord, Store, format_time, now_ms};
use crate::check::model::JobType;
use crate::plan::Job;

/// How a gate's decisions decide it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Settlement {
    /// Enough distinct approvers (or `--auto-approve`): the names, in the order they decided.
    Approved(Vec<String>),
    /// Any rejection rejects: by whom.
    Rejected(String),
    /// The timeout passed without enough approvals.
    TimedOut,
}

impl Settlement {
    /// The job state and reason the gate takes.
    pub fn outcome(&self) -> (JobState, String) {
        match self {
            Settlement::Approved(who) => (
                JobState::Succeeded,
                format!("approved by {}", who.join(", ")),
            ),
            Settlement::Rejected(by) => (JobState::Failed, format!("rejected by {by}")),
            Settlement::TimedOut => (
                JobState::Failed,
                "timed out waiting for approval: rejected".to_string(),
            ),
        }
    }
}

/// When the gate's timeout ends (ms since the epoch): from when it started waiting.
pub fn deadline_ms(gate: &Job, record: &JobRecord) -> Option<u64> {
    let timeout = gate.timeout_seconds?;
    let since = record.waiting_since_ms?;
    Some(since.saturating_add(timeout.saturating_mul(1000)))
}

/// The gate's settlement at `now`, or `None` while it still waits. A rejection wins over
/// approvals; the timeout wins over approvals that are still too few.
pub fn settle(gate: &Job, record: &JobRecord, auto_approve: bool, now: u64) -> Option<Settlement> {
    if let Some(rejection) = record.decisions.iter().find(|d| !d.approved) {
        return Some(Settlement::Rejected(rejection.by.clone()));
    }
    let mut seen: HashSet<&str> = HashSet::new();
    let approvers: Vec<String> = record
        .decisions
        .iter()
        .filter(|d| d.approved && seen.insert(d.by.as_str()))
        .map(|d| d.by.clone())
        .collect();
    if auto_approve || approvers.len() as u32 >= gate.required.unwrap_or(1) {
        return Some(Settlement::Approved(approvers));
    }
    if deadline_ms(gate, record).is_some_and(|deadline| now >= deadline) {
        return Some(Settlement::TimedOut);
    }
    None
}

/// Records an approval or a rejection of a waiting gate (`cdl approve`, `cdl reject`); returns
/// what to tell the user. The run's lock is taken before its record is read.
pub fn decide(
    store: &Store,
    gate: &str,
    run: Option<&str>,
    identity: &str,
    comment: Option<String>,
    approve: bool,
) -> Result<String, String> {
    let id = match run {
        Some(id) => {
            super::consistency::check_run_id(id)?;
            id.to_string()
        }
        None => {
            let waiting = store.run_ids().into_iter().rev().find(|id| {
                store.load(id).is_ok_and(|record| {
                    record.plan.jobs.iter().any(|j| {
                        (j.id == gate || j.name == gate)
                            && record.job(&j.id).state == JobState::Waiting
                    })
                })
            });
            waiting.ok_or_else(|| {
                format!("no run is waiting on the gate `{gate}`; name one with --run")
            })?
        }
    };
    if !store.record_path(&id).is_file() {
        return Err(format!(
            "there is no run {id} in {}; `cdl runs` lists the runs",
            store.runs_dir().display()
        ));
    }
    let _lock = lock::try_lock_run(&store.run_dir(&id).join("lock"))
        .map_err(|e| format!("cannot lock the run: {e}"))?
        .ok_or_else(|| format!("run {id} is in progress; answer its prompt instead"))?;
    let mut record = store.load(&id)?;
    let job = record
        .plan
        .jobs
        .iter()
        .find(|j| (j.id == gate || j.name == gate) && j.job_type == JobType::Gate)
        .cloned()
        .ok_or_else(|| format!("run {} has no gate named `{gate}`", record.id))?;
    let state = record.job(&job.id).state;
    if state != JobState::Waiting {
        return Err(format!(
            "the gate `{}` of run {} is not waiting for a decision (it is {})",
            job.id,
            record.id,
            state.as_str()
        ));
    }
    if !job.approvers.iter().any(|a| a == identity) {
        return Err(format!(
            "`{identity}` may not decide the gate `{}`: its approvers are {}",
            job.id,
            job.approvers.join(", ")
        ));
    }
    let now = now_ms();
    let auto = record.selection.auto_approve;
    if settle(&job, record.job(&job.id), auto, now) == Some(Settlement::TimedOut) {
        let deadline = deadline_ms(&job, record.job(&job.id)).unwrap_or(now);
        set(&mut record, &job, Settlement::TimedOut);
        save(store, &record)?;
        return Err(format!(
            "the gate `{}` timed out at {} and is rejected; `cdl resume {}` records the failure",
            job.id,
            format_time(deadline),
            record.id
        ));
    }
    if record
        .job(&job.id)
        .decisions
        .iter()
        .any(|d| d.by == identity)
    {
        return Err(format!(
            "`{identity}` has already decided the gate `{}`; another approver is needed",
            job.id
        ));
    }
    record.job_mut(&job.id).decisions.push(Decision {
        by: identity.to_string(),
        approved: approve,
        at_ms: now,
        comment,
    });
    let approvals = record
        .job(&job.id)
        .decisions
        .iter()
        .filter(|d| d.approved)
        .count() as u32;
    let required = job.required.unwrap_or(1);
    let message = match settle(&job, record.job(&job.id), auto, now) {
        Some(Settlement::Rejected(_)) => {
            set(
                &mut record,
                &job,
                Settlement::Rejected(identity.to_string()),
            );
            format!(
                "rejected `{}` as {identity}.\nrecord the outcome with:\n    cdl resume {}",
                job.id, record.id
            )
        }
        Some(Settlement::Approved(_)) => {
            // The scheduler settles the gate itself when the run resumes.
            record.job_mut(&job.id).state = JobState::Pending;
            format!(
                "approved `{}` as {identity} ({approvals} of {required}).\ncontinue the run with:\n    cdl resume {}",
                job.id, record.id
            )
        }
        _ => format!(
            "approved `{}` as {identity} ({approvals} of {required}); {} more approval{} needed:\n    cdl approve {} --run {} --as OTHER",
            job.id,
            required - approvals,
            if required - approvals == 1 { "" } else { "s" },
            job.id,
            record.id
        ),
    };
    save(store, &record)?;
    Ok(message)
}

fn set(record: &mut RunRecord, gate: &Job, settlement: Settlement) {
    let (state, reason) = settlement.outcome();
    let r = record.job_mut(&gate.id);
    r.state = state;
    r.reason = Some(reason);
}

fn save(store: &Store, record: &RunRecord) -> Result<(), String> {
    store
        .save(record)
        .map_err(|e| format!("cannot write the run record: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gate(required: u32, timeout: Option<u64>) -> Job {
        let text = "pipeline p { stage s { gate g { approvers = [\"a\", \"b\", \"c\"] } } }";
        let compilation = crate::compile::compile_text("p.cdl", None, text.into());
        let mut job = crate::plan::build(&compilation).unwrap().jobs[0].clone();
        job.required = Some(required);
        job.timeout_seconds = timeout;
        job
    }

    fn record(decisions: &[(&str, bool)], since: Option<u64>) -> JobRecord {
        let mut r: JobRecord = serde_json::from_value(serde_json::json!({
            "state": "waiting", "reason": null, "attempts": [], "decisions": [],
            "waiting_since_ms": since, "artifact_digests": {}
        }))
        .unwrap();
        r.decisions = decisions
            .iter()
            .map(|(by, approved)| Decision {
                by: by.to_string(),
                approved: *approved,
                at_ms: 5,
                comment: None,
            })
            .collect();
        r
    }

    #[test]
    fn settlement_follows_decisions_and_the_timeout() {
        let g2 = gate(2, Some(10));
        let since = Some(1_000);
        assert_eq!(settle(&g2, &record(&[], since), false, 1_000), None);
        assert_eq!(
            settle(&g2, &record(&[("a", true)], since), false, 1_500),
            None
        );
        // One person twice counts once.
        assert_eq!(
            settle(
                &g2,
                &record(&[("a", true), ("a", true)], since),
                false,
                1_500
            ),
            None
        );
        assert_eq!(
            settle(
                &g2,
                &record(&[("a", true), ("b", true)], since),
                false,
                1_500
            ),
            Some(Settlement::Approved(vec!["a".into(), "b".into()]))
        );
        assert_eq!(
            settle(
                &g2,
                &record(&[("a", true), ("b", false)], since),
                false,
                1_500
            ),
            Some(Settlement::Rejected("b".into()))
        );
        // At the deadline, too few approvals reject; enough approvals given before still count.
        assert_eq!(
            settle(&g2, &record(&[("a", true)], since), false, 11_000),
            Some(Settlement::TimedOut)
        );
        assert_eq!(
            settle(&g2, &record(&[], since), true, 11_000),
            Some(Settlement::Approved(vec![]))
        );
        assert_eq!(
            settle(&gate(1, None), &record(&[], None), false, u64::MAX),
            None
        );
        assert_eq!(
            deadline_ms(&g2, &record(&[], Some(u64::MAX))),
            Some(u64::MAX)
        );
    }
}
