//! `entrypoint` of a job's image, on the targets that cannot set one: GitHub, Argo Workflows
//! and Tekton run the job's commands through a process of their own (the image's entrypoint
//! never runs), so an entrypoint that says "none" (`[""]`) is what they do already; any other,
//! and any at all on Buildkite, is a W0200. GitLab, CircleCI and Jenkins set it
//! (`gitlab.rs`, `circleci.rs`, `jenkins.rs`).

use super::Lossy;
use crate::plan::Job;

/// The W0200 of a job's `entrypoint` that `system` cannot set; `none_is_exact`: the target
/// already runs the commands without the image's entrypoint.
pub fn lost(job: &Job, system: &str, none_is_exact: bool) -> Option<Lossy> {
    let entrypoint = job.entrypoint.as_ref()?;
    if none_is_exact && crate::check::entrypoint::is_none(entrypoint) {
        return None;
    }
    Some(Lossy::at(
        job,
        format!(
            "{system} cannot replace the entrypoint of the job's image (`entrypoint = {entrypoint:?}`)"
        ),
        "the job runs its commands in the image as the target starts it; set the entrypoint in the image, or call it in the commands",
    ))
}

/// [`lost`] for every job of `plan`, once per job name (a matrix's instances share theirs).
pub fn lost_all(plan: &crate::plan::Plan, system: &str, none_is_exact: bool) -> Vec<Lossy> {
    let mut seen = std::collections::HashSet::new();
    plan.jobs
        .iter()
        .filter(|job| seen.insert(job.name.as_str()))
        .filter_map(|job| lost(job, system, none_is_exact))
        .collect()
}
