//! Words people bring from GitHub Actions, GitLab CI, CircleCI, Jenkins and Buildkite, and
//! the cdl word for each: one table, read where an attribute or a condition variable is
//! unknown. A diagnostic names both words on one line and, when the rewrite is exact, carries
//! it as a suggested edit (the editor's quick fix).

use crate::codes::Code;
use crate::diagnostic::Diagnostic;
use crate::span::Span;
use crate::syntax::ast::{Attribute, CompareOp, Expr, ExprKind};
use crate::syntax::literal::quote;

/// The CI systems whose words the table knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum System {
    GitHub,
    GitLab,
    CircleCi,
    Jenkins,
    Buildkite,
}

impl System {
    fn possessive(self) -> &'static str {
        match self {
            System::GitHub => "GitHub's",
            System::GitLab => "GitLab's",
            System::CircleCi => "CircleCI's",
            System::Jenkins => "Jenkins'",
            System::Buildkite => "Buildkite's",
        }
    }
}

/// The block a foreign word was written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    /// A job, test, deploy or artifact.
    Job,
    Pipeline,
    /// `on push { }` or `on pull_request { }`.
    BranchTrigger,
    Other,
}

/// How a foreign attribute is written in cdl.
#[derive(Debug, Clone, Copy)]
pub enum Translation {
    /// The same value under another name.
    Rename(&'static str),
    /// A list of names (quoted or not) under another name: `needs = ["a"]` → `after = [a]`.
    Names(&'static str),
    /// An integer of minutes as a duration: `timeout-minutes = 30` → `timeout = 30m`.
    Minutes(&'static str),
    /// One string, alone or in a list: `tags = ["docker"]` → `runner = "docker"`.
    OneString(&'static str),
    /// GitLab's `only` (`true`) or `except` (`false`) list of refs as a `when` condition.
    Refs { only: bool },
    /// No exact rewrite: the cdl construct, and how to write it.
    Advice(&'static str, &'static str),
}

/// One row of the table.
#[derive(Debug, Clone, Copy)]
pub struct Foreign {
    pub word: &'static str,
    pub from: &'static [System],
    pub place: Place,
    pub cdl: Translation,
}

use Place::{BranchTrigger, Job, Pipeline};
use System::{Buildkite, CircleCi, GitHub, GitLab, Jenkins};
use Translation::{Advice, Minutes, Names, OneString, Refs, Rename};

const fn row(
    word: &'static str,
    from: &'static [System],
    place: Place,
    cdl: Translation,
) -> Foreign {
    Foreign {
        word,
        from,
        place,
        cdl,
    }
}

const STEPS: Translation = Advice(
    "`run`",
    "list the shell commands: `run = [\"make\", \"make test\"]` (cdl runs commands, not actions)",
);
const MATRIX: Translation = Advice(
    "a `matrix` block",
    "write `matrix { VERSION = [\"1.22\", \"1.23\"] }` in the job; each combination is one job",
);
const ARTIFACTS: Translation = Advice(
    "an `artifact` job",
    "declare what is built once: `artifact app { run = \"make\"; outputs = [\"dist/\"] }`, \
     and read it with `uses = [app]`",
);
const VARIABLES: Translation = Advice(
    "an `env` block",
    "write `env { NAME = \"value\" }` in the job or the pipeline",
);
const RUNNER: Translation = Advice(
    "`runner`",
    "name the machine label: `runner = \"ubuntu-latest\"`",
);

/// Every foreign word cdl recognises, by the block it is written in.
pub const TABLE: &[Foreign] = &[
    row("needs", &[GitHub, GitLab], Job, Names("after")),
    row("depends_on", &[Buildkite], Job, Names("after")),
    row("requires", &[CircleCi], Job, Names("after")),
    row("dependencies", &[GitLab], Job, Names("uses")),
    row("script", &[GitLab], Job, Rename("run")),
    row("command", &[Buildkite], Job, Rename("run")),
    row("commands", &[Buildkite], Job, Rename("run")),
    row("sh", &[Jenkins], Job, Rename("run")),
    row("steps", &[GitHub, CircleCi, Jenkins], Job, STEPS),
    row(
        "before_script",
        &[GitLab],
        Job,
        Advice(
            "`run`",
            "put these commands first in `run`: `run = [\"setup\", \"make\"]`",
        ),
    ),
    row(
        "after_script",
        &[GitLab],
        Job,
        Advice(
            "`run`",
            "put these commands last in `run`, or in a job that comes `after` this one",
        ),
    ),
    row("if", &[GitHub], Job, Rename("when")),
    row(
        "rules",
        &[GitLab],
        Job,
        Advice(
            "`when`",
            "write the condition: `when = branch == \"main\" || event == tag`",
        ),
    ),
    row("only", &[GitLab], Job, Refs { only: true }),
    row("except", &[GitLab], Job, Refs { only: false }),
    row("tags", &[GitLab], Job, OneString("runner")),
    row("runs-on", &[GitHub], Job, OneString("runner")),
    row("agents", &[Buildkite], Job, RUNNER),
    row("agent", &[Jenkins], Job, RUNNER),
    row("resource_class", &[CircleCi], Job, RUNNER),
    row("container", &[GitHub], Job, OneString("image")),
    row(
        "docker",
        &[CircleCi],
        Job,
        Advice("`image`", "name the image: `image = \"golang:1.23\"`"),
    ),
    row(
        "services",
        &[GitHub, GitLab],
        Job,
        Advice(
            "nothing",
            "cdl has no service containers: start the service in `run` (`docker run -d …`), \
             or use a runner that provides it",
        ),
    ),
    row(
        "with",
        &[GitHub],
        Job,
        Advice(
            "an `env` block",
            "cdl runs commands, not actions; give a job values with `env { NAME = \"value\" }`",
        ),
    ),
    row(
        "environment",
        &[GitHub, GitLab],
        Job,
        Advice(
            "a `deploy` job",
            "a job reaches an environment by deploying to it: `deploy app to production { … }`",
        ),
    ),
    row("variables", &[GitLab], Job, VARIABLES),
    row(
        "stage",
        &[GitLab],
        Job,
        Advice(
            "a `stage` block",
            "write the job inside its stage: `stage build { job compile { … } }`",
        ),
    ),
    row("continue-on-error", &[GitHub], Job, Rename("allow_failure")),
    row("soft_fail", &[Buildkite], Job, Rename("allow_failure")),
    row("timeout-minutes", &[GitHub], Job, Minutes("timeout")),
    row("timeout_in_minutes", &[Buildkite], Job, Minutes("timeout")),
    row("retry", &[GitLab, Buildkite], Job, Rename("retries")),
    row("parallel", &[GitLab], Job, MATRIX),
    row("parallelism", &[CircleCi], Job, MATRIX),
    row("strategy", &[GitHub], Job, MATRIX),
    row("artifacts", &[GitLab], Job, ARTIFACTS),
    row("artifact_paths", &[Buildkite], Job, ARTIFACTS),
    row(
        "cache",
        &[GitLab, CircleCi],
        Job,
        Advice(
            "nothing",
            "cdl has no cache: build once in an `artifact` job and read it with `uses`",
        ),
    ),
    row("variables", &[GitLab], Pipeline, VARIABLES),
    row(
        "stages",
        &[GitLab],
        Pipeline,
        Advice(
            "the order of the `stage` blocks",
            "declare each stage in order: `stage build { … }` then `stage test { … }`",
        ),
    ),
    row("runs-on", &[GitHub], Pipeline, OneString("runner")),
    row("container", &[GitHub], Pipeline, OneString("image")),
    row(
        "tags",
        &[GitHub],
        BranchTrigger,
        Advice(
            "`on tag`",
            "a tag push is a trigger of its own: `on tag { pattern = \"v*\" }`",
        ),
    ),
    row(
        "branches-ignore",
        &[GitHub],
        BranchTrigger,
        Advice(
            "`when`",
            "list the branches that start a run in `branches`, or skip jobs with \
             `when = branch != \"…\"`",
        ),
    ),
    // v2 i14a: `paths` is cdl's own now; GitHub's `paths-ignore` is `paths_ignore`.
    row(
        "paths-ignore",
        &[GitHub],
        BranchTrigger,
        Rename("paths_ignore"),
    ),
];

/// Trigger events of the other systems, and the cdl trigger for each.
pub const TRIGGERS: &[(&str, System, &str)] = &[
    ("workflow_dispatch", GitHub, "manual"),
    ("repository_dispatch", GitHub, "manual"),
    ("pull_request_target", GitHub, "pull_request"),
    ("release", GitHub, "tag"),
    ("merge_request", GitLab, "pull_request"),
    ("merge_request_event", GitLab, "pull_request"),
    ("web", GitLab, "manual"),
    ("api", GitLab, "manual"),
    ("schedules", GitLab, "schedule"),
    ("tags", GitLab, "tag"),
];

/// "GitHub's `workflow_dispatch` is `on manual` in cdl", for another system's trigger.
pub fn trigger(event: &str) -> Option<(String, &'static str)> {
    TRIGGERS
        .iter()
        .find(|(word, _, _)| *word == event)
        .map(|(word, system, cdl)| {
            (
                format!("{} `{word}` is `on {cdl}` in cdl", system.possessive()),
                *cdl,
            )
        })
}

/// "GitHub's", "GitHub's and GitLab's", "GitHub's, CircleCI's and Jenkins'".
fn origin(from: &[System]) -> String {
    let names: Vec<&str> = from.iter().map(|s| s.possessive()).collect();
    match names.as_slice() {
        [init @ .., last] if !init.is_empty() => format!("{} and {last}", init.join(", ")),
        _ => names.concat(),
    }
}

/// The diagnostic for an unknown attribute that is a foreign word, if it is one.
pub fn attribute(attribute: &Attribute, place: Place) -> Option<Diagnostic> {
    let name = &attribute.name;
    let entry = TABLE
        .iter()
        .find(|f| f.word == name.name && f.place == place)?;
    let from = origin(entry.from);
    let word = entry.word;
    let whole = name.span.to(attribute.value.span);
    let exact = |cdl: &str, value: Option<String>| -> Diagnostic {
        match value {
            Some(value) => {
                let edit = format!("{cdl} = {value}");
                Diagnostic::new(
                    Code::UnknownAttribute,
                    name.span,
                    format!("{from} `{word}` is `{cdl}` in cdl: `{edit}`"),
                )
                .label("not a cdl attribute")
                .help(format!("write `{edit}`"))
                .suggest(whole, edit)
            }
            None => Diagnostic::new(
                Code::UnknownAttribute,
                name.span,
                format!("{from} `{word}` is `{cdl}` in cdl"),
            )
            .label("not a cdl attribute")
            .help(format!("write `{cdl} = …`")),
        }
    };
    Some(match entry.cdl {
        // The value stays as written: the edit renames the attribute only.
        Rename(cdl) => {
            let value = value_text(&attribute.value).unwrap_or_else(|| "…".to_string());
            Diagnostic::new(
                Code::UnknownAttribute,
                name.span,
                format!("{from} `{word}` is `{cdl}` in cdl: `{cdl} = {value}`"),
            )
            .label("not a cdl attribute")
            .help(format!("rename it: `{cdl} = {value}`"))
            .suggest(name.span, cdl)
        }
        Names(cdl) => exact(cdl, names_text(&attribute.value)),
        Minutes(cdl) => exact(
            cdl,
            match attribute.value.kind {
                ExprKind::Integer(n) if n > 0 => Some(format!("{n}m")),
                _ => None,
            },
        ),
        OneString(cdl) => exact(cdl, one_string(&attribute.value)),
        Refs { only } => exact("when", refs_condition(&attribute.value, only)),
        Advice("nothing", help) => Diagnostic::new(
            Code::UnknownAttribute,
            name.span,
            format!("{from} `{word}` has no counterpart in cdl"),
        )
        .label("not a cdl attribute")
        .help(help),
        Advice(cdl, help) => Diagnostic::new(
            Code::UnknownAttribute,
            name.span,
            format!("{from} `{word}` is {cdl} in cdl"),
        )
        .label("not a cdl attribute")
        .help(help),
    })
}

/// A diagnostic for a value that means something else in cdl than where it came from:
/// GitHub's `uses = "actions/checkout@v4"`, GitLab's `when = manual`.
pub fn misread_value(name: &str, value: &Expr) -> Option<Diagnostic> {
    match (name, &value.kind) {
        ("uses", ExprKind::String(action)) if action.contains('/') || action.contains('@') => Some(
            Diagnostic::new(
                Code::AttributeType,
                value.span,
                format!(
                    "GitHub's `uses` runs an action; cdl's `uses` lists the artifacts a job \
                         reads, so `{action}` is not one"
                ),
            )
            .label("a GitHub action")
            .help(
                "write the commands the action would run in `run`; the checkout of the \
                     repository is done for every job",
            ),
        ),
        ("when", ExprKind::Ident(word))
            if matches!(
                word.as_str(),
                "manual" | "always" | "on_success" | "on_failure" | "never" | "delayed"
            ) =>
        {
            let help = match word.as_str() {
                "manual" => {
                    "write `start = manual` for an optional job a person starts (`cdl run \
                     --start JOB`); a job that must wait for a person's approval is a gate"
                }
                "always" => "write `runs = always`: the job runs whatever the jobs before it did",
                "on_failure" => {
                    "write `runs = on_failure`: the job runs only when a job before it failed"
                }
                _ => "leave `when` out: a job runs when the jobs before it succeeded",
            };
            Some(
                Diagnostic::new(
                    Code::UnknownVariable,
                    value.span,
                    format!(
                        "GitLab's `when: {word}` is not a cdl condition: `when` holds a \
                         condition like `branch == \"main\"`"
                    ),
                )
                .label("a GitLab `when` value")
                .help(help),
            )
        }
        _ => None,
    }
}

/// What a foreign condition variable stands for in cdl.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Meaning {
    /// A full ref (`refs/heads/main`, `refs/tags/v1`).
    Ref,
    Branch,
    Tag,
    Event,
}

/// Condition variables of the other systems and what they mean in cdl.
const VARIABLES_TABLE: &[(&str, System, Meaning)] = &[
    ("github.ref", GitHub, Meaning::Ref),
    ("github.ref_name", GitHub, Meaning::Branch),
    ("github.head_ref", GitHub, Meaning::Branch),
    ("github.base_ref", GitHub, Meaning::Branch),
    ("github.event_name", GitHub, Meaning::Event),
    ("$GITHUB_REF", GitHub, Meaning::Ref),
    ("$GITHUB_REF_NAME", GitHub, Meaning::Branch),
    ("$CI_COMMIT_BRANCH", GitLab, Meaning::Branch),
    ("$CI_COMMIT_REF_NAME", GitLab, Meaning::Branch),
    ("$CI_DEFAULT_BRANCH", GitLab, Meaning::Branch),
    (
        "$CI_MERGE_REQUEST_TARGET_BRANCH_NAME",
        GitLab,
        Meaning::Branch,
    ),
    ("$CI_COMMIT_TAG", GitLab, Meaning::Tag),
    ("$CI_PIPELINE_SOURCE", GitLab, Meaning::Event),
    ("$CIRCLE_BRANCH", CircleCi, Meaning::Branch),
    ("$CIRCLE_TAG", CircleCi, Meaning::Tag),
    ("$BRANCH_NAME", Jenkins, Meaning::Branch),
    ("env.BRANCH_NAME", Jenkins, Meaning::Branch),
    ("$TAG_NAME", Jenkins, Meaning::Tag),
    ("env.TAG_NAME", Jenkins, Meaning::Tag),
    ("$BUILDKITE_BRANCH", Buildkite, Meaning::Branch),
    ("$BUILDKITE_TAG", Buildkite, Meaning::Tag),
    ("$BUILDKITE_SOURCE", Buildkite, Meaning::Event),
];

/// `${X}` → `$X`, so both spellings find the row.
fn normalise(name: &str) -> String {
    match name.strip_prefix("${").and_then(|n| n.strip_suffix('}')) {
        Some(inner) => format!("${inner}"),
        None => name.to_string(),
    }
}

fn known_variable(name: &str) -> Option<(System, Meaning)> {
    let name = normalise(name);
    VARIABLES_TABLE
        .iter()
        .find(|(n, _, _)| *n == name)
        .map(|(_, system, meaning)| (*system, *meaning))
}

/// Whether `name` is spelt as another system's variable (`env.X`, `vars.X`, `github.ref`,
/// `$X`, `${X}`): such names are never cdl's.
pub fn is_foreign_variable(name: &str) -> bool {
    name.starts_with('$') || name.contains('.')
}

/// The diagnostic for a foreign variable standing alone (not compared).
pub fn variable(name: &str, span: Span) -> Option<Diagnostic> {
    if !is_foreign_variable(name) {
        return None;
    }
    let variable = normalise(name);
    if let Some((system, meaning)) = known_variable(&variable) {
        let cdl = cdl_variable(meaning);
        return Some(
            Diagnostic::new(
                Code::UnknownVariable,
                span,
                format!("{} `{name}` is `{cdl}` in cdl", system.possessive()),
            )
            .label("not a cdl variable")
            .help(format!("compare it: `{cdl} == \"…\"`")),
        );
    }
    let (from, short) = match variable.split_once('.') {
        Some(("env", short)) => ("GitHub's and Jenkins'", short),
        Some(("vars" | "secrets" | "inputs" | "github" | "steps" | "matrix", short)) => {
            ("GitHub's", short)
        }
        Some((_, short)) => ("a", short),
        None => ("GitLab's", variable.trim_start_matches('$')),
    };
    let what = if from == "a" {
        format!("`{name}`")
    } else {
        format!("{from} `{name}`")
    };
    Some(
        Diagnostic::new(
            Code::UnknownVariable,
            span,
            format!("{what} cannot be read by a cdl condition: `when` reads only `branch`, `tag` and `event`"),
        )
        .label("not a cdl variable")
        .help(format!(
            "decide on `branch`, `tag` or `event` (`when = branch == \"main\"`), or test \
             `${short}` in the job's own command: `run = \"if [ \\\"${short}\\\" = 1 ]; then …; fi\"`"
        )),
    )
}

fn cdl_variable(meaning: Meaning) -> &'static str {
    match meaning {
        Meaning::Branch | Meaning::Ref => "branch",
        Meaning::Tag => "tag",
        Meaning::Event => "event",
    }
}

/// A comparison of a foreign variable, or of `branch`/`tag` with a full ref, rewritten in cdl
/// when the rewrite is exact: `github.ref == "refs/heads/main"` → `branch == "main"`.
pub fn comparison(op: CompareOp, left: &Expr, right: &Expr, span: Span) -> Option<Diagnostic> {
    let ExprKind::Ident(name) = &left.kind else {
        return None;
    };
    let value = match &right.kind {
        ExprKind::String(value) | ExprKind::Ident(value) => Some(value.as_str()),
        _ => None,
    };
    if matches!(name.as_str(), "branch" | "tag") {
        let value = value?;
        let short = value
            .strip_prefix("refs/heads/")
            .or_else(|| value.strip_prefix("refs/tags/"))?;
        let edit = quote(short);
        return Some(
            Diagnostic::new(
                Code::InvalidValue,
                right.span,
                format!(
                    "`{name}` holds the short name, not the ref `{value}`: `{name} {} {edit}`",
                    op.as_str()
                ),
            )
            .label("a full ref never equals a short name")
            .help(format!("write `{edit}`"))
            .suggest(right.span, edit),
        );
    }
    let (system, meaning) = known_variable(name)?;
    let rewrite = value.and_then(|v| cdl_comparison(meaning, op, v));
    let from = system.possessive();
    Some(match rewrite {
        Some(edit) => Diagnostic::new(
            Code::UnknownVariable,
            left.span,
            format!(
                "{from} `{name}` is `{}` in cdl: `{edit}`",
                edit.split(' ').next().unwrap_or("")
            ),
        )
        .label("not a cdl variable")
        .help(format!("write `{edit}`"))
        .suggest(span, edit),
        None => variable(name, left.span)?,
    })
}

/// The cdl comparison for `meaning op value`, when there is an exact one.
fn cdl_comparison(meaning: Meaning, op: CompareOp, value: &str) -> Option<String> {
    let op = op.as_str();
    match meaning {
        Meaning::Ref => {
            if let Some(branch) = value.strip_prefix("refs/heads/") {
                Some(format!("branch {op} {}", quote(branch)))
            } else {
                value
                    .strip_prefix("refs/tags/")
                    .map(|tag| format!("tag {op} {}", quote(tag)))
            }
        }
        Meaning::Branch => Some(format!("branch {op} {}", quote(value))),
        Meaning::Tag => Some(format!("tag {op} {}", quote(value))),
        Meaning::Event => {
            let event = match value {
                "push" => "push",
                "pull_request" | "merge_request_event" | "pull_request_target" => "pull_request",
                "schedule" => "schedule",
                "workflow_dispatch" | "web" | "api" | "ui" => "manual",
                _ => return None,
            };
            if op == "matches" {
                return None;
            }
            Some(format!("event {op} {event}"))
        }
    }
}

fn is_name(text: &str) -> bool {
    let mut chars = text.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// A simple value written back: strings, numbers, booleans, names and lists of them.
fn value_text(value: &Expr) -> Option<String> {
    Some(match &value.kind {
        ExprKind::String(s) => quote(s),
        ExprKind::Integer(n) => n.to_string(),
        ExprKind::Bool(b) => b.to_string(),
        ExprKind::Ident(name) if is_name(name) => name.clone(),
        ExprKind::List(items) => format!(
            "[{}]",
            items
                .iter()
                .map(value_text)
                .collect::<Option<Vec<_>>>()?
                .join(", ")
        ),
        _ => return None,
    })
}

/// `["a", b]` or `a` or `"a"` as a list of names: `[a, b]`.
fn names_text(value: &Expr) -> Option<String> {
    let items: Vec<&Expr> = match &value.kind {
        ExprKind::List(items) => items.iter().collect(),
        _ => vec![value],
    };
    let names = items
        .into_iter()
        .map(|item| match &item.kind {
            ExprKind::String(s) | ExprKind::Ident(s) if is_name(s) => Some(s.clone()),
            _ => None,
        })
        .collect::<Option<Vec<_>>>()?;
    (!names.is_empty()).then(|| format!("[{}]", names.join(", ")))
}

fn one_string(value: &Expr) -> Option<String> {
    match &value.kind {
        ExprKind::String(s) => Some(quote(s)),
        ExprKind::Ident(s) if is_name(s) => Some(quote(s)),
        ExprKind::List(items) if items.len() == 1 => one_string(&items[0]),
        _ => None,
    }
}

/// GitLab's `only`/`except` refs as a condition: branch names, `tags`, `merge_requests`,
/// `schedules`, `web`. Regular expressions (`/…/`) have no exact rewrite.
fn refs_condition(value: &Expr, only: bool) -> Option<String> {
    let items: Vec<&Expr> = match &value.kind {
        ExprKind::List(items) => items.iter().collect(),
        _ => vec![value],
    };
    let (eq, join) = if only { ("==", " || ") } else { ("!=", " && ") };
    let parts = items
        .into_iter()
        .map(|item| {
            let (ExprKind::String(reference) | ExprKind::Ident(reference)) = &item.kind else {
                return None;
            };
            if reference.starts_with('/') {
                return None;
            }
            Some(match reference.as_str() {
                "tags" => format!("event {eq} tag"),
                "merge_requests" => format!("event {eq} pull_request"),
                "schedules" => format!("event {eq} schedule"),
                "web" | "api" => format!("event {eq} manual"),
                "branches" | "pushes" => format!("event {eq} push"),
                branch if branch.contains('*') => {
                    let branch = quote(branch);
                    if only {
                        format!("branch matches {branch}")
                    } else {
                        format!("!(branch matches {branch})")
                    }
                }
                branch => format!("branch {eq} {}", quote(branch)),
            })
        })
        .collect::<Option<Vec<_>>>()?;
    (!parts.is_empty()).then(|| parts.join(join))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_word_is_listed_twice_for_one_place() {
        for (i, a) in TABLE.iter().enumerate() {
            for b in &TABLE[i + 1..] {
                assert!(
                    !(a.word == b.word && a.place == b.place),
                    "`{}` twice",
                    a.word
                );
            }
        }
    }

    #[test]
    fn no_foreign_word_is_a_cdl_attribute_of_its_block() {
        use crate::check::attributes as schema;
        for entry in TABLE {
            let block: &[schema::Spec] = match entry.place {
                Place::Job => schema::JOB,
                Place::Pipeline => schema::PIPELINE,
                Place::BranchTrigger => schema::TRIGGER_PUSH,
                Place::Other => &[],
            };
            assert!(
                block.iter().all(|s| s.name != entry.word),
                "`{}` is a cdl attribute",
                entry.word
            );
        }
    }

    #[test]
    fn quoted_strings_read_back() {
        for text in [
            "main",
            "a\"b",
            "back\\slash",
            "new\nline",
            "tab\t",
            "\u{1}",
            "é",
        ] {
            let quoted = quote(text);
            let inner = &quoted[1..quoted.len() - 1];
            assert_eq!(crate::syntax::literal::unescape(inner).unwrap(), text);
        }
    }

    #[test]
    fn gitlab_refs_become_conditions() {
        let list = |items: &[&str]| Expr {
            kind: ExprKind::List(
                items
                    .iter()
                    .map(|s| Expr {
                        kind: ExprKind::String(s.to_string()),
                        span: Span::new(crate::span::FileId(0), 0, 0),
                    })
                    .collect(),
            ),
            span: Span::new(crate::span::FileId(0), 0, 0),
        };
        assert_eq!(
            refs_condition(&list(&["main", "tags"]), true).as_deref(),
            Some("branch == \"main\" || event == tag")
        );
        assert_eq!(
            refs_condition(&list(&["main", "release/*"]), false).as_deref(),
            Some("branch != \"main\" && !(branch matches \"release/*\")")
        );
        assert_eq!(refs_condition(&list(&["/^rel/"]), true), None);
    }
}
