//! Values passed between jobs (language v2 §4 "Passing values") in every export. The step
//! runner (`steps.rs`) checks what a job wrote to `$CDL_VALUES` against its `values` on every
//! target (an undeclared name fails the job, as in `cdl run`) and hands each declared value to
//! the target's own mechanism, chosen by `CDL_OUT_TARGET`:
//!
//! - GitHub: a step output written in the heredoc form with a random delimiter → the job's
//!   `outputs` → `${{ needs.JOB.outputs.NAME }}` in the `env:` of each job that waits for it
//!   (which then names the writer in `needs:`, as GitHub requires).
//! - GitLab: an `artifacts:reports:dotenv` file of `CDL_VALUE_<JOB>_<NAME>=o<octal bytes>`
//!   lines — GitLab strips dotenv values, splits a line at its last `=` and expands `$` in
//!   variables, so each byte travels as three octal digits and is decoded in `before_script`
//!   of the jobs that wait for it. The file must stay under 5 KB (the runner fails the job
//!   with a message otherwise).
//! - Buildkite: `buildkite-agent meta-data set`, read back with `meta-data get` before the
//!   commands of the jobs that wait for it (each value stored behind a `v`, as meta-data
//!   cannot be empty).
//! - CircleCI: one file per value in the workflow's workspace (`cdl-values/<job>/<name>`),
//!   persisted by the writer and read by the jobs that wait for it, which attach it.
//! - Jenkins (i13m): one file per value (`files`), read into the build's `env` by `readFile`
//!   and given to the jobs that wait for it (`jenkins/values.rs`).
//! - Tekton (i13m): one file per value in the run's folder of the workspace (`files`), read
//!   as on CircleCI (`tekton/values.rs`).
//! - Argo Workflows: not passed (W0200 on the writing job).
//!
//! Every name this file hands out takes `CDL_OUT_`, never `CDL_VALUE_`.

use indexmap::IndexMap;

use super::Lossy;
use crate::model::values::VALUE_PREFIX;
use crate::plan::{Job, Plan};

/// The GitHub id of the step that runs a job's steps, whose outputs are the job's values.
pub const GITHUB_STEP_ID: &str = "cdl-steps";

/// The file GitLab reads a job's values from (`artifacts:reports:dotenv`).
pub const GITLAB_DOTENV: &str = "cdl-values.env";

/// GitLab's smallest default limit on the variables of one dotenv report (older releases).
const GITLAB_MAX_VARIABLES: usize = 20;

/// `CDL_VALUE_<JOB>_`: what a job's value variables start with.
pub fn variable_prefix(job: &Job) -> String {
    format!(
        "{VALUE_PREFIX}{}_",
        job.name.to_ascii_uppercase().replace('-', "_")
    )
}

/// The variables of the step runner that pass `job`'s values on for `target`.
fn out_env(
    job: &Job,
    target: &str,
    prefix: String,
    file: Option<&str>,
) -> IndexMap<String, String> {
    let mut env = IndexMap::new();
    if job.values.is_empty() {
        return env;
    }
    env.insert("CDL_OUT_TARGET".into(), target.into());
    env.insert("CDL_OUT_PREFIX".into(), prefix);
    if let Some(file) = file {
        env.insert("CDL_OUT_FILE".into(), file.into());
    }
    env
}

/// GitHub: the runner's variables, and the job's `outputs`.
pub fn github_outputs(job: &Job) -> (IndexMap<String, String>, IndexMap<String, String>) {
    let mut env = out_env(job, "github", String::new(), None);
    env.shift_remove("CDL_OUT_PREFIX");
    let outputs = job
        .values
        .iter()
        .map(|name| {
            (
                name.clone(),
                format!("${{{{ steps.{GITHUB_STEP_ID}.outputs.{name} }}}}"),
            )
        })
        .collect();
    (env, outputs)
}

/// GitHub: the `env:` entries of a job that reads values, and the writers' ids it must
/// name in `needs:`.
pub fn github_reads(
    plan: &Plan,
    job: &Job,
    key: &dyn Fn(&str) -> String,
) -> (IndexMap<String, String>, Vec<String>) {
    let mut env = IndexMap::new();
    let mut needs = Vec::new();
    for read in plan.values_read(job) {
        let writer = key(&read.job.id);
        env.insert(
            read.variable,
            format!("${{{{ needs.{writer}.outputs.{} }}}}", read.name),
        );
        if !needs.contains(&writer) {
            needs.push(writer);
        }
    }
    (env, needs)
}

