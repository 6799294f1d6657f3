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

#[cfg(test)]
mod tests {
    use crate::codes::Code;
    use crate::compile::compile_text;

    /// The diagnostics of a pipeline deploying `app` to `production`, which requires an
    /// approval and a `unit` test.
    fn diagnostics(stages: &str) -> Vec<(Code, String)> {
        let text = format!(
            r#"pipeline p {{
                environment staging {{ url = "https://s" }}
                environment production {{
                  url = "https://p"
                  requires approval
                  requires tests [unit]
                }}
                stage build {{ artifact app {{ run = "make"; outputs = ["app"] }} }}
                {stages}
            }}"#
        );
        compile_text("t.cdl", None, text)
            .diagnostics
            .iter()
            .filter(|d| d.code != Code::UnusedEnvironment)
            .map(|d| (d.code, d.help.clone().unwrap_or_default()))
            .collect()
    }

    fn codes(stages: &str) -> Vec<Code> {
        diagnostics(stages).into_iter().map(|(c, _)| c).collect()
    }

    #[test]
    fn plain_guards_prove_the_requirements() {
        assert_eq!(
            codes(
                r#"stage check { test unit { run = "t" } }
                   stage approve { gate ok { approvers = ["a"] } }
                   stage ship { deploy app to production { run = "d" } }"#
            ),
            []
        );
    }

    #[test]
    fn a_test_that_runs_after_a_failure_or_by_hand_does_not_guard() {
        for attribute in ["runs = always", "runs = on_failure", "start = manual"] {
            let found = diagnostics(&format!(
                r#"stage check {{ test unit {{ run = "t"  {attribute} }} }}
                   stage approve {{ gate ok {{ approvers = ["a"] }} }}
                   stage ship {{ deploy app to production {{ run = "d" }} }}"#
            ));
            assert_eq!(found.len(), 1, "{attribute}: {found:?}");
            assert_eq!(found[0].0, Code::TestsNotProved, "{attribute}");
            let word = attribute.split(' ').next().unwrap();
            assert!(
                found[0].1.contains(&format!("remove `{word}")),
                "{attribute}: {}",
                found[0].1
            );
        }
    }

    #[test]
    fn a_second_plain_guard_still_proves_it() {
        assert_eq!(
            codes(
                r#"stage check {
                     test unit { run = "t"  runs = always }
                     test unit again { run = "t" }
                   }
                   stage approve { gate ok { approvers = ["a"] } }
                   stage ship { deploy app to production { run = "d" } }"#
            ),
            []
        );
    }

    #[test]
    fn a_deploy_that_runs_after_a_failure_is_guarded_by_nothing() {
        for runs in ["always", "on_failure"] {
            let found = codes(&format!(
                r#"stage check {{ test unit {{ run = "t" }} }}
                   stage approve {{ gate ok {{ approvers = ["a"] }} }}
                   stage ship {{ deploy app to production {{ run = "d"  runs = {runs} }} }}"#
            ));
            assert_eq!(
                found,
                [Code::ApprovalNotProved, Code::TestsNotProved],
                "{runs}"
            );
        }
    }

    #[test]
    fn a_rollback_to_an_environment_without_requirements_is_fine() {
        assert_eq!(
            codes(
                r#"stage ship {
                     deploy app to staging { run = "d" }
                     deploy app to staging as rollback { run = "r"  runs = on_failure  after = [deploy_app_staging] }
                   }"#
            ),
            []
        );
    }

    #[test]
    fn a_gate_cannot_run_after_a_failure_or_by_hand() {
        assert_eq!(
            codes(
                r#"stage check { test unit { run = "t" } }
                   stage approve { gate ok { approvers = ["a"]  runs = always  start = manual } }
                   stage ship { deploy app to production { run = "d" } }"#
            ),
            [Code::AfterFailureOnGate, Code::AfterFailureOnGate]
        );
    }
}
