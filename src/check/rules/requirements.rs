//! Proves each environment's `requires` lines: every deploy there is guarded by a gate, by a
//! test of each required kind, and by a deploy of the same artifact to the promotion source.
//!
//! Job R guards deploy D when R finishes before D on every run (an earlier stage, or a chain
//! of explicit needs), R cannot be skipped while D runs (D's effective condition implies R's),
//! and R is not `allow_failure`. See `docs/language.md`, "Environment requirements".

use std::collections::{HashMap, HashSet};

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
    // Candidate guards, grouped once: gates; tests by kind; deploys by (environment, artifact).
    let mut gates: Vec<&Job> = Vec::new();
    let mut tests: HashMap<&str, Vec<&Job>> = HashMap::new();
    let mut deploys: HashMap<(&str, &str), Vec<&Job>> = HashMap::new();
    let mut deploys_to: HashMap<&str, Vec<&Job>> = HashMap::new();
    for job in &pipeline.jobs {
        match (job.job_type, &job.kind, &job.environment, &job.artifact) {
            (JobType::Gate, ..) => gates.push(job),
            (JobType::Test, Some(kind), ..) => {
                tests.entry(kind.name.as_str()).or_default().push(job)
            }
            (JobType::Deploy, _, Some(environment), Some(artifact)) => {
                deploys
                    .entry((environment.name.as_str(), artifact.name.as_str()))
                    .or_default()
                    .push(job);
                deploys_to
                    .entry(environment.name.as_str())
                    .or_default()
                    .push(job);
            }
            _ => {}
        }
    }
    for environment in pipeline.environments.values() {
        for deploy in deploys_to
            .get(environment.name.name.as_str())
            .into_iter()
            .flatten()
        {
            if let Some(line) = environment.requires_approval {
                let requirement = Requirement {
                    code: Code::ApprovalNotProved,
                    what: "an approval".into(),
                    guard_word: "gate",
                    line,
                };
                prove(cx, deploy, &gates, &requirement, sink);
            }
            for kind in &environment.requires_tests {
                let requirement = Requirement {
                    code: Code::TestsNotProved,
                    what: format!("{} `{}` test", article(&kind.name), kind.name),
                    guard_word: "test",
                    line: kind.span,
                };
                let candidates = tests.get(kind.name.as_str()).map_or(&[][..], Vec::as_slice);
                prove(cx, deploy, candidates, &requirement, sink);
            }
            if let (Some(from), Some(artifact)) =
                (&environment.requires_promotion, &deploy.artifact)
            {
                let requirement = Requirement {
                    code: Code::PromotionNotProved,
                    what: format!("a deploy of `{}` to `{}`", artifact.name, from.name),
                    guard_word: "deploy",
                    line: from.span,
                };
                let candidates = deploys
                    .get(&(from.name.as_str(), artifact.name.as_str()))
                    .map_or(&[][..], Vec::as_slice);
                prove(cx, deploy, candidates, &requirement, sink);
            }
        }
    }
}

/// "an" before a vowel sound, "a" otherwise (`an integration test`, `a ui test`).
fn article(word: &str) -> &'static str {
    match word.chars().next() {
        Some('a' | 'e' | 'i' | 'o') => "an",
        _ => "a",
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
    /// The guard, the job whose condition skips it (the guard or one of its needs), and the
    /// assignment under which that happens.
    Skipped(&'a Job, &'a Job, String),
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
    let deploy_conditions: Vec<&Condition> = effective_conditions(cx, deploy.id)
        .into_iter()
        .map(|(_, c)| c)
        .collect();
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
            Some(Some((skipper, counterexample))) => {
                best = Failure::Skipped(candidate, skipper, counterexample)
            }
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
        Failure::Skipped(guard, skipper, counterexample) => {
            let guard_condition = skipper.when.as_ref().map(ToString::to_string);
            let why = if skipper.id == guard.id {
                format!("`{}` runs only under this condition", guard.name)
            } else {
                format!(
                    "`{}` runs only under this condition, and `{}` is skipped with it",
                    skipper.name, guard.name
                )
            };
            diagnostic
                .label(format!("can run while `{}` is skipped", guard.name))
                .related(skipper.when_span.unwrap_or(skipper.name_span), why)
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

/// `None` when the guard runs whenever the deploy does; otherwise the job whose condition
/// skips it and the assignment under which it does, in words; `Some(None)` when unproved.
fn skipped_while_deploy_runs<'a>(
    cx: &Context<'a>,
    deploy_conditions: &[&Condition],
    guard: &Job,
) -> Option<Option<(&'a Job, String)>> {
    for (skipper, condition) in effective_conditions(cx, guard.id) {
        match implies(deploy_conditions, condition) {
            Proof::Proved => {}
            Proof::Unproved => return Some(None),
            Proof::Refuted(assignment) => {
                let words: Vec<String> = assignment
                    .iter()
                    .map(|(atom, value)| format!("`{atom}` is {value}"))
                    .collect();
                let words = if words.is_empty() {
                    "always".into()
                } else {
                    words.join(" and ")
                };
                return Some(Some((cx.pipeline.job(skipper), words)));
            }
        }
    }
    None
}

/// The conditions that must all hold for a job to run: its own `when` and those of every job
/// it reaches through explicit needs (a skipped need skips the job).
fn effective_conditions<'a>(cx: &Context<'a>, job: JobId) -> Vec<(JobId, &'a Condition)> {
    let pipeline: &'a Pipeline = cx.pipeline;
    let mut conditions = Vec::new();
    let mut seen = HashSet::from([job]);
    let mut stack = vec![job];
    while let Some(current) = stack.pop() {
        if let Some(when) = &pipeline.job(current).when {
            conditions.push((current, when));
        }
        for need in &cx.graph.needs[current.0] {
            if seen.insert(need.job) {
                stack.push(need.job);
            }
        }
    }
    conditions
}

