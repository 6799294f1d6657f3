//! Conditions as GitLab `rules: if:` expressions over its predefined variables. GitLab's
//! expressions have no `!`, so negations are pushed down to the comparisons.
//!
//! The model of a run: `branch` is a branch pipeline's `CI_COMMIT_BRANCH` or a merge request
//! pipeline's `CI_MERGE_REQUEST_SOURCE_BRANCH_NAME` (the one that is set); `tag` is
//! `CI_COMMIT_TAG`; `event` is read from `CI_PIPELINE_SOURCE` (`push` with a branch or a
//! tag, `merge_request_event`, `schedule`, and `web` for `manual`).

use super::expansion;
use crate::export::condition::{self, Bool, Comparison, FieldTest, Syntax};
use crate::export::glob;
use crate::plan::CompareOp;
use crate::plan::{Condition, Variable};

/// An expression in negation normal form.
pub type Expr = Bool<Atom>;

/// A test of one of GitLab's variables: `$VAR == null`, `$VAR == "text"`, `$VAR =~ /…/`.
pub type Atom = FieldTest;

pub const SOURCE: &str = "$CI_PIPELINE_SOURCE";
pub const BRANCH: &str = "$CI_COMMIT_BRANCH";
pub const MERGE_REQUEST_BRANCH: &str = "$CI_MERGE_REQUEST_SOURCE_BRANCH_NAME";
pub const TAG: &str = "$CI_COMMIT_TAG";

/// A condition's expression, simplified: `Const` when it always or never holds.
pub fn expression(condition: &Condition) -> Expr {
    condition::translate(condition, &mut comparison, &FieldTest::negated)
}

/// The GitLab variables that hold a cdl variable.
fn variables(variable: Variable) -> &'static [&'static str] {
    match variable {
        Variable::Branch => &[BRANCH, MERGE_REQUEST_BRANCH],
        Variable::Tag => &[TAG],
        Variable::Event => &[SOURCE],
        _ => &[],
    }
}

/// v2 i13d: `repository`, `branch == default_branch`, `input.X`, `var.X`, `defined(secret.X)`
/// (an input is the variable `CDL_INPUT_<X>` the export declares; a var or a secret is the
/// CI/CD variable of its name).
fn other_comparison(variable: &Variable, op: CompareOp, value: &str) -> Option<Expr> {
    let field = match variable {
        Variable::Repository => "$CI_PROJECT_PATH".to_string(),
        Variable::OnDefaultBranch => {
            let on_default = Bool::Or(vec![
                FieldTest::same(BRANCH, "$CI_DEFAULT_BRANCH"),
                FieldTest::same(MERGE_REQUEST_BRANCH, "$CI_DEFAULT_BRANCH"),
            ]);
            return Some(condition::from_cases(
                condition::boolean_cases(op, value),
                on_default,
            ));
        }
        Variable::Input(name) => format!("${}", crate::model::inputs::input_variable(name)),
        Variable::Var(name) | Variable::Secret(name) => format!("${name}"),
        Variable::Branch | Variable::Tag | Variable::Event => return None,
        // v2 i14b: decided before (export::changed): everything counts as changed.
        Variable::Changed => return Some(Bool::Const(op != CompareOp::NotEqual)),
    };
    Some(condition::text_field(&field, op, value))
}

fn comparison(comparison: Comparison) -> Expr {
    let Comparison {
        variable,
        op,
        value,
    } = comparison;
    if let Some(expr) = other_comparison(&variable, op, &value) {
        return expr;
    }
    let expr = if variable == Variable::Event {
        event(&value)
    } else {
        let atoms = |atom: &dyn Fn(&'static str) -> Expr| -> Vec<Expr> {
            variables(variable.clone())
                .iter()
                .map(|n| atom(n))
                .collect()
        };
        if value.is_empty() {
            // No branch (or tag): none of its variables is set.
            Bool::And(atoms(&|variable| FieldTest::null(variable, true)))
        } else if op == CompareOp::Matches && glob::matches_empty(&value) {
            Bool::Const(true)
        } else if op == CompareOp::Matches {
            Bool::Or(atoms(&|variable| FieldTest::matches(variable, &value)))
        } else {
            Bool::Or(atoms(&|variable| FieldTest::equals(variable, &value)))
        }
    };
    if op == CompareOp::NotEqual {
        expr.negate()
    } else {
        expr
    }
}

