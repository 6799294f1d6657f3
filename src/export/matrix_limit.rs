//! A matrix's `max_parallel` on targets without a per-matrix limit: one W0200 per matrix job,
//! at its first instance (GitHub writes `strategy.max-parallel`).

use super::Lossy;
use crate::plan::Job;

/// A W0200 for each matrix job (the jobs of one name) among `jobs` with `max_parallel` that
/// `system` runs without the limit.
pub fn lost<'p>(jobs: impl IntoIterator<Item = &'p Job>, system: &str) -> Vec<Lossy> {
    let mut seen = std::collections::HashSet::new();
    jobs.into_iter()
        .filter(|job| job.max_parallel.is_some() && seen.insert(job.name.as_str()))
        .map(|job| {
            Lossy::at(
                job,
                format!(
                    "{system} has no limit on how many instances of a matrix run at once (`max_parallel = {}`)",
                    job.max_parallel.unwrap_or_default()
                ),
                "every instance may run at once; limit them with the system's own concurrency settings (agents, executors, a semaphore) if they must not",
            )
        })
        .collect()
}
