//! Gate settlement, once: how a gate's decisions and timeout decide it, used by the scheduler
//! (when a gate opens, after a prompt) and by `cdl approve` / `cdl reject`.
//!
//! A decision is who, when, approve or reject, and a comment ([`Decision`]); more fields (a
//! signature, an automatic approval) can be added without changing how a gate settles.

use std::path::Path;

use super::record::{
    Decision, Identities, JobRecord, JobState, RunRecord, Store, format_time, now_ms,
};
use super::{approval, lock, signature};
use crate::plan::JobType;
use crate::plan::{Job, Plan};

/// How a gate's decisions decide it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Settlement {
    /// Enough distinct approvers: the names, in the order they decided.
    Approved(Vec<String>),
    /// `--auto-approve`, where it may decide the gate: no person approved.
    AutoApproved,
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
            Settlement::AutoApproved => (
                JobState::Succeeded,
                "auto-approved (--auto-approve): no person approved".to_string(),
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
/// approvals; the timeout wins over approvals that are still too few. Only `proved`
/// decisions (see [`proved_decisions`]) by people who may decide count, each person once
/// ([`approval::counted`]); an automatic approval counts only where `--auto-approve` may
/// decide the gate.
pub fn settle(
    plan: &Plan,
    gate: &Job,
    record: &JobRecord,
    proved: &[Decision],
    now: u64,
) -> Option<Settlement> {
    if let Some(rejection) = record.decisions.iter().find(|d| !d.approved) {
        return Some(Settlement::Rejected(rejection.by.clone()));
    }
    let approvers: Vec<String> = approval::counted(plan, gate, proved)
        .into_iter()
        .map(str::to_string)
        .collect();
    if approvers.len() as u32 >= gate.required.unwrap_or(1) {
        return Some(Settlement::Approved(approvers));
    }
    let automatic = record
        .decisions
        .iter()
        .any(|d| d.approved && d.by == approval::AUTO_APPROVED)
        && approval::auto_approval_refused(plan, gate).is_none();
    if automatic {
        return Some(Settlement::AutoApproved);
    }
    if deadline_ms(gate, record).is_some_and(|deadline| now >= deadline) {
        return Some(Settlement::TimedOut);
    }
    None
}

/// The decisions of a gate that count. With `allowed_signers`, only those whose signature
/// verifies for their principal against the trust file pinned at the start, one per key
/// (whichever principals allowed_signers lists it for).
pub fn proved_decisions(store: &Store, record: &RunRecord, gate: &Job) -> Vec<Decision> {
    let decisions = &record.job(&gate.id).decisions;
    if record.identities != Identities::Signed {
        return decisions.clone();
    }
    let pinned = signature::pinned_signers(store, record);
    let mut keys: Vec<String> = Vec::new();
    let mut proved = Vec::new();
    for (i, decision) in decisions.iter().enumerate() {
        if let Ok(key) = signature::verify(store, record, gate, i, &pinned)
            && !keys.contains(&key)
        {
            keys.push(key);
            proved.push(decision.clone());
        }
    }
    proved
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
    key: Option<&Path>,
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
    // Teams count their members; empty names never decide.
    if !approval::may_decide(&record.plan, &job, identity) {
        return Err(format!(
            "`{identity}` may not decide the gate `{}`: its approvers are {}",
            job.id,
            approval::approvers_text(&record.plan, &job)
        ));
    }
    let now = now_ms();
    if deadline_ms(&job, record.job(&job.id)).is_some_and(|deadline| now >= deadline) {
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
    if record.identities == Identities::Signed {
        // Sign with the approver's key, and accept only what verifies for them.
        let index = record.job(&job.id).decisions.len() - 1;
        let key = key.map_or_else(signature::default_key, Path::to_path_buf);
        signature::sign(store, &record, &job, index, &key)?;
        let pinned = signature::pinned_signers(store, &record);
        let fingerprint = signature::verify(store, &record, &job, index, &pinned).map_err(|e| {
            format!(
                "{e}: is {} a key allowed_signers lists for `{identity}`?",
                key.display()
            )
        })?;
        for earlier in 0..index {
            if signature::verify(store, &record, &job, earlier, &pinned).as_ref()
                == Ok(&fingerprint)
            {
                return Err(format!(
                    "the key {fingerprint} already decided `{}` as `{}`; one key decides once",
                    job.id,
                    record.job(&job.id).decisions[earlier].by
                ));
            }
        }
    }
    let proved = proved_decisions(store, &record, &job);
    let approvals = approval::counted(&record.plan, &job, &proved).len() as u32;
    let required = job.required.unwrap_or(1);
    let message = match settle(&record.plan, &job, record.job(&job.id), &proved, now) {
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
    crate::failpoint!("decision-recording");
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

    fn plan() -> Plan {
        let text = "pipeline p { stage s { gate g { approvers = [\"a\", \"b\", \"c\"] } } }";
        let compilation = crate::compile::compile_text("p.cdl", None, text.into());
        crate::plan::build(&compilation).unwrap()
    }

    fn gate(required: u32, timeout: Option<u64>) -> Job {
        let mut job = plan().jobs[0].clone();
        job.required = Some(required);
        job.timeout_seconds = timeout;
        job
    }

    /// `settle` with every recorded decision counted (approvals not signed).
    fn settled(gate: &Job, record: &JobRecord, now: u64) -> Option<Settlement> {
        settle(&plan(), gate, record, &record.decisions, now)
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
        assert_eq!(settled(&g2, &record(&[], since), 1_000), None);
        assert_eq!(settled(&g2, &record(&[("a", true)], since), 1_500), None);
        // One person twice counts once.
        assert_eq!(
            settled(&g2, &record(&[("a", true), ("a", true)], since), 1_500),
            None
        );
        assert_eq!(
            settled(&g2, &record(&[("a", true), ("b", true)], since), 1_500),
            Some(Settlement::Approved(vec!["a".into(), "b".into()]))
        );
        assert_eq!(
            settled(&g2, &record(&[("a", true), ("b", false)], since), 1_500),
            Some(Settlement::Rejected("b".into()))
        );
        // At the deadline, too few approvals reject; enough approvals given before still count.
        assert_eq!(
            settled(&g2, &record(&[("a", true)], since), 11_000),
            Some(Settlement::TimedOut)
        );
        // An automatic approval decides the gate, and names no person.
        assert_eq!(
            settled(
                &g2,
                &record(&[(approval::AUTO_APPROVED, true)], since),
                11_000
            ),
            Some(Settlement::AutoApproved)
        );
        // A name that is not an approver does not count.
        assert_eq!(
            settled(
                &g2,
                &record(&[("a", true), ("mallory", true)], since),
                1_500
            ),
            None
        );
        assert_eq!(settled(&gate(1, None), &record(&[], None), u64::MAX), None);
        assert_eq!(
            deadline_ms(&g2, &record(&[], Some(u64::MAX))),
            Some(u64::MAX)
        );
    }
}
