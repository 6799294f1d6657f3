//! The run context every exported job gets (`CDL_EVENT`, `CDL_BRANCH`, `CDL_TAG`, `CDL_SHA`,
//! `CDL_PR_TARGET`, `CDL_DEFAULT_BRANCH`, `CDL_REPOSITORY`, `CDL_WORKSPACE`; docs/plan.md):
//! a target says where its system keeps each value, and the job's shell sets them before its
//! steps. A value the system does not have is empty (the default branch: `main`), and each job
//! whose commands name it gets a W0200.

use super::{Lossy, shell};
use crate::plan::{Job, Plan};

/// Where a target's shell reads each value. `event` is a POSIX sh script that sets
/// `CDL_EVENT`; the others are shell words (parameter expansions of the system's variables),
/// `None` when the system has no such value.
pub struct Sources {
    pub system: &'static str,
    pub event: &'static str,
    pub branch: &'static str,
    pub tag: &'static str,
    pub sha: &'static str,
    pub pr_target: Option<&'static str>,
    pub default_branch: Option<&'static str>,
    pub repository: &'static str,
}

/// The variables, in the order jobs get them.
pub const VARIABLES: [&str; 10] = [
    "CDL_EVENT",
    "CDL_BRANCH",
    "CDL_TAG",
    "CDL_SHA",
    "CDL_PR_TARGET",
    "CDL_DEFAULT_BRANCH",
    "CDL_REPOSITORY",
    "CDL_OWNER",
    "CDL_PROJECT",
    "CDL_WORKSPACE",
];

/// The shell lines that split `CDL_REPOSITORY` into `CDL_OWNER` (up to the last `/`, empty
/// without one) and `CDL_PROJECT` (after it), as `cdl run` splits it.
pub const OWNER_AND_PROJECT: &str = "case $CDL_REPOSITORY in */*) CDL_OWNER=${CDL_REPOSITORY%/*} ;; *) CDL_OWNER= ;; esac\nCDL_PROJECT=${CDL_REPOSITORY##*/}";

/// The default branch when neither the file nor the system says it.
const FALLBACK_DEFAULT_BRANCH: &str = "main";

/// The script that sets and exports the context, run in the job's working folder (which
/// becomes `CDL_WORKSPACE`). The only text of the pipeline file in it is `default_branch`,
/// shell-quoted.
pub fn script(plan: &Plan, sources: &Sources) -> String {
    let fixed = plan.pipeline.default_branch.as_deref().map(shell::quote);
    script_with(sources, fixed)
}

/// [`script`], with the default branch the file fixes given as a shell word (a target that
/// substitutes its own syntax in scripts passes it through a variable of its own).
pub fn script_with(sources: &Sources, fixed_default_branch: Option<String>) -> String {
    let default_branch = match (fixed_default_branch, sources.default_branch) {
        (Some(word), _) => word,
        (None, Some(word)) => word.to_string(),
        (None, None) => FALLBACK_DEFAULT_BRANCH.to_string(),
    };
    format!(
        "{}\nCDL_BRANCH={}\nCDL_TAG={}\nCDL_SHA={}\nCDL_PR_TARGET={}\nCDL_DEFAULT_BRANCH={default_branch}\nCDL_REPOSITORY={}\n{OWNER_AND_PROJECT}\nCDL_WORKSPACE=$PWD\nexport {}",
        sources.event.trim_end(),
        sources.branch,
        sources.tag,
        sources.sha,
        sources.pr_target.unwrap_or(""),
        sources.repository,
        VARIABLES.join(" ")
    )
}

