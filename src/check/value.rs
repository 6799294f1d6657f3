//! Composed values (v2 §2 "Typed references and composed values", i13j): `"app:" + sha` in a
//! job's `image`/`runner`, an environment's `url` and `env` values (pipeline, environment,
//! job, step). [`read`] types each part where it is written (E0329 an unknown reference kind or a
//! part that is neither a string nor a reference, E0331 a secret outside a job's env, E0332 a
//! reference where the value must be fixed); [`check`] resolves them against the pipeline
//! (E0330 an unknown input/var, a `value.JOB.NAME` the job does not receive; E0331 a secret
//! the job does not list); W0118 a value of literals only.

use indexmap::IndexMap;

use super::Context;
use crate::codes::Code;
use crate::diagnostic::{Diagnostic, Sink, did_you_mean};
use crate::model::value::{KINDS, Part, Reference};
use crate::span::Span;
use crate::syntax::ast::{Attribute, Expr, ExprKind, ValuePart};

/// The attributes of a job whose value may be composed.
pub const JOB_PLACES: &[&str] = &["image", "runner"];

/// One part of a checked value: `matrix.KEY` is kept apart, it is fixed per instance.
#[derive(Debug, Clone, PartialEq)]
pub enum Piece {
    Text(String),
    Ref(Reference),
    Matrix(String),
}

/// A checked composed value, each piece with where it was written.
#[derive(Debug, Clone, PartialEq)]
pub struct Composed {
    pub pieces: Vec<(Piece, Span)>,
    pub span: Span,
}

impl Composed {
    /// The value with each `matrix.KEY` replaced by its value in `instance` (a key the
    /// instance lacks is empty: reported by the checker).
    pub fn resolve(&self, instance: &IndexMap<String, String>) -> Vec<Part> {
        let mut parts: Vec<Part> = Vec::new();
        for (piece, _) in &self.pieces {
            let part = match piece {
                Piece::Text(text) => Part::Text(text.clone()),
                Piece::Ref(reference) => Part::Ref(reference.clone()),
                Piece::Matrix(key) => Part::Text(instance.get(key).cloned().unwrap_or_default()),
            };
            // Adjacent literals are one part.
            match (parts.last_mut(), part) {
                (Some(Part::Text(last)), Part::Text(text)) => last.push_str(&text),
                (_, part) => parts.push(part),
            }
        }
        parts.retain(|p| !matches!(p, Part::Text(t) if t.is_empty()));
        parts
    }

    /// The literal text when the value holds no run-time reference.
    pub fn fixed(parts: &[Part]) -> Option<String> {
        parts
            .iter()
            .map(|p| match p {
                Part::Text(text) => Some(text.as_str()),
                Part::Ref(_) => None,
            })
            .collect::<Option<String>>()
    }
}

/// A job's composed values.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct JobValues {
    /// `env { NAME = "…" + sha }`, by name.
    pub env: IndexMap<String, Composed>,
    pub image: Option<Composed>,
    pub runner: Option<Composed>,
    /// The `with` values of native steps that read references (v2 §5).
    pub with: Vec<WithSlot>,
    /// The composed `env` values of its steps: the step's index in the job's steps, and
    /// its values by name.
    pub steps: Vec<(usize, IndexMap<String, Composed>)>,
}

impl JobValues {
    pub fn is_empty(&self) -> bool {
        self.env.is_empty()
            && self.image.is_none()
            && self.runner.is_none()
            && self.with.is_empty()
            && self.steps.is_empty()
    }
}

/// A `with` value of a native step that is not a plain literal: `with { password =
/// secret.TOKEN }` in the `github { }` block of the step `login`.
#[derive(Debug, Clone, PartialEq)]
pub struct WithSlot {
    /// The step's name (unique in its job).
    pub step: String,
    /// `github`, `circleci` or `buildkite`.
    pub target: String,
    /// The input's name.
    pub name: String,
    pub value: Composed,
}

