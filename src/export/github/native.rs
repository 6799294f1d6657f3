//! A job with actions (language v2 §5) as GitHub steps: the runner for each run of portable
//! steps and a `uses:` step for each action, keeping cdl's step rules across them:
//!
//! - order: the parts in written order;
//! - a failed step stops the rest: a part runs on `success()` (GitHub's default); a part
//!   with a `runs = always` step runs on `!cancelled()` (cdl's steps never run after a
//!   person's cancel) and an `on_failure` action on `!cancelled() && failure()`; a runner
//!   part that runs after a failure starts with `CDL_PRIOR_STATUS` from the conclusions of
//!   the parts before it, so that its `on_success` steps stay skipped;
//! - `allow_failure` → `continue-on-error`, a step's `timeout` → `timeout-minutes`;
//! - `$CDL_ENV`/`$CDL_PATH` written by a part reach the later parts and actions through
//!   `$GITHUB_ENV`/`$GITHUB_PATH`, and `$CDL_VALUES` is one file for all parts
//!   (`CDL_VALUES_AT`), passed by the last part (`export/native.rs`, `part_steps`);
//! - secrets other steps took for themselves are emptied in an action's `env:`.
//!
//! What cannot be kept exactly is a W0200: retries (an action is not run again) and a timeout
//! of the job in seconds (GitHub's `timeout-minutes` counts minutes).

use indexmap::IndexMap;

use super::{Input, Step, literal, literal_map};
use crate::export::Lossy;
use crate::export::native::{self, Part};
use crate::plan::{Job, Reference, Runs};

/// The step that tests an action's `when` (`export/steps.rs`, `when_env`): `run=true` or
/// `run=false` in its outputs.
const WHEN_SCRIPT: &str = r#"if eval "$CDL_STEP_WHEN"; then echo "run=true" >> "$GITHUB_OUTPUT"; else echo "run=false" >> "$GITHUB_OUTPUT"; fi
"#;

/// Where the parts of a job keep `$CDL_VALUES`.
const VALUES_AT: &str = "${{ runner.temp }}/cdl-values";

