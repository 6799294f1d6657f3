//! Warnings for an environment nothing deploys to or tests, an artifact nothing deploys or
//! uses, and a secret no job receives.

use std::collections::HashSet;

use crate::check::Context;
use crate::codes::Code;
use crate::diagnostic::{Diagnostic, Sink};

pub fn check(cx: &Context, sink: &mut Sink) {
    let pipeline = cx.pipeline;
    let mut environments = HashSet::new();
    let mut artifacts = HashSet::new();
    let mut secrets = HashSet::new();
    for job in &pipeline.jobs {
        if let Some(environment) = &job.environment {
            environments.insert(environment.name.as_str());
        }
        if job.artifact_job.is_some() {
            artifacts.extend(job.artifact.iter().map(|a| a.name.as_str()));
        }
        artifacts.extend(job.uses.iter().map(|a| a.name.as_str()));
        secrets.extend(job.secrets.iter().map(|s| s.name.as_str()));
    }
    for name in &pipeline.dropped_references {
        environments.insert(name.as_str());
        artifacts.insert(name.as_str());
    }
    for environment in pipeline.environments.values() {
        let used = environments.contains(environment.name.name.as_str())
            || pipeline.environments.values().any(|e| {
                e.requires_promotion
                    .as_ref()
                    .is_some_and(|p| p.name == environment.name.name)
            });
        if !used {
            sink.push(
                Diagnostic::new(
                    Code::UnusedEnvironment,
                    environment.name.span,
                    format!(
                        "nothing deploys to or tests the environment `{}`",
                        environment.name.name
                    ),
                )
                .label("unused environment")
                .help(format!(
                    "deploy to it (`deploy ARTIFACT to {}`) or remove it",
                    environment.name.name
                )),
            );
        }
    }
    for (name, id) in &pipeline.artifacts {
        if !artifacts.contains(name.as_str()) {
            sink.push(
                Diagnostic::new(Code::UnusedArtifact, pipeline.job(*id).name_span, format!("the artifact `{name}` is built but never deployed or used"))
                    .label("unused artifact")
                    .help(format!("deploy it (`deploy {name} to ENV`), list it in a job's `uses`, or make it a plain `job`")),
            );
        }
    }
    for secret in pipeline.secrets.values() {
        if !secrets.contains(secret.name.name.as_str()) {
            sink.push(
                Diagnostic::new(
                    Code::UnusedSecret,
                    secret.name.span,
                    format!("no job receives the secret `{}`", secret.name.name),
                )
                .label("unused secret")
                .help(format!(
                    "give it to the jobs that need it (`secrets = [{}]`) or remove it",
                    secret.name.name
                )),
            );
        }
    }
}
