//! The job graph: explicit needs, stage order, cycle detection and a stable topological order.
//!
//! A job waits for every job of earlier stages (stage order, implicit) and for the jobs it
//! names (explicit needs: `after`, the artifact it deploys or uses, the deploy a test `on ENV`
//! follows). Stage order is never materialised as edges, so the graph stays linear in size.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, HashSet};

use super::model::{JobId, JobType, Pipeline};
use crate::codes::Code;
use crate::diagnostic::{Diagnostic, Sink};
use crate::span::Span;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NeedReason {
    /// Named in `after`.
    After,
    /// The artifact a deploy ships or a job `uses`.
    Artifact,
    /// The deploy a test `on ENV` follows: earlier in its stage, or in the latest earlier
    /// stage that deploys to ENV.
    Environment,
}

/// An explicit edge: the job waits for `job`, and is skipped when `job` is skipped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Need {
    pub job: JobId,
    pub reason: NeedReason,
    /// Where the reference was written.
    pub span: Span,
}

#[derive(Debug, Clone, Default)]
pub struct JobGraph {
    /// Explicit needs of each job, by [`JobId`]; one entry per needed job.
    pub needs: Vec<Vec<Need>>,
    /// Stable topological order: stage by stage, source order where the needs allow.
    pub order: Vec<JobId>,
    /// False when a cycle was reported; `order` then leaves the cycle's jobs out.
    pub acyclic: bool,
}

impl JobGraph {
    pub fn build(pipeline: &Pipeline, sink: &mut Sink) -> JobGraph {
        let needs = explicit_needs(pipeline);
        let mut graph = JobGraph {
            needs,
            order: Vec::with_capacity(pipeline.jobs.len()),
            acyclic: true,
        };
        graph.report_forward_edges(pipeline, sink);
        graph.order_stages(pipeline, sink);
        graph
    }

    /// Whether `ancestor` finishes before `job` starts on every run: it is in an earlier
    /// stage, or reached backwards from `job` through explicit needs inside the same stage.
    pub fn precedes(&self, pipeline: &Pipeline, ancestor: JobId, job: JobId) -> bool {
        let (a, j) = (pipeline.job(ancestor).stage, pipeline.job(job).stage);
        if a != j {
            return a < j;
        }
        let mut seen = HashSet::from([job]);
        let mut stack = vec![job];
        while let Some(current) = stack.pop() {
            for need in &self.needs[current.0] {
                if need.job == ancestor {
                    return true;
                }
                if pipeline.job(need.job).stage == j && seen.insert(need.job) {
                    stack.push(need.job);
                }
            }
        }
        false
    }

    /// One chain of jobs from a job nothing precedes to `job`, following explicit needs first
    /// and stage order otherwise. Used to show how a deploy is reached without a guard.
    pub fn path_to(&self, pipeline: &Pipeline, job: JobId) -> Vec<JobId> {
        let mut path = vec![job];
        let mut current = job;
        while path.len() <= pipeline.jobs.len() {
            let stage = pipeline.job(current).stage;
            let next = self.needs[current.0].first().map(|n| n.job).or_else(|| {
                pipeline.stages[..stage]
                    .iter()
                    .rev()
                    .find_map(|s| s.jobs.first().copied())
            });
            match next {
                Some(next) if !path.contains(&next) => {
                    path.push(next);
                    current = next;
                }
                _ => break,
            }
        }
        path.reverse();
        path
    }

    /// Explicit needs on a job of a later stage: the stage order already runs that job after
    /// this one, so each is a cycle of two.
    fn report_forward_edges(&mut self, pipeline: &Pipeline, sink: &mut Sink) {
        for job in &pipeline.jobs {
            for need in &self.needs[job.id.0] {
                let needed = pipeline.job(need.job);
                if needed.stage > job.stage {
                    self.acyclic = false;
                    sink.push(
                        Diagnostic::new(
                            Code::DependencyCycle,
                            need.span,
                            format!(
                                "dependency cycle: `{}` waits for `{}`, which runs in the later stage `{}`",
                                job.name, needed.name, pipeline.stages[needed.stage].name.name
                            ),
                        )
                        .label(format!("`{}` waits for `{}`", job.name, needed.name))
                        .related(
                            needed.name_span,
                            format!("`{}` waits for `{}` by stage order", needed.name, job.name),
                        )
                        .note(format!("cycle: {0} → {1} → {0}", job.name, needed.name))
                        .help(format!(
                            "move `{}` to the stage `{}` or an earlier one",
                            needed.name, pipeline.stages[job.stage].name.name
                        )),
                    );
                }
            }
        }
    }

