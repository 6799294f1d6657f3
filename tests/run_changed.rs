//! `changed("glob")` under `cdl run` (language v2 §9, i14b): the real binary in a temporary
//! git repository of several commits (a rename, a deletion, paths with spaces and unicode),
//! the default base of a push (`HEAD~1`), `--base`, a tag run, an unknown base and a folder
//! outside git.

use std::path::Path;
use std::process::{Command, Output, Stdio};

fn git(dir: &Path, args: &[&str]) {
    let status = Command::new("git")
        .current_dir(dir)
        .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
        .args([
            "-c",
            "commit.gpgsign=false",
            "-c",
            "init.defaultBranch=main",
        ])
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("git runs");
    assert!(status.success(), "git {args:?}");
}

fn write(dir: &Path, path: &str, text: &str) {
    let path = dir.join(path);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// Each job records that it ran in `../marks/<job>`, outside the repository.
const PIPELINE: &str = r#"pipeline p {
  stage s {
    job src      { run = "touch ../marks/src"       when = changed("src/**") }
    job top_md   { run = "touch ../marks/top_md"    when = changed("*.md") }
    job any_md   { run = "touch ../marks/any_md"    when = changed("**/*.md") }
    job old      { run = "touch ../marks/old"       when = changed("old.txt") }
    job renamed  { run = "touch ../marks/renamed"   when = changed("new/*.txt") }
    job lock     { run = "touch ../marks/lock"      when = changed("Cargo.lock") }
    job unicode  { run = "touch ../marks/unicode"   when = changed("my docs/[t-ü]*.md") }
    job spaced   { run = "touch ../marks/spaced"    when = changed("my docs/été.txt") }
    job not_src  { run = "touch ../marks/not_src"   when = !changed("src/**") }
    job either   { run = "touch ../marks/either"    when = changed("nothing/**", "src/*") }
  }
}
"#;

const JOBS: [&str; 10] = [
    "src", "top_md", "any_md", "old", "renamed", "lock", "unicode", "spaced", "not_src", "either",
];

/// A repository in `root/repo` with three commits; `root/marks` beside it.
fn repository(root: &Path) -> std::path::PathBuf {
    let repo = root.join("repo");
    std::fs::create_dir_all(&repo).unwrap();
    git(&repo, &["init", "-q"]);
    write(&repo, "pipeline.cdl", PIPELINE);
    write(&repo, "src/main.rs", "fn main() {}\n");
    write(&repo, "docs/a.md", "# a\n");
    write(&repo, "my docs/été.txt", "1\n");
    write(&repo, "old.txt", "old\n");
    write(&repo, "Cargo.lock", "lock\n");
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "-q", "-m", "one"]);
    write(&repo, "src/main.rs", "fn main() { println!(); }\n");
    git(&repo, &["commit", "-q", "-am", "two"]);
    repo
}

fn cdl(dir: &Path, args: &[&str]) -> Output {
    let marks = dir.parent().unwrap().join("marks");
    let _ = std::fs::remove_dir_all(&marks);
    std::fs::create_dir_all(&marks).unwrap();
    Command::new(assert_cmd::cargo::cargo_bin!("cdl"))
        .current_dir(dir)
        .args(["run", "pipeline.cdl", "--state-dir"])
        .arg(dir.parent().unwrap().join("state"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("cdl runs")
}

/// The jobs that ran, in `JOBS` order.
fn ran(dir: &Path) -> Vec<&'static str> {
    let marks = dir.parent().unwrap().join("marks");
    JOBS.into_iter()
        .filter(|job| marks.join(job).exists())
        .collect()
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

#[test]
fn changed_reads_the_diff_from_the_base() {
    let root = tempfile::tempdir().unwrap();
    let repo = repository(root.path());
    // The third commit: a rename, a deletion, a new file with spaces and unicode.
    std::fs::create_dir_all(repo.join("new")).unwrap();
    git(&repo, &["mv", "old.txt", "new/renamed.txt"]);
    git(&repo, &["rm", "-q", "Cargo.lock"]);
    write(&repo, "my docs/über.md", "ü\n");
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "-q", "-m", "three"]);

    // A push compares with the commit before: the rename counts both paths, the deletion
    // its path.
    let out = cdl(&repo, &["--branch", "main"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(
        ran(&repo),
        ["any_md", "old", "renamed", "lock", "unicode", "not_src"],
        "{}",
        text(&out)
    );

    // `--base` two commits back adds `src/main.rs` (three-dot: from the merge base).
    let out = cdl(&repo, &["--branch", "main", "--base", "HEAD~2"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(
        ran(&repo),
        [
            "src", "any_md", "old", "renamed", "lock", "unicode", "either"
        ],
        "{}",
        text(&out)
    );

    // The base itself: nothing changed, every `changed()` is false.
    let out = cdl(&repo, &["--branch", "main", "--base", "HEAD"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(ran(&repo), ["not_src"], "{}", text(&out));

    // A pull request compares with its target branch's merge base.
    git(&repo, &["checkout", "-q", "-b", "feature"]);
    write(&repo, "src/feature.rs", "\n");
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "-q", "-m", "feature"]);
    let out = cdl(
        &repo,
        &[
            "--event",
            "pull_request",
            "--pr-target",
            "main",
            "--branch",
            "feature",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(ran(&repo), ["src", "either"], "{}", text(&out));
}

#[test]
fn everything_counts_as_changed_without_a_base_with_a_notice() {
    let root = tempfile::tempdir().unwrap();
    let repo = repository(root.path());
    let all: Vec<&str> = JOBS.into_iter().filter(|j| *j != "not_src").collect();

    let out = cdl(&repo, &["--event", "tag", "--tag", "v1"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(ran(&repo), all, "{}", text(&out));
    assert!(
        text(&out).contains("a tag run counts every file as changed"),
        "{}",
        text(&out)
    );

    let out = cdl(&repo, &["--branch", "main", "--base", "no-such-ref"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(ran(&repo), all, "{}", text(&out));
    assert!(
        text(&out).contains("git knows no commit `no-such-ref`"),
        "{}",
        text(&out)
    );

    // A base that looks like an option is a ref name to git, never an option.
    let out = cdl(&repo, &["--branch", "main", "--base=--output=x"]);
    assert_eq!(ran(&repo), all, "{}", text(&out));
    assert!(!repo.join("x").exists());

    let outside = root.path().join("plain");
    std::fs::create_dir_all(&outside).unwrap();
    write(&outside, "pipeline.cdl", PIPELINE);
    let out = cdl(&outside, &["--branch", "main"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(ran(&outside), all, "{}", text(&out));
    assert!(
        text(&out).contains("is not in a git repository"),
        "{}",
        text(&out)
    );
}

#[test]
fn the_first_commit_has_no_commit_before_it() {
    let root = tempfile::tempdir().unwrap();
    let repo = root.path().join("repo");
    std::fs::create_dir_all(&repo).unwrap();
    git(&repo, &["init", "-q"]);
    write(&repo, "pipeline.cdl", PIPELINE);
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "-q", "-m", "one"]);
    let out = cdl(&repo, &["--branch", "main"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        text(&out).contains("HEAD is the first commit"),
        "{}",
        text(&out)
    );
    assert_eq!(ran(&repo).len(), JOBS.len() - 1, "{}", text(&out));
}
