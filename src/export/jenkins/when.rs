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
use crate::export::condition::{self, Bool, Comparison};
use crate::export::glob as globs;
use crate::plan::CompareOp;
use crate::plan::{Condition, Variable};

/// How a name is compared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Matcher {
    Equals(String),
    /// A cdl glob, written as an anchored regular expression.
    Glob(String),
}

/// A declarative `when` condition: `allOf`, `anyOf`, `not` and `expression { true }` over
/// the tests.
pub type When = Bool<Test>;

/// One of Jenkins' built-in `when` tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Test {
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
    /// v2 i13d: `expression { return VALUE == 'text' }` (or `==~` a regex): a value of the
    /// build, an unset one read as empty.
    Value(Source, Matcher),
}

/// Where a [`Test::Value`] reads: a parameter (`params.NAME`), an environment variable
/// (`env.NAME`), or the repository's URL (`env.GIT_URL`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Param(String),
    Env(String),
    RepositoryUrl,
}

impl Source {
    fn groovy(&self) -> String {
        match self {
            Source::Param(name) => {
                let key = groovy::string(name);
                format!("(params[{key}] == null ? '' : String.valueOf(params[{key}]))")
            }
            Source::Env(name) => format!("(env[{}] ?: '')", groovy::string(name)),
            Source::RepositoryUrl => "(env.GIT_URL ?: '')".to_string(),
        }
    }
}

fn test(test: Test) -> When {
    Bool::Atom(test)
}

/// The condition as a `when` condition.
pub fn translate(condition: &Condition) -> When {
    condition::lower(condition).map(&mut comparison).simplify()
}

fn comparison(comparison: Comparison) -> When {
    let Comparison {
        variable,
        op,
        value,
    } = comparison;
    let holds = match (variable, op) {
        (Variable::Input(name), _) => value_test(Source::Param(name), op, &value),
        (Variable::Var(name) | Variable::Secret(name), _) => {
            value_test(Source::Env(name), op, &value)
        }
        (Variable::Repository, _) => {
            // The end of the repository's URL as the checkout sets it (`GIT_URL`); the
            // checker allows only the characters of repository names in an `==` value.
            if op != CompareOp::Matches && value.is_empty() {
                Bool::Const(false)
            } else {
                Bool::Or(vec![
                    test(Test::Value(
                        Source::RepositoryUrl,
                        Matcher::Glob(format!("*[:/]{value}")),
                    )),
                    test(Test::Value(
                        Source::RepositoryUrl,
                        Matcher::Glob(format!("*[:/]{value}.git")),
                    )),
                ])
            }
        }
        // Jenkins has no default branch: `main` (the pipeline's own, when it sets one, is
        // substituted in the plan); the exporter reports it.
        (Variable::OnDefaultBranch, _) => {
            let cases = condition::boolean_cases(op, &value);
            return condition::from_cases(cases, branch("main", false));
        }
        // v2 i14b: decided before (export::changed): everything counts as changed.
        (Variable::Changed, _) => return Bool::Const(op != CompareOp::NotEqual),
        (Variable::Event, _) => event(&value),
        (Variable::Branch, CompareOp::Matches) => branch(&value, true),
        (Variable::Branch, _) => branch(&value, false),
        (Variable::Tag, CompareOp::Matches) => tag(&value, true),
        (Variable::Tag, _) => tag(&value, false),
    };
    if op == CompareOp::NotEqual {
        holds.negate()
    } else {
        holds
    }
}

/// A value of the build compared with `value` (`!=` is negated by the caller).
fn value_test(source: Source, op: CompareOp, value: &str) -> When {
    test(Test::Value(
        source,
        matcher(value, op == CompareOp::Matches),
    ))
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
        return test(Test::BuildingTag);
    }
    let named = Bool::Or(vec![
        test(Test::ChangeRequestBranch(matcher(value, glob))),
        Bool::And(vec![
            test(Test::ChangeRequest).negate(),
            test(Test::BuildingTag).negate(),
            test(Test::Branch(matcher(value, glob))),
        ]),
    ]);
    if empty_matches {
        Bool::Or(vec![test(Test::BuildingTag), named])
    } else {
        named
    }
}

/// `tag == value`, or `tag matches value` when `glob`.
fn tag(value: &str, glob: bool) -> When {
    if !glob && value.is_empty() {
        return test(Test::BuildingTag).negate();
    }
    let named = test(Test::Tag(matcher(value, glob)));
    if glob && globs::matches_empty(value) {
        Bool::Or(vec![test(Test::BuildingTag).negate(), named])
    } else {
        named
    }
}

