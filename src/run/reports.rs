//! Files kept from a job and its test reports (language v2 §8) in `cdl run`: collected when
//! the job ends, passed or failed, into the run's folder (`kept/<job>/attempt-<N>/`: the files
//! at their paths relative to the working folder, and `summary.json`: counts, coverage, the
//! list of files, warnings). The folder is filled as `attempt-<N>.partial` and renamed when
//! complete, so a kill during collection leaves either the previous complete collection or the
//! new one, never half of one; readers take the highest complete attempt.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::record::{RunRecord, Store};
use super::report_files::{self, MAX_CASES, TestCase, TestCounts};
use crate::plan::Job;

/// What was kept from one attempt of a job.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Collected {
    pub attempt: u32,
    /// The kept files, relative to the working folder (and to the attempt's `files/`).
    pub files: Vec<String>,
    /// The JUnit results, when the job has `junit` reports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tests: Option<TestCounts>,
    /// The first [`MAX_CASES`] test cases.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cases: Vec<TestCase>,
    /// The job's coverage in percent: from `coverage_regex` over the log, else Cobertura's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub coverage: Option<f64>,
    /// Issues in the Code Climate report.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub codequality_issues: Option<usize>,
    /// What could not be kept or read, in words.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// `<run>/kept/<job>/`.
pub fn job_dir(store: &Store, run: &str, job: &str) -> PathBuf {
    store.run_dir(run).join("kept").join(store.job_key(job))
}

/// Whether a job keeps anything.
pub fn keeps_anything(job: &Job) -> bool {
    !job.reports.is_empty() || !job.keep.is_empty()
}

/// Collects the reports and kept files of a job's attempt that just ended; returns the lines
/// to show (what was kept, warnings). Never fails the job: a problem is a warning.
pub fn collect(store: &Store, record: &RunRecord, job: &Job, attempt: u32) -> Vec<String> {
    if !keeps_anything(job) {
        return Vec::new();
    }
    let dir = job_dir(store, &record.id, &job.id);
    match collect_into(store, record, job, attempt, &dir) {
        Ok(collected) => {
            let mut lines: Vec<String> = collected
                .warnings
                .iter()
                .map(|w| format!("  ⚠ {}: {w}", job.id))
                .collect();
            if let Some(text) = one_line(&collected) {
                lines.push(format!("  {}: {text}", job.id));
            }
            lines
        }
        Err(error) => vec![format!(
            "  ⚠ {}: its reports and kept files could not be stored: {error}",
            job.id
        )],
    }
}

