//! A test `on ENV` needs a deploy to ENV ordered before it.

use std::collections::HashMap;

use crate::check::Context;
use crate::check::model::{Job, JobType};
use crate::codes::Code;
use crate::diagnostic::{Diagnostic, Sink};

pub fn check(cx: &Context, sink: &mut Sink) {
    let pipeline = cx.pipeline;
    let mut deploys_to: HashMap<&str, Vec<&Job>> = HashMap::new();
    for job in pipeline
        .jobs
        .iter()
        .filter(|j| j.job_type == JobType::Deploy)
    {
        if let Some(environment) = &job.environment {
            deploys_to
                .entry(environment.name.as_str())
                .or_default()
                .push(job);
        }
    }
    for test in pipeline.jobs.iter().filter(|j| j.job_type == JobType::Test) {
        let Some(environment) = &test.environment else {
            continue;
        };
        if !pipeline.environments.contains_key(&environment.name) {
            continue;
        }
        let deploys = deploys_to
            .get(environment.name.as_str())
            .map_or(&[][..], Vec::as_slice);
        if deploys
            .iter()
            .any(|d| cx.graph.precedes(pipeline, d.id, test.id))
        {
            continue;
        }
        let mut diagnostic = Diagnostic::new(
            Code::TestBeforeDeploy,
            environment.span,
            format!(
                "`{}` tests `{}`, but no deploy to `{}` runs before it",
                test.name, environment.name, environment.name
            ),
        )
        .label(format!(
            "nothing is deployed to `{}` before this test",
            environment.name
        ));
        diagnostic = match deploys.first() {
            Some(deploy) => diagnostic
                .related(deploy.name_span, format!("`{}` deploys to `{}` but is not ordered before the test", deploy.name, environment.name))
                .help(if deploy.stage > test.stage {
                    // `after` on a job of a later stage would be a cycle (E0400).
                    format!(
                        "move the test to a stage after `{}` (the deploy's stage), or the deploy to an earlier one",
                        pipeline.stages[deploy.stage].name.name
                    )
                } else {
                    format!(
                        "move the test after the deploy: in a later stage, later in the same stage, or with `after = [{}]`",
                        deploy.name
                    )
                }),
            None => diagnostic.help(format!("deploy an artifact first: `deploy ARTIFACT to {} {{ run = \"…\" }}`", environment.name)),
        };
        sink.push(diagnostic);
    }
}
