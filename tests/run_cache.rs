//! Caches (language v2 §9) under `cdl run`, the real binary: a warm cache skips the work (counted
//! by the job, not timed), a changed key misses, `pull` never saves, `push` always saves, and a
//! kill at any moment of a save leaves no half cache for a later run to restore.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn cdl(dir: &Path, args: &[&str], envs: &[(&str, &str)]) -> Output {
    let mut command = Command::new(assert_cmd::cargo::cargo_bin!("cdl"));
    command
        .current_dir(dir)
        .args(args)
        .env_remove("NO_COLOR")
        .env_remove("CDL_FAILPOINT")
        .stdin(Stdio::null());
    for (k, v) in envs {
        command.env(k, v);
    }
    command.output().expect("cdl runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The job does its "work" (counted in `work-count`, outside the cache) unless the cache was
/// restored and holds its marker; the work writes three files into `deps/`.
const WORK: &str = r#"#!/bin/sh
set -e
echo "hit=$CDL_CACHE_DEPS_HIT"
if [ "$CDL_CACHE_DEPS_HIT" = true ] && [ -f deps/marker ]; then
  echo "skipped the work"
  exit 0
fi
echo x >> work-count
mkdir -p deps/sub
echo "$(cat deps.lock)" > deps/marker
echo two > deps/sub/two
printf 'three' > deps/sub/three.sh
chmod 755 deps/sub/three.sh
"#;

fn pipeline(policy: &str, key: &str) -> String {
    format!(
        "pipeline p {{\n  stage build {{\n    job build {{\n      run = \"./work.sh\"\n      cache deps {{\n        {key}\n        paths  = [\"deps\"]\n        policy = {policy}\n      }}\n    }}\n  }}\n}}\n"
    )
}

fn project(policy: &str, key: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("pipeline.cdl"), pipeline(policy, key)).unwrap();
    std::fs::write(dir.path().join("deps.lock"), "v1").unwrap();
    let script = dir.path().join("work.sh");
    std::fs::write(&script, WORK).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    dir
}

fn work_count(dir: &Path) -> usize {
    std::fs::read_to_string(dir.join("work-count"))
        .map(|s| s.lines().count())
        .unwrap_or(0)
}

/// A run from a fresh checkout: the cached folder is gone first.
fn fresh_run(dir: &Path) -> Output {
    let _ = std::fs::remove_dir_all(dir.join("deps"));
    let out = cdl(dir, &["run", "pipeline.cdl"], &[]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    out
}

fn saved_keys(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir.join(".cdl/cache/deps")) else {
        return Vec::new();
    };
    let mut keys: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
    keys.sort();
    keys
}

/// Every saved key folder holds the whole tree, as the job wrote it (temporary folders, whose
/// names start with `.`, are never restored).
fn assert_whole(dir: &Path) {
    for key in saved_keys(dir) {
        let name = key.file_name().unwrap().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue; // a killed save's temporary folder: never restored
        }
        let tree = key.join("tree/deps");
        assert!(std::fs::read_to_string(tree.join("marker")).is_ok_and(|m| m.starts_with('v')));
        assert_eq!(
            std::fs::read_to_string(tree.join("sub/two")).unwrap(),
            "two\n"
        );
        assert_eq!(
            std::fs::read_to_string(tree.join("sub/three.sh")).unwrap(),
            "three"
        );
    }
}

#[test]
fn a_warm_cache_skips_the_work_and_a_changed_key_misses() {
    let dir = project("pull_push", r#"key    = ["*.lock"]"#);
    let first = fresh_run(dir.path());
    assert_eq!(work_count(dir.path()), 1);
    assert!(text(&first.stdout).contains("hit=false"));
    assert_eq!(saved_keys(dir.path()).len(), 1);
    assert_whole(dir.path());

    let second = fresh_run(dir.path());
    assert_eq!(work_count(dir.path()), 1, "{}", text(&second.stdout));
    assert!(text(&second.stdout).contains("hit=true"));
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(dir.path().join("deps/sub/three.sh"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o755, "modes are kept");

    std::fs::write(dir.path().join("deps.lock"), "v2").unwrap();
    let third = fresh_run(dir.path());
    assert_eq!(work_count(dir.path()), 2, "{}", text(&third.stdout));
    assert_eq!(
        saved_keys(dir.path()).len(),
        2,
        "the new key is saved beside the old"
    );
    fresh_run(dir.path());
    assert_eq!(work_count(dir.path()), 2);
    assert_eq!(
        std::fs::read_to_string(dir.path().join("deps/marker")).unwrap(),
        "v2\n"
    );
}

#[test]
fn pull_never_saves() {
    let dir = project("pull", r#"key    = ["deps.lock"]"#);
    fresh_run(dir.path());
    fresh_run(dir.path());
    assert_eq!(work_count(dir.path()), 2);
    assert!(saved_keys(dir.path()).is_empty());
}

#[test]
fn push_always_saves_and_never_restores() {
    let dir = project("push", "");
    let first = fresh_run(dir.path());
    assert!(text(&first.stdout).contains("hit=false"));
    std::fs::write(dir.path().join("deps.lock"), "v2").unwrap();
    let second = fresh_run(dir.path());
    assert!(text(&second.stdout).contains("hit=false"));
    assert_eq!(work_count(dir.path()), 2);
    let keys = saved_keys(dir.path());
    assert_eq!(keys.len(), 1, "{keys:?}");
    assert!(keys[0].ends_with("static"));
    assert_eq!(
        std::fs::read_to_string(keys[0].join("tree/deps/marker")).unwrap(),
        "v2\n",
        "replaced by the second run"
    );
}

#[test]
fn a_kill_at_any_moment_of_a_save_leaves_no_half_cache() {
    for (policy, point) in [
        ("pull_push", "cache-copying:1"),
        ("pull_push", "cache-copying:2"),
        ("pull_push", "cache-copying:3"),
        ("pull_push", "cache-written"),
        ("pull_push", "cache-saved"),
        ("push", "cache-copying:2"),
        ("push", "cache-written"),
        ("push", "cache-replacing"),
        ("push", "cache-saved"),
    ] {
        let dir = project(policy, r#"key    = ["deps.lock"]"#);
        if policy == "push" {
            // A cache to replace.
            fresh_run(dir.path());
            std::fs::write(dir.path().join("deps.lock"), "v1").unwrap();
        }
        let _ = std::fs::remove_dir_all(dir.path().join("deps"));
        let killed = cdl(
            dir.path(),
            &["run", "pipeline.cdl"],
            &[("CDL_FAILPOINT", point)],
        );
        assert_eq!(killed.status.code(), None, "{point}: killed by SIGKILL");
        assert_whole(dir.path());

        // The killed run resumes and saves; a later run from a fresh checkout restores a whole
        // cache and skips the work.
        let resumed = cdl(dir.path(), &["resume"], &[]);
        assert_eq!(
            resumed.status.code(),
            Some(0),
            "{point}: {}{}",
            text(&resumed.stdout),
            text(&resumed.stderr)
        );
        assert_whole(dir.path());
        let before = work_count(dir.path());
        let later = fresh_run(dir.path());
        if policy == "pull_push" {
            assert_eq!(
                work_count(dir.path()),
                before,
                "{point}: {}",
                text(&later.stdout)
            );
        }
        assert_whole(dir.path());
        let left: Vec<_> = saved_keys(dir.path())
            .into_iter()
            .filter(|k| k.file_name().unwrap().to_string_lossy().starts_with('.'))
            .collect();
        assert!(
            left.is_empty(),
            "{point}: abandoned folders removed: {left:?}"
        );
    }
}
