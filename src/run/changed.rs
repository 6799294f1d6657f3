//! The files `changed("glob")` reads in `cdl run` (language v2 §9, i14b): `git diff
//! --name-only BASE...HEAD` (from the merge base of BASE and HEAD), renames counted as a
//! deletion and an addition. BASE is `--base REF`, else the event's: a push compares with the
//! commit before (`HEAD~1`), a pull request with its target branch (`--pr-target`, else the
//! default branch); a tag, a schedule and a manual run count everything as changed. Without
//! git, or with a base git does not know, everything counts as changed, with a notice.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

/// What changed, and why everything counts as changed when it does (`None`: it was asked).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Changed {
    /// `None`: everything counts as changed.
    pub files: Option<BTreeSet<String>>,
    pub notice: Option<String>,
}

/// The changed files of a run of `event` in the repository holding `dir`.
pub fn changed(
    dir: &Path,
    base: Option<&str>,
    event: &str,
    pr_target: &str,
    default_branch: &str,
) -> Changed {
    let everything = |why: String| Changed {
        files: None,
        notice: Some(format!("note: every `changed()` holds in this run: {why}")),
    };
    let base = match base {
        Some(base) => base.to_string(),
        None => match event {
            "push" => "HEAD~1".to_string(),
            "pull_request" if !pr_target.is_empty() => pr_target.to_string(),
            "pull_request" => default_branch.to_string(),
            other => {
                return Changed {
                    files: None,
                    notice: Some(format!(
                        "note: every `changed()` holds in this run: a {} run counts every file as changed (`--base REF` compares with REF)",
                        match other {
                            "tag" => "tag",
                            "schedule" => "scheduled",
                            _ => "manual",
                        }
                    )),
                };
            }
        },
    };
    let git = |args: &[&str]| {
        Command::new("git")
            .args(["-c", "core.quotepath=off"])
            .args(args)
            .current_dir(dir)
            .output()
    };
    match git(&["rev-parse", "--git-dir"]) {
        Ok(output) if output.status.success() => {}
        Ok(_) => return everything(format!("{} is not in a git repository", dir.display())),
        Err(error) => return everything(format!("git could not be run ({error})")),
    }
    let commit = format!("{base}^{{commit}}");
    let known = git(&[
        "rev-parse",
        "--verify",
        "--quiet",
        "--end-of-options",
        &commit,
    ])
    .is_ok_and(|o| o.status.success());
    if !known {
        return everything(format!(
            "git knows no commit `{base}` to compare with{}",
            if base == "HEAD~1" {
                " (HEAD is the first commit)"
            } else {
                ""
            }
        ));
    }
    let range = format!("{base}...HEAD");
    let output = match git(&["diff", "--name-only", "--no-renames", "-z", &range, "--"]) {
        Ok(output) if output.status.success() => output,
        Ok(output) => {
            return everything(format!(
                "`git diff {range}` failed: {}",
                String::from_utf8_lossy(&output.stderr).trim()
            ));
        }
        Err(error) => return everything(format!("git could not be run ({error})")),
    };
    let files = output
        .stdout
        .split(|&b| b == 0)
        .filter(|p| !p.is_empty())
        .map(|p| String::from_utf8_lossy(p).into_owned())
        .collect();
    Changed {
        files: Some(files),
        notice: None,
    }
}
