//! The edit a diagnostic's help names, when the check attached none (`Diagnostic::suggestion`):
//! a "did you mean `X`?" replacement, a missing required attribute with a placeholder, an
//! `after = [X]` entry, the stricter `when` of an E0500, `as NAME` for a colliding generated
//! name. Read from the help's words and the document's tokens, so the checks stay unaware.
//! `CONCRETE_HELP` lists the helps that name an edit; a test holds every one to a fix.

use std::ops::Range;

use crate::check::attributes::{self as schema, Type};
use crate::diagnostic::Diagnostic;
use crate::lsp::names::Symbol;
use crate::syntax::lexer::{self, TokenKind};

use super::analysis::Analysis;

/// One quick fix: a title and byte-range edits of the document's own text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fix {
    pub title: String,
    pub edits: Vec<(Range<usize>, String)>,
}

/// The phrasings of a help that name a concrete edit, and what the fix does for each.
pub const CONCRETE_HELP: &[(&str, &str)] = &[
    ("did you mean `", "replaces the name with the one meant"),
    (
        "add `",
        "adds the attribute, with a placeholder for `…` (E0302, W0104)",
    ),
    (
        "add `after = [",
        "adds the job to the `after` list of the named job (E0500)",
    ),
    (
        "only when `",
        "writes the stricter `when` into the deploy (E0500)",
    ),
    (
        " as NAME ",
        "names the deploy with `as` and a free name (E0205)",
    ),
];

/// Whether a help names an edit the LSP must offer (one of `CONCRETE_HELP`).
pub fn names_an_edit(help: &str) -> bool {
    CONCRETE_HELP
        .iter()
        .any(|(phrase, _)| help.contains(phrase))
        && !help.contains("`when = <")
}

/// The fix of a diagnostic of the document itself, if its help names one.
pub fn fix(analysis: &Analysis, diagnostic: &Diagnostic) -> Option<Fix> {
    let span = diagnostic.primary.span;
    if span.file != analysis.root() {
        return None;
    }
    let text = analysis.text();
    let help = diagnostic
        .help
        .as_deref()
        .filter(|help| names_an_edit(help))?;
    let at = span.start as usize..span.end as usize;
    let title = format!("{}: {help}", diagnostic.code);
    let edits = if let Some(meant) = quoted_after(help, "did you mean `") {
        let written = text.get(at.clone())?;
        let replacement = if written.starts_with('"') {
            format!("\"{meant}\"")
        } else {
            meant.to_string()
        };
        vec![(at, replacement)]
    } else if let Some(entry) = quoted_after(help, "add `after = [") {
        // "add `after = [X]` to `Y`, …"
        let entry = entry.strip_suffix(']')?;
        let rest = &help[help.find("` to `")? + 6..];
        let target = &rest[..rest.find('`')?];
        let definition = analysis
            .names
            .definition(&Symbol::Job(target.to_string()))?;
        if definition.span.file != analysis.root() {
            return None;
        }
        vec![add_to_list(
            text,
            definition.span.start as usize,
            "after",
            entry,
        )?]
    } else if let Some((name, value)) =
        quoted_after(help, "add `").and_then(|a| a.split_once(" = "))
    {
        // "add `NAME = …`" (a required attribute) or "add `url = \"https://…\"`".
        if !name.chars().all(lexer::is_word_char) {
            return None;
        }
        let value = if value == "…" {
            placeholder(name)
        } else {
            value.to_string()
        };
        vec![add_attribute(text, at.start, name, &value)?]
    } else if help.contains("only when `") {
        let condition = quoted_after(help, ": `when = ")?;
        vec![set_attribute(text, at.start, "when", condition)?]
    } else if help.contains(" as NAME ") {
        let generated = text.get(at.clone())?;
        let words: Vec<&str> = generated.split_whitespace().collect();
        let ["deploy", artifact, "to", environment] = words.as_slice() else {
            return None;
        };
        let base = crate::check::job_name::deploy(artifact, environment);
        let taken = |name: &str| {
            analysis
                .names
                .definition(&Symbol::Job(name.into()))
                .is_some()
        };
        let name = (2..)
            .map(|n| format!("{base}_{n}"))
            .find(|name| !taken(name))?;
        vec![(at.end..at.end, format!(" as {name}"))]
    } else {
        return None;
    };
    Some(Fix { title, edits })
}