    /// Kahn's algorithm inside each stage over same-stage needs, smallest source position
    /// first; what is left over lies on or behind a cycle.
    fn order_stages(&mut self, pipeline: &Pipeline, sink: &mut Sink) {
        let mut in_degree = vec![0usize; pipeline.jobs.len()];
        let mut dependents: Vec<Vec<JobId>> = vec![Vec::new(); pipeline.jobs.len()];
        for job in &pipeline.jobs {
            for need in &self.needs[job.id.0] {
                if pipeline.job(need.job).stage == job.stage {
                    in_degree[job.id.0] += 1;
                    dependents[need.job.0].push(job.id);
                }
            }
        }
        let mut on_cycle = vec![false; pipeline.jobs.len()];
        for stage in &pipeline.stages {
            let mut ready: BinaryHeap<Reverse<JobId>> = stage
                .jobs
                .iter()
                .filter(|j| in_degree[j.0] == 0)
                .map(|j| Reverse(*j))
                .collect();
            let start = self.order.len();
            while let Some(Reverse(job)) = ready.pop() {
                self.order.push(job);
                for dependent in &dependents[job.0] {
                    in_degree[dependent.0] -= 1;
                    if in_degree[dependent.0] == 0 {
                        ready.push(Reverse(*dependent));
                    }
                }
            }
            if self.order.len() - start < stage.jobs.len() {
                self.acyclic = false;
                for job in &stage.jobs {
                    if in_degree[job.0] > 0 && !on_cycle[job.0] {
                        self.report_cycle(pipeline, *job, &in_degree, &mut on_cycle, sink);
                    }
                }
            }
        }
    }

    /// Walks back from a left-over job through left-over needs until a job repeats; the
    /// repeated stretch is a cycle, reported once with every job on it.
    fn report_cycle(
        &self,
        pipeline: &Pipeline,
        start: JobId,
        in_degree: &[usize],
        on_cycle: &mut [bool],
        sink: &mut Sink,
    ) {
        let stage = pipeline.job(start).stage;
        // walk[i] waits for walk[i + 1] through edges[i].
        let mut walk: Vec<JobId> = vec![start];
        let mut edges: Vec<Need> = Vec::new();
        let mut current = start;
        loop {
            let need = self.needs[current.0]
                .iter()
                .find(|n| pipeline.job(n.job).stage == stage && in_degree[n.job.0] > 0)
                .copied()
                .expect("a left-over job has a left-over need");
            if on_cycle[need.job.0] {
                return; // leads into a cycle already reported
            }
            edges.push(need);
            if let Some(at) = walk.iter().position(|j| *j == need.job) {
                let cycle: Vec<(JobId, Need)> = walk[at..]
                    .iter()
                    .copied()
                    .zip(edges[at..].iter().copied())
                    .collect();
                self.emit_cycle(pipeline, &cycle, sink);
                for (job, _) in cycle {
                    on_cycle[job.0] = true;
                }
                return;
            }
            walk.push(need.job);
            current = need.job;
        }
    }

