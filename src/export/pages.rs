//! `pages` (the job's published static site) on targets without one: a W0200 at the job. The
//! folder is in the job's `keep`, so those targets keep it as files. GitLab publishes it
//! (`gitlab.rs`: the job named `pages`, its `public` artifact).

use super::Lossy;
use crate::plan::Plan;

/// The W0200 of the job that publishes the site, for `system`.
pub fn lost(plan: &Plan, system: &str) -> Vec<Lossy> {
    plan.jobs
        .iter()
        .filter_map(|job| {
            let folder = job.pages.as_deref()?;
            Some(Lossy::at(
                job,
                format!("{system} publishes no static site from the pipeline file: `pages = \"{folder}\"` is kept as files, not published"),
                "publish the folder in the job's commands, or export to GitLab CI (GitLab Pages)",
            ))
        })
        .collect()
}
