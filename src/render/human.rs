//! Terminal rendering through miette: `error[E0200]: message`, the labelled source excerpt,
//! then notes and help.

use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan, NamedSource};

use crate::diagnostic::{Diagnostic, Severity, Suggestion};
use crate::source::Sources;

#[derive(Debug, Clone, Copy)]
pub struct Style {
    pub color: bool,
    pub width: usize,
}

impl Style {
    /// Colour only on a terminal and when `NO_COLOR` is unset.
    pub fn for_stderr() -> Style {
        use std::io::IsTerminal;
        let color = std::io::stderr().is_terminal()
            && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
        Style { color, width: 100 }
    }

    pub fn plain() -> Style {
        Style {
            color: false,
            width: 100,
        }
    }
}

pub fn render(diagnostic: &Diagnostic, sources: &Sources, style: Style) -> String {
    let file = sources.get(diagnostic.primary.span.file);
    let mut notes = diagnostic.notes.clone();
    let mut labels = vec![label(&diagnostic.primary, file.text.len(), true)];
    for related in &diagnostic.related {
        if related.span.file == diagnostic.primary.span.file {
            labels.push(label(related, file.text.len(), false));
        } else {
            let other = sources.get(related.span.file);
            let at = other.line_column(related.span.start as usize);
            notes.push(format!(
                "{}: {}:{}:{}",
                related.message, other.name, at.line, at.column
            ));
        }
    }
    let report = Report {
        message: format!(
            "{}[{}]: {}",
            diagnostic.severity.as_str(),
            diagnostic.code,
            diagnostic.message
        ),
        severity: diagnostic.severity,
        help: diagnostic.help.clone(),
        source: NamedSource::new(file.name.clone(), file.text.clone()),
        labels,
    };
    let theme = if style.color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme)
        .with_width(style.width)
        .with_links(false)
        .with_context_lines(1);
    let mut out = String::new();
    handler
        .render_report(&mut out, &report)
        .expect("writing to a String cannot fail");
    let trimmed = out.trim_end().len();
    out.truncate(trimmed);
    out.push('\n');
    for note in notes {
        out.push_str(&format!("  note: {note}\n"));
    }
    if let Some(suggestion) = &diagnostic.suggestion {
        out.push_str(&suggestion_line(suggestion, sources));
    }
    out
}

/// `  fix: file:3:9: replace `needs` with `after``: the exact edit, where it goes.
fn suggestion_line(suggestion: &Suggestion, sources: &Sources) -> String {
    let file = sources.get(suggestion.span.file);
    let at = file.line_column(suggestion.span.start as usize);
    let old = file
        .text
        .get(suggestion.span.start as usize..suggestion.span.end as usize)
        .unwrap_or("");
    let edit = if old.contains('\n') || suggestion.replacement.contains('\n') {
        "a multi-line edit (the editor offers it as a quick fix)".to_string()
    } else if old.is_empty() {
        format!("insert `{}`", suggestion.replacement)
    } else {
        format!("replace `{old}` with `{}`", suggestion.replacement)
    };
    format!("  fix: {}:{}:{}: {edit}\n", file.name, at.line, at.column)
}

/// A miette label; a zero-length span at the very end of the file moves onto the last
/// character so that it is drawn.
fn label(label: &crate::diagnostic::Label, text_len: usize, primary: bool) -> LabeledSpan {
    let mut start = label.span.start as usize;
    let mut len = label.span.len();
    if len == 0 && start >= text_len && text_len > 0 {
        start = text_len - 1;
        len = 1;
    }
    let text = (!label.message.is_empty()).then(|| label.message.clone());
    if primary {
        LabeledSpan::new_primary_with_span(text, (start, len))
    } else {
        LabeledSpan::new_with_span(text, (start, len))
    }
}

#[derive(Debug)]
struct Report {
    message: String,
    severity: Severity,
    help: Option<String>,
    source: NamedSource<String>,
    labels: Vec<LabeledSpan>,
}

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Report {}

impl miette::Diagnostic for Report {
    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
        })
    }

    fn help<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn std::fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        Some(&self.source)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        Some(Box::new(self.labels.iter().cloned()))
    }
}

/// `error: 2 errors, 1 warning` style summary, or `None` when there is nothing to say.
pub fn summary(diagnostics: &[Diagnostic]) -> Option<String> {
    let errors = diagnostics.iter().filter(|d| d.is_error()).count();
    let warnings = diagnostics.len() - errors;
    let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    match (errors, warnings) {
        (0, 0) => None,
        (0, w) => Some(plural(w, "warning")),
        (e, 0) => Some(plural(e, "error")),
        (e, w) => Some(format!("{}, {}", plural(e, "error"), plural(w, "warning"))),
    }
}
