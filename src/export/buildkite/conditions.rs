//! Conditions as Buildkite `if:` expressions, evaluated when the pipeline is uploaded.
//! Negations are pushed down to the comparisons, so that no `!(…)` is needed.
//!
//! The model of a build: `event` is `schedule` when `build.source` is `schedule`, `manual`
//! when it is `ui`, else `pull_request` when `build.pull_request.id` is set, else `tag` when
//! `build.tag` is set, else `push`. `branch` is `build.branch` except in a tag build (whose
//! `build.branch` is the tag), where it is empty; `tag` is `build.tag`, empty when null.

use crate::export::glob::{self as globs, Token};
use crate::plan::CompareOp;
use crate::plan::Plan;
use crate::plan::TriggerEvent;
use crate::plan::{Condition, Variable};

/// An expression in negation normal form.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    Const(bool),
    Atom(Atom),
    And(Vec<Expr>),
    Or(Vec<Expr>),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Atom {
    /// `FIELD == null` (`null`) or `FIELD != null`.
    Null { field: &'static str, null: bool },
    /// `FIELD == "text"` (`equal`) or `FIELD != "text"`.
    Equals {
        field: &'static str,
        text: String,
        equal: bool,
    },
    /// `FIELD =~ /glob/` (`matching`) or `FIELD !~ /glob/`, anchored.
    Matches {
        field: &'static str,
        glob: String,
        matching: bool,
    },
}

pub const BRANCH: &str = "build.branch";
pub const TAG: &str = "build.tag";
pub const SOURCE: &str = "build.source";
pub const PULL_REQUEST: &str = "build.pull_request.id";
pub const BASE_BRANCH: &str = "build.pull_request.base_branch";

/// A condition's expression, simplified: `Const` when it always or never holds.
pub fn expression(condition: &Condition) -> Expr {
    simplify(translate(condition, false))
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
                    .map(|p| matches(TAG, p, false))
                    .unwrap_or(Expr::Const(true)),
            ),
            TriggerEvent::Schedule => ("schedule", Expr::Const(true)),
            TriggerEvent::Manual => ("manual", Expr::Const(true)),
        };
        any.push(Expr::And(vec![event_is(event, false), filter]));
    }
    if any.is_empty() {
        any.push(event_is("manual", false));
    }
    simplify(Expr::Or(any))
}

/// `field` matches one of the globs; any value when there is none.
fn branch_globs(field: &'static str, globs: &[String]) -> Expr {
    if globs.is_empty() {
        return Expr::Const(true);
    }
    Expr::Or(globs.iter().map(|g| matches(field, g, false)).collect())
}

/// `all` of the parts, or `any` when negated.
fn each(parts: Vec<Expr>, negate: bool) -> Expr {
    if negate {
        Expr::Or(parts)
    } else {
        Expr::And(parts)
    }
}

/// `any` of the parts, or `all` when negated.
fn either(parts: Vec<Expr>, negate: bool) -> Expr {
    if negate {
        Expr::And(parts)
    } else {
        Expr::Or(parts)
    }
}

fn null(field: &'static str, is_null: bool) -> Expr {
    Expr::Atom(Atom::Null {
        field,
        null: is_null,
    })
}

fn equals(field: &'static str, text: &str, negate: bool) -> Expr {
    Expr::Atom(Atom::Equals {
        field,
        text: text.to_string(),
        equal: !negate,
    })
}

/// `field` (never null here) matches the glob.
fn matches(field: &'static str, pattern: &str, negate: bool) -> Expr {
    Expr::Atom(Atom::Matches {
        field,
        glob: pattern.to_string(),
        matching: !negate,
    })
}

/// The condition, negated when `negate`.
fn translate(condition: &Condition, negate: bool) -> Expr {
    match condition {
        Condition::Const(value) => Expr::Const(*value != negate),
        Condition::Not(inner) => translate(inner, !negate),
        Condition::And(items) => each(items.iter().map(|c| translate(c, negate)).collect(), negate),
        Condition::Or(items) => {
            either(items.iter().map(|c| translate(c, negate)).collect(), negate)
        }
        Condition::Compare {
            variable,
            op,
            value,
        } => {
            let negate = negate != (*op == CompareOp::NotEqual);
            match (variable, op) {
                (Variable::Event, _) => event_is(value, negate),
                (Variable::Branch, CompareOp::Matches) => branch_matches(value, negate),
                (Variable::Branch, _) => branch_equals(value, negate),
                (Variable::Tag, CompareOp::Matches) => tag_matches(value, negate),
                (Variable::Tag, _) => tag_equals(value, negate),
            }
        }
    }
}