/// The text between `prefix` and the next backquote.
fn quoted_after<'a>(help: &'a str, prefix: &str) -> Option<&'a str> {
    let start = help.find(prefix)? + prefix.len();
    let end = start + help[start..].find('`')?;
    Some(&help[start..end])
}

/// A value of the attribute's type for the user to replace.
fn placeholder(name: &str) -> String {
    let specs = [
        schema::JOB,
        schema::ARTIFACT,
        schema::GATE,
        schema::KIND,
        schema::ENVIRONMENT,
        schema::PIPELINE,
        schema::TEAM,
        schema::TRIGGER_SCHEDULE,
    ];
    let ty = specs
        .iter()
        .flat_map(|s| s.iter())
        .find(|s| s.name == name)
        .map(|s| s.ty);
    match ty {
        Some(Type::Strings) => "[\"TODO\"]".into(),
        Some(Type::Names) => "[]".into(),
        Some(Type::Duration) => "10m".into(),
        Some(Type::Integer { min, .. }) => min.to_string(),
        Some(Type::Bool) => "false".into(),
        Some(Type::Condition) => "true".into(),
        Some(Type::Word(words)) => words.first().map_or("\"TODO\"", |w| w).to_string(),
        Some(Type::String | Type::Commands | Type::Image | Type::Labels) | None => {
            "\"TODO\"".into()
        }
    }
}

/// The byte ranges of the braces of the block whose header starts at `header`.
fn block(text: &str, header: usize) -> Option<(usize, usize)> {
    let rest = text.get(header..)?;
    let mut depth = 0usize;
    let mut open = None;
    for token in lexer::tokens(rest) {
        match token.kind {
            TokenKind::Punct('{') => {
                if depth == 0 {
                    open = Some(header + token.span.start);
                }
                depth += 1;
            }
            TokenKind::Punct('}') => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some((open?, header + token.span.start));
                }
            }
            _ => {}
        }
    }
    None
}

/// The start of the line holding `at`, and that line's indentation.
fn indentation(text: &str, at: usize) -> &str {
    let line_start = text[..at].rfind('\n').map_or(0, |n| n + 1);
    let line = &text[line_start..];
    &line[..line.len() - line.trim_start_matches([' ', '\t']).len()]
}

/// Inserts `name = value` as the block's first item, in the block's own layout.
fn add_attribute(
    text: &str,
    header: usize,
    name: &str,
    value: &str,
) -> Option<(Range<usize>, String)> {
    let (open, close) = block(text, header)?;
    let inner = &text[open + 1..close];
    if inner.contains('\n') {
        let indent = format!("{}  ", indentation(text, header));
        Some((open + 1..open + 1, format!("\n{indent}{name} = {value}")))
    } else if inner.trim().is_empty() {
        Some((open + 1..close, format!(" {name} = {value} ")))
    } else {
        Some((open + 1..open + 1, format!(" {name} = {value};")))
    }
}

