//! The pipeline's `concurrency { per  cancel_in_progress = true }` in `cdl run` (v2 §9, i14a):
//! a new run cancels the older live runs of its group, through the path every cancellation
//! takes — SIGTERM to the `cdl` process that drives the run, which stops its jobs and records
//! the run as cancelled. A run is live while its lock is held; a paused or crashed run has no
//! process and is left alone.

use std::path::Path;

use super::lock;
use super::record::{RunStatus, Store};
use crate::plan::{ConcurrencyPer, Plan, RunContext};

/// Cancels the live runs of `file`'s pipeline in the same group as a new run in `context`;
/// one line per run cancelled, for the user.
pub fn cancel_older(store: &Store, plan: &Plan, file: &Path, context: &RunContext) -> Vec<String> {
    let Some(concurrency) = plan.pipeline.concurrency.filter(|c| c.cancel_in_progress) else {
        return Vec::new();
    };
    let mut notices = Vec::new();
    for id in store.run_ids() {
        let Ok(record) = store.load(&id) else {
            continue;
        };
        if record.status != RunStatus::Running
            || record.file != file
            || record.pid == std::process::id()
        {
            continue;
        }
        let same_group = match concurrency.per {
            ConcurrencyPer::Pipeline => true,
            ConcurrencyPer::Ref => record.branch == context.branch && record.tag == context.tag,
        };
        if !same_group {
            continue;
        }
        // A lock we can take belongs to no live process: nothing to cancel.
        match lock::try_lock_run(&store.run_dir(&id).join("lock")) {
            Ok(None) => {}
            _ => continue,
        }
        let Ok(pid) = i32::try_from(record.pid) else {
            continue;
        };
        // SAFETY: kill sends a signal to one process id; it touches no memory of ours.
        if pid > 0 && unsafe { libc::kill(pid, libc::SIGTERM) } == 0 {
            let group = match (&record.branch, &record.tag) {
                (_, Some(tag)) if concurrency.per == ConcurrencyPer::Ref => format!("tag {tag}"),
                (Some(branch), _) if concurrency.per == ConcurrencyPer::Ref => {
                    format!("branch {branch}")
                }
                _ => "the pipeline".to_string(),
            };
            notices.push(format!(
                "cdl: cancelling the older run {id} of {group} (the pipeline's `concurrency` cancels runs in progress)"
            ));
        }
    }
    notices
}
