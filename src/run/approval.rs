//! Who may decide a gate and whose approvals count: people named in `approvers`, members of
//! the teams named as `@TEAM`; automatic approvals name no person; `--auto-approve` may not
//! decide a gate guarding `requires approval` when approvals must be signed.

use std::collections::HashSet;

use crate::plan::JobType;
use crate::plan::{Job, Plan};

use super::record::Decision;

/// The `by` of a decision made by `--auto-approve`: never a person's name.
pub const AUTO_APPROVED: &str = "auto-approved";

/// Whether `person` may decide `gate`. Empty names, names with a control character (they
/// could forge lines of a signed message) and [`AUTO_APPROVED`] never may.
pub fn may_decide(plan: &Plan, gate: &Job, person: &str) -> bool {
    person != AUTO_APPROVED
        && !person.chars().any(char::is_control)
        && plan.may_approve(&gate.approvers, person)
}

/// The gate's approvers in words, teams with their members:
/// `dave, @release-managers (alice, bob)`.
pub fn approvers_text(plan: &Plan, gate: &Job) -> String {
    gate.approvers
        .iter()
        .map(|approver| match approver.strip_prefix('@') {
            Some(team) => match plan.teams.iter().find(|t| t.name == team) {
                Some(t) => format!("{approver} ({})", t.members.join(", ")),
                None => approver.clone(),
            },
            None => approver.clone(),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The distinct people whose approvals of `gate` count: approvals by someone who may decide
/// it, each person once, in the order given. Automatic approvals are not people.
pub fn counted<'d>(plan: &Plan, gate: &Job, decisions: &'d [Decision]) -> Vec<&'d str> {
    let mut seen = HashSet::new();
    decisions
        .iter()
        .filter(|d| d.approved && may_decide(plan, gate, &d.by))
        .map(|d| d.by.as_str())
        .filter(|by| seen.insert(*by))
        .collect()
}

/// An environment that requires approval and is deployed to after `gate` (in a later stage,
/// or by a deploy that reaches the gate through its needs).
pub fn protected_environment<'p>(plan: &'p Plan, gate: &Job) -> Option<&'p str> {
    let stage_of = |job: &Job| plan.stages.iter().position(|s| s.name == job.stage);
    let gate_stage = stage_of(gate);
    plan.jobs
        .iter()
        .filter(|j| j.job_type == JobType::Deploy)
        .filter(|deploy| {
            let environment = deploy.environment.as_deref().unwrap_or("");
            plan.environments
                .iter()
                .any(|e| e.name == environment && e.requires.approval)
        })
        .find(|deploy| stage_of(deploy) > gate_stage || reaches(plan, deploy, &gate.id))
        .and_then(|deploy| deploy.environment.as_deref())
}

/// Whether `job` waits for `target` through explicit needs.
fn reaches(plan: &Plan, job: &Job, target: &str) -> bool {
    let mut seen: HashSet<&str> = HashSet::new();
    let mut stack: Vec<&str> = job.needs.iter().map(String::as_str).collect();
    while let Some(id) = stack.pop() {
        if id == target {
            return true;
        }
        if seen.insert(id)
            && let Some(next) = plan.jobs.iter().find(|j| j.id == id)
        {
            stack.extend(next.needs.iter().map(String::as_str));
        }
    }
    false
}

/// Why `--auto-approve` may not decide `gate`, if it may not: approvals are signed
/// (`allowed_signers`) and the gate guards an environment that requires approval.
pub fn auto_approval_refused(plan: &Plan, gate: &Job) -> Option<String> {
    plan.pipeline.allowed_signers.as_ref()?;
    let environment = protected_environment(plan, gate)?;
    Some(format!(
        "--auto-approve may not decide `{}`: it guards `{environment}`, which requires approval, and the pipeline's approvals must be signed (allowed_signers); approve it with `cdl approve {} --as WHO`",
        gate.id, gate.id
    ))
}
