//! Syntax tree → checked model: every attribute typed, every name resolved.

use std::collections::HashMap;

use indexmap::IndexMap;

use super::attributes::{self as schema, Attributes, matrix_axes, string_map};
use super::model::*;
use crate::codes::Code;
use crate::diagnostic::{Diagnostic, Sink, did_you_mean};
use crate::span::{Ident, Span};
use crate::syntax::ast;

/// Collects the kinds of every loaded file (the prelude first), reporting duplicates.
pub fn kinds<'a>(
    files: impl IntoIterator<Item = &'a ast::File>,
    sink: &mut Sink,
) -> IndexMap<String, Kind> {
    let mut kinds: IndexMap<String, Kind> = IndexMap::new();
    for file in files {
        for item in &file.items {
            let ast::TopItem::Kind(decl) = item else {
                continue;
            };
            if let Some(first) = kinds.get(&decl.name.name) {
                sink.push(duplicate("kind", &decl.name, first.name.span));
                continue;
            }
            let attrs = Attributes::read(schema::KIND, "a kind", &decl.attributes, sink);
            let environment = match attrs.word("environment").as_deref() {
                Some("forbidden") => KindEnvironment::Forbidden,
                Some("required") => KindEnvironment::Required,
                _ => KindEnvironment::Optional,
            };
            kinds.insert(
                decl.name.name.clone(),
                Kind {
                    name: decl.name.clone(),
                    doc: decl.doc.clone(),
                    environment,
                    timeout: attrs.duration("timeout"),
                    retries: attrs.integer("retries").map(|n| n as u32),
                    span: decl.span,
                },
            );
        }
    }
    kinds
}

pub fn duplicate(what: &str, name: &Ident, first: Span) -> Diagnostic {
    Diagnostic::new(
        Code::DuplicateName,
        name.span,
        format!("the {what} `{}` is defined twice", name.name),
    )
    .label(format!("second {what} named `{}`", name.name))
    .related(first, "first defined here")
    .help(format!("rename one of them; {what} names must be unique"))
}

/// Two different deploys whose generated names are the same (`deploy app to b_production`
/// and `deploy app_b to production` both make `deploy_app_b_production`).
fn generated_collision(decl: &ast::JobDecl, first: &Job, name: &str) -> Option<Diagnostic> {
    let header = |job_type: JobType, artifact: &Option<Ident>, environment: &Option<Ident>| match (
        job_type,
        artifact,
        environment,
    ) {
        (JobType::Deploy, Some(a), Some(e)) => format!("deploy {} to {}", a.name, e.name),
        _ => format!("{} {}", job_type.as_str(), name),
    };
    let first_generated = first.job_type == JobType::Deploy && first.name_span == first.header_span;
    let (second, second_generated) = match &decl.form {
        ast::JobForm::Deploy {
            artifact,
            environment,
            name: declared,
        } => (
            format!("deploy {} to {}", artifact.name, environment.name),
            declared.is_none(),
        ),
        _ => return None,
    };
    let first_header = header(first.job_type, &first.artifact, &first.environment);
    if !(first_generated || second_generated) || first_header == second {
        return None;
    }
    let (what_first, what_second) = (
        if first_generated {
            "generates"
        } else {
            "is named"
        },
        if second_generated {
            "generates"
        } else {
            "is named"
        },
    );
    Some(
        Diagnostic::new(
            Code::DuplicateName,
            decl.header_span,
            format!("`{second}` and `{first_header}` both get the job name `{name}`"),
        )
        .label(format!("{what_second} `{name}`"))
        .related(first.header_span, format!("`{first_header}` {what_first} the same name"))
        .note("a deploy without `as` is named `deploy_ARTIFACT_ENVIRONMENT`, and `_` may also be part of either name")
        .help(format!("name one of them explicitly: `{second} as NAME {{ … }}`")),
    )
}

/// Where each string item of a list attribute was written (one span for a single string).
pub fn item_spans(attributes: &[&ast::Attribute], name: &str) -> Vec<Span> {
    let Some(attribute) = attributes.iter().find(|a| a.name.name == name) else {
        return Vec::new();
    };
    match &attribute.value.kind {
        ast::ExprKind::List(items) => items.iter().map(|item| item.span).collect(),
        _ => vec![attribute.value.span],
    }
}

