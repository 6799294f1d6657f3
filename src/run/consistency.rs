//! A run record read back from disk is checked before anything acts on it: hand-edited or
//! inconsistent records (a job missing, a gate removed, a need naming nothing) are a clear error
//! naming the file, never a panic further on.

use std::collections::HashSet;
use std::path::Path;

use super::record::{JobState, RunRecord};
use crate::plan::JobType;

/// Whether `id` can name a run: a plain name (letters, digits, `-`, `_`, `.`; not starting with
/// `.`; at most 100 bytes), never a path.
pub fn check_run_id(id: &str) -> Result<(), String> {
    let valid = !id.is_empty()
        && id.len() <= 100
        && !id.starts_with('.')
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if valid {
        Ok(())
    } else {
        Err(format!(
            "`{}` is not a run id: a run id is a name such as 20261126-101502 (letters, digits, `-`, `_`, `.`), never a path; `cdl runs` lists them",
            id.escape_debug()
        ))
    }
}

/// Checks that `record` and its plan agree, putting the job records in plan order (the
/// scheduler indexes them by position). `dir` is the run's folder, for the message.
pub fn check(record: &mut RunRecord, id: &str, dir: &Path) -> Result<(), String> {
    let run_json = dir.join("run.json");
    let plan_json = dir.join("plan.json");
    let bad = |file: &Path, what: String| {
        format!(
            "{}: {what}; the run record was edited or damaged, and run {id} cannot be used",
            file.display()
        )
    };
    if record.id != id {
        return Err(bad(
            &run_json,
            format!("it is the record of run `{}`, not of `{id}`", record.id),
        ));
    }
    if record.schema != super::record::SCHEMA {
        return Err(bad(
            &run_json,
            format!(
                "its schema is `{}`, this cdl reads `{}`",
                record.schema,
                super::record::SCHEMA
            ),
        ));
    }
    let plan = &record.plan;
    let mut ids: HashSet<&str> = HashSet::new();
    for job in &plan.jobs {
        if !ids.insert(job.id.as_str()) {
            return Err(bad(
                &plan_json,
                format!("the job `{}` is there twice", job.id),
            ));
        }
    }
    let stages: HashSet<&str> = plan.stages.iter().map(|s| s.name.as_str()).collect();
    for job in &plan.jobs {
        if !stages.contains(job.stage.as_str()) {
            return Err(bad(
                &plan_json,
                format!(
                    "the job `{}` is in the stage `{}`, which the plan does not have",
                    job.id, job.stage
                ),
            ));
        }
        if let Some(need) = job.needs.iter().find(|n| !ids.contains(n.as_str())) {
            return Err(bad(
                &plan_json,
                format!(
                    "the job `{}` needs `{need}`, which the plan does not have",
                    job.id
                ),
            ));
        }
        for input in &job.inputs {
            let built = plan
                .jobs
                .iter()
                .any(|j| j.job_type == JobType::Artifact && j.artifact.as_ref() == Some(input));
            if !built {
                return Err(bad(
                    &plan_json,
                    format!(
                        "the job `{}` receives the artifact `{input}`, which no job builds",
                        job.id
                    ),
                ));
            }
        }
    }
    if let Some(job) = plan.jobs.iter().find(|j| !record.jobs.contains_key(&j.id)) {
        return Err(bad(
            &run_json,
            format!(
                "the plan has the {} `{}`, the record has no entry for it",
                kind(job.job_type),
                job.id
            ),
        ));
    }
    if let Some(extra) = record.jobs.keys().find(|k| !ids.contains(k.as_str())) {
        return Err(bad(
            &plan_json,
            format!(
                "the record has the job `{extra}`, the plan does not (was it removed from plan.json?)"
            ),
        ));
    }
    for job in &plan.jobs {
        let r = &record.jobs[&job.id];
        if r.state == JobState::Running && r.attempts.is_empty() {
            return Err(bad(
                &run_json,
                format!("the job `{}` is running but has no attempt", job.id),
            ));
        }
        if r.state == JobState::Waiting && job.job_type != JobType::Gate {
            return Err(bad(
                &run_json,
                format!(
                    "the job `{}` waits for approval, but it is not a gate",
                    job.id
                ),
            ));
        }
        if !r.decisions.is_empty() && job.job_type != JobType::Gate {
            return Err(bad(
                &run_json,
                format!(
                    "the job `{}` has approval decisions, but it is not a gate",
                    job.id
                ),
            ));
        }
    }
    if let Some((name, _)) = record
        .artifacts
        .iter()
        .find(|(_, a)| a.digest.len() != 64 || !a.digest.bytes().all(|b| b.is_ascii_hexdigit()))
    {
        return Err(bad(
            &run_json,
            format!("the artifact `{name}` has no valid SHA-256 digest"),
        ));
    }
    // `cdl resume` signals these groups: never init's, nor cdl's own (a record cannot be used
    // to stop the shell that runs the resume).
    // SAFETY: getpgrp has no preconditions.
    let own = unsafe { libc::getpgrp() };
    for (job, group) in &record.groups {
        if !ids.contains(job.as_str()) || *group <= 1 || *group == own {
            return Err(bad(
                &run_json,
                format!("the process group {group} of `{job}` cannot be one of this run's"),
            ));
        }
    }
    for (name, artifact) in &record.artifacts {
        let expected = dir
            .join("artifacts")
            .join(format!("sha256-{}", artifact.digest));
        if artifact.path != expected {
            return Err(bad(
                &run_json,
                format!(
                    "the artifact `{name}` is said to be at {}, not in the run's store",
                    artifact.path.display()
                ),
            ));
        }
    }
    let order: Vec<String> = plan.jobs.iter().map(|j| j.id.clone()).collect();
    let mut jobs = std::mem::take(&mut record.jobs);
    record.jobs = order
        .iter()
        .map(|id| (id.clone(), jobs.shift_remove(id).expect("checked above")))
        .collect();
    Ok(())
}

fn kind(job_type: JobType) -> &'static str {
    match job_type {
        JobType::Gate => "gate",
        _ => "job",
    }
}
