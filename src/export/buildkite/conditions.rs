//! Conditions as Buildkite `if:` expressions, evaluated when the pipeline is uploaded.
//! Negations are pushed down to the comparisons, so that no `!(…)` is needed.
//!
//! The model of a build: `event` is `schedule` when `build.source` is `schedule`, `manual`
//! when it is `ui`, else `pull_request` when `build.pull_request.id` is set, else `tag` when
//! `build.tag` is set, else `push`. `branch` is `build.branch` except in a tag build (whose
//! `build.branch` is the tag), where it is empty; `tag` is `build.tag`, empty when null.

use crate::export::condition::{self, Bool, Comparison, FieldTest, Syntax};
use crate::export::glob as globs;
use crate::plan::CompareOp;
use crate::plan::Plan;
use crate::plan::TriggerEvent;
use crate::plan::{Condition, Variable};

/// An expression in negation normal form.
pub type Expr = Bool<Atom>;

/// A test of one of the build's fields: `FIELD == null`, `FIELD == "text"`, `FIELD =~ /…/`.
pub type Atom = FieldTest;

pub const BRANCH: &str = "build.branch";
pub const TAG: &str = "build.tag";
pub const SOURCE: &str = "build.source";
pub const PULL_REQUEST: &str = "build.pull_request.id";
pub const BASE_BRANCH: &str = "build.pull_request.base_branch";

/// A condition's expression, simplified: `Const` when it always or never holds.
pub fn expression(condition: &Condition) -> Expr {
    condition::translate(condition, &mut comparison, &FieldTest::negated)
}

/// When a build of the pipeline runs at all: one of its triggers matches. A pipeline without
/// triggers runs only when started by hand.
pub fn triggers(plan: &Plan) -> Expr {
    let mut any = Vec::new();
    for trigger in &plan.triggers {
        let (event, filter) = match trigger.event {
            TriggerEvent::Push => ("push", branch_globs(BRANCH, &trigger.branches)),
            TriggerEvent::PullRequest => {
                ("pull_request", branch_globs(BASE_BRANCH, &trigger.branches))
            }
            TriggerEvent::Tag => (
                "tag",
                trigger
                    .pattern
                    .as_ref()
                    .map(|p| matches(TAG, p))
                    .unwrap_or(Bool::Const(true)),
            ),
            TriggerEvent::Schedule => ("schedule", Bool::Const(true)),
            TriggerEvent::Manual => ("manual", Bool::Const(true)),
        };
        any.push(Bool::And(vec![event_is(event), filter]));
    }
    if any.is_empty() {
        any.push(event_is("manual"));
    }
    Bool::Or(any).simplify()
}

/// `field` matches one of the globs; any value when there is none.
fn branch_globs(field: &'static str, globs: &[String]) -> Expr {
    if globs.is_empty() {
        return Bool::Const(true);
    }
    Bool::Or(globs.iter().map(|g| matches(field, g)).collect())
}

fn null(field: &str, is_null: bool) -> Expr {
    FieldTest::null(field, is_null)
}

fn equals(field: &str, text: &str) -> Expr {
    FieldTest::equals(field, text)
}

/// `field` (never null here) matches the glob.
fn matches(field: &str, pattern: &str) -> Expr {
    FieldTest::matches(field, pattern)
}

/// One comparison of the condition.
fn comparison(comparison: Comparison) -> Expr {
    let Comparison {
        variable,
        op,
        value,
    } = comparison;
    let expr = match (variable, op) {
        // v2 i13d: the build's environment holds inputs (`CDL_INPUT_<X>`), vars and secrets.
        (Variable::Input(name), _) => {
            let field = format!(
                "build.env(\"{}\")",
                crate::model::inputs::input_variable(&name)
            );
            return condition::text_field(&field, op, &value);
        }
        (Variable::Var(name) | Variable::Secret(name), _) => {
            return condition::text_field(&format!("build.env(\"{name}\")"), op, &value);
        }
        (Variable::Repository, _) => repository(op, &value),
        // v2 i14b: decided before (export::changed): everything counts as changed.
        (Variable::Changed, _) => return Bool::Const(op != CompareOp::NotEqual),
        (Variable::OnDefaultBranch, _) => {
            let on_default = Bool::And(vec![
                null(TAG, true),
                FieldTest::same(BRANCH, "pipeline.default_branch"),
            ]);
            return condition::from_cases(condition::boolean_cases(op, &value), on_default);
        }
        (Variable::Event, _) => event_is(&value),
        (Variable::Branch, CompareOp::Matches) => branch_matches(&value),
        (Variable::Branch, _) => branch_equals(&value),
        (Variable::Tag, CompareOp::Matches) => tag_matches(&value),
        (Variable::Tag, _) => tag_equals(&value),
    };
    if op == CompareOp::NotEqual {
        expr.negate()
    } else {
        expr
    }
}

