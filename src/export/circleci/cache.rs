//! Caches on CircleCI (language v2 §9): `restore_cache` before the job's commands and
//! `save_cache` after them, keyed by `{{ checksum }}` of a file a `run` step writes first.
//!
//! - Key: a `run` step (in the job's working folder) writes each cache's key material to
//!   `/tmp/cdl-caches/NAME.key`: a constant line, then for every regular file the `key` globs
//!   match (found with `find`, `.git` left out, matched by `grep -E -x` against each glob as
//!   an anchored regular expression with `cdl run`'s rules: `*` and `?` stop at `/`, `**` is
//!   any depth; sorted bytewise) its path and its `sha256sum` (`cksum` where the image has no
//!   `sha256sum`). Without `key` the material is the constant line alone. The cache's key is
//!   `cdl-NAME-v1-{{ checksum "/tmp/cdl-caches/NAME.key" }}`: the material is computed once,
//!   before the commands, and the save uses the same file, as `cdl run` does.
//! - Restore (`pull_push`, `pull`): `restore_cache` with that key. CircleCI matches a key as a
//!   prefix and takes the newest match, so a restore also finds what a `push` job saved
//!   (`<key>-<job number>`); no other cache's key starts with it (names have no `-`, the
//!   checksum has one length).
//! - `CDL_CACHE_<NAME>_HIT`: each save puts a marker file, `/tmp/cdl-caches/NAME.hit`, in the
//!   cache; the key step removes it before the restore, so it exists after the restore exactly
//!   when a cache was restored. A step writes `export CDL_CACHE_<NAME>_HIT=true|false` to
//!   `$BASH_ENV` (`false` for `push`, which never restores), which the job's commands source.
//! - Save after success (a `save_cache` step runs only when the earlier steps passed):
//!   `pull_push` saves `<key>`, which CircleCI skips when the key exists (caches are immutable:
//!   "saved when the key is new"); `push` saves `<key>-{{ .BuildNum }}`, new on every run, which
//!   later restores take as the newest; `pull` never saves. The marker is written only when
//!   one of the paths exists, so a cache of nothing is not saved (as under `cdl run`).
//! - A job allowed to fail passes when its commands fail, and `save_cache` cannot be skipped
//!   at run time: its commands then write `/tmp/cdl-caches/failed`, and the marker step puts
//!   random material in the key files, so what is saved is under a key no restore asks for.
//! - Paths: relative to the job's working directory (under the pipeline file's folder), `<<`
//!   written `\<<`; CircleCI expands no variable in them. `save_cache` takes no globs: a glob
//!   is cached as the folder its matches are in, and one at the top of the working folder is
//!   left out (W0200). A path with `{{` is left out (W0200): CircleCI renders cache keys as
//!   templates and does not document whether it does so for paths.
//! - A workflow that runs on tags publishes: a cache any branch saved must not reach a tag's
//!   jobs (cache poisoning; every branch of a CircleCI project shares its caches). In a run for
//!   a tag the key step writes random material, so the restore finds nothing and
//!   `CDL_CACHE_<NAME>_HIT` is `false`; the real material is put back before the save, so a
//!   tag's run still saves what it built. Branch runs of the same workflow use the caches.

use indexmap::IndexMap;

use super::{NO_TIMEOUT, Run, SHELL, Step, literal};
use crate::export::Lossy;
use crate::export::reports::{folder_of, in_folder};
use crate::export::shell::quote;
use crate::model::cache::{Cache, Policy};
use crate::plan::Job;

/// Where the key material and the markers are kept during a job.
pub const FOLDER: &str = "/tmp/cdl-caches";
/// Written by the commands of a job allowed to fail when they failed: its caches are not
/// saved (their key material becomes random, so what `save_cache` writes is never restored).
pub const FAILED: &str = "/tmp/cdl-caches/failed";

/// The steps of a job's caches: before its commands (keys, restores, `CDL_CACHE_<NAME>_HIT`)
/// and after them (markers, saves).
#[derive(Default)]
pub struct CacheSteps {
    pub before: Vec<Step>,
    pub after: Vec<Step>,
}

