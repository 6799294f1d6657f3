//! `template NAME [from A, B] { … }` and `from` ending a job's head (language v2 §3).
//!
//! Templates are collected from every file (imports included), checked once, and merged into
//! the jobs that name them before the pipeline is resolved: the resolver, the plan and
//! everything after them see merged jobs only. The merge is generic over body items: an
//! attribute merges by the rule its type gives (`attributes::Merge`), a block by its kind
//! (`env` by key, `step` by name, `matrix` whole). What each job took from which template is
//! kept in [`Templates::origins`] for the language server.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::rc::Rc;
use std::sync::LazyLock;

use indexmap::IndexMap;

use super::attributes::{self as schema, Attributes, Merge, Spec, string_map};
use crate::codes::Code;
use crate::diagnostic::{Diagnostic, Sink, did_you_mean};
use crate::span::{Ident, Span};
use crate::syntax::ast::{self, BodyItem, Expr, ExprKind};

/// Where one item of a merged job came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Origin {
    /// The item, in the user's words: `timeout`, `env CARGO_TERM_COLOR`, `step build`.
    pub item: String,
    /// The template that set it (for a list, each template that added to it).
    pub template: String,
    /// The item as written in the template.
    pub span: Span,
}

/// The templates of a compilation, and what each job took from them.
#[derive(Debug, Default, Clone)]
pub struct Templates {
    /// Every template by name: the span of its name where it is declared.
    pub declared: IndexMap<String, Span>,
    /// By job name (as the checker names it): the items the merged job holds from templates.
    pub origins: HashMap<String, Vec<Origin>>,
}

impl Templates {
    /// Where `job`'s item `item` (`timeout`, `env NAME`, `step NAME`) came from, if a
    /// template set it.
    pub fn origin(&self, job: &str, item: &str) -> Vec<&Origin> {
        self.origins
            .get(job)
            .into_iter()
            .flatten()
            .filter(|o| o.item == item)
            .collect()
    }
}

/// Every attribute any job form takes, the first of each name: what a template may set.
static ANY_JOB: LazyLock<Vec<Spec>> = LazyLock::new(|| {
    let mut specs: Vec<Spec> = Vec::new();
    for spec in schema::JOB
        .iter()
        .chain(schema::ARTIFACT)
        .chain(schema::GATE)
    {
        if !specs.iter().any(|s| s.name == spec.name) {
            specs.push(*spec);
        }
    }
    specs
});

/// Every attribute some job form takes: what a template may set (completion reads it too).
pub fn any_job() -> &'static [Spec] {
    &ANY_JOB
}

/// The merge rule of an attribute, from the schema of the job forms.
fn attribute_merge(name: &str) -> Merge {
    ANY_JOB
        .iter()
        .find(|s| s.name == name)
        .map_or(Merge::Scalar, |s| s.ty.merge())
}

/// What an item merges with: an attribute by name, a block by its kind (and name).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Key<'a> {
    Attribute(&'a str),
    /// A block: its keyword, and its name for named blocks (`step NAME`).
    Block(&'static str, Option<&'a str>),
}

fn key(item: &BodyItem) -> Key<'_> {
    match item {
        BodyItem::Attribute(a) => Key::Attribute(&a.name.name),
        BodyItem::Env(_) => Key::Block("env", None),
        BodyItem::Matrix(_) => Key::Block("matrix", None),
        BodyItem::Step(s) => Key::Block("step", Some(&s.name.name)),
        BodyItem::Service(s) => Key::Block("service", Some(&s.name.name)),
        BodyItem::Reports(_) => Key::Block("reports", None),
        // A platform setting block (`permissions { … }`) replaces a same-named one whole.
        BodyItem::Setting(s) => Key::Attribute(&s.word.name),
        // v2 i14c: a same-named cache replaces the template's.
        BodyItem::Cache(c) => Key::Block("cache", Some(&c.name.name)),
    }
}

/// One item of a merge, with the templates it came from (none: the job's own).
#[derive(Debug, Clone)]
struct Piece {
    item: BodyItem,
    /// Each template that set it (several for a list), with the span of what it wrote.
    templates: Vec<(String, Span)>,
    /// For an `env` block: the template of each variable (none: the job's own).
    variables: Vec<Option<String>>,
}

