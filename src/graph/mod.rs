//! The job graph drawn: Mermaid (renders in GitHub markdown), Graphviz DOT, and SVG laid out
//! here without Graphviz. Jobs are grouped by stage, gates drawn as gates, deploys labelled
//! with their environment, edges for explicit needs (stage order is the left-to-right order).

mod dot;
mod layout;
mod mermaid;
pub mod svg;

pub use dot::render as dot;
pub use layout::{Layout, layout};
pub use mermaid::render as mermaid;
pub use svg::{Outcome, render as svg};

use crate::plan::Job;
use crate::plan::JobType;

/// The text in a job's box: `deploy app → production`, `test ui on staging`, `gate approve`.
pub fn label(job: &Job) -> String {
    match (job.job_type, &job.environment) {
        (JobType::Deploy, Some(env)) => format!("{} → {env}", job.id),
        (JobType::Test, Some(env)) => format!("{} on {env}", job.id),
        _ => job.id.clone(),
    }
}

/// A one-word description of the job's form, shown under its name.
pub fn form(job: &Job) -> String {
    match job.job_type {
        JobType::Test => format!("test · {}", job.kind.as_deref().unwrap_or("")),
        JobType::Deploy => format!("deploy · {}", job.artifact.as_deref().unwrap_or("")),
        JobType::Gate => format!("gate · {}", job.approvers.join(", ")),
        other => other.as_str().to_string(),
    }
}
