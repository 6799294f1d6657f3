//! Every name of a compilation, where it is defined and where it is used: what hover, go to
//! definition, references, rename and completion read. Built from the syntax tree alone, so
//! it needs no successful check.
//!
//! Jobs, gates and artifacts share one namespace (an artifact is the job that builds it), so
//! `uses = [app]`, `deploy app to …` and `after = [app]` all refer to `Symbol::Job("app")`.

use std::collections::HashMap;

use crate::check::attributes::{self as schema, Spec};
use crate::compile::Compilation;
use crate::source::Sources;
use crate::span::{FileId, Ident, Span};
use crate::syntax::ast::{self, ExprKind};

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Symbol {
    Pipeline(String),
    Kind(String),
    Environment(String),
    /// A job, gate or artifact.
    Job(String),
    Secret(String),
    Stage(String),
    /// A team, named in `approvers` as `"@NAME"`.
    Team(String),
    /// v2 i13e: a template, named after `from`.
    Template(String),
    // v2 i13d: `input NAME { … }` and `var NAME { … }`, read as `input.NAME` / `var.NAME`.
    Input(String),
    Var(String),
}

impl Symbol {
    pub fn name(&self) -> &str {
        match self {
            Symbol::Pipeline(n)
            | Symbol::Kind(n)
            | Symbol::Environment(n)
            | Symbol::Job(n)
            | Symbol::Secret(n)
            | Symbol::Stage(n)
            | Symbol::Team(n)
            | Symbol::Template(n)
            | Symbol::Input(n)
            | Symbol::Var(n) => n,
        }
    }
}

