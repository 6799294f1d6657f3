//! `input` and `var` declarations (v2 §2) and the condition atoms that read them, with
//! `repository`, `branch == default_branch` and `defined(…)`: typing a comparison
//! (`compare`, called by `check::condition`), resolving the declarations, and checking every
//! `input.X` / `var.X` / `defined(secret.X)` written in the pipeline against them.

use indexmap::IndexMap;

use super::attributes::{self as schema, Attributes};
use super::model::Pipeline;
use crate::codes::Code;
use crate::diagnostic::{Diagnostic, Sink, did_you_mean};
use crate::model::CompareOp;
use crate::model::condition::{Condition, Variable};
use crate::model::inputs::{Input, InputType, Var};
use crate::span::Span;
use crate::syntax::ast::{self, Expr, ExprKind, ParameterKeyword};

/// What `input.NAME` or `var.NAME` refers to: the declaration, with its type. For the
/// checker's other users (composed values): `None` when the text names no declaration.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Reference<'a> {
    Input(&'a Input),
    Var(&'a Var),
}

impl Reference<'_> {
    /// The type of the value: a bool input is `true`/`false`, everything else text.
    pub fn is_bool(&self) -> bool {
        matches!(self, Reference::Input(i) if i.input_type == InputType::Bool)
    }
}

/// Resolves `input.NAME` / `var.NAME` against the checked pipeline.
pub fn resolve_reference<'a>(pipeline: &'a Pipeline, text: &str) -> Option<Reference<'a>> {
    let (prefix, name) = text.split_once('.')?;
    match prefix {
        "input" => pipeline.inputs.get(name).map(Reference::Input),
        "var" => pipeline.vars.get(name).map(Reference::Var),
        _ => None,
    }
}

/// Whether a name in a condition is one of the v2 atoms' variables.
pub fn is_new_variable(name: &str) -> bool {
    ["input.", "var.", "secret."]
        .iter()
        .any(|p| name.starts_with(p))
        || name == "repository"
        || name == "default_branch"
}

/// How to use a v2 variable in a condition.
pub fn compare_help(name: &str) -> String {
    match name {
        "default_branch" => "compare the branch with it: `branch == default_branch`".into(),
        "repository" => "compare it: `repository == \"owner/name\"`".into(),
        n if n.starts_with("secret.") => format!("test that it is set: `defined({n})`"),
        n if n.starts_with("var.") => {
            format!("compare it (`{n} == \"1\"`) or test it: `defined({n})`")
        }
        n => format!("compare it: `{n} == \"…\"` (a bool input: `{n} == true`)"),
    }
}

fn condition_error(
    span: Span,
    message: impl Into<String>,
    label: &str,
    help: impl Into<String>,
) -> Diagnostic {
    Diagnostic::new(Code::ConditionType, span, message)
        .label(label)
        .help(help)
}

/// `defined(secret.NAME)` / `defined(var.NAME)`: set and not empty.
pub fn defined(name: &str, span: Span, sink: &mut Sink) -> Option<Condition> {
    let variable = match name.split_once('.') {
        Some(("secret", n)) if is_name(n) => Variable::Secret(n.to_string()),
        Some(("var", n)) if is_name(n) => Variable::Var(n.to_string()),
        _ => {
            sink.push(condition_error(
                span,
                format!("`defined` takes a secret or a var, not `{name}`"),
                "not a secret or a var",
                "write `defined(secret.NAME)` or `defined(var.NAME)`",
            ));
            return None;
        }
    };
    Some(Condition::Compare {
        variable,
        op: CompareOp::NotEqual,
        value: String::new(),
    })
}

fn is_name(name: &str) -> bool {
    !name.is_empty() && !name.contains(['.', ':', '/'])
}

