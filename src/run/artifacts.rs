//! The artifact store: after an artifact job, its outputs are copied into the run and their
//! SHA-256 recorded; every later use checks the stored copy still has those bytes.

use std::io::Read;
use std::path::{Component, Path, PathBuf};

use sha2::{Digest, Sha256};

use super::record::{StoredArtifact, StoredFile};

/// Copies the files `outputs` (paths or globs, relative to `workdir`) into `dest`.
pub fn store(workdir: &Path, outputs: &[String], dest: &Path) -> Result<StoredArtifact, String> {
    let mut sources: Vec<(PathBuf, PathBuf)> = Vec::new();
    for pattern in outputs {
        let full = workdir.join(pattern);
        let matches = glob::glob(&full.to_string_lossy())
            .map_err(|e| format!("`{pattern}` is not a valid glob: {e}"))?;
        let before = sources.len();
        for path in matches.filter_map(Result::ok) {
            collect(workdir, &path, &mut sources)?;
        }
        if sources.len() == before {
            return Err(format!(
                "the output `{pattern}` matched no file in {}",
                workdir.display()
            ));
        }
    }
    sources.sort();
    sources.dedup();
    std::fs::create_dir_all(dest).map_err(|e| format!("cannot create {}: {e}", dest.display()))?;
    let mut files = Vec::new();
    for (source, relative) in &sources {
        let target = dest.join(relative);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
        }
        std::fs::copy(source, &target)
            .map_err(|e| format!("cannot copy {}: {e}", source.display()))?;
        files.push(StoredFile {
            path: relative.to_string_lossy().into_owned(),
            sha256: file_digest(&target)?,
        });
    }
    let path = match files.as_slice() {
        [one] => dest.join(&one.path),
        _ => dest.to_path_buf(),
    };
    Ok(StoredArtifact {
        path,
        digest: combined_digest(&files),
        files,
    })
}

/// Checks the stored copy: every file still there with the digest recorded for it.
pub fn verify(artifact: &StoredArtifact, dest: &Path) -> Result<(), String> {
    for file in &artifact.files {
        let path = dest.join(&file.path);
        let digest = file_digest(&path).map_err(|e| format!("the stored artifact changed: {e}"))?;
        if digest != file.sha256 {
            return Err(format!(
                "the stored artifact changed: {} has SHA-256 {digest}, {} was recorded",
                path.display(),
                file.sha256
            ));
        }
    }
    Ok(())
}

/// Adds a file, or every file under a folder, with its path relative to `workdir` (files
/// outside it keep only their name).
fn collect(workdir: &Path, path: &Path, out: &mut Vec<(PathBuf, PathBuf)>) -> Result<(), String> {
    if path.is_dir() {
        let entries =
            std::fs::read_dir(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        for entry in entries.filter_map(Result::ok) {
            collect(workdir, &entry.path(), out)?;
        }
        return Ok(());
    }
    let relative = match path.strip_prefix(workdir) {
        Ok(r) if r.components().all(|c| matches!(c, Component::Normal(_))) => r.to_path_buf(),
        _ => PathBuf::from(path.file_name().unwrap_or_default()),
    };
    out.push((path.to_path_buf(), relative));
    Ok(())
}

pub fn file_digest(path: &Path) -> Result<String, String> {
    let mut file =
        std::fs::File::open(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 64 * 1024];
    loop {
        let n = file
            .read(&mut buffer)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        if n == 0 {
            break;
        }
        hasher.update(&buffer[..n]);
    }
    Ok(hex(&hasher.finalize()))
}

fn combined_digest(files: &[StoredFile]) -> String {
    let mut hasher = Sha256::new();
    for file in files {
        hasher.update(file.path.as_bytes());
        hasher.update([0]);
        hasher.update(file.sha256.as_bytes());
        hasher.update([b'\n']);
    }
    hex(&hasher.finalize())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stores_and_verifies() {
        let work = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(work.path().join("dist/sub")).unwrap();
        std::fs::write(work.path().join("dist/a.txt"), "a").unwrap();
        std::fs::write(work.path().join("dist/sub/b.txt"), "b").unwrap();
        let dest = work.path().join("store");
        let stored = store(work.path(), &["dist/**/*.txt".into()], &dest).unwrap();
        assert_eq!(stored.files.len(), 2);
        assert_eq!(stored.path, dest);
        verify(&stored, &dest).unwrap();
        std::fs::write(dest.join("dist/a.txt"), "changed").unwrap();
        assert!(verify(&stored, &dest).unwrap_err().contains("changed"));
        assert!(store(work.path(), &["missing/*".into()], &dest).is_err());
    }
}
