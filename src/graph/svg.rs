//! SVG from the layered layout, without Graphviz: stage bands, a shape per job form, curved
//! edges for explicit needs, and — for a run report — each job coloured by its outcome.

use std::collections::HashMap;
use std::fmt::Write;

use super::layout::{BOX_HEIGHT, Layout, STAGE_PADDING};
use crate::plan::JobType;
use crate::plan::Plan;

/// A job's result, for colouring.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Passed,
    Failed,
    Skipped,
    Waiting,
    Running,
    Pending,
    Cancelled,
}

impl Outcome {
    fn colours(self) -> (&'static str, &'static str) {
        match self {
            Outcome::Passed => ("#dafbe1", "#1a7f37"),
            Outcome::Failed => ("#ffebe9", "#cf222e"),
            Outcome::Skipped => ("#f6f8fa", "#8c959f"),
            Outcome::Waiting => ("#fff8c5", "#9a6700"),
            Outcome::Running => ("#ddf4ff", "#0969da"),
            Outcome::Pending => ("#ffffff", "#57606a"),
            Outcome::Cancelled => ("#eaeef2", "#6e7781"),
        }
    }
}

pub fn render(plan: &Plan, layout: &Layout, outcomes: Option<&HashMap<String, Outcome>>) -> String {
    let margin = 12.0;
    let (width, height) = (layout.width + 2.0 * margin, layout.height + 2.0 * margin);
    let mut out = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width:.0}\" height=\"{height:.0}\" viewBox=\"{} {} {width:.0} {height:.0}\" font-family=\"ui-monospace, SFMono-Regular, Menlo, monospace\" font-size=\"13\">\n",
        -margin, -margin
    );
    let _ = writeln!(out, "<title>{}</title>", escape(&plan.pipeline.name));
    out.push_str("<defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"7\" markerHeight=\"7\" orient=\"auto-start-reverse\"><path d=\"M 0 0 L 10 5 L 0 10 z\" fill=\"#57606a\"/></marker></defs>\n");
    for stage in &layout.stages {
        let _ = writeln!(
            out,
            "<g class=\"stage\"><rect x=\"{:.1}\" y=\"0\" width=\"{:.1}\" height=\"{:.1}\" rx=\"10\" fill=\"#f6f8fa\" stroke=\"#d0d7de\"/><text x=\"{:.1}\" y=\"20\" font-weight=\"bold\" fill=\"#57606a\">{}</text></g>",
            stage.x,
            stage.width,
            layout.height,
            stage.x + STAGE_PADDING,
            escape(&stage.name)
        );
    }
    for job in &plan.jobs {
        let Some(to) = layout.boxes.get(&job.id) else {
            continue;
        };
        for need in &job.needs {
            let Some(from) = layout.boxes.get(need) else {
                continue;
            };
            let (x1, y1) = (from.x + from.width, from.y + BOX_HEIGHT / 2.0);
            let (x2, y2) = (to.x, to.y + BOX_HEIGHT / 2.0);
            let bend = ((x2 - x1).abs() / 2.0).max(20.0);
            let _ = writeln!(
                out,
                "<path class=\"edge\" d=\"M {x1:.1} {y1:.1} C {:.1} {y1:.1}, {:.1} {y2:.1}, {x2:.1} {y2:.1}\" fill=\"none\" stroke=\"#8c959f\" stroke-width=\"1.4\" marker-end=\"url(#arrow)\"/>",
                x1 + bend,
                x2 - bend
            );
        }
    }
    for job in &plan.jobs {
        let Some(placed) = layout.boxes.get(&job.id) else {
            continue;
        };
        let outcome = outcomes
            .and_then(|o| o.get(&job.id))
            .copied()
            .unwrap_or(Outcome::Pending);
        let (fill, stroke) = outcome.colours();
        let (x, y, w, h) = (placed.x, placed.y, placed.width, BOX_HEIGHT);
        let shape = match job.job_type {
            JobType::Gate => format!(
                "<polygon points=\"{:.1},{:.1} {:.1},{y:.1} {:.1},{y:.1} {:.1},{:.1} {:.1},{:.1} {:.1},{:.1}\"",
                x,
                y + h / 2.0,
                x + 12.0,
                x + w - 12.0,
                x + w,
                y + h / 2.0,
                x + w - 12.0,
                y + h,
                x + 12.0,
                y + h
            ),
            JobType::Deploy => format!(
                "<polygon points=\"{:.1},{:.1} {:.1},{y:.1} {:.1},{y:.1} {:.1},{:.1}\"",
                x,
                y + h,
                x + 10.0,
                x + w,
                x + w - 10.0,
                y + h
            ),
            JobType::Test => format!(
                "<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{w:.1}\" height=\"{h:.1}\" rx=\"20\""
            ),
            JobType::Artifact => format!(
                "<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{w:.1}\" height=\"{h:.1}\" rx=\"10\""
            ),
            JobType::Job => format!(
                "<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{w:.1}\" height=\"{h:.1}\" rx=\"3\""
            ),
        };
        let _ = writeln!(
            out,
            "<g class=\"job {}\" data-job=\"{}\">{shape} fill=\"{fill}\" stroke=\"{stroke}\" stroke-width=\"1.6\"/><text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" font-weight=\"bold\">{}</text><text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" font-size=\"11\" fill=\"#57606a\">{}</text></g>",
            format!("{outcome:?}").to_lowercase(),
            escape(&job.id),
            x + w / 2.0,
            y + 19.0,
            escape(&super::label(job)),
            x + w / 2.0,
            y + 35.0,
            escape(&super::form(job))
        );
    }
    out.push_str("</svg>\n");
    out
}

pub use crate::xml::escape;
