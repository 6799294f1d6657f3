//! Limits that keep parsing, checking and dropping the tree within the stack: brackets nested
//! more than [`MAX_DEPTH`] deep, or one value with more than [`MAX_OPERATORS`] operators, is
//! refused before parsing with a syntax error. Real pipelines stay far below both.

use crate::codes::Code;
use crate::diagnostic::Diagnostic;
use crate::span::{FileId, Span};
use crate::syntax::lexer::{self, TokenKind};

pub const MAX_DEPTH: usize = 100;
pub const MAX_OPERATORS: usize = 200;

/// Reads the tokens of the text (strings and comments are single tokens) for nesting beyond
/// the limits.
pub fn check(file: FileId, text: &str) -> Option<Diagnostic> {
    let mut depth = 0usize;
    let mut operators = 0usize;
    for token in lexer::tokens(text) {
        let at = token.span.start;
        match token.kind {
            TokenKind::Punct('(' | '[' | '{') => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Some(too_deep(file, at, "brackets are nested", MAX_DEPTH));
                }
                if token.kind == TokenKind::Punct('{') {
                    operators = 0;
                }
            }
            TokenKind::Punct(close @ (')' | ']' | '}')) => {
                depth = depth.saturating_sub(1);
                if close == '}' {
                    operators = 0;
                }
            }
            TokenKind::Punct(';' | '=') => operators = 0,
            // `&&` and `||` count twice: conditions are normalised (check/condition.rs), and
            // their cost grows with the number of those.
            TokenKind::Operator => match &text[token.span.clone()] {
                "&&" | "||" => operators += 2,
                _ => operators += 1,
            },
            TokenKind::Punct('!') => operators += 1,
            TokenKind::Word if &text[token.span.clone()] == "matches" => operators += 1,
            _ => {}
        }
        if operators > MAX_OPERATORS {
            return Some(too_deep(file, at, "one value has operators", MAX_OPERATORS));
        }
    }
    None
}

fn too_deep(file: FileId, at: usize, what: &str, limit: usize) -> Diagnostic {
    Diagnostic::new(
        Code::Syntax,
        Span::new(file, at, at + 1),
        format!("{what} more than {limit} deep"),
    )
    .label("the limit is reached here")
    .help(format!(
        "cdl reads at most {limit}; split the value or the condition"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_text_passes() {
        let text = r#"pipeline p { stage s { job a { run = "((((("; when = !(branch == "x") } } } // ((((("#;
        assert!(check(FileId(0), text).is_none());
    }

    #[test]
    fn deep_brackets_and_long_operator_chains_are_refused() {
        let deep = format!("pipeline p {{ x = {}1 }}", "(".repeat(200));
        assert!(check(FileId(0), &deep).is_some());
        let chain = format!("pipeline p {{ x = {}true }}", "!".repeat(300));
        assert!(check(FileId(0), &chain).is_some());
        let ands = format!("pipeline p {{ x = true{} }}", " && true".repeat(300));
        assert!(check(FileId(0), &ands).is_some());
        let hidden = format!(
            "pipeline p {{ x = \"{}\" /* {} */ }}",
            "(".repeat(300),
            "[".repeat(300)
        );
        assert!(check(FileId(0), &hidden).is_none());
    }
}
