//! The execution plan, schema `cdl.plan/v2`: what every consumer (interpreter, exporters,
//! graph, language server) reads. Field names are a contract documented in `docs/plan.md`.

pub mod build;
// v2 i13j: composed values
pub mod composed;
// v2 i13k: matrix artifacts
mod condition_json;
pub mod matrix_artifacts;
pub mod text;
pub mod values;

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

pub use build::build;

use crate::check::graph::NeedReason;
pub use crate::model::cache::{Cache, Policy as CachePolicy};
pub use crate::model::platform::{
    Access, AllAccess, Checkout, Concurrency, ConcurrencyPer, OIDC_VARIABLE, Oidc, Permissions,
    REGISTRY_PASSWORD, REGISTRY_VARIABLES,
};
pub use crate::model::reports::Reports;
pub use crate::model::services::Service;
pub use crate::model::steps::{Runs, Shell, Step};
pub use crate::model::value::{Part, Reference, Value};
pub use crate::model::{
    CompareOp, Condition, EVENTS, JobType, KindEnvironment, RunContext, TriggerEvent, Variable,
    glob_matches,
};

pub const SCHEMA: &str = "cdl.plan/v2";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    pub schema: String,
    pub pipeline: PipelineInfo,
    pub triggers: Vec<Trigger>,
    /// Variables for every job (already merged into each job's `env`).
    pub env: IndexMap<String, String>,
    pub environments: Vec<Environment>,
    pub artifacts: Vec<Artifact>,
    pub secrets: Vec<String>,
    /// Teams a gate may name as `@NAME` (absent when the pipeline has none).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub teams: Vec<Team>,
    pub kinds: Vec<Kind>,
    pub stages: Vec<Stage>,
    /// In a stable topological order.
    pub jobs: Vec<Job>,
    /// The longest chain of jobs, counting stage order and needs.
    pub critical_path: Vec<String>,
    // v2 i13d: `input` and `var` declarations (absent when there are none).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub inputs: Vec<crate::model::inputs::Input>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub vars: Vec<crate::model::inputs::Var>,
    // v2 i13j: composed values
    /// The pipeline's `env` values that read references (also in each job's `env_values`).
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub env_values: IndexMap<String, Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PipelineInfo {
    pub name: String,
    pub description: Option<String>,
    pub doc: Option<String>,
    pub runner: Option<String>,
    pub image: Option<String>,
    /// The pipeline file as given on the command line.
    pub file: String,
    /// The OpenSSH allowed-signers file that approvals must be signed against, relative to
    /// the pipeline file (absent when approvals are asserted, not signed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_signers: Option<String>,
    /// The repository's default branch when the file fixes it (`default_branch`); absent:
    /// `cdl run` asks git and exports read the CI system's own value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_branch: Option<String>,
    // v2 i14a: platform settings
    /// `permissions` of the pipeline, the default of its jobs (absent: `contents = read`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permissions: Option<Permissions>,
    /// `concurrency { per  cancel_in_progress }`: a new run cancels an older one of its group
    /// (absent: runs never cancel each other).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub concurrency: Option<Concurrency>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Team {
    pub name: String,
    pub members: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Trigger {
    pub event: TriggerEvent,
    pub branches: Vec<String>,
    pub pattern: Option<String>,
    pub cron: Option<String>,
    // v2 i14a: path filters
    /// `paths`: path globs (`*` stops at `/`, `**` crosses it); the event starts a run only
    /// when a changed file matches one and no `paths_ignore` glob (absent: any file).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub paths: Vec<String>,
    /// `paths_ignore`: changed files matching one count for nothing.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub paths_ignore: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Environment {
    pub name: String,
    pub url: Option<String>,
    pub env: IndexMap<String, String>,
    pub concurrency: Option<u32>,
    pub requires: Requires,
    // v2 i13j: composed values
    /// A `url` that reads references, as parts (`url` is then absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url_value: Option<Value>,
    /// `env` values that read references (also in each deploy's and test's `env_values`).
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub env_values: IndexMap<String, Value>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Requires {
    pub approval: bool,
    pub tests: Vec<String>,
    pub promotion_from: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Artifact {
    pub name: String,
    /// The id of the job that builds it (the first instance for a matrix job).
    pub job: String,
    pub outputs: Vec<String>,
    // v2 i13k: matrix artifacts
    /// Outputs an instance may lack (absent: none).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub optional_outputs: Vec<String>,
    /// A matrix artifact's instances: the job that builds each and its folder under
    /// `CDL_ARTIFACT_<NAME>` (absent: the artifact has no matrix).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub instances: Vec<ArtifactInstance>,
}

/// v2 i13k: one instance of a matrix artifact.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ArtifactInstance {
    /// The id of the job that builds it.
    pub job: String,
    /// Its folder under the artifact: its values joined with `-`, file-name safe, unique.
    pub folder: String,
}

impl Artifact {
    /// v2 i13k: the keys the run record stores the artifact under: its name, or one
    /// `NAME/FOLDER` per instance of a matrix artifact, with the instance's folder.
    pub fn parts(&self) -> Vec<(String, Option<String>)> {
        if self.instances.is_empty() {
            return vec![(self.name.clone(), None)];
        }
        self.instances
            .iter()
            .map(|i| {
                (
                    format!("{}/{}", self.name, i.folder),
                    Some(i.folder.clone()),
                )
            })
            .collect()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Kind {
    pub name: String,
    pub doc: Option<String>,
    pub environment: KindEnvironment,
    pub timeout_seconds: Option<u64>,
    pub retries: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Stage {
    pub name: String,
    pub doc: Option<String>,
    /// Job ids, in the plan's order.
    pub jobs: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Job {
    /// Unique: the name, with matrix values for an instance (`unit[os=linux]`).
    pub id: String,
    /// The name as declared (shared by a matrix job's instances).
    pub name: String,
    #[serde(rename = "type")]
    pub job_type: JobType,
    pub stage: String,
    /// Jobs named by this one (explicit needs); it also waits for every job of earlier stages.
    pub needs: Vec<String>,
    /// Why each explicit need exists, in the order of `needs`.
    pub need_reasons: Vec<NeedReason>,
    /// Shell commands, each run with `sh -e -c`.
    pub steps: Vec<String>,
    /// Every variable the job gets except `CDL_RUN_ID` and `CDL_ARTIFACT_*`, which are known
    /// only at run time.
    pub env: IndexMap<String, String>,
    pub secrets: Vec<String>,
    pub timeout_seconds: Option<u64>,
    /// Where `timeout_seconds` comes from: the job's own `timeout`, or its kind's default.
    pub timeout_from: Option<TimeoutFrom>,
    pub retries: u32,
    pub allow_failure: bool,
    pub condition: Option<Condition>,
    /// The environment deployed to or tested.
    pub environment: Option<String>,
    /// The artifact built (artifact jobs) or deployed (deploys).
    pub artifact: Option<String>,
    /// Artifacts the job receives as `CDL_ARTIFACT_<NAME>`: the one deployed, and `uses`.
    pub inputs: Vec<String>,
    /// Paths or globs an artifact job produces.
    pub outputs: Vec<String>,
    pub kind: Option<String>,
    pub approvers: Vec<String>,
    /// Distinct approvals a gate needs.
    pub required: Option<u32>,
    pub message: Option<String>,
    pub matrix: IndexMap<String, String>,
    pub image: Option<String>,
    pub runner: Option<String>,
    pub doc: Option<String>,
    pub span: SourceSpan,
    // ---- v2 steps and shells (i13b)
    /// `name = "…"`: the job's display name (absent: none written).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// The shell of the job's steps: the job's `shell`, else the pipeline's (absent: `sh`,
    /// and `bash` on a Windows runner in exports).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shell: Option<Shell>,
    /// `step NAME { … }` blocks, in order; the job's `run` (`steps`) runs after them, each
    /// entry a step named `run` (absent: none written).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub step_blocks: Vec<Step>,
    // v2 i13i: values passed to later jobs
    /// `values = [NAME, …]`: what the job may append to `$CDL_VALUES` (absent: none).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<String>,
    // ---- v2 reports and kept files (i13h)
    /// `reports { … }`: JUnit files, Cobertura coverage, Code Climate code quality and the
    /// coverage regex over the log (absent: none written).
    #[serde(default, skip_serializing_if = "Reports::is_empty")]
    pub reports: Reports,
    /// `keep = [...]`: paths or globs kept with the run when the job ends (absent: none).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub keep: Vec<String>,
    /// `retention = 14d`: how many days exports keep the reports and kept files (absent:
    /// the target's default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retention_days: Option<u32>,
    // v2 i14a: platform settings
    /// The CI token's permissions in this job: its own, else the pipeline's, with
    /// `id_token = write` added by `oidc` (absent: `contents = read`; none for a gate).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permissions: Option<Permissions>,
    /// `oidc { audience }`: the job gets an OIDC token in `CDL_OIDC_TOKEN`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oidc: Option<Oidc>,
    /// `registry = true`: the job gets the CI system's container registry in
    /// `CDL_REGISTRY`, `CDL_REGISTRY_IMAGE`, `CDL_REGISTRY_USER`, `CDL_REGISTRY_PASSWORD`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub registry: bool,
    /// How the repository is checked out: the job's `checkout`, else the pipeline's (absent:
    /// the target's default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checkout: Option<Checkout>,
    // ---- v2 i13f: jobs that run after a failure, jobs started by hand
    /// `runs = …`: when the job runs given how the jobs it waits for ended (absent:
    /// `on_success`).
    #[serde(default, skip_serializing_if = "Runs::is_default")]
    pub runs: Runs,
    /// `start = manual`: the job runs only when a person starts it (`cdl run --start JOB`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub manual: bool,
    /// `auto_when = COND` of a manual job: it starts by itself when COND holds, and waits for
    /// a person otherwise (absent: it always waits).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_when: Option<Condition>,
    // v2 i14d: services
    /// `service NAME { … }` blocks, in order: containers started before the job and stopped
    /// after it (absent: none).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub services: Vec<Service>,
    // v2 i13j: composed values
    /// Variables whose value reads references (`"app:" + sha`), computed when the job runs
    /// from the variables of its `env` and run context; each is absent from `env`.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub env_values: IndexMap<String, Value>,
    /// A composed `image` that reads references (`image` is then absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_value: Option<Value>,
    /// `runner = [...]`: every label the machine must have, `runner` being the first (absent:
    /// one label, or none).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub runner_labels: Vec<String>,
    /// A composed `runner` that reads references (`runner` is then absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runner_value: Option<Value>,
    /// `keep_when`: the reports and kept files are kept only when the job failed
    /// (`on_failure`) or passed (`on_success`) (absent: whatever its result).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keep_when: Option<Runs>,
    /// `entrypoint`: the command that replaces the image's entrypoint (`[""]`: none) (absent:
    /// the image's own).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entrypoint: Option<Vec<String>>,
    /// `pages`: the folder the job publishes as the project's static site, relative to the
    /// working folder; `keep` holds it too (absent: none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pages: Option<String>,
    /// A matrix's `max_parallel`: at most this many instances of the job (the jobs of its
    /// name) run at once (absent: no limit).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_parallel: Option<u32>,
    // v2 i13k: matrix artifacts
    /// `optional_outputs`: outputs an artifact job may lack (absent: none).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub optional_outputs: Vec<String>,
    /// An instance of a matrix artifact: its folder under `CDL_ARTIFACT_<NAME>` (absent: not
    /// an instance of a matrix artifact).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact_folder: Option<String>,
    // v2 i14c: caches
    /// `cache NAME { … }` blocks, in order: restored before the first step, saved after
    /// success per `policy` (absent: none).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub caches: Vec<Cache>,
    // Review environments
    /// `environment { … }`: the review environment the job makes, or, on the job its `stop`
    /// names, the one that job tears down (absent: none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub review: Option<ReviewEnvironment>,
    // Downstream pipelines
    /// `trigger { … }`: the other project's pipeline the job starts; its `steps` are the
    /// fallback run where that cannot be done (absent: none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trigger: Option<DownstreamTrigger>,
}

/// A downstream pipeline a job starts (`trigger { project  branch  wait }`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DownstreamTrigger {
    /// The project's path, as parts (a `var.NAME` reference, or literal text).
    pub project: Value,
    /// The branch of that project (absent: its default branch).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub branch: Option<String>,
    /// `true`: the job waits for the downstream pipeline and takes its result.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub wait: bool,
    /// Where the `trigger { … }` block is written.
    pub span: SourceSpan,
}

/// A review environment made per branch (`environment { name  url  stop }` in a job): no
/// policy, its name and url computed from the run context. The job gets them as
/// `CDL_ENV_NAME` and `CDL_ENV_URL` (in `env`, or `env_values` when they read references).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReviewEnvironment {
    /// The name's parts (`"review/"`, `branch`).
    pub name: Value,
    /// The url's parts (absent: none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<Value>,
    /// On the job making it: the id of the job that stops it (absent: none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop: Option<String>,
    /// On the stop job: the id of the job whose environment it stops (absent: it makes it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stops: Option<String>,
    /// Where the `environment { … }` block is written.
    pub span: SourceSpan,
}

impl Job {
    /// Every step of the job in the order they run: its step blocks, then each entry of its
    /// `run` as a step named `run`.
    pub fn all_steps(&self) -> Vec<Step> {
        let mut steps = self.step_blocks.clone();
        steps.extend(self.steps.iter().map(|command| Step {
            name: "run".into(),
            display_name: None,
            run: command.clone(),
            shell: None,
            env: IndexMap::new(),
            secrets: Vec::new(),
            timeout_seconds: None,
            allow_failure: false,
            runs: Runs::OnSuccess,
            when: None,
            native: Default::default(),
            env_values: IndexMap::new(),
        }));
        steps
    }

    /// The shell a step runs in where the runner does not matter (`cdl run`): its own, the
    /// job's, else `sh`.
    pub fn step_shell(&self, step: &Step) -> Shell {
        step.shell.or(self.shell).unwrap_or(Shell::Sh)
    }

    /// The shell a step runs in on the job's runner in an export: never `sh` on a Windows
    /// runner, which has none (`bash` there, Git Bash on GitHub's Windows images).
    pub fn export_shell(&self, step: &Step) -> Shell {
        let windows = Shell::default_for(self.runner.as_deref());
        match step.shell.or(self.shell) {
            Some(Shell::Sh) | None => windows,
            Some(shell) => shell,
        }
    }

    /// Whether the job uses v2 steps or shells, which exports run with the step runner.
    pub fn has_step_blocks(&self) -> bool {
        !self.step_blocks.is_empty() || self.shell.is_some() || !self.values.is_empty()
    }
}

/// Who set a job's timeout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TimeoutFrom {
    /// The job's own `timeout`.
    Job,
    /// The default of the test's kind (`jobs[].kind`).
    Kind,
}

impl Job {
    /// Why a job that ran out of time failed, saying where a timeout nobody wrote came from:
    ///
    /// ```
    /// # let mut job: cdl::plan::Job = serde_json::from_value(serde_json::json!({
    /// #   "id": "unit", "name": "unit", "type": "test", "stage": "build", "needs": [],
    /// #   "need_reasons": [], "steps": [], "env": {}, "secrets": [], "timeout_seconds": 900,
    /// #   "timeout_from": "kind", "retries": 0, "allow_failure": false, "condition": null,
    /// #   "environment": null, "artifact": null, "inputs": [], "outputs": [], "kind": "unit",
    /// #   "approvers": [], "required": null, "message": null, "matrix": {}, "image": null,
    /// #   "runner": null, "doc": null,
    /// #   "span": {"file": "a.cdl", "start": 0, "end": 0, "line": 1, "column": 1}
    /// # })).unwrap();
    /// assert_eq!(
    ///     job.timeout_reason(),
    ///     "timed out after 15m, the default of kind `unit`; set `timeout` on the test"
    /// );
    /// job.timeout_from = Some(cdl::plan::TimeoutFrom::Job);
    /// assert_eq!(job.timeout_reason(), "timed out after 15m");
    /// ```
    pub fn timeout_reason(&self) -> String {
        let after = crate::syntax::literal::format_duration(self.timeout_seconds.unwrap_or(0));
        match (self.timeout_from, &self.kind) {
            (Some(TimeoutFrom::Kind), Some(kind)) => format!(
                "timed out after {after}, the default of kind `{kind}`; set `timeout` on the test"
            ),
            _ => format!("timed out after {after}"),
        }
    }
}

/// Where a job was declared: file, byte range, and 1-based line and column.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceSpan {
    pub file: String,
    pub start: u32,
    pub end: u32,
    pub line: usize,
    pub column: usize,
}

impl Job {
    /// Whether the job waits for a person in a run in `context`: `start = manual`, unless its
    /// `auto_when` holds there.
    pub fn waits_for_a_person(&self, context: &RunContext) -> bool {
        self.manual && !self.auto_when.as_ref().is_some_and(|c| c.evaluate(context))
    }
}

impl Plan {
    pub fn job(&self, id: &str) -> Option<&Job> {
        self.jobs.iter().find(|j| j.id == id)
    }

    /// The ids of the jobs a run in `context` skips: those whose condition is false, and those
    /// that name a skipped job among their needs (jobs are in topological order).
    pub fn skipped(&self, context: &RunContext) -> Vec<&str> {
        self.skipped_starting(context, &[])
    }

    /// [`Plan::skipped`] when a person starts the manual jobs named in `started` (ids or
    /// names): a manual job nobody started is skipped, and its skip, like a condition's,
    /// reaches the jobs that need it, except those that run after a failure or always (v2 §6).
    pub fn skipped_starting(&self, context: &RunContext, started: &[String]) -> Vec<&str> {
        let mut skipped: std::collections::HashSet<&str> = std::collections::HashSet::new();
        let mut order = Vec::new();
        for job in &self.jobs {
            let own = job.condition.as_ref().is_some_and(|c| !c.evaluate(context))
                || (job.waits_for_a_person(context)
                    && !started.iter().any(|s| *s == job.id || *s == job.name));
            let with_need = job.runs == Runs::OnSuccess
                && job.needs.iter().any(|n| skipped.contains(n.as_str()));
            if own || with_need {
                skipped.insert(job.id.as_str());
                order.push(job.id.as_str());
            }
        }
        order
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a plan always serialises")
    }
}

impl Plan {
    /// Whether `person` may decide a gate with these approvers: named directly, or a member of
    /// a team named as `@TEAM`. Empty names never match.
    pub fn may_approve(&self, approvers: &[String], person: &str) -> bool {
        !person.trim().is_empty()
            && approvers
                .iter()
                .any(|approver| match approver.strip_prefix('@') {
                    Some(team) => self
                        .teams
                        .iter()
                        .any(|t| t.name == team && t.members.iter().any(|m| m == person)),
                    None => approver == person,
                })
    }
}
