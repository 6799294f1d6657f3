//! Limits that keep parsing, checking and dropping the tree within the stack: brackets nested
//! more than [`MAX_DEPTH`] deep, or one value with more than [`MAX_OPERATORS`] operators, is
//! refused before parsing with a syntax error. Real pipelines stay far below both.

use crate::codes::Code;
use crate::diagnostic::Diagnostic;
use crate::span::{FileId, Span};

pub const MAX_DEPTH: usize = 100;
pub const MAX_OPERATORS: usize = 200;

/// Scans the text, skipping strings and comments, for nesting beyond the limits.
pub fn check(file: FileId, text: &str) -> Option<Diagnostic> {
    let bytes = text.as_bytes();
    let mut depth = 0usize;
    let mut operators = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        let rest = &bytes[i..];
        if rest.starts_with(b"//") {
            i += rest.iter().position(|b| *b == b'\n').unwrap_or(rest.len());
            continue;
        }
        if rest.starts_with(b"/*") {
            i += skip_block_comment(rest);
            continue;
        }
        if rest.starts_with(b"\"\"\"") {
            i += 3 + find(&rest[3..], b"\"\"\"").map_or(rest.len() - 3, |end| end + 3);
            continue;
        }
        match bytes[i] {
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' && bytes[i] != b'\n' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'(' | b'[' | b'{' => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Some(too_deep(file, i, "brackets are nested", MAX_DEPTH));
                }
                if bytes[i] == b'{' {
                    operators = 0;
                }
            }
            b')' | b']' | b'}' => {
                depth = depth.saturating_sub(1);
                if bytes[i] == b'}' {
                    operators = 0;
                }
            }
            b';' => operators = 0,
            b'=' if rest.starts_with(b"==") => {
                operators += 1;
                i += 1;
            }
            b'=' => operators = 0,
            b'!' | b'&' | b'|' => operators += 1,
            b'm' if rest.starts_with(b"matches") => operators += 1,
            _ => {}
        }
        if operators > MAX_OPERATORS {
            return Some(too_deep(file, i, "one value has operators", MAX_OPERATORS));
        }
        i += 1;
    }
    None
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Length of a (possibly nested) block comment at the start of `text`.
fn skip_block_comment(text: &[u8]) -> usize {
    let mut depth = 0;
    let mut i = 0;
    while i < text.len() {
        if text[i..].starts_with(b"/*") {
            depth += 1;
            i += 2;
        } else if text[i..].starts_with(b"*/") {
            depth -= 1;
            i += 2;
            if depth == 0 {
                return i;
            }
        } else {
            i += 1;
        }
    }
    text.len()
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
    }
}
