//! Conditions as GitLab `rules: if:` expressions over its predefined variables. GitLab's
//! expressions have no `!`, so negations are pushed down to the comparisons.
//!
//! The model of a run: `branch` is a branch pipeline's `CI_COMMIT_BRANCH` or a merge request
//! pipeline's `CI_MERGE_REQUEST_SOURCE_BRANCH_NAME` (the one that is set); `tag` is
//! `CI_COMMIT_TAG`; `event` is read from `CI_PIPELINE_SOURCE` (`push` with a branch or a
//! tag, `merge_request_event`, `schedule`, and `web` for `manual`).

use super::expansion;
use crate::export::glob;
use crate::plan::CompareOp;
use crate::plan::{Condition, Variable};

/// An expression in negation normal form.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    Const(bool),
    Atom(Atom),
    And(Vec<Expr>),
    Or(Vec<Expr>),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Atom {
    /// `$VAR != null` (`present`) or `$VAR == null`.
    Defined {
        variable: &'static str,
        present: bool,
    },
    /// `$VAR == "text"` (`equal`) or `$VAR != "text"`.
    Equals {
        variable: &'static str,
        text: String,
        equal: bool,
    },
    /// `$VAR =~ /glob/` (`matching`) or `$VAR !~ /glob/`.
    Matches {
        variable: &'static str,
        glob: String,
        matching: bool,
    },
}

pub const SOURCE: &str = "$CI_PIPELINE_SOURCE";
pub const BRANCH: &str = "$CI_COMMIT_BRANCH";
pub const MERGE_REQUEST_BRANCH: &str = "$CI_MERGE_REQUEST_SOURCE_BRANCH_NAME";
pub const TAG: &str = "$CI_COMMIT_TAG";

/// A condition's expression, simplified: `Const` when it always or never holds.
pub fn expression(condition: &Condition) -> Expr {
    simplify(translate(condition, false))
}

/// The GitLab variables that hold a cdl variable.
fn variables(variable: Variable) -> &'static [&'static str] {
    match variable {
        Variable::Branch => &[BRANCH, MERGE_REQUEST_BRANCH],
        Variable::Tag => &[TAG],
        Variable::Event => &[SOURCE],
    }
}

/// `all` of the parts, or `any` when negated.
fn each(parts: Vec<Expr>, negate: bool) -> Expr {
    if negate {
        Expr::Or(parts)
    } else {
        Expr::And(parts)
    }
}

/// `any` of the parts, or `all` when negated.
fn either(parts: Vec<Expr>, negate: bool) -> Expr {
    if negate {
        Expr::And(parts)
    } else {
        Expr::Or(parts)
    }
}

/// The condition, negated when `negate`.
fn translate(condition: &Condition, negate: bool) -> Expr {
    match condition {
        Condition::Const(value) => Expr::Const(*value != negate),
        Condition::Not(inner) => translate(inner, !negate),
        Condition::And(items) => each(items.iter().map(|c| translate(c, negate)).collect(), negate),
        Condition::Or(items) => {
            either(items.iter().map(|c| translate(c, negate)).collect(), negate)
        }
        Condition::Compare {
            variable,
            op,
            value,
        } => {
            let negate = negate != (*op == CompareOp::NotEqual);
            if *variable == Variable::Event {
                return event(value, negate);
            }
            let names = variables(*variable);
            let atoms = |atom: &dyn Fn(&'static str) -> Atom| -> Vec<Expr> {
                names.iter().map(|n| Expr::Atom(atom(n))).collect()
            };
            if value.is_empty() {
                // No branch (or tag): none of its variables is set.
                return each(
                    atoms(&|variable| Atom::Defined {
                        variable,
                        present: negate,
                    }),
                    negate,
                );
            }
            match op {
                CompareOp::Matches if glob::matches_empty(value) => Expr::Const(!negate),
                CompareOp::Matches => either(
                    atoms(&|variable| Atom::Matches {
                        variable,
                        glob: value.clone(),
                        matching: !negate,
                    }),
                    negate,
                ),
                _ => either(
                    atoms(&|variable| Atom::Equals {
                        variable,
                        text: value.clone(),
                        equal: !negate,
                    }),
                    negate,
                ),
            }
        }
    }
}

/// `event == NAME`, negated when `negate`.
fn event(name: &str, negate: bool) -> Expr {
    let source = |text: &str| {
        Expr::Atom(Atom::Equals {
            variable: SOURCE,
            text: text.to_string(),
            equal: !negate,
        })
    };
    let defined = |variable| {
        Expr::Atom(Atom::Defined {
            variable,
            present: !negate,
        })
    };
    match name {
        "push" => each(vec![source("push"), defined(BRANCH)], negate),
        "tag" => each(vec![source("push"), defined(TAG)], negate),
        "pull_request" => source("merge_request_event"),
        "manual" => source("web"),
        other => source(other),
    }
}

/// Folds constants, flattens nested operators of one kind and drops repeated operands.
fn simplify(expression: Expr) -> Expr {
    let (items, all) = match expression {
        Expr::And(items) => (items, true),
        Expr::Or(items) => (items, false),
        other => return other,
    };
    let mut operands: Vec<Expr> = Vec::new();
    for item in items.into_iter().map(simplify) {
        let inner = match item {
            Expr::Const(value) if value == all => continue,
            Expr::Const(value) => return Expr::Const(value),
            Expr::And(inner) if all => inner,
            Expr::Or(inner) if !all => inner,
            other => vec![other],
        };
        for operand in inner {
            if !operands.contains(&operand) {
                operands.push(operand);
            }
        }
    }
    match operands.len() {
        0 => Expr::Const(all),
        1 => operands.pop().expect("one operand"),
        _ if all => Expr::And(operands),
        _ => Expr::Or(operands),
    }
}

