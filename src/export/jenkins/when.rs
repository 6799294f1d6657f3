//! Conditions as declarative `when` conditions: `branch`, `tag`, `changeRequest`,
//! `buildingTag`, `triggeredBy`, combined with `allOf`, `anyOf` and `not`.
//!
//! The model of a build of a multibranch project: `event` is `schedule` when the build was
//! triggered by its `cron` (`TimerTrigger`), else `manual` when a user started it
//! (`UserIdCause`), else `pull_request` for a change request, else `tag` for a tag, else
//! `push`. `branch` is a change request's source branch (`CHANGE_BRANCH`), empty for a tag,
//! and the branch's name (`BRANCH_NAME`) otherwise; `tag` is `TAG_NAME`, empty when unset.
//! Jenkins's own `branch` condition reads `BRANCH_NAME`, which is `PR-7` for a change request
//! and the tag's name for a tag, so it is used only for the builds of a branch.

use super::groovy::{self, Node};
use crate::export::glob::{self as globs, Token};
use crate::plan::CompareOp;
use crate::plan::{Condition, Variable};

/// How a name is compared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Matcher {
    Equals(String),
    /// A cdl glob, written as an anchored regular expression.
    Glob(String),
}

/// A declarative `when` condition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum When {
    /// `branch`: `BRANCH_NAME` matches.
    Branch(Matcher),
    /// `changeRequest branch:`: a change request whose source branch matches.
    ChangeRequestBranch(Matcher),
    /// `tag`: `TAG_NAME` is set and matches.
    Tag(Matcher),
    ChangeRequest,
    BuildingTag,
    TriggeredByTimer,
    TriggeredByUser,
    /// `expression { true }` or `expression { false }`.
    Constant(bool),
    Not(Box<When>),
    AllOf(Vec<When>),
    AnyOf(Vec<When>),
}

fn not(when: When) -> When {
    match when {
        When::Not(inner) => *inner,
        When::Constant(value) => When::Constant(!value),
        other => When::Not(Box::new(other)),
    }
}

/// The condition as a `when` condition.
pub fn translate(condition: &Condition) -> When {
    flatten(translate_node(condition))
}

fn translate_node(condition: &Condition) -> When {
    match condition {
        Condition::Const(value) => When::Constant(*value),
        Condition::Not(inner) => not(translate_node(inner)),
        Condition::And(items) => When::AllOf(items.iter().map(translate_node).collect()),
        Condition::Or(items) => When::AnyOf(items.iter().map(translate_node).collect()),
        Condition::Compare {
            variable,
            op,
            value,
        } => {
            let holds = match (variable, op) {
                (Variable::Event, _) => event(value),
                (Variable::Branch, CompareOp::Matches) => branch(value, true),
                (Variable::Branch, _) => branch(value, false),
                (Variable::Tag, CompareOp::Matches) => tag(value, true),
                (Variable::Tag, _) => tag(value, false),
            };
            if *op == CompareOp::NotEqual {
                not(holds)
            } else {
                holds
            }
        }
    }
}

/// Merges an `allOf` into the `allOf` around it (and an `anyOf` into an `anyOf`), and
/// unwraps a list of one.
fn flatten(when: When) -> When {
    match when {
        When::Not(inner) => not(flatten(*inner)),
        When::AllOf(items) | When::AnyOf(items) if items.len() == 1 => {
            flatten(items.into_iter().next().expect("one item"))
        }
        When::AllOf(items) => When::AllOf(
            items
                .into_iter()
                .map(flatten)
                .flat_map(|w| match w {
                    When::AllOf(inner) => inner,
                    other => vec![other],
                })
                .collect(),
        ),
        When::AnyOf(items) => When::AnyOf(
            items
                .into_iter()
                .map(flatten)
                .flat_map(|w| match w {
                    When::AnyOf(inner) => inner,
                    other => vec![other],
                })
                .collect(),
        ),
        other => other,
    }
}

fn matcher(value: &str, glob: bool) -> Matcher {
    if glob {
        Matcher::Glob(value.to_string())
    } else {
        Matcher::Equals(value.to_string())
    }
}

/// `branch == value`, or `branch matches value` when `glob`.
fn branch(value: &str, glob: bool) -> When {
    let empty_matches = if glob {
        globs::matches_empty(value)
    } else {
        value.is_empty()
    };
    if !glob && value.is_empty() {
        // Only a tag's build has no branch.
        return When::BuildingTag;
    }
    let named = When::AnyOf(vec![
        When::ChangeRequestBranch(matcher(value, glob)),
        When::AllOf(vec![
            not(When::ChangeRequest),
            not(When::BuildingTag),
            When::Branch(matcher(value, glob)),
        ]),
    ]);
    if empty_matches {
        When::AnyOf(vec![When::BuildingTag, named])
    } else {
        named
    }
}

/// `tag == value`, or `tag matches value` when `glob`.
fn tag(value: &str, glob: bool) -> When {
    if !glob && value.is_empty() {
        return not(When::BuildingTag);
    }
    let named = When::Tag(matcher(value, glob));
    if glob && globs::matches_empty(value) {
        When::AnyOf(vec![not(When::BuildingTag), named])
    } else {
        named
    }
}

