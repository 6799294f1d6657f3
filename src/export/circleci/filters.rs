//! Conditions as CircleCI expressions (job `filters:` and the workflow's `when:`), over the
//! pipeline values `pipeline.git.branch` and `pipeline.git.tag` and two pipeline parameters.
//!
//! The model of a pipeline: `branch` and `tag` are the pipeline values (one of them empty);
//! `event` is `manual` when the parameter `cdl_manual` is true (a run started by hand with
//! it), else `schedule` when `cdl_schedule` is (a scheduled pipeline that sets it), else
//! `tag` when there is a tag, else `push`. CircleCI builds a pull request as pushes to its
//! branch, so `event == pull_request` cannot be told apart. Expressions have `==`, `!=` and
//! `starts-with`, no patterns: a glob is exact only as a literal, a prefix, or `*`.
//!
//! What cannot be expressed is replaced by `true` wherever that makes the job run more
//! often, never less; each replacement is reported.

use crate::export::condition::{self, Bool, Syntax};
use crate::export::glob::{self as globs, Token};
use crate::plan::CompareOp;
use crate::plan::Plan;
use crate::plan::TriggerEvent;
use crate::plan::{Condition, Variable};

pub const BRANCH: &str = "pipeline.git.branch";
pub const TAG: &str = "pipeline.git.tag";
pub const MANUAL: &str = "cdl_manual";
pub const SCHEDULE: &str = "cdl_schedule";

/// An expression over comparisons and parameters.
pub type Expr = Bool<Atom>;

#[derive(Debug, Clone, PartialEq)]
pub enum Atom {
    /// A complete comparison, `pipeline.git.tag == "v1"`.
    Compare(String),
    /// A boolean pipeline parameter, by name.
    Parameter(&'static str),
    /// v2 i13m: a boolean input's pipeline parameter, by name.
    Input(String),
}

fn compare_atom(text: String) -> Expr {
    Bool::Atom(Atom::Compare(text))
}

/// An expression and what it had to widen.
#[derive(Debug, Default)]
pub struct Translation {
    /// The parts of the condition replaced by `true`, as cdl writes them.
    pub widened: Vec<String>,
    /// The pipeline parameters the expression reads.
    pub parameters: Vec<&'static str>,
    /// Whether a run may be started by hand, or by a schedule: otherwise that event never
    /// happens and its parameter is not needed.
    manual: bool,
    schedule: bool,
    /// v2 i13m: the inputs that are pipeline parameters, and whether each is a boolean one.
    inputs: Vec<(String, bool)>,
}

impl Translation {
    /// A translation for the pipeline's triggers: runs are started by hand only with
    /// `on manual` or without triggers, and by a schedule only with `on schedule`.
    pub fn new(plan: &Plan) -> Translation {
        let has = |event: TriggerEvent| plan.triggers.iter().any(|t| t.event == event);
        Translation {
            manual: plan.triggers.is_empty() || has(TriggerEvent::Manual),
            schedule: has(TriggerEvent::Schedule),
            inputs: plan
                .inputs
                .iter()
                .map(|i| (i.name.clone(), super::inputs::is_boolean(i)))
                .collect(),
            ..Translation::default()
        }
    }

    fn parameter(&mut self, name: &'static str) -> Expr {
        let possible = if name == MANUAL {
            self.manual
        } else {
            self.schedule
        };
        if !possible {
            return Bool::Const(false);
        }
        if !self.parameters.contains(&name) {
            self.parameters.push(name);
        }
        Bool::Atom(Atom::Parameter(name))
    }

    /// The condition as an expression that holds whenever it does (and exactly when
    /// nothing was widened).
    pub fn condition(&mut self, condition: &Condition) -> Expr {
        self.translate(condition, true).simplify()
    }