/// `branch == value`: a branch is empty exactly in a tag build.
fn branch_equals(value: &str, negate: bool) -> Expr {
    if value.is_empty() {
        return null(TAG, negate);
    }
    each(
        vec![null(TAG, !negate), equals(BRANCH, value, negate)],
        negate,
    )
}

fn branch_matches(pattern: &str, negate: bool) -> Expr {
    let in_branch_build = each(
        vec![null(TAG, !negate), matches(BRANCH, pattern, negate)],
        negate,
    );
    if globs::matches_empty(pattern) {
        // The empty branch of a tag build matches too.
        return either(vec![null(TAG, negate), in_branch_build], negate);
    }
    in_branch_build
}

fn tag_equals(value: &str, negate: bool) -> Expr {
    if value.is_empty() {
        return null(TAG, !negate);
    }
    // `build.tag != "v1"` holds when there is no tag as well.
    equals(TAG, value, negate)
}

fn tag_matches(pattern: &str, negate: bool) -> Expr {
    let tagged = each(
        vec![null(TAG, negate), matches(TAG, pattern, negate)],
        negate,
    );
    if globs::matches_empty(pattern) {
        return either(vec![null(TAG, !negate), tagged], negate);
    }
    tagged
}

/// `event == name`, following the precedence of the module comment.
fn event_is(name: &str, negate: bool) -> Expr {
    // Each part as it reads for `event == name`; `negate` turns the whole into its opposite.
    let source_is = |source: &str, is: bool| equals(SOURCE, source, is == negate);
    let is_null = |field: &'static str, is: bool| null(field, is != negate);
    let parts = match name {
        "schedule" => return source_is("schedule", true),
        "manual" => return source_is("ui", true),
        "pull_request" => vec![
            source_is("schedule", false),
            source_is("ui", false),
            is_null(PULL_REQUEST, false),
        ],
        "tag" => vec![
            source_is("schedule", false),
            source_is("ui", false),
            is_null(PULL_REQUEST, true),
            is_null(TAG, false),
        ],
        "push" => vec![
            source_is("schedule", false),
            source_is("ui", false),
            is_null(PULL_REQUEST, true),
            is_null(TAG, true),
        ],
        // The checker accepts only the five events.
        _ => return Expr::Const(negate),
    };
    each(parts, negate)
}

/// Flattens nested `and`/`or`, folds constants and drops repeated operands.
pub fn simplify(expr: Expr) -> Expr {
    let (items, all) = match expr {
        Expr::And(items) => (items, true),
        Expr::Or(items) => (items, false),
        other => return other,
    };
    let mut operands: Vec<Expr> = Vec::new();
    for item in items.into_iter().map(simplify) {
        let flattened = match item {
            Expr::Const(value) if value == all => continue,
            Expr::Const(value) => return Expr::Const(value),
            Expr::And(inner) if all => inner,
            Expr::Or(inner) if !all => inner,
            other => vec![other],
        };
        for operand in flattened {
            if !operands.contains(&operand) {
                operands.push(operand);
            }
        }
    }
    absorb(&mut operands, all);
    match operands.len() {
        0 => Expr::Const(all),
        1 => operands.pop().expect("one operand"),
        _ if all => Expr::And(operands),
        _ => Expr::Or(operands),
    }
}

/// Absorption: in `a || (a && b)` the second operand adds nothing, as does the second of
/// `a && (a || b)`.
fn absorb(operands: &mut Vec<Expr>, all: bool) {
    let parts = |e: &Expr| -> Vec<Expr> {
        match (e, all) {
            (Expr::Or(items), true) | (Expr::And(items), false) => items.clone(),
            (other, _) => vec![other.clone()],
        }
    };
    let mut index = 0;
    while index < operands.len() {
        let own = parts(&operands[index]);
        let redundant = operands.iter().enumerate().any(|(other, e)| {
            other != index && {
                let smaller = parts(e);
                smaller.len() < own.len() && smaller.iter().all(|p| own.contains(p))
            }
        });
        if redundant {
            operands.remove(index);
        } else {
            index += 1;
        }
    }
}

/// The expression as Buildkite writes it; `None` for a constant. Text is written as
/// Buildkite reads it after the pipeline upload's `$` substitution, for which the exporter
/// spells every string; no `$` of the text follows a backslash.
pub fn render(expr: &Expr) -> Option<String> {
    match expr {
        Expr::Const(_) => None,
        _ => Some(render_in(expr, false)),
    }
}