/// GitLab: the runner's variables of a job that writes values, and what the export cannot
/// keep.
pub fn gitlab_outputs(job: &Job) -> (IndexMap<String, String>, Vec<Lossy>) {
    let env = out_env(job, "gitlab", variable_prefix(job), Some(GITLAB_DOTENV));
    let mut lossy = Vec::new();
    if job.values.len() > GITLAB_MAX_VARIABLES {
        lossy.push(Lossy::at(
            job,
            format!(
                "the job declares {} values; GitLab's dotenv report accepts {GITLAB_MAX_VARIABLES} variables by default on older releases (50 on GitLab.com Free)",
                job.values.len()
            ),
            "GitLab fails the job's report beyond its instance's limit; fewer values, or a file in an artifact, avoid it",
        ));
    }
    (env, lossy)
}

/// Decodes one value written by [`gitlab_outputs`] (`o` then three octal digits a byte).
pub const GITLAB_DECODE_FUNCTION: &str = r#"cdl_decode_value() { case $1 in o*) printf '%b' "$(printf '%s' "${1#o}" | sed 's/[0-7][0-7][0-7]/\\0&/g')" ;; esac; }"#;

/// GitLab: the `before_script` lines of a job that reads values (none when it reads none).
pub fn gitlab_reads(plan: &Plan, job: &Job) -> Vec<String> {
    let reads = plan.values_read(job);
    if reads.is_empty() {
        return Vec::new();
    }
    let mut lines = vec![GITLAB_DECODE_FUNCTION.to_string()];
    for read in reads {
        let variable = read.variable;
        lines.push(format!(
            "{variable}=$(cdl_decode_value \"${{{variable}:-}}\"); export {variable}"
        ));
    }
    lines
}

/// Buildkite: the runner's variables of a job that writes values.
pub fn buildkite_outputs(job: &Job) -> IndexMap<String, String> {
    out_env(job, "buildkite", format!("cdl-value-{}-", job.name), None)
}

/// Buildkite: the command lines, before a job's own, that read the values it waits for.
pub fn buildkite_reads(plan: &Plan, job: &Job) -> Vec<String> {
    plan.values_read(job)
        .into_iter()
        .map(|read| {
            let variable = read.variable;
            format!(
                "{variable}=$(buildkite-agent meta-data get 'cdl-value-{}-{}' --default v); {variable}=${{{variable}#v}}; export {variable}",
                read.job.name, read.name
            )
        })
        .collect()
}

/// A folder of one file per value (CircleCI's workspace): the runner's variables of a job
/// that writes values into `root/cdl-values/<job>`, and that folder relative to `root`.
pub fn files_outputs(job: &Job, root: &str) -> (IndexMap<String, String>, String) {
    let folder = format!("cdl-values/{}", job.name);
    (
        out_env(
            job,
            "files",
            String::new(),
            Some(&format!("{root}/{folder}")),
        ),
        folder,
    )
}

/// A folder of one file per value: the lines, before a job's commands, that read the values
/// it waits for from `root` (a value whose file is missing is empty).
pub fn files_reads(plan: &Plan, job: &Job, root: &str) -> Vec<String> {
    plan.values_read(job)
        .into_iter()
        .map(|read| {
            let variable = read.variable;
            format!(
                "{variable}=$(cat '{root}/cdl-values/{}/{}' 2>/dev/null || true); export {variable}",
                read.job.name, read.name
            )
        })
        .collect()
}

/// The W0200 of a job whose values `target` does not pass on.
pub fn not_passed(job: &Job, target: &str) -> Option<Lossy> {
    let first = job.values.first()?;
    Some(Lossy::at(
        job,
        format!(
            "{target}: the values of `{}` are not passed to the jobs that wait for it",
            job.name
        ),
        format!(
            "they read `{}` and the others empty; the job's undeclared values still fail it",
            crate::model::values::value_variable(&job.name, first)
        ),
    ))
}

#[cfg(test)]
mod tests {
    //! The step runner is run for real (`sh`), and what it hands each target is read back by
    //! a model of that target: GitHub's `$GITHUB_OUTPUT` parser, GitLab's dotenv parser and
    //! variable expansion followed by the decoding lines, Buildkite's meta-data store (a fake
    //! `buildkite-agent`). Each must give the value `cdl run` reads from the same file.
    use std::path::Path;
    use std::process::Command;

    use proptest::prelude::*;

    use super::*;
    use crate::model::values::read_values;

    const NAMES: &str = "text empty";

    /// Runs the step runner with one step writing `text=<value>`; returns its exit status.
    fn run_runner(dir: &Path, value: &str, target: &[(&str, String)]) -> bool {
        let mut command = Command::new("sh");
        command
            .arg("-c")
            .arg(super::super::steps::STEP_RUNNER)
            .current_dir(dir)
            .env("CDL_STEP_COUNT", "1")
            .env("CDL_STEP_1_NAME", "one")
            .env(
                "CDL_STEP_1",
                "printf 'text=%s\\n' \"$HOSTILE\" >> \"$CDL_VALUES\"",
            )
            .env("HOSTILE", value)
            .env("CDL_OUT_NAMES", NAMES);
        for (k, v) in target {
            command.env(k, v);
        }
        command.output().expect("sh runs").status.success()
    }