fn collect_into(
    store: &Store,
    record: &RunRecord,
    job: &Job,
    attempt: u32,
    dir: &Path,
) -> Result<Collected, String> {
    let io = |what: &Path| {
        let what = what.to_path_buf();
        move |e: std::io::Error| format!("{}: {e}", what.display())
    };
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    // What a killed collection left.
    for entry in std::fs::read_dir(dir).map_err(io(dir))?.flatten() {
        if entry.file_name().to_string_lossy().contains('.') {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
    let partial = dir.join(format!("attempt-{attempt}.partial"));
    let files_dir = partial.join("files");
    std::fs::create_dir_all(&files_dir).map_err(io(&files_dir))?;
    let mut collected = Collected {
        attempt,
        ..Collected::default()
    };
    let excluded = std::fs::canonicalize(&store.root).ok();
    let paths = crate::model::reports::kept_paths(&job.reports, &job.keep);
    // v2 i13k: an instance of a matrix artifact ran in its own copy of the folder.
    let workdir =
        super::matrix_artifacts::workdir(&store.run_dir(&record.id), &record.workdir, job);
    let mut junit_files: Vec<String> = Vec::new();
    for pattern in paths {
        let matched = matching(&workdir, pattern, excluded.as_deref(), &mut collected);
        if matched.is_empty() {
            collected
                .warnings
                .push(format!("`{pattern}` matched no file"));
        }
        for relative in matched {
            if job.reports.junit.iter().any(|p| p == pattern) && !junit_files.contains(&relative) {
                junit_files.push(relative.clone());
            }
            if collected.files.contains(&relative) {
                continue;
            }
            let dest = files_dir.join(&relative);
            if let Some(parent) = dest.parent() {
                std::fs::create_dir_all(parent).map_err(io(parent))?;
            }
            crate::failpoint!("report-copying");
            match std::fs::copy(workdir.join(&relative), &dest) {
                Ok(_) => collected.files.push(relative),
                Err(e) => collected
                    .warnings
                    .push(format!("`{relative}` could not be kept: {e}")),
            }
        }
    }
    read_reports(record, store, job, &files_dir, &junit_files, &mut collected);
    let summary = serde_json::to_vec_pretty(&collected).map_err(|e| e.to_string())?;
    let summary_path = partial.join("summary.json");
    std::fs::write(&summary_path, summary).map_err(io(&summary_path))?;
    if let Ok(file) = std::fs::File::open(&summary_path) {
        let _ = file.sync_all();
    }
    let done = dir.join(format!("attempt-{attempt}"));
    if done.exists() {
        // The same attempt collected again (a resumed run): the older copy goes first.
        let old = dir.join(format!("attempt-{attempt}.old"));
        std::fs::rename(&done, &old).map_err(io(&done))?;
        let _ = std::fs::remove_dir_all(&old);
    }
    std::fs::rename(&partial, &done).map_err(io(&partial))?;
    if let Ok(folder) = std::fs::File::open(dir) {
        let _ = folder.sync_all();
    }
    Ok(collected)
}

/// The regular files a pattern names under the working folder (folders: every file in them),
/// relative and sorted. Links are not followed and not kept (one could lead out of the working
/// folder); the state folder is never kept.
fn matching(
    workdir: &Path,
    pattern: &str,
    excluded: Option<&Path>,
    collected: &mut Collected,
) -> Vec<String> {
    let root = glob::Pattern::escape(&workdir.to_string_lossy());
    let mut found = Vec::new();
    let mut candidates: Vec<PathBuf> = match glob::glob(&format!("{root}/{pattern}")) {
        Ok(paths) => paths.flatten().collect(),
        Err(e) => {
            collected
                .warnings
                .push(format!("`{pattern}` is not a valid glob: {e}"));
            return found;
        }
    };
    if let Some(folder) = pattern.strip_suffix("/**") {
        candidates.extend(
            glob::glob(&format!("{root}/{folder}"))
                .into_iter()
                .flatten()
                .flatten(),
        );
    }
    let mut stack = candidates;
    while let Some(path) = stack.pop() {
        let Ok(meta) = std::fs::symlink_metadata(&path) else {
            continue;
        };
        if excluded.is_some_and(|x| std::fs::canonicalize(&path).is_ok_and(|p| p.starts_with(x))) {
            continue;
        }
        let Ok(relative) = path.strip_prefix(workdir) else {
            continue;
        };
        let relative_text = relative.to_string_lossy().into_owned();
        if meta.file_type().is_symlink() {
            collected
                .warnings
                .push(format!("`{relative_text}` is a link, not kept"));
        } else if meta.is_dir() {
            if let Ok(entries) = std::fs::read_dir(&path) {
                stack.extend(entries.flatten().map(|e| e.path()));
            }
        } else if meta.is_file() && !relative_text.is_empty() {
            found.push(relative_text);
        }
    }
    found.sort();
    found.dedup();
    found
}

fn read_reports(
    record: &RunRecord,
    store: &Store,
    job: &Job,
    files_dir: &Path,
    junit_files: &[String],
    collected: &mut Collected,
) {
    let reports = &job.reports;
    if !reports.junit.is_empty() {
        let mut counts = TestCounts::default();
        for file in junit_files {
            let room = MAX_CASES.saturating_sub(collected.cases.len());
            if let Err(why) = report_files::read_junit(
                &files_dir.join(file),
                room,
                &mut counts,
                &mut collected.cases,
            ) {
                collected.warnings.push(format!(
                    "the JUnit file `{file}` was not read to its end: {why}"
                ));
            }
        }
        collected.tests = Some(counts);
    }
    if let Some(path) = &reports.coverage {
        let file = files_dir.join(path);
        if file.is_file() {
            match report_files::read_cobertura(&file) {
                Ok(rate) => collected.coverage = Some(rate),
                Err(why) => collected.warnings.push(format!(
                    "the coverage file `{path}` gives no coverage: {why}"
                )),
            }
        }
    }
    if let Some(path) = &reports.codequality {
        let file = files_dir.join(path);
        if file.is_file() {
            match report_files::read_codequality(&file) {
                Ok(issues) => collected.codequality_issues = Some(issues),
                Err(why) => collected.warnings.push(format!(
                    "the code quality file `{path}` was not read: {why}"
                )),
            }
        }
    }
    if let Some(pattern) = &reports.coverage_regex {
        match crate::check::reports::coverage_regex(pattern) {
            Ok(regex) => {
                let log = store.log_path(&record.id, &job.id);
                match report_files::coverage_from_log(&log, &regex) {
                    Some(value) => collected.coverage = Some(value),
                    None => collected
                        .warnings
                        .push("the coverage regex matched no line of the log with a number".into()),
                }
            }
            Err(e) => collected
                .warnings
                .push(format!("the coverage regex is not valid: {e}")),
        }
    }
}

/// The latest complete collection of a job in a run.
pub fn load(store: &Store, run: &str, job: &str) -> Option<Collected> {
    let dir = job_dir(store, run, job);
    let mut best: Option<(u32, PathBuf)> = None;
    for entry in std::fs::read_dir(&dir).ok()?.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(number) = name
            .strip_prefix("attempt-")
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        if best.as_ref().is_none_or(|(b, _)| number > *b) {
            best = Some((number, entry.path()));
        }
    }
    let (_, path) = best?;
    let text = std::fs::read(path.join("summary.json")).ok()?;
    serde_json::from_slice(&text).ok()
}

/// Where a kept file of a collection is stored.
pub fn kept_file(
    store: &Store,
    run: &str,
    job: &str,
    collected: &Collected,
    file: &str,
) -> PathBuf {
    job_dir(store, run, job)
        .join(format!("attempt-{}", collected.attempt))
        .join("files")
        .join(file)
}

/// "3 passed, 1 failed, 1 skipped · coverage 85.3% · 4 files kept" (nothing: `None`).
pub fn one_line(collected: &Collected) -> Option<String> {
    let mut parts = Vec::new();
    if let Some(tests) = &collected.tests {
        parts.push(format!(
            "{} passed, {} failed, {} skipped",
            tests.passed, tests.failed, tests.skipped
        ));
    }
    if let Some(coverage) = collected.coverage {
        parts.push(format!("coverage {coverage:.1}%"));
    }
    if let Some(issues) = collected.codequality_issues {
        parts.push(format!("{issues} code quality issues"));
    }
    if !collected.files.is_empty() {
        parts.push(format!(
            "{} file{} kept",
            collected.files.len(),
            if collected.files.len() == 1 { "" } else { "s" }
        ));
    }
    (!parts.is_empty()).then(|| parts.join(" · "))
}

/// The tests table printed after the run's summary: one row per job that keeps anything.
pub fn summary(store: &Store, record: &RunRecord) -> String {
    let rows: Vec<(&str, Collected)> = record
        .plan
        .jobs
        .iter()
        .filter(|j| keeps_anything(j))
        .filter_map(|j| load(store, &record.id, &j.id).map(|c| (j.id.as_str(), c)))
        .collect();
    if rows.is_empty() {
        return String::new();
    }
    let width = rows
        .iter()
        .map(|(id, _)| id.chars().count())
        .max()
        .unwrap_or(3)
        .max(3);
    let mut out = format!(
        "\n{:width$}  {:>6}  {:>6}  {:>7}  {:>8}  {}\n",
        "job", "passed", "failed", "skipped", "coverage", "kept"
    );
    for (id, collected) in rows {
        let (passed, failed, skipped) = match collected.tests {
            Some(t) => (
                t.passed.to_string(),
                t.failed.to_string(),
                t.skipped.to_string(),
            ),
            None => ("-".into(), "-".into(), "-".into()),
        };
        let coverage = collected
            .coverage
            .map_or("-".to_string(), |c| format!("{c:.1}%"));
        out.push_str(&format!(
            "{id:width$}  {passed:>6}  {failed:>6}  {skipped:>7}  {coverage:>8}  {} file{}\n",
            collected.files.len(),
            if collected.files.len() == 1 { "" } else { "s" }
        ));
    }
    out
}

/// `cdl logs RUN JOB`: the kept files listed after the log.
pub fn logs_footer(store: &Store, run: &str, job: &str) -> String {
    let Some(collected) = load(store, run, job) else {
        return String::new();
    };
    let mut out = String::new();
    if let Some(line) = one_line(&collected) {
        out.push_str(&format!("\n── {line}\n"));
    }
    for file in &collected.files {
        out.push_str(&format!(
            "   {}\n",
            kept_file(store, run, job, &collected, file).display()
        ));
    }
    for warning in &collected.warnings {
        out.push_str(&format!("   ⚠ {warning}\n"));
    }
    out
}

/// The test cases a job's JUnit reports hold, as a `<testsuite>` nested in its stage's suite
/// of the run's `--junit` file; with how many cases and failures it adds.
pub fn junit_suite(
    store: &Store,
    record: &RunRecord,
    job: &str,
    timestamp: &str,
) -> Option<(String, usize, usize)> {
    use crate::xml::escape;
    use std::fmt::Write;
    let collected = load(store, &record.id, job)?;
    let tests = collected.tests?;
    let mut cases = String::new();
    for case in &collected.cases {
        let classname = if case.classname.is_empty() {
            &case.suite
        } else {
            &case.classname
        };
        let _ = write!(
            cases,
            "      <testcase name=\"{}\" classname=\"{}\" time=\"{:.3}\">",
            escape(&case.name),
            escape(&format!("{job}.{classname}")),
            case.seconds.clamp(0.0, 1e12)
        );
        let message = case
            .message
            .as_deref()
            .map(|m| format!(" message=\"{}\"", escape(m)))
            .unwrap_or_default();
        match case.outcome {
            report_files::CaseOutcome::Passed => {}
            report_files::CaseOutcome::Failed => {
                let _ = write!(cases, "<failure type=\"failed\"{message}/>");
            }
            report_files::CaseOutcome::Skipped => {
                let _ = write!(cases, "<skipped{message}/>");
            }
        }
        cases.push_str("</testcase>\n");
    }
    let time = collected
        .cases
        .iter()
        .fold(0.0_f64, |sum, c| sum + c.seconds.clamp(0.0, 1e12));
    let shown = collected.cases.len();
    let failures = collected
        .cases
        .iter()
        .filter(|c| c.outcome == report_files::CaseOutcome::Failed)
        .count();
    let skipped = collected
        .cases
        .iter()
        .filter(|c| c.outcome == report_files::CaseOutcome::Skipped)
        .count();
    let note = if shown < tests.total() {
        format!(
            " ({} of {} test cases; {} passed, {} failed, {} skipped in all)",
            shown,
            tests.total(),
            tests.passed,
            tests.failed,
            tests.skipped
        )
    } else {
        String::new()
    };
    let xml = format!(
        "    <testsuite name=\"{}\" tests=\"{shown}\" failures=\"{failures}\" errors=\"0\" skipped=\"{skipped}\" time=\"{time:.3}\" timestamp=\"{timestamp}\">\n{cases}    </testsuite>\n",
        escape(&format!("{} / {job} tests{note}", record.pipeline)),
    );
    Some((xml, shown, failures))
}

/// The section of `report.html` on tests, coverage and kept files (empty when no job keeps
/// anything). Every text is escaped.
pub fn html(store: &Store, record: &RunRecord) -> String {
    use crate::xml::escape;
    use std::fmt::Write;
    let mut rows = String::new();
    for job in record.plan.jobs.iter().filter(|j| keeps_anything(j)) {
        let Some(collected) = load(store, &record.id, &job.id) else {
            continue;
        };
        let mut details = String::new();
        let failed: Vec<&TestCase> = collected
            .cases
            .iter()
            .filter(|c| c.outcome == report_files::CaseOutcome::Failed)
            .collect();
        if !failed.is_empty() {
            details.push_str("<details><summary>failed tests</summary><ul>");
            for case in failed.iter().take(200) {
                let _ = write!(
                    details,
                    "<li><code>{}</code> {}</li>",
                    escape(&format!("{} {}", case.classname, case.name)),
                    escape(case.message.as_deref().unwrap_or_default())
                );
            }
            details.push_str("</ul></details>");
        }
        if !collected.files.is_empty() {
            details.push_str("<details><summary>kept files</summary><ul>");
            for file in &collected.files {
                let _ = write!(details, "<li><code>{}</code></li>", escape(file));
            }
            details.push_str("</ul></details>");
        }
        for warning in &collected.warnings {
            let _ = write!(details, "<div class=\"failed\">⚠ {}</div>", escape(warning));
        }
        let (passed, failed, skipped) =
            collected
                .tests
                .map_or(("-".to_string(), "-".to_string(), "-".to_string()), |t| {
                    (
                        t.passed.to_string(),
                        t.failed.to_string(),
                        t.skipped.to_string(),
                    )
                });
        let _ = writeln!(
            rows,
            "<tr class=\"reports\" data-job=\"{}\"><td><code>{}</code></td><td class=\"passed\">{passed}</td><td class=\"failed\">{failed}</td><td class=\"skipped\">{skipped}</td><td>{}</td><td>{}</td><td>{details}</td></tr>",
            escape(&job.id),
            escape(&job.id),
            collected
                .coverage
                .map_or("—".to_string(), |c| format!("{c:.1}%")),
            collected.files.len(),
        );
    }
    if rows.is_empty() {
        return String::new();
    }
    format!(
        "<h2>Tests and kept files</h2><table><tr><th>job</th><th>passed</th><th>failed</th><th>skipped</th><th>coverage</th><th>files</th><th>details</th></tr>\n{rows}</table>\n"
    )
}