/// Where a value is written: what it may read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    /// A job's `env`: everything.
    JobEnv,
    /// A job's `image`/`runner`: no secret.
    JobAttribute,
    /// The pipeline's or an environment's `env`, an environment's `url`: no secret, no
    /// matrix (they belong to no one job).
    Shared,
    /// A `with` value of a native step (v2 §5): everything; a secret goes to the target's
    /// own secret syntax.
    With,
}

/// Whether `expr` is a value this module reads rather than the schema: a `+`-joined value, or
/// a bare reference (`sha`, `input.x`; `matrix.KEY` is read by `check::matrix` for
/// `image`/`runner`, so only in `env`).
pub fn is_composed(expr: &Expr, in_env: bool) -> bool {
    match &expr.kind {
        ExprKind::Value(_) => true,
        ExprKind::Ident(name) => {
            Reference::parse(name).is_some() || (in_env && name.starts_with("matrix."))
        }
        _ => false,
    }
}

/// Splits a job's composed `image`/`runner` off its attributes (the rest are read by the
/// schema as before).
pub fn split(attributes: Vec<&Attribute>) -> (Vec<&Attribute>, Vec<&Attribute>) {
    attributes
        .into_iter()
        .partition(|a| JOB_PLACES.contains(&a.name.name.as_str()) && is_composed(&a.value, false))
}

/// Types a value written at `place`. `None` when a part was reported.
pub fn read(expr: &Expr, place: Place, sink: &mut Sink) -> Option<Composed> {
    let parts: Vec<ValuePart> = match &expr.kind {
        ExprKind::Value(value) => value.parts.clone(),
        ExprKind::Ident(name) => vec![ValuePart::Reference {
            name: name.clone(),
            span: expr.span,
        }],
        ExprKind::String(text) => vec![ValuePart::Literal {
            text: text.clone(),
            span: expr.span,
        }],
        _ => return None,
    };
    let mut pieces = Vec::new();
    let mut ok = true;
    for part in parts {
        let span = part.span();
        let piece = match part {
            ValuePart::Literal { text, .. } => Piece::Text(text),
            ValuePart::Reference { name, .. } => match reference(&name, span, place, sink) {
                Some(piece) => piece,
                None => {
                    ok = false;
                    continue;
                }
            },
            ValuePart::Other(other) => {
                if other.kind != ExprKind::Invalid {
                    sink.push(
                        Diagnostic::new(
                            Code::UnknownReference,
                            span,
                            format!(
                                "a part of a composed value must be a string or a reference, found {}",
                                other.kind.describe()
                            ),
                        )
                        .label("not a string or a reference")
                        .help("quote it (`\"1\"`), or name a reference: `sha`, `branch`, `input.NAME`, `matrix.KEY` …"),
                    );
                }
                ok = false;
                continue;
            }
        };
        pieces.push((piece, span));
    }
    let composed = Composed {
        pieces,
        span: expr.span,
    };
    if ok
        && matches!(expr.kind, ExprKind::Value(_))
        && composed
            .pieces
            .iter()
            .all(|(p, _)| matches!(p, Piece::Text(_)))
    {
        let joined: String = composed
            .pieces
            .iter()
            .map(|(p, _)| match p {
                Piece::Text(t) => t.as_str(),
                _ => "",
            })
            .collect();
        sink.push(
            Diagnostic::new(
                Code::ValueOfLiterals,
                expr.span,
                "this value joins only strings",
            )
            .label("no reference")
            .help(format!(
                "write one string: {}",
                crate::syntax::literal::quote(&joined)
            ))
            .suggest(expr.span, crate::syntax::literal::quote(&joined)),
        );
    }
    ok.then_some(composed)
}

