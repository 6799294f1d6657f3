//! Reports and kept files (language v2 §8) in exports: what every target shares — the paths
//! kept, GitLab's `/…/` coverage pattern, the folder a glob starts in (for targets that store
//! folders, not globs), and the W0200 findings of targets that cannot keep them.

use super::Lossy;
use crate::plan::Job;

/// Every path or glob the job keeps: its report files, then `keep`, each once.
pub fn kept(job: &Job) -> Vec<&str> {
    crate::model::reports::kept_paths(&job.reports, &job.keep)
}

/// A kept path as the target reads it, from the repository's root: under the pipeline file's
/// folder when the steps run there.
pub fn in_folder(folder: Option<&str>, path: &str) -> String {
    match folder {
        Some(folder) => format!("{}/{path}", folder.trim_end_matches('/')),
        None => path.to_string(),
    }
}

/// v2 `keep_when`, as each target says when a job's files are kept: GitHub's status check of
/// the upload step, GitLab's `artifacts: when`, CircleCI's `when` of a store step, Jenkins'
/// `post` condition.
pub struct KeepWhen {
    pub github: &'static str,
    pub gitlab: &'static str,
    pub circleci: &'static str,
    pub jenkins: &'static str,
}

pub fn keep_when(job: &Job) -> KeepWhen {
    match job.keep_when {
        Some(crate::plan::Runs::OnFailure) => KeepWhen {
            github: "${{ failure() }}",
            gitlab: "on_failure",
            circleci: "on_fail",
            jenkins: "failure",
        },
        Some(crate::plan::Runs::OnSuccess) => KeepWhen {
            github: "${{ success() }}",
            gitlab: "on_success",
            circleci: "on_success",
            jenkins: "success",
        },
        _ => KeepWhen {
            github: "${{ always() }}",
            gitlab: "always",
            circleci: "always",
            jenkins: "always",
        },
    }
}

/// W0200 for a `keep_when` a target cannot say: it keeps the files whatever the result.
pub fn keep_when_lost(job: &Job, system: &str, why: &str) -> Option<Lossy> {
    let when = job.keep_when?;
    Some(Lossy::at(
        job,
        format!(
            "{system} keeps the job's files whatever its result ({why}): `keep_when = {}` is not exported",
            when.as_str()
        ),
        "the files are kept after a failure and a success alike",
    ))
}

/// Whether the job keeps or reports anything an export must map.
pub fn any(job: &Job) -> bool {
    !job.reports.is_empty() || !job.keep.is_empty() || job.retention_days.is_some()
}

/// GitLab's `coverage:` value: the regex between slashes, each `/` not already escaped
/// written `\/` (GitLab reads `/…/` as a Ruby-style literal, then runs it with RE2).
pub fn gitlab_coverage(regex: &str) -> String {
    let mut out = String::from("/");
    let mut chars = regex.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                out.push('\\');
                if let Some(next) = chars.next() {
                    out.push(next);
                }
            }
            '/' => out.push_str("\\/"),
            c => out.push(c),
        }
    }
    out.push('/');
    out
}

/// The folder a glob's matches are all in (`reports` for `reports/*.xml`), or the path itself
/// when it holds no glob character; `None` when the glob starts at the working folder itself.
pub fn folder_of(pattern: &str) -> Option<String> {
    if !pattern.contains(['*', '?', '[']) {
        return Some(pattern.to_string());
    }
    let literal: Vec<&str> = pattern
        .split('/')
        .take_while(|part| !part.contains(['*', '?', '[']))
        .collect();
    (!literal.is_empty()).then(|| literal.join("/"))
}

/// A GitHub `upload-artifact` path line for a cdl glob: `@actions/glob` reads a leading `#` as
/// a comment and a leading `!` as an exclusion, so those start with `./`.
pub fn github_glob(pattern: &str) -> String {
    if pattern.starts_with(['#', '!']) {
        format!("./{pattern}")
    } else {
        pattern.to_string()
    }
}

/// W0200 for a target with no place for the job's reports and kept files.
pub fn not_kept(job: &Job, target: &str) -> Option<Lossy> {
    any(job).then(|| {
        Lossy::at(
            job,
            format!("{target} keeps no reports or files of a job: `reports`, `keep` and `retention` are not exported"),
            "the job runs without them; keep its files with the run's own storage, or export to a target that keeps them (GitLab, GitHub, CircleCI, Buildkite, Jenkins)",
        )
    })
}

/// W0200 for a retention the target sets outside the pipeline file.
pub fn retention_elsewhere(job: &Job, target: &str, where_: &str) -> Option<Lossy> {
    job.retention_days.map(|days| {
        Lossy::at(
            job,
            format!("{target} sets how long it keeps files {where_}, not per job: `retention = {days}d` is not exported"),
            format!("set the retention in {target}'s settings, or leave `retention` out"),
        )
    })
}

/// W0200 for report kinds a target does not read (they are still kept as files).
pub fn kinds_unread(job: &Job, target: &str, read: &[&str]) -> Option<Lossy> {
    let reports = &job.reports;
    let mut unread = Vec::new();
    if !reports.junit.is_empty() && !read.contains(&"junit") {
        unread.push("junit");
    }
    if reports.coverage.is_some() && !read.contains(&"coverage") {
        unread.push("coverage");
    }
    if reports.codequality.is_some() && !read.contains(&"codequality") {
        unread.push("codequality");
    }
    if reports.coverage_regex.is_some() && !read.contains(&"coverage_regex") {
        unread.push("coverage_regex");
    }
    (!unread.is_empty()).then(|| {
        let kinds: Vec<String> = unread.iter().map(|k| format!("`{k}`")).collect();
        Lossy::at(
            job,
            format!("{target} does not read the report kinds {}", kinds.join(", ")),
            "their files are kept as plain files; a `coverage_regex` (a regex over the log) has no file and is not exported",
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gitlab_coverage_escapes_each_bare_slash_once() {
        assert_eq!(gitlab_coverage(r"a/b\/c\\/d"), r"/a\/b\/c\\\/d/");
        assert_eq!(
            gitlab_coverage(r"^TOTAL.*\s(\d+)%$"),
            r"/^TOTAL.*\s(\d+)%$/"
        );
        // The pattern between the slashes is the regex that cdl runs.
        for regex in [r"a/b", r"x\/y", r"\\/", r"'#: /", r#""q""#] {
            let written = gitlab_coverage(regex);
            let inner = &written[1..written.len() - 1];
            let ours = regex::Regex::new(regex).unwrap();
            let theirs = regex::Regex::new(inner).unwrap();
            for text in ["a/b", "x/y", "\\/", "'#: /", "\"q\""] {
                assert_eq!(
                    ours.is_match(text),
                    theirs.is_match(text),
                    "{regex} on {text}"
                );
            }
        }
    }

    #[test]
    fn folders_of_globs() {
        assert_eq!(folder_of("reports/*.xml").as_deref(), Some("reports"));
        assert_eq!(folder_of("a/b/**/c.xml").as_deref(), Some("a/b"));
        assert_eq!(folder_of("out/junit.xml").as_deref(), Some("out/junit.xml"));
        assert_eq!(folder_of("*.xml"), None);
        assert_eq!(github_glob("#x"), "./#x");
        assert_eq!(github_glob("!x"), "./!x");
    }
}
