//! `when` conditions: typing an expression into a condition tree, and evaluating one.

use crate::codes::Code;
use crate::diagnostic::{Diagnostic, Sink, did_you_mean};
use crate::span::Span;
use crate::syntax::ast::{CompareOp, Expr, ExprKind};

pub use crate::model::condition::{Condition, EVENTS, RunContext, Variable, glob_matches};

/// Types an attribute value as a condition, reporting every problem found in it.
pub fn type_condition(expr: &Expr, sink: &mut Sink) -> Option<Condition> {
    match &expr.kind {
        ExprKind::Bool(value) => Some(Condition::Const(*value)),
        ExprKind::And(left, right) => {
            let (l, r) = (type_condition(left, sink), type_condition(right, sink));
            Some(Condition::And(flatten_and(vec![l?, r?])))
        }
        ExprKind::Or(left, right) => {
            let (l, r) = (type_condition(left, sink), type_condition(right, sink));
            Some(Condition::Or(flatten_or(vec![l?, r?])))
        }
        ExprKind::Not(inner) => Some(Condition::Not(Box::new(type_condition(inner, sink)?))),
        ExprKind::Compare { op, left, right } => compare(*op, left, right, expr.span, sink),
        ExprKind::Invalid => None,
        // v2 i13d: `defined(secret.NAME)` / `defined(var.NAME)`.
        ExprKind::Defined(name) => super::inputs::defined(name, expr.span, sink),
        // v2 i14b: `changed("glob", …)`.
        ExprKind::Changed(globs) => super::changed::changed(globs, expr.span, sink),
        ExprKind::Ident(name) if super::inputs::is_new_variable(name) => {
            sink.push(
                Diagnostic::new(
                    Code::ConditionType,
                    expr.span,
                    format!("`{name}` is a value, not a condition"),
                )
                .label("expected a condition")
                .help(super::inputs::compare_help(name)),
            );
            None
        }
        ExprKind::Ident(name) if variable(name).is_some() => {
            sink.push(
                Diagnostic::new(
                    Code::ConditionType,
                    expr.span,
                    format!("`{name}` is a value, not a condition"),
                )
                .label("expected a condition")
                .help(match name.as_str() {
                    "event" => "compare it: `event == push`".to_string(),
                    "tag" => "compare it: `tag matches \"v*\"`".to_string(),
                    _ => format!("compare it: `{name} == \"main\"`"),
                }),
            );
            None
        }
        ExprKind::Ident(name) => {
            unknown_variable(name, expr.span, sink);
            None
        }
        other => {
            sink.push(
                Diagnostic::new(
                    Code::ConditionType,
                    expr.span,
                    format!("expected a condition, found {}", other.describe()),
                )
                .label("not a condition")
                .help("a condition compares `branch`, `tag` or `event`: `branch == \"main\"`"),
            );
            None
        }
    }
}

fn flatten_and(items: Vec<Condition>) -> Vec<Condition> {
    items
        .into_iter()
        .flat_map(|c| match c {
            Condition::And(inner) => inner,
            other => vec![other],
        })
        .collect()
}

fn flatten_or(items: Vec<Condition>) -> Vec<Condition> {
    items
        .into_iter()
        .flat_map(|c| match c {
            Condition::Or(inner) => inner,
            other => vec![other],
        })
        .collect()
}

fn variable(name: &str) -> Option<Variable> {
    Variable::ALL
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v.clone())
}

fn unknown_variable(name: &str, span: Span, sink: &mut Sink) {
    if let Some(foreign) = super::foreign::variable(name, span) {
        sink.push(foreign);
        return;
    }
    let suggestion = did_you_mean(name, Variable::ALL.iter().map(|(n, _)| *n));
    let help = suggestion
        .unwrap_or_else(|| "conditions read the variables `branch`, `tag` and `event`".to_string());
    sink.push(
        Diagnostic::new(
            Code::UnknownVariable,
            span,
            format!("unknown variable `{name}` in a condition"),
        )
        .label("not a variable")
        .help(help),
    );
}

