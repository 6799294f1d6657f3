//! The checked pipeline: names resolved, attributes typed. Checks and the plan read this.

use indexmap::IndexMap;

use super::condition::Condition;
pub use crate::model::{JobType, KindEnvironment, TriggerEvent};
use crate::span::{Ident, Span};

/// Index of a job in [`Pipeline::jobs`] (source order, before matrix expansion).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct JobId(pub usize);

/// A test kind (`kind ui { … }`).
#[derive(Debug, Clone)]
pub struct Kind {
    pub name: Ident,
    pub doc: Option<String>,
    pub environment: KindEnvironment,
    pub timeout: Option<u64>,
    pub retries: Option<u32>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct Trigger {
    pub event: TriggerEvent,
    pub branches: Vec<String>,
    pub pattern: Option<String>,
    pub cron: Option<String>,
    pub span: Span,
    // v2 i14a: path filters
    /// `paths`: path globs; a run starts only when a changed file matches one.
    pub paths: Vec<String>,
    /// `paths_ignore`: a run does not start when every changed file matches one.
    pub paths_ignore: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct Secret {
    pub name: Ident,
    pub doc: Option<String>,
}

/// `team NAME { members = [...] }`: people a gate names together as `@NAME`.
#[derive(Debug, Clone)]
pub struct Team {
    pub name: Ident,
    pub doc: Option<String>,
    /// Distinct, non-empty member names, in written order.
    pub members: Vec<String>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct Environment {
    pub name: Ident,
    pub doc: Option<String>,
    pub url: Option<String>,
    pub env: IndexMap<String, String>,
    pub concurrency: Option<u32>,
    /// The span of the `requires approval` line, when there is one.
    pub requires_approval: Option<Span>,
    /// Required test kinds, each with where it was named.
    pub requires_tests: Vec<Ident>,
    pub requires_promotion: Option<Ident>,
    pub span: Span,
    // v2 i13j: composed values
    /// `url = "https://" + branch + ".acme.dev"`, and composed `env` values.
    pub composed_url: Option<super::value::Composed>,
    pub composed_env: IndexMap<String, super::value::Composed>,
}

#[derive(Debug, Clone)]
pub struct Stage {
    pub name: Ident,
    pub doc: Option<String>,
    pub jobs: Vec<JobId>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct Job {
    pub id: JobId,
    pub name: String,
    /// The name as written, or the header when the name is derived (`deploy app to prod`).
    pub name_span: Span,
    pub doc: Option<String>,
    pub stage: usize,
    pub job_type: JobType,
    /// Test kind.
    pub kind: Option<Ident>,
    /// The environment deployed to or tested.
    pub environment: Option<Ident>,
    /// The artifact built (artifact jobs) or deployed (deploys).
    pub artifact: Option<Ident>,
    pub outputs: Vec<String>,
    pub run: Vec<String>,
    /// Where each entry of `run` was written, and the whole value.
    pub run_spans: Vec<Span>,
    pub run_value_span: Option<Span>,
    pub env: IndexMap<String, String>,
    pub secrets: Vec<Ident>,
    pub timeout: Option<u64>,
    pub retries: Option<u32>,
    pub after: Vec<Ident>,
    pub when: Option<Condition>,
    pub when_span: Option<Span>,
    pub uses: Vec<Ident>,
    /// Where `allow_failure = true` was written.
    pub allow_failure: Option<Span>,
    pub image: Option<String>,
    /// `image = none`: no container image, not even the pipeline's.
    pub no_image: bool,
    pub runner: Option<String>,
    /// `runner = [...]`: every label a machine must have (empty for one label).
    pub runner_labels: Vec<String>,
    pub matrix: IndexMap<String, Vec<String>>,
    pub approvers: Vec<String>,
    /// Where each approver was written (parallel to `approvers`; empty when unknown).
    pub approver_spans: Vec<Span>,
    pub required: u32,
    pub message: Option<String>,
    pub header_span: Span,
    pub span: Span,
    /// Resolved references (unknown names are reported and left out).
    pub after_jobs: Vec<JobId>,
    pub uses_jobs: Vec<JobId>,
    pub artifact_job: Option<JobId>,
    // ---- v2 steps and shells (i13b)
    /// `name = "…"`: the display name.
    pub display_name: Option<String>,
    /// `shell = "…"` of the job (the pipeline's applies when absent).
    pub shell: Option<crate::model::steps::Shell>,
    /// `step NAME { … }` blocks, in order; `run` runs after them as the step named `run`.
    pub steps: Vec<crate::model::steps::Step>,
    // v2 i13i: values passed to later jobs
    /// `values = [NAME, …]`: the names the job may write to `$CDL_VALUES`, where written.
    pub values: Vec<Ident>,
    // ---- v2 reports and kept files (i13h)
    /// `reports { … }`: the job's test reports.
    pub reports: crate::model::reports::Reports,
    /// `keep = [...]`: paths or globs kept with the run.
    pub keep: Vec<String>,
    /// `retention = 14d`, in days.
    pub retention_days: Option<u32>,
    // v2 i14a: platform settings
    /// `permissions`, `oidc`, `checkout` as written on the job.
    pub settings: super::platform::JobSettings,
    // ---- v2 i13f: jobs that run after a failure, jobs started by hand
    /// `runs = …` (default `on_success`).
    pub runs: crate::model::steps::Runs,
    /// Where `runs` was written, when it was.
    pub runs_span: Option<Span>,
    /// Where `start = manual` was written, when it was.
    pub manual: Option<Span>,
    /// `auto_when = COND` of a manual job: it starts by itself when COND holds.
    pub auto_when: Option<Condition>,
    // ---- v2 richer matrices (i13g)
    /// `include { … }` and `exclude { … }` of the job's `matrix` (its axes are `matrix`).
    pub matrix_entries: crate::model::matrix::Matrix,
    /// `keep_when`: reports and kept files kept only on failure or on success (absent: always).
    pub keep_when: Option<crate::model::steps::Runs>,
    /// `entrypoint = [...]`: replaces the image's entrypoint.
    pub entrypoint: Option<Vec<String>>,
    /// `pages = "FOLDER"`: the folder the job publishes as the project's static site.
    pub pages: Option<String>,
    /// `max_parallel = N` in the matrix: at most N instances run at once.
    pub max_parallel: Option<u32>,
    /// `runner`/`image`/`timeout = matrix.KEY`, set per instance in the plan.
    pub matrix_references: Vec<super::matrix::MatrixReference>,
    /// A `when` that reads `matrix.KEY`: each instance's condition, in expansion order
    /// (`None`: it always runs); empty otherwise. `when` is then their conjunction.
    pub instance_when: Vec<Option<Condition>>,
    // v2 i13l: step conditions
    /// The steps whose `when` reads `matrix.KEY`: the step's index and each instance's
    /// condition, in expansion order (the others' conditions are on the steps).
    pub step_instance_when: super::step_when::InstanceWhen,
    // v2 i14d: services
    /// `service NAME { … }` blocks, in written order.
    pub services: Vec<crate::model::services::Service>,
    // v2 i13j: composed values
    /// `env` values, `image` and `runner` joined from literals and references.
    pub composed: super::value::JobValues,
    // v2 i13k: matrix artifacts
    /// `optional_outputs = [...]`: outputs an artifact instance may lack.
    pub optional_outputs: Vec<String>,
    // v2 i14c: caches
    /// `cache NAME { … }` blocks, in order, with where each was written.
    pub caches: Vec<super::cache::Declared>,
    /// `environment { name = …  url = …  stop = JOB }`: a review environment the job makes.
    pub review: Option<super::review::Review>,
    /// `trigger { project  branch  wait }`: another project's pipeline the job starts.
    pub trigger: Option<super::trigger::Trigger>,
}

/// One pipeline, checked.
#[derive(Debug, Clone)]
pub struct Pipeline {
    pub name: Ident,
    pub doc: Option<String>,
    pub description: Option<String>,
    pub runner: Option<String>,
    /// `runner = [...]`: every label a machine must have (empty for one label).
    pub runner_labels: Vec<String>,
    pub image: Option<String>,
    /// `allowed_signers = "PATH"`: approvals must be signed by a key listed there.
    pub allowed_signers: Option<String>,
    /// `default_branch = "main"`: the repository's default branch, when the file fixes it.
    pub default_branch: Option<String>,
    /// `shell = "…"`: the shell of every job's steps unless the job or step says otherwise.
    pub shell: Option<crate::model::steps::Shell>,
    pub triggers: Vec<Trigger>,
    pub env: IndexMap<String, String>,
    pub secrets: IndexMap<String, Secret>,
    /// Teams declared in the pipeline or in a file it imports.
    pub teams: IndexMap<String, Team>,
    pub environments: IndexMap<String, Environment>,
    pub stages: Vec<Stage>,
    pub jobs: Vec<Job>,
    /// Artifact name → the job that builds it.
    pub artifacts: IndexMap<String, JobId>,
    /// Job name → job.
    pub job_names: std::collections::HashMap<String, JobId>,
    /// Environment and artifact names written in jobs left out as duplicates, so that the
    /// duplicate is not followed by "unused" warnings.
    pub dropped_references: Vec<String>,
    pub span: Span,
    // v2 i13d: `input NAME { … }` and `var NAME { … }`, by name, in written order.
    pub inputs: IndexMap<String, crate::model::inputs::Input>,
    pub vars: IndexMap<String, crate::model::inputs::Var>,
    // v2 i14a: platform settings
    /// `permissions`, `concurrency`, `checkout` of the pipeline.
    pub settings: super::platform::PipelineSettings,
    // v2 i13j: composed values
    /// Composed values of the pipeline's `env`.
    pub composed_env: IndexMap<String, super::value::Composed>,
}

impl Pipeline {
    pub fn job(&self, id: JobId) -> &Job {
        &self.jobs[id.0]
    }

    /// The distinct people who may approve a gate: its named approvers and the members of the
    /// teams it names (`@NAME`); unknown teams contribute nobody.
    pub fn people(&self, approvers: &[String]) -> Vec<String> {
        let mut people: Vec<String> = Vec::new();
        for approver in approvers {
            let names: Vec<&String> = match approver.strip_prefix('@') {
                Some(team) => self
                    .teams
                    .get(team)
                    .map(|t| t.members.iter().collect())
                    .unwrap_or_default(),
                None => vec![approver],
            };
            for name in names {
                if !name.trim().is_empty() && !people.contains(name) {
                    people.push(name.clone());
                }
            }
        }
        people
    }
}
