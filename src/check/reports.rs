//! `reports { … }`, `keep` and `retention` of a job (language v2 §8): every report kind known,
//! every path inside the working folder, the coverage regex valid in the RE2-like dialect that
//! `cdl run` (the `regex` crate) and GitLab (RE2) share, and a retention the targets accept.

use super::attributes::{Attributes, REPORTS};
use super::outputs::inside_workdir;
use crate::codes::Code;
use crate::diagnostic::{Diagnostic, Sink, did_you_mean};
use crate::model::reports::{MAX_RETENTION_DAYS, REPORT_KINDS, Reports};
use crate::span::Span;
use crate::syntax::ast::{self, ExprKind};

pub const KEEP_DOC: &str =
    "Paths or globs of files kept with the run when the job ends, passed or failed.";
pub const KEEP_WHEN_DOC: &str = "When the reports and kept files are kept: `always` (default), `on_failure` (only when the job failed, GitLab's `artifacts: when: on_failure`) or `on_success`.";
pub const RETENTION_DOC: &str = "How long exports keep the job's reports and kept files, and an artifact's own files, in whole days (`14d`).";

/// The compiled size a coverage regex may take (the `regex` crate's default is 10 MiB).
const REGEX_SIZE_LIMIT: usize = 1 << 20;

/// What a job keeps: its reports, its `keep` paths and their retention in days.
#[derive(Debug, Clone, Default)]
pub struct Kept {
    pub reports: Reports,
    pub keep: Vec<String>,
    pub retention_days: Option<u32>,
    /// `keep_when`: kept only when the job failed (`on_failure`) or passed (`on_success`);
    /// absent: always.
    pub keep_when: Option<crate::model::steps::Runs>,
}

/// Compiles a coverage regex as `cdl run` runs it.
pub fn coverage_regex(pattern: &str) -> Result<regex::Regex, regex::Error> {
    regex::RegexBuilder::new(pattern)
        .size_limit(REGEX_SIZE_LIMIT)
        .build()
}

/// Reads a job's `reports` blocks and its `keep`/`retention` attributes, reporting misuse.
pub fn read(
    body: &[ast::BodyItem],
    attributes: &[&ast::Attribute],
    attrs: &Attributes,
    job: &str,
    is_artifact: bool,
    sink: &mut Sink,
) -> Kept {
    let mut kept = Kept::default();
    let mut first: Option<Span> = None;
    for item in body {
        let ast::BodyItem::Reports(block) = item else {
            continue;
        };
        if let Some(first) = first.replace(block.span) {
            sink.push(
                Diagnostic::new(
                    Code::DuplicateAttribute,
                    block
                        .span
                        .with_end(block.span.start + "reports".len() as u32),
                    format!("`{job}` has two `reports` blocks"),
                )
                .label("written again here")
                .related(first, "first written here")
                .help("put every report in one `reports` block"),
            );
            continue;
        }
        kept.reports = reports(block, job, sink);
    }
    for attribute in attributes.iter().filter(|a| a.name.name == "keep") {
        paths_inside(&attribute.value, "kept path", sink);
    }
    kept.keep = attrs.strings("keep");
    kept.keep_when = attrs
        .word("keep_when")
        .and_then(|w| crate::model::steps::Runs::parse(&w))
        .filter(|r| *r != crate::model::steps::Runs::Always);
    if let (Some(seconds), Some(span)) =
        (attrs.duration("retention"), attrs.value_span("retention"))
    {
        kept.retention_days = retention(seconds, span, sink);
        // An artifact's files are kept too: `retention` is how long they are.
        if !is_artifact && kept.keep.is_empty() && kept.reports.paths().is_empty() {
            sink.push(
                Diagnostic::new(
                    Code::RetentionWithoutFiles,
                    span,
                    format!("`{job}` keeps no files for `retention` to apply to"),
                )
                .label("nothing kept")
                .help("name the files to keep (`keep = [\"target/criterion/**\"]`, or a `reports { junit = [...] }` block), or remove `retention`"),
            );
        }
    }
    kept
}