/// Types a comparison in which a v2 variable stands; `None` when neither side is one (the
/// comparison is v1's).
pub fn compare(
    op: CompareOp,
    left: &Expr,
    right: &Expr,
    span: Span,
    sink: &mut Sink,
) -> Option<Option<Condition>> {
    let ident = |e: &Expr| match &e.kind {
        ExprKind::Ident(n) => Some(n.clone()),
        _ => None,
    };
    let (l, r) = (ident(left), ident(right));
    // `branch == default_branch`, either way round.
    let default_branch = match (l.as_deref(), r.as_deref()) {
        (Some("branch"), Some("default_branch")) | (Some("default_branch"), Some("branch")) => true,
        (Some("default_branch"), _) | (_, Some("default_branch")) => {
            sink.push(condition_error(
                span,
                "`default_branch` is compared with `branch` only",
                "expected `branch == default_branch`",
                "write `branch == default_branch` or `branch != default_branch`",
            ));
            return Some(None);
        }
        _ => false,
    };
    if default_branch {
        if op == CompareOp::Matches {
            sink.push(condition_error(
                span,
                "`default_branch` is a name, not a glob",
                "`matches` takes a glob",
                "write `branch == default_branch`",
            ));
            return Some(None);
        }
        return Some(Some(Condition::Compare {
            variable: Variable::OnDefaultBranch,
            op,
            value: "true".into(),
        }));
    }
    let (name, variable_expr, value_expr) = match (&l, &r) {
        (Some(n), _) if is_new_variable(n) => (n.clone(), left, right),
        (_, Some(n)) if is_new_variable(n) && op != CompareOp::Matches => (n.clone(), right, left),
        _ => return None,
    };
    let variable = match name.split_once('.') {
        None => Variable::Repository,
        Some(("secret", _)) => {
            sink.push(condition_error(
                variable_expr.span,
                format!("a secret's value is never compared: `{name}`"),
                "a secret",
                format!("test that it is set: `defined({name})`"),
            ));
            return Some(None);
        }
        Some((_, n)) if !is_name(n) => {
            sink.push(
                Diagnostic::new(
                    Code::UnknownInput,
                    variable_expr.span,
                    format!("`{name}` is not a name of an input or a var"),
                )
                .label("not a name")
                .help("an input or a var is read as `input.NAME` or `var.NAME`"),
            );
            return Some(None);
        }
        Some(("input", n)) => Variable::Input(n.to_string()),
        Some((_, n)) => Variable::Var(n.to_string()),
    };
    let value = match (&variable, &value_expr.kind) {
        (_, ExprKind::Invalid) => return Some(None),
        (_, ExprKind::String(text)) => text.clone(),
        (Variable::Input(_), ExprKind::Bool(b)) if op != CompareOp::Matches => b.to_string(),
        (_, other) => {
            let help = match (&variable, other) {
                (Variable::Var(_), ExprKind::Bool(b)) => {
                    format!("a var is text: write `{name} {} \"{b}\"`", op.as_str())
                }
                _ => format!("write the value in quotes: `{name} {} \"…\"`", op.as_str()),
            };
            sink.push(condition_error(
                value_expr.span,
                format!("`{name}` cannot be compared with {}", other.describe()),
                "expected a string",
                help,
            ));
            return Some(None);
        }
    };
    if variable == Variable::Repository {
        let valid = |c: char| c.is_ascii_alphanumeric() || "._/-".contains(c);
        let bad = if op == CompareOp::Matches {
            value.chars().any(|c| !(valid(c) || "*?[]!+".contains(c)))
        } else {
            !value.contains('/') || value.chars().any(|c| !valid(c))
        };
        if bad {
            sink.push(condition_error(
                value_expr.span,
                format!("{value:?} is not a repository's `owner/name`"),
                "not `owner/name`",
                "write the repository as `owner/name` (letters, digits, `.`, `_`, `-`), e.g. `repository == \"acme/app\"`",
            ));
            return Some(None);
        }
    }
    Some(Some(Condition::Compare {
        variable,
        op,
        value,
    }))
}