#[cfg(test)]
mod tests {
    use crate::codes::Code;
    use crate::compile::compile_text;

    /// The requirement codes reported for a pipeline deploying `app` to `production`, which
    /// requires an approval and a `ui` test and promotion from `staging`.
    fn violations(stages: &str) -> Vec<Code> {
        let text = format!(
            r#"pipeline p {{
                environment staging {{ url = "https://s" }}
                environment production {{
                  url = "https://p"
                  requires approval
                  requires tests [ui]
                  requires promotion from staging
                }}
                stage build {{ artifact app {{ run = "make"; outputs = ["app"] }} }}
                {stages}
            }}"#
        );
        compile_text("t.cdl", None, text)
            .diagnostics
            .iter()
            .map(|d| d.code)
            .filter(|c| {
                matches!(
                    c,
                    Code::ApprovalNotProved | Code::TestsNotProved | Code::PromotionNotProved
                )
            })
            .collect()
    }

    const STAGING: &str = r#"stage staging {
        deploy app to staging { run = "d" }
        test ui on staging { run = "t" }
    }"#;

    #[test]
    fn guards_in_earlier_stages_prove_every_requirement() {
        let stages = format!(
            r#"{STAGING}
               stage release {{ gate go {{ approvers = ["a"] }} }}
               stage production {{ deploy app to production {{ run = "d" }} }}"#
        );
        assert_eq!(violations(&stages), []);
    }

    #[test]
    fn parallel_guards_each_precede_the_deploy() {
        // Three tests run side by side; each one finishes before the deploy (an AND-join).
        let stages = r#"stage staging {
                deploy app to staging { run = "d" }
                test ui on staging { run = "t" }
                test load on staging { run = "t" }
                gate go { approvers = ["a"] }
            }
            stage production { deploy app to production { run = "d" } }"#;
        assert_eq!(violations(stages), []);
    }

    #[test]
    fn a_guard_in_the_same_stage_without_a_need_does_not_guard() {
        let stages = format!(
            r#"{STAGING}
               stage production {{
                 gate go {{ approvers = ["a"] }}
                 deploy app to production {{ run = "d" }}
               }}"#
        );
        assert_eq!(violations(&stages), [Code::ApprovalNotProved]);
    }

    #[test]
    fn a_need_inside_the_stage_makes_it_guard() {
        let stages = format!(
            r#"{STAGING}
               stage production {{
                 gate go {{ approvers = ["a"] }}
                 deploy app to production {{ run = "d"; after = [go] }}
               }}"#
        );
        assert_eq!(violations(&stages), []);
    }

    #[test]
    fn a_guard_that_may_be_skipped_while_the_deploy_runs_does_not_guard() {
        let stages = format!(
            r#"{STAGING}
               stage release {{ gate go {{ approvers = ["a"]; when = branch == "main" }} }}
               stage production {{ deploy app to production {{ run = "d" }} }}"#
        );
        assert_eq!(violations(&stages), [Code::ApprovalNotProved]);
        let same_condition = format!(
            r#"{STAGING}
               stage release {{ gate go {{ approvers = ["a"]; when = branch == "main" }} }}
               stage production {{ deploy app to production {{ run = "d"; when = branch == "main" && event == push }} }}"#
        );
        assert_eq!(violations(&same_condition), []);
    }

    #[test]
    fn a_guard_skipped_through_its_own_needs_does_not_guard() {
        // `go` names `prepare` in `after`; when `prepare` is skipped, so is `go`, but the
        // deploy in a later stage still runs.
        let stages = format!(
            r#"{STAGING}
               stage release {{
                 job prepare {{ run = "p"; when = event == tag }}
                 gate go {{ approvers = ["a"]; after = [prepare] }}
               }}
               stage production {{ deploy app to production {{ run = "d" }} }}"#
        );
        assert_eq!(violations(&stages), [Code::ApprovalNotProved]);
    }

    #[test]
    fn a_guard_allowed_to_fail_does_not_guard() {
        let stages = r#"stage staging {
                deploy app to staging { run = "d" }
                test ui on staging { run = "t"; allow_failure = true }
            }
            stage release { gate go { approvers = ["a"] } }
            stage production { deploy app to production { run = "d" } }"#;
        assert_eq!(violations(stages), [Code::TestsNotProved]);
    }

    #[test]
    fn promotion_needs_the_same_artifact_on_the_source_environment() {
        let stages = r#"stage other { artifact lib { run = "m"; outputs = ["l"] } }
            stage staging {
                deploy lib to staging { run = "d" }
                test ui on staging { run = "t" }
            }
            stage release { gate go { approvers = ["a"] } }
            stage production { deploy app to production { run = "d" } }"#;
        assert_eq!(violations(stages), [Code::PromotionNotProved]);
    }
}
