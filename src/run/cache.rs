//! Caches under `cdl run` (language v2 §9): a content-keyed store under
//! `<state dir>/cache/<name>/<key>/tree/`, restored into the working folder before a job's first
//! step and saved from it after the job succeeded.
//!
//! - The key is the sha256 of the key files (every regular file the `key` globs match, sorted by
//!   path): each one's path and bytes. A cache without `key` has the one key `static`. The key is
//!   computed once, before the job runs, and the save uses it (as GitLab and `actions/cache` do),
//!   so a job that rewrites its lock file still saves under the key the next run computes.
//! - Restore never overwrites a file of the working folder (the user's files win; a cache only
//!   fills in what is missing), never writes through a link, and keeps the saved modes.
//! - Save copies the matching files into a fresh temporary folder beside the keys, flushes every
//!   file and folder, then renames it to `<key>`: a kill at any moment leaves either no `<key>`
//!   folder or a whole one (temporary folders are never restored, and are removed by the next
//!   save once their process is gone). Two jobs saving one key at once: the first rename wins,
//!   the other's is a no-op. `push` replaces an existing key by two renames (the old one is
//!   moved aside first), so a kill between them leaves no key — a miss, never a half cache.
//! - Links are saved as links, never followed; the state folder is never saved.

use std::collections::BTreeMap;
use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::model::cache::{Cache, Policy};

/// The key of a cache without `key`.
pub const STATIC_KEY: &str = "static";

/// A job's cache as restored before its first step: its key and whether it was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Restored {
    pub name: String,
    pub key: String,
    pub hit: bool,
}

/// Where the caches live: `<state dir>/cache`.
pub fn root(state_dir: &Path) -> PathBuf {
    state_dir.join("cache")
}