/// A cache as CircleCI keeps it.
struct Mapped<'a> {
    cache: &'a Cache,
    /// The anchored regular expressions of its key files.
    key_patterns: Vec<String>,
    /// Its paths as `save_cache` reads them (from the job's working directory), and as the
    /// marker step tests them (from the pipeline's folder).
    paths: Vec<(String, String)>,
}

fn key_file(name: &str) -> String {
    format!("{FOLDER}/{name}.key")
}

fn marker(name: &str) -> String {
    format!("{FOLDER}/{name}.hit")
}

/// The key template of a cache: `cdl-NAME-v1-{{ checksum "…" }}`.
pub fn key(name: &str) -> String {
    format!("cdl-{name}-v1-{{{{ checksum \"{}\" }}}}", key_file(name))
}

/// The key a `push` saves: new on every run.
pub fn push_key(name: &str) -> String {
    format!("{}-{{{{ .BuildNum }}}}", key(name))
}

/// The steps of `job`'s caches; `tags`: the workflow runs for tags, whose runs restore none.
/// `folder`: the pipeline file's folder, where the commands run.
pub fn steps(job: &Job, folder: Option<&str>, tags: bool, lossy: &mut Vec<Lossy>) -> CacheSteps {
    let mut mapped = Vec::new();
    let mut hit_env = String::new();
    for cache in &job.caches {
        match map(job, cache, folder, lossy) {
            Some(m) => mapped.push(m),
            None => hit_env.push_str(&format!("echo 'export {}=false'\n", cache.hit_variable())),
        }
    }
    let mut out = CacheSteps::default();
    if mapped.is_empty() {
        if !hit_env.is_empty() {
            out.before.push(run(
                "cdl caches: CDL_CACHE_<NAME>_HIT",
                format!("{{\n{hit_env}}} >> \"$BASH_ENV\"\n"),
                None,
            ));
        }
        return out;
    }
    // The key material, written in the working folder, where the `key` globs start.
    let mut keys = format!("{KEY_FUNCTIONS}mkdir -p {FOLDER}\n");
    if job.allow_failure {
        keys.push_str(&format!("rm -f {FAILED}\n"));
    }
    for m in &mapped {
        let name = &m.cache.name;
        keys.push_str(&format!(
            "rm -f {marker}\n{{\n  printf 'cdl-cache-key/1\\n'\n",
            marker = marker(name)
        ));
        if !m.key_patterns.is_empty() {
            let patterns: Vec<String> = m
                .key_patterns
                .iter()
                .map(|p| format!("-e {}", quote(p)))
                .collect();
            keys.push_str(&format!("  cdl_cache_key {}\n", patterns.join(" ")));
        }
        keys.push_str(&format!("}} > {}\n", key_file(name)));
        if tags {
            keys.push_str(&format!(
                "if [ -n \"${{CIRCLE_TAG:-}}\" ]; then\n  mv {file} {file}.real\n  {{ printf 'a tag: no cache restored '; od -An -tx1 -N16 /dev/urandom; }} > {file}\nfi\n",
                file = key_file(name)
            ));
        }
    }
    out.before
        .push(run("cdl caches: the key files", keys, folder.map(literal)));
    for m in mapped.iter().filter(|m| m.cache.policy.restores()) {
        out.before.push(Step::RestoreCache(RestoreCache {
            name: format!("Restore the cache {}", m.cache.name),
            keys: vec![key(&m.cache.name)],
        }));
    }
    for m in &mapped {
        let variable = m.cache.hit_variable();
        if m.cache.policy.restores() {
            hit_env.push_str(&format!(
                "if [ -f {} ]; then echo 'export {variable}=true'; else echo 'export {variable}=false'; fi\n",
                marker(&m.cache.name)
            ));
        } else {
            hit_env.push_str(&format!("echo 'export {variable}=false'\n"));
        }
    }
    out.before.push(run(
        "cdl caches: CDL_CACHE_<NAME>_HIT",
        format!("{{\n{hit_env}}} >> \"$BASH_ENV\"\n"),
        None,
    ));
    // After the commands: the markers (only over paths that exist), then the saves.
    let saving: Vec<&Mapped> = mapped.iter().filter(|m| m.cache.policy.saves()).collect();
    if saving.is_empty() {
        return out;
    }
    let mut markers = String::new();
    for m in &saving {
        let name = &m.cache.name;
        if tags {
            markers.push_str(&format!(
                "if [ -f {file}.real ]; then mv {file}.real {file}; fi\n",
                file = key_file(name)
            ));
        }
        let tests: Vec<String> = m
            .paths
            .iter()
            .map(|(_, here)| format!("[ -e {} ]", quote(here)))
            .collect();
        markers.push_str(&format!(
            "rm -f {marker}\nif {}; then : > {marker}; fi\n",
            tests.join(" || "),
            marker = marker(name)
        ));
    }
    if job.allow_failure {
        // The commands failed (and passed): what is saved goes under a key no restore asks for.
        let mut failed = String::new();
        for m in &saving {
            failed.push_str(&format!(
                "  rm -f {marker}\n  {{ printf 'a failed run: not to be restored '; od -An -tx1 -N16 /dev/urandom; }} > {file}\n",
                marker = marker(&m.cache.name),
                file = key_file(&m.cache.name),
            ));
        }
        let indented: String = markers.lines().map(|l| format!("  {l}\n")).collect();
        markers = format!("if [ -f {FAILED} ]; then\n{failed}else\n{indented}fi\n");
    }
    out.after.push(run(
        "cdl caches: the markers of the caches saved",
        markers,
        folder.map(literal),
    ));
    for m in saving {
        let name = &m.cache.name;
        let mut paths: Vec<String> = m.paths.iter().map(|(saved, _)| literal(saved)).collect();
        paths.push(marker(name));
        out.after.push(Step::SaveCache(SaveCache {
            name: format!("Save the cache {name}"),
            key: if m.cache.policy == Policy::Push {
                push_key(name)
            } else {
                key(name)
            },
            paths,
        }));
    }
    out
}

