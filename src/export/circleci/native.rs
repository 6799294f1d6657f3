//! A job with orb commands (language v2 §5) as CircleCI steps: the orbs in the config's
//! `orbs:`, an orb command step for each native step and a step-runner `run` for each run of
//! portable steps, keeping cdl's step rules where CircleCI can:
//!
//! - order: the parts in written order; a failed step stops the rest (CircleCI's default);
//! - a runner part with a `runs = always|on_failure` step after the first part runs
//!   `when: always`, just after a `when: on_fail` step that records that an earlier step
//!   failed, so that its `on_success` steps stay skipped (`CDL_PRIOR_STATUS`);
//! - `$CDL_ENV`/`$CDL_PATH` written by a part reach the orb commands and later parts through
//!   `$BASH_ENV` (`export/native.rs`, `part_steps`), which the runner parts source;
//! - `$CDL_VALUES` is one file for all parts (`CDL_VALUES_AT`), written out by the last.
//!
//! An orb command step has no `when`, `environment`, `no_output_timeout` or allowed failure
//! in CircleCI: `runs`, `env`, `timeout` and `allow_failure` of a native step, the job's
//! retries and its allowed failure are W0200s.

use indexmap::IndexMap;

use super::{Step, WORKSPACE, literal_map};
use crate::export::Lossy;
use crate::export::native::{self, Part};
use crate::plan::{Job, Runs};

/// Where a failed step is recorded for the parts that run after it.
const PRIOR: &str = "/tmp/cdl-prior-status";

type MakeRun<'a> = dyn Fn(Option<String>, String, IndexMap<String, String>) -> Step + 'a;

/// The steps of a job with orb commands, the orbs they need (alias → orb), and what is lost.
pub fn steps(
    job: &Job,
    prefix: &str,
    run: &MakeRun,
) -> (Vec<Step>, Vec<(String, String)>, Vec<Lossy>) {
    let (mut parts, mut lossy) = native::parts(job, native::has_circleci, false);
    if job.retries > 0 {
        lossy.push(Lossy::at(
            job,
            format!("CircleCI cannot run the steps of `{}` again around its orb commands: its retries are not kept", job.id),
            "the steps run once",
        ));
    }
    if job.allow_failure {
        lossy.push(Lossy::at(
            job,
            format!(
                "CircleCI cannot let `{}` fail around its orb commands",
                job.id
            ),
            "a failure of the job fails the workflow",
        ));
    }
    if !job.values.is_empty() && matches!(parts.last(), Some(Part::Native(_))) {
        parts.push(Part::Portable(Vec::new()));
    }
    let (values_env, folder) = crate::export::values::files_outputs(job, WORKSPACE);
    let values_at = format!(
        "{WORKSPACE}/cdl-values-{}",
        crate::export::jobs::identifier(&job.id)
    );
    let count = parts.len();
    let mut orbs = Vec::new();
    let mut steps = Vec::new();
    for (index, part) in parts.iter().enumerate() {
        match part {
            Part::Portable(run_steps) => {
                let part = native::part_steps(run_steps, native::Carry::Circleci);
                let (mut env, more) = crate::export::steps::runner_env_for(job, &part);
                lossy.extend(more);
                env.insert("CDL_ATTEMPTS".into(), "1".into());
                if let Some(seconds) = job.timeout_seconds {
                    env.insert("CDL_TIMEOUT".into(), seconds.to_string());
                }
                let mut command = String::from(prefix);
                if !job.values.is_empty() {
                    env.insert("CDL_VALUES_AT".into(), values_at.clone());
                    if index + 1 == count {
                        env.extend(values_env.clone());
                        command.push_str(&format!("mkdir -p '{WORKSPACE}/{folder}'\n"));
                    }
                }
                let after_failure =
                    index > 0 && run_steps.iter().any(|s| s.runs != Runs::OnSuccess);
                if index > 0 {
                    command.push_str("if [ -n \"${BASH_ENV:-}\" ] && [ -f \"$BASH_ENV\" ]; then . \"$BASH_ENV\"; fi\n");
                }
                if after_failure {
                    let mut mark = run(
                        Some("Record that an earlier step failed".into()),
                        format!("echo 1 > {PRIOR}\n"),
                        IndexMap::new(),
                    );
                    if let Step::Run(r) = &mut mark {
                        r.when = Some("on_fail");
                    }
                    steps.push(mark);
                    command.push_str(&format!(
                        "CDL_PRIOR_STATUS=$(cat {PRIOR} 2>/dev/null || echo 0)\nexport CDL_PRIOR_STATUS\n"
                    ));
                }
                command.push_str(&crate::export::steps::runner(job));
                let names: Vec<&str> = run_steps.iter().map(|s| s.name.as_str()).collect();
                let name = if names.is_empty() {
                    "Pass the job's values".to_string()
                } else {
                    format!("Run the steps {} by cdl's step rules", names.join(", "))
                };
                let mut step = run(Some(name), command, literal_map(&env));
                if let (true, Step::Run(r)) = (after_failure, &mut step) {
                    r.when = Some("always");
                }
                steps.push(step);
            }
            Part::Native(step) => {
                let Some(orb) = &step.native.circleci else {
                    continue;
                };
                let lost: Vec<&str> = [
                    (step.runs != Runs::OnSuccess, "`runs`"),
                    (!step.env.is_empty(), "`env`"),
                    (step.timeout_seconds.is_some(), "`timeout`"),
                    (step.allow_failure, "`allow_failure`"),
                ]
                .into_iter()
                .filter_map(|(lost, what)| lost.then_some(what))
                .collect();
                if !lost.is_empty() {
                    lossy.push(Lossy::at(
                        job,
                        format!(
                            "CircleCI runs the orb command of the step `{}` without its {}",
                            step.name,
                            lost.join(", ")
                        ),
                        "an orb command step runs only after the steps before it succeeded, with the job's environment and no timeout of its own",
                    ));
                }
                orbs.push((orb.alias.clone(), orb.orb.clone()));
                let parameters = orb
                    .with
                    .iter()
                    .filter_map(|(k, v)| Some((k.clone(), native::circleci_with(v)?)))
                    .collect();
                steps.push(Step::Orb(IndexMap::from([(
                    orb.command.clone(),
                    parameters,
                )])));
            }
        }
    }
    (steps, orbs, lossy)
}