/// Types one reference.
fn reference(name: &str, span: Span, place: Place, sink: &mut Sink) -> Option<Piece> {
    if let Some(key) = name.strip_prefix("matrix.") {
        if place == Place::Shared {
            sink.push(
                Diagnostic::new(
                    Code::StaticValue,
                    span,
                    format!("`{name}` belongs to one job's matrix, and this value to no one job"),
                )
                .label("no matrix here")
                .help("set the variable in the matrix job's own `env`"),
            );
            return None;
        }
        return Some(Piece::Matrix(key.to_string()));
    }
    let Some(reference) = Reference::parse(name) else {
        let kind = name.split('.').next().unwrap_or(name);
        let message = if KINDS.contains(&kind) {
            format!("`{name}` is not a whole reference")
        } else {
            format!("`{name}` is not a reference a value can read")
        };
        let help = if KINDS.contains(&kind) {
            match kind {
                "value" => "write `value.JOB.NAME`".to_string(),
                _ => format!("write `{kind}.NAME`"),
            }
        } else {
            did_you_mean(kind, KINDS.iter().copied())
                .map(|m| format!("{m} (a value reads `branch`, `tag`, `sha`, `repository`, `default_branch`, `workspace`, `matrix.KEY`, `input.NAME`, `var.NAME`, `value.JOB.NAME` or `secret.NAME`)"))
                .unwrap_or_else(|| "a value reads `branch`, `tag`, `sha`, `repository`, `default_branch`, `workspace`, `matrix.KEY`, `input.NAME`, `var.NAME`, `value.JOB.NAME` or `secret.NAME`; quote literal text".to_string())
        };
        sink.push(
            Diagnostic::new(Code::UnknownReference, span, message)
                .label("unknown reference")
                .help(help),
        );
        return None;
    };
    if let Reference::Secret(secret) = &reference
        && !matches!(place, Place::JobEnv | Place::With)
    {
        sink.push(
            Diagnostic::new(
                Code::SecretReference,
                span,
                format!("`{name}` may only stand in a job's `env` or a native step's `with`"),
            )
            .label("a secret here would be written where anyone reads it")
            .help(format!(
                "list the secret on the job (`secrets = [{secret}]`) and compose the value in its `env`"
            )),
        );
        return None;
    }
    Some(Piece::Ref(reference))
}

/// Reads an `env` block's composed values (the plain ones are read by
/// `attributes::string_map`, which leaves these out).
pub fn env(variables: &[Attribute], place: Place, sink: &mut Sink) -> IndexMap<String, Composed> {
    let mut out = IndexMap::new();
    for variable in variables {
        if !is_composed(&variable.value, true)
            || crate::check::attributes::env_name_problem(&variable.name.name).is_some()
            || out.contains_key(&variable.name.name)
        {
            continue;
        }
        if let Some(value) = read(&variable.value, place, sink) {
            out.insert(variable.name.name.clone(), value);
        }
    }
    out
}

/// A job's composed values: its `env` blocks' and its split-off `image`/`runner`.
pub fn job(
    body: &[crate::syntax::ast::BodyItem],
    composed: &[&Attribute],
    sink: &mut Sink,
) -> JobValues {
    let mut values = JobValues::default();
    for item in body {
        if let crate::syntax::ast::BodyItem::Env(block) = item {
            values
                .env
                .extend(env(&block.variables, Place::JobEnv, sink));
        }
    }
    for attribute in composed {
        let value = read(&attribute.value, Place::JobAttribute, sink);
        match attribute.name.name.as_str() {
            "image" => values.image = value,
            _ => values.runner = value,
        }
    }
    values
}

/// The composed `env` values of a job's steps (which `steps::read` made from `body`), each
/// with the index of its step: a step's `env` reads what a job's does.
pub fn steps(
    body: &[crate::syntax::ast::BodyItem],
    steps: &[crate::model::steps::Step],
    sink: &mut Sink,
) -> Vec<(usize, IndexMap<String, Composed>)> {
    let mut out: Vec<(usize, IndexMap<String, Composed>)> = Vec::new();
    for block in body.iter().filter_map(|item| match item {
        crate::syntax::ast::BodyItem::Step(block) => Some(block),
        _ => None,
    }) {
        let Some(index) = steps.iter().position(|s| s.name == block.name.name) else {
            continue;
        };
        if out.iter().any(|(i, _)| *i == index) {
            continue;
        }
        let mut values = IndexMap::new();
        for item in &block.items {
            if let crate::syntax::ast::StepItem::Env(e) = item {
                for (name, value) in env(&e.variables, Place::JobEnv, sink) {
                    values.entry(name).or_insert(value);
                }
            }
        }
        if !values.is_empty() {
            out.push((index, values));
        }
    }
    out
}

