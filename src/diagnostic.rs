//! The one diagnostic type every phase produces, and the sink that collects them.
//!
//! Rendered four ways from the same values: terminal (`render::human`), JSON, SARIF, and LSP.

use crate::codes::Code;
use crate::span::Span;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

/// A span with the text drawn under it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Label {
    pub span: Span,
    pub message: String,
}

impl Label {
    pub fn new(span: Span, message: impl Into<String>) -> Label {
        Label {
            span,
            message: message.into(),
        }
    }
}

/// An exact edit that fixes a diagnostic: put `replacement` where `span` is. Only attached
/// when applying it blindly is right (the LSP offers it as a quick fix, SARIF as a `fix`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suggestion {
    pub span: Span,
    pub replacement: String,
}

/// One finding: a stable code, a message in the user's terms, a primary label, and help
/// where a fix is known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub code: Code,
    pub severity: Severity,
    pub message: String,
    pub primary: Label,
    /// Other places that explain this one (the first definition of a duplicate, say).
    pub related: Vec<Label>,
    pub help: Option<String>,
    /// Longer facts printed after the source excerpt (a path that bypasses a gate, say).
    pub notes: Vec<String>,
    /// A machine-applicable edit; `help` says the same in words.
    pub suggestion: Option<Suggestion>,
}

impl Diagnostic {
    /// A diagnostic with the code's own severity.
    pub fn new(code: Code, span: Span, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            code,
            severity: code.severity(),
            message: message.into(),
            primary: Label::new(span, ""),
            related: Vec::new(),
            help: None,
            notes: Vec::new(),
            suggestion: None,
        }
    }

    pub fn label(mut self, text: impl Into<String>) -> Diagnostic {
        self.primary.message = text.into();
        self
    }

    pub fn related(mut self, span: Span, text: impl Into<String>) -> Diagnostic {
        self.related.push(Label::new(span, text));
        self
    }

    pub fn help(mut self, text: impl Into<String>) -> Diagnostic {
        self.help = Some(text.into());
        self
    }

    pub fn maybe_help(mut self, text: Option<String>) -> Diagnostic {
        if text.is_some() {
            self.help = text;
        }
        self
    }

    pub fn note(mut self, text: impl Into<String>) -> Diagnostic {
        self.notes.push(text.into());
        self
    }

    /// Attaches an exact edit: `replacement` in place of `span`.
    pub fn suggest(mut self, span: Span, replacement: impl Into<String>) -> Diagnostic {
        self.suggestion = Some(Suggestion {
            span,
            replacement: replacement.into(),
        });
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// Collects every diagnostic of a compilation instead of stopping at the first.
#[derive(Debug, Default, Clone)]
pub struct Sink {
    diagnostics: Vec<Diagnostic>,
}

impl Sink {
    pub fn push(&mut self, diagnostic: Diagnostic) {
        self.diagnostics.push(diagnostic);
    }

    pub fn extend(&mut self, diagnostics: impl IntoIterator<Item = Diagnostic>) {
        self.diagnostics.extend(diagnostics);
    }

    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }

    /// Drops each diagnostic identical to an earlier one (code, place and message): an item
    /// a template gives many jobs is reported once (v2 i13e).
    pub fn dedup(&mut self) {
        let mut seen = std::collections::HashSet::new();
        self.diagnostics
            .retain(|d| seen.insert((d.code, d.primary.span, d.message.clone())));
    }

    pub fn error_count(&self) -> usize {
        self.diagnostics.iter().filter(|d| d.is_error()).count()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Diagnostic> {
        self.diagnostics.iter()
    }

    /// The diagnostics in source order (file, then position), errors before warnings at a tie.
    pub fn into_sorted(mut self) -> Vec<Diagnostic> {
        self.diagnostics.sort_by(|a, b| {
            (
                a.primary.span.file,
                a.primary.span.start,
                b.severity,
                a.code,
            )
                .cmp(&(
                    b.primary.span.file,
                    b.primary.span.start,
                    a.severity,
                    b.code,
                ))
        });
        self.diagnostics
    }
}

/// "did you mean `x`?" for the closest of `candidates` to `name`, when one is close enough.
pub fn did_you_mean<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    closest(name, candidates).map(|best| format!("did you mean `{best}`?"))
}

/// The candidate closest to `name` by Jaro-Winkler similarity, if any is similar enough.
pub fn closest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .into_iter()
        .filter(|c| *c != name)
        .map(|c| (strsim::jaro_winkler(name, c), c))
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_names_only() {
        assert_eq!(
            did_you_mean("stagin", ["staging", "production"]).as_deref(),
            Some("did you mean `staging`?")
        );
        assert_eq!(did_you_mean("xyz", ["staging", "production"]), None);
    }
}
