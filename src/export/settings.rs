//! The settings file: the protected environments that stand for gates, which a CI
//! configuration file cannot set up itself (who may approve, how many must). Schema
//! `cdl.environments/v1`, described in `docs/export.md`.

use serde::Serialize;

use crate::plan::{Job, Plan};

pub const SCHEMA: &str = "cdl.environments/v1";

#[derive(Serialize)]
struct Settings<'p> {
    schema: &'static str,
    target: &'static str,
    pipeline: &'p str,
    environments: Vec<ProtectedEnvironment<'p>>,
}

#[derive(Serialize)]
struct ProtectedEnvironment<'p> {
    /// The environment the gate's job is bound to.
    name: String,
    /// The gate's job id.
    gate: &'p str,
    message: Option<&'p str>,
    /// People or groups who may approve: GitHub's required reviewers, GitLab's users and
    /// groups allowed to deploy.
    approvers: &'p [String],
    required_approvals: u32,
    /// GitHub's wait timer: always 0, since cdl has no delay before a gate; null elsewhere.
    wait_timer_minutes: Option<u32>,
    /// The gate's timeout, which neither system enforces (a W0200 warning says so).
    timeout_minutes: Option<u64>,
    /// The teams among `approvers` (`@NAME`), with their members and what they become on
    /// the target; absent when the gate names no team.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    teams: Vec<TeamSetting<'p>>,
}

#[derive(Serialize)]
struct TeamSetting<'p> {
    name: &'p str,
    members: &'p [String],
    /// What to create on the target: a GitHub team (as a required reviewer), a GitLab group
    /// (allowed to deploy), a CircleCI security group (of the restricted context).
    target_kind: &'static str,
}

/// What a cdl team becomes on `target`.
fn team_kind(target: &str) -> &'static str {
    match target {
        "github" => "github-team",
        "gitlab" => "gitlab-group",
        "circleci" => "circleci-security-group",
        _ => "group",
    }
}

/// The approvers as the target names them: `@release-managers` becomes the team or group
/// `release-managers`; people stay as written.
pub fn approver_names(approvers: &[String]) -> Vec<String> {
    approvers
        .iter()
        .map(|a| a.strip_prefix('@').unwrap_or(a).to_string())
        .collect()
}

/// The settings file for `gates`, each with the name of its protected environment; `None`
/// when there is no gate.
pub fn render(
    target: &'static str,
    plan: &Plan,
    gates: &[(String, &Job)],
    wait_timer: Option<u32>,
) -> Option<String> {
    if gates.is_empty() {
        return None;
    }
    let settings = Settings {
        schema: SCHEMA,
        target,
        pipeline: &plan.pipeline.name,
        environments: gates
            .iter()
            .map(|(name, job)| ProtectedEnvironment {
                name: name.clone(),
                gate: &job.id,
                message: job.message.as_deref(),
                approvers: &job.approvers,
                required_approvals: job.required.unwrap_or(1),
                wait_timer_minutes: wait_timer,
                timeout_minutes: job.timeout_seconds.map(|s| s.div_ceil(60)),
                teams: job
                    .approvers
                    .iter()
                    .filter_map(|a| a.strip_prefix('@'))
                    .filter_map(|name| plan.teams.iter().find(|t| t.name == name))
                    .map(|team| TeamSetting {
                        name: &team.name,
                        members: &team.members,
                        target_kind: team_kind(target),
                    })
                    .collect(),
            })
            .collect(),
    };
    let mut text = serde_json::to_string_pretty(&settings).expect("settings serialise");
    text.push('\n');
    Some(text)
}
