//! The run context every job sees (`CDL_EVENT`, `CDL_BRANCH` … `CDL_WORKSPACE`), from git in
//! the pipeline's folder or from the flags, run as a real process.

use std::path::Path;
use std::process::{Command, Output, Stdio};

const PIPELINE: &str = r#"pipeline ctx {
    stage s {
        job show {
            run = "printf '%s|' \"$CDL_EVENT\" \"$CDL_BRANCH\" \"$CDL_TAG\" \"$CDL_SHA\" \"$CDL_PR_TARGET\" \"$CDL_DEFAULT_BRANCH\" \"$CDL_REPOSITORY\" \"$CDL_WORKSPACE\" > context.txt"
        }
    }
}"#;

fn cdl(dir: &Path, args: &[&str]) -> Output {
    Command::new(assert_cmd::cargo::cargo_bin!("cdl"))
        .current_dir(dir)
        .args(["run", "pipeline.cdl"])
        .args(args)
        .env("GIT_CEILING_DIRECTORIES", dir.parent().unwrap())
        .stdin(Stdio::null())
        .output()
        .expect("cdl runs")
}

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .current_dir(dir)
        .args(args)
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@example.com")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@example.com")
        .output()
        .expect("git runs");
    assert!(out.status.success(), "git {args:?}: {out:?}");
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

fn fields(dir: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(dir.join("context.txt")).unwrap();
    text.split('|').map(str::to_string).collect()
}

#[test]
fn the_context_comes_from_git_in_the_pipeline_folder() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().canonicalize().unwrap();
    std::fs::write(path.join("pipeline.cdl"), PIPELINE).unwrap();
    git(&path, &["init", "-q", "-b", "work"]);
    git(&path, &["add", "pipeline.cdl"]);
    git(&path, &["commit", "-q", "-m", "one"]);
    git(&path, &["tag", "v1.2.3"]);
    git(
        &path,
        &["remote", "add", "origin", "git@github.com:acme/app.git"],
    );
    let sha = git(&path, &["rev-parse", "HEAD"]);
    let out = cdl(&path, &[]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(!String::from_utf8_lossy(&out.stderr).contains("not in a git repository"));
    let workspace = path.display().to_string();
    assert_eq!(
        fields(&path)[..8],
        [
            "push",
            "work",
            "v1.2.3",
            sha.as_str(),
            "",
            "main",
            "acme/app",
            workspace.as_str()
        ]
    );
    // The flags win over git; `default_branch` in the file wins over git's guess.
    std::fs::write(
        path.join("pipeline.cdl"),
        PIPELINE.replace(
            "pipeline ctx {",
            "pipeline ctx { default_branch = \"trunk\"",
        ),
    )
    .unwrap();
    let out = cdl(
        &path,
        &[
            "--branch",
            "feature/$(x)",
            "--tag",
            "",
            "--event",
            "pull_request",
            "--sha",
            "0123abc",
            "--pr-target",
            "main",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert_eq!(
        fields(&path)[..7],
        [
            "pull_request",
            "feature/$(x)",
            "",
            "0123abc",
            "main",
            "trunk",
            "acme/app"
        ]
    );
}

#[test]
fn without_git_the_values_are_empty_with_one_notice() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().canonicalize().unwrap();
    std::fs::write(path.join("pipeline.cdl"), PIPELINE).unwrap();
    let out = cdl(&path, &[]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        stderr.matches("not in a git repository").count(),
        1,
        "{stderr}"
    );
    let name = path.file_name().unwrap().to_string_lossy().into_owned();
    let workspace = path.display().to_string();
    assert_eq!(
        fields(&path)[..8],
        [
            "push",
            "",
            "",
            "",
            "",
            "main",
            name.as_str(),
            workspace.as_str()
        ]
    );
}

/// `CDL_OWNER` and `CDL_PROJECT` split the repository at its last `/`, and `owner`/`project`
/// read them in a composed value. (From a remote URL `cdl run` takes the last two parts as the
/// repository, as the Buildkite and Jenkins exports do: a subgroup's parent is not kept.)
#[test]
fn owner_and_project_split_the_repository() {
    let pipeline = r#"pipeline ctx {
    stage s {
        job show {
            env { IMAGE = "registry.example/" + owner + "/" + project + ":dev" }
            run = "printf '%s|' \"$CDL_OWNER\" \"$CDL_PROJECT\" \"$IMAGE\" > context.txt"
        }
    }
}"#;
    for (remote, owner, project) in [
        ("git@github.com:acme/app.git", "acme", "app"),
        ("https://gitlab.example/group/sub/tool.git", "sub", "tool"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().canonicalize().unwrap();
        std::fs::write(path.join("pipeline.cdl"), pipeline).unwrap();
        git(&path, &["init", "-q", "-b", "work"]);
        git(&path, &["add", "pipeline.cdl"]);
        git(&path, &["commit", "-q", "-m", "one"]);
        git(&path, &["remote", "add", "origin", remote]);
        let out = cdl(&path, &[]);
        assert_eq!(out.status.code(), Some(0), "{out:?}");
        let image = format!("registry.example/{owner}/{project}:dev");
        assert_eq!(
            fields(&path)[..3],
            [owner, project, image.as_str()],
            "{remote}"
        );
    }
}
