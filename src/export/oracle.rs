//! The shared test oracle: every kind of run and a set of conditions that each target's
//! translation is checked against, with cdl's own evaluation (`Condition::evaluate`) as the truth.

use crate::plan::{CompareOp, Condition, EVENTS, RunContext, Variable};

/// Branch and tag names the runs use: plain, slashed, version-like, Jenkins' `PR-7`, and
/// names holding both quotes and a backslash.
const NAMES: [&str; 11] = [
    "main",
    "develop",
    "release/1.2",
    "release/1",
    "v1.0",
    "v0.0.0",
    "PR-7",
    "a\"b'c",
    "a'b\\c",
    "v12.3",
    "x$y.z",
];

/// Values the conditions compare with: empty, match-everything, exact, globbed (classes too),
/// hostile.
const VALUES: [&str; 13] = [
    "",
    "*",
    "main",
    "release/*",
    "v?.*",
    "PR-7",
    "a\"b'c",
    "a'b\\c",
    "a\"b\\c",
    "v[0-9]+.[0-9]*",
    "[!mr]*",
    "release/[0-9]",
    "x$y.[a-z]",
];

pub fn compare(variable: Variable, op: CompareOp, value: &str) -> Condition {
    Condition::Compare {
        variable,
        op,
        value: value.into(),
    }
}

/// Every kind of run (each event: push, pull request, tag, schedule, manual) on every name;
/// a tag run has a tag and no branch, every other run a branch and no tag.
pub fn runs() -> Vec<RunContext> {
    let mut runs = Vec::new();
    for event in EVENTS {
        for name in NAMES {
            let (branch, tag) = if event == "tag" {
                (None, Some(name.to_string()))
            } else {
                (Some(name.to_string()), None)
            };
            runs.push(RunContext {
                branch,
                tag,
                event: event.to_string(),
            });
        }
    }
    runs
}

/// The conditions of tests/fixtures/ok/conditions.cdl, then every comparison of every
/// variable with every value and its negation.
pub fn conditions() -> Vec<Condition> {
    let text = include_str!("../../tests/fixtures/ok/conditions.cdl");
    let compilation = crate::compile::compile_text("c.cdl", None, text.to_string());
    let plan = crate::plan::build(&compilation).expect("the fixture plans");
    let mut conditions: Vec<Condition> = plan
        .jobs
        .iter()
        .filter_map(|j| j.condition.clone())
        .collect();
    let mut push = |condition: Condition| {
        conditions.push(Condition::Not(Box::new(condition.clone())));
        conditions.push(condition);
    };
    for variable in [Variable::Branch, Variable::Tag] {
        for value in VALUES {
            for op in [CompareOp::Equal, CompareOp::NotEqual, CompareOp::Matches] {
                push(compare(variable, op, value));
            }
        }
    }
    for event in EVENTS {
        for op in [CompareOp::Equal, CompareOp::NotEqual] {
            push(compare(Variable::Event, op, event));
        }
    }
    conditions
}

/// Checks a target's translation of every oracle condition on every run: `holds(condition,
/// run)` is whether the target would run the job; `shown` is the translation, for the message.
pub fn agrees(
    holds: impl Fn(&Condition, &RunContext) -> bool,
    shown: impl Fn(&Condition) -> String,
) {
    for condition in &conditions() {
        for run in &runs() {
            assert_eq!(
                holds(condition, run),
                condition.evaluate(run),
                "{condition} on {run:?}: {}",
                shown(condition)
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_oracle_covers_every_kind_of_run_and_both_outcomes() {
        let runs = runs();
        for event in EVENTS {
            assert!(runs.iter().any(|r| r.event == event));
        }
        assert!(runs.iter().any(|r| r.branch.is_none() && r.tag.is_some()));
        assert!(conditions().len() > 100);
        let main = compare(Variable::Branch, CompareOp::Equal, "main");
        assert!(runs.iter().any(|r| main.evaluate(r)));
        assert!(runs.iter().any(|r| !main.evaluate(r)));
    }
}