/// `event == name`, following the precedence of the module comment.
fn event(name: &str) -> When {
    let not_timer = || not(When::TriggeredByTimer);
    let not_user = || not(When::TriggeredByUser);
    match name {
        "schedule" => When::TriggeredByTimer,
        "manual" => When::AllOf(vec![When::TriggeredByUser, not_timer()]),
        "pull_request" => When::AllOf(vec![When::ChangeRequest, not_timer(), not_user()]),
        "tag" => When::AllOf(vec![When::BuildingTag, not_timer(), not_user()]),
        "push" => When::AllOf(vec![
            not(When::ChangeRequest),
            not(When::BuildingTag),
            not_timer(),
            not_user(),
        ]),
        // The checker accepts only the five events.
        _ => When::Constant(false),
    }
}

/// The arguments of a `branch`, `tag` or `changeRequest branch:` condition.
fn pattern(matcher: &Matcher) -> String {
    match matcher {
        Matcher::Equals(text) => format!("{}, comparator: 'EQUALS'", groovy::string(text)),
        Matcher::Glob(glob) => format!("{}, comparator: 'REGEXP'", groovy::string(&regex(glob))),
    }
}

/// The condition as the nodes of a `when` block.
pub fn render(when: &When) -> Node {
    match when {
        When::Branch(m) => Node::line(format!("branch pattern: {}", pattern(m))),
        When::ChangeRequestBranch(m) => Node::line(format!("changeRequest branch: {}", pattern(m))),
        When::Tag(m) => Node::line(format!("tag pattern: {}", pattern(m))),
        When::ChangeRequest => Node::line("changeRequest()"),
        When::BuildingTag => Node::line("buildingTag()"),
        When::TriggeredByTimer => Node::line("triggeredBy 'TimerTrigger'"),
        When::TriggeredByUser => Node::line("triggeredBy cause: 'UserIdCause'"),
        When::Constant(value) => Node::line(format!("expression {{ {value} }}")),
        When::Not(inner) => Node::block("not", vec![render(inner)]),
        When::AllOf(items) => Node::block("allOf", items.iter().map(render).collect()),
        When::AnyOf(items) => Node::block("anyOf", items.iter().map(render).collect()),
    }
}

/// An anchored Java regular expression that matches what the glob matches.
pub fn regex(glob: &str) -> String {
    let mut out = String::from("^");
    for token in globs::tokens(glob) {
        match token {
            Token::Star => out.push_str(".*"),
            Token::One => out.push('.'),
            Token::Literal(text) => {
                for c in text.chars() {
                    if "\\.[]{}()*+?^$|".contains(c) {
                        out.push('\\');
                    }
                    out.push(c);
                }
            }
        }
    }
    out.push('$');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::export::oracle;
    use crate::plan::{RunContext, glob_matches};

    /// What Jenkins knows of a build, in the model of the module comment.
    struct Build {
        branch_name: String,
        change_branch: Option<String>,
        tag_name: Option<String>,
        timer: bool,
        user: bool,
    }

    fn build(run: &RunContext) -> Build {
        let branch = run.branch.clone().unwrap_or_default();
        let tag = run.tag.clone().filter(|t| !t.is_empty());
        let change = run.event == "pull_request";
        Build {
            branch_name: match (&tag, change) {
                (Some(tag), _) => tag.clone(),
                (None, true) => "PR-7".into(),
                (None, false) => branch.clone(),
            },
            change_branch: change.then_some(branch),
            tag_name: tag,
            timer: run.event == "schedule",
            user: run.event == "manual",
        }
    }

    fn compare(matcher: &Matcher, actual: &str) -> bool {
        match matcher {
            Matcher::Equals(text) => text == actual,
            Matcher::Glob(glob) => glob_matches(glob, actual),
        }
    }

    fn evaluate(when: &When, b: &Build) -> bool {
        match when {
            When::Branch(m) => compare(m, &b.branch_name),
            When::ChangeRequestBranch(m) => b.change_branch.as_ref().is_some_and(|c| compare(m, c)),
            When::Tag(m) => b.tag_name.as_ref().is_some_and(|t| compare(m, t)),
            When::ChangeRequest => b.change_branch.is_some(),
            When::BuildingTag => b.tag_name.is_some(),
            When::TriggeredByTimer => b.timer,
            When::TriggeredByUser => b.user,
            When::Constant(value) => *value,
            When::Not(inner) => !evaluate(inner, b),
            When::AllOf(items) => items.iter().all(|w| evaluate(w, b)),
            When::AnyOf(items) => items.iter().any(|w| evaluate(w, b)),
        }
    }

    #[test]
    fn when_conditions_agree_with_cdl_on_every_kind_of_build() {
        oracle::agrees(
            |condition, run| evaluate(&translate(condition), &build(run)),
            |condition| format!("{:?}", translate(condition)),
        );
    }

    #[test]
    fn regexes_escape_the_literal_parts() {
        assert_eq!(regex("release/*"), "^release/.*$");
        assert_eq!(regex("v?.*"), "^v.\\..*$");
        assert_eq!(
            groovy::render(&[render(&When::Tag(Matcher::Glob("v1.*".into())))]),
            "tag pattern: '^v1\\\\..*$', comparator: 'REGEXP'\n"
        );
    }
}
