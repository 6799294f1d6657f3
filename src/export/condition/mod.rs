//! The condition layer every exporter shares: effective conditions, the boolean form
//! `Bool<Atom>` a target builds its conditions in (`boolean`), and the POSIX shell test of
//! GitHub's conditions job and Tekton's evaluation task (`shell`).
//!
//! Effective conditions: a job runs when its own `when` holds and none of its explicit needs
//! was skipped, so an exporter that skips by condition gives each job the conjunction of its
//! own condition and those of everything it reaches through explicit needs.

pub mod boolean;
pub mod field;
pub mod shell;

use std::collections::HashMap;

pub use boolean::{Bool, Syntax, render};
pub use field::FieldTest;

use crate::plan::Plan;
use crate::plan::{CompareOp, Condition, Variable};

/// One comparison of a condition, the atom a target translates.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    pub variable: Variable,
    pub op: CompareOp,
    pub value: String,
}

pub use crate::model::condition::boolean_cases;

/// The comparison of a true/false variable as `test` (which holds when it is `"true"`).
pub fn from_cases<A: Clone + PartialEq>(cases: (bool, bool), test: Bool<A>) -> Bool<A> {
    match cases {
        (true, true) => Bool::Const(true),
        (false, false) => Bool::Const(false),
        (true, false) => test,
        (false, true) => Bool::Not(Box::new(test)),
    }
}

/// A comparison of a text field that may be unset (an unset field reads as empty, as
/// `cdl run` reads an unset var), in field tests: `!=` negates `==`.
pub fn text_field(field: &str, op: CompareOp, value: &str) -> Bool<FieldTest> {
    let unset = || FieldTest::null(field, true);
    let positive = match op {
        CompareOp::Matches if crate::export::glob::matches_empty(value) => {
            Bool::Or(vec![unset(), FieldTest::matches(field, value)])
        }
        CompareOp::Matches => FieldTest::matches(field, value),
        _ if value.is_empty() => Bool::Or(vec![unset(), FieldTest::equals(field, "")]),
        _ => FieldTest::equals(field, value),
    };
    if op == CompareOp::NotEqual {
        positive.negate()
    } else {
        positive
    }
}

/// The condition in the shared boolean form, over its comparisons.
pub fn lower(condition: &Condition) -> Bool<Comparison> {
    match condition {
        Condition::Const(value) => Bool::Const(*value),
        Condition::Compare {
            variable,
            op,
            value,
        } => Bool::Atom(Comparison {
            variable: variable.clone(),
            op: *op,
            value: value.clone(),
        }),
        Condition::And(items) => Bool::And(items.iter().map(lower).collect()),
        Condition::Or(items) => Bool::Or(items.iter().map(lower).collect()),
        Condition::Not(inner) => Bool::Not(Box::new(lower(inner))),
    }
}

/// The condition in a target's atoms, in negation normal form and simplified: `comparison`
/// says each comparison (un-negated), `negate_atom` each atom's negation.
pub fn translate<A: Clone + PartialEq>(
    condition: &Condition,
    comparison: &mut impl FnMut(Comparison) -> Bool<A>,
    negate_atom: &impl Fn(A) -> Bool<A>,
) -> Bool<A> {
    lower(condition).map(comparison).nnf(negate_atom).simplify()
}

fn raise(expr: Bool<Comparison>) -> Condition {
    match expr {
        Bool::Const(value) => Condition::Const(value),
        Bool::Atom(Comparison {
            variable,
            op,
            value,
        }) => Condition::Compare {
            variable,
            op,
            value,
        },
        Bool::And(items) => Condition::And(items.into_iter().map(raise).collect()),
        Bool::Or(items) => Condition::Or(items.into_iter().map(raise).collect()),
        Bool::Not(inner) => Condition::Not(Box::new(raise(*inner))),
    }
}

/// Each job's effective condition, by id; `Const(true)` when it always runs.
pub fn effective(plan: &Plan) -> HashMap<&str, Condition> {
    let mut result: HashMap<&str, Condition> = HashMap::new();
    // Jobs are in topological order: every need is done before the jobs that name it.
    for job in &plan.jobs {
        let mut parts: Vec<Condition> = job.condition.iter().cloned().collect();
        // v2 i13f: a job that runs after a failure or always is not skipped with its needs.
        let needs: &[String] = if job.runs == crate::plan::Runs::OnSuccess {
            &job.needs
        } else {
            &[]
        };
        for need in needs {
            if let Some(condition) = result.get(need.as_str()) {
                parts.push(condition.clone());
            }
        }
        result.insert(job.id.as_str(), simplify(Condition::And(parts)));
    }
    result
}

/// Flattens nested `and`/`or`, folds constants, drops repeated and absorbed operands.
pub fn simplify(condition: Condition) -> Condition {
    raise(lower(&condition).simplify())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::CompareOp;
    use crate::plan::Variable;

    fn branch(value: &str) -> Condition {
        Condition::Compare {
            variable: Variable::Branch,
            op: CompareOp::Equal,
            value: value.into(),
        }
    }

    #[test]
    fn simplifies_constants_and_repeats() {
        let main = branch("main");
        assert_eq!(
            simplify(Condition::And(vec![
                Condition::Const(true),
                main.clone(),
                Condition::And(vec![main.clone()])
            ])),
            main
        );
        assert_eq!(
            simplify(Condition::Or(vec![main.clone(), Condition::Const(true)])),
            Condition::Const(true)
        );
        assert_eq!(
            simplify(Condition::Not(Box::new(Condition::Not(Box::new(
                main.clone()
            ))))),
            main
        );
        assert_eq!(simplify(Condition::And(vec![])), Condition::Const(true));
    }
}
