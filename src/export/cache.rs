//! Caches (language v2 §9) in exports: what every target shares. GitHub
//! (`github/cache.rs`), GitLab and CircleCI (`circleci/cache.rs`) map them natively; the others
//! report W0200 with the job's span — a cache is never dropped without a word.

use super::Lossy;
use crate::plan::Job;

/// W0200 for a target with no cache of its own that cdl maps.
pub fn not_cached(job: &Job, target: &str, instead: &str) -> Option<Lossy> {
    (!job.caches.is_empty()).then(|| {
        let names: Vec<String> = job.caches.iter().map(|c| format!("`{}`", c.name)).collect();
        Lossy::at(
            job,
            format!(
                "{target} has no cache cdl maps: the caches {} are not exported",
                names.join(", ")
            ),
            format!(
                "the job runs without them (it does its work each time; `CDL_CACHE_<NAME>_HIT` is unset); {instead}"
            ),
        )
    })
}
