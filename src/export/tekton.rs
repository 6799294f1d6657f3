//! Tekton: one multi-document file with a `Pipeline` and one `Task` per job (the instances
//! of a matrix job share theirs). Every pipeline task runs after its explicit needs and the
//! jobs of the latest earlier stage; Tekton runs a task after a skipped one, as cdl does.
//! Each task checks the repository out into its own `/workspace/source`; artifacts pass
//! through the shared workspace `artifacts`. Gates are openshift-pipelines'
//! `ApprovalTask` custom task. Conditions are `when` expressions on the pipeline's
//! parameters where those can say them, else the result of a first task, `cdl-conditions`.

mod conditions;
// v2 i13m: inputs as Pipeline parameters.
mod inputs;
mod model;
mod substitution;
// v2 i13m: values passed between jobs through the workspace.
mod values;

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

use indexmap::IndexMap;
use model::*;

use super::jobs::{self, Unit};
use super::kubernetes::{self, Dialect, EnvVar, Names, Script, matrix_parameter};
use super::{Export, Exporter, Lossy, shell};
use crate::plan::Condition;
use crate::plan::JobType;
use crate::plan::{Job, Plan};

/// v2 i13f: the jobs of language v2 §6 this target keeps natively.
const AFTER_FAILURE: super::after_failure::Support = super::after_failure::Support::NONE;

pub struct Tekton;

const API_VERSION: &str = "tekton.dev/v1";
const APPROVAL_API_VERSION: &str = "openshift-pipelines.org/v1alpha1";
const APPROVAL_KIND: &str = "ApprovalTask";
/// The ApprovalTask's timeout for a gate without one: it would otherwise reject after an hour.
const UNLIMITED_APPROVAL: &str = "8760h";
const CONDITIONS: &str = "cdl-conditions";
const WORKSPACE: &str = "artifacts";
/// Where each task checks the repository out (Tekton shares `/workspace` between steps).
const SOURCE: &str = "/workspace/source";

const CHECKOUT_SCRIPT: &str = r#"#!/bin/sh
set -e
git clone --quiet -- "$CDL_REPO" /workspace/source
cd /workspace/source
if [ -n "$CDL_REVISION" ]; then
  git checkout --quiet --detach "$CDL_REVISION" 2>/dev/null ||
    git checkout --quiet --detach "origin/$CDL_REVISION"
fi
"#;

impl Exporter for Tekton {
    fn name(&self) -> &'static str {
        "tekton"
    }

    fn default_path(&self, plan: &Plan) -> PathBuf {
        PathBuf::from(".tekton").join(format!("{}.yaml", plan.pipeline.name))
    }

    fn export(&self, plan: &Plan) -> Export {
        // v2 i13j: composed values' parts as the jobs' variables (export/value.rs)
        let prepared = super::value::prepare(plan);
        let plan: &Plan = &prepared;
        // v2 i13d: vars fixed to their defaults (W0200); i13m: inputs are Pipeline
        // parameters (`tekton/inputs.rs`).
        let (plan, fixed) = super::inputs::fixed(
            plan,
            "Tekton",
            super::inputs::Fixed {
                inputs: false,
                vars: true,
                secrets: true,
                default_branch: true,
            },
        );
        // v2 i14b: `changed()` cannot be decided on Tekton: everything changed (W0200).
        let (plan, changed) = super::changed::everything_changed(
            plan.as_ref(),
            "Tekton",
            super::changed::EVERYTHING_HELP,
        );
        let fixed: Vec<_> = fixed.into_iter().chain(changed).collect();
        let plan = plan.as_ref();
        let mut builder = Builder::new(plan);
        builder.lossy.extend(fixed);
        builder.lossy.extend(inputs::lossy(plan));
        let content = builder.documents();
        // v2 i14a: Tekton's checkout step clones the whole history, and nothing else.
        builder.lossy.extend(super::platform::lossy(
            plan,
            &super::platform::Coverage {
                system: "Tekton",
                checkout: super::platform::CheckoutSupport {
                    full_history: true,
                    ..Default::default()
                },
                oidc: false,
                concurrency: false,
                paths: false,
                permissions_instead: "Tekton has no repository token per task; give the tasks that need one a credential as a secret",
                concurrency_instead: "cancel the older PipelineRun of the group yourself (`tkn pipelinerun cancel`), or let the trigger do it",
            },
        ));
        Export::assemble(self.default_path(plan), content, None, builder.lossy)
    }
}