    /// `positive`: whether the node is under an even number of negations, so that a part
    /// replaced by `true` there (by `false` under a negation) only widens the whole.
    fn translate(&mut self, condition: &Condition, positive: bool) -> Expr {
        match condition {
            Condition::Const(value) => Bool::Const(*value),
            Condition::Not(inner) => Bool::Not(Box::new(self.translate(inner, !positive))),
            Condition::And(items) => {
                Bool::And(items.iter().map(|c| self.translate(c, positive)).collect())
            }
            Condition::Or(items) => {
                Bool::Or(items.iter().map(|c| self.translate(c, positive)).collect())
            }
            Condition::Compare {
                variable,
                op,
                value,
            } => {
                let expr = match variable {
                    Variable::Event => self.event(value),
                    Variable::Branch => compare(BRANCH, *op, value),
                    Variable::Tag => compare(TAG, *op, value),
                    // v2 i13m: an input's pipeline parameter.
                    Variable::Input(name) => self.input(name, *op, value),
                    // v2 i13d: CircleCI's expressions cannot read these; widened (reported).
                    Variable::Repository
                    | Variable::OnDefaultBranch
                    | Variable::Var(_)
                    | Variable::Secret(_)
                    | Variable::Changed => None,
                };
                let expr = match (expr, op) {
                    (Some(expr), CompareOp::NotEqual) if *variable == Variable::Event => {
                        Some(expr.negate())
                    }
                    (expr, _) => expr,
                };
                expr.unwrap_or_else(|| {
                    self.widened.push(condition.to_string());
                    Bool::Const(positive)
                })
            }
        }
    }

    /// v2 i13m: a comparison of an input: a boolean parameter is tested as one, any other
    /// compared as text. `None` for an input that is no parameter, or whose name holds `-`
    /// (an operator in an expression).
    fn input(&self, name: &str, op: CompareOp, value: &str) -> Option<Expr> {
        let (_, boolean) = self.inputs.iter().find(|(n, _)| n == name)?;
        if name.contains('-') {
            return None;
        }
        let parameter = super::inputs::parameter(name);
        if *boolean {
            let cases = crate::model::condition::boolean_cases(op, value);
            return Some(condition::from_cases(
                cases,
                Bool::Atom(Atom::Input(parameter)),
            ));
        }
        compare(&format!("pipeline.parameters.{parameter}"), op, value)
    }

    /// `event == name`; `None` for `pull_request`.
    fn event(&mut self, name: &str) -> Option<Expr> {
        let manual = self.parameter(MANUAL);
        let not = |e: Expr| Bool::Not(Box::new(e));
        Some(match name {
            "manual" => manual,
            "schedule" => Bool::And(vec![not(manual), self.parameter(SCHEDULE)]),
            "tag" | "push" => {
                let schedule = self.parameter(SCHEDULE);
                let op = if name == "tag" { "!=" } else { "==" };
                Bool::And(vec![
                    not(manual),
                    not(schedule),
                    compare_atom(format!("{TAG} {op} \"\"")),
                ])
            }
            _ => return None,
        })
    }

