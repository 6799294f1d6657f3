//! Attribute schemas of every block, and typing `name = value` against them.
//!
//! The schemas are data: the checker, `cdl explain` pages and the language server's
//! completion and hover all read the same table.

use std::collections::HashMap;

use super::condition::{Condition, type_condition};
use super::foreign;
use crate::codes::Code;
use crate::diagnostic::{Diagnostic, Sink, did_you_mean};
use crate::span::{Ident, Span};
use crate::syntax::ast::{Attribute, Expr, ExprKind};
use crate::syntax::literal::{duration_seconds, format_duration};

/// What an attribute's value must be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Type {
    String,
    /// One shell command or a list of them.
    Commands,
    Strings,
    /// A list of names (jobs, secrets, artifacts).
    Names,
    Duration,
    Integer {
        min: i64,
        max: i64,
    },
    Bool,
    Condition,
    /// One of a fixed set of words.
    Word(&'static [&'static str]),
    /// A container image name, or `none` for no image.
    Image,
    /// A machine label, or a list of labels a machine must all have.
    Labels,
}

impl Type {
    /// The type in the user's words, for messages and hover.
    pub fn describe(self) -> String {
        match self {
            Type::String => "a string".into(),
            Type::Commands => "a command string or a list of them".into(),
            Type::Strings => "a list of strings".into(),
            Type::Names => "a list of names".into(),
            Type::Duration => "a duration (`30s`, `10m`, `1h30m`)".into(),
            Type::Integer { min, max } => format!("an integer from {min} to {max}"),
            Type::Bool => "`true` or `false`".into(),
            Type::Condition => "a condition (`branch == \"main\"`)".into(),
            Type::Image => "an image name (`\"node:20\"`) or `none`".into(),
            Type::Labels => "a label (`\"ubuntu-latest\"`) or a list of labels".into(),
            Type::Word(words) => format!(
                "one of {}",
                words
                    .iter()
                    .map(|w| format!("`{w}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }
}

/// One attribute a block accepts.
#[derive(Debug, Clone, Copy)]
pub struct Spec {
    pub name: &'static str,
    pub ty: Type,
    pub required: bool,
    pub doc: &'static str,
}

const fn spec(name: &'static str, ty: Type, doc: &'static str) -> Spec {
    Spec {
        name,
        ty,
        required: false,
        doc,
    }
}

const fn required(name: &'static str, ty: Type, doc: &'static str) -> Spec {
    Spec {
        name,
        ty,
        required: true,
        doc,
    }
}

pub const RETRIES: Type = Type::Integer { min: 0, max: 10 };
pub const KIND_ENVIRONMENT_WORDS: &[&str] = &["forbidden", "optional", "required"];

pub const PIPELINE: &[Spec] = &[
    spec(
        "description",
        Type::String,
        "Shown by `cdl plan` and in exports.",
    ),
    spec(
        "runner",
        Type::Labels,
        "Default machine label for exports (`ubuntu-latest`), or a list of labels a machine must all have.",
    ),
    spec("image", Type::Image, "Default container image for exports."),
    spec("defaults", Type::Names, super::templates::DEFAULTS_DOC),
    spec(
        "allowed_signers",
        Type::String,
        "OpenSSH allowed-signers file (relative to the pipeline file): approvals must be signed by a listed key.",
    ),
    spec(
        "default_branch",
        Type::String,
        "The repository's default branch, as `CDL_DEFAULT_BRANCH` (default: git's `origin/HEAD`, else `main`).",
    ),
    spec("shell", Type::String, super::steps::SHELL_DOC),
    // v2 i14a: platform settings
    spec(
        "permissions",
        Type::Word(super::platform::ALL_WORDS),
        super::platform::PERMISSIONS_DOC,
    ),
    spec("checkout", Type::Bool, super::platform::CHECKOUT_DOC),
];

pub const KIND: &[Spec] = &[
    spec(
        "environment",
        Type::Word(KIND_ENVIRONMENT_WORDS),
        "Whether a test of this kind runs against a deployed environment (`on ENV`).",
    ),
    spec(
        "timeout",
        Type::Duration,
        "Default timeout of a test of this kind.",
    ),
    spec(
        "retries",
        RETRIES,
        "Default retries of a test of this kind.",
    ),
];

pub const ENVIRONMENT: &[Spec] = &[
    spec(
        "url",
        Type::String,
        "Where the environment is reached; given to jobs as `CDL_ENV_URL`.",
    ),
    spec(
        "concurrency",
        Type::Integer { min: 1, max: 1000 },
        "How many deploys to this environment may run at once.",
    ),
];

pub const TRIGGER_PUSH: &[Spec] = &[
    spec(
        "branches",
        Type::Strings,
        "Branch globs that start a run (all when absent).",
    ),
    // v2 i14a: path filters
    spec("paths", Type::Strings, super::platform::PATHS_DOC),
    spec(
        "paths_ignore",
        Type::Strings,
        super::platform::PATHS_IGNORE_DOC,
    ),
];
pub const TRIGGER_PULL_REQUEST: &[Spec] = &[
    spec(
        "branches",
        Type::Strings,
        "Target branch globs of the pull requests that start a run.",
    ),
    // v2 i14a: path filters
    spec("paths", Type::Strings, super::platform::PATHS_DOC),
    spec(
        "paths_ignore",
        Type::Strings,
        super::platform::PATHS_IGNORE_DOC,
    ),
];
pub const TRIGGER_TAG: &[Spec] = &[spec(
    "pattern",
    Type::String,
    "Tag glob that starts a run (`v*`).",
)];
pub const TRIGGER_SCHEDULE: &[Spec] = &[required(
    "cron",
    Type::String,
    "Five-field cron expression, in UTC.",
)];
pub const TRIGGER_MANUAL: &[Spec] = &[];

macro_rules! runnable {
    ($($extra:expr),*) => {
        &[
            $($extra,)*
            required("run", Type::Commands, "Shell commands, each run with `sh -e -c`."),
            spec("secrets", Type::Names, "The pipeline's secrets this job receives, as environment variables."),
            spec("timeout", Type::Duration, "The job is killed when it runs longer."),
            spec("retries", RETRIES, "How many times a failed job is run again."),
            spec("after", Type::Names, "Jobs and gates this job waits for (besides earlier stages)."),
            spec("when", Type::Condition, "The job runs only when this holds; otherwise it is skipped."),
            spec("uses", Type::Names, "Artifacts this job reads, as `CDL_ARTIFACT_<NAME>`."),
            spec("allow_failure", Type::Bool, "A failure of this job does not fail the run or stop later jobs."),
            spec("image", Type::Image, "Container image for exports; `none` runs the job without the pipeline's image."),
            spec("runner", Type::Labels, "Machine label for exports, or a list of labels a machine must all have."),
            spec("name", Type::String, "The job's display name (exports that show one)."),
            spec("shell", Type::String, super::steps::SHELL_DOC),
            spec("values", Type::Names, super::values::VALUES_DOC),
            spec("keep", Type::Strings, super::reports::KEEP_DOC),
            spec("retention", Type::Duration, super::reports::RETENTION_DOC),
            // v2 i14a: platform settings
            spec("permissions", Type::Word(super::platform::ALL_WORDS), super::platform::PERMISSIONS_DOC),
            spec("checkout", Type::Bool, super::platform::CHECKOUT_DOC),
            spec("registry", Type::Bool, super::platform::REGISTRY_DOC),
            spec("runs", Type::Word(crate::model::steps::RUNS_WORDS), super::after_failure::RUNS_DOC),
            spec("start", Type::Word(super::after_failure::START_WORDS), super::after_failure::START_DOC),
            spec("auto_when", Type::Condition, super::after_failure::AUTO_WHEN_DOC),
            spec("pages", Type::String, super::pages::PAGES_DOC),
            spec("entrypoint", Type::Strings, super::entrypoint::ENTRYPOINT_DOC),
            spec("keep_when", Type::Word(crate::model::steps::RUNS_WORDS), super::reports::KEEP_WHEN_DOC),
        ]
    };
}

pub const JOB: &[Spec] = runnable!();
pub const ARTIFACT: &[Spec] = runnable!(
    required(
        "outputs",
        Type::Strings,
        "Paths or globs of the files the artifact is made of."
    ),
    // v2 i13k: matrix artifacts
    spec(
        "optional_outputs",
        Type::Strings,
        super::matrix_artifacts::OPTIONAL_OUTPUTS_DOC
    )
);
pub const GATE: &[Spec] = &[
    required(
        "approvers",
        Type::Strings,
        "People or groups who may approve.",
    ),
    spec(
        "required",
        Type::Integer { min: 1, max: 100 },
        "How many distinct approvers must approve (default 1).",
    ),
    spec(
        "message",
        Type::String,
        "The question shown to the approver.",
    ),
    spec(
        "timeout",
        Type::Duration,
        "Rejects the gate when nobody decided in time.",
    ),
    spec(
        "when",
        Type::Condition,
        "The gate applies only when this holds.",
    ),
    spec(
        "after",
        Type::Names,
        "Jobs this gate waits for (besides earlier stages).",
    ),
];

pub const TEAM: &[Spec] = &[required(
    "members",
    Type::Strings,
    "The people of the team; a gate naming `@TEAM` may be approved by any of them.",
)];

// v2 i13d: `input NAME { … }` and `var NAME { … }` (`default` is typed by `check::inputs`:
// a string, or `true`/`false` for a bool input).
pub const INPUT: &[Spec] = &[
    spec(
        "type",
        Type::Word(&["string", "bool", "choice"]),
        "`string` (the default), `bool` or `choice` (one of `choices`).",
    ),
    spec(
        "default",
        Type::String,
        "The value when the run does not give one (`true`/`false` for a bool).",
    ),
    spec(
        "choices",
        Type::Strings,
        "The values a `choice` input may take.",
    ),
    spec(
        "description",
        Type::String,
        "What the input is for, shown where a run is started.",
    ),
];

pub const VAR: &[Spec] = &[
    spec(
        "default",
        Type::String,
        "The value when neither `--var`, the environment nor the CI system's settings give one.",
    ),
    spec("description", Type::String, "What the variable is for."),
];

/// `reports { … }` of a job (v2 §8, i13h): the report kinds.
pub const REPORTS: &[Spec] = &[
    spec(
        "junit",
        Type::Strings,
        "Paths or globs of JUnit XML files; their test cases are counted and shown.",
    ),
    spec(
        "coverage",
        Type::String,
        "A Cobertura XML file; its `line-rate` is the job's coverage.",
    ),
    spec(
        "codequality",
        Type::String,
        "A Code Climate JSON file (GitLab's code quality report).",
    ),
    spec(
        "coverage_regex",
        Type::String,
        "A regex over the job's log; its last match gives the coverage (GitLab's `coverage:`).",
    ),
];

/// `cache NAME { … }` of a job (v2 §9, i14c).
pub const CACHE: &[Spec] = &[
    spec("key", Type::Strings, super::cache::KEY_DOC),
    required("paths", Type::Strings, super::cache::PATHS_DOC),
    spec(
        "policy",
        Type::Word(crate::model::cache::POLICY_WORDS),
        super::cache::POLICY_DOC,
    ),
];

/// A typed attribute value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    String(String),
    Strings(Vec<String>),
    Names(Vec<Ident>),
    Duration(u64),
    Integer(i64),
    Bool(bool),
    Condition(Condition),
    Word(String),
}

/// The attributes of one block, typed against its schema.
pub struct Attributes {
    values: ByName<(Value, Span)>,
    /// The span of each item of a list value (of the value itself when it is not a list).
    items: ByName<Vec<Span>>,
    spans: ByName<Span>,
}

/// A map from a schema's attribute names: a block sets a handful, so a vector searched in
/// order is faster than hashing every name (this is read for every job of a pipeline).
struct ByName<V>(Vec<(&'static str, V)>);

impl<V> ByName<V> {
    fn new() -> Self {
        ByName(Vec::new())
    }

    fn get(&self, name: &str) -> Option<&V> {
        self.0.iter().find(|(n, _)| *n == name).map(|(_, v)| v)
    }

    fn contains_key(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    fn insert(&mut self, name: &'static str, value: V) {
        match self.0.iter_mut().find(|(n, _)| *n == name) {
            Some((_, slot)) => *slot = value,
            None => self.0.push((name, value)),
        }
    }
}

impl Attributes {
    /// Types every attribute of a block; reports unknown names (with a suggestion), duplicates
    /// and type errors. `block` names the block in messages ("a gate").
    pub fn read<'a>(
        schema: &'static [Spec],
        block: &str,
        attributes: impl IntoIterator<Item = &'a Attribute>,
        sink: &mut Sink,
    ) -> Attributes {
        let mut values = ByName::new();
        let mut items = ByName::new();
        let mut spans: ByName<Span> = ByName::new();
        for attribute in attributes {
            let name = attribute.name.name.as_str();
            let Some(spec) = schema.iter().find(|s| s.name == name) else {
                sink.push(
                    foreign::attribute(attribute, place(schema))
                        .unwrap_or_else(|| unknown_attribute(&attribute.name, block, schema)),
                );
                continue;
            };
            if let Some(first) = spans.get(spec.name) {
                sink.push(
                    Diagnostic::new(
                        Code::DuplicateAttribute,
                        attribute.name.span,
                        format!("`{name}` is set twice in {block}"),
                    )
                    .label("set again here")
                    .related(*first, "first set here")
                    .help("remove one of them"),
                );
                continue;
            }
            spans.insert(spec.name, attribute.name.span);
            if let Some(misread) = foreign::misread_value(spec.name, &attribute.value) {
                sink.push(misread);
                continue;
            }
            if let Some(value) = type_value(spec, &attribute.value, sink) {
                values.insert(spec.name, (value, attribute.value.span));
                let item_spans = match &attribute.value.kind {
                    ExprKind::List(list) => list.iter().map(|item| item.span).collect(),
                    _ => vec![attribute.value.span],
                };
                items.insert(spec.name, item_spans);
            }
        }
        Attributes {
            values,
            items,
            spans,
        }
    }

    /// Reports each required attribute that is absent, at `header`.
    pub fn require(
        &self,
        schema: &[Spec],
        block: &str,
        header: Span,
        sink: &mut Sink,
        skip: &[&str],
    ) {
        for spec in schema
            .iter()
            .filter(|s| s.required && !skip.contains(&s.name))
        {
            if !self.spans.contains_key(spec.name) {
                sink.push(
                    Diagnostic::new(
                        Code::MissingAttribute,
                        header,
                        format!("{block} is missing `{}`", spec.name),
                    )
                    .label(format!("needs `{}`", spec.name))
                    .help(format!(
                        "add `{} = …`: {}",
                        spec.name,
                        spec.ty.describe()
                    )),
                );
            }
        }
    }

    pub fn is_set(&self, name: &str) -> bool {
        self.spans.contains_key(name)
    }

    /// Where the attribute's name was written, whether or not its value typed.
    pub fn name_span(&self, name: &str) -> Option<Span> {
        self.spans.get(name).copied()
    }

    /// Where each item of a list value was written (the value itself when it is not a list).
    pub fn item_spans(&self, name: &str) -> Vec<Span> {
        self.items.get(name).cloned().unwrap_or_default()
    }

    pub fn value_span(&self, name: &str) -> Option<Span> {
        self.values.get(name).map(|(_, span)| *span)
    }

    /// `runner`: its first label, and every label when it is a list (empty for one label).
    pub fn runner_labels(&self) -> (Option<String>, Vec<String>) {
        match self.values.get("runner") {
            Some((Value::String(s), _)) => (Some(s.clone()), Vec::new()),
            Some((Value::Strings(labels), _)) => (labels.first().cloned(), labels.clone()),
            _ => (None, Vec::new()),
        }
    }

    pub fn string(&self, name: &str) -> Option<String> {
        match self.values.get(name) {
            Some((Value::String(s), _)) => Some(s.clone()),
            _ => None,
        }
    }

    pub fn strings(&self, name: &str) -> Vec<String> {
        match self.values.get(name) {
            Some((Value::Strings(s), _)) => s.clone(),
            Some((Value::String(s), _)) => vec![s.clone()],
            _ => Vec::new(),
        }
    }

    pub fn names(&self, name: &str) -> Vec<Ident> {
        match self.values.get(name) {
            Some((Value::Names(n), _)) => n.clone(),
            _ => Vec::new(),
        }
    }

    pub fn duration(&self, name: &str) -> Option<u64> {
        match self.values.get(name) {
            Some((Value::Duration(d), _)) => Some(*d),
            _ => None,
        }
    }

    pub fn integer(&self, name: &str) -> Option<i64> {
        match self.values.get(name) {
            Some((Value::Integer(n), _)) => Some(*n),
            _ => None,
        }
    }

    pub fn bool(&self, name: &str) -> Option<bool> {
        match self.values.get(name) {
            Some((Value::Bool(b), _)) => Some(*b),
            _ => None,
        }
    }

    pub fn condition(&self, name: &str) -> Option<Condition> {
        match self.values.get(name) {
            Some((Value::Condition(c), _)) => Some(c.clone()),
            _ => None,
        }
    }

    pub fn word(&self, name: &str) -> Option<String> {
        match self.values.get(name) {
            Some((Value::Word(w), _)) => Some(w.clone()),
            _ => None,
        }
    }
}

/// The kind of block a schema belongs to, for the table of foreign words.
fn place(schema: &[Spec]) -> foreign::Place {
    let has = |name: &str| schema.iter().any(|s| s.name == name);
    if has("run") {
        foreign::Place::Job
    } else if has("branches") {
        foreign::Place::BranchTrigger
    } else if has("runner") {
        foreign::Place::Pipeline
    } else {
        foreign::Place::Other
    }
}

pub(crate) fn unknown_attribute(name: &Ident, block: &str, schema: &[Spec]) -> Diagnostic {
    let help = did_you_mean(&name.name, schema.iter().map(|s| s.name)).unwrap_or_else(|| {
        if schema.is_empty() {
            format!("{block} takes no attributes")
        } else {
            format!(
                "{block} takes {}",
                schema
                    .iter()
                    .map(|s| format!("`{}`", s.name))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        }
    });
    Diagnostic::new(
        Code::UnknownAttribute,
        name.span,
        format!("{block} has no attribute `{}`", name.name),
    )
    .label("unknown attribute")
    .help(help)
}

fn type_value(spec: &Spec, expr: &Expr, sink: &mut Sink) -> Option<Value> {
    if matches!(expr.kind, ExprKind::Invalid) {
        return None;
    }
    let mismatch = |sink: &mut Sink, help: Option<String>| {
        sink.push(
            Diagnostic::new(
                Code::AttributeType,
                expr.span,
                format!(
                    "`{}` expects {}, found {}",
                    spec.name,
                    spec.ty.describe(),
                    expr.kind.describe()
                ),
            )
            .label(format!("expected {}", spec.ty.describe()))
            .maybe_help(help),
        );
        None
    };
    match (spec.ty, &expr.kind) {
        // v2 i13j: a composed value where the schema reads one (E0332).
        (_, ExprKind::Value(_)) => {
            sink.push(super::value::not_here(expr, &format!("`{}`", spec.name)));
            None
        }
        (Type::Commands | Type::Strings, ExprKind::List(items))
            if items.is_empty() && spec.name != "approvers" =>
        {
            let help = match spec.name {
                "run" => "give at least one command: `run = \"make\"`".to_string(),
                "branches" => {
                    "list the branches, or leave `branches` out to mean every branch".to_string()
                }
                _ => format!("give `{}` at least one value, or leave it out", spec.name),
            };
            sink.push(
                Diagnostic::new(
                    Code::EmptyList,
                    expr.span,
                    format!("`{}` must not be empty", spec.name),
                )
                .label("empty list")
                .help(help),
            );
            None
        }
        (Type::Duration, ExprKind::Duration(0)) => {
            sink.push(
                Diagnostic::new(
                    Code::OutOfRange,
                    expr.span,
                    format!("`{}` must be at least 1s", spec.name),
                )
                .label("zero duration")
                .help(format!("leave `{}` out for no limit", spec.name)),
            );
            None
        }
        (Type::String, ExprKind::String(s)) => Some(Value::String(s.clone())),
        (Type::Image, ExprKind::String(s)) if s.trim().is_empty() => {
            sink.push(
                Diagnostic::new(
                    Code::InvalidValue,
                    expr.span,
                    format!("`{} = \"\"` names no image", spec.name),
                )
                .label("empty image name")
                .help("write `image = none` to run the job without the pipeline's image, or name one: `image = \"node:20\"`")
                .suggest(expr.span, "none"),
            );
            None
        }
        (Type::Image, ExprKind::String(s)) => Some(Value::String(s.clone())),
        (Type::Image, ExprKind::Ident(word)) if word == "none" => Some(Value::Word(word.clone())),
        (Type::Image, ExprKind::Ident(word)) => mismatch(
            sink,
            Some(format!(
                "quote the image name: `{} = \"{word}\"`, or write `none`",
                spec.name
            )),
        ),
        (Type::Commands, ExprKind::String(s)) => Some(Value::Strings(vec![s.clone()])),
        (Type::Labels, ExprKind::String(s)) if s.trim().is_empty() => {
            sink.push(
                Diagnostic::new(
                    Code::InvalidValue,
                    expr.span,
                    format!("`{} = \"\"` names no machine label", spec.name),
                )
                .label("empty label")
                .help("name the label (`runner = \"ubuntu-latest\"`), or leave `runner` out for the target's default"),
            );
            None
        }
        (Type::Labels, ExprKind::List(items))
            if items
                .iter()
                .any(|i| matches!(&i.kind, ExprKind::String(s) if s.trim().is_empty())) =>
        {
            sink.push(
                Diagnostic::new(
                    Code::InvalidValue,
                    expr.span,
                    format!("`{}` holds an empty label", spec.name),
                )
                .label("a label that names nothing")
                .help("remove the empty label from the list"),
            );
            None
        }
        (Type::Labels, ExprKind::String(s)) => Some(Value::String(s.clone())),
        (Type::Labels, ExprKind::List(items)) if items.is_empty() => {
            sink.push(
                Diagnostic::new(
                    Code::EmptyList,
                    expr.span,
                    format!("`{}` names no label", spec.name),
                )
                .label("empty list")
                .help(
                    "name the labels a machine must have: `runner = [\"self-hosted\", \"linux\"]`",
                ),
            );
            None
        }
        (Type::Commands | Type::Strings | Type::Labels, ExprKind::List(items)) => {
            let mut out = Vec::new();
            for item in items {
                match &item.kind {
                    ExprKind::String(s) => out.push(s.clone()),
                    ExprKind::Invalid => return None,
                    other => {
                        let help = matches!(other, ExprKind::Ident(_))
                            .then(|| format!("quote it: \"{}\"", slice_ident(item)));
                        sink.push(
                            Diagnostic::new(
                                Code::AttributeType,
                                item.span,
                                format!(
                                    "`{}` expects a list of strings, found {} in it",
                                    spec.name,
                                    other.describe()
                                ),
                            )
                            .label("expected a string")
                            .maybe_help(help),
                        );
                        return None;
                    }
                }
            }
            Some(Value::Strings(out))
        }
        (Type::Strings, ExprKind::String(s)) => {
            mismatch(sink, Some(format!("put it in a list: [{s:?}]")))
        }
        (Type::Names, ExprKind::List(items)) => {
            let mut out = Vec::new();
            for item in items {
                match &item.kind {
                    ExprKind::Ident(name) => out.push(Ident {
                        name: name.clone(),
                        span: item.span,
                    }),
                    ExprKind::Invalid => return None,
                    other => {
                        let help = match other {
                            ExprKind::String(s) => Some(format!("write names without quotes: {s}")),
                            _ => None,
                        };
                        sink.push(
                            Diagnostic::new(
                                Code::AttributeType,
                                item.span,
                                format!(
                                    "`{}` expects a list of names, found {} in it",
                                    spec.name,
                                    other.describe()
                                ),
                            )
                            .label("expected a name")
                            .maybe_help(help),
                        );
                        return None;
                    }
                }
            }
            Some(Value::Names(out))
        }
        (Type::Names, ExprKind::Ident(name)) => {
            mismatch(sink, Some(format!("put it in a list: [{name}]")))
        }
        (Type::Duration, ExprKind::Duration(seconds)) => Some(Value::Duration(*seconds)),
        (Type::Duration, ExprKind::String(s)) => {
            let help = match duration_seconds(s.trim()) {
                Some(seconds) if !s.trim().is_empty() => {
                    format!(
                        "write the duration without quotes: `{} = {}`",
                        spec.name,
                        format_duration(seconds)
                    )
                }
                _ => format!(
                    "write a duration without quotes, like `{} = 10m` or `1h30m`",
                    spec.name
                ),
            };
            mismatch(sink, Some(help))
        }
        (Type::Duration, ExprKind::Integer(n)) => mismatch(
            sink,
            Some(format!("give the unit: `{} = {n}s` or `{n}m`", spec.name)),
        ),
        (Type::Integer { min, max }, ExprKind::Integer(n)) => {
            if (min..=max).contains(n) {
                Some(Value::Integer(*n))
            } else {
                sink.push(
                    Diagnostic::new(
                        Code::OutOfRange,
                        expr.span,
                        format!("`{}` must be from {min} to {max}, found {n}", spec.name),
                    )
                    .label("out of range")
                    .help(format!("use a value from {min} to {max}")),
                );
                None
            }
        }
        (Type::Integer { .. }, ExprKind::String(s)) if s.trim().parse::<i64>().is_ok() => mismatch(
            sink,
            Some(format!(
                "write the number without quotes: `{} = {}`",
                spec.name,
                s.trim()
            )),
        ),
        (Type::Bool, ExprKind::Bool(b)) => Some(Value::Bool(*b)),
        (Type::Bool, ExprKind::String(s)) if s == "true" || s == "false" => mismatch(
            sink,
            Some(format!("write `{} = {s}` without quotes", spec.name)),
        ),
        (Type::Condition, _) => type_condition(expr, sink).map(Value::Condition),
        (Type::Word(words), ExprKind::Ident(word)) => {
            if words.contains(&word.as_str()) {
                Some(Value::Word(word.clone()))
            } else {
                sink.push(
                    Diagnostic::new(
                        Code::InvalidValue,
                        expr.span,
                        format!(
                            "`{}` must be {}, found `{word}`",
                            spec.name,
                            spec.ty.describe()
                        ),
                    )
                    .label("not allowed here")
                    .help(
                        did_you_mean(word, words.iter().copied())
                            .unwrap_or_else(|| format!("write {}", spec.ty.describe())),
                    ),
                );
                None
            }
        }
        (Type::Word(_), ExprKind::String(s)) if spec.ty.describe().contains(&format!("`{s}`")) => {
            mismatch(
                sink,
                Some(format!("write `{} = {s}` without quotes", spec.name)),
            )
        }
        _ => mismatch(sink, None),
    }
}

fn slice_ident(expr: &Expr) -> String {
    match &expr.kind {
        ExprKind::Ident(name) => name.clone(),
        _ => String::new(),
    }
}

/// Reads an `env { }` block or `matrix { }` axis list as name → string pairs; integers and
/// booleans are written as text. Reports duplicates and values of other types.
pub fn string_map<'a>(
    attributes: impl IntoIterator<Item = &'a Attribute>,
    block: &str,
    sink: &mut Sink,
) -> indexmap::IndexMap<String, (String, Span)> {
    let mut out: indexmap::IndexMap<String, (String, Span)> = indexmap::IndexMap::new();
    for attribute in attributes {
        let name = &attribute.name;
        if let Some((_, first)) = out.get(&name.name) {
            sink.push(
                Diagnostic::new(
                    Code::DuplicateAttribute,
                    name.span,
                    format!("`{}` is set twice in {block}", name.name),
                )
                .label("set again here")
                .related(*first, "first set here")
                .help("remove one of them"),
            );
            continue;
        }
        if let Some(problem) = env_name_problem(&name.name) {
            sink.push(problem.at(name.span));
            continue;
        }
        let text = match &attribute.value.kind {
            ExprKind::String(s) => s.clone(),
            ExprKind::Integer(n) => n.to_string(),
            ExprKind::Bool(b) => b.to_string(),
            ExprKind::Invalid => continue,
            // v2 i13j: composed values are read by `check::value`.
            _ if super::value::is_composed(&attribute.value, true) => continue,
            other => {
                let help = matches!(other, ExprKind::Ident(_)).then(|| {
                    format!(
                        "quote it: {} = \"{}\"",
                        name.name,
                        slice_ident(&attribute.value)
                    )
                });
                sink.push(
                    Diagnostic::new(
                        Code::AttributeType,
                        attribute.value.span,
                        format!(
                            "`{}` in {block} expects a string, found {}",
                            name.name,
                            other.describe()
                        ),
                    )
                    .label("expected a string")
                    .maybe_help(help),
                );
                continue;
            }
        };
        if let ExprKind::String(_) = attribute.value.kind
            && let Some(variable) = referenced_variable(&text)
        {
            sink.push(unexpanded(&name.name, &variable, attribute.value.span));
        }
        out.insert(name.name.clone(), (text, name.span));
    }
    out
}

/// The first `$NAME` or `${NAME}` a shell would expand in `text`, if any (`$$` and a `$`
/// before anything else are left alone).
fn referenced_variable(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'$' {
            let rest = &text[i + 1..];
            let braced = rest.strip_prefix('{');
            let body = braced.unwrap_or(rest);
            let name: String = body
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') {
                return Some(name);
            }
            if rest.starts_with('$') {
                i += 1;
            }
        }
        i += 1;
    }
    None
}

/// W0106: an env value is taken as written; `$NAME` in it stays `$NAME`.
fn unexpanded(name: &str, variable: &str, span: Span) -> Diagnostic {
    Diagnostic::new(
        Code::EnvNotExpanded,
        span,
        format!("`{name}` will hold `${variable}` as written: env values are never expanded"),
    )
    .label(format!("`${variable}` is not replaced"))
    .help(format!(
        "expand it in the command that needs it: `run = \"export {name}=\\\"${variable}/…\\\"; …\"`, \
         or write the value itself"
    ))
}

/// Why a name cannot be an environment variable of a job, if it cannot.
pub fn env_name_problem(name: &str) -> Option<NameProblem> {
    if name.starts_with("CDL_") {
        return Some(NameProblem {
            message: format!("`{name}` is reserved: cdl sets the `CDL_` variables itself"),
            help: "choose a name that does not start with `CDL_`".into(),
        });
    }
    if name.contains('-') {
        return Some(NameProblem {
            message: format!("`{name}` is not a valid environment variable name"),
            help: format!(
                "shells cannot read names with `-`; write `{}`",
                name.replace('-', "_")
            ),
        });
    }
    None
}

pub struct NameProblem {
    message: String,
    help: String,
}

impl NameProblem {
    pub fn at(self, span: Span) -> Diagnostic {
        Diagnostic::new(Code::InvalidValue, span, self.message)
            .label("not usable as a variable name")
            .help(self.help)
    }
}

/// `runner` of a job or pipeline: its first label, and every label when it is a list.
pub fn runner(attrs: &Attributes) -> (Option<String>, Vec<String>) {
    attrs.runner_labels()
}

/// Reads `matrix { NAME = [values] }`: each axis a non-empty list of strings, integers or
/// booleans.
pub fn matrix_axes<'a>(
    attributes: impl IntoIterator<Item = &'a Attribute>,
    sink: &mut Sink,
) -> indexmap::IndexMap<String, Vec<String>> {
    let mut out: indexmap::IndexMap<String, Vec<String>> = indexmap::IndexMap::new();
    let mut spans: HashMap<String, Span> = HashMap::new();
    for attribute in attributes {
        let name = &attribute.name;
        if let Some(first) = spans.get(&name.name) {
            sink.push(
                Diagnostic::new(
                    Code::DuplicateAttribute,
                    name.span,
                    format!("matrix axis `{}` is set twice", name.name),
                )
                .label("set again here")
                .related(*first, "first set here")
                .help("list every value of the axis once"),
            );
            continue;
        }
        spans.insert(name.name.clone(), name.span);
        let ExprKind::List(items) = &attribute.value.kind else {
            if !matches!(attribute.value.kind, ExprKind::Invalid) {
                sink.push(
                    Diagnostic::new(
                        Code::AttributeType,
                        attribute.value.span,
                        format!(
                            "matrix axis `{}` expects a list of values, found {}",
                            name.name,
                            attribute.value.kind.describe()
                        ),
                    )
                    .label("expected a list")
                    .help(format!("write `{} = [\"a\", \"b\"]`", name.name)),
                );
            }
            continue;
        };
        if items.is_empty() {
            sink.push(
                Diagnostic::new(
                    Code::EmptyList,
                    attribute.value.span,
                    format!("matrix axis `{}` has no values", name.name),
                )
                .label("empty list")
                .help("give the axis at least one value, or remove it"),
            );
            continue;
        }
        let mut values: Vec<String> = Vec::new();
        for item in items {
            let value = match &item.kind {
                ExprKind::String(s) => s.clone(),
                ExprKind::Integer(n) => n.to_string(),
                ExprKind::Bool(b) => b.to_string(),
                _ => String::new(),
            };
            if values.contains(&value) {
                sink.push(
                    Diagnostic::new(
                        Code::InvalidValue,
                        item.span,
                        format!("matrix axis `{}` lists `{value}` twice", name.name),
                    )
                    .label("listed again")
                    .help("list each value once: every combination becomes one job"),
                );
                continue;
            }
            match &item.kind {
                ExprKind::String(_) | ExprKind::Integer(_) | ExprKind::Bool(_) => {
                    values.push(value)
                }
                ExprKind::Invalid => {}
                other => sink.push(
                    Diagnostic::new(
                        Code::AttributeType,
                        item.span,
                        format!(
                            "a matrix value must be a string, an integer or a boolean, found {}",
                            other.describe()
                        ),
                    )
                    .label("not a matrix value")
                    .maybe_help(
                        matches!(other, ExprKind::Ident(_))
                            .then(|| format!("quote it: \"{}\"", slice_ident(item))),
                    ),
                ),
            }
        }
        out.insert(name.name.clone(), values);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::referenced_variable;

    #[test]
    fn finds_the_variables_a_shell_would_expand() {
        assert_eq!(referenced_variable("$HOME/x").as_deref(), Some("HOME"));
        assert_eq!(referenced_variable("a${B_1}c").as_deref(), Some("B_1"));
        assert_eq!(referenced_variable("$$5"), None);
        assert_eq!(referenced_variable("costs $5"), None);
        assert_eq!(referenced_variable("$"), None);
        assert_eq!(referenced_variable("${"), None);
        assert_eq!(referenced_variable("é$é$_x").as_deref(), Some("_x"));
        assert_eq!(referenced_variable("plain"), None);
    }
}

// v2 i13e: templates

/// How a template's value of an attribute and a job's (or a later template's) combine
/// (language v2 §3). Read from the attribute's type, so that every attribute added to a
/// schema gets a rule without an edit here: lists of names (`secrets`, `after`, `uses`)
/// concatenate without duplicates; every other value is a scalar, and the later one wins.
/// Blocks merge by their own rule (`check::templates`): `env` by key, `step` by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Merge {
    /// The later value replaces the earlier one.
    Scalar,
    /// The values concatenate, the earlier first, without duplicates.
    List,
}

impl Type {
    /// The merge rule of an attribute of this type.
    pub const fn merge(self) -> Merge {
        match self {
            Type::Names => Merge::List,
            _ => Merge::Scalar,
        }
    }
}