/// `event == NAME`.
fn event(name: &str) -> Expr {
    let source = |text: &str| FieldTest::equals(SOURCE, text);
    let defined = |variable| FieldTest::null(variable, false);
    match name {
        "push" => Bool::And(vec![source("push"), defined(BRANCH)]),
        "tag" => Bool::And(vec![source("push"), defined(TAG)]),
        "pull_request" => source("merge_request_event"),
        "manual" => source("web"),
        other => source(other),
    }
}

/// The expression as GitLab writes it; `None` for a constant (a rule without `if:`).
pub fn render(expression: &Expr) -> Option<String> {
    match expression {
        Bool::Const(_) => None,
        other => Some(condition::render(other, &Rules)),
    }
}

/// GitLab's `rules:if` syntax; it has no `!`, and the expressions are in negation normal form.
struct Rules;

impl Syntax<Atom> for Rules {
    fn atom(&self, atom: &Atom) -> String {
        render_atom(atom)
    }
    fn not(&self, _operand: String) -> String {
        unreachable!("rules are in negation normal form")
    }
}

fn render_atom(atom: &Atom) -> String {
    match atom {
        FieldTest::Null { field, .. } => format!("{field} {} null", atom.operator(false)),
        FieldTest::Equals { field, text, .. } => match expansion::rule_literal(text) {
            expansion::RuleOperand::String(string) => {
                format!("{field} {} {string}", atom.operator(false))
            }
            expansion::RuleOperand::Pattern(pattern) => {
                format!("{field} {} {pattern}", atom.operator(true))
            }
        },
        FieldTest::Matches { field, glob, .. } => format!(
            "{field} {} {}",
            atom.operator(true),
            glob::regex(glob, glob::Dialect::GitLab)
        ),
        FieldTest::Same { field, other, .. } => {
            format!("{field} {} {other}", atom.operator(false))
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::export::oracle::{self, compare};
    use crate::plan::RunContext;

    fn rule(condition: &Condition) -> Option<String> {
        render(&expression(condition))
    }

    /// The predefined variables GitLab sets for a run, in the model of the module comment.
    fn gitlab_variables(context: &RunContext) -> HashMap<String, String> {
        let mut vars: HashMap<String, String> = HashMap::new();
        // v2 i13d: the project's path, the default branch, inputs, vars and secrets.
        vars.insert("$CI_PROJECT_PATH".into(), context.repository.clone());
        vars.insert("$CI_DEFAULT_BRANCH".into(), context.default_branch.clone());
        for (name, value) in &context.inputs {
            vars.insert(
                format!("${}", crate::model::inputs::input_variable(name)),
                value.clone(),
            );
        }
        for (name, value) in &context.vars {
            vars.insert(format!("${name}"), value.clone());
        }
        for name in &context.secrets {
            vars.insert(format!("${name}"), "secret value".into());
        }
        let mut insert = |k: &str, v: String| vars.insert(k.to_string(), v);
        let branch = context.branch.clone().filter(|b| !b.is_empty());
        let source = match context.event.as_str() {
            "push" | "tag" => "push",
            "pull_request" => "merge_request_event",
            "manual" => "web",
            other => other,
        };
        insert(SOURCE, source.to_string());
        if let Some(tag) = context.tag.clone().filter(|t| !t.is_empty()) {
            insert(TAG, tag);
        } else if let Some(branch) = branch {
            let name = if context.event == "pull_request" {
                MERGE_REQUEST_BRANCH
            } else {
                BRANCH
            };
            insert(name, branch);
        }
        vars
    }

    /// GitLab's evaluation: an unset variable is null, equal to nothing and matching nothing.
    fn evaluate(expression: &Expr, vars: &HashMap<String, String>) -> bool {
        expression.evaluate(&|atom| {
            atom.holds(
                |field| vars.get(field).cloned(),
                |g, v| glob::regex_matches(&glob::regex(g, glob::Dialect::GitLab), v),
            )
        })
    }

    #[test]
    fn rules_agree_with_cdl_on_every_kind_of_run() {
        // v2 i14b: `changed()` is decided before, as everything changed.
        oracle::agrees_with(
            |run| run.changed = None,
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
            Bool::Const(true)
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
