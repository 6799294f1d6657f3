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

/// What a job's `runs` and `start` say.
#[derive(Debug, Clone, Copy, Default)]
pub struct AfterFailure {
    pub runs: Runs,
    pub runs_span: Option<Span>,
    /// Where `start = manual` was written.
    pub manual: Option<Span>,
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

/// Reads `runs` and `start` of a job (typed by the job's schema).
pub fn read(attrs: &Attributes) -> AfterFailure {
    AfterFailure {
        runs: attrs
            .word("runs")
            .and_then(|w| Runs::parse(&w))
            .unwrap_or_default(),
        runs_span: attrs.name_span("runs"),
        manual: (attrs.word("start").as_deref() == Some("manual"))
            .then(|| attrs.name_span("start"))
            .flatten(),
    }
}
