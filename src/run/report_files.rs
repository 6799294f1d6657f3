//! Reading a job's report files (language v2 §8): JUnit XML test cases, Cobertura's
//! `line-rate`, the issues of a Code Climate JSON report, and the coverage regex over the log.
//! Every reader streams with bounded memory and turns hostile, huge or malformed input into a
//! warning in words, never a panic.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use quick_xml::events::{BytesStart, Event};
use serde::{Deserialize, Serialize};

/// The largest report file read; a larger one is kept but not read (a warning says so).
pub const MAX_REPORT_BYTES: u64 = 64 * 1024 * 1024;
/// The test cases kept per job for `--junit` and `report.html`; all are counted.
pub const MAX_CASES: usize = 10_000;
/// The longest failure message kept per test case, in bytes.
const MAX_MESSAGE: usize = 2048;
/// The longest log line the coverage regex looks at, in bytes (the rest of the line is cut).
const MAX_LINE: usize = 64 * 1024;

/// How a test case ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CaseOutcome {
    Passed,
    Failed,
    Skipped,
}

/// One `<testcase>` of a JUnit file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TestCase {
    pub suite: String,
    pub classname: String,
    pub name: String,
    pub seconds: f64,
    pub outcome: CaseOutcome,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// Passed, failed (failures and errors) and skipped test cases.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TestCounts {
    pub passed: usize,
    pub failed: usize,
    pub skipped: usize,
}

impl TestCounts {
    pub fn add(&mut self, outcome: CaseOutcome) {
        match outcome {
            CaseOutcome::Passed => self.passed += 1,
            CaseOutcome::Failed => self.failed += 1,
            CaseOutcome::Skipped => self.skipped += 1,
        }
    }

    pub fn total(&self) -> usize {
        self.passed + self.failed + self.skipped
    }
}

/// Opens a report, refusing one larger than [`MAX_REPORT_BYTES`].
fn open(path: &Path) -> Result<BufReader<std::io::Take<std::fs::File>>, String> {
    let file = std::fs::File::open(path).map_err(|e| format!("cannot read it: {e}"))?;
    let len = file.metadata().map_or(0, |m| m.len());
    if len > MAX_REPORT_BYTES {
        return Err(format!(
            "it is {} MiB, more than the {} MiB cdl reads; it is kept but not read",
            len / (1024 * 1024),
            MAX_REPORT_BYTES / (1024 * 1024)
        ));
    }
    Ok(BufReader::new(file.take(MAX_REPORT_BYTES)))
}

fn attribute(element: &BytesStart, name: &str) -> Option<String> {
    element
        .attributes()
        .flatten()
        .find(|a| a.key.local_name().as_ref() == name)
        .map(
            |a| match a.normalized_value(quick_xml::XmlVersion::Implicit1_0) {
                Ok(value) => value.into_owned(),
                Err(_) => a.value.clone().into_owned(),
            },
        )
}

fn cut(mut text: String, limit: usize) -> String {
    if text.len() > limit {
        let mut end = limit;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
        text.push('…');
    }
    text
}

