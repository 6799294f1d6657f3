//! A condition as a POSIX shell test over `CDL_EVENT`, `CDL_BRANCH` and `CDL_TAG`, with cdl's
//! semantics (case-sensitive comparisons, `matches` globs): the test of GitHub's conditions
//! job and of Tekton's evaluation task. No text of the pipeline file is written into the
//! script: every string it compares with is read from a variable `CDL_VALUE_<N>`. An event
//! name, an identifier the checker vouches for, is the only word written as it is.
//!
//! A glob without classes is a `case` pattern whose literal runs are quoted variables; a glob
//! with a class is an extended regular expression (see [`ere`]), itself held in a variable,
//! that `grep -Eqx` tests in the C locale (git refs hold no newline, so the value is one line).

use std::cell::RefCell;

use indexmap::IndexMap;

use super::boolean::{Syntax, render};
use super::{Comparison, lower};
use crate::export::glob::{Class, Token, tokens};
use crate::export::shell::is_identifier;
use crate::plan::{CompareOp, Condition, Variable};

/// The test of `condition`; the strings it reads are added to `values` (text → name).
pub fn test(condition: &Condition, values: &mut IndexMap<String, String>) -> String {
    test_named(condition, values, "CDL_VALUE_")
}

/// v2 i13l: [`test`], its strings read from `<prefix><N>` (a step's condition in the step
/// runner uses its own names: `CDL_VALUE_` is the prefix of the values jobs pass on).
pub fn test_named(
    condition: &Condition,
    values: &mut IndexMap<String, String>,
    prefix: &str,
) -> String {
    let syntax = Shell {
        values: RefCell::new(std::mem::take(values)),
        prefix: prefix.to_string(),
    };
    let text = render(&lower(condition), &syntax);
    *values = syntax.values.into_inner();
    text
}

struct Shell {
    values: RefCell<IndexMap<String, String>>,
    prefix: String,
}

impl Shell {
    /// The variable that holds `text`, `CDL_VALUE_<N>` in order of first use.
    fn value(&self, text: &str) -> String {
        let mut values = self.values.borrow_mut();
        let next = format!("{}{}", self.prefix, values.len() + 1);
        values.entry(text.to_string()).or_insert(next).clone()
    }
}

impl Syntax<Comparison> for Shell {
    fn atom(&self, atom: &Comparison) -> String {
        let variable = match &atom.variable {
            Variable::Branch => "$CDL_BRANCH".to_string(),
            Variable::Tag => "$CDL_TAG".to_string(),
            Variable::Event => "$CDL_EVENT".to_string(),
            Variable::Repository => "$CDL_REPOSITORY".to_string(),
            Variable::OnDefaultBranch => {
                let test = "[ \"$CDL_BRANCH\" = \"${CDL_DEFAULT_BRANCH:-main}\" ]";
                return match super::boolean_cases(atom.op, &atom.value) {
                    (true, true) => "true".into(),
                    (false, false) => "false".into(),
                    (true, false) => test.into(),
                    (false, true) => format!("{{ ! {test}; }}"),
                };
            }
            Variable::Input(name) => format!("${}", crate::model::inputs::input_variable(name)),
            Variable::Var(name) => format!("${name}"),
            Variable::Secret(name) => format!("${}", defined_secret_variable(name)),
            // v2 i14b: `CDL_CHANGED_FILES` names a file of the changed paths, one a line;
            // unset or empty, everything counts as changed.
            Variable::Changed => {
                let test = format!(
                    "{{ [ -z \"${{CDL_CHANGED_FILES:-}}\" ] || LC_ALL=C.UTF-8 grep -Eqx -e \"${}\" \"$CDL_CHANGED_FILES\"; }}",
                    self.value(&crate::export::changed::path_ere(&atom.value))
                );
                return match atom.op {
                    CompareOp::NotEqual => format!("{{ ! {test}; }}"),
                    _ => test,
                };
            }
        };
        let variable = variable.as_str();
        let text = &atom.value;
        let equal = |op: &str| {
            if atom.variable == Variable::Event && is_identifier(text) {
                format!("[ \"{variable}\" {op} {text} ]")
            } else {
                format!("[ \"{variable}\" {op} \"${}\" ]", self.value(text))
            }
        };
        match atom.op {
            CompareOp::Equal => equal("="),
            CompareOp::NotEqual => equal("!="),
            CompareOp::Matches => {
                let tokens = tokens(text);
                if tokens.iter().any(|t| matches!(t, Token::Class(_))) {
                    format!(
                        "{{ printf '%s\\n' \"{variable}\" | LC_ALL=C grep -Eqx -e \"${}\"; }}",
                        self.value(&ere(&tokens))
                    )
                } else {
                    format!(
                        "{{ case \"{variable}\" in {}) true ;; *) false ;; esac; }}",
                        self.case_pattern(&tokens)
                    )
                }
            }
        }
    }
    fn not(&self, operand: String) -> String {
        format!("! {operand}")
    }
    fn group(&self, text: String) -> String {
        format!("{{ {text}; }}")
    }
}

