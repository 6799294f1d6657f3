//! JUnit XML of a run, so that any CI system shows its results: one `testsuite` per stage,
//! one `testcase` per job — passed, failed (with the reason and the log's tail) or skipped.
//! Valid against Jenkins' `junit-10.xsd` (checked in `.ci/run`).

use std::fmt::Write;
use std::path::Path;

use super::record::{JobState, RunRecord, Store, format_time};
use crate::xml::escape;

/// Checks, before a run starts, that the JUnit file can be written: its folder exists and
/// takes a new file, and the path is not a folder or a read-only file.
pub fn check_path(path: &Path) -> Result<(), String> {
    let refuse = |why: String| format!("--junit {}: {why}", path.display());
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    if !parent.is_dir() {
        return Err(refuse(format!(
            "the folder {} does not exist; create it first",
            parent.display()
        )));
    }
    if let Ok(meta) = std::fs::metadata(path) {
        if meta.is_dir() {
            return Err(refuse("it is a folder; name a file".into()));
        }
        std::fs::OpenOptions::new()
            .append(true)
            .open(path)
            .map_err(|e| refuse(format!("cannot write it: {e}")))?;
    }
    tempfile::NamedTempFile::new_in(parent)
        .map(drop)
        .map_err(|e| refuse(format!("cannot write in {}: {e}", parent.display())))
}

pub fn render(record: &RunRecord, store: &Store) -> String {
    let mut suites = String::new();
    let (mut tests, mut failures, mut time) = (0, 0, 0.0);
    for stage in &record.plan.stages {
        let (mut stage_failures, mut stage_skipped, mut stage_time) = (0, 0, 0.0);
        let mut cases = String::new();
        let (mut nested, mut nested_tests, mut nested_failures) = (String::new(), 0, 0);
        let timestamp = format_time(record.started_ms)
            .replace(' ', "T")
            .trim_end_matches('Z')
            .to_string();
        for id in &stage.jobs {
            let job = record.job(id);
            let seconds = job.duration_ms() as f64 / 1000.0;
            stage_time += seconds;
            let _ = write!(
                cases,
                "    <testcase name=\"{}\" classname=\"{}.{}\" time=\"{seconds:.3}\">",
                escape(id),
                escape(&record.pipeline),
                escape(&stage.name)
            );
            let reason = job.reason.clone().unwrap_or_default();
            match job.state {
                JobState::Succeeded => {}
                JobState::Failed | JobState::Cancelled => {
                    stage_failures += 1;
                    let _ = write!(
                        cases,
                        "\n      <failure type=\"{}\" message=\"{}\">{}</failure>\n    ",
                        job.state.as_str(),
                        escape(&reason),
                        escape(&log_tail(store, &record.id, id, 30))
                    );
                }
                JobState::Skipped | JobState::Pending | JobState::Waiting | JobState::Running => {
                    stage_skipped += 1;
                    let why = match job.state {
                        JobState::Waiting => "waiting for approval".to_string(),
                        JobState::Skipped => reason,
                        _ => "not run".to_string(),
                    };
                    let _ = write!(
                        cases,
                        "\n      <skipped message=\"{}\"/>\n    ",
                        escape(&why)
                    );
                }
            }
            cases.push_str("</testcase>\n");
            // v2 reports (i13h): the job's own test cases, in a suite nested in its stage's.
            if let Some((suite, count, failed)) =
                super::reports::junit_suite(store, record, id, &timestamp)
            {
                nested.push_str(&suite);
                (nested_tests, nested_failures) = (nested_tests + count, nested_failures + failed);
            }
        }
        cases.push_str(&nested);
        let _ = write!(
            suites,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{stage_failures}\" errors=\"0\" skipped=\"{stage_skipped}\" time=\"{stage_time:.3}\" timestamp=\"{}\">\n{cases}  </testsuite>\n",
            escape(&format!("{} / {}", record.pipeline, stage.name)),
            stage.jobs.len(),
            format_time(record.started_ms)
                .replace(' ', "T")
                .trim_end_matches('Z'),
        );
        tests += stage.jobs.len() + nested_tests;
        failures += stage_failures + nested_failures;
        time += stage_time;
    }
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"{}\" tests=\"{tests}\" failures=\"{failures}\" errors=\"0\" time=\"{time:.3}\">\n{suites}</testsuites>\n",
        escape(&format!("{} run {}", record.pipeline, record.id))
    )
}

/// The last `lines` lines of a job's log, or nothing when it printed nothing. Only the log's
/// last 64 KiB are read: a job that printed 500 MB costs no more memory than one that printed
/// a page.
pub fn log_tail(store: &Store, run: &str, job: &str, lines: usize) -> String {
    use std::io::{Read, Seek, SeekFrom};
    const TAIL: u64 = 64 * 1024;
    let mut bytes = Vec::new();
    if let Ok(mut file) = std::fs::File::open(store.log_path(run, job)) {
        let len = file.metadata().map_or(0, |m| m.len());
        let from = len.saturating_sub(TAIL);
        if file.seek(SeekFrom::Start(from)).is_ok() {
            let _ = file.take(TAIL).read_to_end(&mut bytes);
        }
        if from > 0 {
            // The first line read is probably cut: it is dropped.
            let start = bytes.iter().position(|b| *b == b'\n').map_or(0, |i| i + 1);
            bytes.drain(..start);
        }
    }
    let text = String::from_utf8_lossy(&bytes);
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}