impl Piece {
    fn new(item: BodyItem, template: Option<&str>) -> Piece {
        let variables = match &item {
            BodyItem::Env(e) => vec![template.map(str::to_string); e.variables.len()],
            _ => Vec::new(),
        };
        let templates = template
            .map(|t| (t.to_string(), item_span(&item)))
            .into_iter()
            .collect();
        Piece {
            item,
            templates,
            variables,
        }
    }
}

/// Where an item was written (an attribute from its name to its value).
fn item_span(item: &BodyItem) -> Span {
    match item {
        BodyItem::Attribute(a) => a.span,
        BodyItem::Env(e) => e.span,
        BodyItem::Matrix(m) => m.span,
        BodyItem::Step(s) => s.span,
        BodyItem::Reports(r) => r.span,
        BodyItem::Setting(s) => s.span,
        BodyItem::Service(s) => s.span,
        BodyItem::Cache(c) => c.span,
    }
}

/// Merges `incoming` (later) into `merged` (earlier), item by item.
fn merge(merged: &mut Vec<Piece>, incoming: impl IntoIterator<Item = Piece>) {
    for piece in incoming {
        let found = merged.iter().position(|p| key(&p.item) == key(&piece.item));
        let Some(index) = found else {
            merged.push(piece);
            continue;
        };
        let earlier = &mut merged[index];
        match (&mut earlier.item, piece.item) {
            (BodyItem::Attribute(old), BodyItem::Attribute(new))
                if attribute_merge(&new.name.name) == Merge::List =>
            {
                match (&mut old.value.kind, new.value.kind) {
                    (ExprKind::List(items), ExprKind::List(more)) => {
                        for item in more {
                            if !items.iter().any(|i| i.kind == item.kind) {
                                items.push(item);
                            }
                        }
                        old.name = new.name;
                        old.value.span = new.value.span;
                        old.span = new.span;
                        old.doc = new.doc.or(old.doc.take());
                        for template in piece.templates {
                            if !earlier.templates.iter().any(|(t, _)| *t == template.0) {
                                earlier.templates.push(template);
                            }
                        }
                    }
                    (_, kind) => {
                        *old = ast::Attribute {
                            value: Expr {
                                kind,
                                span: new.value.span,
                            },
                            ..new
                        };
                        earlier.templates = piece.templates;
                    }
                }
            }
            (BodyItem::Env(old), BodyItem::Env(new)) => {
                for (variable, template) in new.variables.into_iter().zip(piece.variables) {
                    match old
                        .variables
                        .iter()
                        .position(|v| v.name.name == variable.name.name)
                    {
                        Some(at) => {
                            old.variables[at] = variable;
                            earlier.variables[at] = template;
                        }
                        None => {
                            old.variables.push(variable);
                            earlier.variables.push(template);
                        }
                    }
                }
                old.span = new.span;
                earlier.templates = piece.templates;
            }
            (slot, item) => {
                // A scalar attribute, a `step` of the same name, a `matrix`: the later
                // replaces the earlier, where the earlier stood.
                *slot = item;
                earlier.templates = piece.templates;
                earlier.variables = piece.variables;
            }
        }
    }
}

/// Merges a job's (or template's) own items: the first item of each key merges with what
/// the templates gave; a second one of the same key stays apart, so that the resolver
/// reports it as set twice.
fn merge_own(merged: &mut Vec<Piece>, own: Vec<BodyItem>, template: Option<&str>) {
    let mut seen: HashSet<Key> = HashSet::new();
    let first: Vec<bool> = own.iter().map(|item| seen.insert(key(item))).collect();
    drop(seen);
    let mut apart = Vec::new();
    for (item, first) in own.into_iter().zip(first) {
        let piece = Piece::new(item, template);
        if first {
            merge(merged, [piece]);
        } else {
            apart.push(piece);
        }
    }
    merged.extend(apart);
}

/// The templates of every file, each merged with the templates it names, on demand.
struct Resolver<'a> {
    decls: IndexMap<&'a str, &'a ast::TemplateDecl>,
    /// Each template's own items that checked clean.
    own: HashMap<&'a str, Vec<BodyItem>>,
    resolved: HashMap<&'a str, Rc<Vec<Piece>>>,
    visiting: Vec<&'a str>,
    used: HashSet<&'a str>,
}