/// Tekton reads `$(params.x)`, `$(context.taskRun.name)` … as its variables.
const DIALECT: Dialect = Dialect {
    system: "Tekton",
    opener: "$(",
    substitutes,
    matrix_value: |axis| format!("$(params.{})", matrix_parameter(axis)),
};

/// Text Tekton would read as one of its variables: `$(` and a name followed by `.` or `[`;
/// a shell's `$(command …)` is left alone.
fn substitutes(text: &str) -> bool {
    text.match_indices("$(").any(|(at, _)| {
        let rest = &text[at + 2..];
        let name = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
            .unwrap_or(rest.len());
        name > 0 && rest[name..].starts_with(['.', '['])
    })
}

/// How a job's condition reaches its pipeline task.
enum Guard {
    Always,
    When(Vec<WhenExpression>),
    /// The result of the conditions task named so.
    Result(String),
}

struct Builder<'p> {
    plan: &'p Plan,
    /// Job id → its pipeline task.
    tasks: HashMap<&'p str, String>,
    guards: HashMap<&'p str, Guard>,
    /// The jobs whose effective condition the conditions task evaluates, with it.
    evaluated: Vec<(&'p Job, Condition)>,
    objects: Names,
    working_directory: String,
    lossy: Vec<Lossy>,
}