/// `event == name`, following the precedence of the module comment.
fn event(name: &str) -> When {
    let not_timer = || test(Test::TriggeredByTimer).negate();
    let not_user = || test(Test::TriggeredByUser).negate();
    match name {
        "schedule" => test(Test::TriggeredByTimer),
        "manual" => Bool::And(vec![test(Test::TriggeredByUser), not_timer()]),
        "pull_request" => Bool::And(vec![test(Test::ChangeRequest), not_timer(), not_user()]),
        "tag" => Bool::And(vec![test(Test::BuildingTag), not_timer(), not_user()]),
        "push" => Bool::And(vec![
            test(Test::ChangeRequest).negate(),
            test(Test::BuildingTag).negate(),
            not_timer(),
            not_user(),
        ]),
        // The checker accepts only the five events.
        _ => Bool::Const(false),
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
        Bool::Atom(Test::Branch(m)) => Node::line(format!("branch pattern: {}", pattern(m))),
        Bool::Atom(Test::ChangeRequestBranch(m)) => {
            Node::line(format!("changeRequest branch: {}", pattern(m)))
        }
        Bool::Atom(Test::Tag(m)) => Node::line(format!("tag pattern: {}", pattern(m))),
        Bool::Atom(Test::ChangeRequest) => Node::line("changeRequest()"),
        Bool::Atom(Test::BuildingTag) => Node::line("buildingTag()"),
        Bool::Atom(Test::TriggeredByTimer) => Node::line("triggeredBy 'TimerTrigger'"),
        Bool::Atom(Test::TriggeredByUser) => Node::line("triggeredBy cause: 'UserIdCause'"),
        Bool::Atom(Test::Value(source, Matcher::Equals(text))) => Node::line(format!(
            "expression {{ return {} == {} }}",
            source.groovy(),
            groovy::string(text)
        )),
        Bool::Atom(Test::Value(source, Matcher::Glob(glob))) => Node::line(format!(
            "expression {{ return {} ==~ {} }}",
            source.groovy(),
            groovy::string(&regex(glob))
        )),
        Bool::Const(value) => Node::line(format!("expression {{ {value} }}")),
        Bool::Not(inner) => Node::block("not", vec![render(inner)]),
        Bool::And(items) => Node::block("allOf", items.iter().map(render).collect()),
        Bool::Or(items) => Node::block("anyOf", items.iter().map(render).collect()),
    }
}

/// An anchored Java regular expression that matches what the glob matches.
pub fn regex(glob: &str) -> String {
    globs::regex(glob, globs::Dialect::Java)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::export::oracle;
    use crate::plan::RunContext;

    /// What Jenkins knows of a build, in the model of the module comment.
    struct Build {
        /// v2 i13d: the run, for parameters, the environment and `GIT_URL`.
        run: RunContext,
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
            run: run.clone(),
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

    impl Build {
        /// An unset value reads as empty (`?:` and the `null` test of [`Source::groovy`]).
        fn value(&self, source: &Source) -> String {
            match source {
                Source::Param(name) => self.run.inputs.get(name).cloned().unwrap_or_default(),
                Source::Env(name) if self.run.secrets.contains(name) => "secret value".into(),
                Source::Env(name) => self.run.vars.get(name).cloned().unwrap_or_default(),
                Source::RepositoryUrl => format!("https://github.com/{}.git", self.run.repository),
            }
        }
    }

    fn compare(matcher: &Matcher, actual: &str) -> bool {
        match matcher {
            Matcher::Equals(text) => text == actual,
            Matcher::Glob(glob) => globs::regex_matches(&regex(glob), actual),
        }
    }

    fn evaluate(when: &When, b: &Build) -> bool {
        when.evaluate(&|test| match test {
            Test::Branch(m) => compare(m, &b.branch_name),
            Test::ChangeRequestBranch(m) => b.change_branch.as_ref().is_some_and(|c| compare(m, c)),
            Test::Tag(m) => b.tag_name.as_ref().is_some_and(|t| compare(m, t)),
            Test::ChangeRequest => b.change_branch.is_some(),
            Test::BuildingTag => b.tag_name.is_some(),
            Test::TriggeredByTimer => b.timer,
            Test::TriggeredByUser => b.user,
            Test::Value(source, m) => compare(m, &b.value(source)),
        })
    }

    #[test]
    fn when_conditions_agree_with_cdl_on_every_kind_of_build() {
        // Jenkins has no default branch: `main` stands in for it.
        oracle::agrees_with(
            |run| {
                run.default_branch = "main".into();
                // v2 i14b: `changed()` is decided before, as everything changed.
                run.changed = None;
            },
            |condition, run| evaluate(&translate(condition), &build(run)),
            |condition| format!("{:?}", translate(condition)),
        );
    }

    #[test]
    fn regexes_escape_the_literal_parts() {
        assert_eq!(regex("release/*"), "^release/.*$");
        assert_eq!(regex("v?.*"), "^v.\\..*$");
        assert_eq!(
            groovy::render(&[render(&Bool::Atom(Test::Tag(Matcher::Glob("v1.*".into()))))]),
            "tag pattern: '^v1\\\\..*$', comparator: 'REGEXP'\n"
        );
    }
}
