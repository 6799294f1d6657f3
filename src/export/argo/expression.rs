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
use crate::plan::{Condition, Variable};

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

/// v2 i13d: the workflow parameter that holds an input, and one that holds a var.
pub fn input_parameter(name: &str) -> String {
    format!("input_{name}")
}

pub fn var_parameter(name: &str) -> String {
    format!("var_{name}")
}

/// expr-lang's syntax: a comparison binds looser than `!`.
struct Expr;

impl Syntax<Comparison> for Expr {
    fn atom(&self, atom: &Comparison) -> String {
        let variable = match &atom.variable {
            Variable::Branch | Variable::Tag | Variable::Event => {
                format!("workflow.parameters.{}", atom.variable.as_str())
            }
            // v2 i13d: the repository is the end of the parameter `repo` (a URL).
            Variable::Repository => {
                let value = &atom.value;
                let matching = [format!("*[:/]{value}"), format!("*[:/]{value}.git")]
                    .map(|g| {
                        format!(
                            "workflow.parameters.repo matches {}",
                            literal(&glob::regex(&g, glob::Dialect::Re2))
                        )
                    })
                    .join(" || ");
                return match atom.op {
                    CompareOp::NotEqual => format!("!({matching})"),
                    CompareOp::Equal if value.is_empty() => "false".into(),
                    _ => format!("({matching})"),
                };
            }
            // Argo has no default branch: `main` (a pipeline that fixes its own has it
            // substituted in the plan); reported by the exporter.
            Variable::OnDefaultBranch => {
                let test = "workflow.parameters.branch == 'main'";
                return match condition::boolean_cases(atom.op, &atom.value) {
                    (true, true) => "true".into(),
                    (false, false) => "false".into(),
                    (true, false) => format!("({test})"),
                    (false, true) => format!("!({test})"),
                };
            }
            Variable::Input(name) => {
                format!("workflow.parameters[{}]", literal(&input_parameter(name)))
            }
            Variable::Var(name) => {
                format!("workflow.parameters[{}]", literal(&var_parameter(name)))
            }
            // v2 i14b: decided before (export::changed): everything counts as changed.
            Variable::Changed => return (atom.op != CompareOp::NotEqual).to_string(),
            // A secret cannot be read by the controller: taken as set (reported).
            Variable::Secret(_) => {
                let set = match atom.op {
                    CompareOp::Equal => atom.value == "set",
                    CompareOp::NotEqual => atom.value != "set",
                    CompareOp::Matches => crate::model::glob_matches(&atom.value, "set"),
                };
                return set.to_string();
            }
        };
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
        // Argo has no default branch (`main`) and cannot tell whether a secret is set
        // (taken as set): the oracle's runs say so.
        oracle::agrees_with(
            |run| {
                run.default_branch = "main".into();
                run.secrets = ["TOKEN".to_string()].into();
                // v2 i14b: `changed()` is decided before, as everything changed.
                run.changed = None;
            },
            |condition, run| {
                condition::lower(condition).evaluate(&|comparison| {
                    let written = Expr.atom(comparison);
                    if let Some(value) = new_atom(&written, run) {
                        return value;
                    }
                    let (variable, rest) = written.split_once(' ').unwrap();
                    let (op, operand) = rest.split_once(' ').unwrap();
                    let actual = match variable {
                        v if v.starts_with("workflow.parameters['input_") => {
                            let name = &v["workflow.parameters['input_".len()..v.len() - 2];
                            run.inputs.get(name).cloned().unwrap_or_default()
                        }
                        v if v.starts_with("workflow.parameters['var_") => {
                            let name = &v["workflow.parameters['var_".len()..v.len() - 2];
                            run.vars.get(name).cloned().unwrap_or_default()
                        }
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

    /// v2 i13d: the atoms written as more than one comparison (the repository), or as a
    /// constant (a secret, taken as set), evaluated as Argo would.
    fn new_atom(written: &str, run: &crate::plan::RunContext) -> Option<bool> {
        match written {
            "true" => return Some(true),
            "false" => return Some(false),
            _ => {}
        }
        let url = format!("https://github.com/{}.git", run.repository);
        let branch = run.branch.clone().unwrap_or_default();
        let (negated, inner) = match written.strip_prefix('!') {
            Some(rest) => (true, rest),
            None => (false, written),
        };
        let inner = inner.strip_prefix('(')?.strip_suffix(')')?;
        let holds = if inner == "workflow.parameters.branch == 'main'" {
            branch == "main"
        } else {
            inner.split(" || ").any(|part| {
                let regex = part
                    .strip_prefix("workflow.parameters.repo matches ")
                    .unwrap();
                glob::regex_matches(&read_literal(regex), &url)
            })
        };
        Some(holds != negated)
    }

    #[test]
    fn literals_cannot_end_the_tag() {
        assert_eq!(literal("a}}b'\\"), "'a\\u007d\\u007db\\'\\\\'");
        let regex = glob::regex("release/?.x", glob::Dialect::Re2);
        assert_eq!(regex, "^release\\/.\\.x$");
    }
}
