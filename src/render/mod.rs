//! Renders diagnostics: for a terminal (rustc-like, through miette), as JSON lines, and as
//! SARIF 2.1.0. The language server renders the same values in `lsp`.

pub mod human;
pub mod json;
pub mod sarif;

use crate::diagnostic::Label;
use crate::source::Sources;

/// A label's position, 1-based, columns in characters: `(line, column, end_line, end_column)`.
pub fn position(sources: &Sources, label: &Label) -> (String, usize, usize, usize, usize) {
    let file = sources.get(label.span.file);
    let start = file.line_column(label.span.start as usize);
    let end = file.line_column(label.span.end as usize);
    (
        file.name.clone(),
        start.line,
        start.column,
        end.line,
        end.column,
    )
}