/// The expression as GitLab writes it; `None` for a constant (a rule without `if:`).
pub fn render(expression: &Expr) -> Option<String> {
    let part = |e: &Expr| match e {
        Expr::And(_) | Expr::Or(_) => format!("({})", render(e).unwrap_or_default()),
        _ => render(e).unwrap_or_default(),
    };
    match expression {
        Expr::Const(_) => None,
        Expr::Atom(atom) => Some(render_atom(atom)),
        Expr::And(items) => Some(items.iter().map(part).collect::<Vec<_>>().join(" && ")),
        Expr::Or(items) => Some(items.iter().map(part).collect::<Vec<_>>().join(" || ")),
    }
}

fn render_atom(atom: &Atom) -> String {
    match atom {
        Atom::Defined { variable, present } => {
            format!("{variable} {} null", if *present { "!=" } else { "==" })
        }
        Atom::Equals {
            variable,
            text,
            equal,
        } => match expansion::rule_literal(text) {
            expansion::RuleOperand::String(string) => {
                let op = if *equal { "==" } else { "!=" };
                format!("{variable} {op} {string}")
            }
            expansion::RuleOperand::Pattern(pattern) => {
                let op = if *equal { "=~" } else { "!~" };
                format!("{variable} {op} {pattern}")
            }
        },
        Atom::Matches {
            variable,
            glob: pattern,
            matching,
        } => {
            let op = if *matching { "=~" } else { "!~" };
            format!("{variable} {op} {}", expansion::rule_glob(pattern))
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::export::oracle::{self, compare};
    use crate::plan::{RunContext, glob_matches};

    fn rule(condition: &Condition) -> Option<String> {
        render(&expression(condition))
    }

    /// The predefined variables GitLab sets for a run, in the model of the module comment.
    fn gitlab_variables(context: &RunContext) -> HashMap<&'static str, String> {
        let mut vars = HashMap::new();
        let branch = context.branch.clone().filter(|b| !b.is_empty());
        let source = match context.event.as_str() {
            "push" | "tag" => "push",
            "pull_request" => "merge_request_event",
            "manual" => "web",
            other => other,
        };
        vars.insert(SOURCE, source.to_string());
        if let Some(tag) = context.tag.clone().filter(|t| !t.is_empty()) {
            vars.insert(TAG, tag);
        } else if let Some(branch) = branch {
            let name = if context.event == "pull_request" {
                MERGE_REQUEST_BRANCH
            } else {
                BRANCH
            };
            vars.insert(name, branch);
        }
        vars
    }

    /// GitLab's evaluation: an unset variable is null, equal to nothing and matching nothing.
    fn evaluate(expression: &Expr, vars: &HashMap<&'static str, String>) -> bool {
        match expression {
            Expr::Const(value) => *value,
            Expr::And(items) => items.iter().all(|e| evaluate(e, vars)),
            Expr::Or(items) => items.iter().any(|e| evaluate(e, vars)),
            Expr::Atom(Atom::Defined { variable, present }) => {
                vars.contains_key(variable) == *present
            }
            Expr::Atom(Atom::Equals {
                variable,
                text,
                equal,
            }) => (vars.get(variable) == Some(text)) == *equal,
            Expr::Atom(Atom::Matches {
                variable,
                glob,
                matching,
            }) => vars.get(variable).is_some_and(|v| glob_matches(glob, v)) == *matching,
        }
    }

    #[test]
    fn rules_agree_with_cdl_on_every_kind_of_run() {
        oracle::agrees(
            |condition, run| evaluate(&expression(condition), &gitlab_variables(run)),
            |condition| format!("{:?}", render(&expression(condition))),
        );
    }

    #[test]
    fn branches_cover_merge_requests() {
        assert_eq!(
            rule(&compare(Variable::Branch, CompareOp::Equal, "main")).unwrap(),
            "$CI_COMMIT_BRANCH == \"main\" || $CI_MERGE_REQUEST_SOURCE_BRANCH_NAME == \"main\""
        );
        assert_eq!(
            rule(&compare(Variable::Branch, CompareOp::NotEqual, "main")).unwrap(),
            "$CI_COMMIT_BRANCH != \"main\" && $CI_MERGE_REQUEST_SOURCE_BRANCH_NAME != \"main\""
        );
    }

    #[test]
    fn negations_are_pushed_to_the_comparisons() {
        let condition = Condition::Not(Box::new(Condition::And(vec![
            compare(Variable::Event, CompareOp::Equal, "tag"),
            compare(Variable::Tag, CompareOp::Matches, "v*"),
        ])));
        assert_eq!(
            rule(&condition).unwrap(),
            "$CI_PIPELINE_SOURCE != \"push\" || $CI_COMMIT_TAG == null || $CI_COMMIT_TAG !~ /^v.*$/"
        );
    }

    #[test]
    fn empty_values_compare_with_null() {
        assert_eq!(
            rule(&compare(Variable::Tag, CompareOp::Equal, "")).unwrap(),
            "$CI_COMMIT_TAG == null"
        );
        assert_eq!(
            expression(&compare(Variable::Tag, CompareOp::Matches, "*")),
            Expr::Const(true)
        );
    }

    #[test]
    fn quotes_fall_back_to_a_regex() {
        assert_eq!(
            rule(&compare(Variable::Tag, CompareOp::Equal, "a\"b'c")).unwrap(),
            "$CI_COMMIT_TAG =~ /^a\\x{22}b\\x{27}c$/"
        );
    }
}
