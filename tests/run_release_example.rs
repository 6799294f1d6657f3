//! `examples/release.cdl` under `cdl run`, the real binary, in a copy of the example: a tagged
//! run publishes every target's archive with a checksum list that matches the files, an
//! untagged run builds the archives and publishes nothing, and a run killed between instances
//! resumes without building the finished instances again.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// The targets the example's matrix builds: every archive the release must hold.
const TARGETS: [&str; 6] = [
    "x86_64-unknown-linux-musl",
    "aarch64-unknown-linux-musl",
    "x86_64-apple-darwin",
    "aarch64-apple-darwin",
    "x86_64-pc-windows-msvc",
    "armv7-unknown-linux-musleabihf",
];

/// The Debian packages of the Linux instances (optional outputs).
const DEBS: [&str; 3] = [
    "mytool_1.2.3-1_x86_64.deb",
    "mytool_1.2.3-1_aarch64.deb",
    "mytool_1.2.3-1_armv7.deb",
];

fn cdl(dir: &Path, args: &[&str], envs: &[(&str, &str)]) -> Output {
    let mut command = Command::new(assert_cmd::cargo::cargo_bin!("cdl"));
    command
        .current_dir(dir)
        .args(args)
        .env_remove("NO_COLOR")
        .env_remove("CDL_FAILPOINT")
        .env_remove("PUBLISH_DIR")
        .stdin(Stdio::null());
    for (k, v) in envs {
        command.env(k, v);
    }
    command.output().expect("cdl runs")
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// A fresh folder with the example copied in; returns it and the folder releases go to.
fn project() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        crate::support::root().join("examples/release.cdl"),
        dir.path().join("release.cdl"),
    )
    .unwrap();
    let published = dir.path().join("published");
    (dir, published)
}

fn run_args<'a>(published: &'a str, tag: Option<&'a str>) -> Vec<&'a str> {
    let mut args = vec!["run", "release.cdl", "--sha", "0123456789abcdef"];
    args.extend(["--var", published]);
    if let Some(tag) = tag {
        args.extend(["--tag", tag, "--auto-approve"]);
    }
    args
}

/// `cksum FILE` in the release folder: the line the checksum list must hold for it.
fn cksum(folder: &Path, file: &str) -> String {
    let out = Command::new("cksum")
        .arg(file)
        .current_dir(folder)
        .output()
        .expect("cksum runs");
    assert!(out.status.success());
    String::from_utf8(out.stdout)
        .unwrap()
        .trim_end()
        .to_string()
}

/// Every file of the release is an archive of a target or a Debian package, the checksum list
/// names each once with the checksum `cksum` computes now, and each archive holds its target's
/// binary with the tagged version in it.
fn assert_published(release: &Path) {
    let mut files: Vec<String> = std::fs::read_dir(release)
        .unwrap_or_else(|e| panic!("{}: {e}", release.display()))
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    files.sort();
    let mut expected: Vec<String> = TARGETS
        .iter()
        .map(|t| format!("mytool-1.2.3-{t}.tar.gz"))
        .chain(DEBS.iter().map(|d| d.to_string()))
        .chain(["CHECKSUMS".to_string()])
        .collect();
    expected.sort();
    assert_eq!(files, expected);

    let list = std::fs::read_to_string(release.join("CHECKSUMS")).unwrap();
    let mut listed: Vec<&str> = list.lines().collect();
    listed.sort();
    let mut computed: Vec<String> = files
        .iter()
        .filter(|f| *f != "CHECKSUMS")
        .map(|f| cksum(release, f))
        .collect();
    computed.sort();
    assert_eq!(listed, computed, "CHECKSUMS:\n{list}");

    for target in TARGETS {
        let unpacked = tempfile::tempdir().unwrap();
        let archive = release.join(format!("mytool-1.2.3-{target}.tar.gz"));
        let status = Command::new("tar")
            .arg("-xzf")
            .arg(&archive)
            .current_dir(unpacked.path())
            .status()
            .unwrap();
        assert!(status.success(), "{} unpacks", archive.display());
        let exe = if target.contains("windows") {
            ".exe"
        } else {
            ""
        };
        let binary = unpacked
            .path()
            .join(format!("mytool-1.2.3-{target}/mytool{exe}"));
        assert_eq!(
            std::fs::read_to_string(&binary)
                .unwrap_or_else(|e| panic!("{}: {e}", binary.display())),
            format!("mytool 1.2.3 for {target}\n")
        );
    }
}

