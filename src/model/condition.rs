//! Conditions as the plan holds them: the variables they read, the tree, and its evaluation
//! against a run. A leaf: `check` produces these, `plan` re-exports them.

use serde::{Deserialize, Serialize};

use super::CompareOp;

/// The variables a condition may read.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Variable {
    Branch,
    Tag,
    Event,
    // v2 i13d: the new atoms.
    /// `repository`: `owner/name`.
    Repository,
    /// `branch == default_branch`: the text `"true"` when the run's branch is the default
    /// branch, else `"false"` (the checker compares it with `"true"` only).
    OnDefaultBranch,
    /// `input.NAME`: the value the run was started with (`"true"`/`"false"` for a bool).
    Input(String),
    /// `var.NAME`: the CI system's setting (empty when unset).
    Var(String),
    /// `secret.NAME`, only in `defined(secret.NAME)` (`!= ""`): its value is never compared.
    Secret(String),
    // v2 i14b
    /// `changed("glob")`: the files changed since the run's base, only in `matches` (which
    /// holds when some changed file matches the path glob, see [`super::path_glob`]).
    Changed,
}

impl Variable {
    pub const ALL: [(&'static str, Variable); 3] = [
        ("branch", Variable::Branch),
        ("tag", Variable::Tag),
        ("event", Variable::Event),
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            Variable::Branch => "branch",
            Variable::Tag => "tag",
            Variable::Event => "event",
            Variable::Repository => "repository",
            Variable::OnDefaultBranch => "on_default_branch",
            Variable::Input(_) => "input",
            Variable::Var(_) => "var",
            Variable::Secret(_) => "secret",
            Variable::Changed => "changed",
        }
    }

    /// The name as the plan and the language write it: `branch`, `input.target`, `var.X`.
    pub fn name(&self) -> String {
        match self {
            Variable::Input(name) | Variable::Var(name) | Variable::Secret(name) => {
                format!("{}.{name}", self.as_str())
            }
            other => other.as_str().to_string(),
        }
    }

    /// The variable of a name written by [`Variable::name`].
    pub fn from_name(text: &str) -> Option<Variable> {
        match text {
            "branch" => return Some(Variable::Branch),
            "tag" => return Some(Variable::Tag),
            "event" => return Some(Variable::Event),
            "repository" => return Some(Variable::Repository),
            "on_default_branch" => return Some(Variable::OnDefaultBranch),
            "changed" => return Some(Variable::Changed),
            _ => {}
        }
        let (prefix, name) = text.split_once('.')?;
        if name.is_empty() {
            return None;
        }
        let name = name.to_string();
        match prefix {
            "input" => Some(Variable::Input(name)),
            "var" => Some(Variable::Var(name)),
            "secret" => Some(Variable::Secret(name)),
            _ => None,
        }
    }
}

impl Serialize for Variable {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.name())
    }
}

impl<'de> Deserialize<'de> for Variable {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Variable, D::Error> {
        let text = String::deserialize(deserializer)?;
        Variable::from_name(&text)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown variable `{text}`")))
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
    // v2 i13d: the values of the new atoms.
    pub repository: String,
    /// Empty is taken as `main`.
    pub default_branch: String,
    /// The run's inputs, each given or defaulted (a bool as `true`/`false`).
    pub inputs: std::collections::BTreeMap<String, String>,
    /// The vars' values (given, from the environment, or defaulted); absent means unset.
    pub vars: std::collections::BTreeMap<String, String>,
    /// The secrets that are set and not empty.
    pub secrets: std::collections::BTreeSet<String>,
    // v2 i14b
    /// The files changed since the run's base (paths relative to the repository root);
    /// `None`: everything counts as changed (a tag, a schedule, a manual run, a new branch, or
    /// no base known), and every `changed()` holds.
    pub changed: Option<std::collections::BTreeSet<String>>,
}

impl RunContext {
    /// The text a variable holds in this run.
    /// `changed("glob")`: some changed file matches the path glob (always, when everything
    /// counts as changed).
    pub fn changed_matches(&self, glob: &str) -> bool {
        match &self.changed {
            None => true,
            Some(files) => super::path_glob::any_matches(glob, files),
        }
    }

    pub fn value(&self, variable: &Variable) -> String {
        match variable {
            Variable::Branch => self.branch.clone().unwrap_or_default(),
            Variable::Tag => self.tag.clone().unwrap_or_default(),
            Variable::Event => self.event.clone(),
            Variable::Repository => self.repository.clone(),
            Variable::OnDefaultBranch => {
                let default = match self.default_branch.as_str() {
                    "" => "main",
                    other => other,
                };
                (self.branch.as_deref() == Some(default)).to_string()
            }
            Variable::Input(name) => self.inputs.get(name).cloned().unwrap_or_default(),
            Variable::Var(name) => self.vars.get(name).cloned().unwrap_or_default(),
            Variable::Secret(name) => {
                if self.secrets.contains(name) {
                    "set".to_string()
                } else {
                    String::new()
                }
            }
            // Not a text: `changed` is read by `changed_matches`.
            Variable::Changed => String::new(),
        }
    }
}

impl Condition {
    pub fn evaluate(&self, context: &RunContext) -> bool {
        match self {
            Condition::Const(value) => *value,
            // v2 i14b: a set, not a text; the checker writes only `matches`.
            Condition::Compare {
                variable: Variable::Changed,
                op,
                value,
            } => context.changed_matches(value) == (*op != CompareOp::NotEqual),
            Condition::Compare {
                variable,
                op,
                value,
            } => {
                let actual = context.value(variable);
                match op {
                    CompareOp::Equal => actual == *value,
                    CompareOp::NotEqual => actual != *value,
                    CompareOp::Matches => glob_matches(value, &actual),
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
                variable: Variable::Changed,
                op,
                value,
            } => {
                let bang = if *op == CompareOp::NotEqual { "!" } else { "" };
                write!(f, "{bang}changed({value:?})")
            }
            Condition::Compare {
                variable: Variable::OnDefaultBranch,
                op,
                value,
            } => {
                let equal = (*op == CompareOp::Equal) == (value == "true");
                let op = if equal { "==" } else { "!=" };
                write!(f, "branch {op} default_branch")
            }
            Condition::Compare {
                variable: Variable::Secret(name),
                op,
                value,
            } if value.is_empty() && *op != CompareOp::Matches => {
                let bang = if *op == CompareOp::Equal { "!" } else { "" };
                write!(f, "{bang}defined(secret.{name})")
            }
            Condition::Compare {
                variable,
                op,
                value,
            } => write!(f, "{} {} {value:?}", variable.name(), op.as_str()),
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

/// How a comparison of a variable that holds `"true"` or `"false"` (`on_default_branch`)
/// holds: (when it holds `"true"`, when it holds `"false"`).
pub fn boolean_cases(op: CompareOp, value: &str) -> (bool, bool) {
    let holds = |actual: &str| match op {
        CompareOp::Equal => actual == value,
        CompareOp::NotEqual => actual != value,
        CompareOp::Matches => glob_matches(value, actual),
    };
    (holds("true"), holds("false"))
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
            ..RunContext::default()
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