/// Reads the pipeline's `input` and `var` declarations into `pipeline`, then checks every
/// reference to them (and `defined(secret.X)`) written anywhere in the pipeline.
pub fn resolve(decl: &ast::Pipeline, pipeline: &mut Pipeline, sink: &mut Sink) {
    let mut first: IndexMap<String, Span> = IndexMap::new();
    for item in &decl.items {
        let ast::PipelineItem::Parameter(parameter) = item else {
            continue;
        };
        let name = &parameter.name;
        let key = format!(
            "{} {}",
            parameter.keyword.as_str(),
            name.name.to_uppercase().replace('-', "_")
        );
        if let Some(span) = first.get(&key) {
            sink.push(super::resolve::duplicate(
                parameter.keyword.as_str(),
                name,
                *span,
            ));
            continue;
        }
        first.insert(key, name.span);
        match parameter.keyword {
            ParameterKeyword::Input => {
                if let Some(input) = input(parameter, sink) {
                    pipeline.inputs.insert(name.name.clone(), input);
                }
            }
            ParameterKeyword::Var => {
                if let Some(problem) = schema::env_name_problem(&name.name) {
                    sink.push(problem.at(name.span));
                    continue;
                }
                if let Some(secret) = pipeline.secrets.get(&name.name) {
                    sink.push(
                        Diagnostic::new(
                            Code::VarNamedLikeSecret,
                            name.span,
                            format!("the var `{}` has the name of a secret", name.name),
                        )
                        .label("a var")
                        .related(secret.name.span, "the secret")
                        .help("a job gets both under that name; rename one of them"),
                    );
                }
                let (attrs, default) = read(parameter, schema::VAR, sink);
                let default = match default {
                    Some(Expr {
                        kind: ExprKind::String(s),
                        ..
                    }) => Some(s.clone()),
                    Some(other) => {
                        type_error(
                            other,
                            "a var's `default` is text",
                            "write it in quotes",
                            sink,
                        );
                        None
                    }
                    None => None,
                };
                pipeline.vars.insert(
                    name.name.clone(),
                    Var {
                        name: name.name.clone(),
                        default,
                        description: attrs.string("description"),
                    },
                );
            }
        }
    }
    let mut walker = References { pipeline, sink };
    for item in &decl.items {
        walker.pipeline_item(item);
    }
}

fn type_error(expr: &Expr, message: &str, help: &str, sink: &mut Sink) {
    sink.push(
        Diagnostic::new(
            Code::AttributeType,
            expr.span,
            format!("{message}, found {}", expr.kind.describe()),
        )
        .label("wrong type")
        .help(help),
    );
}

/// The declaration's attributes except `default`, and the `default` expression.
fn read<'a>(
    parameter: &'a ast::ParameterDecl,
    spec: &'static [schema::Spec],
    sink: &mut Sink,
) -> (Attributes, Option<&'a Expr>) {
    let block = format!("{} `{}`", parameter.keyword.as_str(), parameter.name.name);
    let attrs = Attributes::read(
        spec,
        &block,
        parameter
            .attributes
            .iter()
            .filter(|a| a.name.name != "default"),
        sink,
    );
    let defaults: Vec<&ast::Attribute> = parameter
        .attributes
        .iter()
        .filter(|a| a.name.name == "default")
        .collect();
    if let [first, second, ..] = defaults.as_slice() {
        sink.push(
            Diagnostic::new(
                Code::DuplicateAttribute,
                second.name.span,
                "`default` is set twice",
            )
            .label("second `default`")
            .related(first.name.span, "first `default`")
            .help("keep one of them"),
        );
    }
    (attrs, defaults.first().map(|a| &a.value))
}

fn invalid_input(span: Span, message: String, label: &str, help: String) -> Diagnostic {
    Diagnostic::new(Code::InvalidInput, span, message)
        .label(label)
        .help(help)
}

