//! `start = manual` in `cdl run` (language v2 §6): a manual job is skipped unless a person
//! starts it with `--start JOB` (repeatable; a job id, or a name for every matrix instance).

use crate::plan::{Job, Plan};

/// Whether `--start` names the job (its id, or its name for every instance of a matrix).
pub fn started(job: &Job, start: &[String]) -> bool {
    start.iter().any(|s| *s == job.id || *s == job.name)
}

/// Why a manual job nobody started is skipped.
pub fn skip_reason(job: &Job) -> String {
    match &job.auto_when {
        Some(auto) => format!(
            "`start = manual` and `auto_when = {auto}` is false: start it with `cdl run --start {}`",
            job.name
        ),
        None => format!(
            "`start = manual`: start it with `cdl run --start {}`",
            job.name
        ),
    }
}

/// Every `--start JOB` must name a `start = manual` job of the plan.
pub fn check_start(plan: &Plan, start: &[String]) -> Result<(), String> {
    for name in start {
        let jobs: Vec<&Job> = plan
            .jobs
            .iter()
            .filter(|j| j.id == *name || j.name == *name)
            .collect();
        if jobs.is_empty() {
            let manual: Vec<&str> = plan
                .jobs
                .iter()
                .filter(|j| j.manual)
                .map(|j| j.name.as_str())
                .collect();
            let mut names: Vec<&str> = manual.clone();
            names.dedup();
            return Err(if names.is_empty() {
                format!(
                    "--start {name}: the plan has no job named `{name}` (and no `start = manual` job)"
                )
            } else {
                format!(
                    "--start {name}: the plan has no job named `{name}`; its manual jobs are {}",
                    names
                        .iter()
                        .map(|n| format!("`{n}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            });
        }
        if let Some(job) = jobs.iter().find(|j| !j.manual) {
            return Err(format!(
                "--start {name}: `{}` is not a `start = manual` job; it runs without --start",
                job.id
            ));
        }
    }
    Ok(())
}
