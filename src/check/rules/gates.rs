//! A gate needs approvers, each a non-empty name or a known team (`@NAME`), and cannot
//! require more approvals than the distinct people it reaches (a person counts once, however
//! often listed or in however many of its teams).

use crate::check::Context;
use crate::check::model::{Job, JobType, Pipeline};
use crate::codes::Code;
use crate::diagnostic::{Diagnostic, Sink, closest};

pub fn check(cx: &Context, sink: &mut Sink) {
    for gate in cx
        .pipeline
        .jobs
        .iter()
        .filter(|j| j.job_type == JobType::Gate)
    {
        check_gate(cx.pipeline, gate, sink);
    }
}

fn check_gate(pipeline: &Pipeline, gate: &Job, sink: &mut Sink) {
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
    let mut listed: Vec<&str> = Vec::new();
    let mut repeated: Vec<&str> = Vec::new();
    let mut unknown_team = false;
    for (i, approver) in gate.approvers.iter().enumerate() {
        if approver.trim().is_empty() || approver.trim() == "@" {
            sink.push(
                Diagnostic::new(
                    Code::InvalidValue,
                    span_of(i),
                    format!("the gate `{}` lists an empty approver name", gate.name),
                )
                .label("not a name")
                .help("write who may approve: `approvers = [\"alice\"]`; an empty name would let `--as \"\"` approve"),
            );
            continue;
        }
        if approver.chars().any(char::is_control) {
            sink.push(
                Diagnostic::new(
                    Code::InvalidValue,
                    span_of(i),
                    format!(
                        "the gate `{}` lists an approver name with a control character",
                        gate.name
                    ),
                )
                .label("not a name")
                .help("write the name on one line, as the approver types it after `--as`"),
            );
            continue;
        }
        if let Some(team) = approver.strip_prefix('@')
            && !pipeline.teams.contains_key(team)
        {
            unknown_team = true;
            let help = closest(team, pipeline.teams.keys().map(String::as_str))
                .map(|best| format!("did you mean `@{best}`?"))
                .unwrap_or_else(|| {
                    format!("declare it: `team {team} {{ members = [\"alice\", \"bob\"] }}`; a name without `@` is one person")
                });
            sink.push(
                Diagnostic::new(
                    Code::UnknownTeam,
                    span_of(i),
                    format!("the gate `{}` names the unknown team `@{team}`", gate.name),
                )
                .label("no team of this name")
                .help(help),
            );
        }
        if listed.contains(&approver.as_str()) {
            repeated.push(approver);
        } else {
            listed.push(approver);
        }
    }
    if unknown_team {
        return; // the people it reaches are not known
    }
    let people = pipeline.people(&gate.approvers);
    if gate.required as usize > people.len() && !people.is_empty() {
        let mut diagnostic = Diagnostic::new(
            Code::GateRequiresTooMany,
            gate.name_span,
            format!(
                "the gate `{}` requires {} approvals but reaches only {} distinct {}",
                gate.name,
                gate.required,
                people.len(),
                if people.len() == 1 {
                    "person"
                } else {
                    "people"
                }
            ),
        )
        .label("can never be approved");
        if gate.approvers.iter().any(|a| a.starts_with('@')) {
            diagnostic = diagnostic.note(format!(
                "a team counts its members; the people are {}",
                people
                    .iter()
                    .map(|n| format!("`{n}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
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
            "lower `required` to at most {}, or add approvers (people, or teams as `@NAME`)",
            people.len()
        )));
    }
}
