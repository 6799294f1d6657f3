//! Defence in depth: before a deploy, the environment's `requires` lines are checked again,
//! against what actually happened in this run.

use super::record::{JobState, RunRecord};
use crate::plan::Job;
use crate::plan::JobType;

/// `Err` with the reason when the deploy must be refused.
pub fn check(record: &RunRecord, deploy: &Job) -> Result<(), String> {
    let Some(name) = &deploy.environment else {
        return Ok(());
    };
    let Some(environment) = record.plan.environments.iter().find(|e| &e.name == name) else {
        return Ok(());
    };
    let passed = |job: &Job| record.job(&job.id).state == JobState::Succeeded;
    let requires = &environment.requires;
    if requires.approval {
        let approved = record.plan.jobs.iter().any(|j| {
            j.job_type == JobType::Gate
                && passed(j)
                && record.job(&j.id).decisions.iter().any(|d| d.approved)
        });
        if !approved {
            return Err(format!(
                "`{name}` requires an approval, and no gate was approved in this run"
            ));
        }
    }
    for kind in &requires.tests {
        let tested = record
            .plan
            .jobs
            .iter()
            .any(|j| j.job_type == JobType::Test && j.kind.as_ref() == Some(kind) && passed(j));
        if !tested {
            return Err(format!(
                "`{name}` requires a passed `{kind}` test, and none passed in this run"
            ));
        }
    }
    if let (Some(from), Some(artifact)) = (&requires.promotion_from, &deploy.artifact) {
        // v2 i13k: every instance of a matrix artifact, with the same bytes.
        let keys: Vec<String> = super::matrix_artifacts::matrix_artifact(record, artifact)
            .map_or_else(
                || vec![artifact.clone()],
                |a| a.parts().into_iter().map(|(key, _)| key).collect(),
            );
        let promoted = record.plan.jobs.iter().any(|j| {
            j.job_type == JobType::Deploy
                && j.environment.as_ref() == Some(from)
                && j.artifact.as_ref() == Some(artifact)
                && passed(j)
                && keys.iter().all(|key| {
                    let current = record.artifacts.get(key).map(|a| a.digest.as_str());
                    current.is_some()
                        && record
                            .job(&j.id)
                            .artifact_digests
                            .get(key)
                            .map(String::as_str)
                            == current
                })
        });
        if !promoted {
            return Err(format!(
                "`{name}` requires promotion from `{from}`, and `{artifact}` with these bytes was not deployed to `{from}` in this run"
            ));
        }
    }
    Ok(())
}