impl<'p> Builder<'p> {
    fn new(plan: &'p Plan) -> Builder<'p> {
        let mut lossy = Vec::new();
        // v2 i13f: what the target keeps of `runs` and `start`
        lossy.extend(super::after_failure::losses(plan, "Tekton", AFTER_FAILURE));
        let working_directory = kubernetes::working_directory(plan, SOURCE, DIALECT, &mut lossy);
        lossy.extend(kubernetes::triggers(
            plan,
            "Tekton",
            "start runs from Tekton Triggers (or Pipelines as Code) with the parameters repo, revision, branch, tag and event, and with `timeouts.pipeline: \"0\"`; see docs/export.md",
        ));
        kubernetes::runners(plan, &mut lossy);
        lossy.extend(super::matrix_limit::lost(&plan.jobs, "Tekton"));
        lossy.extend(super::pages::lost(plan, "Tekton"));
        lossy.extend(super::entrypoint::lost_all(plan, "Tekton", true));
        let effective = super::after_failure::effective(plan, AFTER_FAILURE);
        let native: HashMap<&str, Option<Vec<WhenExpression>>> = plan
            .jobs
            .iter()
            .map(|job| {
                let condition = &effective[job.id.as_str()];
                (job.id.as_str(), conditions::native(condition))
            })
            .collect();
        let mut task_names = Names::default();
        if native.values().any(Option::is_none) {
            task_names.claim(CONDITIONS);
        }
        let tasks: HashMap<&str, String> = plan
            .jobs
            .iter()
            .map(|job| (job.id.as_str(), task_names.claim(&job.id)))
            .collect();
        let mut guards = HashMap::new();
        let mut evaluated = Vec::new();
        for job in &plan.jobs {
            let guard = match &native[job.id.as_str()] {
                Some(when) if when.is_empty() => Guard::Always,
                Some(when) => Guard::When(when.clone()),
                None => {
                    evaluated.push((job, effective[job.id.as_str()].clone()));
                    Guard::Result(tasks[job.id.as_str()].clone())
                }
            };
            guards.insert(job.id.as_str(), guard);
        }
        Builder {
            plan,
            tasks,
            guards,
            evaluated,
            objects: Names::default(),
            working_directory,
            lossy,
        }
    }

    fn object_name(&mut self, name: &str) -> String {
        self.objects
            .claim(&format!("{}-{name}", self.plan.pipeline.name))
    }

    /// The Pipeline, then the Tasks, as one YAML stream.
    fn documents(&mut self) -> String {
        let pipeline_name = kubernetes::label(&self.plan.pipeline.name, kubernetes::MAX_NAME);
        self.objects.claim(&pipeline_name);
        let used = self.used_parameters();
        let mut pipeline = PipelineSpec {
            params: kubernetes::RUN_PARAMETERS
                .iter()
                .filter(|(name, _, _)| used.contains(name))
                .map(|(name, default, description)| ParamSpec {
                    default: default.map(str::to_string),
                    ..ParamSpec::string(*name, Some(description.to_string()))
                })
                .chain(inputs::pipeline_params(self.plan))
                .collect(),
            ..PipelineSpec::default()
        };
        if !self.plan.artifacts.is_empty() || values::any(self.plan) {
            pipeline.workspaces.push(WorkspaceDeclaration {
                name: WORKSPACE.into(),
                description: "where jobs store the artifacts they build, one folder per run (a PersistentVolumeClaim shared by the tasks)".into(),
            });
        }
        let mut tasks: Vec<String> = Vec::new();
        if let Some((task, definition)) = self.conditions_task() {
            pipeline.tasks.push(task);
            tasks.push(definition);
        }
        for unit in kubernetes::units(self.plan, DIALECT) {
            if unit.job().job_type == JobType::Gate {
                pipeline.tasks.push(self.gate(unit.job()));
                continue;
            }
            let name = self.object_name(unit.id());
            tasks.push(super::to_yaml(&Document {
                api_version: API_VERSION,
                kind: "Task",
                metadata: Metadata { name: name.clone() },
                spec: self.task(&unit),
            }));
            for job in &unit.jobs {
                pipeline.tasks.push(self.pipeline_task(job, &unit, &name));
            }
        }
        self.failures();
        self.concurrency();
        let mut documents = vec![super::to_yaml(&Document {
            api_version: API_VERSION,
            kind: "Pipeline",
            metadata: Metadata {
                name: pipeline_name,
            },
            spec: pipeline,
        })];
        documents.extend(tasks);
        documents.join("---\n")
    }

    /// `repo`, `revision`, and those of `branch`, `tag` and `event` that a condition reads
    /// (a run may pass the others; Tekton ignores them).
    fn used_parameters(&self) -> HashSet<&'static str> {
        // Every job's task reads `branch`, `tag` and `event` for its run context.
        let mut used = HashSet::from(["repo", "revision", "branch", "tag", "event"]);
        for job in &self.plan.jobs {
            match &self.guards[job.id.as_str()] {
                Guard::Always => {}
                Guard::When(when) => {
                    for expression in when {
                        for variable in ["branch", "tag", "event"] {
                            if expression.input == format!("$(params.{variable})") {
                                used.insert(variable);
                            }
                        }
                    }
                }
                Guard::Result(_) => used.extend(["branch", "tag", "event"]),
            }
        }
        used
    }

    /// The pipeline task of a job: ordering, condition, parameters, retries and timeout.
    fn pipeline_task(&self, job: &'p Job, unit: &Unit<'p>, task: &str) -> PipelineTask {
        let mut params = vec![
            Param::string("repo", "$(params.repo)"),
            Param::string("revision", "$(params.revision)"),
            Param::string("run-id", "$(context.pipelineRun.name)"),
            Param::string("branch", "$(params.branch)"),
            Param::string("tag", "$(params.tag)"),
            Param::string("event", "$(params.event)"),
        ];
        if unit.is_matrix() {
            params.extend(
                job.matrix
                    .iter()
                    .map(|(axis, value)| Param::string(matrix_parameter(axis), value.clone())),
            );
        }
        params.extend(inputs::task_arguments(self.plan));
        let mut pipeline_task = PipelineTask {
            name: self.tasks[job.id.as_str()].clone(),
            task_ref: TaskRef {
                name: Some(task.to_string()),
                ..TaskRef::default()
            },
            run_after: self.run_after(job),
            when: self.when(job),
            params,
            ..PipelineTask::default()
        };
        if uses_workspace(job) || values::uses_workspace(self.plan, job) {
            pipeline_task.workspaces.push(WorkspaceBinding {
                name: WORKSPACE.into(),
                workspace: WORKSPACE.into(),
            });
        }
        if !job.allow_failure {
            pipeline_task.retries = (job.retries > 0).then_some(job.retries);
            pipeline_task.timeout = job.timeout_seconds.map(kubernetes::go_duration);
        }
        pipeline_task
    }

