//! `textDocument/codeAction`: a quick fix for every diagnostic in the range that carries an
//! exact edit (`Diagnostic::suggestion`). Generic: a check only has to attach the edit.

use std::collections::HashMap;

use lsp_types::{
    CodeAction, CodeActionKind, CodeActionOrCommand, CodeActionParams, CodeActionResponse, Range,
    TextEdit, WorkspaceEdit,
};

use crate::lsp::Server;
use crate::lsp::analysis::Analysis;

pub fn code_action(
    server: &Server,
    params: CodeActionParams,
) -> Result<Option<CodeActionResponse>, String> {
    let document = server.document(&params.text_document.uri)?;
    Ok(Some(quick_fixes(&document.current, params.range)))
}

/// The quick fixes of the document's own diagnostics whose range touches `range`.
pub fn quick_fixes(analysis: &Analysis, range: Range) -> CodeActionResponse {
    let root = analysis.root();
    let rendered = crate::lsp::diagnostics::render(analysis);
    analysis
        .compilation
        .diagnostics
        .iter()
        .zip(rendered)
        .filter_map(|(d, lsp_diagnostic)| {
            let suggestion = d.suggestion.as_ref()?;
            if suggestion.span.file != root || d.primary.span.file != root {
                return None;
            }
            if !touches(lsp_diagnostic.range, range) {
                return None;
            }
            let edit = TextEdit::new(
                analysis.range(suggestion.span),
                suggestion.replacement.clone(),
            );
            let title = match &d.help {
                Some(help) => format!("{}: {help}", d.code),
                None => format!("{}: replace with `{}`", d.code, suggestion.replacement),
            };
            Some(CodeActionOrCommand::CodeAction(CodeAction {
                title,
                kind: Some(CodeActionKind::QUICKFIX),
                diagnostics: Some(vec![lsp_diagnostic]),
                edit: Some(WorkspaceEdit {
                    changes: Some(HashMap::from([(analysis.uri.clone(), vec![edit])])),
                    ..Default::default()
                }),
                is_preferred: Some(true),
                ..Default::default()
            }))
        })
        .collect()
}

/// Whether two ranges overlap or touch (an empty request range at a diagnostic's edge counts).
fn touches(a: Range, b: Range) -> bool {
    a.start <= b.end && b.start <= a.end
}