/// Whether a job's commands need `$BASH_ENV` sourced to see `CDL_CACHE_<NAME>_HIT`.
pub fn sets_variables(job: &Job) -> bool {
    !job.caches.is_empty()
}

/// The line that gives a `/bin/sh` command what earlier steps wrote to `$BASH_ENV` (only
/// bash reads it by itself).
pub const SOURCE_BASH_ENV: &str =
    "if [ -n \"${BASH_ENV:-}\" ] && [ -f \"$BASH_ENV\" ]; then . \"$BASH_ENV\"; fi\n";

/// The shell functions of the key step: the key files matching the `-e` patterns, each path
/// then its digest.
const KEY_FUNCTIONS: &str = r#"cdl_cache_key() {
  find . -path ./.git -prune -o -type f -print | sed 's|^\./||' | LC_ALL=C grep -E -x "$@" | LC_ALL=C sort | while IFS= read -r file; do
    printf '%s\n' "$file"
    if command -v sha256sum >/dev/null; then sha256sum < "$file" || true; else cksum < "$file" || true; fi
  done
}
"#;

fn run(name: &str, command: String, working_directory: Option<String>) -> Step {
    Step::Run(Run {
        name: Some(name.to_string()),
        command: literal(&command),
        shell: SHELL,
        working_directory,
        environment: IndexMap::new(),
        no_output_timeout: NO_TIMEOUT.to_string(),
        when: None,
    })
}

#[derive(serde::Serialize)]
pub struct RestoreCache {
    name: String,
    keys: Vec<String>,
}

#[derive(serde::Serialize)]
pub struct SaveCache {
    name: String,
    key: String,
    paths: Vec<String>,
}

