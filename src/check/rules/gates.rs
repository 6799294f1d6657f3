//! A gate needs approvers, each a non-empty name, and cannot require more approvals than it
//! has distinct approvers (a name listed twice counts once).

use crate::check::Context;
use crate::check::model::{Job, JobType};
use crate::codes::Code;
use crate::diagnostic::{Diagnostic, Sink};

pub fn check(cx: &Context, sink: &mut Sink) {
    for gate in cx
        .pipeline
        .jobs
        .iter()
        .filter(|j| j.job_type == JobType::Gate)
    {
        check_gate(gate, sink);
    }
}

fn check_gate(gate: &Job, sink: &mut Sink) {
    if gate.approvers.is_empty() {
        sink.push(
            Diagnostic::new(
                Code::GateWithoutApprovers,
                gate.name_span,
                format!("the gate `{}` has no approvers", gate.name),
            )
            .label("nobody can approve this gate")
            .help("name who may approve: `approvers = [\"alice\", \"bob\"]`"),
        );
        return;
    }
    let span_of = |i: usize| {
        if gate.approver_spans.len() == gate.approvers.len() {
            gate.approver_spans[i]
        } else {
            gate.name_span
        }
    };
    let mut people: Vec<&str> = Vec::new();
    let mut repeated: Vec<&str> = Vec::new();
    for (i, approver) in gate.approvers.iter().enumerate() {
        if approver.trim().is_empty() {
            sink.push(
                Diagnostic::new(
                    Code::InvalidValue,
                    span_of(i),
                    format!("the gate `{}` lists an empty approver name", gate.name),
                )
                .label("not a name")
                .help("write who may approve: `approvers = [\"alice\"]`; an empty name would let `--as \"\"` approve"),
            );
        } else if people.contains(&approver.as_str()) {
            repeated.push(approver);
        } else {
            people.push(approver);
        }
    }
    if gate.required as usize > people.len() && !people.is_empty() {
        let mut diagnostic = Diagnostic::new(
            Code::GateRequiresTooMany,
            gate.name_span,
            format!(
                "the gate `{}` requires {} approvals but lists only {} distinct approver{}",
                gate.name,
                gate.required,
                people.len(),
                if people.len() == 1 { "" } else { "s" }
            ),
        )
        .label("can never be approved");
        if !repeated.is_empty() {
            diagnostic = diagnostic.note(format!(
                "a person approves once: {} listed more than once",
                repeated
                    .iter()
                    .map(|n| format!("`{n}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        sink.push(diagnostic.help(format!(
            "lower `required` to at most {}, or add approvers",
            people.len()
        )));
    }
}