impl<'a> Resolver<'a> {
    fn new(files: &[&'a ast::File], sink: &mut Sink) -> Resolver<'a> {
        let mut decls: IndexMap<&'a str, &'a ast::TemplateDecl> = IndexMap::new();
        for file in files {
            for item in &file.items {
                let ast::TopItem::Template(decl) = item else {
                    continue;
                };
                if let Some(first) = decls.get(decl.name.name.as_str()) {
                    sink.push(
                        Diagnostic::new(
                            Code::DuplicateTemplate,
                            decl.name.span,
                            format!("the template `{}` is declared twice", decl.name.name),
                        )
                        .label("declared again here")
                        .related(first.name.span, "first declared here")
                        .help("rename one of them; templates of every imported file share one namespace"),
                    );
                    continue;
                }
                decls.insert(&decl.name.name, decl);
            }
        }
        let own = decls
            .iter()
            .map(|(name, decl)| (*name, checked_items(decl, sink)))
            .collect();
        Resolver {
            decls,
            own,
            resolved: HashMap::new(),
            visiting: Vec::new(),
            used: HashSet::new(),
        }
    }

    /// The template `name` merged with the templates it names (theirs first), or `None`
    /// when it is unknown (reported at `at`).
    fn resolve(&mut self, name: &Ident, sink: &mut Sink) -> Option<Rc<Vec<Piece>>> {
        let Some((&key, &decl)) = self.decls.get_key_value(name.name.as_str()) else {
            let help = did_you_mean(&name.name, self.decls.keys().copied()).unwrap_or_else(|| {
                if self.decls.is_empty() {
                    format!("declare it at the top of the file: `template {} {{ … }}`, or import the file that declares it", name.name)
                } else {
                    format!(
                        "declare it with `template {} {{ … }}`, or use one of {}",
                        name.name,
                        self.decls
                            .keys()
                            .map(|k| format!("`{k}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                }
            });
            sink.push(
                Diagnostic::new(
                    Code::UnknownTemplate,
                    name.span,
                    format!("unknown template `{}`", name.name),
                )
                .label("not a declared template")
                .help(help),
            );
            return None;
        };
        self.used.insert(key);
        if let Some(done) = self.resolved.get(key) {
            return Some(done.clone());
        }
        if let Some(at) = self.visiting.iter().position(|v| *v == key) {
            let mut cycle: Vec<&str> = self.visiting[at..].to_vec();
            cycle.push(key);
            sink.push(
                Diagnostic::new(
                    Code::TemplateCycle,
                    name.span,
                    format!("template cycle: {}", cycle.join(" → ")),
                )
                .label(format!("`{key}` is already being merged"))
                .related(decl.name.span, format!("`{key}` is declared here"))
                .help(format!(
                    "a template cannot take from itself, directly or through others: remove `{key}` from this `from`"
                )),
            );
            return None;
        }
        self.visiting.push(key);
        let mut merged = Vec::new();
        if let Some(from) = &decl.from {
            for parent in &from.templates {
                if let Some(pieces) = self.resolve(parent, sink) {
                    merge(&mut merged, pieces.iter().cloned());
                }
            }
        }
        let own = self.own.get(key).cloned().unwrap_or_default();
        merge_own(&mut merged, own, Some(key));
        self.visiting.pop();
        let merged = Rc::new(merged);
        self.resolved.insert(key, merged.clone());
        Some(merged)
    }
}

/// A template's own items, checked once: attributes any job form takes, typed, and `env`
/// variables with valid names. What fails is reported here and left out of the merge.
fn checked_items(decl: &ast::TemplateDecl, sink: &mut Sink) -> Vec<BodyItem> {
    let block = format!("a template (`{}`)", decl.name.name);
    let attributes = decl.body.iter().filter_map(|i| match i {
        BodyItem::Attribute(a) => Some(a),
        _ => None,
    });
    // v2 i13j: a composed `image`/`runner` is checked in each job that merges it.
    let (composed, attributes) = super::value::split(attributes.collect());
    // v2 c1: so is a bare `runner`/`image`/`timeout = matrix.KEY` (§7), against the job's matrix.
    let (matrix_valued, attributes): (Vec<_>, Vec<_>) = attributes
        .into_iter()
        .partition(|a| super::matrix::is_reference(a));
    let attrs = Attributes::read(&ANY_JOB, &block, attributes, sink);
    let mut kept = Vec::new();
    for item in &decl.body {
        match item {
            BodyItem::Attribute(a)
                if composed
                    .iter()
                    .chain(&matrix_valued)
                    .any(|c| std::ptr::eq(*c, a)) =>
            {
                kept.push(item.clone());
            }
            BodyItem::Attribute(a) => {
                let name = a.name.name.as_str();
                if attrs.name_span(name) == Some(a.name.span) && attrs.value_span(name).is_some() {
                    kept.push(item.clone());
                }
            }
            BodyItem::Env(env) => {
                let valid = string_map(
                    &env.variables,
                    &format!("the `env` of template `{}`", decl.name.name),
                    sink,
                );
                let mut env = env.clone();
                // v2 i13j: composed values are checked in each job that merges them.
                env.variables.retain(|v| {
                    valid.contains_key(&v.name.name)
                        || (super::value::is_composed(&v.value, true)
                            && super::attributes::env_name_problem(&v.name.name).is_none())
                });
                kept.push(BodyItem::Env(env));
            }
            BodyItem::Matrix(_)
            | BodyItem::Step(_)
            | BodyItem::Reports(_)
            | BodyItem::Setting(_)
            | BodyItem::Service(_) => kept.push(item.clone()),
            BodyItem::Cache(_) => kept.push(item.clone()),
        }
    }
    kept
}

/// Which job forms take an attribute, in the user's words ("artifacts", "gates", …).
fn forms_taking(name: &str) -> String {
    let has = |specs: &[Spec]| specs.iter().any(|s| s.name == name);
    let mut forms = Vec::new();
    if has(schema::JOB) {
        forms.push("jobs, tests, deploys");
    }
    if has(schema::ARTIFACT) {
        forms.push("artifacts");
    }
    if has(schema::GATE) {
        forms.push("gates");
    }
    forms.join(", ")
}

/// Reports and drops what the templates gave a job that its form cannot have (E0314, at the
/// job's `from`, with the template's item as a label).
fn keep_allowed(
    merged: &mut Vec<Piece>,
    job: &ast::JobDecl,
    from: &ast::FromClause,
    sink: &mut Sink,
) {
    let (specs, form): (&[Spec], &str) = match &job.form {
        ast::JobForm::Artifact { .. } => (schema::ARTIFACT, "an `artifact`"),
        ast::JobForm::Gate { .. } => (schema::GATE, "a `gate`"),
        ast::JobForm::Test { .. } => (schema::JOB, "a `test`"),
        ast::JobForm::Deploy { .. } => (schema::JOB, "a `deploy`"),
        ast::JobForm::Job { .. } => (schema::JOB, "a `job`"),
    };
    let is_gate = matches!(job.form, ast::JobForm::Gate { .. });
    merged.retain(|piece| {
        let (what, span, help) = match &piece.item {
            BodyItem::Attribute(a) if !specs.iter().any(|s| s.name == a.name.name) => (
                format!("`{}`", a.name.name),
                a.name.span,
                format!(
                    "only {} take `{}`: set it in those, or in a template only they use",
                    forms_taking(&a.name.name),
                    a.name.name,
                ),
            ),
            BodyItem::Env(_)
            | BodyItem::Step(_)
            | BodyItem::Matrix(_)
            | BodyItem::Reports(_)
            | BodyItem::Setting(_)
            | BodyItem::Service(_)
            | BodyItem::Cache(_)
                if is_gate =>
            {
                let word = match key(&piece.item) {
                    Key::Block(word, _) => word,
                    Key::Attribute(_) => unreachable!("a block"),
                };
                let span = match &piece.item {
                    BodyItem::Env(e) => e.span,
                    BodyItem::Step(s) => s.span,
                    BodyItem::Matrix(m) => m.span,
                    BodyItem::Reports(r) => r.span,
                    BodyItem::Setting(s) => s.span,
                    BodyItem::Service(s) => s.span,
                    BodyItem::Cache(c) => c.span,
                    BodyItem::Attribute(a) => a.span,
                };
                (
                    format!("a `{word}` block"),
                    Span {
                        end: span.start + word.len() as u32,
                        ..span
                    },
                    "a gate only waits for approval: give it a template of gate attributes (`approvers`, `timeout`, `after`), or none".to_string(),
                )
            }
            _ => return true,
        };
        let template = piece.templates.first().map_or("", |(t, _)| t.as_str());
        sink.push(
            Diagnostic::new(
                Code::TemplateAttributeNotAllowed,
                from.span,
                format!("the template `{template}` gives {what} to {form}, which cannot have it"),
            )
            .label(format!("{form} cannot have {what}"))
            .related(span, format!("set here by `{template}`"))
            .help(help),
        );
        false
    });
}

/// The origins of a merged job's items that came from templates.
fn origins(merged: &[Piece]) -> Vec<Origin> {
    let mut out = Vec::new();
    for piece in merged {
        match &piece.item {
            BodyItem::Env(env) => {
                for (variable, template) in env.variables.iter().zip(&piece.variables) {
                    if let Some(template) = template {
                        out.push(Origin {
                            item: format!("env {}", variable.name.name),
                            template: template.clone(),
                            span: variable.span,
                        });
                    }
                }
            }
            item => {
                let name = match item {
                    BodyItem::Attribute(a) => a.name.name.clone(),
                    BodyItem::Step(s) => format!("step {}", s.name.name),
                    BodyItem::Matrix(_) => "matrix".to_string(),
                    BodyItem::Env(_) => "env".to_string(),
                    BodyItem::Reports(_) => "reports".to_string(),
                    BodyItem::Setting(s) => s.word.name.clone(),
                    BodyItem::Service(s) => format!("service {}", s.name.name),
                    BodyItem::Cache(c) => format!("cache {}", c.name.name),
                };
                for (template, span) in &piece.templates {
                    out.push(Origin {
                        item: name.clone(),
                        template: template.clone(),
                        span: *span,
                    });
                }
            }
        }
    }
    out
}

/// The pipeline with every job that says `from` merged with its templates (borrowed as it
/// is when none does), and what each job took from which template.
pub fn expand<'p>(
    files: &[&ast::File],
    pipeline: Option<&'p ast::Pipeline>,
    sink: &mut Sink,
) -> (Option<Cow<'p, ast::Pipeline>>, Templates) {
    let mut resolver = Resolver::new(files, sink);
    let mut templates = Templates {
        declared: resolver
            .decls
            .iter()
            .map(|(name, decl)| (name.to_string(), decl.name.span))
            .collect(),
        origins: HashMap::new(),
    };
    // Every template is merged once, so that a cycle or an unknown name among templates no
    // job uses is reported too.
    let names: Vec<Ident> = resolver.decls.values().map(|d| d.name.clone()).collect();
    for name in &names {
        resolver.resolve(name, sink);
    }
    resolver.used.clear();
    for decl in resolver.decls.clone().values() {
        for parent in decl.from.iter().flat_map(|f| &f.templates) {
            if let Some((&key, _)) = resolver.decls.get_key_value(parent.name.as_str()) {
                resolver.used.insert(key);
            }
        }
    }
    let Some(pipeline) = pipeline else {
        return (None, templates);
    };
    // v2: `defaults = [T, …]` on the pipeline: every job but a gate takes from them first.
    let defaults = pipeline_defaults(pipeline, &resolver, sink);
    let uses_templates = !defaults.is_empty()
        || pipeline.items.iter().any(
            |item| matches!(item, ast::PipelineItem::Stage(s) if s.jobs.iter().any(|j| j.from.is_some())),
        );
    let expanded = if uses_templates {
        let mut copy = pipeline.clone();
        for item in &mut copy.items {
            let ast::PipelineItem::Stage(stage) = item else {
                continue;
            };
            for job in &mut stage.jobs {
                with_defaults(job, &defaults, &resolver);
                let Some(from) = job.from.clone() else {
                    continue;
                };
                let mut merged = Vec::new();
                for name in &from.templates {
                    if let Some(pieces) = resolver.resolve(name, sink) {
                        merge(&mut merged, pieces.iter().cloned());
                    }
                }
                keep_allowed(&mut merged, job, &from, sink);
                // The job's own items are moved, not cloned: `copy` is the job's to change.
                let own = std::mem::take(&mut job.body);
                merge_own(&mut merged, own, None);
                templates
                    .origins
                    .insert(super::job_name::of(job), origins(&merged));
                job.body = merged.into_iter().map(|p| p.item).collect();
            }
        }
        Cow::Owned(copy)
    } else {
        Cow::Borrowed(pipeline)
    };
    // Templates of the pipeline's own file that nothing takes from (imported ones may be
    // a library's).
    for (name, decl) in &resolver.decls {
        if decl.span.file == pipeline.span.file && !resolver.used.contains(name) {
            sink.push(
                Diagnostic::new(
                    Code::UnusedTemplate,
                    decl.name.span,
                    format!("the template `{name}` is never used"),
                )
                .label("no job or template takes from it")
                .help(format!(
                    "end a job's head with `from {name}` (`job NAME from {name} {{ … }}`), or remove the template"
                )),
            );
        }
    }
    (Some(expanded), templates)
}

/// The doc of the pipeline's `defaults`.
pub const DEFAULTS_DOC: &str = "Templates every job (but a gate) takes from first, as GitLab's `default:` or a global `before_script`: `defaults = [git]`.";

/// The pipeline's `defaults`: templates that exist (an unknown one is E0214 with the nearest).
fn pipeline_defaults(
    pipeline: &ast::Pipeline,
    resolver: &Resolver<'_>,
    sink: &mut Sink,
) -> Vec<Ident> {
    let mut out = Vec::new();
    for item in &pipeline.items {
        let ast::PipelineItem::Attribute(attribute) = item else {
            continue;
        };
        if attribute.name.name != "defaults" {
            continue;
        }
        let entries: Vec<&ast::Expr> = match &attribute.value.kind {
            ast::ExprKind::List(items) => items.iter().collect(),
            _ => vec![&attribute.value],
        };
        for entry in entries {
            let ast::ExprKind::Ident(name) = &entry.kind else {
                continue; // typed (and reported) as names by the pipeline's schema
            };
            if resolver.decls.contains_key(name.as_str()) {
                out.push(Ident {
                    name: name.clone(),
                    span: entry.span,
                });
            } else {
                sink.push(
                    Diagnostic::new(
                        Code::UnknownTemplate,
                        entry.span,
                        format!("`defaults` names no template `{name}`"),
                    )
                    .label("not a template")
                    .help(
                        did_you_mean(name, resolver.decls.keys().copied())
                            .unwrap_or_else(|| "name a `template` of the pipeline's files".into()),
                    ),
                );
            }
        }
    }
    out
}

/// Puts the pipeline's default templates before a job's own `from` (a gate takes none), each
/// unless the job already takes from it, directly or through one of its templates.
fn with_defaults(job: &mut ast::JobDecl, defaults: &[Ident], resolver: &Resolver<'_>) {
    if defaults.is_empty() || matches!(job.form, ast::JobForm::Gate { .. }) {
        return;
    }
    let own: Vec<Ident> = job
        .from
        .as_ref()
        .map(|f| f.templates.clone())
        .unwrap_or_default();
    let mut templates: Vec<Ident> = defaults
        .iter()
        .filter(|d| !own.iter().any(|o| reaches(resolver, &o.name, &d.name, 0)))
        .cloned()
        .collect();
    templates.extend(own);
    let span = job.from.as_ref().map_or(job.header_span, |f| f.span);
    let keyword = job.from.as_ref().map_or(job.header_span, |f| f.keyword);
    job.from = Some(ast::FromClause {
        keyword,
        templates,
        span,
    });
}

/// Whether the template `from` is `target` or takes from it, however far back.
fn reaches(resolver: &Resolver<'_>, from: &str, target: &str, depth: usize) -> bool {
    if from == target {
        return true;
    }
    if depth > 64 {
        return false; // a cycle, reported where templates are resolved
    }
    resolver.decls.get(from).is_some_and(|decl| {
        decl.from
            .iter()
            .flat_map(|f| &f.templates)
            .any(|parent| reaches(resolver, &parent.name, target, depth + 1))
    })
}

#[cfg(test)]
#[path = "templates_tests.rs"]
mod tests;
