//! `--format json`: one JSON object per diagnostic, one per line.

use serde_json::{Value, json};

use super::position;
use crate::diagnostic::Diagnostic;
use crate::source::Sources;

pub fn diagnostic(d: &Diagnostic, sources: &Sources) -> Value {
    let (file, line, column, end_line, end_column) = position(sources, &d.primary);
    let labels: Vec<Value> = std::iter::once(&d.primary)
        .chain(&d.related)
        .map(|label| {
            let (file, line, column, end_line, end_column) = position(sources, label);
            json!({
                "file": file,
                "line": line,
                "column": column,
                "end_line": end_line,
                "end_column": end_column,
                "message": label.message,
                "primary": std::ptr::eq(label, &d.primary),
            })
        })
        .collect();
    let suggestion = d.suggestion.as_ref().map(|s| {
        let label = crate::diagnostic::Label::new(s.span, "");
        let (file, line, column, end_line, end_column) = position(sources, &label);
        json!({
            "file": file,
            "line": line,
            "column": column,
            "end_line": end_line,
            "end_column": end_column,
            "replacement": s.replacement,
        })
    });
    json!({
        "file": file,
        "line": line,
        "column": column,
        "end_line": end_line,
        "end_column": end_column,
        "severity": d.severity.as_str(),
        "code": d.code.as_str(),
        "message": d.message,
        "help": d.help,
        "notes": d.notes,
        "labels": labels,
        "suggestion": suggestion,
    })
}

pub fn render(diagnostics: &[Diagnostic], sources: &Sources) -> String {
    diagnostics
        .iter()
        .map(|d| diagnostic(d, sources).to_string() + "\n")
        .collect()
}
