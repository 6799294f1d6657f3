//! Proves each environment's `requires` lines: every deploy there is guarded by a gate, by a
//! test of each required kind, and by a deploy of the same artifact to the promotion source.
//!
//! Job R guards deploy D when R finishes before D on every run (an earlier stage, or a chain
//! of explicit needs), R cannot be skipped while D runs (D's effective condition implies R's),
//! R is not `allow_failure`, and R is about D's build: a test `on X` follows a deploy of D's
//! artifact to X with no deploy of another artifact in between; a gate follows the build of
//! every artifact D ships (and the promotion deploy when the environment requires one). See
//! `docs/language.md`, "Environment requirements".

use std::collections::{HashMap, HashSet};

use crate::check::Context;
use crate::check::condition::Condition;
use crate::check::implication::{MAX_ATOMS, Proof, implies, satisfiable};
use crate::check::model::{Environment, Job, JobId, JobType, Pipeline};
use crate::codes::Code;
use crate::diagnostic::{Diagnostic, Sink};
use crate::span::{Ident, Span};

/// Candidate guards, grouped once: gates; tests by kind; deploys by environment and artifact.
struct Candidates<'a> {
    gates: Vec<&'a Job>,
    tests: HashMap<&'a str, Vec<&'a Job>>,
    deploys_to: HashMap<&'a str, Vec<&'a Job>>,
}

impl<'a> Candidates<'a> {
    fn of(pipeline: &'a Pipeline) -> Candidates<'a> {
        let mut candidates = Candidates {
            gates: Vec::new(),
            tests: HashMap::new(),
            deploys_to: HashMap::new(),
        };
        for job in &pipeline.jobs {
            match (job.job_type, &job.kind, &job.environment, &job.artifact) {
                (JobType::Gate, ..) => candidates.gates.push(job),
                (JobType::Test, Some(kind), ..) => candidates
                    .tests
                    .entry(kind.name.as_str())
                    .or_default()
                    .push(job),
                (JobType::Deploy, _, Some(environment), Some(_)) => {
                    candidates
                        .deploys_to
                        .entry(environment.name.as_str())
                        .or_default()
                        .push(job);
                }
                _ => {}
            }
        }
        candidates
    }

    fn deploys_of(&self, environment: &str, artifact: &str) -> Vec<&'a Job> {
        self.deploys_to
            .get(environment)
            .into_iter()
            .flatten()
            .filter(|d| d.artifact.as_ref().is_some_and(|a| a.name == artifact))
            .copied()
            .collect()
    }
}

pub fn check(cx: &Context, sink: &mut Sink) {
    if !cx.graph.acyclic {
        return; // ordering is undefined on a cycle, already reported
    }
    let candidates = Candidates::of(cx.pipeline);
    for environment in cx.pipeline.environments.values() {
        for deploy in candidates
            .deploys_to
            .get(environment.name.name.as_str())
            .into_iter()
            .flatten()
        {
            check_deploy(cx, &candidates, environment, deploy, sink);
        }
    }
}

