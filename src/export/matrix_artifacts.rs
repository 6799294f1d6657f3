//! v2 i13k: matrix artifacts in every export (language v2 §7). Each instance of a matrix
//! artifact is a job of its own in every target (never folded into a native matrix, since
//! each instance's artifact has its own name and folder), whose collect step writes into
//! `<store>/<NAME>/<FOLDER>/`; where a target moves files by name (GitHub's artifacts), each
//! instance uploads as `<NAME>.<FOLDER>` and the consumer downloads each one into its folder,
//! so that every target's consumer sees `CDL_ARTIFACT_<NAME>` as in `cdl run`: one subfolder
//! per instance. `optional_outputs` are collected when they exist (`shell::collect_env`).

use crate::plan::{Job, Plan};

/// The part of the store a job's collect step writes: `NAME`, or `NAME/FOLDER` for an
/// instance of a matrix artifact.
pub fn store_part(job: &Job, artifact: &str) -> String {
    match &job.artifact_folder {
        Some(folder) => format!("{artifact}/{folder}"),
        None => artifact.to_string(),
    }
}

/// The name an instance's files travel under where names must be unique (`NAME.FOLDER`; a
/// cdl name holds no `.`, so no other artifact's name can be the same).
pub fn upload_name(job: &Job, artifact: &str) -> String {
    match &job.artifact_folder {
        Some(folder) => format!("{artifact}.{folder}"),
        None => artifact.to_string(),
    }
}

/// What a consumer fetches of the artifact `name`: `(upload name, folder)` per instance, or
/// the artifact itself with no folder.
pub fn downloads(plan: &Plan, name: &str) -> Vec<(String, Option<String>)> {
    match plan
        .artifacts
        .iter()
        .find(|a| a.name == name && !a.instances.is_empty())
    {
        Some(artifact) => artifact
            .instances
            .iter()
            .map(|i| (format!("{name}.{}", i.folder), Some(i.folder.clone())))
            .collect(),
        None => vec![(name.to_string(), None)],
    }
}

/// The jobs that build the artifact `name`: every instance of a matrix artifact.
pub fn builder_jobs<'p>(plan: &'p Plan, name: &str) -> Vec<&'p str> {
    let Some(artifact) = plan.artifacts.iter().find(|a| a.name == name) else {
        return Vec::new();
    };
    if artifact.instances.is_empty() {
        return vec![artifact.job.as_str()];
    }
    artifact.instances.iter().map(|i| i.job.as_str()).collect()
}
