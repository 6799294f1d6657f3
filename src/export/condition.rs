//! Effective conditions: a job runs when its own `when` holds and none of its explicit needs
//! was skipped, so an exporter that skips by condition gives each job the conjunction of its
//! own condition and those of everything it reaches through explicit needs.

use std::collections::HashMap;

use crate::plan::Condition;
use crate::plan::Plan;

/// Each job's effective condition, by id; `Const(true)` when it always runs.
pub fn effective(plan: &Plan) -> HashMap<&str, Condition> {
    let mut result: HashMap<&str, Condition> = HashMap::new();
    // Jobs are in topological order: every need is done before the jobs that name it.
    for job in &plan.jobs {
        let mut parts: Vec<Condition> = job.condition.iter().cloned().collect();
        for need in &job.needs {
            if let Some(condition) = result.get(need.as_str()) {
                parts.push(condition.clone());
            }
        }
        result.insert(job.id.as_str(), simplify(Condition::And(parts)));
    }
    result
}

/// Flattens nested `and`/`or`, folds constants and drops repeated operands.
pub fn simplify(condition: Condition) -> Condition {
    match condition {
        Condition::And(items) => combine(items, true),
        Condition::Or(items) => combine(items, false),
        Condition::Not(inner) => match simplify(*inner) {
            Condition::Const(value) => Condition::Const(!value),
            Condition::Not(inner) => *inner,
            other => Condition::Not(Box::new(other)),
        },
        other => other,
    }
}

/// `and` (`all = true`) or `or` of simplified operands.
fn combine(items: Vec<Condition>, all: bool) -> Condition {
    let mut operands: Vec<Condition> = Vec::new();
    for item in items.into_iter().map(simplify) {
        match item {
            Condition::Const(value) if value == all => {}
            Condition::Const(value) => return Condition::Const(value),
            Condition::And(inner) if all => push_unique(&mut operands, inner),
            Condition::Or(inner) if !all => push_unique(&mut operands, inner),
            other => push_unique(&mut operands, vec![other]),
        }
    }
    match operands.len() {
        0 => Condition::Const(all),
        1 => operands.pop().expect("one operand"),
        _ if all => Condition::And(operands),
        _ => Condition::Or(operands),
    }
}

fn push_unique(operands: &mut Vec<Condition>, items: Vec<Condition>) {
    for item in items {
        if !operands.contains(&item) {
            operands.push(item);
        }
    }
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
