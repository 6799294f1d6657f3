//! A Buildkite job whose only step is a plugin (language v2 §5). A plugin applies to a whole
//! command step (its hooks run around the step's command, and some replace it), so it cannot
//! stand between other steps of the job: it is used when it is the job's only step (the
//! command step then has the plugin and none of cdl's commands), and otherwise the step's `run`
//! is used with a W0200 (`export/native.rs` reports a step without `run`).

use indexmap::IndexMap;

use crate::export::Lossy;
use crate::export::native;
use crate::plan::{Job, Runs, Step};

/// The command step's `plugins:`, the step's variables, and what is lost.
#[allow(clippy::type_complexity)]
pub fn plugin(
    job: &Job,
    step: &Step,
) -> (
    Vec<IndexMap<String, IndexMap<String, String>>>,
    IndexMap<String, String>,
    Vec<Lossy>,
) {
    let mut lossy = Vec::new();
    let Some(plugin) = &step.native.buildkite else {
        return (Vec::new(), IndexMap::new(), lossy);
    };
    let mut settings = IndexMap::new();
    for (key, value) in &plugin.with {
        match native::buildkite_with(value) {
            Some(text) => {
                settings.insert(key.clone(), text);
            }
            None => lossy.push(Lossy::at(
                job,
                format!(
                    "the setting `{key}` of the plugin of the step `{}` holds `\\$`, which Buildkite's upload reads as an escaped `$`",
                    step.name
                ),
                "the setting is written without the backslash before `$`",
            )),
        }
    }
    if !job.values.is_empty() {
        lossy.push(Lossy::at(
            job,
            format!(
                "the job `{}` runs only a plugin: nothing writes its values",
                job.id
            ),
            "its values are empty for the jobs that read them",
        ));
    }
    let lost: Vec<&str> = [
        (step.runs == Runs::OnFailure, "`runs = on_failure`"),
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
                "Buildkite runs the plugin of the step `{}` without its {}",
                step.name,
                lost.join(", ")
            ),
            "the plugin runs as the job's command step, under the job's timeout and failure rules",
        ));
    }
    let with = settings;
    (
        vec![IndexMap::from([(plugin.plugin.clone(), with)])],
        step.env.clone(),
        lossy,
    )
}

/// The W0200 of each plugin step in a job with other steps: its `run` is used instead.
pub fn unused(job: &Job) -> Vec<Lossy> {
    job.step_blocks
        .iter()
        .filter(|s| {
            s.native
                .buildkite
                .as_ref()
                .is_some_and(|p| native::expressible(&p.with))
                && s.fallback().is_some()
        })
        .map(|s| {
            Lossy::at(
                job,
                format!(
                    "Buildkite applies a plugin to a whole command step: the plugin of the step `{}` cannot run between the other steps of `{}`",
                    s.name, job.id
                ),
                "the step's `run` runs in its place; make the plugin the only step of a job of its own to use it",
            )
        })
        .collect()
}
