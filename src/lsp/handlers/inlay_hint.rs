//! `textDocument/inlayHint`: after the header of a test, the `timeout` and `retries` it
//! inherits from its kind and does not set itself (`test unit ⟨timeout = 15m⟩ {`).

use lsp_types::{InlayHint, InlayHintKind, InlayHintLabel, InlayHintParams, InlayHintTooltip};

use crate::check::inherited::inherited;
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

/// The hints of the document whose position falls in `range`.
pub fn hints(analysis: &Analysis, range: lsp_types::Range) -> Vec<InlayHint> {
    let Some(checked) = &analysis.compilation.checked else {
        return Vec::new();
    };
    let Some(pipeline) = &checked.pipeline else {
        return Vec::new();
    };
    pipeline
        .jobs
        .iter()
        .filter(|job| job.header_span.file == analysis.root())
        .filter_map(|job| {
            let defaults = inherited(job, &checked.kinds);
            let first = defaults.first()?;
            let position = analysis.range(job.header_span).end;
            if position < range.start || position > range.end {
                return None;
            }
            let label = defaults
                .iter()
                .map(|d| format!("{} = {}", d.attribute, d.value))
                .collect::<Vec<_>>()
                .join(", ");
            Some(InlayHint {
                position,
                label: InlayHintLabel::String(label),
                kind: Some(InlayHintKind::PARAMETER),
                text_edits: None,
                tooltip: Some(InlayHintTooltip::String(format!(
                    "inherited from kind `{}`; set it on the test to change it",
                    first.kind
                ))),
                padding_left: Some(true),
                padding_right: Some(false),
                data: None,
            })
        })
        .collect()
}