/// `repository == "owner/name"` (or `matches`): the end of the pipeline's repository URL
/// (`git@host:owner/name.git`, `https://host/owner/name`). The checker allows only the
/// characters of repository names in an `==` value, so it is a glob without metacharacters.
fn repository(op: CompareOp, value: &str) -> Expr {
    let url = "pipeline.repository";
    if op != CompareOp::Matches && value.is_empty() {
        return Bool::Const(false);
    }
    Bool::Or(vec![
        matches(url, &format!("*[:/]{value}")),
        matches(url, &format!("*[:/]{value}.git")),
    ])
}

/// `branch == value`: a branch is empty exactly in a tag build.
fn branch_equals(value: &str) -> Expr {
    if value.is_empty() {
        return null(TAG, false);
    }
    Bool::And(vec![null(TAG, true), equals(BRANCH, value)])
}

fn branch_matches(pattern: &str) -> Expr {
    let in_branch_build = Bool::And(vec![null(TAG, true), matches(BRANCH, pattern)]);
    if globs::matches_empty(pattern) {
        // The empty branch of a tag build matches too.
        return Bool::Or(vec![null(TAG, false), in_branch_build]);
    }
    in_branch_build
}

fn tag_equals(value: &str) -> Expr {
    if value.is_empty() {
        return null(TAG, true);
    }
    // `build.tag != "v1"` holds when there is no tag as well.
    equals(TAG, value)
}

fn tag_matches(pattern: &str) -> Expr {
    let tagged = Bool::And(vec![null(TAG, false), matches(TAG, pattern)]);
    if globs::matches_empty(pattern) {
        return Bool::Or(vec![null(TAG, true), tagged]);
    }
    tagged
}

/// `event == name`, following the precedence of the module comment.
fn event_is(name: &str) -> Expr {
    let source_is = |source: &str, is: bool| {
        let e = equals(SOURCE, source);
        if is { e } else { e.negate() }
    };
    let parts = match name {
        "schedule" => return source_is("schedule", true),
        "manual" => return source_is("ui", true),
        "pull_request" => vec![
            source_is("schedule", false),
            source_is("ui", false),
            null(PULL_REQUEST, false),
        ],
        "tag" => vec![
            source_is("schedule", false),
            source_is("ui", false),
            null(PULL_REQUEST, true),
            null(TAG, false),
        ],
        "push" => vec![
            source_is("schedule", false),
            source_is("ui", false),
            null(PULL_REQUEST, true),
            null(TAG, true),
        ],
        // The checker accepts only the five events.
        _ => return Bool::Const(false),
    };
    Bool::And(parts)
}

/// The expression as Buildkite writes it; `None` for a constant. Text is written as
/// Buildkite reads it after the pipeline upload's `$` substitution, for which the exporter
/// spells every string; no `$` of the text follows a backslash.
pub fn render(expr: &Expr) -> Option<String> {
    match expr {
        Bool::Const(_) => None,
        _ => Some(condition::render(
            &expr.clone().nnf(&FieldTest::negated),
            &Conditional,
        )),
    }
}

/// Buildkite's conditional syntax, written in negation normal form.
struct Conditional;

impl Syntax<Atom> for Conditional {
    fn atom(&self, atom: &Atom) -> String {
        render_atom(atom)
    }
}

fn render_atom(atom: &Atom) -> String {
    match atom {
        FieldTest::Null { field, .. } => format!("{field} {} null", atom.operator(false)),
        FieldTest::Equals { field, text, .. } => {
            if text.contains(['"', '\\']) || text.chars().any(char::is_control) {
                // No escapes in Buildkite's string literals: compare with a regex instead.
                let regex = globs::literal_regex(text, DIALECT);
                return format!("{field} {} {regex}", atom.operator(true));
            }
            format!("{field} {} \"{text}\"", atom.operator(false))
        }
        FieldTest::Matches { field, glob, .. } => {
            let regex = globs::regex(glob, DIALECT);
            format!("{field} {} {regex}", atom.operator(true))
        }
        FieldTest::Same { field, other, .. } => {
            format!("{field} {} {other}", atom.operator(false))
        }
    }
}