fn check_deploy<'a>(
    cx: &Context<'a>,
    candidates: &Candidates<'a>,
    environment: &'a Environment,
    deploy: &'a Job,
    sink: &mut Sink,
) {
    let prover = Prover::new(cx, candidates, environment, deploy);
    if let Some(line) = environment.requires_approval {
        let requirement = Requirement {
            code: Code::ApprovalNotProved,
            what: "an approval".into(),
            guard_word: "gate",
            line,
        };
        prover.prove(&candidates.gates, &requirement, sink);
    }
    for kind in &environment.requires_tests {
        let requirement = Requirement {
            code: Code::TestsNotProved,
            what: format!("{} `{}` test", article(&kind.name), kind.name),
            guard_word: "test",
            line: kind.span,
        };
        let tests = candidates
            .tests
            .get(kind.name.as_str())
            .map_or(&[][..], Vec::as_slice);
        prover.prove(tests, &requirement, sink);
    }
    if let Some(from) = &environment.requires_promotion {
        // Every artifact the deploy ships must have been through the source environment.
        for artifact in prover.shipped() {
            let requirement = Requirement {
                code: Code::PromotionNotProved,
                what: format!("a deploy of `{}` to `{}`", artifact.name, from.name),
                guard_word: "deploy",
                line: from.span,
            };
            let deploys = candidates.deploys_of(&from.name, &artifact.name);
            prover.prove(&deploys, &requirement, sink);
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

/// Why one candidate does not guard the deploy, from the furthest from guarding to the nearest.
enum Failure<'a> {
    NotBefore,
    AllowedToFail(&'a Job, Span),
    /// v2 i13f: the candidate runs after a failure (`runs`) or only when started by hand.
    NotAGuard(&'a Job, Span, &'static str),
    Unproved(&'a Job, usize),
    /// The guard, the job whose condition skips it (the guard or one of its needs), and the
    /// assignment under which that happens.
    Skipped(&'a Job, &'a Job, String),
    /// The guard runs whenever the deploy does, but not about the deploy's build.
    Unrelated(&'a Job, Unrelated<'a>),
}

impl Failure<'_> {
    fn rank(&self) -> u8 {
        match self {
            Failure::NotBefore => 0,
            Failure::AllowedToFail(..) | Failure::NotAGuard(..) => 1,
            Failure::Unproved(..) => 2,
            Failure::Skipped(..) => 3,
            Failure::Unrelated(..) => 4,
        }
    }
}

/// Why a guard that precedes the deploy is not about the deploy's build.
enum Unrelated<'a> {
    /// A test `on X`, and no usable deploy of the artifact to X precedes it (the nearest
    /// miss, when there is one: a deploy there allowed to fail or skipped while D runs).
    TestedNothingOfIt(&'a Ident, Option<(&'a Job, String)>),
    /// A deploy of another artifact to X can run between the deploy it follows and it.
    Interleaved(&'a Ident, &'a Job, &'a Job),
    /// A gate that can be decided before an artifact the deploy ships is built.
    BeforeBuild(&'a Job),
    /// A gate that can be decided before the artifact reaches the promotion source.
    BeforePromotion(&'a Ident, &'a Ident),
}

/// The facts about one deploy every candidate is measured against.
struct Prover<'c, 'a> {
    cx: &'c Context<'a>,
    candidates: &'c Candidates<'a>,
    environment: &'a Environment,
    deploy: &'a Job,
    /// The deploy's effective conditions: what holds whenever it runs.
    conditions: Vec<&'a Condition>,
}

impl<'c, 'a> Prover<'c, 'a> {
    fn new(
        cx: &'c Context<'a>,
        candidates: &'c Candidates<'a>,
        environment: &'a Environment,
        deploy: &'a Job,
    ) -> Self {
        let conditions = effective_conditions(cx, deploy.id)
            .into_iter()
            .map(|(_, c)| c)
            .collect();
        Prover {
            cx,
            candidates,
            environment,
            deploy,
            conditions,
        }
    }

    /// The artifacts the deploy ships: its own and those it `uses`.
    fn shipped(&self) -> impl Iterator<Item = &'a Ident> + use<'a, 'c> {
        let pipeline = self.cx.pipeline;
        self.deploy
            .artifact
            .iter()
            .chain(&self.deploy.uses)
            .filter(move |a| pipeline.artifacts.contains_key(&a.name))
    }

    fn precedes(&self, before: JobId, after: JobId) -> bool {
        self.cx.graph.precedes(self.cx.pipeline, before, after)
    }

    fn prove(&self, candidates: &[&'a Job], requirement: &Requirement, sink: &mut Sink) {
        if let Some(diagnostic) = super::requirements_after_failure::deploy(
            self.deploy,
            &self.environment.name.name,
            requirement.code,
            &requirement.what,
            requirement.line,
        ) {
            sink.push(diagnostic);
            return;
        }
        let mut best = Failure::NotBefore;
        for candidate in candidates {
            let failure = match self.guards(candidate) {
                None => return,
                Some(failure) => failure,
            };
            if failure.rank() > best.rank() {
                best = failure;
            }
        }
        sink.push(self.report(candidates, requirement, best));
    }

    /// `None` when the candidate guards the deploy; otherwise why not.
    fn guards(&self, candidate: &'a Job) -> Option<Failure<'a>> {
        if !self.precedes(candidate.id, self.deploy.id) {
            return Some(Failure::NotBefore);
        }
        if let Some(span) = candidate.allow_failure {
            return Some(Failure::AllowedToFail(candidate, span));
        }
        if let Some((span, why)) = super::requirements_after_failure::not_a_guard(candidate) {
            return Some(Failure::NotAGuard(candidate, span, why));
        }
        match skipped_while(self.cx, &self.conditions, candidate) {
            Skip::Never => {}
            Skip::Unproved(comparisons) => return Some(Failure::Unproved(candidate, comparisons)),
            Skip::When(skipper, counterexample) => {
                return Some(Failure::Skipped(candidate, skipper, counterexample));
            }
        }
        let unrelated = match candidate.job_type {
            JobType::Test => self.test_unrelated(candidate),
            JobType::Gate => self.gate_unrelated(candidate),
            _ => None,
        };
        unrelated.map(|why| Failure::Unrelated(candidate, why))
    }

    /// A deploy of `artifact` to `environment` that finishes before `job`, is not allowed to
    /// fail and runs whenever the guarded deploy does; or the nearest miss.
    fn anchor(
        &self,
        environment: &str,
        artifact: &str,
        job: &Job,
    ) -> Result<&'a Job, Option<(&'a Job, String)>> {
        let mut miss = None;
        for earlier in self.candidates.deploys_of(environment, artifact) {
            let earlier: &'a Job = earlier;
            if !self.precedes(earlier.id, job.id) {
                continue;
            }
            if earlier.allow_failure.is_some() {
                miss = Some((earlier, "is allowed to fail".to_string()));
                continue;
            }
            if let Some((_, why)) = super::requirements_after_failure::not_a_guard(earlier) {
                miss = Some((earlier, why.to_string()));
                continue;
            }
            match skipped_while(self.cx, &self.conditions, earlier) {
                Skip::Never => return Ok(earlier),
                Skip::Unproved(_) => {
                    miss = Some((earlier, "cannot be proved to run whenever it does".into()))
                }
                Skip::When(_, counterexample) => {
                    miss = Some((earlier, format!("is skipped when {counterexample}")))
                }
            }
        }
        Err(miss)
    }

    fn test_unrelated(&self, test: &'a Job) -> Option<Unrelated<'a>> {
        let on = test.environment.as_ref()?;
        let artifact = self.deploy.artifact.as_ref()?;
        let anchor = match self.anchor(&on.name, &artifact.name, test) {
            Ok(anchor) => anchor,
            Err(miss) => return Some(Unrelated::TestedNothingOfIt(on, miss)),
        };
        let between = self
            .candidates
            .deploys_to
            .get(on.name.as_str())
            .into_iter()
            .flatten()
            .find(|other| {
                other.artifact.as_ref().map(|a| &a.name) != Some(&artifact.name)
                    && !self.precedes(other.id, anchor.id)
                    && !self.precedes(test.id, other.id)
            });
        between.map(|other| Unrelated::Interleaved(on, anchor, other))
    }

    fn gate_unrelated(&self, gate: &'a Job) -> Option<Unrelated<'a>> {
        let pipeline = self.cx.pipeline;
        for artifact in self.shipped() {
            let build = pipeline.artifacts[&artifact.name];
            if !self.precedes(build, gate.id) {
                return Some(Unrelated::BeforeBuild(pipeline.job(build)));
            }
        }
        if let Some(from) = &self.environment.requires_promotion {
            // Artifacts that never surely reach the source are reported by E0502 alone.
            let promoted = self
                .shipped()
                .filter(|a| self.anchor(&from.name, &a.name, self.deploy).is_ok());
            for artifact in promoted {
                if self.anchor(&from.name, &artifact.name, gate).is_err() {
                    return Some(Unrelated::BeforePromotion(artifact, from));
                }
            }
        }
        None
    }

    fn report(&self, candidates: &[&Job], requirement: &Requirement, best: Failure) -> Diagnostic {
        let (pipeline, deploy) = (self.cx.pipeline, self.deploy);
        let environment = self.environment.name.name.as_str();
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
        match best {
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
                let path = self.cx.graph.path_to(pipeline, deploy.id);
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
                    .help(self.order_help(guard, deploy))
            }
            Failure::AllowedToFail(guard, span) => diagnostic
                .label(format!("runs even when `{}` fails", guard.name))
                .related(span, format!("`{}` is allowed to fail", guard.name))
                .help(format!(
                    "remove `allow_failure` from `{}`: a failure it may have does not stop the deploy",
                    guard.name
                )),
            Failure::NotAGuard(guard, span, why) => {
                super::requirements_after_failure::report(diagnostic, guard, span, why)
            }
            Failure::Skipped(guard, skipper, counterexample) => {
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
                    .help(match &skipper.when {
                        Some(condition) => skipped_help(deploy, skipper, condition),
                        None => format!("make `{}` run whenever the deploy does", guard.name),
                    })
            }
            Failure::Unproved(guard, comparisons) => diagnostic
                .label(format!(
                    "cannot prove that `{}` runs whenever this deploy does",
                    guard.name
                ))
                .note(format!(
                    "the conditions make {comparisons} distinct comparisons; the proof enumerates at most {MAX_ATOMS}"
                ))
                .help(unproved_help(deploy, guard)),
            Failure::Unrelated(guard, why) => self.report_unrelated(diagnostic, guard, why),
        }
    }

    fn report_unrelated(&self, diagnostic: Diagnostic, guard: &Job, why: Unrelated) -> Diagnostic {
        let deploy = self.deploy;
        let artifact = deploy.artifact.as_ref().map_or("", |a| a.name.as_str());
        match why {
            Unrelated::TestedNothingOfIt(on, miss) => {
                let diagnostic = diagnostic
                    .label(format!("`{}` may not have tested `{artifact}`", guard.name))
                    .related(
                        on.span,
                        format!(
                            "`{}` tests `{}`, where no deploy of `{artifact}` surely runs before it",
                            guard.name, on.name
                        ),
                    );
                let diagnostic = match miss {
                    Some((earlier, how)) => diagnostic.note(format!(
                        "`{}` deploys `{artifact}` to `{}` before the test, but {how}",
                        earlier.name, on.name
                    )),
                    None => diagnostic.note(format!(
                        "a test counts for the build it tested: `{}` must run after a deploy of `{artifact}` to `{}`",
                        guard.name, on.name
                    )),
                };
                diagnostic.help(format!(
                    "deploy `{artifact}` to `{}` (without `allow_failure`, whenever this deploy runs) before `{}`, or test where `{artifact}` is deployed",
                    on.name, guard.name
                ))
            }
            Unrelated::Interleaved(on, anchor, other) => diagnostic
                .label(format!("`{}` may have tested another artifact", guard.name))
                .related(
                    other.name_span,
                    format!(
                        "`{}` can run between `{}` and `{}`",
                        other.name, anchor.name, guard.name
                    ),
                )
                .note(format!(
                    "`{}` deploys `{}` to `{}`; if it runs after `{}`, `{}` tests `{}`, not `{artifact}`",
                    other.name,
                    other.artifact.as_ref().map_or("", |a| a.name.as_str()),
                    on.name,
                    anchor.name,
                    guard.name,
                    other.artifact.as_ref().map_or("", |a| a.name.as_str()),
                ))
                .help(format!(
                    "order `{}` before `{}` or after `{}` (another stage, or `after`)",
                    other.name, anchor.name, guard.name
                )),
            Unrelated::BeforeBuild(build) => diagnostic
                .label(format!("`{}` can be approved before `{}` is built", guard.name, build.name))
                .related(
                    guard.name_span,
                    format!("`{}` does not wait for `{}`", guard.name, build.name),
                )
                .note("an approval counts for the build it approved: the gate must be decided after the artifact exists")
                .help(self.order_help(build, guard)),
            Unrelated::BeforePromotion(shipped, from) => {
                let promotions = self.candidates.deploys_of(&from.name, &shipped.name);
                let promotion = promotions.first();
                let diagnostic = diagnostic
                    .label(format!(
                        "`{}` can be approved before `{}` reaches `{}`",
                        guard.name, shipped.name, from.name
                    ))
                    .related(
                        guard.name_span,
                        format!(
                            "`{}` does not wait for a deploy of `{}` to `{}`",
                            guard.name, shipped.name, from.name
                        ),
                    )
                    .note(format!(
                        "`{}` requires promotion from `{}`: the approval must come after the build was there",
                        self.environment.name.name, from.name
                    ));
                match promotion {
                    Some(promotion) => diagnostic.help(self.order_help(promotion, guard)),
                    None => diagnostic.help(format!(
                        "deploy `{}` to `{}` before the gate",
                        shipped.name, from.name
                    )),
                }
            }
        }
    }

    /// How to make `first` finish before `then`: `after` when that is not a cycle, otherwise
    /// a stage move.
    fn order_help(&self, first: &Job, then: &Job) -> String {
        let pipeline = self.cx.pipeline;
        let stage_of = |job: &Job| pipeline.stages[job.stage].name.name.as_str();
        if first.stage == then.stage && !self.precedes(then.id, first.id) {
            format!(
                "add `after = [{}]` to `{}`, or move `{}` to a stage after `{}`",
                first.name,
                then.name,
                then.name,
                stage_of(first)
            )
        } else if first.stage == then.stage {
            format!(
                "`{}` already waits for `{}`: move `{}` to a stage after `{}`",
                first.name,
                then.name,
                then.name,
                stage_of(first)
            )
        } else {
            format!(
                "move `{}` to a later stage than `{}` (it is in `{}`), or move `{}` to an earlier stage than `{}`",
                then.name,
                stage_of(first),
                stage_of(then),
                first.name,
                stage_of(then)
            )
        }
    }
}

/// Conjuncts the deploy shares literally with its guard are discharged before enumeration.
fn unproved_help(deploy: &Job, guard: &Job) -> String {
    const FEWER: &str = "or compare fewer values (one glob such as `branch matches \"release/*\"` is one comparison)";
    let Some(condition) = &guard.when else {
        return format!("give the deploy and its guard the same `when`, {FEWER}");
    };
    let narrowed = conjunction(deploy.when.as_ref(), condition).to_string();
    if narrowed.len() <= 80 {
        format!(
            "write `{}`'s condition into the deploy's, where it is discharged without enumeration: `when = {narrowed}`; {FEWER}",
            guard.name
        )
    } else {
        format!(
            "write `{}`'s condition into the deploy's, where it is discharged without enumeration: `when = <the deploy's condition> && <{}'s condition>`; {FEWER}",
            guard.name, guard.name
        )
    }
}

/// Narrow the deploy to the runs where the guard runs (`when = deploy's && guard's`); when
/// those never meet, widen the guard instead (`when = guard's || deploy's`).
fn skipped_help(deploy: &Job, skipper: &Job, condition: &Condition) -> String {
    let narrowed = conjunction(deploy.when.as_ref(), condition);
    if satisfiable(&narrowed) {
        return format!(
            "run the deploy only when `{}` runs: `when = {narrowed}`",
            skipper.name
        );
    }
    let widened = match &deploy.when {
        Some(own) => Condition::Or(vec![condition.clone(), own.clone()]),
        None => Condition::Const(true),
    };
    format!(
        "`{}` never runs when the deploy does; make it run in those runs too: `when = {widened}` on `{}`",
        skipper.name, skipper.name
    )
}

/// `deploy's && guard's`, or the guard's alone when the deploy has no condition.
fn conjunction(deploy: Option<&Condition>, guard: &Condition) -> Condition {
    match deploy {
        None => guard.clone(),
        Some(deploy) => {
            let mut parts = Vec::new();
            for part in [deploy, guard] {
                match part {
                    Condition::And(items) => parts.extend(items.iter().cloned()),
                    other => parts.push(other.clone()),
                }
            }
            let mut unique: Vec<Condition> = Vec::new();
            for part in parts {
                if !unique.contains(&part) {
                    unique.push(part);
                }
            }
            Condition::And(unique)
        }
    }
}

enum Skip<'a> {
    /// The job runs whenever the premises hold.
    Never,
    /// The job whose condition skips it, and the assignment under which that happens.
    When(&'a Job, String),
    Unproved(usize),
}

/// Whether `job` can be skipped while `premises` hold.
fn skipped_while<'a>(cx: &Context<'a>, premises: &[&Condition], job: &Job) -> Skip<'a> {
    for (skipper, condition) in effective_conditions(cx, job.id) {
        match implies(premises, condition) {
            Proof::Proved => {}
            Proof::Unproved { comparisons } => return Skip::Unproved(comparisons),
            Proof::Refuted(counterexample) => {
                let words: Vec<String> = counterexample
                    .assignment
                    .iter()
                    .map(|(atom, value)| format!("`{atom}` is {value}"))
                    .collect();
                let mut words = if words.is_empty() {
                    "always".into()
                } else {
                    words.join(" and ")
                };
                if counterexample.independent {
                    words.push_str(
                        " (globs other than `prefix*` and `*suffix` are treated as independent comparisons, so this case may not occur; if so, give the deploy the guard's condition)",
                    );
                }
                return Skip::When(cx.pipeline.job(skipper), words);
            }
        }
    }
    Skip::Never
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
        // Three guards run side by side; each one finishes before the deploy (an AND-join).
        let stages = r#"stage staging {
                deploy app to staging { run = "d" }
                test ui on staging { run = "t" }
                test load on staging { run = "t" }
                gate go { approvers = ["a"]; after = [deploy_app_staging] }
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
        // `ui` tested `lib`; the approval is not blamed for the missing promotion.
        assert_eq!(
            violations(stages),
            [Code::TestsNotProved, Code::PromotionNotProved]
        );
    }

    const RELEASE: &str = r#"stage release { gate go { approvers = ["a"] } }
        stage production { deploy app to production { run = "d" } }"#;

    #[test]
    fn a_test_of_an_environment_that_got_another_artifact_does_not_count() {
        let stages = format!(
            r#"stage other {{ artifact lib {{ run = "m"; outputs = ["l"] }} }}
               stage staging {{
                 deploy app to staging {{ run = "d" }}
                 deploy lib to dev {{ run = "d" }}
                 test ui on dev {{ run = "t" }}
               }}
               {RELEASE}"#
        );
        assert_eq!(violations(&stages), [Code::TestsNotProved]);
    }

    #[test]
    fn a_test_racing_the_deploy_it_tests_does_not_count() {
        // The test is written before the deploy in the same stage: they run side by side.
        let stages = format!(
            r#"stage staging {{
                 test ui on staging {{ run = "t" }}
                 deploy app to staging {{ run = "d" }}
               }}
               {RELEASE}"#
        );
        assert!(violations(&stages).contains(&Code::TestsNotProved));
    }

    #[test]
    fn a_test_after_a_deploy_allowed_to_fail_does_not_count() {
        let stages = format!(
            r#"stage staging {{
                 deploy app to staging {{ run = "d"; allow_failure = true }}
                 test ui on staging {{ run = "t" }}
               }}
               {RELEASE}"#
        );
        assert_eq!(
            violations(&stages),
            [Code::TestsNotProved, Code::PromotionNotProved]
        );
    }

    #[test]
    fn a_test_after_a_deploy_that_may_be_skipped_does_not_count() {
        let stages = format!(
            r#"stage staging {{
                 deploy app to staging {{ run = "d"; when = branch == "main" }}
                 test ui on staging {{ run = "t" }}
               }}
               {RELEASE}"#
        );
        assert_eq!(
            violations(&stages),
            [Code::TestsNotProved, Code::PromotionNotProved]
        );
    }

    #[test]
    fn a_deploy_of_another_artifact_between_deploy_and_test_breaks_the_tie() {
        let stages = format!(
            r#"stage other {{ artifact lib {{ run = "m"; outputs = ["l"] }} }}
               stage staging {{
                 deploy app to staging {{ run = "d" }}
                 deploy lib to staging {{ run = "d" }}
                 test ui on staging {{ run = "t" }}
               }}
               {RELEASE}"#
        );
        assert_eq!(violations(&stages), [Code::TestsNotProved]);
        // Ordered before the app's deploy, the other artifact no longer interleaves.
        let ordered = format!(
            r#"stage other {{ artifact lib {{ run = "m"; outputs = ["l"] }} }}
               stage staging {{
                 deploy lib to staging {{ run = "d" }}
                 deploy app to staging {{ run = "d"; after = [deploy_lib_staging] }}
                 test ui on staging {{ run = "t"; after = [deploy_app_staging] }}
               }}
               {RELEASE}"#
        );
        assert_eq!(violations(&ordered), []);
    }

    #[test]
    fn a_gate_before_the_build_does_not_count() {
        let text = r#"pipeline p {
            environment production { url = "https://p"; requires approval }
            stage release { gate go { approvers = ["a"] } }
            stage build { artifact app { run = "make"; outputs = ["app"] } }
            stage production { deploy app to production { run = "d" } }
        }"#;
        let codes: Vec<Code> = compile_text("t.cdl", None, text.into())
            .diagnostics
            .iter()
            .map(|d| d.code)
            .collect();
        assert_eq!(codes, [Code::ApprovalNotProved]);
    }

    #[test]
    fn a_gate_before_the_promotion_deploy_does_not_count() {
        let stages = r#"stage staging {
                gate go { approvers = ["a"] }
                deploy app to staging { run = "d" }
                test ui on staging { run = "t" }
            }
            stage production { deploy app to production { run = "d" } }"#;
        assert_eq!(violations(stages), [Code::ApprovalNotProved]);
    }

    #[test]
    fn every_artifact_a_promoted_deploy_uses_must_be_promoted() {
        let stages = format!(
            r#"stage other {{ artifact hotfix {{ run = "m"; outputs = ["h"] }} }}
               {STAGING}
               stage release {{ gate go {{ approvers = ["a"] }} }}
               stage production {{ deploy app to production {{ run = "d"; uses = [hotfix] }} }}"#
        );
        assert_eq!(violations(&stages), [Code::PromotionNotProved]);
    }
}