/// The GitHub steps of a job that has actions; `reference` writes a reference of a `with`
/// value as an expression.
pub fn steps(job: &Job, reference: &dyn Fn(&Reference) -> String) -> (Vec<Step>, Vec<Lossy>) {
    let (mut parts, mut lossy) = native::parts(job, native::has_github, true);
    if job.retries > 0 {
        lossy.push(Lossy::at(
            job,
            format!(
                "GitHub cannot run the steps of `{}` again around its actions: its retries are not kept",
                job.id
            ),
            "the steps run once; move the actions to a job without retries to keep them",
        ));
    }
    if let Some(seconds) = job.timeout_seconds
        && seconds % 60 != 0
    {
        lossy.push(Lossy::at(
            job,
            format!(
                "the timeout of `{}` is kept by GitHub's `timeout-minutes` across its actions, in whole minutes",
                job.id
            ),
            "the job is stopped after the next whole minute (and each run of its steps within the timeout)",
        ));
    }
    if !job.values.is_empty() && matches!(parts.last(), Some(Part::Native(_))) {
        // The job's values are passed by a runner part: one with no step after the actions.
        parts.push(Part::Portable(Vec::new()));
    }
    let taken: Vec<String> = job
        .all_steps()
        .iter()
        .flat_map(|s| s.secrets.clone())
        .collect();
    let count = parts.len();
    let mut ids: Vec<String> = Vec::new();
    let mut steps = Vec::new();
    for (index, part) in parts.iter().enumerate() {
        let mut id = format!("cdl_part_{}", index + 1);
        let step = match part {
            Part::Portable(run) => {
                let part = native::part_steps(run, native::Carry::Github);
                let (mut env, more) = crate::export::steps::runner_env_for(job, &part);
                lossy.extend(more);
                env.insert("CDL_ATTEMPTS".into(), "1".into());
                if let Some(seconds) = job.timeout_seconds {
                    env.insert("CDL_TIMEOUT".into(), seconds.to_string());
                }
                let last = index + 1 == count;
                if last && !job.values.is_empty() {
                    env.extend(crate::export::values::github_outputs(job).0);
                    id = crate::export::values::GITHUB_STEP_ID.to_string();
                }
                let mut env = literal_map(&env);
                if !job.values.is_empty() {
                    env.insert("CDL_VALUES_AT".into(), VALUES_AT.into());
                }
                let after_failure = run.iter().any(|s| s.runs != Runs::OnSuccess);
                let condition = (after_failure && !ids.is_empty()).then(|| {
                    let failed: Vec<String> = ids
                        .iter()
                        .map(|id| format!("steps.{id}.conclusion == 'failure'"))
                        .collect();
                    env.insert(
                        "CDL_PRIOR_STATUS".into(),
                        format!("${{{{ ({}) && '1' || '0' }}}}", failed.join(" || ")),
                    );
                    "${{ !cancelled() }}".to_string()
                });
                Step {
                    id: Some(id.clone()),
                    name: Some(portable_name(run)),
                    env,
                    run: Some(crate::export::steps::runner(job).into_owned()),
                    condition,
                    ..Step::default()
                }
            }
            Part::Native(step) => {
                let Some(action) = &step.native.github else {
                    continue;
                };
                let mut env = literal_map(&step.env);
                for secret in taken.iter().filter(|s| !step.secrets.contains(s)) {
                    env.insert(secret.clone(), String::new());
                }
                let timeout_minutes = step.timeout_seconds.map(|seconds| {
                    if seconds % 60 != 0 {
                        lossy.push(Lossy::at(
                            job,
                            format!(
                                "GitHub counts the timeout of the action `{}` in whole minutes",
                                step.name
                            ),
                            "the action is stopped after the next whole minute",
                        ));
                    }
                    seconds.div_ceil(60)
                });
                let mut name = step.display_name.clone().unwrap_or(step.name.clone());
                if let Some(version) = &action.version {
                    name.push_str(&format!(" ({version})"));
                }
                let status = match step.runs {
                    Runs::OnSuccess => None,
                    Runs::Always => Some("!cancelled()"),
                    Runs::OnFailure => Some("!cancelled() && failure()"),
                };
                let mut condition = status.map(|s| format!("${{{{ {s} }}}}"));
                if let Some(when) = &step.when {
                    // The condition, with cdl's semantics, in a shell step of its own whose
                    // output the action's `if:` reads (GitHub's expressions compare strings
                    // without regard to case and have no glob).
                    let when_id = format!("cdl_when_{}", index + 1);
                    steps.push(Step {
                        id: Some(when_id.clone()),
                        name: Some(literal(&format!("cdl: test the condition of {name}"))),
                        env: literal_map(
                            &crate::export::steps::when_env("CDL_STEP", when)
                                .into_iter()
                                .collect(),
                        ),
                        run: Some(WHEN_SCRIPT.into()),
                        condition: status.map(|s| format!("${{{{ {s} }}}}")),
                        ..Step::default()
                    });
                    let test = format!("steps.{when_id}.outputs.run == 'true'");
                    condition = Some(match status {
                        Some(s) => format!("${{{{ {s} && {test} }}}}"),
                        None => format!("${{{{ {test} }}}}"),
                    });
                }
                Step {
                    id: Some(id.clone()),
                    name: Some(literal(&name)),
                    uses: Some(action.uses.clone()),
                    with: action
                        .with
                        .iter()
                        .map(|(k, v)| (k.clone(), Input::Text(native::github_with(v, reference))))
                        .collect::<IndexMap<_, _>>(),
                    env,
                    condition,
                    continue_on_error: step.allow_failure,
                    timeout_minutes,
                    ..Step::default()
                }
            }
        };
        ids.push(id);
        steps.push(step);
    }
    (steps, lossy)
}

/// "Run the steps a, b by cdl's step rules".
fn portable_name(run: &[crate::plan::Step]) -> String {
    if run.is_empty() {
        return "Pass the job's values".into();
    }
    let names: Vec<&str> = run.iter().map(|s| s.name.as_str()).collect();
    format!("Run the steps {} by cdl's step rules", names.join(", "))
}
