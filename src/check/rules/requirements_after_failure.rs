//! Requirements and the jobs of v2 §6: a job that runs after a failure (`runs = on_failure` or
//! `always`) or only when a person starts it (`start = manual`) never guards a deploy, and a
//! deploy that runs after a failure is guarded by nothing (the failure of a guard does not
//! stop it).

use crate::check::model::Job;
use crate::codes::Code;
use crate::diagnostic::Diagnostic;
use crate::model::steps::Runs;
use crate::span::Span;

/// Why a job cannot guard a deploy, and where that was written; `None` when it can.
pub fn not_a_guard(job: &Job) -> Option<(Span, &'static str)> {
    if let Some(span) = job.manual {
        return Some((span, "is started by hand (`start = manual`)"));
    }
    match job.runs {
        Runs::OnSuccess => None,
        Runs::OnFailure => Some((
            job.runs_span.unwrap_or(job.name_span),
            "runs only after a failure (`runs = on_failure`)",
        )),
        Runs::Always => Some((
            job.runs_span.unwrap_or(job.name_span),
            "runs whether or not the jobs before it succeeded (`runs = always`)",
        )),
    }
}

/// The requirement's diagnostic when its only candidates cannot guard.
pub fn report(diagnostic: Diagnostic, guard: &Job, span: Span, why: &str) -> Diagnostic {
    let help = if guard.manual.is_some() {
        format!(
            "remove `start = manual` from `{}`: a job nobody starts proves nothing, so the deploy must not depend on a person choosing to run it",
            guard.name
        )
    } else {
        format!(
            "remove `runs` from `{}` (or add a guard that runs only when the jobs before it succeeded): a job that runs after a failure does not prove the build is good",
            guard.name
        )
    };
    diagnostic
        .label(format!("`{}` cannot guard it", guard.name))
        .related(span, format!("`{}` {why}", guard.name))
        .help(help)
}

/// The diagnostic of a deploy with `runs = on_failure` or `always` to an environment with a
/// requirement: whatever guards it, a failed guard does not stop it.
pub fn deploy(
    deploy: &Job,
    environment: &str,
    code: Code,
    what: &str,
    line: Span,
) -> Option<Diagnostic> {
    if deploy.runs == Runs::OnSuccess {
        return None;
    }
    let span = deploy.runs_span.unwrap_or(deploy.name_span);
    Some(
        Diagnostic::new(
            code,
            deploy.name_span,
            format!(
                "the deploy `{}` to `{environment}` is not guarded by {what}",
                deploy.name
            ),
        )
        .label(format!("runs = {}", deploy.runs.as_str()))
        .related(line, format!("`{environment}` requires {what}"))
        .related(
            span,
            "a deploy that runs after a failure is not stopped when its guards fail",
        )
        .help(format!(
            "remove `runs` from `{}`; a rollback after a failure deploys to an environment without requirements, or runs as a job that does not deploy",
            deploy.name
        )),
    )
}
