//! Proves each environment's `requires` lines: every deploy there is guarded by a gate, by a
//! test of each required kind, and by a deploy of the same artifact to the promotion source.
//!
//! Job R guards deploy D when R finishes before D on every run (an earlier stage, or a chain
//! of explicit needs), R cannot be skipped while D runs (D's effective condition implies R's),
//! and R is not `allow_failure`. See `docs/language.md`, "Environment requirements".

use std::collections::HashSet;

use crate::check::Context;
use crate::check::condition::Condition;
use crate::check::implication::{Proof, implies};
use crate::check::model::{Job, JobId, JobType, Pipeline};
use crate::codes::Code;
use crate::diagnostic::{Diagnostic, Sink};
use crate::span::Span;

pub fn check(cx: &Context, sink: &mut Sink) {
    if !cx.graph.acyclic {
        return; // ordering is undefined on a cycle, already reported
    }
    let pipeline = cx.pipeline;
    for environment in pipeline.environments.values() {
        let deploys = pipeline.jobs.iter().filter(|j| {
            j.job_type == JobType::Deploy
                && j.environment
                    .as_ref()
                    .is_some_and(|e| e.name == environment.name.name)
        });
        for deploy in deploys {
            if let Some(line) = environment.requires_approval {
                let gates: Vec<&Job> = pipeline
                    .jobs
                    .iter()
                    .filter(|j| j.job_type == JobType::Gate)
                    .collect();
                let requirement = Requirement {
                    code: Code::ApprovalNotProved,
                    what: "an approval".into(),
                    guard_word: "gate",
                    line,
                };
                prove(cx, deploy, &gates, &requirement, sink);
            }
            for kind in &environment.requires_tests {
                let tests: Vec<&Job> = pipeline
                    .jobs
                    .iter()
                    .filter(|j| {
                        j.job_type == JobType::Test
                            && j.kind.as_ref().is_some_and(|k| k.name == kind.name)
                    })
                    .collect();
                let requirement = Requirement {
                    code: Code::TestsNotProved,
                    what: format!("a `{}` test", kind.name),
                    guard_word: "test",
                    line: kind.span,
                };
                prove(cx, deploy, &tests, &requirement, sink);
            }
            if let (Some(from), Some(artifact)) =
                (&environment.requires_promotion, &deploy.artifact)
            {
                let sources: Vec<&Job> = pipeline
                    .jobs
                    .iter()
                    .filter(|j| {
                        j.job_type == JobType::Deploy
                            && j.environment.as_ref().is_some_and(|e| e.name == from.name)
                            && j.artifact.as_ref().is_some_and(|a| a.name == artifact.name)
                    })
                    .collect();
                let requirement = Requirement {
                    code: Code::PromotionNotProved,
                    what: format!("a deploy of `{}` to `{}`", artifact.name, from.name),
                    guard_word: "deploy",
                    line: from.span,
                };
                prove(cx, deploy, &sources, &requirement, sink);
            }
        }
    }
}

struct Requirement {
    code: Code,
    /// What must guard the deploy, in words ("an approval").
    what: String,
    guard_word: &'static str,
    /// The `requires` line (or the kind / environment named in it).
    line: Span,
}