/// The test cases of a JUnit file: every `<testcase>` at any depth, counted, the first
/// `room` kept. `Err` says in words why the file could not be read to its end (the cases
/// before the problem are still counted).
pub fn read_junit(
    path: &Path,
    room: usize,
    counts: &mut TestCounts,
    cases: &mut Vec<TestCase>,
) -> Result<(), String> {
    let mut reader = quick_xml::Reader::from_reader(open(path)?);
    reader.config_mut().check_end_names = true;
    let mut buf = Vec::new();
    let mut suites: Vec<String> = Vec::new();
    let mut current: Option<TestCase> = None;
    let mut seen_root = false;
    let mut kept = 0;
    loop {
        let position = reader.buffer_position();
        let event = reader
            .read_event_into(&mut buf)
            .map_err(|e| format!("not well-formed XML near byte {position}: {e}"))?;
        match event {
            Event::Start(ref e) | Event::Empty(ref e) => {
                let empty = matches!(event, Event::Empty(_));
                let name = e.local_name();
                let name = name.as_ref();
                if !seen_root {
                    seen_root = true;
                    if name != "testsuites" && name != "testsuite" && name != "testcase" {
                        return Err(format!(
                            "its root element is <{}>, not <testsuites> or <testsuite>",
                            name
                        ));
                    }
                }
                match name {
                    "testsuite" if !empty => {
                        suites.push(attribute(e, "name").unwrap_or_default());
                    }
                    "testcase" => {
                        let case = TestCase {
                            suite: suites.last().cloned().unwrap_or_default(),
                            classname: attribute(e, "classname").unwrap_or_default(),
                            name: attribute(e, "name").unwrap_or_default(),
                            seconds: attribute(e, "time")
                                .and_then(|t| t.trim().parse::<f64>().ok())
                                .filter(|t| t.is_finite() && *t >= 0.0)
                                .unwrap_or(0.0),
                            outcome: CaseOutcome::Passed,
                            message: None,
                        };
                        if empty {
                            finish_case(case, room, &mut kept, counts, cases);
                        } else {
                            current = Some(case);
                        }
                    }
                    "failure" | "error" | "skipped" => {
                        if let Some(case) = current.as_mut() {
                            let outcome = if name == "skipped" {
                                CaseOutcome::Skipped
                            } else {
                                CaseOutcome::Failed
                            };
                            // A failure outweighs a skip in the same case.
                            if case.outcome != CaseOutcome::Failed {
                                case.outcome = outcome;
                                case.message = attribute(e, "message").map(|m| cut(m, MAX_MESSAGE));
                            }
                        }
                    }
                    _ => {}
                }
            }
            Event::End(ref e) => match e.local_name().as_ref() {
                "testsuite" => {
                    suites.pop();
                }
                "testcase" => {
                    if let Some(case) = current.take() {
                        finish_case(case, room, &mut kept, counts, cases);
                    }
                }
                _ => {}
            },
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    if !seen_root {
        return Err("it holds no XML element".into());
    }
    Ok(())
}

fn finish_case(
    case: TestCase,
    room: usize,
    kept: &mut usize,
    counts: &mut TestCounts,
    cases: &mut Vec<TestCase>,
) {
    counts.add(case.outcome);
    if *kept < room {
        cases.push(case);
        *kept += 1;
    }
}

/// The `line-rate` of a Cobertura file's root `<coverage>`, as a percentage.
pub fn read_cobertura(path: &Path) -> Result<f64, String> {
    let mut reader = quick_xml::Reader::from_reader(open(path)?);
    let mut buf = Vec::new();
    loop {
        let position = reader.buffer_position();
        match reader
            .read_event_into(&mut buf)
            .map_err(|e| format!("not well-formed XML near byte {position}: {e}"))?
        {
            Event::Start(ref e) | Event::Empty(ref e) => {
                if e.local_name().as_ref() != "coverage" {
                    return Err(format!(
                        "its root element is <{}>, not Cobertura's <coverage>",
                        e.local_name().as_ref()
                    ));
                }
                let rate = attribute(e, "line-rate").ok_or("its <coverage> has no `line-rate`")?;
                return match rate.trim().parse::<f64>() {
                    Ok(rate) if (0.0..=1.0).contains(&rate) => Ok(rate * 100.0),
                    _ => Err(format!(
                        "its `line-rate` `{}` is not a number from 0 to 1",
                        cut(rate, 40)
                    )),
                };
            }
            Event::Eof => return Err("it holds no <coverage> element".into()),
            _ => {}
        }
        buf.clear();
    }
}

/// How many issues a Code Climate report (a JSON array) lists.
pub fn read_codequality(path: &Path) -> Result<usize, String> {
    let issues: Vec<serde::de::IgnoredAny> = serde_json::from_reader(open(path)?)
        .map_err(|e| format!("not a JSON array of issues: {e}"))?;
    Ok(issues.len())
}

/// The coverage the regex gives over a log, as GitLab reads it: the last line that matches
/// (scanning from the end); in it, the last match's last group that took part (the whole
/// match when the regex has no group or none took part); the first number in that text.
pub fn coverage_from_log(log: &Path, regex: &regex::Regex) -> Option<f64> {
    let file = std::fs::File::open(log).ok()?;
    let mut reader = BufReader::new(file);
    let mut found = None;
    let mut line = Vec::new();
    loop {
        line.clear();
        match read_line_bounded(&mut reader, &mut line) {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
        let text = String::from_utf8_lossy(&line);
        let text = text.trim_end_matches(['\n', '\r']);
        if let Some(value) = coverage_in_line(text, regex) {
            found = Some(value);
        }
    }
    found
}

/// Reads one line into `line`, keeping at most [`MAX_LINE`] bytes of it.
fn read_line_bounded(reader: &mut impl BufRead, line: &mut Vec<u8>) -> std::io::Result<usize> {
    let mut total = 0;
    loop {
        let available = reader.fill_buf()?;
        if available.is_empty() {
            return Ok(total);
        }
        let (chunk, done) = match available.iter().position(|b| *b == b'\n') {
            Some(i) => (&available[..=i], true),
            None => (available, false),
        };
        let room = MAX_LINE.saturating_sub(line.len());
        line.extend_from_slice(&chunk[..chunk.len().min(room)]);
        let used = chunk.len();
        reader.consume(used);
        total += used;
        if done {
            return Ok(total);
        }
    }
}

/// The coverage one log line gives, if the regex matches it with a number.
pub fn coverage_in_line(line: &str, regex: &regex::Regex) -> Option<f64> {
    let captures = regex.captures_iter(line).last()?;
    let text = (1..captures.len())
        .rev()
        .find_map(|i| captures.get(i))
        .or_else(|| captures.get(0))?
        .as_str();
    let number = regex_number().find(text)?;
    number
        .as_str()
        .parse::<f64>()
        .ok()
        .filter(|n| n.is_finite())
}

fn regex_number() -> &'static regex::Regex {
    static NUMBER: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    NUMBER.get_or_init(|| regex::Regex::new(r"\d+(\.\d+)?").expect("a valid regex"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(text: &[u8]) -> tempfile::NamedTempFile {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        std::io::Write::write_all(&mut file, text).unwrap();
        file
    }

    fn junit(text: &[u8]) -> (Result<(), String>, TestCounts, Vec<TestCase>) {
        let file = write(text);
        let (mut counts, mut cases) = (TestCounts::default(), Vec::new());
        let result = read_junit(file.path(), MAX_CASES, &mut counts, &mut cases);
        (result, counts, cases)
    }

    #[test]
    fn junit_cases_are_counted_at_any_depth() {
        let (result, counts, cases) = junit(
            br#"<?xml version="1.0"?>
<testsuites><testsuite name="outer"><testsuite name="a &amp; b">
  <testcase name="ok" classname="m" time="0.5"/>
  <testcase name="bad"><failure message="x &lt; 1">trace</failure></testcase>
  <testcase name="err"><error/></testcase>
  <testcase name="later"><skipped message="todo"/></testcase>
</testsuite><testcase name="top"/></testsuite></testsuites>"#,
        );
        assert_eq!(result, Ok(()));
        assert_eq!(
            counts,
            TestCounts {
                passed: 2,
                failed: 2,
                skipped: 1
            }
        );
        assert_eq!(cases[0].suite, "a & b");
        assert_eq!(cases[0].seconds, 0.5);
        assert_eq!(cases[1].message.as_deref(), Some("x < 1"));
        assert_eq!(cases[4].suite, "outer");
    }

    #[test]
    fn malformed_hostile_and_foreign_junit_is_a_reason_not_a_panic() {
        for text in [
            &b""[..],
            b"not xml at all",
            b"<testsuite><testcase name='a'></testsuite>",
            b"<testsuite><testcase name='a'/>",
            b"<html><body>404</body></html>",
            b"<!DOCTYPE x [<!ENTITY a 'aaaa'><!ENTITY b '&a;&a;&a;&a;'>]><testsuite><testcase name='&b;'/></testsuite>",
            b"<testsuite>\xff\xfe<testcase name='\xff'/></testsuite>",
            b"<testsuite><testcase name=\"a\" time=\"NaN\"/><testcase name=\"b\" time=\"-1e400\"/></testsuite>",
        ] {
            let (result, counts, _) = junit(text);
            assert!(
                result.is_err() || counts.total() <= 2,
                "{:?}: {result:?} {counts:?}",
                String::from_utf8_lossy(text)
            );
        }
        let (result, ..) = junit(b"<testsuite><testcase name='a'></testsuite>");
        assert!(result.unwrap_err().contains("not well-formed XML"));
        let (result, ..) = junit(b"<html/>");
        assert!(result.unwrap_err().contains("<html>"));
    }

    #[test]
    fn deep_nesting_and_many_cases_keep_memory_bounded() {
        let mut text = Vec::new();
        for _ in 0..100_000 {
            text.extend_from_slice(b"<testsuite>");
        }
        for _ in 0..100_000 {
            text.extend_from_slice(b"</testsuite>");
        }
        assert_eq!(junit(&text).0, Ok(()));
        let mut text = b"<testsuite>".to_vec();
        for i in 0..(MAX_CASES + 5) {
            text.extend_from_slice(format!("<testcase name='t{i}'/>").as_bytes());
        }
        text.extend_from_slice(b"</testsuite>");
        let (result, counts, cases) = junit(&text);
        assert_eq!(result, Ok(()));
        assert_eq!(counts.passed, MAX_CASES + 5);
        assert_eq!(cases.len(), MAX_CASES);
    }

    #[test]
    fn cobertura_line_rate_is_a_percentage() {
        let file = write(br#"<?xml version="1.0"?><!DOCTYPE coverage SYSTEM "x.dtd"><coverage line-rate="0.853" branch-rate="0"><packages/></coverage>"#);
        let rate = read_cobertura(file.path()).unwrap();
        assert!((rate - 85.3).abs() < 1e-9);
        for bad in [
            &b"<coverage/>"[..],
            b"<coverage line-rate='2'/>",
            b"<report/>",
            b"",
            b"<",
        ] {
            assert!(read_cobertura(write(bad).path()).is_err());
        }
    }

    #[test]
    fn codequality_counts_issues() {
        assert_eq!(read_codequality(write(b"[{\"a\":1},{}]").path()), Ok(2));
        assert!(read_codequality(write(b"{}").path()).is_err());
    }

    #[test]
    fn coverage_regex_reads_like_gitlab() {
        let regex = regex::Regex::new(r"Coverage: (\d+\.\d+)%|Total coverage: (\d+)%").unwrap();
        assert_eq!(coverage_in_line("Coverage: 98.29%", &regex), Some(98.29));
        assert_eq!(coverage_in_line("Total coverage: 71%", &regex), Some(71.0));
        let whole = regex::Regex::new(r"^\d+.\d+% coverage").unwrap();
        assert_eq!(
            coverage_in_line("81.25% coverage, 13/16 lines", &whole),
            Some(81.25)
        );
        assert_eq!(coverage_in_line("no number here", &regex), None);
        let log = write(b"Coverage: 10.0%\nnoise\nCoverage: 20.5%\r\nend\n");
        assert_eq!(coverage_from_log(log.path(), &regex), Some(20.5));
        let mut long = vec![b'x'; 3 * MAX_LINE];
        long.extend_from_slice(b"Coverage: 99.0%\nCoverage: 1.5%");
        assert_eq!(coverage_from_log(write(&long).path(), &regex), Some(1.5));
    }
}
