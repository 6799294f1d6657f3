//! The integration tests, built as one binary: fixtures and their snapshots, the CLI run as a
//! real process, the `cdl explain` pages, the plan's documented schema, and property tests.

mod bench_pipelines;
mod cli;
mod codes;
mod docs;
mod examples;
mod export;
mod fixtures;
mod fmt;
mod matrix;
mod pictures;
mod plan_doc;
mod policies;
mod properties;
mod realworld;
mod run;
mod run_after_failure;
mod run_cache;
mod run_changed;
mod run_context;
mod run_gates;
mod run_inputs;
mod run_matrix;
mod run_matrix_artifacts;
mod run_native;
mod run_platform;
mod run_records;
mod run_release_example;
mod run_reports;
mod run_services;
mod run_step_when;
mod run_steps;
mod run_templates;
mod run_values;
mod run_values_ref;
mod support;