/// Lowers the pipeline and resolves its names against `kinds`.
pub fn pipeline(decl: &ast::Pipeline, kinds: &IndexMap<String, Kind>, sink: &mut Sink) -> Pipeline {
    let mut builder = Builder {
        kinds,
        sink,
        pipeline: Pipeline {
            name: decl.name.clone(),
            doc: decl.doc.clone(),
            description: None,
            runner: None,
            runner_labels: Vec::new(),
            image: None,
            allowed_signers: None,
            default_branch: None,
            shell: None,
            triggers: Vec::new(),
            env: IndexMap::new(),
            secrets: IndexMap::new(),
            teams: IndexMap::new(),
            environments: IndexMap::new(),
            stages: Vec::new(),
            jobs: Vec::new(),
            artifacts: IndexMap::new(),
            job_names: HashMap::new(),
            dropped_references: Vec::new(),
            span: decl.span,
            inputs: IndexMap::new(),
            vars: IndexMap::new(),
            settings: Default::default(),
            composed_env: IndexMap::new(),
        },
        stage_names: HashMap::new(),
        trigger_spans: HashMap::new(),
        env_span: None,
    };
    let attributes = decl.items.iter().filter_map(|item| match item {
        ast::PipelineItem::Attribute(a) => Some(a),
        _ => None,
    });
    let attrs = Attributes::read(schema::PIPELINE, "a pipeline", attributes, builder.sink);
    builder.pipeline.description = attrs.string("description");
    builder.pipeline.runner = super::attributes::runner(&attrs).0;
    builder.pipeline.runner_labels = super::attributes::runner(&attrs).1;
    builder.pipeline.image = attrs.string("image");
    builder.pipeline.allowed_signers = attrs.string("allowed_signers");
    builder.pipeline.default_branch = attrs.string("default_branch");
    builder.pipeline.shell = super::steps::shell(&attrs, builder.sink);
    builder.pipeline.settings = super::platform::pipeline(&decl.items, &attrs, builder.sink);
    for item in &decl.items {
        match item {
            ast::PipelineItem::Attribute(_) => {}
            ast::PipelineItem::Setting(_) => {} // see `check::platform`
            ast::PipelineItem::Trigger(trigger) => builder.trigger(trigger),
            ast::PipelineItem::Env(env) => {
                if let Some(first) = builder.env_span {
                    builder.sink.push(
                        Diagnostic::new(
                            Code::DuplicateAttribute,
                            env.span,
                            "the pipeline has two `env` blocks",
                        )
                        .label("second `env` block")
                        .related(first, "first `env` block")
                        .help("merge them into one"),
                    );
                }
                builder.env_span = Some(env.span);
                let vars = string_map(&env.variables, "the pipeline's `env`", builder.sink);
                // v2 i13j: composed values
                let composed =
                    super::value::env(&env.variables, super::value::Place::Shared, builder.sink);
                builder.pipeline.composed_env.extend(composed);
                builder
                    .pipeline
                    .env
                    .extend(vars.into_iter().map(|(k, (v, _))| (k, v)));
            }
            ast::PipelineItem::Secret(secret) => builder.secret(secret),
            ast::PipelineItem::Team(_) => {} // see `check::teams`
            ast::PipelineItem::Parameter(_) => {} // see `check::inputs`
            ast::PipelineItem::Environment(environment) => builder.environment(environment),
            ast::PipelineItem::Stage(stage) => builder.stage(stage),
        }
    }
    builder.resolve_references();
    builder.pipeline
}

struct Builder<'a> {
    kinds: &'a IndexMap<String, Kind>,
    sink: &'a mut Sink,
    pipeline: Pipeline,
    stage_names: HashMap<String, Span>,
    trigger_spans: HashMap<&'static str, Span>,
    env_span: Option<Span>,
}

const TRIGGERS: [&str; 5] = ["push", "pull_request", "tag", "schedule", "manual"];