    fn run_after(&self, job: &Job) -> Vec<String> {
        let stage_jobs = jobs::previous_stage_jobs(self.plan, &job.stage);
        jobs::needs_then(job, stage_jobs, |id| &self.tasks[id])
    }

    fn when(&self, job: &Job) -> Vec<WhenExpression> {
        match &self.guards[job.id.as_str()] {
            Guard::Always => Vec::new(),
            Guard::When(when) => when.clone(),
            Guard::Result(result) => vec![WhenExpression {
                input: format!("$(tasks.{CONDITIONS}.results.{result})"),
                operator: "in",
                values: vec!["true".into()],
            }],
        }
    }

    /// The Task of a job, or of all instances of a folded matrix job.
    fn task(&mut self, unit: &Unit<'p>) -> TaskSpec {
        let job = unit.job();
        let mut params = vec![
            ParamSpec::string("repo", None),
            ParamSpec::string("revision", None),
            ParamSpec::string("run-id", None),
            ParamSpec::string("branch", None),
            ParamSpec::string("tag", None),
            ParamSpec::string("event", None),
        ];
        params.extend(
            unit.axes
                .iter()
                .map(|(axis, _)| ParamSpec::string(matrix_parameter(axis), None)),
        );
        params.extend(inputs::task_params(self.plan));
        let mut spec = TaskSpec {
            params,
            ..TaskSpec::default()
        };
        if uses_workspace(job) || values::uses_workspace(self.plan, job) {
            spec.workspaces.push(WorkspaceDeclaration {
                name: WORKSPACE.into(),
                description: "the pipeline's artifacts".into(),
            });
        }
        spec.steps.push(Step {
            name: "checkout".into(),
            image: kubernetes::GIT_IMAGE.into(),
            working_dir: None,
            env: vec![
                EnvVar::value("CDL_REPO", "$(params.repo)"),
                EnvVar::value("CDL_REVISION", "$(params.revision)"),
            ],
            timeout: None,
            on_error: None,
            script: CHECKOUT_SCRIPT.into(),
        });
        let artifacts = format!("$(workspaces.{WORKSPACE}.path)/$(params.run-id)");
        let mut script = Script::new(DIALECT);
        script.job_variables(unit);
        script.own("CDL_RUN_ID", "$(params.run-id)");
        script.context(self.plan, &CONTEXT, |p| format!("$(params.{p})"));
        inputs::env(self.plan, &mut script);
        // v2 i13j: composed values (export/value.rs).
        script.compose(job);
        self.lossy
            .extend(super::value::unsupported(self.plan, job, "Tekton"));
        self.lossy.extend(super::review::unsupported(job, "Tekton"));
        self.lossy
            .extend(super::trigger::unsupported(job, "Tekton"));
        self.lossy
            .extend(super::context::missing_in(self.plan, job, &CONTEXT));
        self.lossy.extend(script.steps(job));
        // v2 i13m: values through the workspace (`tekton/values.rs`).
        values::script(self.plan, job, &artifacts, &mut script);
        self.lossy
            .extend(super::steps::display_name_lost(job, "Tekton"));
        // v2 reports and kept files (i13h): no place for them in a workflow's files.
        self.lossy.extend(super::reports::not_kept(job, "Tekton"));
        // v2 i14c: caches
        self.lossy.extend(super::cache::not_cached(
            job,
            "Tekton",
            "keep the cached folders in a workspace backed by a persistent volume claim",
        ));
        if !job.inputs.is_empty() {
            script.own("CDL_ARTIFACTS_DIR", artifacts.clone());
            script.locate_inputs(job);
        }
        let image = DIALECT.image(job, &mut self.lossy).to_string();
        let (body, timeout) = if job.allow_failure {
            self.allowed_failure(job, &mut script)
        } else {
            (Script::commands(job), None)
        };
        // v2 i14d: services as sidecars, reached at `localhost`.
        spec.sidecars = super::services::sidecars(job, &DIALECT, &mut self.lossy);
        for (name, value) in
            super::services::variables(job, |_| "localhost".to_string(), |_, port| port.to_string())
        {
            script.own(&name, value);
        }
        self.lossy.extend(script.findings(job));
        let on_error = job.allow_failure.then_some("continue");
        spec.steps.push(Step {
            name: "run".into(),
            image: image.clone(),
            working_dir: Some(self.working_directory.clone()),
            env: script.env_vars(self.plan, &job.secrets),
            timeout,
            on_error,
            script: format!("#!/bin/sh\n{}{body}", script.prelude()),
        });
        if job.job_type == JobType::Artifact
            && let Some(artifact) = &job.artifact
        {
            let mut collect = Script::new(DIALECT);
            // v2 i13k: an instance of a matrix artifact collects into its folder.
            let part = super::matrix_artifacts::store_part(job, artifact);
            collect.own("CDL_ARTIFACT_STORE", format!("{artifacts}/{part}"));
            self.lossy.extend(collect.outputs(job));
            self.lossy.extend(collect.findings(job));
            spec.steps.push(Step {
                name: "store-artifact".into(),
                image,
                working_dir: Some(self.working_directory.clone()),
                env: collect.env_vars(self.plan, &[]),
                timeout: None,
                on_error,
                script: format!(
                    "#!/bin/sh\n{}{}",
                    collect.prelude(),
                    shell::collect_artifact(job)
                ),
            });
        }
        spec
    }

