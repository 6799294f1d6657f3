//! The syntax tree of one `.cdl` file. Every node carries an owned byte span.
//!
//! Items keep the order they were written in (the formatter prints them back); attribute
//! values are untyped expressions, given a type by `check::attributes`.

pub use crate::model::CompareOp;
use crate::span::{Ident, Span};

#[derive(Debug, Clone, PartialEq)]
pub struct File {
    pub items: Vec<TopItem>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum TopItem {
    Import(Import),
    Kind(KindDecl),
    Team(TeamDecl),
    Pipeline(Pipeline),
    // v2 i13e: templates
    Template(TemplateDecl),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Import {
    /// The path as written, unescaped: `std/…` or a path relative to this file.
    pub path: String,
    pub path_span: Span,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct KindDecl {
    pub doc: Option<String>,
    pub name: Ident,
    pub attributes: Vec<Attribute>,
    pub span: Span,
}

/// `team NAME { members = [...] }`: people who approve together as `@NAME`.
#[derive(Debug, Clone, PartialEq)]
pub struct TeamDecl {
    pub doc: Option<String>,
    pub name: Ident,
    pub attributes: Vec<Attribute>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Pipeline {
    pub doc: Option<String>,
    pub name: Ident,
    pub items: Vec<PipelineItem>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum PipelineItem {
    Attribute(Attribute),
    Trigger(Trigger),
    Env(EnvBlock),
    Secret(SecretDecl),
    Team(TeamDecl),
    Environment(EnvironmentDecl),
    Stage(StageDecl),
    // v2 i13d: `input NAME { … }` and `var NAME { … }`.
    Parameter(ParameterDecl),
    /// v2 i14a: `permissions { … }`, `concurrency { … }`, `checkout { … }`.
    Setting(SettingBlock),
}

/// `service NAME { image = "…"  env { … }  port = 5432 … }`: a container the job talks to
/// (v2 §9, i14d). Its items are those of a step: attributes and one `env` block.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceBlock {
    pub doc: Option<String>,
    pub name: Ident,
    pub items: Vec<StepItem>,
    pub span: Span,
}

/// `input NAME { … }` or `var NAME { … }` (v2 i13d).
#[derive(Debug, Clone, PartialEq)]
pub struct ParameterDecl {
    pub doc: Option<String>,
    pub keyword: ParameterKeyword,
    pub name: Ident,
    pub attributes: Vec<Attribute>,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParameterKeyword {
    Input,
    Var,
}

impl ParameterKeyword {
    pub fn as_str(self) -> &'static str {
        match self {
            ParameterKeyword::Input => "input",
            ParameterKeyword::Var => "var",
        }
    }
}

/// `on EVENT { … }`; `attributes` is `None` when no block was written.
#[derive(Debug, Clone, PartialEq)]
pub struct Trigger {
    pub doc: Option<String>,
    pub event: Ident,
    pub attributes: Option<Vec<Attribute>>,
    pub span: Span,
}

/// `env { NAME = "value" … }`
#[derive(Debug, Clone, PartialEq)]
pub struct EnvBlock {
    pub variables: Vec<Attribute>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SecretDecl {
    pub doc: Option<String>,
    pub name: Ident,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct EnvironmentDecl {
    pub doc: Option<String>,
    pub name: Ident,
    pub items: Vec<EnvironmentItem>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum EnvironmentItem {
    Attribute(Attribute),
    Env(EnvBlock),
    Requires(Requirement),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Requirement {
    pub kind: RequirementKind,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum RequirementKind {
    Approval,
    Tests(Vec<Ident>),
    Promotion(Ident),
}

#[derive(Debug, Clone, PartialEq)]
pub struct StageDecl {
    pub doc: Option<String>,
    pub name: Ident,
    pub jobs: Vec<JobDecl>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct JobDecl {
    pub doc: Option<String>,
    pub form: JobForm,
    pub body: Vec<BodyItem>,
    /// From the keyword to the end of the header (before `{`).
    pub header_span: Span,
    pub span: Span,
    // v2 i13e: templates
    /// `from A, B` ending the head: the templates this job merges, left to right.
    pub from: Option<FromClause>,
}

/// The five job forms.
#[derive(Debug, Clone, PartialEq)]
pub enum JobForm {
    Artifact {
        name: Ident,
    },
    Test {
        kind: Ident,
        name: Option<Ident>,
        environment: Option<Ident>,
    },
    Deploy {
        artifact: Ident,
        environment: Ident,
        name: Option<Ident>,
    },
    Gate {
        name: Ident,
    },
    Job {
        name: Ident,
    },
}

impl JobForm {
    pub fn keyword(&self) -> &'static str {
        match self {
            JobForm::Artifact { .. } => "artifact",
            JobForm::Test { .. } => "test",
            JobForm::Deploy { .. } => "deploy",
            JobForm::Gate { .. } => "gate",
            JobForm::Job { .. } => "job",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum BodyItem {
    Attribute(Attribute),
    Env(EnvBlock),
    Matrix(MatrixBlock),
    Step(StepBlock),
    Reports(ReportsBlock),
    /// v2 i14a: `permissions { … }`, `oidc { … }`, `checkout { … }`.
    Setting(SettingBlock),
    /// v2 i14d: `service NAME { … }`.
    Service(ServiceBlock),
    /// v2 i14c: `cache NAME { key = [...]  paths = [...]  policy = ... }`.
    Cache(CacheBlock),
}

/// `cache NAME { key = [...]  paths = [...]  policy = pull_push }`: a named cache a job restores
/// before its first step and saves after success (v2 §9, i14c).
#[derive(Debug, Clone, PartialEq)]
pub struct CacheBlock {
    pub doc: Option<String>,
    pub name: Ident,
    pub attributes: Vec<Attribute>,
    pub span: Span,
}

/// `reports { junit = [...]  coverage = "..." }`: a job's test reports (v2 §8, i13h).
#[derive(Debug, Clone, PartialEq)]
pub struct ReportsBlock {
    pub kinds: Vec<Attribute>,
    pub span: Span,
}

/// `step NAME { run = "…"  env { … } … }`: one step of a job (v2, i13b).
#[derive(Debug, Clone, PartialEq)]
pub struct StepBlock {
    pub doc: Option<String>,
    pub name: Ident,
    pub items: Vec<StepItem>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum StepItem {
    Attribute(Attribute),
    Env(EnvBlock),
    /// v2 i14e: `github { … }`, `circleci { … }`, `buildkite { … }`.
    Native(NativeBlock),
}

/// `github { uses = "…"  with { … } }` (or `circleci`, `buildkite`): a step's form for one
/// target (v2 §5, i14e).
#[derive(Debug, Clone, PartialEq)]
pub struct NativeBlock {
    /// `github`, `circleci` or `buildkite`.
    pub target: Ident,
    pub items: Vec<NativeItem>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum NativeItem {
    Attribute(Attribute),
    /// `with { KEY = "…" }`, its word `with`.
    With(SettingBlock),
}

/// `matrix { NAME = [values] … }`
#[derive(Debug, Clone, PartialEq)]
pub struct MatrixBlock {
    pub axes: Vec<Attribute>,
    pub span: Span,
    // v2 i13g: `include { … }` and `exclude { … }`, in written order.
    pub entries: Vec<MatrixEntry>,
}

/// `include { key = value … }` or `exclude { axis = value … }` in a `matrix` (v2 §7).
#[derive(Debug, Clone, PartialEq)]
pub struct MatrixEntry {
    pub kind: MatrixEntryKind,
    /// The `include` / `exclude` word.
    pub keyword: Span,
    pub values: Vec<Attribute>,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatrixEntryKind {
    Include,
    Exclude,
}

impl MatrixEntryKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MatrixEntryKind::Include => "include",
            MatrixEntryKind::Exclude => "exclude",
        }
    }
}

/// `name = value`
#[derive(Debug, Clone, PartialEq)]
pub struct Attribute {
    pub doc: Option<String>,
    pub name: Ident,
    pub value: Expr,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ExprKind {
    String(String),
    Integer(i64),
    /// In seconds.
    Duration(u64),
    Bool(bool),
    Ident(String),
    List(Vec<Expr>),
    Compare {
        op: CompareOp,
        left: Box<Expr>,
        right: Box<Expr>,
    },
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
    /// A literal that could not be read (already reported); checks skip it.
    Invalid,
    // v2 i13d
    /// `defined(secret.NAME)`, `defined(var.NAME)`: the name as written.
    Defined(String),
    // v2 i14b
    /// `changed("glob", …)`: the arguments as written (the checker wants path-glob strings).
    Changed(Vec<Expr>),
    // v2 i13j
    /// `"ghcr.io/acme/app:" + sha`: literals and references joined by `+`.
    Value(Value),
}

impl ExprKind {
    /// What the value is, in the user's words ("a string", "a duration" …).
    pub fn describe(&self) -> &'static str {
        match self {
            ExprKind::String(_) => "a string",
            ExprKind::Integer(_) => "an integer",
            ExprKind::Duration(_) => "a duration",
            ExprKind::Bool(_) => "a boolean",
            ExprKind::Ident(_) => "a name",
            ExprKind::List(_) => "a list",
            ExprKind::Compare { .. }
            | ExprKind::And(..)
            | ExprKind::Or(..)
            | ExprKind::Not(_)
            | ExprKind::Defined(_)
            | ExprKind::Changed(_) => "a condition",
            ExprKind::Invalid => "an invalid value",
            ExprKind::Value(_) => "a composed value",
        }
    }
}

/// `template NAME [from A, B] { … }` at the top of a file: attributes and blocks that jobs
/// merge with `from NAME` (v2 §3, i13e).
#[derive(Debug, Clone, PartialEq)]
pub struct TemplateDecl {
    pub doc: Option<String>,
    pub name: Ident,
    pub from: Option<FromClause>,
    pub body: Vec<BodyItem>,
    /// From `template` to the end of the head (before `{`).
    pub header_span: Span,
    pub span: Span,
}

/// `from A, B`: the templates a job or template merges, left to right (later wins).
#[derive(Debug, Clone, PartialEq)]
pub struct FromClause {
    /// The `from` keyword.
    pub keyword: Span,
    pub templates: Vec<Ident>,
    pub span: Span,
}

/// `permissions { … }`, `oidc { … }`, `concurrency { … }` or `checkout { … }`: a platform
/// setting of the pipeline or a job (v2 §9, i14a).
#[derive(Debug, Clone, PartialEq)]
pub struct SettingBlock {
    pub doc: Option<String>,
    /// The block's word (`permissions`).
    pub word: Ident,
    pub attributes: Vec<Attribute>,
    pub span: Span,
}

/// `"ghcr.io/acme/app:" + sha`: a composed value, the parts joined by `+` in written order
/// (v2 §2 "Typed references and composed values", i13j). What each part may be is checked by
/// `check::value`; lowering keeps whatever was written.
#[derive(Debug, Clone, PartialEq)]
pub struct Value {
    pub parts: Vec<ValuePart>,
    pub span: Span,
}

/// One part of a [`Value`].
#[derive(Debug, Clone, PartialEq)]
pub enum ValuePart {
    /// A string literal, unescaped.
    Literal { text: String, span: Span },
    /// A name: `sha`, `matrix.os`, `value.build.version` … as written.
    Reference { name: String, span: Span },
    /// Anything else (a number, a list, a condition): reported by the checker.
    Other(Expr),
}

impl ValuePart {
    pub fn span(&self) -> Span {
        match self {
            ValuePart::Literal { span, .. } | ValuePart::Reference { span, .. } => *span,
            ValuePart::Other(expr) => expr.span,
        }
    }

    fn of(expr: Expr) -> Vec<ValuePart> {
        match expr.kind {
            ExprKind::Value(value) => value.parts,
            ExprKind::String(text) => vec![ValuePart::Literal {
                text,
                span: expr.span,
            }],
            ExprKind::Ident(name) => vec![ValuePart::Reference {
                name,
                span: expr.span,
            }],
            _ => vec![ValuePart::Other(expr)],
        }
    }
}

impl Value {
    /// `left + right`, flattened: `a + b + c` is one value of three parts.
    pub fn join(left: Expr, right: Expr, span: Span) -> Value {
        let mut parts = ValuePart::of(left);
        parts.extend(ValuePart::of(right));
        Value { parts, span }
    }
}
