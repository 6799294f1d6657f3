//! Graphviz DOT: a cluster per stage, a shape per job form, edges for explicit needs and an
//! invisible chain that keeps the stages in order from left to right.

use std::fmt::Write;

use crate::plan::JobType;
use crate::plan::Plan;

pub fn render(plan: &Plan) -> String {
    let mut out = format!("digraph {} {{\n", quote(&plan.pipeline.name));
    out.push_str("  rankdir=LR;\n  compound=true;\n  node [fontname=\"monospace\", fontsize=11, style=filled, fillcolor=\"#f6f8fa\"];\n");
    for (s, stage) in plan.stages.iter().enumerate() {
        let _ = writeln!(out, "  subgraph cluster_{s} {{");
        let _ = writeln!(
            out,
            "    label={};\n    style=rounded;\n    color=\"#8c959f\";",
            quote(&format!("stage {}", stage.name))
        );
        if stage.jobs.is_empty() {
            let _ = writeln!(
                out,
                "    empty_{s} [label=\"(no jobs)\", shape=plaintext, style=\"\"];"
            );
        }
        for id in &stage.jobs {
            let Some(job) = plan.job(id) else { continue };
            let shape = match job.job_type {
                JobType::Gate => "hexagon",
                JobType::Deploy => "parallelogram",
                JobType::Artifact => "cylinder",
                JobType::Test => "box, style=\"rounded,filled\"",
                JobType::Job => "box",
            };
            let label = format!("{}\n{}", super::label(job), super::form(job));
            let _ = writeln!(
                out,
                "    {} [label={}, shape={shape}];",
                quote(id),
                quote(&label)
            );
        }
        out.push_str("  }\n");
    }
    for job in &plan.jobs {
        for need in &job.needs {
            let _ = writeln!(out, "  {} -> {};", quote(need), quote(&job.id));
        }
    }
    // Keep stage order visible: the first job of each stage after the first of the previous.
    let firsts: Vec<String> = plan
        .stages
        .iter()
        .enumerate()
        .map(|(s, stage)| {
            stage
                .jobs
                .first()
                .map_or(format!("empty_{s}"), |j| quote(j))
        })
        .collect();
    for pair in firsts.windows(2) {
        let _ = writeln!(out, "  {} -> {} [style=invis];", pair[0], pair[1]);
    }
    out.push_str("}\n");
    out
}

/// A DOT string literal.
fn quote(text: &str) -> String {
    format!(
        "\"{}\"",
        text.replace('\\', "\\\\")
            .replace('"', "\\\"")
            .replace('\n', "\\n")
    )
}
