//! Conditions as Argo `when` fields: an expression tag, `{{=…}}`, that Argo evaluates with
//! expr-lang over the workflow's parameters `branch`, `tag` and `event`, giving `true` or
//! `false` for `when` to read.
//!
//! The parameters are variables of the expression, never text pasted into it, so a branch
//! named `x"||"a"=="a` is compared, not evaluated. Strings of the pipeline file are written
//! as expr string literals with every brace escaped, so that no `}}` ends the tag early.

use crate::export::glob;
use crate::plan::CompareOp;
use crate::plan::Condition;

/// The `when` of a job whose effective condition is `condition`; `None` when it always runs.
pub fn when(condition: &Condition) -> Option<String> {
    match condition {
        Condition::Const(true) => None,
        Condition::Const(false) => Some("false".into()),
        other => Some(format!("{{{{={}}}}}", expression(other))),
    }
}

fn expression(condition: &Condition) -> String {
    match condition {
        Condition::Const(value) => value.to_string(),
        Condition::Compare {
            variable,
            op,
            value,
        } => {
            let variable = format!("workflow.parameters.{}", variable.as_str());
            match op {
                CompareOp::Equal => format!("{variable} == {}", literal(value)),
                CompareOp::NotEqual => format!("{variable} != {}", literal(value)),
                CompareOp::Matches => {
                    format!("{variable} matches {}", literal(&regex(value)))
                }
            }
        }
        Condition::And(items) => joined(items, " && "),
        Condition::Or(items) => joined(items, " || "),
        Condition::Not(inner) => format!("!({})", expression(inner)),
    }
}

fn joined(items: &[Condition], op: &str) -> String {
    items
        .iter()
        .map(|item| match item {
            Condition::And(_) | Condition::Or(_) => format!("({})", expression(item)),
            _ => expression(item),
        })
        .collect::<Vec<_>>()
        .join(op)
}

/// The glob as an anchored RE2 regular expression (Go's `regexp`, which expr's `matches`
/// uses): GitLab's translation without its `/…/` delimiters.
fn regex(glob: &str) -> String {
    let delimited = glob::gitlab_regex(glob);
    delimited[1..delimited.len() - 1].to_string()
}

/// An expr string literal: single quotes, with backslashes, quotes, braces and control
/// characters escaped.
pub(super) fn literal(text: &str) -> String {
    let mut out = String::from("'");
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '{' | '}' => out.push_str(&format!("\\u{:04x}", c as u32)),
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::Variable;

    fn compare(variable: Variable, op: CompareOp, value: &str) -> Condition {
        Condition::Compare {
            variable,
            op,
            value: value.into(),
        }
    }

    #[test]
    fn conditions_become_expression_tags() {
        let condition = Condition::Or(vec![
            Condition::And(vec![
                compare(Variable::Event, CompareOp::Equal, "push"),
                compare(Variable::Branch, CompareOp::Equal, "main"),
            ]),
            Condition::Not(Box::new(compare(Variable::Tag, CompareOp::Matches, "v*"))),
        ]);
        assert_eq!(
            when(&condition).unwrap(),
            "{{=(workflow.parameters.event == 'push' && workflow.parameters.branch == 'main') \
             || !(workflow.parameters.tag matches '^v.*$')}}"
        );
        assert_eq!(when(&Condition::Const(true)), None);
        assert_eq!(when(&Condition::Const(false)).unwrap(), "false");
    }

    #[test]
    fn literals_cannot_end_the_tag() {
        assert_eq!(literal("a}}b'\\"), "'a\\u007d\\u007db\\'\\\\'");
        assert_eq!(regex("release/?.x"), "^release\\/.\\.x$");
    }
}
