//! A gate needs approvers, and cannot require more approvals than it has approvers.

use crate::check::Context;
use crate::check::model::JobType;
use crate::codes::Code;
use crate::diagnostic::{Diagnostic, Sink};

pub fn check(cx: &Context, sink: &mut Sink) {
    for gate in cx
        .pipeline
        .jobs
        .iter()
        .filter(|j| j.job_type == JobType::Gate)
    {
        if gate.approvers.is_empty() {
            sink.push(
                Diagnostic::new(
                    Code::GateWithoutApprovers,
                    gate.name_span,
                    format!("the gate `{}` has no approvers", gate.name),
                )
                .label("nobody can approve this gate")
                .help("name who may approve: `approvers = [\"release-managers\"]`"),
            );
        } else if gate.required as usize > gate.approvers.len() {
            sink.push(
                Diagnostic::new(
                    Code::GateRequiresTooMany,
                    gate.name_span,
                    format!(
                        "the gate `{}` requires {} approvals but lists only {} approver{}",
                        gate.name,
                        gate.required,
                        gate.approvers.len(),
                        if gate.approvers.len() == 1 { "" } else { "s" }
                    ),
                )
                .label("can never be approved")
                .help(format!(
                    "lower `required` to at most {}, or add approvers",
                    gate.approvers.len()
                )),
            );
        }
    }
}
