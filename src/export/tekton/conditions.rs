//! Conditions on Tekton: `when` expressions where they can say it, else a first task.
//!
//! A Tekton `when` expression tests whether a value is (`in`) or is not (`notin`) one of a
//! list of strings, and a task's expressions must all hold. That says any conjunction of
//! comparisons, and a disjunction of equalities on one variable; it has no glob. A job whose
//! effective condition is richer is guarded by the result of the task `cdl-conditions`,
//! which evaluates the condition in POSIX shell with cdl's semantics and writes `true` or
//! `false`. The pipeline's parameters reach both as values, never as code.

use super::model::WhenExpression;
use crate::plan::CompareOp;
use crate::plan::{Condition, Variable};

/// The `when` expressions that say `condition`, or `None` when they cannot.
pub fn native(condition: &Condition) -> Option<Vec<WhenExpression>> {
    if *condition == Condition::Const(false) {
        return Some(vec![WhenExpression {
            input: "false".into(),
            operator: "in",
            values: vec!["true".into()],
        }]);
    }
    Some(
        tests(condition, false)?
            .into_iter()
            .map(|test| WhenExpression {
                input: super::inputs::when_input(&test.variable),
                operator: if test.include { "in" } else { "notin" },
                values: test.values,
            })
            .collect(),
    )
}

/// The variable's value is (`include`) or is not one of `values`.
struct Test {
    variable: Variable,
    include: bool,
    values: Vec<String>,
}

/// The tests whose conjunction is `condition` (negated when `negate`); empty when it always
/// holds; `None` when `when` expressions cannot say it.
fn tests(condition: &Condition, negate: bool) -> Option<Vec<Test>> {
    match condition {
        Condition::Const(value) if *value != negate => Some(Vec::new()),
        Condition::Const(_) => None,
        Condition::Not(inner) => tests(inner, !negate),
        Condition::And(items) if !negate => conjunction(items, negate),
        Condition::Or(items) if negate => conjunction(items, negate),
        Condition::And(items) | Condition::Or(items) => disjunction(items, negate),
        // v2 i13d: the new atoms are not parameters of the pipeline run: the conditions
        // task evaluates them (i13m: inputs are, `inputs.rs`).
        Condition::Compare {
            variable:
                Variable::Repository
                | Variable::OnDefaultBranch
                | Variable::Var(_)
                | Variable::Secret(_)
                | Variable::Changed,
            ..
        } => None,
        Condition::Compare {
            variable,
            op,
            value,
        } => {
            let literal = match op {
                CompareOp::Matches if value.chars().all(|c| c == '*') && !value.is_empty() => {
                    return (!negate).then(Vec::new);
                }
                CompareOp::Matches if !crate::model::glob::is_literal(value) => return None,
                // Tekton substitutes `$(params.…)` in `when` values too: such a value is
                // compared by the conditions task, which reads it from a variable.
                _ if super::substitutes(value) => return None,
                _ => value.clone(),
            };
            Some(vec![Test {
                variable: variable.clone(),
                include: (*op != CompareOp::NotEqual) != negate,
                values: vec![literal],
            }])
        }
    }
}

fn conjunction(items: &[Condition], negate: bool) -> Option<Vec<Test>> {
    let mut all = Vec::new();
    for item in items {
        all.extend(tests(item, negate)?);
    }
    Some(all)
}

/// A disjunction is one `in` test when every operand is an equality on the same variable.
fn disjunction(items: &[Condition], negate: bool) -> Option<Vec<Test>> {
    let mut merged: Option<Test> = None;
    for item in items {
        let mut parts = tests(item, negate)?;
        if parts.is_empty() {
            return Some(Vec::new());
        }
        let part = parts.pop().filter(|p| parts.is_empty() && p.include)?;
        match &mut merged {
            None => merged = Some(part),
            Some(test) if test.variable == part.variable => {
                for value in part.values {
                    if !test.values.contains(&value) {
                        test.values.push(value);
                    }
                }
            }
            Some(_) => return None,
        }
    }
    Some(merged.into_iter().collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::export::oracle;

    use oracle::compare;

    fn rendered(condition: &Condition) -> Option<Vec<String>> {
        native(condition).map(|list| {
            list.into_iter()
                .map(|w| format!("{} {} {:?}", w.input, w.operator, w.values))
                .collect()
        })
    }

    /// Tekton's evaluation of native `when` expressions (every one must hold: the input is,
    /// or is not, one of the values), with the pipeline's parameters set from the run; where
    /// `native` declines, the shared shell test decides (see `condition::shell`).
    #[test]
    fn native_expressions_agree_with_cdl_on_every_kind_of_run() {
        let mut native_count = 0;
        for condition in oracle::conditions() {
            let Some(expressions) = native(&condition) else {
                continue;
            };
            native_count += 1;
            for run in oracle::runs() {
                let holds = expressions.iter().all(|w| {
                    let input = match w.input.as_str() {
                        "$(params.branch)" => run.branch.clone().unwrap_or_default(),
                        "$(params.tag)" => run.tag.clone().unwrap_or_default(),
                        "$(params.event)" => run.event.clone(),
                        // v2 i13m: an input's parameter.
                        other if other.starts_with("$(params.input_") => {
                            let name = &other["$(params.input_".len()..other.len() - 1];
                            run.inputs.get(name).cloned().unwrap_or_default()
                        }
                        other => other.to_string(),
                    };
                    w.values.contains(&input) == (w.operator == "in")
                });
                assert_eq!(holds, condition.evaluate(&run), "{condition} on {run:?}");
            }
        }
        assert!(native_count > 50, "{native_count}");
    }

    #[test]
    fn conjunctions_and_one_variable_disjunctions_are_native() {
        let main = compare(Variable::Branch, CompareOp::Equal, "main");
        let develop = compare(Variable::Branch, CompareOp::Matches, "develop");
        let pr = compare(Variable::Event, CompareOp::Equal, "pull_request");
        let condition = Condition::And(vec![
            Condition::Or(vec![main.clone(), develop.clone()]),
            Condition::Not(Box::new(pr.clone())),
        ]);
        assert_eq!(
            rendered(&condition).unwrap(),
            [
                "$(params.branch) in [\"main\", \"develop\"]",
                "$(params.event) notin [\"pull_request\"]"
            ]
        );
        let negated_or = Condition::Not(Box::new(Condition::Or(vec![main.clone(), pr.clone()])));
        assert_eq!(
            rendered(&negated_or).unwrap(),
            [
                "$(params.branch) notin [\"main\"]",
                "$(params.event) notin [\"pull_request\"]"
            ]
        );
        assert_eq!(rendered(&Condition::Or(vec![main.clone(), pr])), None);
        assert_eq!(
            rendered(&compare(Variable::Tag, CompareOp::Matches, "v*")),
            None
        );
        assert_eq!(
            rendered(&compare(Variable::Tag, CompareOp::Matches, "**")).unwrap(),
            Vec::<String>::new()
        );
        assert_eq!(
            rendered(&compare(
                Variable::Branch,
                CompareOp::Equal,
                "$(params.branch)"
            )),
            None
        );
        assert_eq!(
            rendered(&Condition::Const(false)).unwrap(),
            ["false in [\"true\"]"]
        );
    }
}