/// The key of `cache` in `workdir`: `static`, or the hex sha256 of the key files' paths and bytes.
pub fn key(workdir: &Path, cache: &Cache) -> Result<String, String> {
    if cache.key.is_empty() {
        return Ok(STATIC_KEY.into());
    }
    let mut files: BTreeMap<String, PathBuf> = BTreeMap::new();
    for pattern in &cache.key {
        for path in matches(workdir, pattern)? {
            let Ok(meta) = std::fs::symlink_metadata(&path) else {
                continue;
            };
            if !meta.is_file() {
                continue;
            }
            if let Ok(relative) = path.strip_prefix(workdir) {
                files.insert(relative.to_string_lossy().into_owned(), path.clone());
            }
        }
    }
    let mut hasher = Sha256::new();
    hasher.update(b"cdl-cache-key/1\0");
    for (relative, path) in &files {
        let mut bytes = Vec::new();
        std::fs::File::open(path)
            .and_then(|mut f| f.read_to_end(&mut bytes))
            .map_err(|e| format!("cannot read the key file `{relative}`: {e}"))?;
        hasher.update((relative.len() as u64).to_le_bytes());
        hasher.update(relative.as_bytes());
        hasher.update((bytes.len() as u64).to_le_bytes());
        hasher.update(&bytes);
    }
    Ok(hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}

/// The paths a glob (relative to `workdir`) names that exist, sorted.
fn matches(workdir: &Path, pattern: &str) -> Result<Vec<PathBuf>, String> {
    let root = glob::Pattern::escape(&workdir.to_string_lossy());
    let options = glob::MatchOptions {
        case_sensitive: true,
        require_literal_separator: true,
        require_literal_leading_dot: false,
    };
    let found = glob::glob_with(&format!("{root}/{pattern}"), options)
        .map_err(|e| format!("`{pattern}` is not a valid glob: {e}"))?;
    // `.*` also matches `..`: only paths that stay inside the working folder count.
    let mut paths: Vec<PathBuf> = found
        .flatten()
        .filter(|p| {
            p.strip_prefix(workdir).is_ok_and(|r| {
                r.components()
                    .all(|c| matches!(c, std::path::Component::Normal(_)))
            })
        })
        .collect();
    paths.sort();
    Ok(paths)
}

/// Restores each cache the job reads (policy `pull_push` or `pull`) into `workdir`. Returns the
/// caches with their keys, and notes for the log; a cache that cannot be read is a miss.
pub fn restore(state_dir: &Path, workdir: &Path, caches: &[Cache]) -> (Vec<Restored>, Vec<String>) {
    let mut restored = Vec::new();
    let mut notes = Vec::new();
    for cache in caches {
        let key = match key(workdir, cache) {
            Ok(key) => key,
            Err(reason) => {
                notes.push(format!("  cache {}: {reason}; not restored", cache.name));
                restored.push(Restored {
                    name: cache.name.clone(),
                    key: String::new(),
                    hit: false,
                });
                continue;
            }
        };
        let tree = root(state_dir).join(&cache.name).join(&key).join("tree");
        let mut hit = false;
        if cache.policy.restores() && tree.is_dir() {
            match copy_in(&tree, workdir) {
                Ok(kept) => {
                    hit = true;
                    let mine = if kept > 0 {
                        format!(" ({kept} files of the working folder kept as they were)")
                    } else {
                        String::new()
                    };
                    notes.push(format!(
                        "  cache {} restored (key {}){mine}",
                        cache.name,
                        short(&key)
                    ));
                }
                Err(reason) => notes.push(format!(
                    "  cache {}: cannot restore: {reason}; counted as a miss",
                    cache.name
                )),
            }
        }
        restored.push(Restored {
            name: cache.name.clone(),
            key,
            hit,
        });
    }
    (restored, notes)
}

/// Saves each cache the job writes, after it succeeded: `pull_push` when its key is new, `push`
/// always, `pull` never. `keys` are those of [`restore`] (recomputed when absent, after a resume).
pub fn save(state_dir: &Path, workdir: &Path, caches: &[Cache], keys: &[Restored]) -> Vec<String> {
    let mut notes = Vec::new();
    for cache in caches.iter().filter(|c| c.policy.saves()) {
        let key = match keys
            .iter()
            .find(|r| r.name == cache.name && !r.key.is_empty())
        {
            Some(restored) => restored.key.clone(),
            None => match key(workdir, cache) {
                Ok(key) => key,
                Err(reason) => {
                    notes.push(format!("  cache {}: {reason}; not saved", cache.name));
                    continue;
                }
            },
        };
        match save_one(state_dir, workdir, cache, &key) {
            Ok(note) => notes.push(format!("  cache {}: {note}", cache.name)),
            Err(reason) => notes.push(format!("  cache {}: not saved: {reason}", cache.name)),
        }
    }
    notes
}

fn short(key: &str) -> &str {
    &key[..key.len().min(12)]
}

fn save_one(state_dir: &Path, workdir: &Path, cache: &Cache, key: &str) -> Result<String, String> {
    let folder = root(state_dir).join(&cache.name);
    let target = folder.join(key);
    remove_abandoned(&folder);
    if cache.policy == Policy::PullPush && target.is_dir() {
        return Ok(format!("key {} already saved", short(key)));
    }
    std::fs::create_dir_all(&folder).map_err(|e| format!("{}: {e}", folder.display()))?;
    let excluded = std::fs::canonicalize(state_dir).ok();
    let mut files = Vec::new();
    for pattern in &cache.paths {
        for path in matches(workdir, pattern)? {
            collect(workdir, &path, excluded.as_deref(), &mut files);
        }
    }
    files.sort();
    files.dedup();
    if files.is_empty() {
        return Ok("no file matches its paths; nothing saved".into());
    }
    let temporary = folder.join(format!(".tmp-{}-{}", std::process::id(), unique()));
    let tree = temporary.join("tree");
    let written = write_tree(workdir, &files, &tree);
    if let Err(reason) = written {
        let _ = std::fs::remove_dir_all(&temporary);
        return Err(reason);
    }
    crate::failpoint!("cache-written");
    let renamed = match std::fs::rename(&temporary, &target) {
        Ok(()) => true,
        Err(_) if cache.policy == Policy::Push && target.is_dir() => {
            let aside = folder.join(format!(".old-{}-{}", std::process::id(), unique()));
            std::fs::rename(&target, &aside).map_err(|e| format!("{}: {e}", target.display()))?;
            crate::failpoint!("cache-replacing");
            let renamed = std::fs::rename(&temporary, &target).is_ok();
            let _ = std::fs::remove_dir_all(&aside);
            renamed
        }
        Err(_) => false,
    };
    if !renamed {
        // Another job saved this key first: that one stays, this copy goes.
        let _ = std::fs::remove_dir_all(&temporary);
        return Ok(format!("key {} saved by another job first", short(key)));
    }
    crate::run::record::sync_dir(&folder).map_err(|e| format!("{}: {e}", folder.display()))?;
    crate::failpoint!("cache-saved");
    Ok(format!("saved {} files (key {})", files.len(), short(key)))
}

fn unique() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos())
}

