//! The plan as text for `cdl plan`: stages, jobs and their needs, gates, environments, and
//! the critical path.

use std::fmt::Write;

use super::{Job, Plan};
use crate::plan::{JobType, TriggerEvent};
use crate::syntax::literal::format_duration;

/// Average recorded durations of jobs, in milliseconds, with how many runs they come from.
pub type Estimates = std::collections::HashMap<String, (u64, usize)>;

/// The plan as text; with `estimates` (from earlier runs), each stage shows its estimated
/// duration: its longest chain of jobs by their recorded durations.
pub fn render(plan: &Plan, estimates: Option<&Estimates>) -> String {
    let mut out = String::new();
    let p = &plan.pipeline;
    let _ = write!(out, "pipeline {}", p.name);
    if let Some(description) = &p.description {
        let _ = write!(out, " — {description}");
    }
    out.push('\n');
    if !plan.triggers.is_empty() {
        let triggers: Vec<String> = plan.triggers.iter().map(trigger).collect();
        let _ = writeln!(out, "  on {}", triggers.join("; "));
    }
    if !plan.environments.is_empty() {
        out.push_str("\nenvironments\n");
        let width = plan
            .environments
            .iter()
            .map(|e| e.name.len())
            .max()
            .unwrap_or(0);
        for environment in &plan.environments {
            let mut facts = Vec::new();
            if let Some(url) = &environment.url {
                facts.push(url.clone());
            }
            if let Some(n) = environment.concurrency {
                facts.push(format!("concurrency {n}"));
            }
            let r = &environment.requires;
            let mut requires = Vec::new();
            if r.approval {
                requires.push("approval".to_string());
            }
            if !r.tests.is_empty() {
                requires.push(format!("tests [{}]", r.tests.join(", ")));
            }
            if let Some(from) = &r.promotion_from {
                requires.push(format!("promotion from {from}"));
            }
            if !requires.is_empty() {
                facts.push(format!("requires {}", requires.join(", ")));
            }
            let _ = writeln!(
                out,
                "  {:width$}  {}",
                environment.name,
                facts.join("  ·  ")
            );
        }
    }
    let by_id: std::collections::HashMap<&str, &Job> =
        plan.jobs.iter().map(|j| (j.id.as_str(), j)).collect();
    let finish = estimates.map(|e| finish_times(plan, e));
    for stage in &plan.stages {
        match (&finish, estimates) {
            (Some(finish), Some(estimates))
                if stage.jobs.iter().any(|id| estimates.contains_key(id)) =>
            {
                let longest = stage
                    .jobs
                    .iter()
                    .filter_map(|id| finish.get(id.as_str()))
                    .max()
                    .copied()
                    .unwrap_or(0);
                let runs = stage
                    .jobs
                    .iter()
                    .filter_map(|id| estimates.get(id))
                    .map(|(_, n)| *n)
                    .max()
                    .unwrap_or(0);
                let _ = writeln!(
                    out,
                    "\nstage {}  ≈ {} (recorded in {runs} run{})",
                    stage.name,
                    elapsed(longest),
                    if runs == 1 { "" } else { "s" }
                );
            }
            _ => {
                let _ = writeln!(out, "\nstage {}", stage.name);
            }
        }
        if stage.jobs.is_empty() {
            out.push_str("  (no jobs)\n");
        }
        let jobs: Vec<&Job> = stage
            .jobs
            .iter()
            .filter_map(|id| by_id.get(id.as_str()).copied())
            .collect();
        let heads: Vec<String> = jobs.iter().map(|j| head(j)).collect();
        let width = heads.iter().map(|h| h.chars().count()).max().unwrap_or(0);
        for (job, head) in jobs.iter().zip(&heads) {
            let details = details(job);
            if details.is_empty() {
                let _ = writeln!(out, "  {head}");
            } else {
                let pad = width - head.chars().count();
                let _ = writeln!(
                    out,
                    "  {head}{}  {}",
                    " ".repeat(pad),
                    details.join("  ·  ")
                );
            }
        }
    }
    let _ = writeln!(
        out,
        "\ncritical path ({} job{}): {}",
        plan.critical_path.len(),
        if plan.critical_path.len() == 1 {
            ""
        } else {
            "s"
        },
        plan.critical_path.join(" → ")
    );
    if let Some(finish) = &finish {
        let total: u64 = plan
            .stages
            .iter()
            .map(|stage| {
                stage
                    .jobs
                    .iter()
                    .filter_map(|id| finish.get(id.as_str()))
                    .max()
                    .copied()
                    .unwrap_or(0)
            })
            .sum();
        let _ = writeln!(
            out,
            "estimated duration: {} (stage by stage, from recorded runs)",
            elapsed(total)
        );
    }
    out
}