    /// A job with `allow_failure`: its step continues on error, so the task succeeds; retries
    /// and the timeout move into the step, which Tekton would otherwise not apply.
    fn allowed_failure(&mut self, job: &Job, script: &mut Script) -> (String, Option<String>) {
        let timeout = job
            .timeout_seconds
            .map(|s| kubernetes::go_duration(s * (u64::from(job.retries) + 1)));
        if job.retries == 0 {
            return (Script::commands(job), timeout);
        }
        script.retry(job);
        if job.timeout_seconds.is_some() {
            self.lossy.push(Lossy::at(
                job,
                format!(
                    "Tekton cannot retry a step, so the {} attempts of this job that may fail run in one step, under one timeout",
                    job.retries + 1
                ),
                format!(
                    "the job may run for {} in all; one attempt may take longer than the job's timeout",
                    timeout.as_deref().unwrap_or_default()
                ),
            ));
        }
        if job.has_step_blocks() {
            // The step runner retries within its one step (CDL_ATTEMPTS above).
            return (super::steps::runner(job).into_owned(), timeout);
        }
        (shell::RETRY_LOOP.to_string(), timeout)
    }

    /// A gate: openshift-pipelines' ApprovalTask, which needs its controller installed.
    fn gate(&mut self, job: &'p Job) -> PipelineTask {
        // Tekton substitutes `$(params.…)` in a custom task's params: whoever starts the run
        // would pick the approver. Such an approver is left out (fewer may approve, never
        // others).
        let (substituted, approvers): (Vec<&String>, Vec<&String>) =
            job.approvers.iter().partition(|a| substitutes(a));
        for approver in substituted {
            self.lossy.push(Lossy::at(
                job,
                format!("the approver `{approver}` contains `$(`, which Tekton reads as a variable: whoever starts the run would choose who approves"),
                "the approver is left out of the ApprovalTask; name approvers without `$(`",
            ));
        }
        let mut params = vec![
            Param {
                name: "approvers".into(),
                value: ParamValue::Array(approvers.into_iter().cloned().collect()),
            },
            Param::string(
                "numberOfApprovalsRequired",
                job.required.unwrap_or(1).to_string(),
            ),
        ];
        if let Some(message) = &job.message {
            let mut description = message.clone();
            if substitutes(message) {
                self.lossy.push(Lossy::at(
                    job,
                    "the gate's message contains `$(`, which Tekton reads as a variable",
                    "the message is shown with `$(` written as `$ (`",
                ));
                description = kubernetes::defuse(&description, "$(");
            }
            params.push(Param::string("description", description));
        }
        let timeout = match job.timeout_seconds {
            Some(seconds) => kubernetes::go_duration(seconds),
            None => {
                self.lossy.push(Lossy::at(
                    job,
                    "the gate has no timeout, but an ApprovalTask rejects after one hour unless given one",
                    format!("the ApprovalTask waits {UNLIMITED_APPROVAL} (a year); write a `timeout` to choose"),
                ));
                UNLIMITED_APPROVAL.into()
            }
        };
        params.push(Param::string("timeout", timeout));
        PipelineTask {
            name: self.tasks[job.id.as_str()].clone(),
            task_ref: TaskRef {
                name: None,
                api_version: Some(APPROVAL_API_VERSION),
                kind: Some(APPROVAL_KIND),
            },
            run_after: self.run_after(job),
            when: self.when(job),
            params,
            ..PipelineTask::default()
        }
    }