/// Removes the temporary and set-aside folders of processes that are gone (killed mid-save).
fn remove_abandoned(folder: &Path) {
    let Ok(entries) = std::fs::read_dir(folder) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(rest) = name
            .strip_prefix(".tmp-")
            .or_else(|| name.strip_prefix(".old-"))
        else {
            continue;
        };
        let Some(pid) = rest.split('-').next().and_then(|p| p.parse::<i32>().ok()) else {
            continue;
        };
        if pid != std::process::id() as i32 && !alive(pid) {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

fn alive(pid: i32) -> bool {
    // SAFETY: signal 0 only asks whether the process exists.
    let result = unsafe { libc::kill(pid, 0) };
    result == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

/// The files and links under `path` (itself when it is one), relative to `workdir`, without
/// following links and without the state folder.
fn collect(workdir: &Path, path: &Path, excluded: Option<&Path>, out: &mut Vec<PathBuf>) {
    let mut stack = vec![path.to_path_buf()];
    while let Some(path) = stack.pop() {
        let Ok(meta) = std::fs::symlink_metadata(&path) else {
            continue;
        };
        if excluded.is_some_and(|x| std::fs::canonicalize(&path).is_ok_and(|p| p.starts_with(x)))
            && !meta.file_type().is_symlink()
        {
            continue;
        }
        let Ok(relative) = path.strip_prefix(workdir) else {
            continue;
        };
        if relative.as_os_str().is_empty() {
            continue;
        }
        if meta.is_dir() {
            if let Ok(entries) = std::fs::read_dir(&path) {
                stack.extend(entries.flatten().map(|e| e.path()));
            }
        } else if meta.is_file() || meta.file_type().is_symlink() {
            out.push(relative.to_path_buf());
        }
    }
}

/// Copies `files` (relative to `workdir`) into `tree`, keeping modes and links, flushing each
/// file and folder.
fn write_tree(workdir: &Path, files: &[PathBuf], tree: &Path) -> Result<(), String> {
    let fail = |path: &Path, e: std::io::Error| format!("{}: {e}", path.display());
    std::fs::create_dir_all(tree).map_err(|e| fail(tree, e))?;
    let mut folders = std::collections::BTreeSet::new();
    folders.insert(tree.to_path_buf());
    for relative in files {
        let source = workdir.join(relative);
        let dest = tree.join(relative);
        if let Some(parent) = dest.parent() {
            std::fs::create_dir_all(parent).map_err(|e| fail(parent, e))?;
            let mut folder = parent.to_path_buf();
            while folder.starts_with(tree) && folders.insert(folder.clone()) {
                if let Ok(meta) =
                    std::fs::metadata(workdir.join(folder.strip_prefix(tree).unwrap_or(&folder)))
                    && folder != tree
                {
                    let _ = std::fs::set_permissions(&folder, meta.permissions());
                }
                if !folder.pop() {
                    break;
                }
            }
        }
        let meta = std::fs::symlink_metadata(&source).map_err(|e| fail(&source, e))?;
        if meta.file_type().is_symlink() {
            let link = std::fs::read_link(&source).map_err(|e| fail(&source, e))?;
            std::os::unix::fs::symlink(&link, &dest).map_err(|e| fail(&dest, e))?;
        } else {
            std::fs::copy(&source, &dest).map_err(|e| fail(&source, e))?;
            std::fs::File::open(&dest)
                .and_then(|f| f.sync_all())
                .map_err(|e| fail(&dest, e))?;
        }
        crate::failpoint!("cache-copying");
    }
    for folder in folders.iter().rev() {
        crate::run::record::sync_dir(folder).map_err(|e| fail(folder, e))?;
    }
    Ok(())
}

/// Copies a saved tree into `workdir`: folders and files that are missing only, never through
/// a link. Returns how many files were left as they were because the working folder has them.
fn copy_in(tree: &Path, workdir: &Path) -> Result<usize, String> {
    let fail = |path: &Path, e: std::io::Error| format!("{}: {e}", path.display());
    let mut kept = 0;
    // Parents before children: a sorted walk of relative paths.
    let mut entries = Vec::new();
    let mut stack = vec![tree.to_path_buf()];
    while let Some(path) = stack.pop() {
        let meta = std::fs::symlink_metadata(&path).map_err(|e| fail(&path, e))?;
        if meta.is_dir() {
            for entry in std::fs::read_dir(&path).map_err(|e| fail(&path, e))? {
                stack.push(entry.map_err(|e| fail(&path, e))?.path());
            }
        }
        if path != tree {
            entries.push((path.strip_prefix(tree).unwrap_or(&path).to_path_buf(), meta));
        }
    }
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    for (relative, meta) in entries {
        let dest = workdir.join(&relative);
        // Never write through a link: every folder above `dest` must be a real folder.
        if !real_folders_between(workdir, &dest) {
            kept += usize::from(!meta.is_dir());
            continue;
        }
        if std::fs::symlink_metadata(&dest).is_ok() {
            kept += usize::from(!meta.is_dir());
            continue;
        }
        let source = tree.join(&relative);
        if meta.is_dir() {
            std::fs::create_dir(&dest).map_err(|e| fail(&dest, e))?;
            let mode = meta.permissions().mode();
            let _ = std::fs::set_permissions(&dest, std::fs::Permissions::from_mode(mode));
        } else if meta.file_type().is_symlink() {
            let link = std::fs::read_link(&source).map_err(|e| fail(&source, e))?;
            std::os::unix::fs::symlink(&link, &dest).map_err(|e| fail(&dest, e))?;
        } else {
            // Through a temporary name, so a kill never leaves a half file under the real one.
            let mut partial = dest.clone().into_os_string();
            partial.push(".cdl-restoring");
            let partial = PathBuf::from(partial);
            std::fs::copy(&source, &partial).map_err(|e| fail(&dest, e))?;
            std::fs::rename(&partial, &dest).map_err(|e| fail(&dest, e))?;
        }
    }
    Ok(kept)
}

/// Whether every folder from `workdir` down to `path`'s parent is a real folder (no link).
fn real_folders_between(workdir: &Path, path: &Path) -> bool {
    let Ok(relative) = path.strip_prefix(workdir) else {
        return false;
    };
    let mut folder = workdir.to_path_buf();
    let parts: Vec<_> = relative.components().collect();
    for part in &parts[..parts.len().saturating_sub(1)] {
        folder.push(part);
        match std::fs::symlink_metadata(&folder) {
            Ok(meta) if meta.is_dir() => {}
            _ => return false,
        }
    }
    true
}

/// The environment a job gets: `CDL_CACHE_<NAME>_HIT=true|false` per cache.
pub fn variables(restored: &[Restored]) -> Vec<(String, String)> {
    restored
        .iter()
        .map(|r| {
            (
                crate::model::cache::hit_variable(&r.name),
                r.hit.to_string(),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn cache(key: &[&str], paths: &[&str], policy: Policy) -> Cache {
        Cache {
            name: "c".into(),
            key: key.iter().map(|s| s.to_string()).collect(),
            paths: paths.iter().map(|s| s.to_string()).collect(),
            policy,
        }
    }

    #[test]
    fn the_key_follows_the_key_files_paths_and_bytes() {
        let work = tempfile::tempdir().unwrap();
        let w = work.path();
        std::fs::write(w.join("a.lock"), "1").unwrap();
        let c = cache(&["*.lock"], &["t"], Policy::PullPush);
        let first = key(w, &c).unwrap();
        assert_eq!(first.len(), 64);
        assert_eq!(key(w, &c).unwrap(), first);
        std::fs::write(w.join("a.lock"), "2").unwrap();
        let second = key(w, &c).unwrap();
        assert_ne!(second, first);
        std::fs::rename(w.join("a.lock"), w.join("b.lock")).unwrap();
        assert_ne!(key(w, &c).unwrap(), second);
        assert_eq!(
            key(w, &cache(&[], &["t"], Policy::Push)).unwrap(),
            STATIC_KEY
        );
    }

    #[test]
    fn a_saved_tree_is_restored_with_modes_links_and_without_overwriting() {
        let work = tempfile::tempdir().unwrap();
        let state = tempfile::tempdir().unwrap();
        let w = work.path();
        std::fs::create_dir_all(w.join("t/deep")).unwrap();
        std::fs::write(w.join("t/deep/run.sh"), "#!/bin/sh\n").unwrap();
        std::fs::set_permissions(
            w.join("t/deep/run.sh"),
            std::fs::Permissions::from_mode(0o750),
        )
        .unwrap();
        std::fs::write(w.join("t/mine"), "cached").unwrap();
        std::os::unix::fs::symlink("/etc/passwd", w.join("t/link")).unwrap();
        let c = cache(&[], &["t"], Policy::Push);
        let notes = save(state.path(), w, std::slice::from_ref(&c), &[]);
        assert!(notes[0].contains("saved 3 files"), "{notes:?}");
        std::fs::remove_dir_all(w.join("t/deep")).unwrap();
        std::fs::remove_file(w.join("t/link")).unwrap();
        std::fs::write(w.join("t/mine"), "the user's").unwrap();
        let pulled = cache(&[], &["t"], Policy::Pull);
        let (restored, notes) = restore(state.path(), w, &[pulled]);
        assert!(restored[0].hit, "{notes:?}");
        let mode = std::fs::metadata(w.join("t/deep/run.sh"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o750);
        assert_eq!(
            std::fs::read_link(w.join("t/link")).unwrap(),
            Path::new("/etc/passwd")
        );
        assert_eq!(
            std::fs::read_to_string(w.join("t/mine")).unwrap(),
            "the user's"
        );
    }

    #[test]
    fn restore_never_writes_through_a_link_out_of_the_working_folder() {
        let work = tempfile::tempdir().unwrap();
        let state = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        let w = work.path();
        std::fs::create_dir_all(w.join("t")).unwrap();
        std::fs::write(w.join("t/f"), "x").unwrap();
        save(state.path(), w, &[cache(&[], &["t"], Policy::Push)], &[]);
        std::fs::remove_dir_all(w.join("t")).unwrap();
        std::os::unix::fs::symlink(outside.path(), w.join("t")).unwrap();
        let (restored, _) = restore(state.path(), w, &[cache(&[], &["t"], Policy::Pull)]);
        assert!(restored[0].hit);
        assert!(!outside.path().join("f").exists());
    }

    #[test]
    fn pull_never_saves_pull_push_saves_a_new_key_once_and_push_replaces() {
        let work = tempfile::tempdir().unwrap();
        let state = tempfile::tempdir().unwrap();
        let w = work.path();
        std::fs::write(w.join("f"), "1").unwrap();
        let pull = cache(&["k"], &["f"], Policy::Pull);
        assert!(save(state.path(), w, &[pull], &[]).is_empty());
        assert!(!root(state.path()).join("c").exists());
        let pp = cache(&["k"], &["f"], Policy::PullPush);
        assert!(save(state.path(), w, std::slice::from_ref(&pp), &[])[0].contains("saved 1"));
        std::fs::write(w.join("f"), "2").unwrap();
        assert!(save(state.path(), w, std::slice::from_ref(&pp), &[])[0].contains("already"));
        let key = key(w, &pp).unwrap();
        let saved = root(state.path()).join("c").join(&key).join("tree/f");
        assert_eq!(std::fs::read_to_string(&saved).unwrap(), "1");
        let push = cache(&["k"], &["f"], Policy::Push);
        assert!(save(state.path(), w, &[push], &[])[0].contains("saved 1"));
        assert_eq!(std::fs::read_to_string(&saved).unwrap(), "2");
        let left: Vec<_> = std::fs::read_dir(root(state.path()).join("c"))
            .unwrap()
            .flatten()
            .map(|e| e.file_name())
            .collect();
        assert_eq!(left, [std::ffi::OsString::from(&key)]);
    }

    #[test]
    fn two_jobs_saving_one_key_at_once_the_first_wins_and_the_other_is_a_no_op() {
        for _ in 0..20 {
            let work = tempfile::tempdir().unwrap();
            let state = tempfile::tempdir().unwrap();
            for i in 0..50 {
                std::fs::write(work.path().join(format!("f{i}")), i.to_string()).unwrap();
            }
            let c = cache(&["f1"], &["f*"], Policy::PullPush);
            let notes: Vec<String> = std::thread::scope(|scope| {
                let handles: Vec<_> = (0..2)
                    .map(|_| {
                        scope.spawn(|| {
                            save(state.path(), work.path(), std::slice::from_ref(&c), &[])
                        })
                    })
                    .collect();
                handles
                    .into_iter()
                    .flat_map(|h| h.join().unwrap())
                    .collect()
            });
            let saved = notes
                .iter()
                .filter(|n| n.contains("saved 50 files"))
                .count();
            assert_eq!(saved, 1, "{notes:?}");
            let entries: Vec<_> = std::fs::read_dir(root(state.path()).join("c"))
                .unwrap()
                .flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect();
            assert_eq!(entries.len(), 1, "no temporary folder left: {entries:?}");
            let tree = root(state.path()).join("c").join(&entries[0]).join("tree");
            assert_eq!(std::fs::read_dir(tree).unwrap().count(), 50);
        }
    }

    #[test]
    fn the_state_folder_is_never_saved() {
        let work = tempfile::tempdir().unwrap();
        let w = work.path();
        let state = w.join(".cdl");
        std::fs::create_dir_all(state.join("runs")).unwrap();
        std::fs::write(state.join("runs/x"), "x").unwrap();
        std::fs::write(w.join("f"), "1").unwrap();
        let notes = save(&state, w, &[cache(&[], &["*", ".*"], Policy::Push)], &[]);
        assert!(notes[0].contains("saved 1 files"), "{notes:?}");
    }
}
