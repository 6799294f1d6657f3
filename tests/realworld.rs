//! The real-world corpus (`tests/realworld/NAME/pipeline.cdl`) keeps checking: every
//! translation is run through the real `cdl check` and `cdl export` to its original's system.
//! `tests/realworld/check.sh` (run by `.ci/run`) also runs the targets' validators.

use std::path::{Path, PathBuf};

use assert_cmd::cargo::cargo_bin_cmd;
use serde_json::Value;

use crate::support::root;

/// The folders holding a `pipeline.cdl`, with the target their original runs on.
fn pipelines() -> Vec<(PathBuf, &'static str)> {
    let mut found: Vec<(PathBuf, &'static str)> = std::fs::read_dir(root().join("tests/realworld"))
        .expect("tests/realworld exists")
        .map(|entry| entry.expect("entry").path())
        .filter(|dir| dir.join("pipeline.cdl").is_file())
        .map(|dir| {
            let target = if dir.join("original.yml").is_file() {
                "github"
            } else {
                "gitlab"
            };
            (dir, target)
        })
        .collect();
    found.sort();
    found
}

fn relative(path: &Path) -> String {
    path.strip_prefix(root())
        .unwrap_or(path)
        .display()
        .to_string()
}

/// Why `cdl check` rejects the file: its exit status and error lines (none when it passes).
fn check_problems(file: &str) -> Vec<String> {
    let out = cargo_bin_cmd!("cdl")
        .current_dir(root())
        .args(["check", "--format", "json", file])
        .output()
        .expect("cdl runs");
    let mut problems: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|d| d["severity"] == "error")
        .map(|d| {
            format!(
                "{}:{}: {}[{}]: {}",
                d["file"].as_str().unwrap_or("?"),
                d["line"],
                d["severity"].as_str().unwrap_or("?"),
                d["code"].as_str().unwrap_or("?"),
                d["message"].as_str().unwrap_or("?")
            )
        })
        .collect();
    if out.status.code() != Some(0) {
        problems.insert(0, format!("`cdl check` exited with {}", out.status));
        if problems.len() == 1 {
            problems.push(String::from_utf8_lossy(&out.stderr).trim().to_string());
        }
    }
    problems
}

/// Why `cdl export --target TARGET` fails on the file (none when it writes the export).
fn export_problems(file: &str, target: &str, folder: &Path) -> Vec<String> {
    let exported = folder.join("exported.yml");
    let out = cargo_bin_cmd!("cdl")
        .current_dir(root())
        .args(["export", "--target", target, file, "-o"])
        .arg(&exported)
        .output()
        .expect("cdl runs");
    if out.status.code() == Some(0) && exported.is_file() {
        return Vec::new();
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    let first_error = stderr
        .lines()
        .find(|line| line.contains("error"))
        .unwrap_or("")
        .trim();
    vec![format!(
        "`cdl export --target {target}` exited with {}: {first_error}",
        out.status
    )]
}

/// Every translation checks with exit 0 and no error, and exports to its original's system.
/// The message names every pipeline that does not, with its errors.
#[test]
fn every_realworld_translation_checks_and_exports() {
    let pipelines = pipelines();
    assert!(
        pipelines.len() >= 14,
        "the corpus holds 14 pipelines, found {}",
        pipelines.len()
    );
    let folder = tempfile::tempdir().expect("a temporary folder");
    let mut failing = Vec::new();
    for (dir, target) in &pipelines {
        let file = relative(&dir.join("pipeline.cdl"));
        let mut problems = check_problems(&file);
        if problems.is_empty() {
            problems = export_problems(&file, target, folder.path());
        }
        if !problems.is_empty() {
            failing.push(format!(
                "{file} ({target}):\n    {}",
                problems.join("\n    ")
            ));
        }
    }
    assert!(
        failing.is_empty(),
        "{} of {} real-world translations fail (tests/realworld/check.sh prints them too):\n{}",
        failing.len(),
        pipelines.len(),
        failing.join("\n")
    );
}
