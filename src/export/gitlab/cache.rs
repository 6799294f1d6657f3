//! Caches on GitLab (v2 §9, i14c): `cache:` with `key:files` (GitLab takes at most two files),
//! `paths` and `policy`. A keyless cache has the key `<name>-static`. GitLab expands variables
//! in cache paths and keys, so a path or key file holding `$` or `%NAME%` is left out (W0200);
//! GitLab does not say whether a cache was restored, so `CDL_CACHE_<NAME>_HIT` is not set
//! (W0200). At most four caches per job.

use serde::Serialize;

use super::expansion;
use crate::export::Lossy;
use crate::export::reports::in_folder;
use crate::model::cache::Policy;
use crate::plan::Job;

/// One entry of a job's `cache:`.
#[derive(Serialize, Debug, PartialEq)]
pub struct GitlabCache {
    pub key: CacheKey,
    pub paths: Vec<String>,
    pub policy: &'static str,
}

#[derive(Serialize, Debug, PartialEq)]
#[serde(untagged)]
pub enum CacheKey {
    Text(String),
    Files { files: Vec<String>, prefix: String },
}

const MAX_CACHES: usize = 4;
const MAX_KEY_FILES: usize = 2;

/// The job's `cache:` entries, and what GitLab cannot say.
pub fn caches(job: &Job, folder: Option<&str>, lossy: &mut Vec<Lossy>) -> Vec<GitlabCache> {
    if job.caches.is_empty() {
        return Vec::new();
    }
    let mut out = Vec::new();
    let mut expanded = Vec::new();
    for cache in &job.caches {
        if out.len() == MAX_CACHES {
            lossy.push(Lossy::at(
                job,
                format!(
                    "GitLab takes at most {MAX_CACHES} caches per job: `{}` is not exported",
                    cache.name
                ),
                "merge caches whose paths go together, or move some to another job",
            ));
            continue;
        }
        let mut written = |p: &String| -> Option<String> {
            let path = in_folder(folder, p);
            if expansion::expands(&path) {
                expanded.push(p.clone());
                None
            } else {
                Some(path)
            }
        };
        let paths: Vec<String> = cache.paths.iter().filter_map(&mut written).collect();
        let files: Vec<String> = cache.key.iter().filter_map(&mut written).collect();
        if paths.is_empty() {
            continue;
        }
        if files.len() > MAX_KEY_FILES {
            lossy.push(Lossy::at(
                job,
                format!(
                    "GitLab's `cache:key:files` takes at most {MAX_KEY_FILES} files: the key of the cache `{}` follows only `{}`",
                    cache.name,
                    files[..MAX_KEY_FILES].join("`, `")
                ),
                "name at most two key files (a lock file each), so that every change of them makes a new key",
            ));
        }
        let key = if cache.key.is_empty() || files.is_empty() {
            CacheKey::Text(format!("{}-static", cache.name))
        } else {
            CacheKey::Files {
                files: files.into_iter().take(MAX_KEY_FILES).collect(),
                prefix: cache.name.clone(),
            }
        };
        out.push(GitlabCache {
            key,
            paths,
            policy: match cache.policy {
                Policy::PullPush => "pull-push",
                Policy::Pull => "pull",
                Policy::Push => "push",
            },
        });
    }
    if !expanded.is_empty() {
        let list: Vec<String> = expanded.iter().map(|p| format!("`{p}`")).collect();
        lossy.push(Lossy::at(
            job,
            format!("GitLab expands variables in cache paths and keys: {} left out", list.join(", ")),
            "a path with `$` or `%NAME%` would name other files on GitLab; rename the files so that their paths hold neither",
        ));
    }
    lossy.push(Lossy::at(
        job,
        "GitLab does not tell a job whether its cache was restored: `CDL_CACHE_<NAME>_HIT` is not set",
        "test for the cached files themselves (`[ -d node_modules ]`) rather than the variable",
    ));
    out
}