/// The report kinds of one `reports { … }` block.
fn reports(block: &ast::ReportsBlock, job: &str, sink: &mut Sink) -> Reports {
    let mut known = Vec::new();
    for attribute in &block.kinds {
        let name = attribute.name.name.as_str();
        if REPORT_KINDS.contains(&name) {
            known.push(attribute);
            continue;
        }
        let help = match did_you_mean(name, REPORT_KINDS.iter().copied()) {
            Some(suggestion) => format!("{suggestion} The report kinds are {}", kinds_in_words()),
            None => format!(
                "the report kinds are {}; keep any other file with `keep = [\"…\"]`",
                kinds_in_words()
            ),
        };
        sink.push(
            Diagnostic::new(
                Code::UnknownReportKind,
                attribute.name.span,
                format!("`{name}` is not a report kind"),
            )
            .label("unknown report kind")
            .help(help),
        );
    }
    let block_name = format!("the `reports` of `{job}`");
    let attrs = Attributes::read(REPORTS, &block_name, known.iter().copied(), sink);
    for attribute in &known {
        if attribute.name.name != "coverage_regex" {
            paths_inside(&attribute.value, "report", sink);
        } else if let ExprKind::String(pattern) = &attribute.value.kind {
            regex_problems(pattern, attribute.value.span, sink);
        }
    }
    Reports {
        junit: attrs.strings("junit"),
        coverage: attrs.string("coverage"),
        codequality: attrs.string("codequality"),
        coverage_regex: attrs.string("coverage_regex"),
    }
}

fn kinds_in_words() -> String {
    REPORT_KINDS
        .iter()
        .map(|k| format!("`{k}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// E0325 for each string of `value` (one or a list) that leaves the working folder.
fn paths_inside(value: &ast::Expr, what: &str, sink: &mut Sink) {
    let entries: Vec<&ast::Expr> = match &value.kind {
        ExprKind::List(items) => items.iter().collect(),
        _ => vec![value],
    };
    for entry in entries {
        let ExprKind::String(path) = &entry.kind else {
            continue;
        };
        if inside_workdir(path) {
            continue;
        }
        let label = if path.is_empty() {
            "an empty path"
        } else if path.starts_with('/') {
            "an absolute path"
        } else {
            "climbs out with `..`"
        };
        sink.push(
            Diagnostic::new(
                Code::KeptOutsideWorkdir,
                entry.span,
                format!("the {what} `{path}` is outside the working folder"),
            )
            .label(label)
            .help("reports and kept files are collected from the working folder, where every target checks the code out; have the job write there and name the path relative to it (`target/junit.xml`)"),
        );
    }
}

/// E0326 for a regex neither `cdl run` nor GitLab can run; W0115 for GitLab's `/…/` written in.
fn regex_problems(pattern: &str, span: Span, sink: &mut Sink) {
    if let Err(error) = coverage_regex(pattern) {
        let reason = error
            .to_string()
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("invalid")
            .trim()
            .trim_start_matches("error: ")
            .to_string();
        sink.push(
            Diagnostic::new(
                Code::InvalidCoverageRegex,
                span,
                format!("the coverage regex `{pattern}` is not valid"),
            )
            .label(reason)
            .help("write an RE2 regex (no backreferences or lookaround), its last match in the log gives the coverage: `coverage_regex = \"Coverage: (\\\\d+\\\\.\\\\d+)%\"`"),
        );
        return;
    }
    if pattern.len() >= 2 && pattern.starts_with('/') && pattern.ends_with('/') {
        let inner = pattern[1..pattern.len() - 1]
            .replace('\\', "\\\\")
            .replace('"', "\\\"");
        sink.push(
            Diagnostic::new(
                Code::CoverageRegexSlashes,
                span,
                "the coverage regex starts and ends with `/`, which it then must match",
            )
            .label("GitLab's delimiters, not part of the regex")
            .help(format!(
                "write the regex alone, cdl adds GitLab's slashes when it exports: `\"{inner}\"`"
            )),
        );
    }
}

/// E0327 unless `seconds` is a whole number of days from 1 to the maximum.
fn retention(seconds: u64, span: Span, sink: &mut Sink) -> Option<u32> {
    const DAY: u64 = 86_400;
    let days = seconds / DAY;
    if seconds.is_multiple_of(DAY) && (1..=MAX_RETENTION_DAYS).contains(&days) {
        return Some(days as u32);
    }
    let label = if !seconds.is_multiple_of(DAY) {
        "not a whole number of days"
    } else if days == 0 {
        "nothing would be kept"
    } else {
        "longer than any target keeps files"
    };
    sink.push(
        Diagnostic::new(
            Code::RetentionOutOfRange,
            span,
            format!("`retention` must be whole days from 1d to {MAX_RETENTION_DAYS}d"),
        )
        .label(label)
        .help(format!(
            "GitHub keeps artifacts for 1 to {MAX_RETENTION_DAYS} whole days (`retention-days`); write days: `retention = {}d`",
            seconds.div_ceil(DAY).clamp(1, MAX_RETENTION_DAYS)
        )),
    );
    None
}
