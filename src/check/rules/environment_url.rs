//! A warning for an environment that is deployed to but has no `url`.

use crate::check::Context;
use crate::check::model::JobType;
use crate::codes::Code;
use crate::diagnostic::{Diagnostic, Sink};

pub fn check(cx: &Context, sink: &mut Sink) {
    for environment in cx
        .pipeline
        .environments
        .values()
        .filter(|e| e.url.is_none() && e.composed_url.is_none())
    {
        let first_deploy = cx.pipeline.jobs.iter().find(|j| {
            j.job_type == JobType::Deploy
                && j.environment
                    .as_ref()
                    .is_some_and(|e| e.name == environment.name.name)
        });
        if let Some(deploy) = first_deploy {
            sink.push(
                Diagnostic::new(Code::EnvironmentWithoutUrl, environment.name.span, format!("the environment `{}` is deployed to but has no `url`", environment.name.name))
                    .label("no `url`")
                    .related(deploy.name_span, "deployed to here")
                    .help("add `url = \"https://…\"`: tests get it as `CDL_ENV_URL` and CI systems link to it"),
            );
        }
    }
}