fn input(parameter: &ast::ParameterDecl, sink: &mut Sink) -> Option<Input> {
    let name = &parameter.name;
    if !name
        .name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        return None;
    }
    let (attrs, default) = read(parameter, schema::INPUT, sink);
    let input_type = attrs
        .word("type")
        .and_then(|w| {
            InputType::ALL
                .iter()
                .find(|(n, _)| *n == w)
                .map(|(_, t)| *t)
        })
        .unwrap_or(InputType::String);
    let choices = attrs.strings("choices");
    let mut ok = true;
    match (input_type, choices.is_empty()) {
        (InputType::Choice, true) => {
            sink.push(invalid_input(
                attrs.name_span("type").unwrap_or(name.span),
                format!("the choice input `{}` has no choices", name.name),
                "a choice without choices",
                "list its values: `choices = [\"staging\", \"production\"]`".into(),
            ));
            ok = false;
        }
        (InputType::String | InputType::Bool, false) => {
            sink.push(invalid_input(
                attrs.name_span("choices").unwrap_or(name.span),
                format!(
                    "`choices` on the {} input `{}`",
                    input_type.as_str(),
                    name.name
                ),
                "only a choice input has choices",
                "write `type = choice`, or remove `choices`".into(),
            ));
            ok = false;
        }
        _ => {}
    }
    for (i, choice) in choices.iter().enumerate() {
        if choices[..i].contains(choice) {
            sink.push(invalid_input(
                attrs
                    .item_spans("choices")
                    .get(i)
                    .copied()
                    .unwrap_or(name.span),
                format!("the choice {choice:?} is listed twice"),
                "repeated",
                "list each value once".into(),
            ));
            ok = false;
        }
    }
    let default = match (input_type, default) {
        (_, None) => None,
        (
            InputType::Bool,
            Some(Expr {
                kind: ExprKind::Bool(b),
                ..
            }),
        ) => Some(b.to_string()),
        (InputType::Bool, Some(other)) => {
            sink.push(invalid_input(
                other.span,
                format!(
                    "the bool input `{}` has a default that is not `true` or `false`",
                    name.name
                ),
                "not a bool",
                "write `default = true` or `default = false`, without quotes".into(),
            ));
            ok = false;
            None
        }
        (
            _,
            Some(Expr {
                kind: ExprKind::String(s),
                ..
            }),
        ) => Some(s.clone()),
        (_, Some(other)) => {
            let help = match &other.kind {
                ExprKind::Bool(b) => {
                    format!("write `type = bool` for a bool input, or `default = \"{b}\"`")
                }
                _ => "write the default in quotes".to_string(),
            };
            sink.push(invalid_input(
                other.span,
                format!(
                    "the {} input `{}` has a default that is {}",
                    input_type.as_str(),
                    name.name,
                    other.kind.describe()
                ),
                "not text",
                help,
            ));
            ok = false;
            None
        }
    };
    if let (InputType::Choice, Some(value)) = (input_type, &default)
        && !choices.is_empty()
        && !choices.contains(value)
    {
        sink.push(invalid_input(
            parameter
                .attributes
                .iter()
                .find(|a| a.name.name == "default")
                .map_or(name.span, |a| a.value.span),
            format!(
                "the default {value:?} is not one of the choices of `{}`",
                name.name
            ),
            "not a choice",
            did_you_mean(value, choices.iter().map(String::as_str))
                .unwrap_or_else(|| format!("use one of {}", quoted(&choices))),
        ));
        ok = false;
    }
    // An invalid input is still declared (its references are not reported again).
    Some(Input {
        name: name.name.clone(),
        input_type,
        default: default.filter(|_| ok),
        choices,
        description: attrs.string("description"),
    })
}