    /// When a pipeline runs the workflow: one of its triggers matches.
    pub fn triggers(&mut self, plan: &Plan) -> Expr {
        let mut any = Vec::new();
        for trigger in &plan.triggers {
            let expr = match trigger.event {
                TriggerEvent::Push | TriggerEvent::PullRequest => {
                    let event = self.event("push").expect("push is expressible");
                    let branches = if trigger.event == TriggerEvent::Push {
                        trigger.branches.as_slice()
                    } else {
                        // A pull request is built as pushes to its (source) branch.
                        &[]
                    };
                    let mut alternatives = Vec::new();
                    for pattern in branches {
                        alternatives.push(
                            compare(BRANCH, CompareOp::Matches, pattern).unwrap_or_else(|| {
                                self.widened.push(format!("branch matches {pattern:?}"));
                                Bool::Const(true)
                            }),
                        );
                    }
                    if alternatives.is_empty() {
                        alternatives.push(Bool::Const(true));
                    }
                    Bool::And(vec![event, Bool::Or(alternatives)])
                }
                TriggerEvent::Tag => {
                    let event = self.event("tag").expect("tag is expressible");
                    let pattern = match &trigger.pattern {
                        None => Bool::Const(true),
                        Some(pattern) => {
                            compare(TAG, CompareOp::Matches, pattern).unwrap_or_else(|| {
                                self.widened.push(format!("tag matches {pattern:?}"));
                                Bool::Const(true)
                            })
                        }
                    };
                    Bool::And(vec![event, pattern])
                }
                TriggerEvent::Schedule => self.event("schedule").expect("schedule is expressible"),
                TriggerEvent::Manual => self.parameter(MANUAL),
            };
            any.push(expr);
        }
        if any.is_empty() {
            any.push(self.parameter(MANUAL));
        }
        Bool::Or(any).simplify()
    }
}

/// `field OP value` for a branch or tag; `None` when the glob has no exact expression, or
/// the text cannot be written in a filter (see [`literal`]).
fn compare(field: &str, op: CompareOp, value: &str) -> Option<Expr> {
    let text = |t: &str| Some(compare_atom(format!("{field} == {}", literal(t)?)));
    match op {
        CompareOp::Equal => text(value),
        CompareOp::NotEqual => Some(compare_atom(format!("{field} != {}", literal(value)?))),
        CompareOp::Matches => match globs::tokens(value).as_slice() {
            [] => text(""),
            [Token::Star] => Some(Bool::Const(true)),
            [Token::Literal(exact)] => text(exact),
            [Token::Literal(prefix), Token::Star] => Some(compare_atom(format!(
                "{field} starts-with {}",
                literal(prefix)?
            ))),
            _ => None,
        },
    }
}

/// A string literal: `"` and `\` escaped with `\`. `None` for text holding `<<`, which
/// CircleCI's schema refuses anywhere in a filter or `when` expression (`<<.*>>`: no
/// parameters there, and `\<<` is no escape in an expression string), or a control
/// character, which an expression string cannot hold.
pub fn literal(text: &str) -> Option<String> {
    if text.contains("<<") || text.chars().any(char::is_control) {
        return None;
    }
    let mut out = String::from("\"");
    for c in text.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    Some(out)
}

/// The expression as CircleCI reads it. `not` binds tighter than a comparison, so what it
/// negates is parenthesised unless it is a parameter.
pub fn render(expr: &Expr) -> String {
    condition::render(expr, &Circle)
}

/// CircleCI's logic statements: `and`, `or`, `not`.
struct Circle;

impl Syntax<Atom> for Circle {
    fn atom(&self, atom: &Atom) -> String {
        match atom {
            Atom::Compare(text) => text.clone(),
            Atom::Parameter(name) => format!("pipeline.parameters.{name}"),
            Atom::Input(name) => format!("pipeline.parameters.{name}"),
        }
    }
    fn and(&self) -> &'static str {
        " and "
    }
    fn or(&self) -> &'static str {
        " or "
    }
    fn not(&self, operand: String) -> String {
        format!("not {operand}")
    }
    fn atom_binds(&self, atom: &Atom) -> u8 {
        match atom {
            Atom::Compare(_) => 2,
            Atom::Parameter(_) | Atom::Input(_) => 3,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::export::oracle;
    use crate::plan::RunContext;

    /// CircleCI's evaluation of an expression for a run, in the model of the module comment
    /// (a pull request being a push).
    fn evaluate(expr: &Expr, run: &RunContext) -> bool {
        let branch = run.branch.as_deref().unwrap_or("");
        let tag = run.tag.as_deref().unwrap_or("");
        expr.evaluate(&|atom| match atom {
            Atom::Parameter(name) => match *name {
                MANUAL => run.event == "manual",
                _ => run.event == "schedule",
            },
            // v2 i13m: an input's parameter holds the run's value.
            Atom::Input(name) => input(run, name) == "true",
            Atom::Compare(text) => {
                let (field, rest) = text.split_once(' ').unwrap();
                let value_of_input;
                let actual = match field.strip_prefix("pipeline.parameters.") {
                    Some(name) => {
                        value_of_input = input(run, name);
                        value_of_input.as_str()
                    }
                    None if field == BRANCH => branch,
                    None => tag,
                };
                let (op, value) = rest.split_once(' ').unwrap();
                let value: String = serde_json::from_str(value).unwrap();
                match op {
                    "==" => actual == value,
                    "!=" => actual != value,
                    "starts-with" => actual.starts_with(&value),
                    other => panic!("{other}"),
                }
            }
        })
    }

    /// The run's value of the input whose parameter is `parameter`.
    fn input(run: &RunContext, parameter: &str) -> String {
        let name = parameter.strip_prefix("input_").unwrap();
        run.inputs.get(name).cloned().unwrap_or_default()
    }

    /// Whether CircleCI can say a comparison exactly: not `event == pull_request`, and a
    /// glob only as a literal, a prefix or `*`.
    fn expressible(condition: &Condition) -> bool {
        match condition {
            Condition::Const(_) => true,
            Condition::Not(inner) => expressible(inner),
            Condition::And(items) | Condition::Or(items) => items.iter().all(expressible),
            Condition::Compare {
                variable: Variable::Event,
                value,
                ..
            } => value != "pull_request",
            // v2 i13m: `dry_run` is a boolean parameter, `target` a text one.
            Condition::Compare {
                variable: Variable::Input(name),
                ..
            } if name == "dry_run" => true,
            // v2 i13d: widened (CircleCI's expressions cannot read them).
            Condition::Compare {
                variable:
                    Variable::Repository
                    | Variable::OnDefaultBranch
                    | Variable::Var(_)
                    | Variable::Secret(_)
                    | Variable::Changed,
                ..
            } => false,
            Condition::Compare {
                op: CompareOp::Matches,
                value,
                ..
            } => matches!(
                globs::tokens(value).as_slice(),
                [] | [Token::Star] | [Token::Literal(_)] | [Token::Literal(_), Token::Star]
            ),
            Condition::Compare { .. } => true,
        }
    }

    /// The shared oracle, on every run CircleCI can tell apart (a pull request is built as a
    /// push): exact where nothing was widened, never narrower where something was.
    #[test]
    fn expressions_agree_with_cdl_or_widen_and_say_so() {
        let runs: Vec<RunContext> = oracle::runs()
            .into_iter()
            .filter(|r| r.event != "pull_request")
            .collect();
        for condition in &oracle::conditions() {
            let mut translation = Translation {
                manual: true,
                schedule: true,
                inputs: vec![("target".into(), false), ("dry_run".into(), true)],
                ..Translation::default()
            };
            let expr = translation.condition(condition);
            for run in &runs {
                let (exported, cdl) = (evaluate(&expr, run), condition.evaluate(run));
                if translation.widened.is_empty() {
                    assert_eq!(exported, cdl, "{condition} on {run:?}: {}", render(&expr));
                } else {
                    assert!(exported || !cdl, "{condition} narrowed on {run:?}");
                }
            }
            assert_eq!(
                translation.widened.is_empty(),
                expressible(condition),
                "{condition}"
            );
        }
    }

    #[test]
    fn not_binds_tighter_than_comparisons() {
        let condition = Condition::Not(Box::new(Condition::And(vec![
            Condition::Compare {
                variable: Variable::Branch,
                op: CompareOp::Equal,
                value: "main".into(),
            },
            Condition::Compare {
                variable: Variable::Tag,
                op: CompareOp::Matches,
                value: "v*".into(),
            },
        ])));
        let expr = Translation::default().condition(&condition);
        assert_eq!(
            render(
                &Bool::Or(vec![
                    compare_atom("a".into()),
                    Bool::And(vec![compare_atom("a".into()), compare_atom("b".into())]),
                ])
                .simplify()
            ),
            "a"
        );
        assert_eq!(
            render(&expr),
            "not (pipeline.git.branch == \"main\" and pipeline.git.tag starts-with \"v\")"
        );
    }
}