    /// What `cdl run` gives the later jobs.
    fn expected(value: &str) -> IndexMap<String, String> {
        let declared: Vec<String> = NAMES.split(' ').map(String::from).collect();
        read_values(&format!("text={value}\n"), &declared).unwrap()
    }

    /// GitHub's reading of `$GITHUB_OUTPUT`: `NAME=VALUE`, or `NAME<<DELIMITER` then lines up
    /// to the delimiter's own line (whichever of `=` and `<<` comes first decides).
    fn github_model(text: &str) -> IndexMap<String, String> {
        let mut values = IndexMap::new();
        let mut lines = text.split('\n');
        while let Some(line) = lines.next() {
            if line.is_empty() {
                continue;
            }
            let equals = line.find('=');
            let heredoc = line.find("<<");
            match (equals, heredoc) {
                (Some(e), h) if h.is_none_or(|h| e < h) => {
                    values.insert(line[..e].to_string(), line[e + 1..].to_string());
                }
                (_, Some(h)) => {
                    let delimiter = &line[h + 2..];
                    let mut body = Vec::new();
                    loop {
                        let next = lines.next().expect("the delimiter closes the value");
                        if next == delimiter {
                            break;
                        }
                        body.push(next);
                    }
                    values.insert(line[..h].to_string(), body.join("\n"));
                }
                _ => panic!("GitHub rejects the line {line:?}"),
            }
        }
        values
    }

    /// GitLab's dotenv parser (`^(.*)=(.*)$`, both sides stripped, a variable name, at most
    /// 5 KB); the value must hold nothing GitLab's variable expansion would touch.
    fn gitlab_model(text: &str) -> IndexMap<String, String> {
        assert!(text.len() < 5120);
        text.lines()
            .map(|line| {
                let at = line.rfind('=').expect("a dotenv line has `=`");
                let (key, value) = (line[..at].trim(), line[at + 1..].trim());
                assert!(crate::model::steps::is_variable_name(key), "{key}");
                assert!(value.chars().all(|c| c == 'o' || ('0'..='7').contains(&c)));
                (key.to_string(), value.to_string())
            })
            .collect()
    }