/// For each job, the estimated time from its stage's start to its end: its own duration after
/// the longest of its needs in the same stage.
fn finish_times<'a>(
    plan: &'a Plan,
    estimates: &Estimates,
) -> std::collections::HashMap<&'a str, u64> {
    let stage_of: std::collections::HashMap<&str, &str> = plan
        .jobs
        .iter()
        .map(|j| (j.id.as_str(), j.stage.as_str()))
        .collect();
    let mut finish: std::collections::HashMap<&str, u64> = std::collections::HashMap::new();
    for job in &plan.jobs {
        let start = job
            .needs
            .iter()
            .filter_map(|n| {
                finish
                    .get(n.as_str())
                    .filter(|_| stage_of.get(n.as_str()) == Some(&job.stage.as_str()))
            })
            .max()
            .copied()
            .unwrap_or(0);
        let own = estimates.get(&job.id).map_or(0, |(ms, _)| *ms);
        finish.insert(job.id.as_str(), start + own);
    }
    finish
}

fn trigger(t: &super::Trigger) -> String {
    match t.event {
        TriggerEvent::Push | TriggerEvent::PullRequest => {
            let name = if t.event == TriggerEvent::Push {
                "push"
            } else {
                "pull_request"
            };
            if t.branches.is_empty() {
                name.to_string()
            } else {
                format!("{name} to {}", t.branches.join(", "))
            }
        }
        TriggerEvent::Tag => format!("tag {}", t.pattern.as_deref().unwrap_or("*")),
        TriggerEvent::Schedule => format!("schedule \"{}\"", t.cron.as_deref().unwrap_or("")),
        TriggerEvent::Manual => "manual".to_string(),
    }
}

/// `deploy deploy_app_staging → staging`, `test integration on staging`, `gate approve`.
fn head(job: &Job) -> String {
    let mut head = format!("{} {}", job.job_type.as_str(), job.id);
    match (job.job_type, &job.environment) {
        (JobType::Deploy, Some(env)) => {
            let _ = write!(
                head,
                " ({} → {env})",
                job.artifact.as_deref().unwrap_or("?")
            );
        }
        (JobType::Test, Some(env)) => {
            let _ = write!(head, " on {env}");
        }
        _ => {}
    }
    if job.job_type == JobType::Test
        && job.kind.as_deref() != Some(job.name.as_str())
        && let Some(kind) = &job.kind
    {
        let _ = write!(head, " [{kind}]");
    }
    head
}

fn details(job: &Job) -> Vec<String> {
    let mut details = Vec::new();
    if !job.needs.is_empty() {
        details.push(format!("needs {}", job.needs.join(", ")));
    }
    if job.job_type == JobType::Gate {
        let required = job.required.unwrap_or(1);
        details.push(format!(
            "approvers {} ({required} of {})",
            job.approvers.join(", "),
            job.approvers.len()
        ));
    }
    if let Some(condition) = &job.condition {
        details.push(format!("when {condition}"));
    }
    if let Some(seconds) = job.timeout_seconds {
        details.push(format!("timeout {}", format_duration(seconds)));
    }
    if job.retries > 0 {
        details.push(format!("retries {}", job.retries));
    }
    if job.allow_failure {
        details.push("allow_failure".into());
    }
    if !job.secrets.is_empty() {
        details.push(format!("secrets {}", job.secrets.join(", ")));
    }
    details
}

/// `850ms`, `12s`, `3m4s`.
fn elapsed(ms: u64) -> String {
    if ms < 1000 {
        format!("{ms}ms")
    } else {
        format_duration(ms / 1000)
    }
}