/// The jobs of the one run in the folder, from its run record.
fn recorded_jobs(dir: &Path) -> serde_json::Map<String, serde_json::Value> {
    let runs: Vec<PathBuf> = std::fs::read_dir(dir.join(".cdl/runs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(runs.len(), 1, "{runs:?}");
    let record: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(runs[0].join("run.json")).unwrap()).unwrap();
    record["jobs"].as_object().unwrap().clone()
}

/// The log of each matrix instance that has one, by job id (a log is written as the job runs,
/// with a header per attempt).
fn instance_logs(dir: &Path) -> std::collections::BTreeMap<String, String> {
    let runs: Vec<PathBuf> = std::fs::read_dir(dir.join(".cdl/runs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(runs.len(), 1, "{runs:?}");
    std::fs::read_dir(runs[0].join("logs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter_map(|path| {
            let id = path.file_stem()?.to_str()?.to_string();
            id.starts_with("archives[")
                .then(|| (id, std::fs::read_to_string(&path).unwrap()))
        })
        .collect()
}

fn instances(
    jobs: &serde_json::Map<String, serde_json::Value>,
) -> Vec<(&String, &serde_json::Value)> {
    jobs.iter()
        .filter(|(id, _)| id.starts_with("archives["))
        .collect()
}

#[test]
fn a_tagged_run_publishes_every_target_with_matching_checksums() {
    let (dir, published) = project();
    let var = format!("PUBLISH_DIR={}", published.display());
    let out = cdl(dir.path(), &run_args(&var, Some("v1.2.3")), &[]);
    assert!(out.status.success(), "{}", text(&out));
    assert_published(&published.join("v1.2.3"));
    let jobs = recorded_jobs(dir.path());
    assert_eq!(instances(&jobs).len(), TARGETS.len());
    for job in ["publish", "deploy_archives_releases", "smoke"] {
        assert_eq!(jobs[job]["state"], "succeeded", "{job}: {}", text(&out));
    }
    assert_eq!(jobs["version"]["values"]["version"], "1.2.3");
}

#[test]
fn an_untagged_run_builds_every_target_and_publishes_nothing() {
    let (dir, published) = project();
    let var = format!("PUBLISH_DIR={}", published.display());
    let out = cdl(dir.path(), &run_args(&var, None), &[]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(!published.exists(), "nothing published: {}", text(&out));
    let jobs = recorded_jobs(dir.path());
    assert_eq!(jobs["version"]["values"]["version"], "0.0.0-dev.0123456");
    let built = instances(&jobs);
    assert_eq!(built.len(), TARGETS.len());
    for (id, job) in built {
        assert_eq!(job["state"], "succeeded", "{id}");
    }
    for job in ["publish", "deploy_archives_releases", "smoke"] {
        assert_eq!(jobs[job]["state"], "skipped", "{job}: {}", text(&out));
    }
}

#[test]
fn a_run_killed_between_instances_resumes_without_building_them_again() {
    let (dir, published) = project();
    let var = format!("PUBLISH_DIR={}", published.display());
    let mut args = run_args(&var, Some("v1.2.3"));
    args.extend(["--jobs", "1"]);
    // Killed as the third instance is sealed, before its success is recorded.
    let killed = cdl(dir.path(), &args, &[("CDL_FAILPOINT", "artifact-stored:3")]);
    assert_eq!(killed.status.code(), None, "killed: {}", text(&killed));
    assert!(!published.exists());
    // The logs of the instances that ran: the first two finished, the third was sealed.
    let before = instance_logs(dir.path());
    assert_eq!(before.len(), 3, "{}", text(&killed));

    let resumed = cdl(dir.path(), &["resume"], &[]);
    assert!(resumed.status.success(), "{}", text(&resumed));
    assert_published(&published.join("v1.2.3"));
    // The instances that ran before the kill did not start again (their logs hold the one
    // attempt they had), and every instance ran exactly once across the run and its resume.
    let after = instance_logs(dir.path());
    assert_eq!(after.len(), TARGETS.len());
    for (id, log) in &before {
        assert_eq!(&after[id], log, "{id} ran again");
        assert!(
            !text(&resumed).contains(&format!("▶ {id} started")),
            "{id} started again: {}",
            text(&resumed)
        );
    }
    for (id, log) in &after {
        assert_eq!(log.matches("── attempt ").count(), 1, "{id}:\n{log}");
    }
    for (id, job) in instances(&recorded_jobs(dir.path())) {
        assert_eq!(job["state"], "succeeded", "{id}");
        assert_eq!(job["attempts"].as_array().unwrap().len(), 1, "{id}");
    }
}