fn compare(
    op: CompareOp,
    left: &Expr,
    right: &Expr,
    span: Span,
    sink: &mut Sink,
) -> Option<Condition> {
    if let Some(foreign) = super::foreign::comparison(op, left, right, span) {
        sink.push(foreign);
        return None;
    }
    // v2 i13j: a condition compares fixed operands.
    if let Some(value) = [left, right]
        .into_iter()
        .find(|e| matches!(e.kind, ExprKind::Value(_)))
    {
        sink.push(super::value::not_here(value, "an operand of a comparison"));
        return None;
    }
    if let Some(result) = super::inputs::compare(op, left, right, span, sink) {
        return result;
    }
    // The variable may stand on either side; normalise it to the left.
    let (var_expr, value_expr) = match (&left.kind, &right.kind) {
        (ExprKind::Ident(l), _) if variable(l).is_some() => (left, right),
        (_, ExprKind::Ident(r)) if variable(r).is_some() && op != CompareOp::Matches => {
            (right, left)
        }
        (ExprKind::Ident(l), _) => {
            unknown_variable(l, left.span, sink);
            return None;
        }
        _ => {
            sink.push(
                Diagnostic::new(
                    Code::ConditionType,
                    left.span,
                    format!(
                        "a comparison needs a variable on the left, found {}",
                        left.kind.describe()
                    ),
                )
                .label("expected `branch`, `tag` or `event`")
                .help("write `branch == \"main\"`, `tag matches \"v*\"` or `event == push`"),
            );
            return None;
        }
    };
    let ExprKind::Ident(var_name) = &var_expr.kind else {
        unreachable!("matched an identifier above")
    };
    let var = variable(var_name).expect("checked above");
    let value = match (var.clone(), &value_expr.kind) {
        (_, ExprKind::Invalid) => return None,
        (Variable::Event, _) if op == CompareOp::Matches => {
            sink.push(
                Diagnostic::new(
                    Code::ConditionType,
                    span,
                    "`event` cannot be matched against a glob",
                )
                .label("`matches` compares text")
                .help("compare events with `==` or `!=`: `event == push || event == tag`"),
            );
            return None;
        }
        (Variable::Event, ExprKind::Ident(name) | ExprKind::String(name)) => {
            if EVENTS.contains(&name.as_str()) {
                name.clone()
            } else {
                let help = did_you_mean(name, EVENTS).unwrap_or_else(|| {
                    format!("events are {}", EVENTS.map(|e| format!("`{e}`")).join(", "))
                });
                let message = match variable(name) {
                    Some(_) => format!("`event` compared with the variable `{name}`, not an event"),
                    None => format!("`{name}` is not an event"),
                };
                sink.push(
                    Diagnostic::new(Code::NotAnEvent, value_expr.span, message)
                        .label("not an event")
                        .help(help),
                );
                return None;
            }
        }
        (Variable::Event, other) => {
            sink.push(
                Diagnostic::new(
                    Code::NotAnEvent,
                    value_expr.span,
                    format!("`event` compared with {}, not an event", other.describe()),
                )
                .label("not an event")
                .help(format!(
                    "events are {}",
                    EVENTS.map(|e| format!("`{e}`")).join(", ")
                )),
            );
            return None;
        }
        (_, ExprKind::String(text)) => {
            if op == CompareOp::Matches {
                let what = if var == Variable::Tag {
                    "tag"
                } else {
                    "branch"
                };
                super::ref_glob::check(text, what, value_expr.span, sink);
            }
            text.clone()
        }
        (_, ExprKind::Ident(name)) if variable(name).is_none() => {
            sink.push(
                Diagnostic::new(
                    Code::UnknownVariable,
                    value_expr.span,
                    format!("unknown variable `{name}` in a condition"),
                )
                .label("not a variable")
                .help(format!("to compare `{var_name}` with the text {name}, quote it: `{var_name} {} \"{name}\"`", op.as_str())),
            );
            return None;
        }
        (_, other) => {
            sink.push(
                Diagnostic::new(
                    Code::ConditionType,
                    value_expr.span,
                    format!(
                        "`{var_name}` is a string and cannot be compared with {}",
                        other.describe()
                    ),
                )
                .label("expected a string")
                .help(format!(
                    "write the value in quotes: `{var_name} {} \"…\"`",
                    op.as_str()
                )),
            );
            return None;
        }
    };
    Some(Condition::Compare {
        variable: var,
        op,
        value,
    })
}