/// `matrix.KEY` pieces of a job's values, as `check::matrix` references (E0218/E0322).
pub fn matrix_references(values: &JobValues) -> Vec<super::matrix::MatrixReference> {
    let mut out = Vec::new();
    let named = values
        .env
        .iter()
        .map(|(name, v)| (format!("env `{name}`"), v))
        .chain(values.image.iter().map(|v| ("image".to_string(), v)))
        .chain(values.runner.iter().map(|v| ("runner".to_string(), v)))
        .chain(values.steps.iter().flat_map(|(_, step)| {
            step.iter()
                .map(|(name, v)| (format!("env `{name}` of a step"), v))
        }));
    let with = values.with.iter().map(|w| (w.name.clone(), &w.value));
    for (attribute, value) in named.chain(with) {
        for (piece, span) in &value.pieces {
            if let Piece::Matrix(key) = piece {
                out.push(super::matrix::MatrixReference {
                    attribute: attribute.clone(),
                    key: key.clone(),
                    span: *span,
                });
            }
        }
    }
    out
}

/// E0332: a composed value where the value must be fixed (read by the schema, a condition…).
pub fn not_here(expr: &Expr, what: &str) -> Diagnostic {
    Diagnostic::new(
        Code::StaticValue,
        expr.span,
        format!("{what} must be fixed: a composed value is computed when the job runs"),
    )
    .label("composed value")
    .help("composed values stand in a job's and a step's `env`, a job's `image` and `runner`, the pipeline's and an environment's `env`, an environment's `url`, and the `with` of a native step; pass it to commands through `env { NAME = … }`")
}

/// Resolves every value's references against the pipeline.
pub fn check(cx: &Context, sink: &mut Sink) {
    let pipeline = cx.pipeline;
    let shared = pipeline.composed_env.values().chain(
        pipeline
            .environments
            .values()
            .flat_map(|e| e.composed_env.values().chain(&e.composed_url)),
    );
    for value in shared {
        references(cx, value, None, sink);
    }
    for (index, job) in pipeline.jobs.iter().enumerate() {
        let values = &job.composed;
        for value in values
            .env
            .values()
            .chain(&values.image)
            .chain(&values.runner)
            .chain(
                job.review
                    .iter()
                    .flat_map(|r| std::iter::once(&r.name).chain(&r.url)),
            )
            .chain(job.trigger.iter().map(|t| &t.project))
        {
            references(cx, value, Some(index), sink);
        }
        for slot in &values.with {
            references(cx, &slot.value, Some(index), sink);
            if let Some(step) = job.steps.iter().find(|s| s.name == slot.step) {
                step_secrets(job, step, &slot.value, sink);
            }
        }
        for (step, step_values) in &values.steps {
            for value in step_values.values() {
                references(cx, value, Some(index), sink);
                if let Some(step) = job.steps.get(*step) {
                    step_secrets(job, step, value, sink);
                }
            }
        }
    }
}

/// E0331: a step's value (its `env` or a native form's `with`) reads a secret that other
/// steps of the job took for themselves (`secrets = [NAME]` on a step), which this step does
/// not list: it runs without it.
fn step_secrets(
    job: &super::model::Job,
    step: &crate::model::steps::Step,
    value: &Composed,
    sink: &mut Sink,
) {
    for (piece, span) in &value.pieces {
        let Piece::Ref(Reference::Secret(name)) = piece else {
            continue;
        };
        let taken = job.steps.iter().any(|s| s.secrets.contains(name));
        if !taken || step.secrets.contains(name) || !job.secrets.iter().any(|s| &s.name == name) {
            continue;
        }
        let mut listed = step.secrets.clone();
        listed.push(name.clone());
        sink.push(
            Diagnostic::new(
                Code::SecretReference,
                *span,
                format!(
                    "the step `{}` of `{}` reads `secret.{name}`, which only the steps that list it receive",
                    step.name, job.name
                ),
            )
            .label("not given to this step")
            .help(format!(
                "list it on the step: `secrets = [{}]`",
                listed.join(", ")
            )),
        );
    }
}

