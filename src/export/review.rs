//! Review environments (`environment { name  url  stop }` in a job) in the exports: GitLab
//! writes its own `environment:` with `on_stop` and `action: stop` (gitlab.rs), GitHub an
//! `environment:` of expressions (github.rs) with no stop; the other targets have no
//! environments a job makes, and report W0200 at the block. On every target the job gets
//! `CDL_ENV_NAME` and `CDL_ENV_URL`, computed in its shell like any composed value.

use super::Lossy;
use crate::plan::Job;

fn at(job: &Job, message: String, help: &str) -> Option<Lossy> {
    let review = job.review.as_ref()?;
    Some(Lossy {
        span: Some(review.span.clone()),
        message,
        help: help.to_string(),
    })
}

/// The W0200 of a target with no environments a job makes: on the job making one, and on
/// its stop job.
pub fn unsupported(job: &Job, system: &str) -> Option<Lossy> {
    let review = job.review.as_ref()?;
    match &review.stops {
        Some(maker) => at(
            job,
            format!(
                "{system} has no review environment for `{}` to stop",
                job.name
            ),
            &format!(
                "`{}` runs when started by hand, with `CDL_ENV_NAME` and `CDL_ENV_URL` of `{maker}`'s environment; nothing records the environment as stopped",
                job.name
            ),
        ),
        None => at(
            job,
            format!("{system} has no environments a job makes per branch"),
            &format!(
                "`{}` runs with `CDL_ENV_NAME` and `CDL_ENV_URL`, but no environment or link is recorded",
                job.name
            ),
        ),
    }
}

/// GitHub's W0200 on a stop job: GitHub has no action that stops an environment.
pub fn github_stop(job: &Job) -> Option<Lossy> {
    let maker = job.review.as_ref()?.stops.as_ref()?;
    at(
        job,
        format!("GitHub Actions has no action that stops `{maker}`'s environment"),
        &format!(
            "`{}` runs when started by hand with `CDL_ENV_NAME` and `CDL_ENV_URL`; GitHub keeps the environment listed (delete it in the repository's settings or through the API)",
            job.name
        ),
    )
}