/// The variable the conditions script reads for `defined(secret.NAME)`: `set` when the
/// secret is set and not empty, else empty (never the secret's value).
pub fn defined_secret_variable(name: &str) -> String {
    format!(
        "CDL_DEFINED_SECRET_{}",
        name.to_uppercase().replace('-', "_")
    )
}

impl Shell {
    /// The body of a `case` pattern for a glob without classes, its literal runs quoted
    /// variables.
    fn case_pattern(&self, tokens: &[Token]) -> String {
        if tokens.is_empty() {
            return "\"\"".into();
        }
        tokens
            .iter()
            .map(|token| match token {
                Token::Star => "*".to_string(),
                Token::One => "?".to_string(),
                Token::Literal(text) => format!("\"${}\"", self.value(text)),
                Token::Class(_) => unreachable!("globs with classes are regular expressions"),
            })
            .collect()
    }
}

/// A POSIX extended regular expression (for `grep -x`, so unanchored) matching what the glob
/// matches: the characters special to an ERE escaped with `\`, a class as a bracket
/// expression with its `-` last.
pub fn ere(tokens: &[Token]) -> String {
    let mut out = String::new();
    for token in tokens {
        match token {
            Token::Star => out.push_str(".*"),
            Token::One => out.push('.'),
            Token::Literal(text) => {
                for c in text.chars() {
                    if "^.[$()|*+?{\\".contains(c) {
                        out.push('\\');
                    }
                    out.push(c);
                }
            }
            Token::Class(class) => bracket(class, &mut out),
        }
    }
    out
}

