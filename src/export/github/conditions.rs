//! The script of the workflow's first job, which evaluates every job's effective condition
//! with cdl's semantics (case-sensitive comparisons, `matches` globs) in POSIX shell and
//! publishes each result as a job output `true` or `false`. GitHub's own expressions compare
//! strings without regard to case and have no glob, so they cannot do it exactly.
//!
//! The script reads GitHub's default variables and, for the strings it compares with,
//! variables of its own (`CDL_VALUE_<N>`): no text of the pipeline file is written into it.
//! The test itself is the shared one, `export::condition::shell`.

use indexmap::IndexMap;

use crate::export::condition::shell;
pub use crate::export::condition::shell::defined_secret_variable;
use crate::plan::Condition;

/// Sets `CDL_EVENT`, `CDL_BRANCH` and `CDL_TAG` from GitHub's default variables, the way
/// `cdl run` sees a run: a pull request's branch is its source branch; a tag has no branch.
const CONTEXT: &str = r#"case "$GITHUB_EVENT_NAME" in
  push) if [ "$GITHUB_REF_TYPE" = tag ]; then CDL_EVENT=tag; else CDL_EVENT=push; fi ;;
  workflow_dispatch) CDL_EVENT=manual ;;
  *) CDL_EVENT=$GITHUB_EVENT_NAME ;;
esac
CDL_BRANCH=
CDL_TAG=
if [ -n "${GITHUB_HEAD_REF:-}" ]; then
  CDL_BRANCH=$GITHUB_HEAD_REF
elif [ "$GITHUB_REF_TYPE" = branch ]; then
  CDL_BRANCH=$GITHUB_REF_NAME
elif [ "$GITHUB_REF_TYPE" = tag ]; then
  CDL_TAG=$GITHUB_REF_NAME
fi
echo "cdl: event=$CDL_EVENT branch=$CDL_BRANCH tag=$CDL_TAG"
"#;

/// The script that writes `KEY=true|false` to `$GITHUB_OUTPUT` for each `(key, condition)`
/// (keys are job ids: identifiers), and the variables it reads.
pub fn script(conditions: &[(&str, &Condition)]) -> (String, IndexMap<String, String>) {
    let mut values: IndexMap<String, String> = IndexMap::new();
    let mut tests = String::new();
    for (key, condition) in conditions {
        let test = shell::test(condition, &mut values);
        tests.push_str(&format!(
            "  if {test}; then echo \"{key}=true\"; else echo \"{key}=false\"; fi\n"
        ));
    }
    let env = values
        .into_iter()
        .map(|(text, name)| (name, text))
        .collect();
    (
        format!("{CONTEXT}{{\n{tests}}} >> \"$GITHUB_OUTPUT\"\n"),
        env,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{CompareOp, EVENTS, RunContext, Variable};

    /// GitHub's default variables for a run.
    fn github_variables(run: &RunContext) -> Vec<(&'static str, String)> {
        let branch = run.branch.clone().unwrap_or_default();
        let tag = run.tag.clone().unwrap_or_default();
        let (event, ref_type, ref_name, head) = match run.event.as_str() {
            "tag" => ("push", "tag", tag, String::new()),
            "pull_request" => ("pull_request", "branch", "7/merge".into(), branch),
            "manual" => ("workflow_dispatch", "branch", branch, String::new()),
            other => (other, "branch", branch, String::new()),
        };
        vec![
            ("GITHUB_EVENT_NAME", event.to_string()),
            ("GITHUB_REF_TYPE", ref_type.to_string()),
            ("GITHUB_REF_NAME", ref_name),
            ("GITHUB_HEAD_REF", head),
        ]
    }

    #[test]
    fn the_script_agrees_with_cdl_on_every_kind_of_run() {
        let text = include_str!("../../../tests/fixtures/ok/conditions.cdl");
        let compilation = crate::compile::compile_text("c.cdl", None, text.to_string());
        let plan = crate::plan::build(&compilation).expect("the fixture plans");
        let mut conditions: Vec<(String, Condition)> = plan
            .jobs
            .iter()
            .filter_map(|j| Some((j.id.clone(), j.condition.clone()?)))
            .collect();
        let awkward = Condition::Or(vec![
            Condition::Compare {
                variable: Variable::Branch,
                op: CompareOp::Matches,
                value: "it's [a] $(glob)?*".into(),
            },
            Condition::Compare {
                variable: Variable::Tag,
                op: CompareOp::Equal,
                value: String::new(),
            },
        ]);
        conditions.push(("awkward".into(), awkward));
        let pairs: Vec<(&str, &Condition)> =
            conditions.iter().map(|(k, c)| (k.as_str(), c)).collect();
        let (script, env) = script(&pairs);
        let dir = std::env::temp_dir().join(format!("cdl-conditions-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let output = dir.join("output");
        for event in EVENTS {
            for name in [
                "main",
                "develop",
                "release/1",
                "v1.0",
                "v0.0.0",
                "it's [a] $(glob)!x",
            ] {
                let (branch, tag) = if event == "tag" {
                    (None, Some(name.to_string()))
                } else {
                    (Some(name.to_string()), None)
                };
                let run = RunContext {
                    branch,
                    tag,
                    event: event.to_string(),
                    ..RunContext::default()
                };
                std::fs::write(&output, "").unwrap();
                let status = std::process::Command::new("sh")
                    .args(["-e", "-c", &script])
                    .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
                    .envs(github_variables(&run))
                    .env("GITHUB_OUTPUT", &output)
                    .stdout(std::process::Stdio::null())
                    .status()
                    .unwrap();
                assert!(status.success());
                let written = std::fs::read_to_string(&output).unwrap();
                for (key, condition) in &conditions {
                    let expected = format!("{key}={}", condition.evaluate(&run));
                    assert!(
                        written.lines().any(|l| l == expected),
                        "{condition} on {run:?}: expected {expected} in\n{written}"
                    );
                }
            }
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