fn references(cx: &Context, value: &Composed, job: Option<usize>, sink: &mut Sink) {
    let pipeline = cx.pipeline;
    for (piece, span) in &value.pieces {
        let Piece::Ref(reference) = piece else {
            continue;
        };
        let span = *span;
        match reference {
            Reference::Input(name) | Reference::Var(name) => {
                let text = reference.to_string();
                if super::inputs::resolve_reference(pipeline, &text).is_some() {
                    continue;
                }
                let (keyword, declared): (&str, Vec<&str>) = match reference {
                    Reference::Input(_) => (
                        "input",
                        pipeline.inputs.keys().map(String::as_str).collect(),
                    ),
                    _ => ("var", pipeline.vars.keys().map(String::as_str).collect()),
                };
                sink.push(
                    Diagnostic::new(
                        Code::UnresolvedReference,
                        span,
                        format!("the pipeline declares no {keyword} `{name}`"),
                    )
                    .label(format!("unknown {keyword}"))
                    .help(did_you_mean(name, declared).unwrap_or_else(|| {
                        format!("declare it in the pipeline: `{keyword} {name} {{ … }}`")
                    })),
                );
            }
            Reference::Value { job: writer, name } => {
                let Some(index) = job else { continue };
                let reader = &pipeline.jobs[index];
                let Some(id) = pipeline.job_names.get(writer) else {
                    sink.push(
                        Diagnostic::new(
                            Code::UnresolvedReference,
                            span,
                            format!("no job is named `{writer}`"),
                        )
                        .label("unknown job")
                        .maybe_help(did_you_mean(
                            writer,
                            pipeline.jobs.iter().map(|j| j.name.as_str()),
                        )),
                    );
                    continue;
                };
                let writer_job = pipeline.job(*id);
                if !writer_job.values.iter().any(|v| &v.name == name) {
                    let declared: Vec<&str> =
                        writer_job.values.iter().map(|v| v.name.as_str()).collect();
                    sink.push(
                        Diagnostic::new(
                            Code::UnresolvedReference,
                            span,
                            format!("`{writer}` declares no value `{name}`"),
                        )
                        .label("undeclared value")
                        .help(did_you_mean(name, declared).unwrap_or_else(|| {
                            format!("declare it on `{writer}`: `values = [{name}]`")
                        })),
                    );
                } else if id.0 == index || !super::values::waits_for(cx, index, id.0) {
                    sink.push(
                        Diagnostic::new(
                            Code::UnresolvedReference,
                            span,
                            format!("`{}` does not wait for `{writer}`, so it does not receive its value `{name}`", reader.name),
                        )
                        .label("a value reaches only the jobs that wait for its writer")
                        .help(if id.0 == index {
                            "pass it between the job's own steps through `$CDL_ENV`".to_string()
                        } else {
                            format!("make it wait: `after = [{writer}]`, or move it to a later stage")
                        }),
                    );
                }
            }
            Reference::Secret(name) => {
                let Some(index) = job else { continue };
                let reader = &pipeline.jobs[index];
                if !reader.secrets.iter().any(|s| &s.name == name) {
                    sink.push(
                        Diagnostic::new(
                            Code::SecretReference,
                            span,
                            format!(
                                "`{}` reads `secret.{name}` but does not list the secret",
                                reader.name
                            ),
                        )
                        .label("not given to this job")
                        .help(format!("list it on the job: `secrets = [{name}]`")),
                    );
                }
            }
            _ => {}
        }
    }
}
