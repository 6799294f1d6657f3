//! A step's `when` (language v2 §4): the job's condition language, `matrix.KEY` included
//! (fixed per instance, as for a job). A step's condition is tested inside the job, where only
//! the job's own secrets are set, so `defined(secret.NAME)` must name one of them (E0318).

use super::matrix::{instance_conditions, mentions_matrix};
use crate::codes::Code;
use crate::diagnostic::{Diagnostic, Sink};
use crate::model::Condition;
use crate::model::matrix::Matrix;
use crate::model::steps::Step;
use crate::span::Ident;
use crate::syntax::ast::{self, Expr, ExprKind};

/// The conditions of steps that read `matrix.KEY`: the step's index in the job's steps and
/// its condition per matrix instance (`None`: it runs), in the order of `matrix.expand()`.
pub type InstanceWhen = Vec<(usize, Vec<Option<Condition>>)>;

/// Reads the `when` of each step block into `steps` (which `steps::read` made from `body`);
/// returns the conditions that differ per matrix instance.
pub fn read(
    body: &[ast::BodyItem],
    steps: &mut [Step],
    matrix: &Matrix,
    job: &str,
    secrets: &[Ident],
    sink: &mut Sink,
) -> InstanceWhen {
    let mut per_instance = Vec::new();
    for block in body.iter().filter_map(|item| match item {
        ast::BodyItem::Step(block) => Some(block),
        _ => None,
    }) {
        let Some(index) = steps.iter().position(|s| s.name == block.name.name) else {
            continue;
        };
        for attribute in block.items.iter().filter_map(|item| match item {
            ast::StepItem::Attribute(a) if a.name.name == "when" => Some(a),
            _ => None,
        }) {
            if steps[index].when.is_some()
                || per_instance.iter().any(|(i, _)| *i == index)
                || !secrets_listed(&attribute.value, &block.name.name, job, secrets, sink)
            {
                continue;
            }
            if mentions_matrix(&attribute.value) {
                let conditions = instance_conditions(&attribute.value, matrix, job, sink);
                if conditions.iter().all(Option::is_none) {
                    continue;
                }
                per_instance.push((index, conditions));
            } else if let Some(condition) = super::condition::type_condition(&attribute.value, sink)
            {
                steps[index].when = Some(condition);
            }
        }
    }
    per_instance
}

/// Reports each `defined(secret.NAME)` of a step's condition whose secret the job does not
/// list; whether all were listed.
fn secrets_listed(expr: &Expr, step: &str, job: &str, secrets: &[Ident], sink: &mut Sink) -> bool {
    match &expr.kind {
        ExprKind::Defined(name) => {
            let Some(secret) = name.strip_prefix("secret.") else {
                return true;
            };
            if secrets.iter().any(|s| s.name == secret) {
                return true;
            }
            let listed: Vec<&str> = secrets
                .iter()
                .map(|s| s.name.as_str())
                .chain([secret])
                .collect();
            sink.push(
                Diagnostic::new(
                    Code::StepWhenJobOnly,
                    expr.span,
                    format!(
                        "the step `{step}` tests the secret `{secret}`, which `{job}` does not list"
                    ),
                )
                .label("only a job's condition may test a secret it does not list")
                .help(format!(
                    "a step's condition is tested inside the job, which has only its own secrets: \
                     add it to the job (`secrets = [{}]`), or move the test to the job's `when`",
                    listed.join(", ")
                )),
            );
            false
        }
        ExprKind::And(l, r) | ExprKind::Or(l, r) => {
            // Both sides are reported.
            let left = secrets_listed(l, step, job, secrets, sink);
            secrets_listed(r, step, job, secrets, sink) && left
        }
        ExprKind::Not(inner) => secrets_listed(inner, step, job, secrets, sink),
        // The changed files are known where the target decides which jobs run, not inside a
        // job's step runner: a step cannot test them.
        ExprKind::Changed(_) => {
            sink.push(
                Diagnostic::new(
                    Code::StepWhenChanged,
                    expr.span,
                    format!("the step `{step}` of `{job}` tests `changed()`"),
                )
                .label("only a job's condition may test the changed files")
                .help(
                    "the targets know the changed files where they decide which jobs run, not \
                     inside a job: move the test to the job's `when`, or make this step a job",
                ),
            );
            false
        }
        _ => true,
    }
}