fn quoted(values: &[String]) -> String {
    values
        .iter()
        .map(|v| format!("{v:?}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Checks every `input.X`, `var.X` and `defined(secret.X)` against the declarations.
struct References<'a, 'b> {
    pipeline: &'a Pipeline,
    sink: &'b mut Sink,
}

impl<'a> References<'a, '_> {
    fn pipeline_item(&mut self, item: &ast::PipelineItem) {
        match item {
            ast::PipelineItem::Attribute(a) => self.expr(&a.value),
            ast::PipelineItem::Environment(e) => {
                for item in &e.items {
                    if let ast::EnvironmentItem::Attribute(a) = item {
                        self.expr(&a.value);
                    }
                }
            }
            ast::PipelineItem::Stage(stage) => {
                for job in &stage.jobs {
                    for item in &job.body {
                        match item {
                            ast::BodyItem::Attribute(a) => self.expr(&a.value),
                            ast::BodyItem::Step(step) => {
                                for item in &step.items {
                                    if let ast::StepItem::Attribute(a) = item {
                                        self.expr(&a.value);
                                    }
                                }
                            }
                            ast::BodyItem::Service(service) => {
                                for item in &service.items {
                                    if let ast::StepItem::Attribute(a) = item {
                                        self.expr(&a.value);
                                    }
                                }
                            }
                            ast::BodyItem::Env(_)
                            | ast::BodyItem::Matrix(_)
                            | ast::BodyItem::Reports(_)
                            | ast::BodyItem::Setting(_)
                            | ast::BodyItem::Cache(_) => {}
                        }
                    }
                }
            }
            _ => {}
        }
    }

    fn expr(&mut self, expr: &Expr) {
        match &expr.kind {
            ExprKind::Ident(name) => {
                self.reference(name, expr.span);
            }
            ExprKind::Defined(name) => {
                if let Some(secret) = name.strip_prefix("secret.") {
                    if !self.pipeline.secrets.contains_key(secret) {
                        self.sink.push(
                            Diagnostic::new(
                                Code::UnknownSecret,
                                expr.span,
                                format!("no secret named `{secret}`"),
                            )
                            .label("not declared")
                            .help(
                                did_you_mean(
                                    secret,
                                    self.pipeline.secrets.keys().map(String::as_str),
                                )
                                .unwrap_or_else(|| {
                                    format!("declare it in the pipeline: `secret {secret}`")
                                }),
                            ),
                        );
                    }
                } else {
                    self.reference(name, expr.span);
                }
            }
            ExprKind::Compare { left, right, .. } => {
                let l = self.ident_reference(left);
                let r = self.ident_reference(right);
                if let Some(reference) = l {
                    self.compared(reference, right);
                }
                if let Some(reference) = r {
                    self.compared(reference, left);
                }
            }
            ExprKind::And(l, r) | ExprKind::Or(l, r) => {
                self.expr(l);
                self.expr(r);
            }
            ExprKind::Not(inner) => self.expr(inner),
            ExprKind::List(items) => items.iter().for_each(|i| self.expr(i)),
            _ => {}
        }
    }

    fn ident_reference(&mut self, expr: &Expr) -> Option<(String, Reference<'a>)> {
        let ExprKind::Ident(name) = &expr.kind else {
            return None;
        };
        self.reference(name, expr.span).map(|r| (name.clone(), r))
    }

    /// Reports `input.X` / `var.X` that names no declaration.
    fn reference(&mut self, text: &str, span: Span) -> Option<Reference<'a>> {
        let pipeline: &'a Pipeline = self.pipeline;
        let (prefix, name) = text.split_once('.')?;
        let (what, names): (&str, Vec<&str>) = match prefix {
            "input" => (
                "input",
                pipeline.inputs.keys().map(String::as_str).collect(),
            ),
            "var" => ("var", pipeline.vars.keys().map(String::as_str).collect()),
            _ => return None,
        };
        if let Some(found) = resolve_reference(pipeline, text) {
            return Some(found);
        }
        if !is_name(name) {
            return None; // reported by the condition's typing
        }
        let help = did_you_mean(name, names.iter().copied())
            .map(|s| {
                s.replace("`", &format!("`{prefix}."))
                    .replacen(&format!("`{prefix}.?"), "`?", 1)
            })
            .unwrap_or_else(|| format!("declare it in the pipeline: `{what} {name} {{ … }}`"));
        self.sink.push(
            Diagnostic::new(
                Code::UnknownInput,
                span,
                format!("no {what} named `{name}`"),
            )
            .label(format!("not a declared {what}"))
            .help(help),
        );
        None
    }

    /// A bool input compared with text, a text input with a bool, a choice with a value
    /// that is not one of its choices.
    fn compared(&mut self, (name, reference): (String, Reference<'a>), other: &Expr) {
        let Reference::Input(input) = reference else {
            return;
        };
        let problem = match (input.input_type, &other.kind) {
            (InputType::Bool, ExprKind::String(s)) => Some((
                format!("the bool input `{}` is compared with a string", input.name),
                format!(
                    "compare it with `true` or `false`, without quotes: `{name} == {}`",
                    if s == "false" { "false" } else { "true" }
                ),
            )),
            (InputType::String | InputType::Choice, ExprKind::Bool(b)) => Some((
                format!(
                    "the {} input `{}` is compared with a boolean",
                    input.input_type.as_str(),
                    input.name
                ),
                format!("compare it with text: `{name} == \"{b}\"`, or declare it `type = bool`"),
            )),
            (InputType::Choice, ExprKind::String(s))
                if !input.choices.contains(s) && !s.contains(['*', '?', '[']) =>
            {
                Some((
                    format!("{s:?} is not one of the choices of `{}`", input.name),
                    did_you_mean(s, input.choices.iter().map(String::as_str))
                        .unwrap_or_else(|| format!("its choices are {}", quoted(&input.choices))),
                ))
            }
            _ => None,
        };
        if let Some((message, help)) = problem {
            self.sink.push(
                Diagnostic::new(Code::InputComparedWrongly, other.span, message)
                    .label("a value of another type")
                    .help(help),
            );
        }
    }
}