/// How a job got a name it was not given in so many words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Implicit {
    /// `test KIND { … }` is named after its kind; a name goes after the kind.
    TestKind,
    /// `deploy ARTIFACT to ENV { … }` is named `deploy_ARTIFACT_ENV`; a name goes after ENV.
    Deploy {
        artifact: String,
        environment: String,
        environment_end: u32,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Role {
    Definition,
    /// A definition without a name of its own in the text (the span is the kind or header).
    Implicit(Implicit),
    Reference,
}

/// Which block an attribute stands in.
#[derive(Debug, Clone, Copy)]
pub enum Block {
    Pipeline,
    Kind,
    Environment,
    Trigger(&'static [Spec]),
    Job(&'static [Spec]),
    Env,
    Matrix,
    /// v2 (i13h): `reports { … }` of a job.
    Reports,
    /// v2 i14a: a platform setting's block.
    Setting(&'static [Spec]),
    /// v2 i14d: `service NAME { … }` of a job.
    Service,
    /// v2 i14c: `cache NAME { … }` of a job.
    Cache,
}

impl Block {
    pub fn schema(self) -> &'static [Spec] {
        match self {
            Block::Pipeline => schema::PIPELINE,
            Block::Kind => schema::KIND,
            Block::Environment => schema::ENVIRONMENT,
            Block::Trigger(specs) | Block::Job(specs) | Block::Setting(specs) => specs,
            Block::Env | Block::Matrix => &[],
            Block::Reports => schema::REPORTS,
            Block::Service => crate::check::services::SERVICE,
            Block::Cache => schema::CACHE,
        }
    }
}

#[derive(Debug, Clone)]
pub enum What {
    Name(Symbol, Role),
    /// The name of an attribute (or of a variable in `env`, an axis in `matrix`).
    Attribute(Block, String),
    /// `branch`, `tag` or `event` in a condition.
    Variable(String),
    /// An event: `on push`, or `push` compared with `event`.
    Event(String),
    /// v2 i14d: the name of a `service NAME { … }` block.
    Service(String),
}

#[derive(Debug, Clone)]
pub struct Occurrence {
    pub span: Span,
    pub what: What,
}

/// What hover shows of a definition.
#[derive(Debug, Clone)]
pub struct Definition {
    pub symbol: Symbol,
    /// The name as written, or the kind / header of an implicitly named job.
    pub span: Span,
    /// The declaration in cdl, as a reader would want it summarised.
    pub signature: String,
    pub doc: Option<String>,
    /// Further facts, one line of markdown each.
    pub facts: Vec<String>,
    /// For a job: its form keyword (`artifact`, `test` …).
    pub form: Option<&'static str>,
}

#[derive(Default)]
pub struct Names {
    /// Sorted by file, then start.
    pub occurrences: Vec<Occurrence>,
    pub definitions: HashMap<Symbol, Vec<Definition>>,
    /// The jobs of the pipeline by name: where they stand and what they wait for.
    pub jobs: HashMap<String, JobPlace>,
    /// The pipeline's stages, in order.
    pub stages: Vec<String>,
}

/// A job's stage and the jobs it names as ones it waits for (`after`, `uses`, the artifact
/// it deploys).
#[derive(Debug, Clone, Default)]
pub struct JobPlace {
    /// The index of its stage in `Names::stages`.
    pub stage: usize,
    pub waits_for: Vec<String>,
}

impl Names {
    /// Whether `from` waits for `to` through the names written in `after`, `uses` and
    /// `deploy` (stage order aside).
    pub fn waits_for(&self, from: &str, to: &str) -> bool {
        let mut seen = std::collections::HashSet::new();
        let mut pending = vec![from];
        while let Some(job) = pending.pop() {
            if job == to {
                return true;
            }
            if seen.insert(job)
                && let Some(place) = self.jobs.get(job)
            {
                pending.extend(place.waits_for.iter().map(String::as_str));
            }
        }
        false
    }
}

impl Names {
    pub fn build(compilation: &Compilation) -> Names {
        let mut walker = Walker {
            sources: &compilation.sources,
            kinds: compilation.checked.as_ref().map(|c| &c.kinds),
            names: Names::default(),
            templates: compilation.checked.as_ref().map(|c| &c.templates),
        };
        for (file, tree) in &compilation.files {
            for item in &tree.items {
                match item {
                    ast::TopItem::Kind(kind) => walker.kind(kind),
                    ast::TopItem::Template(template) => walker.template(template),
                    ast::TopItem::Pipeline(pipeline) if *file == compilation.root => {
                        walker.pipeline(pipeline);
                    }
                    ast::TopItem::Pipeline(_) | ast::TopItem::Import(_) | ast::TopItem::Team(_) => {
                    }
                }
            }
        }
        let mut names = walker.names;
        names
            .occurrences
            .sort_by_key(|o| (o.span.file, o.span.start, o.span.end));
        names
    }

    /// What stands at `offset` of `file`: the innermost occurrence first.
    pub fn at(&self, file: FileId, offset: usize) -> Vec<&Occurrence> {
        let offset = offset as u32;
        let mut found: Vec<&Occurrence> = self
            .occurrences
            .iter()
            .filter(|o| o.span.file == file && o.span.start <= offset && offset <= o.span.end)
            .collect();
        found.sort_by_key(|o| o.span.len());
        found
    }

    /// The first definition of a symbol.
    pub fn definition(&self, symbol: &Symbol) -> Option<&Definition> {
        self.definitions.get(symbol).and_then(|d| d.first())
    }

    pub fn occurrences_of<'a>(
        &'a self,
        symbol: &'a Symbol,
    ) -> impl Iterator<Item = &'a Occurrence> {
        self.occurrences
            .iter()
            .filter(move |o| matches!(&o.what, What::Name(s, _) if s == symbol))
    }

    /// Every defined symbol of one namespace, by the test `keep`.
    pub fn defined(&self, keep: impl Fn(&Symbol) -> bool) -> Vec<&Definition> {
        let mut out: Vec<&Definition> = self
            .definitions
            .iter()
            .filter(|(symbol, _)| keep(symbol))
            .filter_map(|(_, d)| d.first())
            .collect();
        out.sort_by_key(|d| (d.span.file, d.span.start));
        out
    }
}

struct Walker<'a> {
    sources: &'a Sources,
    /// The checked kinds, for the defaults a test inherits.
    kinds: Option<&'a indexmap::IndexMap<String, crate::check::model::Kind>>,
    names: Names,
    /// v2 i13e: what each job took from templates, for hover.
    templates: Option<&'a crate::check::templates::Templates>,
}

