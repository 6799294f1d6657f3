//! `cdl verify`: re-checks a run record as an auditor would, and prints its audit trail — who
//! approved which build, when, with which key — exiting non-zero on any mismatch.
//!
//! Signatures are verified against a trust file *outside* the run folder (the pipeline's
//! current `allowed_signers`, or one given), so revoking a key revokes its old approvals too;
//! the copy kept in the run only shows what was trusted when the run started.

use std::path::{Path, PathBuf};

use super::approval;
use super::record::{Identities, JobState, RunRecord, Store, format_time};
use super::signature;
use crate::plan::Job;
use crate::plan::JobType;

/// What `cdl verify` found: the trail to print and every problem.
pub struct Audit {
    pub trail: Vec<String>,
    pub problems: Vec<String>,
}

pub fn audit(store: &Store, id: &str, trust: Option<&Path>) -> Result<Audit, String> {
    let record = store.load(id)?;
    let mut audit = Audit {
        trail: Vec::new(),
        problems: Vec::new(),
    };
    audit.trail.push(format!(
        "run {} of `{}` ({}), started {}, {}",
        record.id,
        record.pipeline,
        record.file.display(),
        format_time(record.started_ms),
        serde_json::to_value(record.status)
            .map_or_else(|_| String::new(), |v| v.as_str().unwrap_or("").to_string())
    ));
    let trust: Option<PathBuf> = match record.identities {
        Identities::Asserted => {
            audit.trail.push(
                "identities: asserted with --as, not proved (the pipeline sets no allowed_signers)"
                    .into(),
            );
            None
        }
        Identities::Signed => {
            let trust = trust
                .map(Path::to_path_buf)
                .or_else(|| signature::trust_file(&record))
                .ok_or("the run is signed but names no allowed_signers file")?;
            audit.trail.push(format!(
                "identities: signed; verified against {} (outside the run folder)",
                trust.display()
            ));
            let pinned = signature::pinned_signers(store, &record);
            if std::fs::read(&pinned).ok() != std::fs::read(&trust).ok() {
                audit.trail.push(format!(
                    "note: {} differs from the allowed_signers the run started with ({})",
                    trust.display(),
                    pinned.display()
                ));
            }
            Some(trust)
        }
    };
    for gate in record
        .plan
        .jobs
        .iter()
        .filter(|j| j.job_type == JobType::Gate)
    {
        audit_gate(store, &record, gate, trust.as_deref(), &mut audit);
    }
    for deploy in record
        .plan
        .jobs
        .iter()
        .filter(|j| j.job_type == JobType::Deploy)
    {
        audit_deploy(&record, deploy, &mut audit);
    }
    Ok(audit)
}

fn audit_gate(
    store: &Store,
    record: &RunRecord,
    gate: &Job,
    trust: Option<&Path>,
    audit: &mut Audit,
) {
    let state = record.job(&gate.id);
    audit.trail.push(format!(
        "gate {} ({}): {}",
        gate.id,
        approval::approvers_text(&record.plan, gate),
        state.state.as_str()
    ));
    let mut proved = Vec::new();
    let mut keys: Vec<String> = Vec::new();
    for (index, decision) in state.decisions.iter().enumerate() {
        let verb = if decision.approved {
            "approved"
        } else {
            "rejected"
        };
        let mut line = format!(
            "  {verb} by {} at {}",
            decision.by,
            format_time(decision.at_ms)
        );
        if decision.by == approval::AUTO_APPROVED {
            line = format!(
                "  {verb} automatically (--auto-approve) at {}; no person",
                format_time(decision.at_ms)
            );
        }
        match trust {
            None => line.push_str(" (asserted)"),
            Some(trust) if decision.by != approval::AUTO_APPROVED => {
                match signature::verify(store, record, gate, index, trust) {
                    Ok(key) => {
                        line.push_str(&format!(" (signature good, key {key})"));
                        if decision.approved && keys.contains(&key) {
                            audit.problems.push(format!(
                                "{}: {} signed with key {key}, which already approved as someone else",
                                gate.id, decision.by
                            ));
                        } else {
                            keys.push(key);
                            proved.push(decision.clone());
                        }
                    }
                    Err(problem) => audit.problems.push(problem),
                }
            }
            Some(_) => {}
        }
        if let (Some(timeout), Some(since)) = (gate.timeout_seconds, state.waiting_since_ms)
            && decision.at_ms > since + timeout * 1000
        {
            audit.problems.push(format!(
                "{}: {} decided at {}, after the gate's timeout",
                gate.id,
                decision.by,
                format_time(decision.at_ms)
            ));
        }
        if let Some(comment) = &decision.comment {
            line.push_str(&format!(": {comment:?}"));
        }
        audit.trail.push(line);
    }
    if state.state != JobState::Succeeded {
        return;
    }
    let decisions = if trust.is_some() {
        proved
    } else {
        state.decisions.clone()
    };
    let people = approval::counted(&record.plan, gate, &decisions);
    let required = gate.required.unwrap_or(1) as usize;
    let automatic = state
        .decisions
        .iter()
        .any(|d| d.by == approval::AUTO_APPROVED);
    if state.decisions.iter().any(|d| !d.approved) {
        audit
            .problems
            .push(format!("{} succeeded although it was rejected", gate.id));
    } else if people.len() < required && !(automatic && trust.is_none()) {
        audit.problems.push(format!(
            "{} succeeded with {} proved approval{} of {required} required",
            gate.id,
            people.len(),
            if people.len() == 1 { "" } else { "s" }
        ));
    }
}

/// A deploy that ran shipped the artifacts the run built, and, when its environment requires
/// promotion, the same bytes the source environment got.
fn audit_deploy(record: &RunRecord, deploy: &Job, audit: &mut Audit) {
    let state = record.job(&deploy.id);
    if state.state != JobState::Succeeded {
        return;
    }
    let mut line = format!("deploy {}:", deploy.id);
    for (name, digest) in &state.artifact_digests {
        line.push_str(&format!(" {name} sha256:{digest}"));
        if record.artifacts.get(name).map(|a| &a.digest) != Some(digest) {
            audit.problems.push(format!(
                "{} shipped {name} with a digest the run did not build",
                deploy.id
            ));
        }
    }
    audit.trail.push(line);
    let plan = &record.plan;
    let Some(environment) = plan
        .environments
        .iter()
        .find(|e| Some(&e.name) == deploy.environment.as_ref())
    else {
        return;
    };
    if let Some(source) = &environment.requires.promotion_from {
        for (name, digest) in &state.artifact_digests {
            let promoted = plan.jobs.iter().any(|j| {
                j.job_type == JobType::Deploy
                    && j.environment.as_ref() == Some(source)
                    && record.job(&j.id).state == JobState::Succeeded
                    && record.job(&j.id).artifact_digests.get(name) == Some(digest)
            });
            if !promoted {
                audit.problems.push(format!(
                    "{} shipped {name} sha256:{digest}, which no successful deploy to {source} shipped",
                    deploy.id
                ));
            }
        }
    }
}