    fn emit_cycle(&self, pipeline: &Pipeline, cycle: &[(JobId, Need)], sink: &mut Sink) {
        let names: Vec<&str> = cycle
            .iter()
            .map(|(j, _)| pipeline.job(*j).name.as_str())
            .collect();
        let (first, first_need) = cycle[0];
        let mut diagnostic = Diagnostic::new(
            Code::DependencyCycle,
            first_need.span,
            format!(
                "dependency cycle between {}",
                names
                    .iter()
                    .map(|n| format!("`{n}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )
        .label(format!(
            "`{}` waits for `{}`",
            pipeline.job(first).name,
            pipeline.job(first_need.job).name
        ));
        for (job, need) in &cycle[1..] {
            diagnostic = diagnostic.related(
                need.span,
                format!(
                    "`{}` waits for `{}`",
                    pipeline.job(*job).name,
                    pipeline.job(need.job).name
                ),
            );
        }
        let mut path: Vec<&str> = names.clone();
        path.push(names[0]);
        sink.push(
            diagnostic
                .note(format!("cycle: {}", path.join(" → ")))
                .help("remove one of these `after` entries, or move a job to an earlier stage"),
        );
    }
}

fn explicit_needs(pipeline: &Pipeline) -> Vec<Vec<Need>> {
    // For each test `on ENV`, the deploys it follows: those to ENV written before it in its
    // stage, or else those of the latest earlier stage that deploys to ENV. One pass.
    let mut deploys_before: HashMap<(JobId, &str), Vec<JobId>> = HashMap::new();
    let mut latest_stage: HashMap<&str, Vec<JobId>> = HashMap::new();
    for stage in &pipeline.stages {
        let mut deploys: HashMap<&str, Vec<JobId>> = HashMap::new();
        for id in &stage.jobs {
            let job = pipeline.job(*id);
            let Some(environment) = &job.environment else {
                continue;
            };
            match job.job_type {
                JobType::Deploy => deploys
                    .entry(environment.name.as_str())
                    .or_default()
                    .push(*id),
                JobType::Test => {
                    let name = environment.name.as_str();
                    if let Some(earlier) = deploys.get(name).or_else(|| latest_stage.get(name)) {
                        deploys_before.insert((*id, name), earlier.clone());
                    }
                }
                _ => {}
            }
        }
        latest_stage.extend(deploys);
    }
    let mut all = Vec::with_capacity(pipeline.jobs.len());
    for job in &pipeline.jobs {
        let mut needs: Vec<Need> = Vec::new();
        let mut add = |job: JobId, reason: NeedReason, span: Span| {
            if !needs.iter().any(|n| n.job == job) {
                needs.push(Need { job, reason, span });
            }
        };
        for (id, name) in job.after_jobs.iter().zip(
            job.after
                .iter()
                .filter(|n| pipeline.job_names.contains_key(&n.name)),
        ) {
            add(*id, NeedReason::After, name.span);
        }
        if let (Some(artifact_job), Some(artifact)) = (job.artifact_job, &job.artifact) {
            add(artifact_job, NeedReason::Artifact, artifact.span);
        }
        for (id, name) in job.uses_jobs.iter().zip(
            job.uses
                .iter()
                .filter(|n| pipeline.artifacts.contains_key(&n.name)),
        ) {
            add(*id, NeedReason::Artifact, name.span);
        }
        if let (JobType::Test, Some(environment)) = (job.job_type, &job.environment) {
            for earlier in deploys_before
                .get(&(job.id, environment.name.as_str()))
                .into_iter()
                .flatten()
            {
                add(*earlier, NeedReason::Environment, environment.span);
            }
        }
        all.push(needs);
    }
    all
}

#[cfg(test)]
mod tests {
    use crate::codes::Code;
    use crate::compile::{Compilation, compile_text};

    fn compile(body: &str) -> Compilation {
        compile_text("t.cdl", None, format!("pipeline p {{ {body} }}"))
    }

    fn cycle_notes(c: &Compilation) -> Vec<String> {
        c.diagnostics
            .iter()
            .filter(|d| d.code == Code::DependencyCycle)
            .flat_map(|d| d.notes.clone())
            .collect()
    }

    fn precedes(c: &Compilation, a: &str, b: &str) -> bool {
        let checked = c.checked.as_ref().unwrap();
        let pipeline = checked.pipeline.as_ref().unwrap();
        checked
            .graph
            .precedes(pipeline, pipeline.job_names[a], pipeline.job_names[b])
    }

    #[test]
    fn a_cycle_names_every_job_on_it() {
        let c = compile(
            r#"stage s {
                job a { run = "x"; after = [c] }
                job b { run = "x"; after = [a] }
                job c { run = "x"; after = [b] }
                job d { run = "x"; after = [a] }
            }"#,
        );
        assert_eq!(cycle_notes(&c), ["cycle: a → c → b → a"]);
    }

    #[test]
    fn two_independent_cycles_are_both_reported() {
        let c = compile(
            r#"stage s {
                job a { run = "x"; after = [b] }
                job b { run = "x"; after = [a] }
                job c { run = "x"; after = [d] }
                job d { run = "x"; after = [c] }
            }"#,
        );
        assert_eq!(cycle_notes(&c), ["cycle: a → b → a", "cycle: c → d → c"]);
    }

    #[test]
    fn a_need_on_a_later_stage_is_a_cycle() {
        let c = compile(
            r#"stage one { job a { run = "x"; after = [b] } }
               stage two { job b { run = "x" } }"#,
        );
        assert_eq!(cycle_notes(&c), ["cycle: a → b → a"]);
    }

    #[test]
    fn a_job_waiting_for_itself_is_a_cycle() {
        let c = compile(r#"stage s { job a { run = "x"; after = [a] } }"#);
        assert_eq!(cycle_notes(&c), ["cycle: a → a"]);
    }

    #[test]
    fn precedence_follows_stages_and_needs_within_a_stage() {
        let c = compile(
            r#"stage one { job a { run = "x" } job b { run = "x" } }
               stage two {
                 job c { run = "x" }
                 job d { run = "x"; after = [c] }
                 job e { run = "x"; after = [d] }
               }"#,
        );
        assert!(c.diagnostics.is_empty());
        assert!(precedes(&c, "a", "c") && precedes(&c, "b", "e"));
        assert!(precedes(&c, "c", "e"), "through d");
        assert!(!precedes(&c, "e", "c"));
        assert!(!precedes(&c, "a", "b"), "same stage, no need");
        assert!(!precedes(&c, "c", "a"));
    }

    #[test]
    fn topological_order_is_stable_and_respects_needs() {
        let c = compile(
            r#"stage s {
                job z { run = "x"; after = [y] }
                job y { run = "x" }
                job x { run = "x" }
            }"#,
        );
        let checked = c.checked.as_ref().unwrap();
        let pipeline = checked.pipeline.as_ref().unwrap();
        let names: Vec<&str> = checked
            .graph
            .order
            .iter()
            .map(|j| pipeline.job(*j).name.as_str())
            .collect();
        assert_eq!(names, ["y", "z", "x"]);
    }
}
