//! `--format sarif`: SARIF 2.1.0, as GitHub code scanning accepts it (one run, one rule per
//! code, results with physical locations relative to the working directory).

use serde_json::{Value, json};

use super::position;
use crate::codes::Code;
use crate::diagnostic::{Diagnostic, Severity, Suggestion};
use crate::source::Sources;

pub const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// One SARIF log for the diagnostics of several compilations.
pub fn render(compilations: &[(&Sources, &[Diagnostic])]) -> String {
    let rules: Vec<Value> = Code::ALL
        .iter()
        .map(|code| {
            json!({
                "id": code.as_str(),
                "name": rule_name(code.title()),
                "shortDescription": { "text": code.title() },
                "fullDescription": { "text": first_paragraph(code.explanation()) },
                "help": { "text": code.explanation(), "markdown": code.explanation() },
                "defaultConfiguration": { "level": level(code.severity()) },
            })
        })
        .collect();
    let mut results = Vec::new();
    for (sources, diagnostics) in compilations {
        for d in diagnostics.iter() {
            results.push(result(d, sources));
        }
    }
    let log = json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": "cdl",
                    "version": env!("CARGO_PKG_VERSION"),
                    "informationUri": "https://github.com/cdl-lang/cdl",
                    "rules": rules,
                }
            },
            "columnKind": "unicodeCodePoints",
            "results": results,
        }]
    });
    serde_json::to_string_pretty(&log).expect("serialisable") + "\n"
}

fn result(d: &Diagnostic, sources: &Sources) -> Value {
    let location = |label: &crate::diagnostic::Label| {
        let (file, line, column, end_line, end_column) = position(sources, label);
        json!({
            "physicalLocation": {
                "artifactLocation": { "uri": uri(&file) },
                "region": {
                    "startLine": line,
                    "startColumn": column,
                    "endLine": end_line,
                    "endColumn": end_column.max(if end_line == line { column + 1 } else { 1 }),
                }
            },
            "message": { "text": label.message },
        })
    };
    let mut text = d.message.clone();
    for note in &d.notes {
        text.push_str(&format!("\nnote: {note}"));
    }
    if let Some(help) = &d.help {
        text.push_str(&format!("\nhelp: {help}"));
    }
    let mut value = json!({
        "ruleId": d.code.as_str(),
        "ruleIndex": Code::ALL.iter().position(|c| *c == d.code),
        "level": level(d.severity),
        "message": { "text": text },
        "locations": [location(&d.primary)],
        "relatedLocations": d.related.iter().enumerate().map(|(i, l)| {
            let mut value = location(l);
            value["id"] = json!(i + 1);
            value
        }).collect::<Vec<_>>(),
    });
    if let Some(suggestion) = &d.suggestion {
        value["fixes"] = fixes(d, suggestion, sources);
    }
    value
}

/// SARIF `fixes`: the suggested edit as one replacement in one artifact.
fn fixes(d: &Diagnostic, suggestion: &Suggestion, sources: &Sources) -> Value {
    let label = crate::diagnostic::Label::new(suggestion.span, "");
    let (file, line, column, end_line, end_column) = position(sources, &label);
    json!([{
        "description": { "text": d.help.clone().unwrap_or_else(|| d.message.clone()) },
        "artifactChanges": [{
            "artifactLocation": { "uri": uri(&file) },
            "replacements": [{
                "deletedRegion": {
                    "startLine": line,
                    "startColumn": column,
                    "endLine": end_line,
                    "endColumn": end_column,
                },
                "insertedContent": { "text": suggestion.replacement },
            }],
        }],
    }])
}

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    }
}

/// A relative file path as a URI reference: forward slashes, no leading `./`.
fn uri(file: &str) -> String {
    file.trim_start_matches("./")
        .replace('\\', "/")
        .replace(' ', "%20")
}

/// `unknown job or gate` → `UnknownJobOrGate`.
fn rule_name(title: &str) -> String {
    title
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut chars = w.chars();
            chars
                .next()
                .map_or(String::new(), |c| c.to_uppercase().chain(chars).collect())
        })
        .collect()
}

fn first_paragraph(page: &str) -> String {
    page.lines()
        .skip_while(|l| l.starts_with('#') || l.trim().is_empty())
        .take_while(|l| !l.trim().is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}
