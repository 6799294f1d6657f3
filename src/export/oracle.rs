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

/// v2 i13d: what the runs vary for the new atoms, each run taking the next of each list.
pub const REPOSITORIES: [&str; 3] = ["acme/release", "acme-x/release", "other/app"];
pub const DEFAULT_BRANCHES: [&str; 3] = ["main", "develop", "release/1.2"];
/// The choice input `target`, the bool input `dry_run`, the var `FLAG` (`None`: unset) and
/// the secret `TOKEN` (set or not).
pub const TARGETS: [&str; 4] = ["staging", "production", "", "a\"b'c"];
pub const FLAGS: [Option<&str>; 4] = [None, Some(""), Some("1"), Some("x$y.z")];

/// v2 i14b: the changed files of the runs (`None`: everything counts as changed), each run
/// taking the next: none, nested and top-level files, spaces, unicode, quotes, `$`, `#`.
pub const CHANGED: [Option<&[&str]>; 5] = [
    None,
    Some(&[]),
    Some(&["src/main.rs", "docs/a b/été.md"]),
    Some(&["README.md", "src/lib/x.rs", "it's $(x) \"q\" #1.txt"]),
    Some(&["Cargo.lock", "src/lib/deep/y.rs"]),
];

/// v2 i14b: the path globs the oracle's `changed()` conditions test.
pub const PATH_GLOBS: [&str; 11] = [
    "src/**",
    "src/*",
    "*.md",
    "**/*.md",
    "docs/**",
    "[!s]*",
    "src/lib/*/?.rs",
    "it's $(x) \"q\" #[0-9].txt",
    "docs/a b/*",
    "**",
    "Cargo.lock",
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
            let i = runs.len();
            let mut vars = std::collections::BTreeMap::new();
            if let Some(flag) = FLAGS[i % FLAGS.len()] {
                vars.insert("FLAG".to_string(), flag.to_string());
            }
            runs.push(RunContext {
                branch,
                tag,
                event: event.to_string(),
                repository: REPOSITORIES[i % REPOSITORIES.len()].to_string(),
                default_branch: DEFAULT_BRANCHES[(i / 2) % DEFAULT_BRANCHES.len()].to_string(),
                inputs: [
                    (
                        "target".to_string(),
                        TARGETS[(i / 3) % TARGETS.len()].to_string(),
                    ),
                    ("dry_run".to_string(), (i % 2 == 0).to_string()),
                ]
                .into(),
                vars,
                secrets: if (i / 5) % 2 == 0 {
                    ["TOKEN".to_string()].into()
                } else {
                    Default::default()
                },
                changed: CHANGED[(i / 4) % CHANGED.len()]
                    .map(|files| files.iter().map(|f| f.to_string()).collect()),
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
                push(compare(variable.clone(), op, value));
            }
        }
    }
    for event in EVENTS {
        for op in [CompareOp::Equal, CompareOp::NotEqual] {
            push(compare(Variable::Event, op, event));
        }
    }
    // v2 i13d: the new atoms.
    let all = [CompareOp::Equal, CompareOp::NotEqual, CompareOp::Matches];
    // (`==` takes a repository's characters only: the checker refuses a glob there.)
    for value in ["acme/release", "other/app", "acme/", "acme-x/release"] {
        for op in all {
            push(compare(Variable::Repository, op, value));
        }
    }
    for value in ["acme-*/release", "*", "acme/*", "[a-z]*/rel?ase"] {
        push(compare(Variable::Repository, CompareOp::Matches, value));
    }
    for op in [CompareOp::Equal, CompareOp::NotEqual] {
        push(compare(Variable::OnDefaultBranch, op, "true"));
        push(compare(Variable::Secret("TOKEN".into()), op, ""));
    }
    let target = Variable::Input("target".into());
    let dry_run = Variable::Input("dry_run".into());
    let flag = Variable::Var("FLAG".into());
    for op in all {
        for value in ["staging", "production", "", "a\"b'c", "prod*", "*"] {
            push(compare(target.clone(), op, value));
        }
        for value in ["", "1", "x$y.z", "x$*", "*"] {
            push(compare(flag.clone(), op, value));
        }
    }
    for op in [CompareOp::Equal, CompareOp::NotEqual] {
        push(compare(dry_run.clone(), op, "true"));
        push(compare(dry_run.clone(), op, "false"));
    }
    // v2 i14b: `changed("glob")`, alone and beside other atoms.
    for glob in PATH_GLOBS {
        push(compare(Variable::Changed, CompareOp::Matches, glob));
    }
    push(Condition::Or(vec![
        compare(Variable::Changed, CompareOp::Matches, "docs/**"),
        compare(Variable::Changed, CompareOp::Matches, "Cargo.lock"),
    ]));
    push(Condition::And(vec![
        compare(Variable::Branch, CompareOp::Equal, "main"),
        compare(Variable::Changed, CompareOp::Matches, "src/**"),
    ]));
    push(Condition::And(vec![
        compare(target, CompareOp::Equal, "production"),
        compare(dry_run, CompareOp::Equal, "false"),
        compare(Variable::OnDefaultBranch, CompareOp::Equal, "true"),
        compare(flag, CompareOp::NotEqual, ""),
    ]));
    conditions
}

/// Checks a target's translation of every oracle condition on every run: `holds(condition,
/// run)` is whether the target would run the job; `shown` is the translation, for the message.
// v2 i14b: every target in this branch adjusts the runs for `changed()`; kept for targets
// that see every value of a run.
#[allow(dead_code)]
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

/// [`agrees`], on the oracle's runs as `adjust` changes them: for a target that cannot see a
/// value (Jenkins' and Argo's default branch is `main`), its documented stand-in.
pub fn agrees_with(
    adjust: impl Fn(&mut RunContext),
    holds: impl Fn(&Condition, &RunContext) -> bool,
    shown: impl Fn(&Condition) -> String,
) {
    let runs: Vec<RunContext> = runs()
        .into_iter()
        .map(|mut run| {
            adjust(&mut run);
            run
        })
        .collect();
    for condition in &conditions() {
        for run in &runs {
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
        // v2 i13d: each new atom holds on some run and fails on another.
        for atom in [
            compare(Variable::OnDefaultBranch, CompareOp::Equal, "true"),
            compare(Variable::Secret("TOKEN".into()), CompareOp::NotEqual, ""),
            compare(Variable::Var("FLAG".into()), CompareOp::NotEqual, ""),
            compare(Variable::Var("FLAG".into()), CompareOp::Equal, "1"),
            compare(
                Variable::Input("target".into()),
                CompareOp::Equal,
                "production",
            ),
            compare(Variable::Input("dry_run".into()), CompareOp::Equal, "true"),
            compare(Variable::Repository, CompareOp::Matches, "acme-*/release"),
            // v2 i14b
            compare(Variable::Changed, CompareOp::Matches, "src/**"),
            compare(Variable::Changed, CompareOp::Matches, "**/*.md"),
            compare(
                Variable::Changed,
                CompareOp::Matches,
                "it's $(x) \"q\" #[0-9].txt",
            ),
        ] {
            assert!(runs.iter().any(|r| atom.evaluate(r)), "{atom}");
            assert!(runs.iter().any(|r| !atom.evaluate(r)), "{atom}");
        }
    }
}