    /// The task that evaluates the conditions `when` expressions cannot say, and its
    /// pipeline task; `None` when there are none.
    fn conditions_task(&mut self) -> Option<(PipelineTask, String)> {
        if self.evaluated.is_empty() {
            return None;
        }
        let mut values: IndexMap<String, String> = IndexMap::new();
        let mut body = String::new();
        let mut results = Vec::new();
        for (job, condition) in &self.evaluated {
            let result = &self.tasks[job.id.as_str()];
            let test = crate::export::condition::shell::test(condition, &mut values);
            body.push_str(&format!(
                "if {test}; then printf true; else printf false; fi > \"$(results.{result}.path)\"\n"
            ));
            results.push(ResultSpec {
                name: result.clone(),
                kind: "string",
                description: format!("whether the job {} runs: true or false", job.id),
            });
        }
        let mut script = Script::new(DIALECT);
        for variable in ["branch", "tag", "event"] {
            script.own(
                &format!("CDL_{}", variable.to_uppercase()),
                format!("$(params.{variable})"),
            );
        }
        // v2 i13d: `repository` is read from the run's `repo` URL, as jobs read it.
        let reads_repository = self
            .evaluated
            .iter()
            .any(|(_, c)| super::inputs::reads(c, &|v| *v == crate::plan::Variable::Repository));
        let mut parameters: Vec<String> = ["branch", "tag", "event"].map(String::from).into();
        if reads_repository {
            script.own("CDL_RUN_REPO", "$(params.repo)".to_string());
            body.insert_str(0, &format!("CDL_REPOSITORY={}\n", CONTEXT.repository));
            parameters.push("repo".into());
        }
        // v2 i13m: the inputs, when a condition here reads one.
        if self.evaluated.iter().any(|(_, c)| {
            super::inputs::reads(c, &|v| matches!(v, crate::plan::Variable::Input(_)))
        }) {
            inputs::env(self.plan, &mut script);
            parameters.extend(self.plan.inputs.iter().map(|i| inputs::parameter(&i.name)));
        }
        for (text, name) in &values {
            script.text(name, text);
        }
        let name = self.object_name(CONDITIONS);
        let definition = super::to_yaml(&Document {
            api_version: API_VERSION,
            kind: "Task",
            metadata: Metadata { name: name.clone() },
            spec: TaskSpec {
                params: parameters
                    .iter()
                    .map(|p| ParamSpec::string(p.as_str(), None))
                    .collect(),
                results,
                steps: vec![Step {
                    name: "evaluate".into(),
                    image: kubernetes::UTILITY_IMAGE.into(),
                    working_dir: None,
                    env: script.env_vars(self.plan, &[]),
                    timeout: None,
                    on_error: None,
                    script: format!("#!/bin/sh\n{}{body}", script.prelude()),
                }],
                ..TaskSpec::default()
            },
        });
        let task = PipelineTask {
            name: CONDITIONS.into(),
            task_ref: TaskRef {
                name: Some(name),
                ..TaskRef::default()
            },
            params: parameters
                .iter()
                .map(|p| Param::string(p.as_str(), format!("$(params.{p})")))
                .collect(),
            ..PipelineTask::default()
        };
        Some((task, definition))
    }