const DIALECT: globs::Dialect = globs::Dialect::Buildkite;

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::export::oracle::{self, compare};
    use crate::plan::RunContext;

    /// A Buildkite build's fields for a run, in the model of the module comment; a missing
    /// field is null.
    fn fields(run: &RunContext) -> HashMap<String, String> {
        let mut fields: HashMap<String, String> = HashMap::new();
        // v2 i13d: the repository's URL, the default branch, and the build's environment.
        fields.insert(
            "pipeline.repository".into(),
            format!("git@github.com:{}.git", run.repository),
        );
        fields.insert("pipeline.default_branch".into(), run.default_branch.clone());
        for (name, value) in &run.inputs {
            let variable = crate::model::inputs::input_variable(name);
            fields.insert(format!("build.env(\"{variable}\")"), value.clone());
        }
        for (name, value) in &run.vars {
            fields.insert(format!("build.env(\"{name}\")"), value.clone());
        }
        for name in &run.secrets {
            fields.insert(format!("build.env(\"{name}\")"), "secret value".into());
        }
        let mut insert = |k: &str, v: String| fields.insert(k.to_string(), v);
        let source = match run.event.as_str() {
            "schedule" => "schedule",
            "manual" => "ui",
            _ => "webhook",
        };
        insert(SOURCE, source.to_string());
        match (&run.tag, &run.branch) {
            (Some(tag), _) if !tag.is_empty() => {
                insert(TAG, tag.clone());
                insert(BRANCH, tag.clone());
            }
            (_, Some(branch)) => {
                insert(BRANCH, branch.clone());
            }
            _ => {}
        }
        if run.event == "pull_request" {
            insert(PULL_REQUEST, "7".into());
            insert(BASE_BRANCH, "main".into());
        }
        fields
    }

    /// Buildkite's evaluation: null equals only null and matches nothing.
    fn evaluate(expr: &Expr, fields: &HashMap<String, String>) -> bool {
        expr.evaluate(&|atom| {
            atom.holds(
                |field| fields.get(field).cloned(),
                |g, v| globs::regex_matches(&globs::regex(g, DIALECT), v),
            )
        })
    }

    #[test]
    fn expressions_agree_with_cdl_on_every_kind_of_run() {
        // v2 i14b: `changed()` is decided before, as everything changed.
        oracle::agrees_with(
            |run| run.changed = None,
            |condition, run| evaluate(&expression(condition), &fields(run)),
            |condition| format!("{:?}", render(&expression(condition))),
        );
    }

    #[test]
    fn triggers_select_the_builds_of_the_pipeline() {
        let text = "pipeline p {\n  on push { branches = [\"main\", \"release/*\"] }\n  on tag { pattern = \"v*\" }\n  stage s { job j { run = \"true\" } }\n}\n";
        let compilation = crate::compile::compile_text("p.cdl", None, text.to_string());
        let plan = crate::plan::build(&compilation).expect("plans");
        let guard = triggers(&plan);
        let expected = |run: &RunContext| match run.event.as_str() {
            "push" => {
                let branch = run.branch.as_deref().unwrap_or("");
                branch == "main" || branch.starts_with("release/")
            }
            "tag" => run.tag.as_deref().unwrap_or("").starts_with('v'),
            _ => false,
        };
        for run in oracle::runs() {
            assert_eq!(evaluate(&guard, &fields(&run)), expected(&run), "{run:?}");
        }
        assert_eq!(
            render(&guard).unwrap(),
            "(build.source != \"schedule\" && build.source != \"ui\" && build.pull_request.id == null && build.tag == null && (build.branch =~ /^main$/ || build.branch =~ /^release\\/.*$/)) || (build.source != \"schedule\" && build.source != \"ui\" && build.pull_request.id == null && build.tag != null && build.tag =~ /^v.*$/)"
        );
    }

    #[test]
    fn quotes_fall_back_to_a_regex() {
        assert_eq!(
            render(&expression(&compare(
                Variable::Tag,
                CompareOp::Equal,
                "a\"b"
            )))
            .unwrap(),
            "build.tag =~ /^a\\\"b$/"
        );
        assert_eq!(
            render(&expression(&compare(
                Variable::Branch,
                CompareOp::Equal,
                "main"
            )))
            .unwrap(),
            "build.tag == null && build.branch == \"main\""
        );
    }
}
