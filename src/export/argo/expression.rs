//! Conditions as Argo `when` fields: an expression tag, `{{=…}}`, that Argo evaluates with
//! expr-lang over the workflow's parameters `branch`, `tag` and `event`, giving `true` or
//! `false` for `when` to read.
//!
//! The parameters are variables of the expression, never text pasted into it, so a branch
//! named `x"||"a"=="a` is compared, not evaluated. Strings of the pipeline file are written
//! as expr string literals with every brace escaped, so that no `}}` ends the tag early.

use crate::export::condition::{self, Comparison, Syntax};
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
    condition::render(&condition::lower(condition), &Expr)
}

/// expr-lang's syntax: a comparison binds looser than `!`.
struct Expr;

impl Syntax<Comparison> for Expr {
    fn atom(&self, atom: &Comparison) -> String {
        let variable = format!("workflow.parameters.{}", atom.variable.as_str());
        let value = &atom.value;
        match atom.op {
            CompareOp::Equal => format!("{variable} == {}", literal(value)),
            CompareOp::NotEqual => format!("{variable} != {}", literal(value)),
            CompareOp::Matches => format!(
                "{variable} matches {}",
                literal(&glob::regex(value, glob::Dialect::Re2))
            ),
        }
    }
    fn atom_binds(&self, _atom: &Comparison) -> u8 {
        2
    }
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
    use crate::export::oracle;
    use crate::plan::Variable;

    use oracle::compare;

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

    /// expr's reading of a string literal written by [`literal`]: `\\`, `\'` and `\uXXXX`.
    fn read_literal(text: &str) -> String {
        let inner = &text[1..text.len() - 1];
        let mut out = String::new();
        let mut chars = inner.chars();
        while let Some(c) = chars.next() {
            match c {
                '\\' => match chars.next().unwrap() {
                    'u' => {
                        let hex: String = chars.by_ref().take(4).collect();
                        out.push(char::from_u32(u32::from_str_radix(&hex, 16).unwrap()).unwrap());
                    }
                    other => out.push(other),
                },
                '\'' => panic!("an unescaped quote ends {text} early"),
                c => out.push(c),
            }
        }
        out
    }

    /// Argo's evaluation of each comparison as written: the workflow's parameters are the
    /// run's branch, tag (empty when there is none) and event; `matches` is Go's `regexp`.
    #[test]
    fn expressions_agree_with_cdl_on_every_kind_of_run() {
        oracle::agrees(
            |condition, run| {
                condition::lower(condition).evaluate(&|comparison| {
                    let written = Expr.atom(comparison);
                    let (variable, rest) = written.split_once(' ').unwrap();
                    let (op, operand) = rest.split_once(' ').unwrap();
                    let actual = match variable {
                        "workflow.parameters.branch" => run.branch.clone().unwrap_or_default(),
                        "workflow.parameters.tag" => run.tag.clone().unwrap_or_default(),
                        _ => run.event.clone(),
                    };
                    let operand = read_literal(operand);
                    match op {
                        "==" => actual == operand,
                        "!=" => actual != operand,
                        _ => glob::regex_matches(&operand, &actual),
                    }
                })
            },
            |condition| when(condition).unwrap_or_default(),
        );
    }

    #[test]
    fn literals_cannot_end_the_tag() {
        assert_eq!(literal("a}}b'\\"), "'a\\u007d\\u007db\\'\\\\'");
        let regex = glob::regex("release/?.x", glob::Dialect::Re2);
        assert_eq!(regex, "^release\\/.\\.x$");
    }
}
