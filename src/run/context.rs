//! The run context: the values conditions are evaluated with (`--branch`, `--tag`, `--event`,
//! by default the current git branch and tag and the event `push`) and the rest of what every
//! job sees as `CDL_SHA`, `CDL_PR_TARGET`, `CDL_DEFAULT_BRANCH`, `CDL_REPOSITORY`.

use std::path::Path;
use std::process::Command;

use serde::{Deserialize, Serialize};

use crate::plan::RunContext;

/// What the command line says about the run; `None` means "ask git".
#[derive(Debug, Clone, Default)]
pub struct Given {
    pub branch: Option<String>,
    pub tag: Option<String>,
    pub event: Option<String>,
    pub sha: Option<String>,
    pub pr_target: Option<String>,
}

/// The context values beyond those conditions read; kept in the run record so that a resumed
/// run gives its jobs the same values.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Facts {
    pub sha: String,
    pub pr_target: String,
    pub repository: String,
    pub default_branch: String,
    // v2 i14b
    /// The files changed since the run's base (`changed()`); absent: everything counts as
    /// changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub changed: Option<std::collections::BTreeSet<String>>,
}

/// The detected context, and a notice to print when the folder is not in a git repository.
pub struct Detected {
    pub context: RunContext,
    pub facts: Facts,
    pub notice: Option<String>,
}

/// The run context of a pipeline in `dir`: the flags first, then git, then empty values.
/// `default_branch` is the pipeline's attribute, when it sets one.
pub fn detect(dir: &Path, given: Given, default_branch: Option<&str>) -> Detected {
    let git = |args: &[&str]| -> Option<String> {
        let output = Command::new("git")
            .args(args)
            .current_dir(dir)
            .output()
            .ok()?;
        let text = String::from_utf8(output.stdout).ok()?.trim().to_string();
        (output.status.success() && !text.is_empty() && text != "HEAD").then_some(text)
    };
    let in_git = git(&["rev-parse", "--git-dir"]).is_some();
    let branch = given
        .branch
        .or_else(|| git(&["rev-parse", "--abbrev-ref", "HEAD"]));
    let tag = given
        .tag
        .or_else(|| git(&["describe", "--tags", "--exact-match"]));
    let sha = given.sha.or_else(|| git(&["rev-parse", "HEAD"]));
    let top = git(&["rev-parse", "--show-toplevel"]);
    let repository = git(&["remote", "get-url", "origin"])
        .and_then(|url| repository_of_url(&url))
        .or_else(|| top.as_deref().and_then(folder_name))
        .or_else(|| {
            dir.canonicalize()
                .ok()
                .and_then(|d| folder_name(&d.to_string_lossy()))
        })
        .unwrap_or_default();
    let default_branch = default_branch
        .map(str::to_string)
        .or_else(|| {
            git(&["symbolic-ref", "--short", "refs/remotes/origin/HEAD"])
                .map(|r| r.strip_prefix("origin/").unwrap_or(&r).to_string())
        })
        .unwrap_or_else(|| "main".to_string());
    let notice = (!in_git).then(|| {
        format!(
            "note: {} is not in a git repository: CDL_BRANCH, CDL_TAG and CDL_SHA are empty unless --branch, --tag or --sha give them",
            dir.display()
        )
    });
    Detected {
        context: RunContext {
            branch,
            tag,
            event: given.event.unwrap_or_else(|| "push".to_string()),
            repository: repository.clone(),
            default_branch: default_branch.clone(),
            ..RunContext::default()
        },
        facts: Facts {
            sha: sha.unwrap_or_default(),
            pr_target: given.pr_target.unwrap_or_default(),
            repository,
            default_branch,
            changed: None,
        },
        notice,
    }
}

/// The variables every job gets: `CDL_EVENT`, `CDL_BRANCH`, `CDL_TAG`, `CDL_SHA`,
/// `CDL_PR_TARGET`, `CDL_DEFAULT_BRANCH`, `CDL_REPOSITORY`, `CDL_OWNER`, `CDL_PROJECT` and
/// `CDL_WORKSPACE`.
pub fn variables(context: &RunContext, facts: &Facts, workspace: &Path) -> Vec<(String, String)> {
    [
        ("CDL_EVENT", context.event.clone()),
        ("CDL_BRANCH", context.branch.clone().unwrap_or_default()),
        ("CDL_TAG", context.tag.clone().unwrap_or_default()),
        ("CDL_SHA", facts.sha.clone()),
        ("CDL_PR_TARGET", facts.pr_target.clone()),
        ("CDL_DEFAULT_BRANCH", facts.default_branch.clone()),
        ("CDL_REPOSITORY", facts.repository.clone()),
        (
            "CDL_OWNER",
            crate::model::value::owner_and_project(&facts.repository)
                .0
                .to_string(),
        ),
        (
            "CDL_PROJECT",
            crate::model::value::owner_and_project(&facts.repository)
                .1
                .to_string(),
        ),
        ("CDL_WORKSPACE", workspace.display().to_string()),
    ]
    .into_iter()
    .map(|(name, value)| (name.to_string(), value))
    .collect()
}

/// `owner/name` of a remote URL (`git@host:owner/name.git`, `https://host/owner/name`).
fn repository_of_url(url: &str) -> Option<String> {
    let path = url.trim_end_matches('/').trim_end_matches(".git");
    let path = match path.split_once("://") {
        Some((_, rest)) => rest.split_once('/')?.1,
        // A local path names a folder, not a repository of a hosting service.
        None => path.split_once(':')?.1,
    };
    let mut parts = path.rsplit('/').filter(|p| !p.is_empty());
    let name = parts.next()?;
    let owner = parts.next()?;
    Some(format!("{owner}/{name}"))
}

fn folder_name(path: &str) -> Option<String> {
    Path::new(path)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repository_from_remote_urls() {
        for (url, expected) in [
            ("git@github.com:acme/app.git", Some("acme/app")),
            ("https://github.com/acme/app", Some("acme/app")),
            ("https://gitlab.com/group/sub/app.git/", Some("sub/app")),
            ("ssh://git@host:22/acme/app.git", Some("acme/app")),
            ("/srv/git/app.git", None),
            ("app", None),
        ] {
            assert_eq!(repository_of_url(url).as_deref(), expected, "{url}");
        }
    }

    #[test]
    fn no_git_gives_empty_values_and_one_notice() {
        let dir = tempfile::tempdir().unwrap();
        let detected = detect(dir.path(), Given::default(), None);
        // Some CI sandboxes put /tmp inside a repository; only then is there no notice.
        if detected.notice.is_some() {
            assert_eq!(detected.context.branch, None);
            assert_eq!(detected.facts.sha, "");
            assert_eq!(detected.facts.default_branch, "main");
            let name = dir.path().file_name().unwrap().to_string_lossy();
            assert_eq!(detected.facts.repository, name);
        }
        let given = detect(
            dir.path(),
            Given {
                branch: Some("b".into()),
                sha: Some("abc".into()),
                ..Given::default()
            },
            Some("trunk"),
        );
        assert_eq!(given.context.branch.as_deref(), Some("b"));
        assert_eq!(given.facts.sha, "abc");
        assert_eq!(given.facts.default_branch, "trunk");
    }
}
