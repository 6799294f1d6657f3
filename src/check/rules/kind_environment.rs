//! A test's kind decides whether it runs `on ENV`: `ui` needs one, `unit` must not have one.

use crate::check::Context;
use crate::check::model::{JobType, KindEnvironment};
use crate::codes::Code;
use crate::diagnostic::{Diagnostic, Sink};

pub fn check(cx: &Context, sink: &mut Sink) {
    for job in cx
        .pipeline
        .jobs
        .iter()
        .filter(|j| j.job_type == JobType::Test)
    {
        let Some(kind_name) = &job.kind else { continue };
        let Some(kind) = cx.kinds.get(&kind_name.name) else {
            continue;
        };
        match (kind.environment, &job.environment) {
            (KindEnvironment::Required, None) => sink.push(
                Diagnostic::new(
                    Code::EnvironmentRequired,
                    job.header_span,
                    format!("a `{}` test runs against a deployed environment, but `{}` names none", kind_name.name, job.name),
                )
                .label("no `on ENV`")
                .related(kind.name.span, format!("`{}` is declared with `environment = required`", kind_name.name))
                .help(format!(
                    "say which environment it tests: `test {} on {} {{ … }}`",
                    kind_name.name,
                    environment_to_test(cx)
                )),
            ),
            (KindEnvironment::Forbidden, Some(environment)) => sink.push(
                Diagnostic::new(
                    Code::EnvironmentForbidden,
                    environment.span,
                    format!("a `{}` test runs before anything is deployed, so it cannot run on `{}`", kind_name.name, environment.name),
                )
                .label("not allowed for this kind")
                .related(kind.name.span, format!("`{}` is declared with `environment = forbidden`", kind_name.name))
                .help(format!("remove `on {}`, or use a kind that tests an environment (`integration`, `e2e`, `smoke`)", environment.name)),
            ),
            _ => {}
        }
    }
}

/// The environment a test should run on: where builds are proved before promotion (a
/// promotion source), else one without requirements; never the protected one first.
fn environment_to_test<'a>(cx: &Context<'a>) -> &'a str {
    let environments = &cx.pipeline.environments;
    let source = environments
        .values()
        .find_map(|e| e.requires_promotion.as_ref())
        .filter(|from| environments.contains_key(&from.name))
        .map(|from| from.name.as_str());
    let unprotected = || {
        environments
            .values()
            .find(|e| {
                e.requires_approval.is_none()
                    && e.requires_tests.is_empty()
                    && e.requires_promotion.is_none()
            })
            .map(|e| e.name.name.as_str())
    };
    source
        .or_else(unprotected)
        .or_else(|| environments.keys().next().map(String::as_str))
        .unwrap_or("staging")
}
