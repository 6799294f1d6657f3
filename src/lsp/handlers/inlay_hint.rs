//! `textDocument/inlayHint`: after a job's header what the file does not show: the `timeout`
//! and `retries` a test inherits from its kind (`test unit ⟨timeout = 15m⟩ {`), the name of a
//! deploy without `as`, and the conditions inherited from the jobs it waits for.

use lsp_types::{
    InlayHint, InlayHintKind, InlayHintLabel, InlayHintParams, InlayHintTooltip, Position,
};

use crate::check::inherited::inherited;
use crate::check::model::JobId;
use crate::lsp::Server;
use crate::lsp::analysis::Analysis;

pub fn inlay_hint(
    server: &Server,
    params: InlayHintParams,
) -> Result<Option<Vec<InlayHint>>, String> {
    let document = server.document(&params.text_document.uri)?;
    let Some(analysis) = document.good() else {
        return Ok(None);
    };
    Ok(Some(hints(analysis, params.range)))
}

/// The hints of the document whose position falls in `range`: after a test's header what it
/// inherits from its kind; after a deploy's header the name cdl gives it; after a job's header
/// the conditions it inherits from the jobs it waits for (skipped when one of them is).
pub fn hints(analysis: &Analysis, range: lsp_types::Range) -> Vec<InlayHint> {
    let Some(checked) = &analysis.compilation.checked else {
        return Vec::new();
    };
    let Some(pipeline) = &checked.pipeline else {
        return Vec::new();
    };
    let in_range = |position: Position| range.start <= position && position <= range.end;
    let mut hints = Vec::new();
    for job in &pipeline.jobs {
        if job.header_span.file != analysis.root() {
            continue;
        }
        let position = analysis.range(job.header_span).end;
        if !in_range(position) {
            continue;
        }
        if job.name_span == job.header_span {
            hints.push(hint(
                position,
                format!("as {}", job.name),
                format!(
                    "cdl names this deploy `{}`; write `as NAME` to choose another",
                    job.name
                ),
                InlayHintKind::TYPE,
            ));
        }
        let defaults = inherited(job, &checked.kinds);
        if let Some(first) = defaults.first() {
            let label = defaults
                .iter()
                .map(|d| format!("{} = {}", d.attribute, d.value))
                .collect::<Vec<_>>()
                .join(", ");
            hints.push(hint(
                position,
                label,
                format!(
                    "inherited from kind `{}`; set it on the test to change it",
                    first.kind
                ),
                InlayHintKind::PARAMETER,
            ));
        }
        let conditions = inherited_conditions(analysis, checked, job.id);
        if !conditions.is_empty() {
            let label = conditions
                .iter()
                .map(|(_, c)| c.as_str())
                .collect::<Vec<_>>()
                .join(" && ");
            let from = conditions
                .iter()
                .map(|(name, _)| format!("`{name}`"))
                .collect::<Vec<_>>()
                .join(", ");
            hints.push(hint(
                position,
                format!("runs only when {label}"),
                format!(
                    "waits for {from}, and is skipped when one of them is: their conditions are this job's too"
                ),
                InlayHintKind::PARAMETER,
            ));
        }
    }
    hints
}

/// The conditions (as written, in parentheses when compound) of the jobs `job` waits for
/// through explicit needs, transitively, with the job each comes from.
fn inherited_conditions(
    analysis: &Analysis,
    checked: &crate::check::Checked,
    job: JobId,
) -> Vec<(String, String)> {
    let Some(pipeline) = &checked.pipeline else {
        return Vec::new();
    };
    let mut seen = vec![false; pipeline.jobs.len()];
    let mut pending: Vec<JobId> = vec![job];
    let mut out: Vec<(String, String)> = Vec::new();
    while let Some(current) = pending.pop() {
        for need in checked.graph.needs.get(current.0).into_iter().flatten() {
            if std::mem::replace(&mut seen[need.job.0], true) {
                continue;
            }
            pending.push(need.job);
            let needed = &pipeline.jobs[need.job.0];
            let Some(span) = needed.when_span else {
                continue;
            };
            let source = &analysis.compilation.sources.get(span.file).text;
            let Some(written) = source.get(span.start as usize..span.end as usize) else {
                continue;
            };
            let written = written.split_whitespace().collect::<Vec<_>>().join(" ");
            let written = if written.contains("&&") || written.contains("||") {
                format!("({written})")
            } else {
                written
            };
            if !out.iter().any(|(_, c)| *c == written) {
                out.push((needed.name.clone(), written));
            }
        }
    }
    out
}

fn hint(position: Position, label: String, tooltip: String, kind: InlayHintKind) -> InlayHint {
    InlayHint {
        position,
        label: InlayHintLabel::String(label),
        kind: Some(kind),
        text_edits: None,
        tooltip: Some(InlayHintTooltip::String(tooltip)),
        padding_left: Some(true),
        padding_right: Some(false),
        data: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deploys_show_their_name_and_jobs_the_conditions_they_inherit() {
        let text = r#"pipeline p {
  environment staging {}
  stage build {
    artifact app { run = "make"; when = branch == "main" || event == tag }
    job lint { run = "l"; when = event == push }
  }
  stage ship {
    deploy app to staging { run = "d"; after = [lint] }
    test smoke on staging { run = "s"; after = [deploy_app_staging] }
  }
}"#;
        let uri: lsp_types::Uri = "file:///tmp/hints.cdl".parse().unwrap();
        let analysis = Analysis::new(&uri, text);
        let everything = lsp_types::Range::new(Position::new(0, 0), Position::new(99, 0));
        let labels: Vec<(u32, String)> = hints(&analysis, everything)
            .into_iter()
            .map(|h| match h.label {
                InlayHintLabel::String(s) => (h.position.line, s),
                _ => unreachable!(),
            })
            .collect();
        let condition = "runs only when event == push && (branch == \"main\" || event == tag)";
        let alternative = "runs only when (branch == \"main\" || event == tag) && event == push";
        assert!(
            labels.contains(&(7, "as deploy_app_staging".to_string())),
            "{labels:?}"
        );
        for line in [7, 8] {
            assert!(
                labels.contains(&(line, condition.to_string()))
                    || labels.contains(&(line, alternative.to_string())),
                "{line}: {labels:?}"
            );
        }
        assert!(labels.iter().all(|(line, _)| *line >= 7), "{labels:?}");
        assert!(
            labels
                .iter()
                .any(|(line, l)| *line == 8 && l.starts_with("timeout = ")),
            "{labels:?}"
        );
    }
}
