//! `report.html`: one self-contained page per run — the graph coloured by outcome, each job's
//! duration, attempts and log tail, the gates' decisions, the artifact digests.

use std::collections::HashMap;
use std::fmt::Write;

use super::junit::log_tail;
use super::record::{JobState, RunRecord, Store, format_elapsed, format_time};
use crate::graph::svg::Outcome;
use crate::xml::escape;

fn outcome(state: JobState) -> Outcome {
    match state {
        JobState::Succeeded => Outcome::Passed,
        JobState::Failed => Outcome::Failed,
        JobState::Skipped => Outcome::Skipped,
        JobState::Waiting => Outcome::Waiting,
        JobState::Running => Outcome::Running,
        JobState::Pending => Outcome::Pending,
        JobState::Cancelled => Outcome::Cancelled,
    }
}

const STYLE: &str = "body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;margin:24px;color:#1f2328}\
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px}.meta{color:#57606a}\
.graph{overflow-x:auto;border:1px solid #d0d7de;border-radius:8px;padding:12px;background:#fff}\
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:6px 10px;border-bottom:1px solid #d0d7de;vertical-align:top}\
th{background:#f6f8fa}.passed{color:#1a7f37}.failed,.cancelled{color:#cf222e}.skipped,.pending{color:#57606a}.waiting{color:#9a6700}\
pre{background:#f6f8fa;padding:8px;border-radius:6px;overflow-x:auto;margin:6px 0 0;font-size:12px}\
code{font-size:12px}.status{font-weight:bold;text-transform:uppercase}";

pub fn render(record: &RunRecord, store: &Store) -> String {
    let outcomes: HashMap<String, Outcome> = record
        .plan
        .jobs
        .iter()
        .map(|j| (j.id.clone(), outcome(record.job(&j.id).state)))
        .collect();
    let graph = crate::graph::svg(
        &record.plan,
        &crate::graph::layout(&record.plan),
        Some(&outcomes),
    );
    let status = format!("{:?}", record.status).to_lowercase();
    let mut html = format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{} — run {}</title><style>{STYLE}</style></head><body>\n",
        escape(&record.pipeline),
        escape(&record.id)
    );
    let duration = record
        .finished_ms
        .map(|f| format_elapsed(f.saturating_sub(record.started_ms)))
        .unwrap_or_else(|| "—".into());
    let _ = writeln!(
        html,
        "<h1>{} <span class=\"status {status}\">{status}</span></h1><div class=\"meta\">run {} · started {} · took {duration} · branch {} · tag {} · event {}</div>",
        escape(&record.pipeline),
        escape(&record.id),
        format_time(record.started_ms),
        escape(record.branch.as_deref().unwrap_or("-")),
        escape(record.tag.as_deref().unwrap_or("-")),
        escape(&record.event)
    );
    let _ = writeln!(html, "<h2>Graph</h2><div class=\"graph\">{graph}</div>");
    html.push_str("<h2>Jobs</h2><table><tr><th>job</th><th>stage</th><th>result</th><th>attempts</th><th>duration</th><th>details</th></tr>\n");
    for job in &record.plan.jobs {
        let r = record.job(&job.id);
        let state = r.state.as_str();
        let mut details = r
            .reason
            .as_ref()
            .map(|reason| escape(reason))
            .unwrap_or_default();
        let tail = log_tail(store, &record.id, &job.id, 20);
        if !tail.is_empty() {
            let _ = write!(
                details,
                "<details><summary>log tail</summary><pre>{}</pre></details>",
                escape(&tail)
            );
        }
        let _ = writeln!(
            html,
            "<tr class=\"job\" data-job=\"{}\"><td><code>{}</code></td><td>{}</td><td class=\"{state}\">{state}</td><td>{}</td><td>{}</td><td>{details}</td></tr>",
            escape(&job.id),
            escape(&job.id),
            escape(&job.stage),
            r.attempts.len(),
            if r.attempts.is_empty() {
                "—".to_string()
            } else {
                format_elapsed(r.duration_ms())
            }
        );
    }
    html.push_str("</table>\n");
    html.push_str(&super::reports::html(store, record));
    let gates: Vec<_> = record
        .plan
        .jobs
        .iter()
        .filter(|j| j.job_type == crate::plan::JobType::Gate)
        .collect();
    if !gates.is_empty() {
        // i12: say how the approvers' identities are known.
        let identities = match record.identities {
            super::record::Identities::Asserted => {
                "Identities were <b>asserted</b> with <code>--as</code>, not proved: the pipeline sets no <code>allowed_signers</code>."
            }
            super::record::Identities::Signed => {
                "Identities are <b>signed</b>: each decision was verified against the pipeline's <code>allowed_signers</code>; <code>cdl verify</code> re-checks them."
            }
        };
        let _ = writeln!(
            html,
            "<h2>Gates</h2><p class=\"identities\">{identities}</p>"
        );
        html.push_str("<table><tr><th>gate</th><th>approvers</th><th>decisions</th></tr>\n");
        for gate in gates {
            let decisions: Vec<String> = record
                .job(&gate.id)
                .decisions
                .iter()
                .map(|d| {
                    format!(
                        "{} by <b>{}</b> at {}{}",
                        if d.approved { "approved" } else { "rejected" },
                        escape(&d.by),
                        format_time(d.at_ms),
                        d.comment
                            .as_ref()
                            .map(|c| format!(" — {}", escape(c)))
                            .unwrap_or_default()
                    )
                })
                .collect();
            let _ = writeln!(
                html,
                "<tr><td><code>{}</code></td><td>{} ({} required)</td><td>{}</td></tr>",
                escape(&gate.id),
                escape(&gate.approvers.join(", ")),
                gate.required.unwrap_or(1),
                if decisions.is_empty() {
                    "none yet".to_string()
                } else {
                    decisions.join("<br>")
                }
            );
        }
        html.push_str("</table>\n");
    }
    if !record.artifacts.is_empty() {
        html.push_str(
            "<h2>Artifacts</h2><table><tr><th>artifact</th><th>manifest SHA-256</th><th>contents</th></tr>\n",
        );
        for (name, artifact) in &record.artifacts {
            let _ = writeln!(
                html,
                "<tr><td><code>{}</code></td><td><code>{}</code></td><td>{} entries, {} bytes</td></tr>",
                escape(name),
                artifact.digest,
                artifact.entries,
                artifact.size
            );
        }
        html.push_str("</table>\n");
    }
    html.push_str("</body></html>\n");
    html
}