impl Walker<'_> {
    fn occurrence(&mut self, span: Span, what: What) {
        self.names.occurrences.push(Occurrence { span, what });
    }

    fn reference(&mut self, symbol: Symbol, ident: &Ident) {
        self.occurrence(ident.span, What::Name(symbol, Role::Reference));
    }

    fn define(&mut self, definition: Definition, role: Role) {
        self.occurrence(definition.span, What::Name(definition.symbol.clone(), role));
        self.names
            .definitions
            .entry(definition.symbol.clone())
            .or_default()
            .push(definition);
    }

    fn text(&self, span: Span) -> &str {
        self.sources.get(span.file).slice(span)
    }

    /// An item's source on one line (runs of white space made one space).
    fn one_line(&self, span: Span) -> String {
        self.text(span)
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    }

    fn attribute_summary(&self, attribute: &ast::Attribute) -> String {
        let value = self.one_line(attribute.value.span);
        format!("{} = {value}", attribute.name.name)
    }

    fn attributes(&mut self, block: Block, attributes: &[ast::Attribute]) {
        for attribute in attributes {
            self.attribute(block, attribute);
        }
    }

    fn attribute(&mut self, block: Block, attribute: &ast::Attribute) {
        self.occurrence(
            attribute.name.span,
            What::Attribute(block, attribute.name.name.clone()),
        );
        let name = attribute.name.name.as_str();
        let symbol: Option<fn(String) -> Symbol> = match (block, name) {
            (Block::Job(_), "after" | "uses") => Some(Symbol::Job),
            (Block::Job(_), "secrets") => Some(Symbol::Secret),
            _ => None,
        };
        if let (Some(symbol), ExprKind::List(items)) = (symbol, &attribute.value.kind) {
            for item in items {
                if let ExprKind::Ident(name) = &item.kind {
                    let ident = Ident {
                        name: name.clone(),
                        span: item.span,
                    };
                    self.reference(symbol(name.clone()), &ident);
                }
            }
        }
        if let (Block::Job(_), "approvers", ExprKind::List(items)) =
            (block, name, &attribute.value.kind)
        {
            // `"@NAME"`: the name inside the quotes refers to a team.
            for item in items {
                if let ExprKind::String(text) = &item.kind
                    && let Some(team) = text.strip_prefix('@')
                    && self.text(item.span) == format!("\"{text}\"")
                {
                    let span = Span {
                        start: item.span.start + 2,
                        end: item.span.end - 1,
                        ..item.span
                    };
                    let ident = Ident {
                        name: team.to_string(),
                        span,
                    };
                    self.reference(Symbol::Team(team.to_string()), &ident);
                }
            }
        }
        if matches!(block, Block::Job(_)) && matches!(name, "when" | "auto_when") {
            self.condition(&attribute.value);
        }
    }

    fn condition(&mut self, expr: &ast::Expr) {
        match &expr.kind {
            ExprKind::Compare { left, right, .. } => {
                for side in [left, right] {
                    if let ExprKind::Ident(name) = &side.kind {
                        self.parameter_reference(name, side.span);
                    }
                }
                let is_event =
                    |e: &ast::Expr| matches!(&e.kind, ExprKind::Ident(n) if n == "event");
                for (side, other) in [(left, right), (right, left)] {
                    if let ExprKind::Ident(name) = &side.kind {
                        let what = if ["branch", "tag", "event"].contains(&name.as_str()) {
                            What::Variable(name.clone())
                        } else if is_event(other) {
                            What::Event(name.clone())
                        } else {
                            continue;
                        };
                        self.occurrence(side.span, what);
                    }
                }
            }
            ExprKind::And(left, right) | ExprKind::Or(left, right) => {
                self.condition(left);
                self.condition(right);
            }
            ExprKind::Not(operand) => self.condition(operand),
            ExprKind::Defined(name) => self.parameter_reference(name, expr.span),
            // v2 i14b: hover on `changed` tells what it reads.
            ExprKind::Changed(_) => {
                let word = Span::new(
                    expr.span.file,
                    expr.span.start as usize,
                    expr.span.start as usize + "changed".len(),
                );
                self.occurrence(word, What::Variable("changed".into()));
            }
            ExprKind::Ident(name) if ["branch", "tag", "event"].contains(&name.as_str()) => {
                self.occurrence(expr.span, What::Variable(name.clone()));
            }
            _ => {}
        }
    }

    fn team(&mut self, team: &ast::TeamDecl) {
        let members: Vec<String> = team
            .attributes
            .iter()
            .filter(|a| a.name.name == "members")
            .map(|a| self.attribute_summary(a))
            .collect();
        self.define(
            Definition {
                symbol: Symbol::Team(team.name.name.clone()),
                span: team.name.span,
                signature: format!("team {}", team.name.name),
                doc: team.doc.clone(),
                facts: members
                    .into_iter()
                    .map(|m| format!("`{m}`; a gate naming `@{}` may be approved by any member, each counting once", team.name.name))
                    .collect(),
                form: None,
            },
            Role::Definition,
        );
    }

    fn env_block(&mut self, env: &ast::EnvBlock) {
        self.attributes(Block::Env, &env.variables);
    }

    fn kind(&mut self, kind: &ast::KindDecl) {
        let summary: Vec<String> = kind
            .attributes
            .iter()
            .map(|a| self.attribute_summary(a))
            .collect();
        let signature = if summary.is_empty() {
            format!("kind {}", kind.name.name)
        } else {
            format!("kind {} {{ {} }}", kind.name.name, summary.join("; "))
        };
        let file = &self.sources.get(kind.span.file).name;
        self.define(
            Definition {
                symbol: Symbol::Kind(kind.name.name.clone()),
                span: kind.name.span,
                signature,
                doc: kind.doc.clone(),
                facts: vec![format!("declared in `{file}`")],
                form: None,
            },
            Role::Definition,
        );
        self.attributes(Block::Kind, &kind.attributes);
    }

    fn pipeline(&mut self, pipeline: &ast::Pipeline) {
        self.define(
            Definition {
                symbol: Symbol::Pipeline(pipeline.name.name.clone()),
                span: pipeline.name.span,
                signature: format!("pipeline {}", pipeline.name.name),
                doc: pipeline.doc.clone(),
                facts: Vec::new(),
                form: None,
            },
            Role::Definition,
        );
        for item in &pipeline.items {
            match item {
                ast::PipelineItem::Attribute(a) => self.attribute(Block::Pipeline, a),
                ast::PipelineItem::Trigger(trigger) => {
                    self.occurrence(trigger.event.span, What::Event(trigger.event.name.clone()));
                    let specs = match trigger.event.name.as_str() {
                        "push" => schema::TRIGGER_PUSH,
                        "pull_request" => schema::TRIGGER_PULL_REQUEST,
                        "tag" => schema::TRIGGER_TAG,
                        "schedule" => schema::TRIGGER_SCHEDULE,
                        _ => schema::TRIGGER_MANUAL,
                    };
                    if let Some(attributes) = &trigger.attributes {
                        self.attributes(Block::Trigger(specs), attributes);
                    }
                }
                ast::PipelineItem::Env(env) => self.env_block(env),
                ast::PipelineItem::Team(team) => self.team(team),
                ast::PipelineItem::Secret(secret) => self.define(
                    Definition {
                        symbol: Symbol::Secret(secret.name.name.clone()),
                        span: secret.name.span,
                        signature: format!("secret {}", secret.name.name),
                        doc: secret.doc.clone(),
                        facts: vec![
                            "given to the jobs that list it in `secrets`, as a variable of the same name"
                                .into(),
                        ],
                        form: None,
                    },
                    Role::Definition,
                ),
                ast::PipelineItem::Environment(environment) => self.environment(environment),
                ast::PipelineItem::Stage(stage) => self.stage(stage),
                ast::PipelineItem::Parameter(parameter) => self.parameter(parameter),
                ast::PipelineItem::Setting(block) => self.setting(block),
            }
        }
    }

    /// v2 i13d: an `input` or `var` declaration; its attributes summarised for hover.
    fn parameter(&mut self, parameter: &ast::ParameterDecl) {
        let name = parameter.name.name.clone();
        let facts: Vec<String> = parameter
            .attributes
            .iter()
            .map(|a| self.attribute_summary(a))
            .collect();
        let symbol = match parameter.keyword {
            ast::ParameterKeyword::Input => Symbol::Input(name.clone()),
            ast::ParameterKeyword::Var => Symbol::Var(name.clone()),
        };
        self.define(
            Definition {
                symbol,
                span: parameter.name.span,
                signature: format!("{} {name}", parameter.keyword.as_str()),
                doc: parameter.doc.clone(),
                facts,
                form: None,
            },
            Role::Definition,
        );
    }

    /// v2 i13d: `input.NAME` / `var.NAME` (also in `defined(var.NAME)`), a reference to the
    /// declaration; the span is the NAME part.
    fn parameter_reference(&mut self, text: &str, span: Span) {
        let (prefix, name) = match text.split_once('.') {
            Some(parts) => parts,
            None => return,
        };
        let symbol = match prefix {
            "input" => Symbol::Input(name.to_string()),
            "var" => Symbol::Var(name.to_string()),
            "secret" => Symbol::Secret(name.to_string()),
            _ => return,
        };
        let Some(offset) = self.text(span).find(text) else {
            return;
        };
        let start = span.start + (offset + prefix.len() + 1) as u32;
        let name_span = Span {
            start,
            end: start + name.len() as u32,
            ..span
        };
        self.occurrence(name_span, What::Name(symbol, Role::Reference));
    }

    /// `permissions { … }` and the other platform settings (v2 i14a): hover on their names.
    /// v2 i14d: a service's name (hovered with the variables it gives the job), its
    /// attributes and its `env`.
    fn service(&mut self, service: &ast::ServiceBlock) {
        self.occurrence(service.name.span, What::Service(service.name.name.clone()));
        for item in &service.items {
            match item {
                ast::StepItem::Attribute(a) => self.attribute(Block::Service, a),
                ast::StepItem::Env(e) => self.env_block(e),
                ast::StepItem::Native(_) => {}
            }
        }
    }

    fn setting(&mut self, block: &ast::SettingBlock) {
        let specs = crate::check::platform::schema(&block.word.name);
        self.attributes(Block::Setting(specs), &block.attributes);
    }

    fn environment(&mut self, environment: &ast::EnvironmentDecl) {
        let mut lines = Vec::new();
        for item in &environment.items {
            match item {
                ast::EnvironmentItem::Attribute(a) => lines.push(self.attribute_summary(a)),
                ast::EnvironmentItem::Requires(r) => lines.push(self.one_line(r.span)),
                ast::EnvironmentItem::Env(e) => lines.push(self.one_line(e.span)),
            }
        }
        let signature = if lines.is_empty() {
            format!("environment {}", environment.name.name)
        } else {
            format!(
                "environment {} {{\n  {}\n}}",
                environment.name.name,
                lines.join("\n  ")
            )
        };
        self.define(
            Definition {
                symbol: Symbol::Environment(environment.name.name.clone()),
                span: environment.name.span,
                signature,
                doc: environment.doc.clone(),
                facts: Vec::new(),
                form: None,
            },
            Role::Definition,
        );
        for item in &environment.items {
            match item {
                ast::EnvironmentItem::Attribute(a) => self.attribute(Block::Environment, a),
                ast::EnvironmentItem::Env(e) => self.env_block(e),
                ast::EnvironmentItem::Requires(requirement) => match &requirement.kind {
                    ast::RequirementKind::Approval => {}
                    ast::RequirementKind::Tests(kinds) => {
                        for kind in kinds {
                            self.reference(Symbol::Kind(kind.name.clone()), kind);
                        }
                    }
                    ast::RequirementKind::Promotion(from) => {
                        self.reference(Symbol::Environment(from.name.clone()), from);
                    }
                },
            }
        }
    }

    fn stage(&mut self, stage: &ast::StageDecl) {
        self.names.stages.push(stage.name.name.clone());
        let jobs: Vec<String> = stage.jobs.iter().map(job_name).collect();
        self.define(
            Definition {
                symbol: Symbol::Stage(stage.name.name.clone()),
                span: stage.name.span,
                signature: format!("stage {}", stage.name.name),
                doc: stage.doc.clone(),
                facts: vec![if jobs.is_empty() {
                    "no jobs".to_string()
                } else {
                    format!(
                        "jobs: {}",
                        jobs.iter()
                            .map(|j| format!("`{j}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                }],
                form: None,
            },
            Role::Definition,
        );
        for job in &stage.jobs {
            self.job(job, &stage.name.name);
        }
    }

    /// "`timeout = 15m`, the default of kind `unit`" for each default a test does not set.
    fn inherited_facts(&self, job: &ast::JobDecl) -> Vec<String> {
        let (ast::JobForm::Test { kind, .. }, Some(kinds)) = (&job.form, self.kinds) else {
            return Vec::new();
        };
        let Some(kind) = kinds.get(&kind.name) else {
            return Vec::new();
        };
        let set = |name: &str| {
            job.body
                .iter()
                .any(|i| matches!(i, ast::BodyItem::Attribute(a) if a.name.name == name))
                || !self.inherited(job, name).is_empty()
        };
        let name = &kind.name.name;
        let mut facts = Vec::new();
        if let (false, Some(timeout)) = (set("timeout"), kind.timeout) {
            facts.push(format!(
                "`timeout = {}`, the default of kind `{name}` (set `timeout` to change it)",
                crate::syntax::literal::format_duration(timeout)
            ));
        }
        if let (false, Some(retries)) = (set("retries"), kind.retries) {
            facts.push(format!(
                "`retries = {retries}`, the default of kind `{name}` (set `retries` to change it)"
            ));
        }
        facts
    }

    fn job(&mut self, job: &ast::JobDecl, stage: &str) {
        let name = job_name(job);
        let header = self.one_line(job.header_span);
        let mut facts = vec![format!("in stage `{stage}`")];
        for item in &job.body {
            if let ast::BodyItem::Attribute(a) = item
                && matches!(
                    a.name.name.as_str(),
                    "after" | "uses" | "when" | "approvers" | "required" | "outputs" | "timeout"
                )
            {
                facts.push(format!("`{}`", self.attribute_summary(a)));
            }
        }
        facts.extend(self.inherited_facts(job));
        facts.extend(self.template_facts(job));
        let (span, role) = match &job.form {
            ast::JobForm::Artifact { name }
            | ast::JobForm::Gate { name }
            | ast::JobForm::Job { name } => (name.span, Role::Definition),
            ast::JobForm::Test {
                kind, name: None, ..
            } => (kind.span, Role::Implicit(Implicit::TestKind)),
            ast::JobForm::Test {
                name: Some(name), ..
            }
            | ast::JobForm::Deploy {
                name: Some(name), ..
            } => (name.span, Role::Definition),
            ast::JobForm::Deploy {
                artifact,
                environment,
                name: None,
            } => (
                job.header_span,
                Role::Implicit(Implicit::Deploy {
                    artifact: artifact.name.clone(),
                    environment: environment.name.clone(),
                    environment_end: environment.span.end,
                }),
            ),
        };
        if let Role::Implicit(_) = role {
            facts.insert(0, format!("named `{name}`"));
        }
        self.define(
            Definition {
                symbol: Symbol::Job(name),
                span,
                signature: header,
                doc: job.doc.clone(),
                facts,
                form: Some(job.form.keyword()),
            },
            role,
        );
        let specs = match &job.form {
            ast::JobForm::Artifact { .. } => schema::ARTIFACT,
            ast::JobForm::Gate { .. } => schema::GATE,
            _ => schema::JOB,
        };
        match &job.form {
            ast::JobForm::Test {
                kind, environment, ..
            } => {
                self.reference(Symbol::Kind(kind.name.clone()), kind);
                if let Some(environment) = environment {
                    self.reference(Symbol::Environment(environment.name.clone()), environment);
                }
            }
            ast::JobForm::Deploy {
                artifact,
                environment,
                ..
            } => {
                self.reference(Symbol::Job(artifact.name.clone()), artifact);
                self.reference(Symbol::Environment(environment.name.clone()), environment);
            }
            _ => {}
        }
        self.templates_named(job.from.as_ref()); // v2 i13e
        let mut waits_for = Vec::new();
        if let ast::JobForm::Deploy { artifact, .. } = &job.form {
            waits_for.push(artifact.name.clone());
        }
        for item in &job.body {
            if let ast::BodyItem::Attribute(a) = item
                && matches!(a.name.name.as_str(), "after" | "uses")
                && let ExprKind::List(items) = &a.value.kind
            {
                waits_for.extend(items.iter().filter_map(|item| match &item.kind {
                    ExprKind::Ident(name) => Some(name.clone()),
                    _ => None,
                }));
            }
        }
        self.names.jobs.insert(
            job_name(job),
            JobPlace {
                stage: self.names.stages.len() - 1,
                waits_for,
            },
        );
        for item in &job.body {
            match item {
                ast::BodyItem::Attribute(a) => self.attribute(Block::Job(specs), a),
                ast::BodyItem::Env(e) => self.env_block(e),
                ast::BodyItem::Matrix(m) => {
                    self.attributes(Block::Matrix, &m.axes);
                    // v2 i13g: the keys of `include`/`exclude`
                    for entry in &m.entries {
                        self.attributes(Block::Matrix, &entry.values);
                    }
                }
                // v2 steps (i13b): no completion inside them yet.
                ast::BodyItem::Step(_) => {}
                ast::BodyItem::Reports(r) => self.attributes(Block::Reports, &r.kinds),
                ast::BodyItem::Setting(block) => self.setting(block),
                ast::BodyItem::Service(s) => self.service(s),
                ast::BodyItem::Cache(c) => self.attributes(Block::Cache, &c.attributes),
            }
        }
    }
}

// v2 i13e: templates
impl Walker<'_> {
    /// `template NAME [from A, B] { … }`: its definition, the templates it names, and its
    /// attributes (completed and hovered as a job's).
    fn template(&mut self, template: &ast::TemplateDecl) {
        let summary: Vec<String> = template
            .body
            .iter()
            .map(|i| match i {
                ast::BodyItem::Attribute(a) => self.attribute_summary(a),
                ast::BodyItem::Env(e) => self.one_line(e.span),
                ast::BodyItem::Step(s) => format!("step {} {{ … }}", s.name.name),
                ast::BodyItem::Matrix(_) => "matrix { … }".to_string(),
                ast::BodyItem::Reports(_) => "reports { … }".to_string(),
                ast::BodyItem::Setting(s) => format!("{} {{ … }}", s.word.name),
                ast::BodyItem::Service(s) => format!("service {} {{ … }}", s.name.name),
                ast::BodyItem::Cache(c) => format!("cache {} {{ … }}", c.name.name),
            })
            .collect();
        let head = self.one_line(template.header_span);
        let signature = if summary.is_empty() {
            head
        } else {
            format!("{head} {{\n  {}\n}}", summary.join("\n  "))
        };
        let file = &self.sources.get(template.span.file).name;
        self.define(
            Definition {
                symbol: Symbol::Template(template.name.name.clone()),
                span: template.name.span,
                signature,
                doc: template.doc.clone(),
                facts: vec![
                    format!("declared in `{file}`"),
                    "a job ending its head with `from NAME` takes these attributes and blocks; the job's own win".into(),
                ],
                form: None,
            },
            Role::Definition,
        );
        self.templates_named(template.from.as_ref());
        for item in &template.body {
            match item {
                ast::BodyItem::Attribute(a) => self.attribute(Block::Job(schema::JOB), a),
                ast::BodyItem::Env(e) => self.env_block(e),
                ast::BodyItem::Matrix(m) => self.attributes(Block::Matrix, &m.axes),
                ast::BodyItem::Reports(r) => self.attributes(Block::Reports, &r.kinds),
                ast::BodyItem::Setting(block) => self.setting(block),
                ast::BodyItem::Cache(c) => self.attributes(Block::Cache, &c.attributes),
                ast::BodyItem::Step(_) => {}
                ast::BodyItem::Service(s) => self.service(s),
            }
        }
    }

    /// Where each item `job` took from a template came from (none without `from`).
    fn inherited(&self, job: &ast::JobDecl, item: &str) -> Vec<&crate::check::templates::Origin> {
        match (self.templates, &job.from) {
            (Some(templates), Some(_)) => templates.origin(&job_name(job), item),
            _ => Vec::new(),
        }
    }

    /// "`timeout = 1h` from template `rust_release` (`shared.cdl`)" for each item a job took
    /// from a template.
    fn template_facts(&self, job: &ast::JobDecl) -> Vec<String> {
        let (Some(templates), Some(_)) = (self.templates, &job.from) else {
            return Vec::new();
        };
        let Some(origins) = templates.origins.get(&job_name(job)) else {
            return Vec::new();
        };
        origins
            .iter()
            .map(|origin| {
                let written = if origin.item.starts_with("step ") || origin.item == "matrix" {
                    format!("{} {{ … }}", origin.item)
                } else if origin.item.starts_with("env ") {
                    format!("env {{ {} }}", self.one_line(origin.span))
                } else {
                    self.one_line(origin.span)
                };
                let file = &self.sources.get(origin.span.file).name;
                format!("`{written}` from template `{}` (`{file}`)", origin.template)
            })
            .collect()
    }

    fn templates_named(&mut self, from: Option<&ast::FromClause>) {
        for name in from.into_iter().flat_map(|f| &f.templates) {
            self.reference(Symbol::Template(name.name.clone()), name);
        }
    }
}

/// The name of a job as the checker gives it (`check::job_name`).
pub fn job_name(job: &ast::JobDecl) -> String {
    crate::check::job_name::of(job)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compile::compile_text;

    #[test]
    fn a_team_is_defined_once_and_referenced_from_approvers_by_its_name_inside_the_quotes() {
        let text = r#"pipeline p {
  team release-managers { members = ["alice", "bob"] }
  stage s { gate g { approvers = ["@release-managers", "carol"] } }
}"#;
        let compilation = compile_text("t.cdl", None, text.to_string());
        let names = Names::build(&compilation);
        let symbol = Symbol::Team("release-managers".into());
        let definition = names.definition(&symbol).expect("a definition");
        assert_eq!(definition.signature, "team release-managers");
        let spans: Vec<&str> = names
            .occurrences_of(&symbol)
            .map(|o| &text[o.span.start as usize..o.span.end as usize])
            .collect();
        assert_eq!(spans, ["release-managers", "release-managers"]);
        let reference = names
            .occurrences_of(&symbol)
            .find(|o| matches!(o.what, What::Name(_, Role::Reference)))
            .unwrap();
        assert_eq!(
            &text[reference.span.start as usize - 2..reference.span.start as usize],
            "\"@"
        );
    }

    /// v2 i14d: a service's name is an occurrence (hovered), and half-typed services never
    /// panic the checker, the names, the completion context or the formatter.
    #[test]
    fn services_are_named_and_every_prefix_serves_the_editor_without_a_panic() {
        let text = r#"template t { service db { image = "postgres:16"  port = 5432 } }
    pipeline p { stage s {
      job a from t {
        run = "a"
        service cache { image = "redis:7"  env { A = "1" }  port = 6379  command = ["redis-server"]  health = "redis-cli ping" }
      }
    } }
    "#;
        let c = compile_text("t.cdl", None, text.to_string());
        assert!(c.diagnostics.is_empty(), "{:?}", c.diagnostics);
        let names = Names::build(&c);
        let offset = text.find("cache").unwrap() + 1;
        let at = names.at(c.root, offset);
        assert!(
            at.iter()
                .any(|o| matches!(&o.what, What::Service(n) if n == "cache")),
            "{at:?}"
        );
        let offset = text.find("health").unwrap() + 1;
        assert!(
            names
                .at(c.root, offset)
                .iter()
                .any(|o| matches!(&o.what, What::Attribute(Block::Service, n) if n == "health"))
        );
        for end in (0..=text.len()).filter(|i| text.is_char_boundary(*i)) {
            let prefix = &text[..end];
            let c = compile_text("t.cdl", None, prefix.to_string());
            let _ = Names::build(&c);
            let _ = crate::lsp::context::at(prefix, prefix.len());
            let _ = crate::fmt::format(crate::span::FileId(0), prefix);
        }
    }

    /// v2 i14c: a cache's attributes are hovered with the cache's schema, in jobs and templates.
    #[test]
    fn cache_attributes_are_known_in_jobs_and_templates() {
        let text = r#"template t { cache c { key = ["k"]  paths = ["a"] } }
pipeline p { stage s { job a from t { run = "x"  cache d { paths = ["b"]  policy = pull } } } }"#;
        let compilation = compile_text("t.cdl", None, text.to_string());
        let names = Names::build(&compilation);
        for attribute in ["key", "paths", "policy"] {
            let offset = text.find(&format!("{attribute} =")).unwrap() + 1;
            let found = names.at(compilation.root, offset);
            assert!(
                found.iter().any(|o| matches!(
                    &o.what,
                    What::Attribute(block, name)
                        if name == attribute && block.schema().iter().any(|s| s.name == attribute)
                )),
                "{attribute}: {found:?}"
            );
        }
    }

    /// v2 i13e: half-typed templates never panic the checker, the names or the completion context.
    #[test]
    fn every_prefix_of_a_templated_file_checks_formats_and_serves_the_editor_without_a_panic() {
        let text = r#"/// doc
    template base { timeout = 1m  env { A = "1" }  step s { run = "x" } }
    template top from base, other { secrets = [T]  after = [a] }
    pipeline p { secret T stage s {
      job a from top { run = "a" }
      test unit u on e from base, top { run = "u" }
      deploy x to e as d from top { run = "d" }
      gate g from base { approvers = ["al"] }
    } }
    "#;
        for end in (0..=text.len()).filter(|i| text.is_char_boundary(*i)) {
            let prefix = &text[..end];
            let c = compile_text("t.cdl", None, prefix.to_string());
            let _ = Names::build(&c);
            let _ = crate::lsp::context::at(prefix, prefix.len());
            let _ = crate::fmt::format(crate::span::FileId(0), prefix);
        }
    }
}
