//! GitHub Actions' `${{ … }}` template expressions, and the encoders that keep pipeline
//! text out of them.
//!
//! GitHub evaluates `${{ … }}` in almost every string of a workflow: `run`, `env`, `with`,
//! `name`, `runs-on`, `container`, `environment` and `concurrency` ("Expressions" in
//! docs.github.com/actions/learn-github-actions/expressions). The template reader of
//! actions/workflow-parser (`templates/template-reader.ts`, `parseTemplateExpression`) finds
//! `${{`, reads the expression up to the first `}}` outside a `'…'` string literal, in which
//! `''` is a quote, and keeps everything else as text. In the `on:` branch and tag filters
//! no expression is allowed at all: the parser rejects the file ("A template expression is
//! not allowed in this context").

#[cfg(test)]
use crate::export::literal::Place;

/// Text as a literal in a place GitHub evaluates `${{ … }}` in: each `${{` becomes the
/// expression `${{ '${{' }}`, whose value is `${{`.
pub fn literal(text: &str) -> String {
    text.replace("${{", "${{ '${{' }}")
}

/// A command as a step's `run:`, which GitHub evaluates too; `None` when it holds `${{`:
/// the step then reads the command from an environment variable written with [`literal`].
pub fn run(command: &str) -> Option<String> {
    (!command.contains("${{")).then(|| command.to_string())
}

#[cfg(test)]
/// How GitHub evaluates a string at a place with expressions. Only string literals are
/// modelled: any other expression reads the run's context and is an error of the model.
pub fn evaluate(text: &str) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("${{") {
        out.push_str(&rest[..start]);
        let (value, after) = expression(&rest[start + 3..])?;
        out.push_str(&value);
        rest = after;
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
/// The value of the expression at the start of `text` (just after `${{`), and the text
/// after its `}}`.
fn expression(text: &str) -> Result<(String, &str), String> {
    let mut chars = text.char_indices().peekable();
    let mut value: Option<String> = None;
    while let Some((i, c)) = chars.next() {
        match c {
            ' ' | '\t' | '\n' | '\r' => {}
            '}' if text[i..].starts_with("}}") => {
                let value = value.ok_or("an empty expression")?;
                return Ok((value, &text[i + 2..]));
            }
            '\'' if value.is_none() => {
                let mut literal = String::new();
                loop {
                    match chars.next() {
                        Some((_, '\'')) if chars.peek().map(|(_, c)| *c) == Some('\'') => {
                            chars.next();
                            literal.push('\'');
                        }
                        Some((_, '\'')) => break,
                        Some((_, c)) => literal.push(c),
                        None => return Err("an unterminated string literal".into()),
                    }
                }
                value = Some(literal);
            }
            _ => {
                return Err(format!(
                    "the expression `${{{{{text}` reads the run's context"
                ));
            }
        }
    }
    Err("an expression without `}}`".into())
}

#[cfg(test)]
/// A place with no expressions at all (`on:` filters): text holding `${{` is rejected.
pub fn evaluate_filter(text: &str) -> Result<String, String> {
    if text.contains("${{") {
        return Err("a template expression is not allowed in an `on:` filter".into());
    }
    Ok(text.to_string())
}

#[cfg(test)]
/// The places of a workflow that evaluate expressions: `run` and the others, written with
/// [`literal`].
pub const PLACES: &[Place] = &[
    Place {
        name: "run",
        encode: run,
        evaluate,
    },
    place("env"),
    place("with"),
    place("name"),
    place("runs-on"),
    place("container"),
    place("environment"),
    place("concurrency"),
];

#[cfg(test)]
const fn place(name: &'static str) -> Place {
    Place {
        name,
        encode: encode_literal,
        evaluate,
    }
}

#[cfg(test)]
fn encode_literal(text: &str) -> Option<String> {
    Some(literal(text))
}

/// A cdl glob as a GitHub branch or tag filter, and whether it matches exactly the same
/// names. A `${{`, which no filter may hold, becomes `$*{{`: `*` matches the empty run
/// between `$` and `{{`, and more.
pub fn filter(glob: &str) -> (String, bool) {
    let (filter, exact) = crate::export::glob::github_filter(glob);
    if filter.contains("${{") {
        return (filter.replace("${{", "$*{{"), false);
    }
    (filter, exact)
}

#[cfg(test)]
/// The branch and tag filters, for text without wildcards: the filter must match exactly
/// the text, so a `${{` is declined.
pub const FILTER: Place = Place {
    name: "on: filter",
    encode: |text| {
        let (filter, exact) = filter(text);
        (exact && crate::model::glob::is_literal(text)).then_some(filter)
    },
    evaluate: literal_filter,
};

#[cfg(test)]
/// The name a filter without wildcards matches: `\` escapes the next character; an
/// unescaped pattern character, or a leading `!`, makes it a pattern.
fn literal_filter(text: &str) -> Result<String, String> {
    let text = evaluate_filter(text)?;
    let mut out = String::new();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push(chars.next().ok_or("a trailing `\\`")?),
            '*' | '?' | '+' | '[' | ']' => return Err(format!("`{c}` is a pattern character")),
            '!' if out.is_empty() => return Err("a leading `!` negates the filter".into()),
            c => out.push(c),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::export::literal::{assert_place_keeps_text, hostile_text};

    #[test]
    fn the_model_reads_string_literals_and_rejects_context() {
        assert_eq!(evaluate("a ${{ 'b''c' }} d"), Ok("a b'c d".into()));
        assert_eq!(evaluate("}} {{ $"), Ok("}} {{ $".into()));
        assert!(evaluate("${{ github.actor }}").is_err());
        assert!(evaluate("${{ 'x'").is_err());
        assert!(evaluate("${{ '}}' }}").is_ok());
    }

    #[test]
    fn expressions_in_pipeline_text_stay_literal() {
        assert_eq!(literal("echo ${{ x }}"), "echo ${{ '${{' }} x }}");
        assert_eq!(
            evaluate(&literal("$${{ a }} ${{")),
            Ok("$${{ a }} ${{".into())
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn every_place_keeps_hostile_text(text in hostile_text()) {
            assert_place_keeps_text(PLACES, &text);
        }

        #[test]
        fn filters_keep_literal_names(text in hostile_text()) {
            let literal = text.replace(['*', '?'], "");
            assert_place_keeps_text(&[FILTER], &literal);
            let (written, _) = filter(&text);
            prop_assert!(!written.contains("${{"), "{written}");
        }
    }
}