/// A W0200 for each value `sources` has no source for that `job`'s commands read.
pub fn missing_in(plan: &Plan, job: &Job, sources: &Sources) -> Vec<Lossy> {
    let mut absent: Vec<(&str, &str, &str)> = Vec::new();
    if sources.pr_target.is_none() {
        absent.push((
            "CDL_PR_TARGET",
            "empty",
            "pass the value to the job another way (a variable of the CI system's settings)",
        ));
    }
    if sources.default_branch.is_none() && plan.pipeline.default_branch.is_none() {
        absent.push((
            "CDL_DEFAULT_BRANCH",
            "`main`",
            "set `default_branch = \"…\"` on the pipeline to give every target the same value",
        ));
    }
    absent
        .into_iter()
        .filter(|(name, _, _)| job.steps.iter().any(|step| step.contains(name)))
        .map(|(name, value, help)| {
            Lossy::at(
                job,
                format!(
                    "{} has no value for `{name}`, which this job's commands read: it is {value} there",
                    sources.system
                ),
                help,
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SOURCES: Sources = Sources {
        system: "Test CI",
        event: "CDL_EVENT=push",
        branch: "${B:-}",
        tag: "${T:-}",
        sha: "${S:-}",
        pr_target: None,
        default_branch: None,
        repository: "${R:-}",
    };

    fn plan(text: &str) -> Plan {
        let compilation = crate::compile::compile_text("p.cdl", None, text.into());
        assert!(!compilation.has_errors(), "{:?}", compilation.diagnostics);
        crate::plan::build(&compilation).expect("a plan")
    }

    /// Runs the context script with `sh` in a folder and returns the exported values.
    fn exported(script: &str, env: &[(&str, &str)]) -> Vec<String> {
        let dir = tempfile::tempdir().unwrap();
        let printer = VARIABLES
            .iter()
            .map(|v| format!("printf '%s\\n' \"${v}\""))
            .collect::<Vec<_>>()
            .join("; ");
        let output = std::process::Command::new("sh")
            .arg("-c")
            .arg(format!("{script}\nsh -c \"$PRINTER\""))
            .current_dir(dir.path())
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("PRINTER", printer)
            .envs(env.iter().copied())
            .output()
            .unwrap();
        assert!(output.status.success(), "{output:?}");
        let mut values: Vec<String> = String::from_utf8(output.stdout)
            .unwrap()
            .lines()
            .map(str::to_string)
            .collect();
        let workspace = values.pop().unwrap();
        assert_eq!(
            std::path::Path::new(&workspace).canonicalize().unwrap(),
            dir.path().canonicalize().unwrap()
        );
        values
    }

    #[test]
    fn the_script_reads_the_systems_variables_and_quotes_the_files_default_branch() {
        let hostile = "ma'in$(touch x)`y`\"";
        let with = plan(&format!(
            "pipeline p {{ default_branch = {}\n stage s {{ job j {{ run = \"echo $CDL_PR_TARGET\" }} }} }}",
            crate::syntax::literal::quote(hostile)
        ));
        let values = exported(
            &script(&with, &SOURCES),
            &[("B", "fe$(x)"), ("T", ""), ("S", "abc"), ("R", "o/n")],
        );
        assert_eq!(
            values,
            ["push", "fe$(x)", "", "abc", "", hostile, "o/n", "o", "n"]
        );
        let without = plan("pipeline p { stage s { job j { run = \"true\" } } }");
        let values = exported(&script(&without, &SOURCES), &[]);
        assert_eq!(values, ["push", "", "", "", "", "main", "", "", ""]);
    }

    /// `CDL_OWNER` and `CDL_PROJECT` split `CDL_REPOSITORY` at its last `/`, as `cdl run`
    /// does, whatever the text.
    #[test]
    fn owner_and_project_split_the_repository_as_cdl_run_does() {
        let without = plan("pipeline p { stage s { job j { run = \"true\" } } }");
        for repository in [
            "gnome/gnome-shell",
            "group/sub group/pro ject",
            "noslash",
            "o/",
            "/n",
            "a*/b?[c]",
            "$(touch x)/`id`",
            "o'\"/n;|&",
            "a/b/c/d",
            "",
        ] {
            let values = exported(&script(&without, &SOURCES), &[("R", repository)]);
            let (owner, project) = crate::model::value::owner_and_project(repository);
            assert_eq!(values[6..], [repository, owner, project], "{repository}");
        }
    }

    #[test]
    fn a_value_the_system_lacks_is_reported_where_commands_read_it() {
        let plan = plan(
            "pipeline p { stage s {
               job reads { run = \"echo $CDL_PR_TARGET $CDL_DEFAULT_BRANCH\" }
               job quiet { run = \"true\" } } }",
        );
        let missing = |sources: &Sources| -> Vec<Lossy> {
            plan.jobs
                .iter()
                .flat_map(|job| missing_in(&plan, job, sources))
                .collect()
        };
        let lossy = missing(&SOURCES);
        assert_eq!(lossy.len(), 2, "{lossy:?}");
        assert!(lossy.iter().all(|l| l.message.contains("Test CI")));
        let fixed = Sources {
            pr_target: Some("${P:-}"),
            default_branch: Some("${D:-}"),
            ..SOURCES
        };
        assert!(missing(&fixed).is_empty());
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(48))]

        /// The file's `default_branch`, however hostile, reaches the commands exactly.
        #[test]
        fn a_hostile_default_branch_reaches_the_commands(
            text in crate::export::literal::hostile_text()
        ) {
            let Some(plan) = crate::export::literal::plan_with_text(&text) else {
                return Ok(());
            };
            let output = std::process::Command::new("sh")
                .arg("-c")
                .arg(format!("{}\nsh -c 'printf %s \"$CDL_DEFAULT_BRANCH\"'", script(&plan, &SOURCES)))
                .output()
                .unwrap();
            proptest::prop_assert!(output.status.success(), "{:?}", output);
            proptest::prop_assert_eq!(String::from_utf8_lossy(&output.stdout), text);
        }
    }
}