    /// Tekton schedules no new task once one has failed. A job that waits for a job of its own
    /// stage may therefore be stopped by a failure it does not depend on: a job of its stage
    /// that is not ordered with it and may finish first (it does not wait for all the job
    /// waits for).
    fn failures(&mut self) {
        let plan = self.plan;
        for job in &plan.jobs {
            let in_stage = |id: &&str| plan.job(id).is_some_and(|j| j.stage == job.stage);
            let mine: HashSet<&str> = kubernetes::ancestors(plan, &job.id)
                .into_iter()
                .filter(in_stage)
                .collect();
            if mine.is_empty() {
                continue;
            }
            let first = plan.jobs.iter().find(|other| {
                if other.stage != job.stage
                    || other.id == job.id
                    || other.allow_failure
                    || mine.contains(other.id.as_str())
                {
                    return false;
                }
                let theirs = kubernetes::ancestors(plan, &other.id);
                !theirs.contains(job.id.as_str()) && !mine.is_subset(&theirs)
            });
            if let Some(other) = first {
                self.lossy.push(Lossy::at(
                    job,
                    format!("Tekton starts no task once another has failed: if `{}` fails before this job starts, this job does not run, though it does not depend on it", other.id),
                    "cdl would still run it; give the jobs of the stage the same `after` to start them together",
                ));
            }
        }
    }

    /// Tekton has no way to limit concurrent deploys to an environment.
    fn concurrency(&mut self) {
        for environment in &self.plan.environments {
            let Some(limit) = environment.concurrency else {
                continue;
            };
            let first = self.plan.jobs.iter().find(|j| {
                j.job_type == JobType::Deploy && j.environment.as_ref() == Some(&environment.name)
            });
            if let Some(job) = first {
                self.lossy.push(Lossy::at(
                    job,
                    format!("Tekton cannot limit the deploys to `{}` to {limit} at a time", environment.name),
                    "deploys of concurrent runs may overlap; start runs one at a time (for example with Pipelines as Code's concurrency_limit)",
                ));
            }
        }
    }
}

/// Whether a job builds or receives an artifact, through the shared workspace.
fn uses_workspace(job: &Job) -> bool {
    job.job_type == JobType::Artifact || !job.inputs.is_empty()
}

/// The run context from the run's parameters (`kubernetes::context_sources`).
const CONTEXT: super::context::Sources = kubernetes::context_sources("Tekton");

#[cfg(test)]
mod tests {
    use super::*;

    fn exported(text: &str) -> Export {
        let compilation = crate::compile::compile_text("p.cdl", None, text.into());
        assert!(
            compilation.diagnostics.is_empty(),
            "{:?}",
            compilation.diagnostics
        );
        Tekton.export(&crate::plan::build(&compilation).unwrap())
    }

    fn messages(export: &Export) -> Vec<&str> {
        export.lossy.iter().map(|l| l.message.as_str()).collect()
    }

