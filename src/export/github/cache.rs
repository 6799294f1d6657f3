//! Caches on GitHub (v2 §9, i14c): `actions/cache/restore` before the job's commands and
//! `actions/cache/save` after them, both pinned by commit.
//!
//! The key is `<name>-${{ hashFiles(…) }}` (`<name>-static` without `key`), the patterns
//! written as expression string literals (`'` doubled), computed once by the restore step
//! (`cache-primary-key`) and reused by the save, as `cdl run` does. GitHub caches cannot be
//! overwritten, so a `push` save writes `<key>-<run id>-<attempt>` and every restore also
//! takes the newest of those (`restore-keys: <key>-`, computed again: a step cannot read its own
//! outputs). `CDL_CACHE_<NAME>_HIT` is whether a
//! cache was restored (`cache-matched-key` not empty); `false` for `push`, which never
//! restores. A `push` job looks its key up without downloading (`lookup-only`).
//!
//! zizmor's `cache-poisoning` audit: a workflow that runs on tags publishes, and a cache an
//! untrusted branch saved must not reach it; such a workflow restores and saves no cache
//! (W0200 per job) and its jobs get `CDL_CACHE_<NAME>_HIT=false`.

use indexmap::IndexMap;

use super::expressions::literal;
use super::{Input, Step};
use crate::export::Lossy;
use crate::export::reports::{github_glob, in_folder};
use crate::model::cache::{Cache, Policy};
use crate::plan::Job;

pub const RESTORE: &str = "actions/cache/restore@0057852bfaa89a56745cba8c7296529d2fc39830"; // v4.3.0
pub const SAVE: &str = "actions/cache/save@0057852bfaa89a56745cba8c7296529d2fc39830"; // v4.3.0

fn step_id(cache: &Cache) -> String {
    format!("cdl-cache-{}", cache.name)
}

/// `hashFiles('a', 'b')` with each pattern an expression string literal.
fn hash_files(patterns: &[String], folder: Option<&str>) -> String {
    let arguments: Vec<String> = patterns
        .iter()
        .map(|p| {
            format!(
                "'{}'",
                github_glob(&in_folder(folder, p)).replace('\'', "''")
            )
        })
        .collect();
    format!("${{{{ hashFiles({}) }}}}", arguments.join(", "))
}

fn key(cache: &Cache, folder: Option<&str>) -> String {
    if cache.key.is_empty() {
        format!("{}-static", cache.name)
    } else {
        format!("{}-{}", cache.name, hash_files(&cache.key, folder))
    }
}

fn paths(cache: &Cache, folder: Option<&str>) -> Input {
    let lines: Vec<String> = cache
        .paths
        .iter()
        .map(|p| github_glob(&in_folder(folder, p)))
        .collect();
    Input::Text(literal(&(lines.join("\n") + "\n")))
}

/// The restore (or lookup) steps and the step that sets `CDL_CACHE_<NAME>_HIT`; `publishes`:
/// the workflow runs on tags, so no cache is used (W0200).
pub fn restore_steps(
    job: &Job,
    folder: Option<&str>,
    publishes: bool,
    lossy: &mut Vec<Lossy>,
) -> Vec<Step> {
    if job.caches.is_empty() {
        return Vec::new();
    }
    let mut steps = Vec::new();
    let mut env = IndexMap::new();
    if publishes {
        let names: Vec<String> = job.caches.iter().map(|c| format!("`{}`", c.name)).collect();
        lossy.push(Lossy::at(
            job,
            format!("the workflow runs on tags (it publishes), so the caches {} are neither restored nor saved on GitHub", names.join(", ")),
            "a cache saved by any branch could poison what a tag publishes (zizmor's cache-poisoning); the job runs without them and gets `CDL_CACHE_<NAME>_HIT=false`. Put the tag's jobs in a pipeline of their own to cache the others",
        ));
    }
    for cache in &job.caches {
        let variable = cache.hit_variable();
        if publishes {
            env.insert(variable, "false".to_string());
            continue;
        }
        let id = step_id(cache);
        let mut with = IndexMap::from([
            ("path".to_string(), paths(cache, folder)),
            ("key".to_string(), Input::Text(key(cache, folder))),
        ]);
        if cache.policy == Policy::Push {
            with.insert("lookup-only".into(), Input::Flag(true));
            env.insert(variable, "false".to_string());
        } else {
            with.insert(
                "restore-keys".into(),
                Input::Text(format!("{}-", key(cache, folder))),
            );
            env.insert(
                variable,
                format!("${{{{ steps.{id}.outputs.cache-matched-key != '' }}}}"),
            );
        }
        steps.push(Step {
            name: Some(format!(
                "{} the cache {}",
                if cache.policy == Policy::Push {
                    "Look up"
                } else {
                    "Restore"
                },
                cache.name
            )),
            id: Some(id),
            uses: Some(RESTORE.into()),
            with,
            ..Step::default()
        });
    }
    let mut run = String::new();
    for variable in env.keys() {
        run.push_str(&format!(
            "printf '%s=%s\\n' {variable} \"${variable}\" >> \"$GITHUB_ENV\"\n"
        ));
    }
    steps.push(Step {
        name: Some("cdl caches: CDL_CACHE_<NAME>_HIT".into()),
        env,
        run: Some(run),
        ..Step::default()
    });
    steps
}

/// The save steps after the job's commands (on success): `pull_push` when nothing was
/// restored, `push` always, `pull` never.
pub fn save_steps(job: &Job, folder: Option<&str>, publishes: bool) -> Vec<Step> {
    if publishes {
        return Vec::new();
    }
    job.caches
        .iter()
        .filter(|c| c.policy.saves())
        .map(|cache| {
            let id = step_id(cache);
            let (key, condition) = match cache.policy {
                Policy::Push => (
                    format!("${{{{ steps.{id}.outputs.cache-primary-key }}}}-${{{{ github.run_id }}}}-${{{{ github.run_attempt }}}}"),
                    None,
                ),
                _ => (
                    format!("${{{{ steps.{id}.outputs.cache-primary-key }}}}"),
                    Some(format!("${{{{ steps.{id}.outputs.cache-matched-key == '' }}}}")),
                ),
            };
            Step {
                name: Some(format!("Save the cache {}", cache.name)),
                uses: Some(SAVE.into()),
                with: IndexMap::from([
                    ("path".to_string(), paths(cache, folder)),
                    ("key".to_string(), Input::Text(key)),
                ]),
                condition,
                ..Step::default()
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_files_patterns_are_string_literals_with_quotes_doubled() {
        let written = hash_files(&["it's".into(), "#x".into(), "${{ a }}".into()], None);
        assert_eq!(written, "${{ hashFiles('it''s', './#x', '${{ a }}') }}");
        let inner = &written[3..written.len() - 2];
        // The expression ends at the last `}}`: no `}}` outside a literal before it.
        let mut in_literal = false;
        let mut previous = ' ';
        for c in inner.chars() {
            if c == '\'' {
                in_literal = !in_literal;
            }
            assert!(in_literal || !(previous == '}' && c == '}'), "{inner}");
            previous = c;
        }
        assert!(!in_literal);
    }
}