/// A cache as CircleCI keeps it, or `None` (W0200) when nothing of it can be.
fn map<'a>(
    job: &Job,
    cache: &'a Cache,
    folder: Option<&str>,
    lossy: &mut Vec<Lossy>,
) -> Option<Mapped<'a>> {
    let name = &cache.name;
    let mut key_patterns = Vec::new();
    let mut widened_keys = Vec::new();
    for pattern in &cache.key {
        match key_regex(pattern) {
            Ok((regex, exact)) => {
                if !exact {
                    widened_keys.push(format!("`{pattern}`"));
                }
                key_patterns.push(regex);
            }
            Err(reason) => {
                lossy.push(Lossy::at(
                    job,
                    format!("the key file glob `{pattern}` of the cache `{name}` is not a glob `cdl run` reads: {reason}"),
                    format!("the cache `{name}` is neither restored nor saved on CircleCI (`cdl run` cannot compute its key either) and `{}` is false; fix the glob", cache.hit_variable()),
                ));
                return None;
            }
        }
    }
    if !widened_keys.is_empty() {
        lossy.push(Lossy::at(
            job,
            format!(
                "the key file globs {} of the cache `{name}` have a character class CircleCI's `grep` cannot be given exactly",
                widened_keys.join(", ")
            ),
            "each such class is matched as any one character but `/`: the key may follow more files than under `cdl run` (a new key more often, never a stale cache)",
        ));
    }
    let mut paths = Vec::new();
    let mut widened = Vec::new();
    let mut left_out = Vec::new();
    for path in &cache.paths {
        if path.contains("{{") {
            left_out.push(format!(
                "`{path}` (CircleCI may read `{{{{ … }}}}` in it as a template)"
            ));
            continue;
        }
        match folder_of(path) {
            Some(stored) => {
                if stored != *path {
                    widened.push(format!("`{path}`"));
                }
                let stored = stored.trim_end_matches('/').to_string();
                let stored = if stored.is_empty() {
                    ".".to_string()
                } else {
                    stored
                };
                paths.push((in_folder(folder, &stored), stored));
            }
            None => left_out.push(format!(
                "`{path}` (a glob at the top of the working folder)"
            )),
        }
    }
    if !widened.is_empty() {
        lossy.push(Lossy::at(
            job,
            format!(
                "CircleCI's `save_cache` takes no globs: {} of the cache `{name}` cached as the folders their matches are in",
                widened.join(", ")
            ),
            "more files may be cached and restored than the globs match; name the folders to cache exactly",
        ));
    }
    if !left_out.is_empty() {
        lossy.push(Lossy::at(
            job,
            format!(
                "paths of the cache `{name}` are left out on CircleCI: {}",
                left_out.join(", ")
            ),
            "those files are neither restored nor saved; name them by a plain path without `{{`",
        ));
    }
    if paths.is_empty() {
        lossy.push(Lossy::at(
            job,
            format!("the cache `{name}` has no path CircleCI can cache"),
            format!(
                "it is neither restored nor saved and `{}` is false",
                cache.hit_variable()
            ),
        ));
        return None;
    }
    paths.dedup();
    Some(Mapped {
        cache,
        key_patterns,
        paths,
    })
}

/// A key file glob (as `cdl run` reads it: the `glob` crate, `*` and `?` not matching `/`,
/// `**` a whole component of any depth) as an anchored POSIX extended regular expression over
/// paths relative to the working folder, and whether it is exact (a class that cannot be
/// written is matched as any one character but `/`, a wider match).
pub fn key_regex(pattern: &str) -> Result<(String, bool), String> {
    glob::Pattern::new(pattern).map_err(|e| e.msg.to_string())?;
    let pattern = pattern.strip_prefix("./").unwrap_or(pattern);
    let chars: Vec<char> = pattern.chars().collect();
    let mut out = String::new();
    let mut exact = true;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '*' if chars.get(i + 1) == Some(&'*') => {
                // The glob crate allows `**` only as a whole component.
                if chars.get(i + 2) == Some(&'/') && i + 3 < chars.len() {
                    out.push_str("(.*/)?");
                    i += 3;
                } else {
                    // At the end (`**` or `**/`): anything below.
                    out.push_str(".*");
                    i += 2;
                    if chars.get(i) == Some(&'/') {
                        i += 1;
                    }
                }
                continue;
            }
            '*' => out.push_str("[^/]*"),
            '?' => out.push_str("[^/]"),
            '[' => {
                let (written, end, class_exact) = class(&chars, i);
                out.push_str(&written);
                exact &= class_exact;
                i = end;
                continue;
            }
            '\\' => out.push_str("\\\\"),
            '^' => out.push_str("\\^"),
            '.' | '+' | '(' | ')' | '{' | '|' | '$' => {
                out.push('[');
                out.push(c);
                out.push(']');
            }
            c => out.push(c),
        }
        i += 1;
    }
    Ok((out, exact))
}