fn bracket(class: &Class, out: &mut String) {
    out.push('[');
    if class.negated {
        out.push('^');
    }
    // `]` cannot be in a class (it ends it); `-` is literal last, `^` anywhere but first.
    let mut dash = false;
    let mut caret = false;
    let mut body = String::new();
    for &(lo, hi) in &class.ranges {
        match (lo, hi) {
            ('-', '-') => dash = true,
            ('^', '^') => caret = true,
            (lo, hi) if lo == hi => body.push(lo),
            (lo, hi) => body.push_str(&format!("{lo}-{hi}")),
        }
    }
    if caret {
        if body.is_empty() && !dash {
            // `[^]` would be a negation: a class of `^` alone is `[\^]`'s meaning, `\^`.
            out.pop();
            if class.negated {
                out.push_str("[^^]");
            } else {
                out.push_str("\\^");
            }
            if class.repeat {
                out.push('+');
            }
            return;
        }
        body.push('^');
    }
    out.push_str(&body);
    if dash {
        out.push('-');
    }
    out.push(']');
    if class.repeat {
        out.push('+');
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::export::oracle;
    use crate::plan::RunContext;

    /// Runs the test of every oracle condition on `run` with `/bin/sh`; the results in order.
    fn run_all(conditions: &[Condition], run: &RunContext) -> Vec<bool> {
        let mut values = IndexMap::new();
        let mut script = String::new();
        for condition in conditions {
            let test = test(condition, &mut values);
            script.push_str(&format!("if {test}; then echo 1; else echo 0; fi\n"));
        }
        // v2 i14b: the changed files, one a line, in the file `CDL_CHANGED_FILES` names.
        let changed = std::env::temp_dir().join(format!(
            "cdl-shell-changed-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        let files: String = run
            .changed
            .iter()
            .flatten()
            .map(|f| format!("{f}\n"))
            .collect();
        std::fs::write(&changed, files).unwrap();
        let changed_variable = match run.changed {
            Some(_) => changed.display().to_string(),
            None => String::new(),
        };
        let output = std::process::Command::new("/bin/sh")
            .args(["-e", "-c", &script])
            .env("CDL_CHANGED_FILES", changed_variable)
            .env("CDL_EVENT", &run.event)
            .env("CDL_BRANCH", run.branch.as_deref().unwrap_or_default())
            .env("CDL_TAG", run.tag.as_deref().unwrap_or_default())
            .envs(context_variables(run))
            .env_remove("FLAG")
            .envs(run.vars.iter())
            .envs(values.iter().map(|(text, name)| (name, text)))
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout)
            .unwrap()
            .lines()
            .map(|l| l == "1")
            .collect()
    }

    /// v2 i13d: the variables a job (and the conditions script) sees for the new atoms.
    pub fn context_variables(run: &RunContext) -> Vec<(String, String)> {
        let mut variables = vec![
            ("CDL_REPOSITORY".to_string(), run.repository.clone()),
            ("CDL_DEFAULT_BRANCH".to_string(), run.default_branch.clone()),
        ];
        for (name, value) in &run.inputs {
            variables.push((crate::model::inputs::input_variable(name), value.clone()));
        }
        let set = if run.secrets.contains("TOKEN") {
            "set"
        } else {
            ""
        };
        variables.push((defined_secret_variable("TOKEN"), set.to_string()));
        variables
    }

    #[test]
    fn shell_tests_agree_with_cdl_on_every_kind_of_run() {
        let conditions = oracle::conditions();
        for run in oracle::runs() {
            let results = run_all(&conditions, &run);
            assert_eq!(results.len(), conditions.len());
            for (condition, result) in conditions.iter().zip(results) {
                assert_eq!(result, condition.evaluate(&run), "{condition} on {run:?}");
            }
        }
    }

    #[test]
    fn literals_are_read_from_variables() {
        let condition = Condition::And(vec![
            oracle::compare(Variable::Event, CompareOp::Equal, "tag"),
            Condition::Not(Box::new(oracle::compare(
                Variable::Tag,
                CompareOp::Matches,
                "v*-rc*",
            ))),
        ]);
        let mut values = IndexMap::new();
        assert_eq!(
            test(&condition, &mut values),
            "[ \"$CDL_EVENT\" = tag ] && ! { case \"$CDL_TAG\" in \"$CDL_VALUE_1\"*\"$CDL_VALUE_2\"*) true ;; *) false ;; esac; }"
        );
        assert_eq!(values.keys().collect::<Vec<_>>(), ["v", "-rc"]);
        let classes = oracle::compare(Variable::Tag, CompareOp::Matches, "v[0-9]+.[!a-]*");
        let mut values = IndexMap::new();
        assert_eq!(
            test(&classes, &mut values),
            "{ printf '%s\\n' \"$CDL_TAG\" | LC_ALL=C grep -Eqx -e \"$CDL_VALUE_1\"; }"
        );
        assert_eq!(values.keys().collect::<Vec<_>>(), ["v[0-9]+\\.[^a-].*"]);
    }
}
