//! The fourth rendering of `Diagnostic` (after terminal, JSON and SARIF): the same code,
//! message, span, help and related locations, as LSP diagnostics of the document.

use lsp_types::{DiagnosticRelatedInformation, DiagnosticSeverity, NumberOrString, Range};

use super::analysis::Analysis;
use crate::diagnostic::{Diagnostic, Severity};
use crate::syntax::ast;

/// The diagnostics of the document. One found in an imported file is shown on the `import`
/// line that brought the file in, with the real place as related information.
pub fn render(analysis: &Analysis) -> Vec<lsp_types::Diagnostic> {
    analysis
        .compilation
        .diagnostics
        .iter()
        .map(|d| diagnostic(analysis, d))
        .collect()
}

fn diagnostic(analysis: &Analysis, d: &Diagnostic) -> lsp_types::Diagnostic {
    let root = analysis.root();
    let mut message = d.message.clone();
    let mut related: Vec<DiagnosticRelatedInformation> = Vec::new();
    let range = if d.primary.span.file == root {
        analysis.range(d.primary.span)
    } else {
        let file = &analysis.compilation.sources.get(d.primary.span.file).name;
        message = format!("in {file}: {message}");
        if let Some(location) = analysis.location(d.primary.span) {
            related.push(DiagnosticRelatedInformation {
                location,
                message: if d.primary.message.is_empty() {
                    d.message.clone()
                } else {
                    d.primary.message.clone()
                },
            });
        }
        import_line(analysis, d).unwrap_or_default()
    };
    if let Some(help) = &d.help {
        message.push_str("\nhelp: ");
        message.push_str(help);
    }
    for note in &d.notes {
        message.push_str("\nnote: ");
        message.push_str(note);
    }
    for label in &d.related {
        if let Some(location) = analysis.location(label.span) {
            related.push(DiagnosticRelatedInformation {
                location,
                message: label.message.clone(),
            });
        }
    }
    lsp_types::Diagnostic {
        range,
        severity: Some(match d.severity {
            Severity::Error => DiagnosticSeverity::ERROR,
            Severity::Warning => DiagnosticSeverity::WARNING,
        }),
        code: Some(NumberOrString::String(d.code.as_str().to_string())),
        source: Some("cdl".into()),
        message,
        related_information: (!related.is_empty()).then_some(related),
        data: Some(serde_json::json!({
            "label": d.primary.message,
            "help": d.help,
            "notes": d.notes,
            "suggestion": d.suggestion.as_ref().filter(|s| s.span.file == root).map(|s| {
                serde_json::json!({ "range": analysis.range(s.span), "newText": s.replacement })
            }),
        })),
        ..Default::default()
    }
}

/// The root file's `import` whose file holds the diagnostic (or the first import).
fn import_line(analysis: &Analysis, d: &Diagnostic) -> Option<Range> {
    let file = analysis.path(d.primary.span.file);
    let root = analysis.compilation.root_file()?;
    let base = analysis
        .path(analysis.root())
        .and_then(|p| p.parent().map(std::path::Path::to_path_buf));
    let imports: Vec<&ast::Import> = root
        .items
        .iter()
        .filter_map(|item| match item {
            ast::TopItem::Import(import) => Some(import),
            _ => None,
        })
        .collect();
    let matching = imports.iter().find(|import| {
        let target = base.as_ref().map(|b| b.join(&import.path));
        let target = target.map(|t| t.canonicalize().unwrap_or(t));
        target.is_some() && target == file
    });
    let import = matching.or(imports.first())?;
    Some(analysis.range(import.span))
}