/// Why one candidate does not guard the deploy.
enum Failure<'a> {
    NotBefore,
    AllowedToFail(&'a Job, Span),
    Skipped(&'a Job, String),
    Unproved(&'a Job),
}

fn prove(
    cx: &Context,
    deploy: &Job,
    candidates: &[&Job],
    requirement: &Requirement,
    sink: &mut Sink,
) {
    let pipeline = cx.pipeline;
    let deploy_conditions = effective_conditions(cx, deploy.id);
    let mut best = Failure::NotBefore;
    for candidate in candidates {
        if !cx.graph.precedes(pipeline, candidate.id, deploy.id) {
            continue;
        }
        if let Some(span) = candidate.allow_failure {
            best = Failure::AllowedToFail(candidate, span);
            continue;
        }
        match skipped_while_deploy_runs(cx, &deploy_conditions, candidate) {
            None => return,
            Some(Some(counterexample)) => best = Failure::Skipped(candidate, counterexample),
            Some(None) => {
                if !matches!(best, Failure::Skipped(..)) {
                    best = Failure::Unproved(candidate)
                }
            }
        }
    }
    let environment = deploy.environment.as_ref().map_or("", |e| e.name.as_str());
    let diagnostic = Diagnostic::new(
        requirement.code,
        deploy.name_span,
        format!(
            "the deploy `{}` to `{environment}` is not guarded by {}",
            deploy.name, requirement.what
        ),
    )
    .related(
        requirement.line,
        format!("`{environment}` requires {}", requirement.what),
    );
    let diagnostic = match best {
        Failure::NotBefore if candidates.is_empty() => diagnostic
            .label(format!(
                "no {} in the pipeline can guard this deploy",
                requirement.guard_word
            ))
            .help(format!(
                "add {} in a stage before this deploy",
                requirement.what
            )),
        Failure::NotBefore => {
            let path = cx.graph.path_to(pipeline, deploy.id);
            let names: Vec<&str> = path
                .iter()
                .map(|j| pipeline.job(*j).name.as_str())
                .collect();
            let guard = candidates[0];
            diagnostic
                .label(format!("reachable without passing {}", requirement.what))
                .related(
                    guard.name_span,
                    format!("`{}` does not run before the deploy", guard.name),
                )
                .note(format!(
                    "this path reaches the deploy without it: {}",
                    names.join(" → ")
                ))
                .help(format!(
                    "move the deploy to a stage after `{}`'s, or add `after = [{}]` to it",
                    guard.name, guard.name
                ))
        }
        Failure::AllowedToFail(guard, span) => diagnostic
            .label(format!("runs even when `{}` fails", guard.name))
            .related(span, format!("`{}` is allowed to fail", guard.name))
            .help(format!(
                "remove `allow_failure` from `{}`: a failure it may have does not stop the deploy",
                guard.name
            )),
        Failure::Skipped(guard, counterexample) => {
            let guard_condition = guard.when.as_ref().map(ToString::to_string);
            diagnostic
                .label(format!("can run while `{}` is skipped", guard.name))
                .related(
                    guard.when_span.unwrap_or(guard.name_span),
                    format!("`{}` runs only under this condition", guard.name),
                )
                .note(format!(
                    "when {counterexample}, `{}` is skipped and `{}` still runs",
                    guard.name, deploy.name
                ))
                .help(match guard_condition {
                    Some(condition) => format!(
                        "give the deploy a condition at least as strict: `when = {condition}`"
                    ),
                    None => format!("make `{}` run whenever the deploy does", guard.name),
                })
        }
        Failure::Unproved(guard) => diagnostic
            .label(format!(
                "cannot prove that `{}` runs whenever this deploy does",
                guard.name
            ))
            .note("the conditions compare too many values to prove the implication (more than 16)")
            .help("give the deploy and its guard the same `when`"),
    };
    sink.push(diagnostic);
}

/// `None` when the guard runs whenever the deploy does; otherwise the assignment under which
/// it does not, in words, or `Some(None)` when that is unproved.
fn skipped_while_deploy_runs(
    cx: &Context,
    deploy_conditions: &[&Condition],
    guard: &Job,
) -> Option<Option<String>> {
    for condition in effective_conditions(cx, guard.id) {
        match implies(deploy_conditions, condition) {
            Proof::Proved => {}
            Proof::Unproved => return Some(None),
            Proof::Refuted(assignment) => {
                let words: Vec<String> = assignment
                    .iter()
                    .map(|(atom, value)| format!("`{atom}` is {value}"))
                    .collect();
                return Some(Some(if words.is_empty() {
                    "always".into()
                } else {
                    words.join(" and ")
                }));
            }
        }
    }
    None
}

/// The conditions that must all hold for a job to run: its own `when` and those of every job
/// it reaches through explicit needs (a skipped need skips the job).
fn effective_conditions<'a>(cx: &Context<'a>, job: JobId) -> Vec<&'a Condition> {
    let pipeline: &'a Pipeline = cx.pipeline;
    let mut conditions = Vec::new();
    let mut seen = HashSet::from([job]);
    let mut stack = vec![job];
    while let Some(current) = stack.pop() {
        if let Some(when) = &pipeline.job(current).when {
            conditions.push(when);
        }
        for need in &cx.graph.needs[current.0] {
            if seen.insert(need.job) {
                stack.push(need.job);
            }
        }
    }
    conditions
}