/// The tokens of a block's attribute `name`: the range of its value, up to `;`, a line break
/// or the block's end at depth 0.
fn attribute_value(text: &str, open: usize, close: usize, name: &str) -> Option<Range<usize>> {
    let inner = &text[open + 1..close];
    let tokens: Vec<lexer::Token> = lexer::tokens(inner)
        .into_iter()
        .filter(|t| !t.kind.is_comment())
        .collect();
    let mut depth = 0usize;
    let mut index = 0;
    while index < tokens.len() {
        let token = &tokens[index];
        match token.kind {
            TokenKind::Punct('{' | '[' | '(') => depth += 1,
            TokenKind::Punct('}' | ']' | ')') => depth = depth.saturating_sub(1),
            TokenKind::Word if depth == 0 && &inner[token.span.clone()] == name => {
                let significant: Vec<&lexer::Token> = tokens[index + 1..]
                    .iter()
                    .filter(|t| t.kind != TokenKind::Whitespace)
                    .collect();
                if significant.first().map(|t| t.kind) == Some(TokenKind::Punct('=')) {
                    let equals = significant[0].span.end;
                    let mut end = equals;
                    let mut nesting = 0usize;
                    for t in &tokens[index + 1..] {
                        if t.span.start < equals {
                            continue;
                        }
                        let source = &inner[t.span.clone()];
                        match t.kind {
                            TokenKind::Punct('[' | '(') => nesting += 1,
                            TokenKind::Punct(']' | ')') => nesting = nesting.saturating_sub(1),
                            TokenKind::Punct(';' | '}') if nesting == 0 => break,
                            TokenKind::Whitespace if nesting == 0 && source.contains('\n') => {
                                // A condition may go on after an operator at the line's end.
                                let last = inner[equals..t.span.start].trim_end();
                                if !["&&", "||", "==", "!=", "!", "="]
                                    .iter()
                                    .any(|op| last.ends_with(op))
                                {
                                    break;
                                }
                            }
                            _ => {}
                        }
                        if t.kind != TokenKind::Whitespace {
                            end = t.span.end;
                        }
                    }
                    let start = equals + inner[equals..].len() - inner[equals..].trim_start().len();
                    return Some(open + 1 + start..open + 1 + end);
                }
            }
            _ => {}
        }
        index += 1;
    }
    None
}

/// Sets `name = value` in the block: replaces the value if the attribute is there.
fn set_attribute(
    text: &str,
    header: usize,
    name: &str,
    value: &str,
) -> Option<(Range<usize>, String)> {
    let (open, close) = block(text, header)?;
    match attribute_value(text, open, close, name) {
        Some(range) => Some((range, value.to_string())),
        None => add_attribute(text, header, name, value),
    }
}

/// Adds `entry` to the list attribute `name` of the block, or the attribute with it.
fn add_to_list(
    text: &str,
    header: usize,
    name: &str,
    entry: &str,
) -> Option<(Range<usize>, String)> {
    let (open, close) = block(text, header)?;
    match attribute_value(text, open, close, name) {
        Some(range)
            if text[range.clone()].starts_with('[') && text[range.clone()].ends_with(']') =>
        {
            let inside = text[range.start + 1..range.end - 1].trim();
            let at = range.end - 1;
            if inside.is_empty() {
                Some((range.start + 1..at, entry.to_string()))
            } else if inside.ends_with(',') {
                Some((at..at, format!(" {entry}")))
            } else {
                let end = range.start + 1 + text[range.start + 1..at].trim_end().len();
                Some((end..end, format!(", {entry}")))
            }
        }
        Some(_) => None,
        None => add_attribute(text, header, name, &format!("[{entry}]")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attributes_are_added_in_the_blocks_layout() {
        let text = "  job a {\n    run = \"x\"\n  }\n  job b { run = \"y\" }\n  job c {}";
        let a = text.find("job a").unwrap();
        assert_eq!(
            add_attribute(text, a, "after", "[b]"),
            Some((9..9, "\n    after = [b]".to_string()))
        );
        let b = text.find("job b").unwrap();
        let (range, insert) = add_attribute(text, b, "after", "[a]").unwrap();
        assert_eq!((range.start - b, insert.as_str()), (7, " after = [a];"));
        let c = text.find("job c").unwrap();
        let (range, insert) = add_attribute(text, c, "run", "\"TODO\"").unwrap();
        assert_eq!((&text[range], insert.as_str()), ("", " run = \"TODO\" "));
    }

    #[test]
    fn values_are_found_and_replaced_or_extended() {
        let text = "deploy app to p { run = \"}\"; when = branch == \"main\" &&\n  event == push\n  after = [a, b] }";
        let (open, close) = block(text, 0).unwrap();
        let when = attribute_value(text, open, close, "when").unwrap();
        assert_eq!(&text[when], "branch == \"main\" &&\n  event == push");
        assert_eq!(
            add_to_list(text, 0, "after", "c").map(|(r, s)| (&text[r.start..r.start], s)),
            Some(("", ", c".to_string()))
        );
        let (range, _) = add_to_list(text, 0, "after", "c").unwrap();
        assert_eq!(&text[..range.start], &text[..text.find(", b").unwrap() + 3]);
    }
}
