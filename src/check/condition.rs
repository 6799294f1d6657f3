//! `when` conditions: typing an expression into a condition tree, and evaluating one.

use serde::{Deserialize, Serialize};

use crate::codes::Code;
use crate::diagnostic::{Diagnostic, Sink, did_you_mean};
use crate::span::Span;
use crate::syntax::ast::{CompareOp, Expr, ExprKind};

/// The variables a condition may read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Variable {
    Branch,
    Tag,
    Event,
}

impl Variable {
    pub const ALL: [(&'static str, Variable); 3] = [
        ("branch", Variable::Branch),
        ("tag", Variable::Tag),
        ("event", Variable::Event),
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Variable::Branch => "branch",
            Variable::Tag => "tag",
            Variable::Event => "event",
        }
    }
}

/// The events a run can be started by, as `event` compares them.
pub const EVENTS: [&str; 5] = ["push", "pull_request", "tag", "schedule", "manual"];

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Condition {
    Const(bool),
    /// `variable == value`, `variable != value` or `variable matches glob`.
    Compare {
        variable: Variable,
        op: CompareOp,
        value: String,
    },
    And(Vec<Condition>),
    Or(Vec<Condition>),
    Not(Box<Condition>),
}

/// The values a run is started with, which conditions are evaluated against.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunContext {
    pub branch: Option<String>,
    pub tag: Option<String>,
    pub event: String,
}

impl Condition {
    pub fn evaluate(&self, context: &RunContext) -> bool {
        match self {
            Condition::Const(value) => *value,
            Condition::Compare {
                variable,
                op,
                value,
            } => {
                let actual = match variable {
                    Variable::Branch => context.branch.as_deref().unwrap_or(""),
                    Variable::Tag => context.tag.as_deref().unwrap_or(""),
                    Variable::Event => context.event.as_str(),
                };
                match op {
                    CompareOp::Equal => actual == value,
                    CompareOp::NotEqual => actual != value,
                    CompareOp::Matches => glob_matches(value, actual),
                }
            }
            Condition::And(all) => all.iter().all(|c| c.evaluate(context)),
            Condition::Or(any) => any.iter().any(|c| c.evaluate(context)),
            Condition::Not(inner) => !inner.evaluate(context),
        }
    }
}

impl std::fmt::Display for Condition {
    /// Prints the condition back in the language's own syntax.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        fn part(c: &Condition, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            match c {
                Condition::And(_) | Condition::Or(_) => write!(f, "({c})"),
                _ => write!(f, "{c}"),
            }
        }
        fn joined(
            items: &[Condition],
            op: &str,
            f: &mut std::fmt::Formatter<'_>,
        ) -> std::fmt::Result {
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    write!(f, " {op} ")?;
                }
                part(item, f)?;
            }
            Ok(())
        }
        match self {
            Condition::Const(value) => write!(f, "{value}"),
            Condition::Compare {
                variable: Variable::Event,
                op,
                value,
            } if *op != CompareOp::Matches => write!(f, "event {} {value}", op.as_str()),
            Condition::Compare {
                variable,
                op,
                value,
            } => write!(f, "{} {} {value:?}", variable.as_str(), op.as_str()),
            Condition::And(items) => joined(items, "&&", f),
            Condition::Or(items) => joined(items, "||", f),
            Condition::Not(inner) => {
                write!(f, "!")?;
                match **inner {
                    Condition::Compare { .. } => write!(f, "({inner})"),
                    _ => part(inner, f),
                }
            }
        }
    }
}

/// A glob over a whole string: `*` matches any run of characters (including `/`), `?` one.
pub fn glob_matches(pattern: &str, text: &str) -> bool {
    let pattern: Vec<char> = pattern.chars().collect();
    let text: Vec<char> = text.chars().collect();
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        // `*` is tried first: a `*` in the text is matched by it, not consumed literally.
        if p < pattern.len() && pattern[p] == '*' {
            star = Some((p, t));
            p += 1;
        } else if p < pattern.len() && (pattern[p] == '?' || pattern[p] == text[t]) {
            p += 1;
            t += 1;
        } else if let Some((star_p, star_t)) = star {
            p = star_p + 1;
            t = star_t + 1;
            star = Some((star_p, star_t + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|c| *c == '*')
}

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
        .map(|(_, v)| *v)
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
    let value = match (var, &value_expr.kind) {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob_matches("release/*", "release/1.2"));
        assert!(glob_matches("v*", "v1.0.0"));
        assert!(glob_matches("*", ""));
        assert!(glob_matches("a?c", "abc"));
        assert!(!glob_matches("v*", "x1"));
        assert!(!glob_matches("main", "main2"));
        assert!(glob_matches("*-rc*", "v1-rc2"));
        // A `*` in the text is text like any other: the pattern's `*` still matches it.
        assert!(glob_matches("*", "*-rc"));
        assert!(glob_matches("a*", "a*b"));
        assert!(glob_matches("*b", "*b"));
    }

    #[test]
    fn evaluates_against_a_run() {
        let context = RunContext {
            branch: Some("main".into()),
            tag: None,
            event: "push".into(),
        };
        let main = Condition::Compare {
            variable: Variable::Branch,
            op: CompareOp::Equal,
            value: "main".into(),
        };
        let tag = Condition::Compare {
            variable: Variable::Event,
            op: CompareOp::Equal,
            value: "tag".into(),
        };
        assert!(main.evaluate(&context));
        assert!(!tag.evaluate(&context));
        assert!(Condition::Or(vec![main.clone(), tag.clone()]).evaluate(&context));
        assert!(!Condition::Not(Box::new(main)).evaluate(&context));
    }
}