/// The class starting at `chars[start] == '['` (the glob crate's syntax: `[!…]` negates, a
/// `]` right after the opening is a member, `a-z` a range), as a bracket expression that never
/// matches `/`; the index after it, and whether it is exact.
fn class(chars: &[char], start: usize) -> (String, usize, bool) {
    let mut i = start + 1;
    let negated = chars.get(i) == Some(&'!');
    if negated {
        i += 1;
    }
    let mut members: Vec<(char, char)> = Vec::new();
    let mut first = true;
    while i < chars.len() && (first || chars[i] != ']') {
        first = false;
        let lo = chars[i];
        if chars.get(i + 1) == Some(&'-') && chars.get(i + 2).is_some_and(|c| *c != ']') {
            members.push((lo, chars[i + 2]));
            i += 3;
        } else {
            members.push((lo, lo));
            i += 1;
        }
    }
    // `glob::Pattern::new` accepted the pattern, so the class is closed.
    let end = i + 1;
    let plain = |c: char| c.is_ascii_alphanumeric() || " _.,:@%+=~#!$&'\"*?(){}|;<>".contains(c);
    let mut singles = String::new();
    let mut ranges = String::new();
    let (mut close, mut caret, mut dash, mut open, mut backslash) =
        (false, false, false, false, false);
    for &(lo, hi) in &members {
        if lo == hi {
            match lo {
                '/' => {}
                ']' => close = true,
                '^' => caret = true,
                '-' => dash = true,
                '[' => open = true,
                '\\' => backslash = true,
                c if plain(c) => singles.push(c),
                _ => return ("[^/]".into(), end, false),
            }
        } else if lo.is_ascii_alphanumeric() && hi.is_ascii_alphanumeric() && lo <= hi {
            ranges.push_str(&format!("{lo}-{hi}"));
        } else {
            return ("[^/]".into(), end, false);
        }
    }
    let mut body = String::new();
    body.push_str(&ranges);
    body.push_str(&singles);
    if backslash {
        body.push('\\');
    }
    if caret {
        body.push('^');
    }
    if open {
        body.push('[');
    }
    if dash {
        body.push('-');
    }
    // A `]` member comes first, right after the opening (and `^`).
    let close = if close { "]" } else { "" };
    if negated {
        (format!("[^{close}/{body}]"), end, true)
    } else if close.is_empty() && body.is_empty() {
        // Only `/`, which never matches: matched as any one character but `/` (wider).
        ("[^/]".into(), end, false)
    } else if close.is_empty() && body == "^" {
        ("\\^".into(), end, true)
    } else {
        (format!("[{close}{body}]"), end, true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::export::Exporter;
    use serde_json::Value;

    /// The steps of each job of an exported config, as the YAML's data (the same `Serialize`
    /// the YAML is written from).
    fn job_steps(text: &str) -> IndexMap<String, Vec<Value>> {
        let compilation = crate::compile::compile_text("p.cdl", None, text.into());
        let plan = crate::plan::build(&compilation).unwrap();
        let prepared = crate::export::value::prepare(&plan);
        let config = super::super::Builder::new(&prepared).config();
        let value = serde_json::to_value(&config).unwrap();
        value["jobs"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), v["steps"].as_array().unwrap().clone()))
            .collect()
    }

    fn position(steps: &[Value], what: impl Fn(&Value) -> bool) -> Option<usize> {
        steps.iter().position(what)
    }

    #[test]
    fn restore_comes_before_the_commands_and_save_after_with_the_same_key_per_policy() {
        let text = r#"pipeline p {
  stage s {
    job both { run = "make both"  cache c { key = ["a.lock"]  paths = ["x"] } }
    job reads { run = "make reads"  cache c { key = ["a.lock"]  paths = ["x"]  policy = pull } }
    job writes { run = "make writes"  cache c { key = ["a.lock"]  paths = ["x"]  policy = push } }
  }
}
"#;
        let jobs = job_steps(text);
        let command = |job: &'static str| {
            move |s: &Value| {
                s["run"]["command"]
                    .as_str()
                    .is_some_and(|c| c.ends_with(&format!("make {job}")))
            }
        };
        let restore = |s: &Value| s.get("restore_cache").is_some();
        let save = |s: &Value| s.get("save_cache").is_some();
        let expected_key = key("c");
        assert_eq!(
            expected_key,
            "cdl-c-v1-{{ checksum \"/tmp/cdl-caches/c.key\" }}"
        );

        let both = &jobs["both"];
        let (r, c, w) = (
            position(both, restore).unwrap(),
            position(both, command("both")).unwrap(),
            position(both, save).unwrap(),
        );
        assert!(r < c && c < w, "{both:#?}");
        assert_eq!(
            both[r]["restore_cache"]["keys"],
            serde_json::json!([expected_key])
        );
        assert_eq!(
            both[w]["save_cache"]["key"],
            Value::from(expected_key.clone())
        );
        assert_eq!(
            both[w]["save_cache"]["paths"],
            serde_json::json!(["x", "/tmp/cdl-caches/c.hit"])
        );
        // The key file is written before the restore; the marker just before the save.
        let key_step = position(both, |s| {
            s["run"]["command"]
                .as_str()
                .is_some_and(|c| c.contains("> /tmp/cdl-caches/c.key"))
        })
        .unwrap();
        assert!(key_step < r);
        let marker_step = position(both, |s| {
            s["run"]["command"]
                .as_str()
                .is_some_and(|c| c.contains(": > /tmp/cdl-caches/c.hit"))
        })
        .unwrap();
        assert!(c < marker_step && marker_step < w);

        let reads = &jobs["reads"];
        let r = position(reads, restore).unwrap();
        assert!(r < position(reads, command("reads")).unwrap());
        assert_eq!(
            reads[r]["restore_cache"]["keys"],
            serde_json::json!([expected_key])
        );
        assert_eq!(position(reads, save), None, "pull never saves");

        let writes = &jobs["writes"];
        assert_eq!(position(writes, restore), None, "push never restores");
        let w = position(writes, save).unwrap();
        assert!(position(writes, command("writes")).unwrap() < w);
        assert_eq!(
            writes[w]["save_cache"]["key"],
            Value::from(format!("{expected_key}-{{{{ .BuildNum }}}}"))
        );
        // Every job gets the variable, `false` for push.
        for (job, line) in [
            ("both", "then echo 'export CDL_CACHE_C_HIT=true'"),
            ("reads", "then echo 'export CDL_CACHE_C_HIT=true'"),
            ("writes", "echo 'export CDL_CACHE_C_HIT=false'"),
        ] {
            assert!(
                jobs[job].iter().any(|s| s["run"]["command"]
                    .as_str()
                    .is_some_and(|c| c.contains(line) && c.contains(">> \"$BASH_ENV\""))),
                "{job}"
            );
        }
        // Other targets' findings aside, CircleCI reports nothing for these caches.
        let compilation = crate::compile::compile_text("p.cdl", None, text.into());
        let plan = crate::plan::build(&compilation).unwrap();
        let export = super::super::CircleCi.export(&plan);
        assert!(
            export.lossy.iter().all(|l| !l.message.contains("cache")),
            "{:?}",
            export.lossy
        );
    }

    /// Runs a cache step's command as CircleCI would (`/bin/sh -e`), in `workdir`, with the
    /// cache folder moved to `folder`; returns what it wrote to `$BASH_ENV`.
    fn run_step(step: &Value, workdir: &std::path::Path, folder: &std::path::Path) -> String {
        run_step_with(step, workdir, folder, None)
    }

    fn run_step_with(
        step: &Value,
        workdir: &std::path::Path,
        folder: &std::path::Path,
        tag: Option<&str>,
    ) -> String {
        let command = step["run"]["command"]
            .as_str()
            .unwrap()
            .replace(FOLDER, &folder.to_string_lossy());
        let env = workdir.join(".bash_env");
        std::fs::write(&env, "").unwrap();
        let mut sh = std::process::Command::new("sh");
        sh.args(["-e", "-c", &command])
            .current_dir(workdir)
            .env("BASH_ENV", &env)
            .env_remove("CIRCLE_TAG");
        if let Some(tag) = tag {
            sh.env("CIRCLE_TAG", tag);
        }
        let status = sh.status().unwrap();
        assert!(status.success(), "{command}");
        std::fs::read_to_string(&env).unwrap()
    }

    #[test]
    fn the_key_hit_and_marker_steps_do_what_the_caches_need_when_run() {
        let text = r#"pipeline p {
  stage s {
    job j { run = "make"  cache c { key = ["*.lock", "sub/**/x.txt"]  paths = ["out"] } }
  }
}
"#;
        let steps = &job_steps(text)["j"];
        let named = |name: &str| {
            steps
                .iter()
                .find(|s| s["run"]["name"] == name)
                .unwrap_or_else(|| panic!("{name}"))
                .clone()
        };
        let (keys, hit, markers) = (
            named("cdl caches: the key files"),
            named("cdl caches: CDL_CACHE_<NAME>_HIT"),
            named("cdl caches: the markers of the caches saved"),
        );
        let dir = tempfile::tempdir().unwrap();
        let (work, folder) = (dir.path().join("work"), dir.path().join("caches"));
        std::fs::create_dir_all(work.join("sub/deep")).unwrap();
        std::fs::write(work.join("a.lock"), "1").unwrap();
        std::fs::write(work.join("sub/deep/x.txt"), "x").unwrap();
        std::fs::write(work.join("b.txt"), "not a key file").unwrap();
        let key_file = folder.join("c.key");
        let marker = folder.join("c.hit");

        // A first run: the key material names the key files; nothing restored.
        run_step(&keys, &work, &folder);
        let first = std::fs::read_to_string(&key_file).unwrap();
        assert!(first.starts_with("cdl-cache-key/1\na.lock\n"), "{first}");
        assert!(
            first.contains("\nsub/deep/x.txt\n") && !first.contains("b.txt"),
            "{first}"
        );
        assert_eq!(
            run_step(&hit, &work, &folder),
            "export CDL_CACHE_C_HIT=false\n"
        );
        // No path exists yet: no marker, so nothing would be saved.
        run_step(&markers, &work, &folder);
        assert!(!marker.exists());
        std::fs::create_dir(work.join("out")).unwrap();
        run_step(&markers, &work, &folder);
        assert!(marker.exists(), "the save holds the marker");
        let saved_marker = std::fs::read(&marker).unwrap();

        // The next run: the same files make the same key; a restore brings the marker back.
        std::fs::write(work.join("b.txt"), "changed, but not a key file").unwrap();
        run_step(&keys, &work, &folder);
        assert!(
            !marker.exists(),
            "the key step removes the marker before the restore"
        );
        assert_eq!(std::fs::read_to_string(&key_file).unwrap(), first);
        std::fs::write(&marker, saved_marker).unwrap();
        assert_eq!(
            run_step(&hit, &work, &folder),
            "export CDL_CACHE_C_HIT=true\n"
        );

        // A key file's bytes change the key.
        std::fs::write(work.join("sub/deep/x.txt"), "y").unwrap();
        run_step(&keys, &work, &folder);
        assert_ne!(std::fs::read_to_string(&key_file).unwrap(), first);
    }

    #[test]
    fn a_tag_run_restores_nothing_but_saves_and_a_failed_run_saves_under_no_real_key() {
        let text = r#"pipeline p {
  on push
  on tag { pattern = "v*" }
  stage s {
    job j { run = "make"  allow_failure = true  cache c { key = ["a.lock"]  paths = ["out"] } }
  }
}
"#;
        let steps = &job_steps(text)["j"];
        let named = |name: &str| {
            steps
                .iter()
                .find(|s| s["run"]["name"] == name)
                .unwrap_or_else(|| panic!("{name}"))
                .clone()
        };
        let (keys, markers) = (
            named("cdl caches: the key files"),
            named("cdl caches: the markers of the caches saved"),
        );
        let dir = tempfile::tempdir().unwrap();
        let (work, folder) = (dir.path().join("work"), dir.path().join("caches"));
        std::fs::create_dir_all(work.join("out")).unwrap();
        std::fs::write(work.join("a.lock"), "1").unwrap();
        let key_file = folder.join("c.key");
        run_step(&keys, &work, &folder);
        let real = std::fs::read_to_string(&key_file).unwrap();

        // A tag's run: random material for the restore, two runs never alike.
        run_step_with(&keys, &work, &folder, Some("v1"));
        let first = std::fs::read_to_string(&key_file).unwrap();
        run_step_with(&keys, &work, &folder, Some("v1"));
        let second = std::fs::read_to_string(&key_file).unwrap();
        assert!(first != real && second != real && first != second);
        // … and the real material back for the save.
        run_step_with(&markers, &work, &folder, Some("v1"));
        assert_eq!(std::fs::read_to_string(&key_file).unwrap(), real);
        assert!(folder.join("c.hit").exists());

        // The commands failed (the job is allowed to): no marker, no real key for the save.
        run_step(&keys, &work, &folder);
        std::fs::write(folder.join("failed"), "").unwrap();
        run_step(&markers, &work, &folder);
        assert!(!folder.join("c.hit").exists());
        assert_ne!(std::fs::read_to_string(&key_file).unwrap(), real);
        // The next run starts clean.
        run_step(&keys, &work, &folder);
        assert!(!folder.join("failed").exists());
        assert_eq!(std::fs::read_to_string(&key_file).unwrap(), real);
    }

    /// Which of `paths` `grep -E -x` (bytewise, as the key step runs it) matches with `regex`.
    fn grep(regex: &str, paths: &[String]) -> Vec<String> {
        use std::io::Write;
        let mut child = std::process::Command::new("grep")
            .args(["-E", "-x", "-e", regex])
            .env("LC_ALL", "C")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("grep runs");
        let mut input = paths.join("\n");
        input.push('\n');
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(str::to_string)
            .collect()
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(96))]

        /// The key step's `grep` picks exactly the files `cdl run`'s glob matching picks.
        #[test]
        fn key_regexes_match_what_cdl_run_matches(
            pieces in proptest::collection::vec(
                proptest::sample::select(vec![
                    "a", "b", ".", "/", "*", "?", "**/", "/**", "[ab]", "[!a]", "[a-c]", "[]]",
                    "[!]-]", "[^]", "$", "(", "+", "{", "|", "\\", "^", " ", "'", "[.]",
                ]),
                1..7,
            ),
            paths in proptest::collection::vec("[ab.$(+{|^ ']{1,3}(/[ab.]{1,3}){0,3}", 1..24),
        ) {
            let pattern: String = pieces.concat();
            // `cdl run` globs the file system, where a `.` component is the folder itself;
            // the key step strips a leading `./`, and other `.` components are left aside.
            let stripped = pattern.strip_prefix("./").unwrap_or(&pattern);
            proptest::prop_assume!(stripped.split('/').all(|c| c != "." && c != ".."));
            let Ok(glob) = glob::Pattern::new(stripped) else {
                return Ok(());
            };
            let (regex, exact) = key_regex(&pattern).unwrap();
            proptest::prop_assume!(exact);
            let options = glob::MatchOptions {
                case_sensitive: true,
                require_literal_separator: true,
                require_literal_leading_dot: false,
            };
            let mut wanted: Vec<String> = paths
                .iter()
                .filter(|p| glob.matches_with(p, options))
                .cloned()
                .collect();
            let mut found = grep(&regex, &paths);
            wanted.sort();
            found.sort();
            proptest::prop_assert_eq!(found, wanted, "{} as {}", pattern, regex);
        }
    }

    #[test]
    fn key_globs_become_anchored_extended_expressions() {
        assert_eq!(
            key_regex("Cargo.lock").unwrap(),
            ("Cargo[.]lock".into(), true)
        );
        assert_eq!(
            key_regex("web/**/package-lock.json").unwrap(),
            ("web/(.*/)?package-lock[.]json".into(), true)
        );
        assert_eq!(key_regex("a/**").unwrap(), ("a/.*".into(), true));
        assert_eq!(key_regex("*.t?t").unwrap(), ("[^/]*[.]t[^/]t".into(), true));
        assert_eq!(key_regex("[!a-c]x").unwrap(), ("[^/a-c]x".into(), true));
        assert_eq!(key_regex("[]^-]").unwrap(), ("[]^-]".into(), true));
        assert_eq!(key_regex("[é]").unwrap(), ("[^/]".into(), false));
        assert!(key_regex("a**b").is_err());
        assert!(key_regex("[a").is_err());
    }
}
