//! Downstream pipelines: `trigger { project = "group/deploy"  branch = "main"  wait = true }` in
//! a job starts the pipeline of another project (GitLab's `trigger: project`, `strategy:
//! depend` with `wait`). The job's `run`, when it has one, is the portable fallback that `cdl
//! run` and the targets that cannot start another project's pipeline run instead; without one
//! they skip the job (W0200 in the exports).
//!
//! E0362: a misused trigger (where it is written, its project path, its branch, what the job
//! has that a job starting another pipeline cannot have).

use super::attributes::{Spec, Type};
use super::value::{Composed, Piece, Place};
use crate::codes::Code;
use crate::diagnostic::{Diagnostic, Sink};
use crate::model::JobType;
use crate::model::value::Reference;
use crate::span::Span;
use crate::syntax::ast::{self, ExprKind};

/// The attributes of a job's `trigger { … }` block: completion and hover read this table.
pub const TRIGGER: &[Spec] = &[
    Spec {
        name: "project",
        ty: Type::String,
        required: true,
        doc: "The project whose pipeline the job starts: its path (`group/deploy`), or a value reading `var.NAME`.",
    },
    Spec {
        name: "branch",
        ty: Type::String,
        required: false,
        doc: "The branch of that project to run (default: its default branch).",
    },
    Spec {
        name: "wait",
        ty: Type::Bool,
        required: false,
        doc: "`true`: the job waits for the downstream pipeline and takes its result (GitLab's `strategy: depend`).",
    },
];

/// A job's trigger, as written.
#[derive(Debug, Clone, PartialEq)]
pub struct Trigger {
    pub project: Composed,
    pub branch: Option<String>,
    pub wait: bool,
    /// The `trigger` word.
    pub span: Span,
}

fn misuse(
    span: Span,
    message: impl Into<String>,
    label: &str,
    help: impl Into<String>,
) -> Diagnostic {
    Diagnostic::new(Code::InvalidTrigger, span, message)
        .label(label)
        .help(help)
}

/// Whether the body has a `trigger { … }` block (its `run` is then optional).
pub fn has_trigger(body: &[ast::BodyItem]) -> bool {
    body.iter()
        .any(|item| matches!(item, ast::BodyItem::Setting(b) if b.word.name == "trigger"))
}

/// A path segment of a project: what GitLab allows in a group or project path.
fn segment_ok(segment: &str) -> bool {
    !segment.is_empty()
        && segment != "."
        && segment != ".."
        && segment
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

/// Reads a job's `trigger { … }` block; `what` lists what the job has that a trigger job
/// cannot (each with where it is written). `None` when there is none or it was reported.
pub fn read(
    body: &[ast::BodyItem],
    job_type: JobType,
    cannot: &[(&str, Span)],
    sink: &mut Sink,
) -> Option<Trigger> {
    let block = super::platform::one_block(
        body,
        "trigger",
        "a job starts one downstream pipeline: merge them, or write a job for each",
        sink,
    )?;
    let span = block.word.span;
    match job_type {
        JobType::Gate => return None, // reported by check/platform.rs
        JobType::Job => {}
        _ => {
            sink.push(misuse(
                span,
                "only a `job` starts another project's pipeline",
                "not a `job`",
                "move the `trigger { … }` block to a `job`",
            ));
            return None;
        }
    }
    let mut ok = true;
    for (what, at) in cannot {
        sink.push(misuse(
            *at,
            format!("a job that starts another project's pipeline cannot have {what}"),
            "not for a trigger job",
            "the downstream pipeline runs in its own project: keep only `run` (the fallback), `env` (passed down), `when`, `after`, `start`, `allow_failure` and `secrets` here, and move the rest to another job",
        ));
        ok = false;
    }
    let mut project = None;
    let mut branch = None;
    let mut wait = false;
    for attribute in &block.attributes {
        let value = &attribute.value;
        match attribute.name.name.as_str() {
            "project" => project = Some(super::value::read(value, Place::JobAttribute, sink)),
            "branch" => match &value.kind {
                ExprKind::String(text) => {
                    if text.is_empty()
                        || text.chars().any(|c| {
                            c.is_whitespace()
                                || c.is_control()
                                || matches!(c, '~' | '^' | ':' | '?' | '*' | '[' | '\\')
                        })
                        || text.contains("..")
                    {
                        sink.push(misuse(
                            value.span,
                            format!("`{text}` is not a branch name"),
                            "not a branch name",
                            "write a branch of the downstream project: `branch = \"main\"`",
                        ));
                        ok = false;
                    } else {
                        branch = Some(text.clone());
                    }
                }
                ExprKind::Invalid => ok = false,
                other => {
                    sink.push(misuse(
                        value.span,
                        format!("`branch` is a string, found {}", other.describe()),
                        "not a string",
                        "write `branch = \"main\"`",
                    ));
                    ok = false;
                }
            },
            "wait" => match &value.kind {
                ExprKind::Bool(b) => wait = *b,
                ExprKind::Invalid => ok = false,
                other => {
                    sink.push(misuse(
                        value.span,
                        format!("`wait` is `true` or `false`, found {}", other.describe()),
                        "not a boolean",
                        "write `wait = true` to take the downstream pipeline's result",
                    ));
                    ok = false;
                }
            },
            _ => sink.push(super::attributes::unknown_attribute(
                &attribute.name,
                "a trigger",
                TRIGGER,
            )),
        }
    }
    let Some(project) = project else {
        sink.push(misuse(
            span,
            "a trigger needs the project whose pipeline it starts",
            "no `project`",
            "write `project = \"group/deploy\"`",
        ));
        return None;
    };
    let project = project?;
    for (piece, at) in &project.pieces {
        if let Piece::Ref(reference) = piece
            && !matches!(reference, Reference::Var(_))
        {
            sink.push(misuse(
                *at,
                format!("a trigger's project cannot read `{reference}`"),
                "not known before the job runs",
                "name the project, or read it from a var: `project = var.DEPLOY_PROJECT`",
            ));
            ok = false;
        }
    }
    if let Some(text) = Composed::fixed(&project.resolve(&Default::default())) {
        let segments: Vec<&str> = text.split('/').collect();
        if segments.len() < 2 || !segments.iter().all(|s| segment_ok(s)) {
            sink.push(misuse(
                project.span,
                format!("`{text}` is not a project path"),
                "not `group/project`",
                "write the project's full path, its groups and its name joined by `/`: `\"group/deploy\"` (letters, digits, `_`, `-`, `.`)",
            ));
            ok = false;
        }
    } else if project.pieces.iter().any(|(p, _)| matches!(p, Piece::Text(t) if t.chars().any(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '/'))))) {
        sink.push(misuse(
            project.span,
            "a project path holds letters, digits, `_`, `-`, `.` and `/` only",
            "not part of a project path",
            "write the project's path, or read it from a var: `project = var.DEPLOY_PROJECT`",
        ));
        ok = false;
    }
    ok.then_some(Trigger {
        project,
        branch,
        wait,
        span,
    })
}
