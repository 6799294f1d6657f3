//! v2 i13k: matrix artifacts under `cdl run` (language v2 §7).
//!
//! - Each instance builds in its own copy of the working folder, as each instance of a CI
//!   matrix gets its own checkout: `runs/<id>/work/<artifact>/<folder>/`, made afresh when the
//!   instance starts (the state folder left out), so that one instance's outputs never end up
//!   in another's artifact however they run (in parallel or one after the other).
//! - Each instance's outputs are sealed on their own (`artifacts.rs`), recorded as
//!   `NAME/FOLDER` in the run record, with `optional_outputs` that may match nothing.
//! - A consumer's `CDL_ARTIFACT_<NAME>` is a folder holding one subfolder per instance, each
//!   a private copy verified against that instance's manifest; a deploy's copy is listed again
//!   after it ran, and a file added beside the subfolders is a change too.

use std::path::{Path, PathBuf};

use super::artifacts::{self, ArtifactError};
use super::record::{RunRecord, StoredArtifact};
use crate::plan::{Artifact, Job};

/// The working folder of a job: its own copy for an instance of a matrix artifact.
pub fn workdir(run_dir: &Path, record_workdir: &Path, job: &Job) -> PathBuf {
    match (&job.artifact, &job.artifact_folder) {
        (Some(artifact), Some(folder)) => run_dir.join("work").join(artifact).join(folder),
        _ => record_workdir.to_path_buf(),
    }
}

/// Makes `dest` a fresh copy of `source` without `state` (the state folder, when it is
/// inside): files with their permission bits, links as links; FIFOs, sockets and devices
/// are left out.
pub fn copy_workdir(source: &Path, state: &Path, dest: &Path) -> Result<(), String> {
    artifacts::remove_tree(dest).map_err(|e| e.to_string())?;
    let state = std::fs::canonicalize(state).ok();
    std::fs::create_dir_all(dest).map_err(|e| format!("{}: {e}", dest.display()))?;
    copy_tree(source, dest, state.as_deref())
}

fn copy_tree(source: &Path, dest: &Path, state: Option<&Path>) -> Result<(), String> {
    let error = |path: &Path, e: std::io::Error| format!("{}: {e}", path.display());
    for entry in std::fs::read_dir(source).map_err(|e| error(source, e))? {
        let entry = entry.map_err(|e| error(source, e))?;
        let from = entry.path();
        let to = dest.join(entry.file_name());
        let kind = entry.file_type().map_err(|e| error(&from, e))?;
        if kind.is_dir() {
            if state.is_some_and(|s| std::fs::canonicalize(&from).ok().as_deref() == Some(s)) {
                continue;
            }
            std::fs::create_dir(&to).map_err(|e| error(&to, e))?;
            copy_tree(&from, &to, state)?;
            let mode = std::fs::metadata(&from).map_err(|e| error(&from, e))?;
            std::fs::set_permissions(&to, mode.permissions()).map_err(|e| error(&to, e))?;
        } else if kind.is_symlink() {
            let target = std::fs::read_link(&from).map_err(|e| error(&from, e))?;
            std::os::unix::fs::symlink(target, &to).map_err(|e| error(&to, e))?;
        } else if kind.is_file() {
            std::fs::copy(&from, &to).map_err(|e| error(&from, e))?;
        }
    }
    Ok(())
}

/// The artifact `name` of the plan, when it has a matrix.
pub fn matrix_artifact<'p>(record: &'p RunRecord, name: &str) -> Option<&'p Artifact> {
    record
        .plan
        .artifacts
        .iter()
        .find(|a| a.name == name && !a.instances.is_empty())
}

/// The record keys of `name` with their stored artifacts: one per instance of a matrix
/// artifact (with its folder), else the artifact itself. `Err` names a part not built.
pub fn stored_parts(
    record: &RunRecord,
    name: &str,
) -> Result<Vec<(String, Option<String>, StoredArtifact)>, String> {
    let parts = match matrix_artifact(record, name) {
        Some(artifact) => artifact.parts(),
        None => vec![(name.to_string(), None)],
    };
    parts
        .into_iter()
        .map(|(key, folder)| match record.artifacts.get(&key) {
            Some(stored) => Ok((key, folder, stored.clone())),
            None => Err(format!("the artifact `{key}` was not built in this run")),
        })
        .collect()
}

/// Gives a consumer its copy of a matrix artifact at `dest`: one subfolder per instance.
pub fn fetch_parts(
    parts: &[(String, Option<String>, StoredArtifact)],
    dest: &Path,
) -> Result<(), ArtifactError> {
    if let [(_, None, stored)] = parts {
        return artifacts::fetch_for_consumer(stored, dest);
    }
    artifacts::remove_tree(dest)?;
    std::fs::create_dir_all(dest).map_err(|e| ArtifactError::Io {
        path: dest.to_path_buf(),
        error: e.to_string(),
    })?;
    for (_, folder, stored) in parts {
        artifacts::fetch_for_consumer(stored, &dest.join(folder.as_deref().unwrap_or("")))?;
    }
    Ok(())
}

/// Lists a deploy's copy again: every instance's subfolder against its manifest, and nothing
/// beside them.
pub fn verify_parts(
    parts: &[(String, Option<String>, StoredArtifact)],
    copy: &Path,
) -> Result<(), String> {
    if let [(_, None, stored)] = parts {
        return artifacts::verify_copy(stored, copy).map_err(|e| e.to_string());
    }
    let mut found: Vec<String> = std::fs::read_dir(copy)
        .map_err(|e| format!("{}: {e}", copy.display()))?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    found.sort();
    let mut expected: Vec<String> = parts.iter().filter_map(|(_, f, _)| f.clone()).collect();
    expected.sort();
    if found != expected {
        return Err(format!(
            "its folder holds {} where the instances are {}",
            found.join(", "),
            expected.join(", ")
        ));
    }
    for (key, folder, stored) in parts {
        let folder = folder.as_deref().unwrap_or("");
        artifacts::verify_copy(stored, &copy.join(folder)).map_err(|e| format!("`{key}`: {e}"))?;
    }
    Ok(())
}
