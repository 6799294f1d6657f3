//! v2 i13k: the plan of a matrix artifact (language v2 §7): one job per instance, each with
//! its folder under `CDL_ARTIFACT_<NAME>` (its axis values joined with `-`, made file-name
//! safe and unique by `model::matrix::folder_names`), and the artifact listing them.

use indexmap::IndexMap;

use super::ArtifactInstance;
use crate::check::model;
use crate::plan::JobType;

/// Each instance's folder, when `job` is an artifact with a matrix; `None` each otherwise.
pub fn folders<'a>(
    job: &model::Job,
    instances: impl Iterator<Item = &'a IndexMap<String, String>>,
) -> Vec<Option<String>> {
    let matrix = super::build::job_matrix(job);
    let values: Vec<_> = instances.map(|v| matrix.id_values(v)).collect();
    if job.job_type != JobType::Artifact || matrix.is_empty() {
        return vec![None; values.len()];
    }
    crate::model::matrix::folder_names(&values)
        .into_iter()
        .map(Some)
        .collect()
}

/// The artifact's instances (empty when it has no matrix).
pub fn instances<'a>(
    ids: impl Iterator<Item = &'a String>,
    folders: &[Option<String>],
) -> Vec<ArtifactInstance> {
    ids.zip(folders)
        .filter_map(|(job, folder)| {
            Some(ArtifactInstance {
                job: job.clone(),
                folder: folder.clone()?,
            })
        })
        .collect()
}