impl Builder<'_> {
    fn trigger(&mut self, trigger: &ast::Trigger) {
        let (event, spec, name) = match trigger.event.name.as_str() {
            "push" => (TriggerEvent::Push, schema::TRIGGER_PUSH, "push"),
            "pull_request" => (
                TriggerEvent::PullRequest,
                schema::TRIGGER_PULL_REQUEST,
                "pull_request",
            ),
            "tag" => (TriggerEvent::Tag, schema::TRIGGER_TAG, "tag"),
            "schedule" => (TriggerEvent::Schedule, schema::TRIGGER_SCHEDULE, "schedule"),
            "manual" => (TriggerEvent::Manual, schema::TRIGGER_MANUAL, "manual"),
            other => {
                if let Some((message, cdl)) = super::foreign::trigger(other) {
                    self.sink.push(
                        Diagnostic::new(Code::UnknownTrigger, trigger.event.span, message)
                            .label("not a cdl trigger")
                            .help(format!("write `on {cdl}`"))
                            .suggest(trigger.event.span, cdl),
                    );
                    return;
                }
                let help = did_you_mean(other, TRIGGERS).unwrap_or_else(|| {
                    format!(
                        "triggers are {}",
                        TRIGGERS.map(|t| format!("`on {t}`")).join(", ")
                    )
                });
                self.sink.push(
                    Diagnostic::new(
                        Code::UnknownTrigger,
                        trigger.event.span,
                        format!("unknown trigger `on {other}`"),
                    )
                    .label("not a trigger")
                    .help(help),
                );
                return;
            }
        };
        if let Some(first) = self.trigger_spans.get(name) {
            self.sink.push(
                Diagnostic::new(
                    Code::DuplicateName,
                    trigger.event.span,
                    format!("the trigger `on {name}` is declared twice"),
                )
                .label("second declaration")
                .related(*first, "first declared here")
                .help("merge them into one block"),
            );
            return;
        }
        self.trigger_spans.insert(name, trigger.event.span);
        let block = format!("`on {name}`");
        let attrs = Attributes::read(spec, &block, trigger.attributes.iter().flatten(), self.sink);
        if trigger.attributes.is_none() && event == TriggerEvent::Schedule {
            attrs.require(spec, &block, trigger.span, self.sink, &[]);
        } else if trigger.attributes.is_some() {
            attrs.require(spec, &block, trigger.event.span, self.sink, &[]);
        }
        let cron = attrs.string("cron");
        if let (Some(cron), Some(span)) = (&cron, attrs.value_span("cron")) {
            let fields = cron.split_whitespace().count();
            if fields != 5 {
                self.sink.push(
                    Diagnostic::new(Code::InvalidValue, span, format!("a cron expression has 5 fields, this one has {fields}"))
                        .label("not a 5-field cron expression")
                        .help("minute hour day-of-month month day-of-week, e.g. \"0 3 * * 1\" (03:00 UTC every Monday)"),
                );
            }
        }
        let branches = attrs.strings("branches");
        let pattern = attrs.string("pattern");
        let globs = branches
            .iter()
            .map(|b| ("branch", "branches", b))
            .chain(pattern.iter().map(|p| ("tag", "pattern", p)));
        for (what, attribute, glob) in globs {
            if let Some(span) = attrs.value_span(attribute) {
                super::ref_glob::check(glob, what, span, self.sink);
            }
        }
        let (paths, paths_ignore) = super::platform::path_filters(&attrs, self.sink);
        self.pipeline.triggers.push(Trigger {
            event,
            branches,
            pattern,
            cron,
            span: trigger.span,
            paths,
            paths_ignore,
        });
    }

    fn secret(&mut self, secret: &ast::SecretDecl) {
        if let Some(first) = self.pipeline.secrets.get(&secret.name.name) {
            self.sink
                .push(duplicate("secret", &secret.name, first.name.span));
            return;
        }
        if let Some(problem) = schema::env_name_problem(&secret.name.name) {
            self.sink.push(problem.at(secret.name.span));
        }
        self.pipeline.secrets.insert(
            secret.name.name.clone(),
            Secret {
                name: secret.name.clone(),
                doc: secret.doc.clone(),
            },
        );
    }

    fn environment(&mut self, decl: &ast::EnvironmentDecl) {
        if let Some(first) = self.pipeline.environments.get(&decl.name.name) {
            self.sink
                .push(duplicate("environment", &decl.name, first.name.span));
            return;
        }
        let attributes = decl.items.iter().filter_map(|i| match i {
            ast::EnvironmentItem::Attribute(a) => Some(a),
            _ => None,
        });
        let block = format!("the environment `{}`", decl.name.name);
        // v2 i13j: a composed `url`
        let (composed_url, attributes): (Vec<&ast::Attribute>, Vec<&ast::Attribute>) = attributes
            .partition(|a| a.name.name == "url" && super::value::is_composed(&a.value, false));
        let composed_url = composed_url
            .first()
            .and_then(|a| super::value::read(&a.value, super::value::Place::Shared, self.sink));
        let attrs = Attributes::read(schema::ENVIRONMENT, &block, attributes, self.sink);
        let mut environment = Environment {
            name: decl.name.clone(),
            doc: decl.doc.clone(),
            url: attrs.string("url"),
            env: IndexMap::new(),
            concurrency: attrs.integer("concurrency").map(|n| n as u32),
            requires_approval: None,
            requires_tests: Vec::new(),
            requires_promotion: None,
            span: decl.span,
            composed_url,
            composed_env: IndexMap::new(),
        };
        let mut env_block: Option<Span> = None;
        for item in &decl.items {
            match item {
                ast::EnvironmentItem::Attribute(_) => {}
                ast::EnvironmentItem::Env(env) => {
                    if let Some(first) = env_block.replace(env.span) {
                        self.sink.push(twice(
                            env.span,
                            first,
                            "the environment has two `env` blocks",
                            "merge them into one",
                        ));
                    }
                    let vars = string_map(
                        &env.variables,
                        &format!("the `env` of `{}`", decl.name.name),
                        self.sink,
                    );
                    environment
                        .env
                        .extend(vars.into_iter().map(|(k, (v, _))| (k, v)));
                    // v2 i13j: composed values
                    environment.composed_env.extend(super::value::env(
                        &env.variables,
                        super::value::Place::Shared,
                        self.sink,
                    ));
                }
                ast::EnvironmentItem::Requires(requirement) => match &requirement.kind {
                    ast::RequirementKind::Approval => {
                        if let Some(first) = environment.requires_approval.replace(requirement.span)
                        {
                            self.sink.push(twice(
                                requirement.span,
                                first,
                                "`requires approval` is written twice",
                                "remove one of them",
                            ));
                        }
                    }
                    ast::RequirementKind::Tests(kinds) => {
                        for kind in kinds {
                            if let Some(first) = environment
                                .requires_tests
                                .iter()
                                .find(|k| k.name == kind.name)
                            {
                                let message =
                                    format!("the test kind `{}` is required twice", kind.name);
                                self.sink.push(twice(
                                    kind.span,
                                    first.span,
                                    &message,
                                    "list each kind once",
                                ));
                            } else if self.known_kind(kind) {
                                environment.requires_tests.push(kind.clone());
                            }
                        }
                    }
                    ast::RequirementKind::Promotion(from) => {
                        if let Some(first) = &environment.requires_promotion {
                            let message = format!(
                                "`{}` already requires promotion from `{}`",
                                decl.name.name, first.name
                            );
                            self.sink.push(twice(
                                from.span,
                                first.span,
                                &message,
                                "an environment is promoted from one other environment",
                            ));
                        } else if from.name == decl.name.name {
                            self.sink.push(
                                Diagnostic::new(
                                    Code::PromotionFromItself,
                                    from.span,
                                    format!("`{}` cannot be promoted from itself", from.name),
                                )
                                .label("the environment being declared")
                                .help(match self.pipeline.environments.keys().next() {
                                    Some(other) => format!("name the environment a release passes through before `{}`, e.g. `requires promotion from {other}`", from.name),
                                    None => format!("name the environment a release passes through before `{}`", from.name),
                                }),
                            );
                        } else {
                            environment.requires_promotion = Some(from.clone());
                        }
                    }
                },
            }
        }
        self.pipeline
            .environments
            .insert(decl.name.name.clone(), environment);
    }

    fn known_kind(&mut self, kind: &Ident) -> bool {
        if self.kinds.contains_key(&kind.name) {
            return true;
        }
        self.sink.push(
            Diagnostic::new(Code::UnknownKind, kind.span, format!("unknown test kind `{}`", kind.name))
                .label("not a declared kind")
                .help(did_you_mean(&kind.name, self.kinds.keys().map(String::as_str)).unwrap_or_else(|| {
                    format!("declare it with `kind {} {{ environment = optional }}`, or use one of {}", kind.name, self.kind_list())
                })),
        );
        false
    }

    fn kind_list(&self) -> String {
        self.kinds
            .keys()
            .map(|k| format!("`{k}`"))
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn stage(&mut self, decl: &ast::StageDecl) {
        if let Some(first) = self.stage_names.get(&decl.name.name) {
            self.sink.push(duplicate("stage", &decl.name, *first));
        }
        self.stage_names
            .insert(decl.name.name.clone(), decl.name.span);
        let index = self.pipeline.stages.len();
        let mut stage = Stage {
            name: decl.name.clone(),
            doc: decl.doc.clone(),
            jobs: Vec::new(),
            span: decl.span,
        };
        for job in &decl.jobs {
            if let Some(id) = self.job(job, index) {
                stage.jobs.push(id);
            }
        }
        self.pipeline.stages.push(stage);
    }

    fn job(&mut self, decl: &ast::JobDecl, stage: usize) -> Option<JobId> {
        let (job_type, name, name_span, schema, block) = match &decl.form {
            ast::JobForm::Artifact { name } => (
                JobType::Artifact,
                name.name.clone(),
                name.span,
                schema::ARTIFACT,
                "an artifact",
            ),
            ast::JobForm::Test { kind, name, .. } => {
                let (n, s) = name
                    .as_ref()
                    .map_or((kind.name.clone(), kind.span), |n| (n.name.clone(), n.span));
                (JobType::Test, n, s, schema::JOB, "a test")
            }
            ast::JobForm::Deploy {
                artifact,
                environment,
                name,
            } => {
                let (n, s) = name.as_ref().map_or_else(
                    || {
                        (
                            super::job_name::deploy(&artifact.name, &environment.name),
                            decl.header_span,
                        )
                    },
                    |n| (n.name.clone(), n.span),
                );
                (JobType::Deploy, n, s, schema::JOB, "a deploy")
            }
            ast::JobForm::Gate { name } => (
                JobType::Gate,
                name.name.clone(),
                name.span,
                schema::GATE,
                "a gate",
            ),
            ast::JobForm::Job { name } => (
                JobType::Job,
                name.name.clone(),
                name.span,
                schema::JOB,
                "a job",
            ),
        };
        let block = format!("{block} (`{name}`)");
        let attributes: Vec<&ast::Attribute> = decl
            .body
            .iter()
            .filter_map(|i| match i {
                ast::BodyItem::Attribute(a) => Some(a),
                _ => None,
            })
            .collect();
        if job_type == JobType::Artifact {
            super::outputs::check(&attributes, self.sink);
            // v2 i13k
            super::matrix_artifacts::check(&attributes, self.sink);
        }
        // v2 i13f: `runs` and `start` in a gate have their own error.
        for attribute in &attributes {
            if super::after_failure::is_gate_attribute(job_type, attribute) {
                super::after_failure::gate(attribute, &name, self.sink);
            }
        }
        // v2 i13g: `runner`/`image`/`timeout = matrix.KEY`
        let (matrix_references, attributes) = super::matrix::split_references(attributes);
        let (matrix_when, attributes) = super::matrix::split_when(attributes);
        // v2 i13j: composed `image` / `runner`
        let (composed_attributes, attributes) = if job_type == JobType::Gate {
            (Vec::new(), attributes)
        } else {
            super::value::split(attributes)
        };
        let attrs = Attributes::read(
            schema,
            &block,
            attributes
                .iter()
                .copied()
                .filter(|a| !super::after_failure::is_gate_attribute(job_type, a)),
            self.sink,
        );
        let has_steps = decl
            .body
            .iter()
            .any(|i| matches!(i, ast::BodyItem::Step(_)));
        let skip: &[&str] = if job_type == JobType::Gate {
            &["approvers"]
        } else if has_steps || super::trigger::has_trigger(&decl.body) {
            // A job of steps needs no `run` of its own (v2 §4); a trigger's `run` is its
            // optional fallback.
            &["run"]
        } else {
            &[]
        };
        attrs.require(schema, &block, decl.header_span, self.sink, skip);

        let mut env = IndexMap::new();
        let mut matrix = IndexMap::new();
        let mut matrix_entries = crate::model::matrix::Matrix::default();
        let mut max_parallel = None;
        let mut include_spans = Vec::new();
        let (mut env_block, mut matrix_block): (Option<Span>, Option<Span>) = (None, None);
        for item in &decl.body {
            match item {
                ast::BodyItem::Attribute(_) => {}
                ast::BodyItem::Setting(_) => {} // see `check::platform`
                ast::BodyItem::Step(_) if job_type != JobType::Gate => {}
                ast::BodyItem::Reports(_) if job_type != JobType::Gate => {}
                ast::BodyItem::Service(_) if job_type != JobType::Gate => {}
                ast::BodyItem::Cache(_) if job_type != JobType::Gate => {} // v2 i14c
                ast::BodyItem::Env(block_env) if job_type != JobType::Gate => {
                    if let Some(first) = env_block.replace(block_env.span) {
                        self.sink.push(twice(
                            block_env.span,
                            first,
                            &format!("`{name}` has two `env` blocks"),
                            "merge them into one",
                        ));
                    }
                    let vars = string_map(
                        &block_env.variables,
                        &format!("the `env` of `{name}`"),
                        self.sink,
                    );
                    env.extend(vars.into_iter().map(|(k, (v, _))| (k, v)));
                }
                ast::BodyItem::Matrix(block_matrix) if job_type != JobType::Gate => {
                    if let Some(first) = matrix_block.replace(block_matrix.span) {
                        self.sink.push(twice(
                            block_matrix.span,
                            first,
                            &format!("`{name}` has two `matrix` blocks"),
                            "put every axis in one `matrix` block",
                        ));
                    }
                    // v2: `max_parallel = N` beside the axes.
                    let (limit, axes): (Vec<&ast::Attribute>, Vec<&ast::Attribute>) = block_matrix
                        .axes
                        .iter()
                        .partition(|a| a.name.name == super::matrix::MAX_PARALLEL);
                    max_parallel = super::matrix::max_parallel(&limit, self.sink);
                    matrix.extend(matrix_axes(axes, self.sink));
                    // v2 i13g: include / exclude
                    (matrix_entries, include_spans) =
                        super::matrix::entries(block_matrix, &matrix, &name, self.sink);
                }
                other => {
                    let (what, span) = match other {
                        ast::BodyItem::Env(b) => ("env", b.span),
                        ast::BodyItem::Matrix(m) => ("matrix", m.span),
                        ast::BodyItem::Step(s) => ("step", s.span),
                        ast::BodyItem::Reports(r) => ("reports", r.span),
                        ast::BodyItem::Attribute(a) => ("attribute", a.span),
                        ast::BodyItem::Setting(s) => ("setting", s.span),
                        ast::BodyItem::Service(s) => ("service", s.span),
                        ast::BodyItem::Cache(c) => ("cache", c.span),
                    };
                    self.sink.push(
                        Diagnostic::new(
                            Code::UnknownAttribute,
                            Span {
                                end: span.start + what.len() as u32,
                                ..span
                            },
                            format!("a gate has no `{what}` block"),
                        )
                        .label("not allowed in a gate")
                        .help("a gate only waits for approval; put commands in a job after it"),
                    );
                }
            }
        }
        // v2 i13g
        let full_matrix = crate::model::matrix::Matrix {
            axes: matrix.clone(),
            ..matrix_entries.clone()
        };
        super::matrix::check_references(
            &matrix_references,
            &full_matrix,
            &include_spans,
            &name,
            self.sink,
        );
        // v2 i13j: composed values, their `matrix.KEY` checked like the attributes' above
        let mut composed = if job_type == JobType::Gate {
            super::value::JobValues::default()
        } else {
            super::value::job(&decl.body, &composed_attributes, self.sink)
        };
        super::matrix::check_references(
            &super::value::matrix_references(&composed),
            &full_matrix,
            &include_spans,
            &name,
            self.sink,
        );
        // v2 i13k: instances of a matrix artifact whose folders had to be told apart.
        if let (JobType::Artifact, Some(span)) = (job_type, matrix_block) {
            super::matrix_artifacts::check_folders(&full_matrix, &name, span, self.sink);
        }
        let mut instance_when = Vec::new();
        if let Some(when) = &matrix_when {
            if job_type == JobType::Deploy {
                self.sink.push(
                    Diagnostic::new(
                        Code::InvalidValue,
                        when.span,
                        "a deploy's condition cannot read `matrix.KEY`",
                    )
                    .label("read per instance")
                    .help("a deploy runs as a whole: give it a condition on `branch`, `tag` or `event`, or leave the instance out with an `exclude`"),
                );
            } else {
                instance_when =
                    super::matrix::instance_conditions(when, &full_matrix, &name, self.sink);
            }
        }
        let (kind, environment, artifact) = match &decl.form {
            ast::JobForm::Artifact { name } => (None, None, Some(name.clone())),
            ast::JobForm::Test {
                kind, environment, ..
            } => (Some(kind.clone()), environment.clone(), None),
            ast::JobForm::Deploy {
                artifact,
                environment,
                ..
            } => (None, Some(environment.clone()), Some(artifact.clone())),
            _ => (None, None, None),
        };
        // v2 steps and shells (i13b)
        let (mut steps, with_values) = super::steps::read(
            &decl.body,
            &name,
            &attrs.names("secrets"),
            attrs.is_set("run"),
            self.sink,
        );
        // v2 §5: native steps' `with` values, their `matrix.KEY` checked as above
        let with_values = super::value::JobValues {
            with: with_values,
            ..Default::default()
        };
        super::matrix::check_references(
            &super::value::matrix_references(&with_values),
            &full_matrix,
            &include_spans,
            &name,
            self.sink,
        );
        composed.with = with_values.with;
        // v2 i13l: step conditions
        let step_instance_when = super::step_when::read(
            &decl.body,
            &mut steps,
            &full_matrix,
            &name,
            &attrs.names("secrets"),
            self.sink,
        );
        // v2: composed values in the steps' `env`, their `matrix.KEY` checked like the job's
        let mut composed = composed;
        composed.steps = super::value::steps(&decl.body, &steps, self.sink);
        let step_values = super::value::JobValues {
            steps: composed.steps.clone(),
            ..Default::default()
        };
        super::matrix::check_references(
            &super::value::matrix_references(&step_values),
            &full_matrix,
            &include_spans,
            &name,
            self.sink,
        );
        let shell = super::steps::shell(&attrs, self.sink);
        // v2 reports and kept files (i13h)
        let kept = super::reports::read(
            &decl.body,
            &attributes,
            &attrs,
            &name,
            job_type == JobType::Artifact,
            self.sink,
        );
        // v2 i14c: caches
        let caches = if job_type == JobType::Gate {
            Vec::new()
        } else {
            super::cache::read(&decl.body, &name, self.sink)
        };
        let settings =
            super::platform::job(&decl.body, &attrs, job_type == JobType::Gate, self.sink);
        let review = super::review::read(&decl.body, job_type, !full_matrix.is_empty(), self.sink);
        // Downstream pipelines: what a trigger job cannot have.
        let mut cannot: Vec<(&str, Span)> = decl
            .body
            .iter()
            .filter_map(|item| match item {
                ast::BodyItem::Step(b) => Some(("steps", b.span)),
                ast::BodyItem::Matrix(b) => Some(("a matrix", b.span)),
                ast::BodyItem::Reports(b) => Some(("reports", b.span)),
                ast::BodyItem::Service(b) => Some(("services", b.span)),
                ast::BodyItem::Cache(b) => Some(("a cache", b.span)),
                ast::BodyItem::Setting(b) if b.word.name == "environment" => {
                    Some(("a review environment", b.span))
                }
                _ => None,
            })
            .collect();
        for (name, what) in [
            ("values", "`values`"),
            ("uses", "`uses`"),
            ("keep", "`keep`"),
            ("retries", "`retries`"),
            ("timeout", "`timeout`"),
        ] {
            if let Some(span) = attrs.name_span(name) {
                cannot.push((what, span));
            }
        }
        let trigger = super::trigger::read(&decl.body, job_type, &cannot, self.sink);
        // v2 i13f: jobs that run after a failure, jobs started by hand
        let after_failure = super::after_failure::read(&attrs, self.sink);
        let pages = super::pages::read(&attrs, &name, self.sink);
        // v2 i14d: services
        let services = super::services::read(&decl.body, &name, self.sink);
        let id = JobId(self.pipeline.jobs.len());
        if let Some(first) = self.pipeline.job_names.get(&name) {
            let first_span = self.pipeline.job(*first).name_span;
            let mut diagnostic = duplicate(
                "job",
                &Ident {
                    name: name.clone(),
                    span: name_span,
                },
                first_span,
            );
            diagnostic.help = Some(match &decl.form {
                ast::JobForm::Test {
                    name: None, kind, ..
                } => {
                    format!(
                        "two tests of kind `{0}` need names: `test {0} NAME {{ … }}`",
                        kind.name
                    )
                }
                ast::JobForm::Deploy { name: None, .. } => {
                    "name the second deploy: `deploy ARTIFACT to ENV as NAME { … }`".into()
                }
                _ => "rename one of them; job, gate and artifact names share one namespace".into(),
            });
            let first_job = self.pipeline.job(*first);
            if let Some(collision) = generated_collision(decl, first_job, &name) {
                diagnostic = collision;
            }
            self.pipeline.dropped_references.extend(
                [&environment, &artifact]
                    .into_iter()
                    .flatten()
                    .map(|i| i.name.clone()),
            );
            self.sink.push(diagnostic);
            return None;
        }
        if job_type == JobType::Artifact {
            self.pipeline.artifacts.insert(name.clone(), id);
        }
        self.pipeline.job_names.insert(name.clone(), id);
        self.pipeline.jobs.push(Job {
            id,
            name,
            name_span,
            doc: decl.doc.clone(),
            stage,
            job_type,
            kind,
            environment,
            artifact,
            outputs: attrs.strings("outputs"),
            run: attrs.strings("run"),
            run_spans: attrs.item_spans("run"),
            run_value_span: attrs.value_span("run"),
            env,
            secrets: attrs.names("secrets"),
            timeout: attrs.duration("timeout"),
            retries: attrs.integer("retries").map(|n| n as u32),
            after: attrs.names("after"),
            when: attrs
                .condition("when")
                .or_else(|| super::matrix::all_instances(&instance_when)),
            when_span: attrs
                .value_span("when")
                .or(matrix_when.as_ref().map(|w| w.span)),
            uses: attrs.names("uses"),
            allow_failure: (attrs.bool("allow_failure") == Some(true))
                .then(|| attrs.name_span("allow_failure"))
                .flatten(),
            image: attrs.string("image"),
            no_image: attrs.word("image").as_deref() == Some("none"),
            runner: super::attributes::runner(&attrs).0,
            runner_labels: super::attributes::runner(&attrs).1,
            matrix,
            approvers: attrs.strings("approvers"),
            approver_spans: item_spans(&attributes, "approvers"),
            required: attrs.integer("required").map_or(1, |n| n as u32),
            message: attrs.string("message"),
            header_span: decl.header_span,
            span: decl.span,
            after_jobs: Vec::new(),
            uses_jobs: Vec::new(),
            artifact_job: None,
            display_name: attrs.string("name"),
            shell,
            steps,
            values: super::values::declared(&attributes),
            reports: kept.reports,
            keep: kept.keep,
            retention_days: kept.retention_days,
            keep_when: kept.keep_when,
            entrypoint: attrs
                .value_span("entrypoint")
                .map(|_| attrs.strings("entrypoint")),
            settings,
            runs: after_failure.runs,
            runs_span: after_failure.runs_span,
            manual: after_failure.manual,
            auto_when: after_failure.auto_when,
            matrix_entries,
            max_parallel,
            pages,
            matrix_references,
            instance_when,
            step_instance_when,
            services,
            composed,
            optional_outputs: attrs.strings("optional_outputs"),
            caches,
            review,
            trigger,
        });
        Some(id)
    }

    /// Resolves every name a job or environment refers to; unknown names are reported.
    fn resolve_references(&mut self) {
        let unknown_sources: Vec<(String, Ident)> = self
            .pipeline
            .environments
            .iter()
            .filter_map(|(name, e)| {
                e.requires_promotion
                    .clone()
                    .map(|from| (name.clone(), from))
            })
            .filter(|(_, from)| !self.pipeline.environments.contains_key(&from.name))
            .collect();
        for (name, from) in unknown_sources {
            self.sink.push(unknown_environment(&from, &self.pipeline));
            if let Some(environment) = self.pipeline.environments.get_mut(&name) {
                environment.requires_promotion = None;
            }
        }
        for index in 0..self.pipeline.jobs.len() {
            let job = &self.pipeline.jobs[index];
            let mut diagnostics = Vec::new();
            let mut after_jobs = Vec::new();
            for name in &job.after {
                match self.pipeline.job_names.get(&name.name) {
                    Some(id) => after_jobs.push(*id),
                    None => diagnostics.push(
                        Diagnostic::new(
                            Code::UnknownJob,
                            name.span,
                            format!("no job or gate named `{}`", name.name),
                        )
                        .label("unknown job")
                        .maybe_help(did_you_mean(
                            &name.name,
                            self.pipeline.job_names.keys().map(String::as_str),
                        )),
                    ),
                }
            }
            let mut uses_jobs = Vec::new();
            for name in &job.uses {
                match self.pipeline.artifacts.get(&name.name) {
                    Some(id) => uses_jobs.push(*id),
                    None => diagnostics.push(unknown_artifact(name, &self.pipeline)),
                }
            }
            let mut artifact_job = None;
            if job.job_type == JobType::Deploy {
                let artifact = job.artifact.as_ref().expect("a deploy names its artifact");
                match self.pipeline.artifacts.get(&artifact.name) {
                    Some(id) => artifact_job = Some(*id),
                    None => diagnostics.push(unknown_artifact(artifact, &self.pipeline)),
                }
            }
            if let Some(environment) = &job.environment
                && !self.pipeline.environments.contains_key(&environment.name)
            {
                diagnostics.push(unknown_environment(environment, &self.pipeline));
            }
            let kind = job.kind.clone();
            for secret in &job.secrets {
                if !self.pipeline.secrets.contains_key(&secret.name) {
                    diagnostics.push(
                        Diagnostic::new(
                            Code::UnknownSecret,
                            secret.span,
                            format!("no secret named `{}`", secret.name),
                        )
                        .label("not declared")
                        .help(
                            did_you_mean(
                                &secret.name,
                                self.pipeline.secrets.keys().map(String::as_str),
                            )
                            .unwrap_or_else(|| {
                                format!("declare it in the pipeline: `secret {}`", secret.name)
                            }),
                        ),
                    );
                }
            }
            self.sink.extend(diagnostics);
            if let Some(kind) = kind {
                self.known_kind(&kind);
            }
            let job = &mut self.pipeline.jobs[index];
            job.after_jobs = after_jobs;
            job.uses_jobs = uses_jobs;
            job.artifact_job = artifact_job;
        }
    }
}