fn render_in(expr: &Expr, nested: bool) -> String {
    match expr {
        Expr::Const(value) => value.to_string(),
        Expr::Atom(atom) => render_atom(atom),
        Expr::And(items) | Expr::Or(items) => {
            let op = if matches!(expr, Expr::And(_)) {
                " && "
            } else {
                " || "
            };
            let text = items
                .iter()
                .map(|e| render_in(e, true))
                .collect::<Vec<_>>()
                .join(op);
            if nested { format!("({text})") } else { text }
        }
    }
}

fn render_atom(atom: &Atom) -> String {
    match atom {
        Atom::Null { field, null } => {
            let op = if *null { "==" } else { "!=" };
            format!("{field} {op} null")
        }
        Atom::Equals { field, text, equal } => {
            if text.contains(['"', '\\']) || text.chars().any(char::is_control) {
                // No escapes in Buildkite's string literals: compare with a regex instead.
                let op = if *equal { "=~" } else { "!~" };
                return format!("{field} {op} {}", literal_regex(text));
            }
            let op = if *equal { "==" } else { "!=" };
            format!("{field} {op} \"{text}\"")
        }
        Atom::Matches {
            field,
            glob: pattern,
            matching,
        } => {
            let op = if *matching { "=~" } else { "!~" };
            format!("{field} {op} {}", regex(pattern))
        }
    }
}

/// An anchored regular expression, written `/…/`, for a cdl glob.
pub fn regex(pattern: &str) -> String {
    let mut out = String::from("/^");
    for token in globs::tokens(pattern) {
        match token {
            Token::Star => out.push_str(".*"),
            Token::One => out.push('.'),
            Token::Literal(text) => regex_escape(&text, &mut out),
        }
    }
    out.push_str("$/");
    out
}

fn literal_regex(text: &str) -> String {
    let mut out = String::from("/^");
    regex_escape(text, &mut out);
    out.push_str("$/");
    out
}

fn regex_escape(text: &str, out: &mut String) {
    for c in text.chars() {
        match c {
            // A `$` as `\x{24}`: the upload would read `\$` as an escaped `$` (see
            // `interpolation`), leaving an anchor.
            '$' => out.push_str("\\x{24}"),
            '\\' | '.' | '+' | '*' | '?' | '(' | ')' | '|' | '[' | ']' | '{' | '}' | '^' | '/'
            | '"' | '\'' => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_control() => out.push_str(&format!("\\x{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::export::oracle::{self, compare};
    use crate::plan::{RunContext, glob_matches};

    /// A Buildkite build's fields for a run, in the model of the module comment; a missing
    /// field is null.
    fn fields(run: &RunContext) -> HashMap<&'static str, String> {
        let mut fields = HashMap::new();
        let source = match run.event.as_str() {
            "schedule" => "schedule",
            "manual" => "ui",
            _ => "webhook",
        };
        fields.insert(SOURCE, source.to_string());
        match (&run.tag, &run.branch) {
            (Some(tag), _) if !tag.is_empty() => {
                fields.insert(TAG, tag.clone());
                fields.insert(BRANCH, tag.clone());
            }
            (_, Some(branch)) => {
                fields.insert(BRANCH, branch.clone());
            }
            _ => {}
        }
        if run.event == "pull_request" {
            fields.insert(PULL_REQUEST, "7".into());
            fields.insert(BASE_BRANCH, "main".into());
        }
        fields
    }

    /// Buildkite's evaluation: null equals only null and matches nothing.
    fn evaluate(expr: &Expr, fields: &HashMap<&'static str, String>) -> bool {
        match expr {
            Expr::Const(value) => *value,
            Expr::And(items) => items.iter().all(|e| evaluate(e, fields)),
            Expr::Or(items) => items.iter().any(|e| evaluate(e, fields)),
            Expr::Atom(Atom::Null { field, null }) => fields.contains_key(field) != *null,
            Expr::Atom(Atom::Equals { field, text, equal }) => {
                (fields.get(field) == Some(text)) == *equal
            }
            Expr::Atom(Atom::Matches {
                field,
                glob,
                matching,
            }) => fields.get(field).is_some_and(|v| glob_matches(glob, v)) == *matching,
        }
    }

    #[test]
    fn expressions_agree_with_cdl_on_every_kind_of_run() {
        oracle::agrees(
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
