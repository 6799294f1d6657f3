//! Files kept from a job and its test reports (language v2 §8): what a job leaves behind,
//! passed or failed. `cdl run` collects them when the job ends; every export maps them.

use serde::{Deserialize, Serialize};

/// The report kinds `reports { … }` accepts, in the order they are documented.
pub const REPORT_KINDS: &[&str] = &["junit", "coverage", "codequality", "coverage_regex"];

/// Longest retention a job may ask for, in days (GitHub's limit for private repositories).
pub const MAX_RETENTION_DAYS: u64 = 400;

/// `reports { junit = [...]  coverage = "..."  codequality = "..."  coverage_regex = "..." }`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reports {
    /// Paths or globs of JUnit XML files.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub junit: Vec<String>,
    /// A Cobertura XML file; its `line-rate` is the job's coverage.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub coverage: Option<String>,
    /// A Code Climate JSON file (GitLab's code quality report).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub codequality: Option<String>,
    /// A regex over the job's log whose last match gives the coverage (GitLab's `coverage:`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub coverage_regex: Option<String>,
}

impl Reports {
    pub fn is_empty(&self) -> bool {
        self.junit.is_empty()
            && self.coverage.is_none()
            && self.codequality.is_none()
            && self.coverage_regex.is_none()
    }

    /// Every report file path or glob, JUnit first.
    pub fn paths(&self) -> Vec<&str> {
        self.junit
            .iter()
            .chain(&self.coverage)
            .chain(&self.codequality)
            .map(String::as_str)
            .collect()
    }
}

/// Everything a job keeps: its report files and its `keep` paths, each once, in order.
pub fn kept_paths<'a>(reports: &'a Reports, keep: &'a [String]) -> Vec<&'a str> {
    let mut all: Vec<&str> = Vec::new();
    for path in reports
        .paths()
        .into_iter()
        .chain(keep.iter().map(String::as_str))
    {
        if !all.contains(&path) {
            all.push(path);
        }
    }
    all
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kept_paths_are_the_reports_then_keep_each_once() {
        let reports = Reports {
            junit: vec!["a.xml".into(), "b/*.xml".into()],
            coverage: Some("cov.xml".into()),
            codequality: None,
            coverage_regex: Some("x".into()),
        };
        let keep = vec!["cov.xml".to_string(), "target/**".to_string()];
        assert_eq!(
            kept_paths(&reports, &keep),
            ["a.xml", "b/*.xml", "cov.xml", "target/**"]
        );
        assert!(!reports.is_empty());
        assert!(Reports::default().is_empty());
    }
}
