//! Checking: resolve names and types, build the job graph, run the policy rules.

pub mod after_failure;
pub mod attributes;
pub mod cache;
pub mod changed;
pub mod condition;
pub mod entrypoint;
pub mod foreign;
pub mod graph;
pub mod implication;
pub mod inherited;
pub mod inputs;
pub mod job_name;
pub mod matrix;
pub mod model;
pub mod native;
pub mod outputs;
pub mod pages;
// v2 i13k: matrix artifacts
pub mod matrix_artifacts;
pub mod platform;
mod ref_glob;
pub mod reports;
pub mod resolve;
pub mod review;
mod rules;
pub mod services;
pub mod steps;
pub mod trigger;
// v2 i13l: step conditions
pub mod step_when;
pub mod teams;
pub mod templates;
// v2 i13j: composed values
pub mod value;
pub mod values;

use indexmap::IndexMap;

use crate::diagnostic::Sink;
use crate::syntax::ast;
use graph::JobGraph;
use model::{Kind, Pipeline};

/// What the rules read.
pub struct Context<'a> {
    pub pipeline: &'a Pipeline,
    pub kinds: &'a IndexMap<String, Kind>,
    pub graph: &'a JobGraph,
}

/// A checked compilation unit: the kinds of every file, and the root file's pipeline.
pub struct Checked {
    pub kinds: IndexMap<String, Kind>,
    pub pipeline: Option<Pipeline>,
    pub graph: JobGraph,
    // v2 i13e: templates
    /// The templates, and what each job took from them (for the language server).
    pub templates: templates::Templates,
}

/// Checks the root file's pipeline against the kinds of all files (the prelude first).
pub fn check(files: &[&ast::File], pipeline: Option<&ast::Pipeline>, sink: &mut Sink) -> Checked {
    let kinds = resolve::kinds(files.iter().copied(), sink);
    // v2 i13e: jobs that say `from` are merged with their templates before resolving.
    let (expanded, templates) = templates::expand(files, pipeline, sink);
    let Some(decl) = expanded else {
        return Checked {
            kinds,
            pipeline: None,
            graph: JobGraph::default(),
            templates,
        };
    };
    let decl: &ast::Pipeline = &decl;
    let mut pipeline = resolve::pipeline(decl, &kinds, sink);
    pipeline.teams = teams::resolve(files.iter().copied(), decl, sink);
    inputs::resolve(decl, &mut pipeline, sink);
    let graph = JobGraph::build(&pipeline, sink);
    let context = Context {
        pipeline: &pipeline,
        kinds: &kinds,
        graph: &graph,
    };
    for rule in rules::RULES {
        rule(&context, sink);
    }
    if !templates.origins.is_empty() {
        // A template's item is checked once per job that merges it: report it once.
        sink.dedup();
    }
    Checked {
        kinds,
        pipeline: Some(pipeline),
        graph,
        templates,
    }
}
