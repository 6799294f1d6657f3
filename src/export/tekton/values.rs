//! Values between jobs on Tekton (v2 §4 "Passing values", i13m): through the run's folder of
//! the `artifacts` workspace, as CircleCI's workspace (`export/values.rs`, `files_*`). The
//! step runner writes each declared value to `<run>/cdl-values/<job>/<name>` once the steps
//! passed; a job that waits for the writer reads each file before its commands (a missing
//! file, from a writer that was skipped, is the empty value, as in `cdl run`). Task results
//! are not used: Tekton skips a task that reads a result of a skipped task, where cdl runs it
//! with the empty value.

use crate::export::kubernetes::Script;
use crate::plan::{Job, Plan};

/// Whether the job's Task needs the workspace for values.
pub fn uses_workspace(plan: &Plan, job: &Job) -> bool {
    !job.values.is_empty() || !plan.values_read(job).is_empty()
}

/// Whether the Pipeline needs the workspace for values.
pub fn any(plan: &Plan) -> bool {
    plan.jobs.iter().any(|j| !j.values.is_empty())
}

/// The runner's variables of a writer and the reading lines of a reader, under `root` (the
/// run's folder, in Tekton's references).
pub fn script(plan: &Plan, job: &Job, root: &str, script: &mut Script) {
    let (env, _) = crate::export::values::files_outputs(job, root);
    for (name, value) in env {
        script.own(&name, value);
    }
    for line in crate::export::values::files_reads(plan, job, root) {
        script.setup_line(&line);
    }
}

#[cfg(test)]
mod tests {
    use std::process::Command;

    use super::*;

    /// Tekton's substitution of the two references in the root, then `sh`.
    #[test]
    fn values_reach_the_readers_through_the_workspace_exactly() {
        let text = include_str!("../../../tests/fixtures/ok/hostile_values.cdl");
        let compilation = crate::compile::compile_text("v.cdl", None, text.to_string());
        let plan = crate::plan::build(&compilation).unwrap();
        let (source, sink) = (plan.job("source").unwrap(), plan.job("sink").unwrap());
        let dir = tempfile::tempdir().unwrap();
        let root = "$(workspaces.artifacts.path)/$(params.run-id)";
        let substitute = |text: &str| {
            text.replace(
                "$(workspaces.artifacts.path)",
                &dir.path().display().to_string(),
            )
            .replace("$(params.run-id)", "run-1")
        };
        let value = "' $HOME $(id) `id` $$ {{x}} = é ";
        let mut writer = Script::new(super::super::DIALECT);
        script(&plan, source, root, &mut writer);
        let mut command = Command::new("sh");
        command
            .arg("-c")
            .arg(crate::export::steps::STEP_RUNNER)
            .current_dir(dir.path())
            .env("CDL_STEP_COUNT", "1")
            .env("CDL_STEP_1_NAME", "one")
            .env(
                "CDL_STEP_1",
                "printf 'text=%s\\n' \"$HOSTILE\" >> \"$CDL_VALUES\"",
            )
            .env("HOSTILE", value)
            .env("CDL_OUT_NAMES", source.values.join(" "));
        for (k, v) in &writer.env {
            command.env(k, substitute(v));
        }
        assert!(command.output().unwrap().status.success());
        let mut reader = Script::new(super::super::DIALECT);
        script(&plan, sink, root, &mut reader);
        assert!(!reader.env.contains_key("CDL_OUT_TARGET"));
        let body = format!(
            "{}printf '%s|' \"$CDL_VALUE_SOURCE_TEXT\" \"$CDL_VALUE_SOURCE_EMPTY\"",
            substitute(&reader.prelude())
        );
        let out = Command::new("sh").arg("-c").arg(body).output().unwrap();
        assert_eq!(String::from_utf8(out.stdout).unwrap(), format!("{value}||"));
    }
}
