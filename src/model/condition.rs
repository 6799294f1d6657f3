//! Conditions as the plan holds them: the variables they read, the tree, and its evaluation
//! against a run. A leaf: `check` produces these, `plan` re-exports them.

use serde::{Deserialize, Serialize};

use super::CompareOp;

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

/// Whether the glob (see [`super::glob`]) matches the whole of `text`.
pub fn glob_matches(pattern: &str, text: &str) -> bool {
    super::glob::matches(pattern, text)
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
