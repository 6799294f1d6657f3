//! Mermaid `flowchart LR`, which GitHub renders in markdown: a subgraph per stage, a shape per
//! job form (gates as hexagons, deploys as parallelograms, artifacts as cylinders).

use std::fmt::Write;

use crate::plan::JobType;
use crate::plan::Plan;

pub fn render(plan: &Plan) -> String {
    let ids: std::collections::HashMap<&str, String> = plan
        .jobs
        .iter()
        .enumerate()
        .map(|(i, j)| (j.id.as_str(), format!("j{i}")))
        .collect();
    let mut out = String::from("flowchart LR\n");
    for (s, stage) in plan.stages.iter().enumerate() {
        let _ = writeln!(out, "  subgraph s{s}[\"stage {}\"]", escape(&stage.name));
        let _ = writeln!(out, "    direction TB");
        for id in &stage.jobs {
            let Some(job) = plan.job(id) else { continue };
            let text = format!(
                "{}<br/><small>{}</small>",
                escape(&super::label(job)),
                escape(&super::form(job))
            );
            let node = &ids[id.as_str()];
            let shape = match job.job_type {
                JobType::Gate => format!("{node}{{{{\"{text}\"}}}}"),
                JobType::Deploy => format!("{node}[/\"{text}\"/]"),
                JobType::Artifact => format!("{node}[(\"{text}\")]"),
                JobType::Test => format!("{node}([\"{text}\"])"),
                JobType::Job => format!("{node}[\"{text}\"]"),
            };
            let _ = writeln!(out, "    {shape}");
        }
        let _ = writeln!(out, "  end");
    }
    for s in 1..plan.stages.len() {
        let _ = writeln!(out, "  s{} ==> s{s}", s - 1);
    }
    for job in &plan.jobs {
        for need in &job.needs {
            let _ = writeln!(out, "  {} --> {}", ids[need.as_str()], ids[job.id.as_str()]);
        }
    }
    out
}

/// Mermaid labels are quoted: quotes and angle brackets become entities.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}