fn twice(span: Span, first: Span, message: &str, help: &str) -> Diagnostic {
    Diagnostic::new(Code::DuplicateAttribute, span, message)
        .label("written again here")
        .related(first, "first written here")
        .help(help)
}

fn unknown_environment(name: &Ident, pipeline: &Pipeline) -> Diagnostic {
    Diagnostic::new(
        Code::UnknownEnvironment,
        name.span,
        format!("no environment named `{}`", name.name),
    )
    .label("unknown environment")
    .help(
        did_you_mean(&name.name, pipeline.environments.keys().map(String::as_str)).unwrap_or_else(
            || {
                format!(
                    "declare it in the pipeline: `environment {} {{ url = \"…\" }}`",
                    name.name
                )
            },
        ),
    )
}

fn unknown_artifact(name: &Ident, pipeline: &Pipeline) -> Diagnostic {
    Diagnostic::new(
        Code::UnknownArtifact,
        name.span,
        format!("no artifact named `{}`", name.name),
    )
    .label("unknown artifact")
    .help(
        did_you_mean(&name.name, pipeline.artifacts.keys().map(String::as_str)).unwrap_or_else(
            || {
                format!(
                    "build it first in a stage: `artifact {} {{ run = \"…\"; outputs = [\"…\"] }}`",
                    name.name
                )
            },
        ),
    )
}