    fn shell_output(script: &str, env: &[(String, String)], path: Option<&Path>) -> String {
        let mut command = Command::new("sh");
        command.arg("-c").arg(script);
        for (k, v) in env {
            command.env(k, v);
        }
        if let Some(dir) = path {
            let path = format!(
                "{}:{}",
                dir.display(),
                std::env::var("PATH").unwrap_or_default()
            );
            command.env("PATH", path);
        }
        let out = command.output().expect("sh runs");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    fn plan() -> Plan {
        let text = include_str!("../../tests/fixtures/ok/hostile_values.cdl");
        let compilation = crate::compile::compile_text("v.cdl", None, text.to_string());
        crate::plan::build(&compilation).expect("the fixture plans")
    }

    fn hostile() -> impl Strategy<Value = String> {
        let pieces = prop::sample::select(vec![
            "${{ github.sha }}",
            "$HOME",
            "${X}",
            "$$",
            "$(id)",
            "`id`",
            "{{x}}",
            "<<EOF",
            "EOF",
            "\"",
            "'",
            "\\",
            "\\n",
            "#",
            ": ",
            " ",
            "=",
            "%s",
            "%b",
            "\\0101",
            "o101",
            "\t",
            "é",
            "x",
            "-",
            "ghadelimiter_1",
        ]);
        prop::collection::vec(pieces, 0..8).prop_map(|p| p.concat())
    }

    fn check_all(value: &str) {
        let expected = expected(value);
        let dir = tempfile::tempdir().unwrap();
        let plan = plan();
        let source = plan.job("source").unwrap();
        let sink = plan.job("sink").unwrap();

        // GitHub: outputs → needs.JOB.outputs.NAME in the reader's env.
        let output = dir.path().join("github_output");
        std::fs::write(&output, "").unwrap();
        let (mut env, outputs) = github_outputs(source);
        env.insert("GITHUB_OUTPUT".into(), output.display().to_string());
        let env: Vec<(&str, String)> = env.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
        assert!(run_runner(dir.path(), value, &env));
        let step_outputs = github_model(&std::fs::read_to_string(&output).unwrap());
        let (reads, needs) = github_reads(&plan, sink, &|id| id.to_string());
        assert_eq!(needs, ["source"]);
        for (variable, expression) in &reads {
            let name = expression
                .strip_prefix("${{ needs.source.outputs.")
                .and_then(|e| e.strip_suffix(" }}"))
                .unwrap();
            assert_eq!(
                outputs[name],
                format!("${{{{ steps.{GITHUB_STEP_ID}.outputs.{name} }}}}")
            );
            let got = step_outputs.get(name).cloned().unwrap_or_default();
            assert_eq!(&got, &expected[name], "GitHub, {variable}");
        }

        // GitLab: a dotenv report, decoded in the reader's before_script.
        let (env, _) = gitlab_outputs(source);
        let mut env: Vec<(&str, String)> =
            env.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
        env.retain(|(k, _)| *k != "CDL_OUT_FILE");
        let dotenv = dir.path().join("values.env");
        env.push(("CDL_OUT_FILE", dotenv.display().to_string()));
        assert!(run_runner(dir.path(), value, &env));
        let variables: Vec<(String, String)> =
            gitlab_model(&std::fs::read_to_string(&dotenv).unwrap())
                .into_iter()
                .collect();
        let mut script = gitlab_reads(&plan, sink).join("\n");
        script.push_str("\nprintf '%s|' \"$CDL_VALUE_SOURCE_TEXT\" \"$CDL_VALUE_SOURCE_EMPTY\"");
        let got = shell_output(&script, &variables, None);
        assert_eq!(
            got,
            format!("{}|{}|", expected["text"], expected["empty"]),
            "GitLab"
        );

        // Buildkite: meta-data set by the writer, got by the reader.
        let bin = dir.path().join("bin");
        std::fs::create_dir(&bin).unwrap();
        let store = dir.path().join("meta");
        std::fs::create_dir(&store).unwrap();
        let agent = bin.join("buildkite-agent");
        std::fs::write(
            &agent,
            format!(
                "#!/bin/sh\nset -e\ncase $2 in\n  set) printf '%s' \"$4\" > '{0}'/\"$3\" ;;\n  get) if [ -f '{0}'/\"$3\" ]; then cat '{0}'/\"$3\"; else printf '%s' \"$5\"; fi ;;\nesac\n",
                store.display()
            ),
        )
        .unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&agent, std::fs::Permissions::from_mode(0o755)).unwrap();
        let env: Vec<(String, String)> = buildkite_outputs(source)
            .into_iter()
            .chain([(
                "PATH".to_string(),
                format!(
                    "{}:{}",
                    bin.display(),
                    std::env::var("PATH").unwrap_or_default()
                ),
            )])
            .collect();
        let env: Vec<(&str, String)> = env.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
        assert!(run_runner(dir.path(), value, &env));
        let mut script = buildkite_reads(&plan, sink).join("\n");
        script.push_str("\nprintf '%s|' \"$CDL_VALUE_SOURCE_TEXT\" \"$CDL_VALUE_SOURCE_EMPTY\"");
        let got = shell_output(&script, &[], Some(&bin));
        assert_eq!(
            got,
            format!("{}|{}|", expected["text"], expected["empty"]),
            "Buildkite"
        );

        // CircleCI: a workspace folder of one file per value.
        let workspace = dir.path().join("workspace");
        let root = workspace.display().to_string();
        let (env, _) = files_outputs(source, &root);
        let env: Vec<(&str, String)> = env.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
        assert!(run_runner(dir.path(), value, &env));
        let mut script = files_reads(&plan, sink, &root).join("\n");
        script.push_str("\nprintf '%s|' \"$CDL_VALUE_SOURCE_TEXT\" \"$CDL_VALUE_SOURCE_EMPTY\"");
        let got = shell_output(&script, &[], None);
        assert_eq!(
            got,
            format!("{}|{}|", expected["text"], expected["empty"]),
            "CircleCI"
        );
    }

    #[test]
    fn fixed_hostile_values_arrive_exactly_on_every_target_that_passes_values() {
        for value in [
            "",
            " lead and trail ",
            "a=b=c",
            "x\\0101$HOME",
            "<<EOF",
            "%s%b\\n",
        ] {
            check_all(value);
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]
        #[test]
        fn random_hostile_values_arrive_exactly(value in hostile()) {
            check_all(&value);
        }
    }

    #[test]
    fn an_undeclared_value_fails_the_runner_on_every_target() {
        let dir = tempfile::tempdir().unwrap();
        let mut command = Command::new("sh");
        let out = command
            .arg("-c")
            .arg(super::super::steps::STEP_RUNNER)
            .current_dir(dir.path())
            .env("CDL_STEP_COUNT", "1")
            .env("CDL_STEP_1_NAME", "one")
            .env("CDL_STEP_1", "echo tag=1 >> \"$CDL_VALUES\"")
            .env("CDL_OUT_NAMES", "version")
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1));
        assert!(String::from_utf8_lossy(&out.stderr).contains("`tag`"));
    }
}
