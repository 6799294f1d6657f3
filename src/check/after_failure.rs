//! `runs = on_success | on_failure | always` and `start = manual` on jobs (language v2 §6):
//! read into the checked job, every misuse reported with a code and a span.

use super::attributes::Attributes;
use crate::codes::Code;
use crate::diagnostic::{Diagnostic, Sink};
use crate::model::JobType;
use crate::model::steps::Runs;
use crate::span::Span;
use crate::syntax::ast;

/// The doc of a job's `runs`.
pub const RUNS_DOC: &str = "`on_success` (default): only when every job it waits for succeeded; `on_failure`: only when one of them failed; `always`: once they all finished, whatever they did. Never after a person cancelled the run; never a guard of an environment's requirement.";

/// The words `start = …` accepts.
pub const START_WORDS: &[&str] = &["manual"];

/// The doc of a job's `start`.
pub const START_DOC: &str = "`manual`: an optional job that runs only when a person starts it (`cdl run --start JOB`; GitLab `when: manual`); never a guard of an environment's requirement.";

/// The doc of a job's `auto_when`.
pub const AUTO_WHEN_DOC: &str = "With `start = manual`: the job starts by itself when this holds, and waits for a person otherwise (GitLab's `rules: - if: COND` then `- when: manual`).";

/// What a job's `runs`, `start` and `auto_when` say.
#[derive(Debug, Clone, Default)]
pub struct AfterFailure {
    pub runs: Runs,
    pub runs_span: Option<Span>,
    /// Where `start = manual` was written.
    pub manual: Option<Span>,
    /// `auto_when = COND` of a manual job: it starts by itself when COND holds.
    pub auto_when: Option<crate::model::condition::Condition>,
}

/// Whether an attribute is `runs` or `start` written in a gate, which [`gate`] reports (so
/// that the gate's schema does not report it as unknown too).
pub fn is_gate_attribute(job_type: JobType, attribute: &ast::Attribute) -> bool {
    job_type == JobType::Gate && matches!(attribute.name.name.as_str(), "runs" | "start")
}

/// Reports `runs` or `start` in a gate: a gate waits for a person's decision, which nothing
/// proves after a failure, and a gate is already started by a person.
pub fn gate(attribute: &ast::Attribute, gate: &str, sink: &mut Sink) {
    let word = attribute.name.name.as_str();
    let help = if word == "runs" {
        "remove `runs`: a job that runs after a failure (a rollback, a notification) needs no approval; if it must, put the gate before the job that fails"
    } else {
        "remove `start`: a gate already waits for a person; an optional job a person starts is a `job` with `start = manual`"
    };
    sink.push(
        Diagnostic::new(
            Code::AfterFailureOnGate,
            attribute.name.span.to(attribute.value.span),
            format!("the gate `{gate}` cannot have `{word}`"),
        )
        .label(if word == "runs" {
            "a gate runs only after the jobs before it succeeded"
        } else {
            "a gate is decided by a person already"
        })
        .help(help),
    );
}

/// Reads `runs`, `start` and `auto_when` of a job (typed by the job's schema); `auto_when`
/// without `start = manual` is E0347.
pub fn read(attrs: &Attributes, sink: &mut Sink) -> AfterFailure {
    let manual = (attrs.word("start").as_deref() == Some("manual"))
        .then(|| attrs.name_span("start"))
        .flatten();
    let auto_when = attrs.condition("auto_when");
    if let (None, Some(span)) = (manual, attrs.name_span("auto_when")) {
        sink.push(
            Diagnostic::new(
                Code::AutoWhenWithoutManual,
                attrs.value_span("auto_when").map_or(span, |v| span.to(v)),
                "`auto_when` on a job that always starts by itself",
            )
            .label("the job is not `start = manual`, so this condition changes nothing")
            .help("make the job `start = manual` (it then waits for a person unless the condition holds), or write the condition as `when` to skip the job where it does not hold"),
        );
    }
    AfterFailure {
        auto_when: auto_when.filter(|_| manual.is_some()),
        runs: attrs
            .word("runs")
            .and_then(|w| Runs::parse(&w))
            .unwrap_or_default(),
        runs_span: attrs.name_span("runs"),
        manual,
    }
}
