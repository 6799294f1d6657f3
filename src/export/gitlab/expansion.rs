//! GitLab CI's variable expansion, and the encoders that keep pipeline text out of it.
//!
//! GitLab expands `$NAME`, `${NAME}` and `%NAME%` (`ExpandVariables` in gitlab-org/gitlab,
//! `lib/expand_variables.rb`) in a job's `image`, `tags`, `environment:url` and
//! `parallel:matrix` values, and the runner expands `$NAME`, `${NAME}` and `$$` (a `$`) in
//! variables, except those written `{ value: …, expand: false }` ("Where variables can be
//! used", docs.gitlab.com/ci/variables/where_variables_can_be_used; "Prevent CI/CD variable
//! expansion"). In `rules:if` a string is `"…"` or `'…'` without escapes, and GitLab before
//! 18.5 (and gitlab-ci-local) expanded variables inside it and inside `/…/` patterns
//! (gitlab-org/gitlab#578297), so pipeline text never reaches a rule with a `$` in it: text
//! that is not plain is compared through an RE2 pattern whose every other character is
//! written `\x{…}`.

#[cfg(test)]
use crate::export::literal::Place;

/// Whether GitLab would expand something in `text`: a `$` or a `%NAME%`.
pub fn expands(text: &str) -> bool {
    text.contains('$') || percent_reference(text)
}

fn percent_reference(text: &str) -> bool {
    text.split('%')
        .skip(1)
        .take(text.matches('%').count().saturating_sub(1))
        .any(is_name)
}

fn is_name(text: &str) -> bool {
    text.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && text.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Text for a place GitLab expands (`image`, `tags`, `environment:url`, matrix values and
/// plain variables): as it is, or `None` when GitLab would expand it.
pub fn plain(text: &str) -> Option<String> {
    (!expands(text)).then(|| text.to_string())
}

/// Characters a rule's string or pattern holds as they are.
fn rule_safe(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, ' ' | '_' | '-' | ',' | ':' | '@' | '#' | '=' | '~')
}

/// A rule operand equal to `text` (with `==`) or a pattern matching exactly `text` (with
/// `=~`): `"text"`, or `/^…$/` with every character that is not plain written `\x{…}`.
pub fn rule_literal(text: &str) -> RuleOperand {
    if !text.is_empty() && text.chars().all(|c| rule_safe(c) || c == '/' || c == '.') {
        RuleOperand::String(format!("\"{text}\""))
    } else {
        RuleOperand::Pattern(crate::export::glob::literal_regex(
            text,
            crate::export::glob::Dialect::GitLab,
        ))
    }
}

/// A rule operand: compared with `==`/`!=`, or matched with `=~`/`!~`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RuleOperand {
    String(String),
    Pattern(String),
}

/// How GitLab expands text at a place that expands: every reference is an error of the
/// model (its value is the run's), `$$` is a `$`.
#[cfg(test)]
pub fn evaluate_expanded(text: &str) -> Result<String, String> {
    if percent_reference(text) {
        return Err("a `%NAME%` reference".into());
    }
    let mut out = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '$' {
            out.push(c);
            continue;
        }
        match chars.peek() {
            Some('$') => {
                chars.next();
                out.push('$');
            }
            Some(c) if c.is_ascii_alphabetic() || *c == '_' || *c == '{' => {
                return Err("a `$NAME` reference".into());
            }
            _ => out.push('$'),
        }
    }
    Ok(out)
}

/// The text a rule operand stands for: a string's content, or the one text a pattern of
/// literal characters matches. Any `$` is an error of the model (GitLab may expand it).
#[cfg(test)]
pub fn evaluate_rule_operand(operand: &str) -> Result<String, String> {
    if let Some(inner) = operand.strip_prefix('"').and_then(|o| o.strip_suffix('"')) {
        if inner.contains(['"', '$', '\\']) || inner.chars().any(char::is_control) {
            return Err(format!("the string {operand} cannot be read as written"));
        }
        return Ok(inner.to_string());
    }
    let inner = operand
        .strip_prefix("/^")
        .and_then(|o| o.strip_suffix("$/"))
        .ok_or("neither a string nor an anchored pattern")?;
    if inner.contains('$') {
        return Err(format!("the pattern {operand} holds `$`"));
    }
    let mut out = String::new();
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.as_str().starts_with(['/', '.']) => {
                out.push(chars.next().unwrap_or_default());
            }
            '\\' => {
                let rest: String = chars.by_ref().take_while(|c| *c != '}').collect();
                let hex = rest
                    .strip_prefix("x{")
                    .ok_or("an escape other than \\x{…}")?;
                let code = u32::from_str_radix(hex, 16).map_err(|e| e.to_string())?;
                out.push(char::from_u32(code).ok_or("not a character")?);
            }
            c if rule_safe(c) => out.push(c),
            c => return Err(format!("`{c}` means something in a pattern")),
        }
    }
    Ok(out)
}

#[cfg(test)]
pub const PLACES: &[Place] = &[
    Place {
        name: "image, tags, environment:url, matrix values, plain variables",
        encode: plain,
        evaluate: evaluate_expanded,
    },
    Place {
        name: "rules:if operand",
        encode: |text| {
            Some(match rule_literal(text) {
                RuleOperand::String(s) | RuleOperand::Pattern(s) => s,
            })
        },
        evaluate: evaluate_rule_operand,
    },
    Place {
        name: "rules:if glob pattern",
        encode: |text| {
            let literal = crate::model::glob::is_literal(text);
            literal.then(|| crate::export::glob::regex(text, crate::export::glob::Dialect::GitLab))
        },
        evaluate: evaluate_rule_operand,
    },
];

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::export::literal::{assert_place_keeps_text, hostile_text};

    #[test]
    fn the_model_expands_references_and_dollar_pairs() {
        assert_eq!(evaluate_expanded("a $$ b $"), Ok("a $ b $".into()));
        assert!(evaluate_expanded("$CI_JOB_NAME").is_err());
        assert!(evaluate_expanded("${X}").is_err());
        assert!(evaluate_expanded("%PATH%").is_err());
        assert_eq!(evaluate_expanded("100% of 5%"), Ok("100% of 5%".into()));
    }

    #[test]
    fn rule_operands_never_hold_a_dollar() {
        assert_eq!(rule_literal("main"), RuleOperand::String("\"main\"".into()));
        assert_eq!(
            rule_literal("$CI_JOB_NAME"),
            RuleOperand::Pattern("/^\\x{24}CI_JOB_NAME$/".into())
        );
        let glob = crate::export::glob::regex("feat/$X*", crate::export::glob::Dialect::GitLab);
        assert_eq!(glob, "/^feat\\/\\x{24}X.*$/");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn every_place_keeps_hostile_text(text in hostile_text()) {
            assert_place_keeps_text(PLACES, &text);
        }
    }
}
