//! Downstream pipelines (`trigger { project  branch  wait }` in a job) in the exports: GitLab
//! writes its own `trigger:` (gitlab.rs); the other targets cannot start another project's
//! pipeline, so the job runs its fallback `run` — or, without one, [`NO_FALLBACK`] — and the
//! export reports W0200 at the block.

use super::Lossy;
use crate::plan::Job;

/// What a trigger job without a fallback runs where no downstream pipeline can be started:
/// fixed text (the job's name comes from `CDL_JOB`).
pub const NO_FALLBACK: &str = "echo \"cdl: $CDL_JOB starts another project's pipeline, which this CI system cannot, and has no fallback run: nothing to do\" >&2";

/// The W0200 of a target that cannot start another project's pipeline.
pub fn unsupported(job: &Job, system: &str) -> Option<Lossy> {
    let trigger = job.trigger.as_ref()?;
    let fallback = !(job.steps.len() == 1 && job.steps[0] == NO_FALLBACK);
    Some(Lossy {
        span: Some(trigger.span.clone()),
        message: format!("{system} cannot start another project's pipeline"),
        help: if fallback {
            format!("`{}` runs its fallback `run` instead", job.name)
        } else {
            format!(
                "`{}` has no fallback `run`: it only says so; write `run` to start the pipeline another way (the project's API)",
                job.name
            )
        },
    })
}