    #[test]
    fn a_failure_the_job_does_not_depend_on_may_stop_it() {
        let export = exported(
            r#"pipeline p { stage s {
                 job fast { run = "false" }
                 job slow { run = "sleep 9" }
                 job next { run = "true"; after = [slow] }
                 job also { run = "true"; after = [slow] }
               } }"#,
        );
        assert_eq!(
            messages(&export),
            ["Tekton starts no task once another has failed: if `fast` fails before this job starts, this job does not run, though it does not depend on it";
                2]
        );
        let chained = exported(
            r#"pipeline p { stage s {
                 job a { run = "true" }
                 job b { run = "true"; after = [a] }
                 job c { run = "true"; after = [a] }
               } }"#,
        );
        assert!(chained.lossy.is_empty());
    }

    #[test]
    fn an_allowed_failure_continues_and_retries_in_its_step() {
        let export = exported(
            r#"pipeline p { stage s {
                 job flaky { run = "make"; allow_failure = true; retries = 2; timeout = 1m }
               } }"#,
        );
        let content = &export.files[0].content;
        assert!(
            content.contains("    timeout: 3m\n    onError: continue\n"),
            "{content}"
        );
        assert!(
            content.contains("CDL_ATTEMPTS\n      value: \"3\""),
            "{content}"
        );
        assert!(!content.contains("retries:"), "{content}");
        assert_eq!(
            messages(&export),
            [
                "Tekton cannot retry a step, so the 3 attempts of this job that may fail run in one step, under one timeout"
            ]
        );
    }

    #[test]
    fn tekton_variables_in_the_pipeline_file_reach_the_commands_encoded() {
        let export = exported(
            r#"pipeline p { stage s {
                 job j { run = "echo $(params.x)"; env { X = "$(context.taskRun.name)" } }
               } }"#,
        );
        let content = &export.files[0].content;
        assert!(!content.contains("$(params.x)"), "{content}");
        assert!(!content.contains("$(context.taskRun"), "{content}");
        assert!(content.contains("cdl_decode X\n"), "{content}");
        assert!(content.contains("cdl_decode CDL_STEP_1\n"), "{content}");
    }

    /// Issue 10: `$(params.…)` in `when` values and in approvers was substituted by Tekton.
    #[test]
    fn tekton_when_values_and_approvers_are_not_substituted() {
        let export = exported(
            r#"pipeline p {
                 stage s {
                   job j { run = "true"; when = branch == "$(params.event)" }
                   gate g { approvers = ["$(params.approver)", "alice"] }
                 }
               }"#,
        );
        let content = &export.files[0].content;
        assert!(!content.contains("- $(params.event)"), "{content}");
        assert!(!content.contains("$(params.approver)"), "{content}");
        assert!(content.contains("- alice"), "{content}");
        assert!(
            messages(&export)
                .iter()
                .any(|m| m.contains("the approver `$(params.approver)`")),
            "{:?}",
            messages(&export)
        );
        // The value reaches the conditions task encoded.
        let encoded = kubernetes::base64(b"$(params.event)");
        assert!(content.contains(&encoded), "{content}");
    }

    /// The hostile pipeline of `testdata/`: every command and variable reaches its container
    /// exactly, through Tekton's substitution and the kubelet's expansion; no approver and no
    /// `when` value is substituted.
    #[test]
    fn tekton_hostile_text_reaches_the_containers_exactly() {
        let compilation = crate::compile::compile_text(
            "hostile.cdl",
            None,
            include_str!("testdata/hostile.cdl").into(),
        );
        let plan = crate::plan::build(&compilation).unwrap();
        let mut builder = Builder::new(&plan);
        let tasks: Vec<TaskSpec> = kubernetes::units(&plan, DIALECT)
            .iter()
            .filter(|u| u.job().job_type != JobType::Gate)
            .map(|unit| builder.task(unit))
            .collect();
        let containers = kubernetes::containers_see(
            &serde_json::to_value(&tasks).unwrap(),
            substitution::substitute,
        );
        kubernetes::assert_jobs_see_their_text(&plan, &containers);
        let content = &Tekton.export(&plan).files[0].content;
        for line in content.lines().filter(|l| l.trim_start().starts_with("- ")) {
            assert!(!substitutes(line) || line.contains("$(tasks."), "{line}");
        }
    }

    /// Issue 10: an `image` holding a reference was passed raw: the run's parameters chose
    /// the image.
    #[test]
    fn tekton_image_with_a_reference_is_not_written() {
        let export = exported(
            r#"pipeline p { stage s { job j { run = "true"; image = "$(params.image):1" } } }"#,
        );
        let content = &export.files[0].content;
        assert!(!content.contains("$(params.image)"), "{content}");
        assert!(content.contains(kubernetes::DEFAULT_IMAGE), "{content}");
        assert!(
            messages(&export)
                .iter()
                .any(|m| m.contains("the image `$(params.image):1`"))
        );
    }

    #[test]
    fn only_tekton_variables_are_escaped() {
        assert!(substitutes("echo $(params.x)"));
        assert!(substitutes("$(context.taskRun.name)"));
        assert!(substitutes("$(params[\"x\"])"));
        assert!(!substitutes("test \"$(printf '%s' \"$X\")\" = Hello"));
        assert!(!substitutes("$(date) $((1 + 2)) $HOME"));
    }
}
