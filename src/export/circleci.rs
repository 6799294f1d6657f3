//! CircleCI: one `.circleci/config.yml` (version 2.1) with one workflow, and a settings file
//! for the restricted contexts that stand for gates. Each job `requires` its explicit needs
//! and every job of the earlier stages; CircleCI ignores a requirement that its filters left
//! out of the workflow, so a skipped job stops nothing, and skipping along explicit needs is
//! carried by each job's filter, its effective condition. Artifacts travel in the
//! workflow's workspace. Text of the pipeline file is never read as a `<< >>` parameter:
//! `<<` is written `\<<`.

// v2 §9: caches as restore_cache/save_cache (circleci/cache.rs)
mod cache;
mod filters;
mod native;
// v2 i13m: inputs as pipeline parameters.
mod inputs;
mod parameters;

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

/// v2 i13f: the jobs of language v2 §6 this target keeps natively (CircleCI's `requires` with
/// statuses, `- job: terminal`, is refused by the config parser the validators use).
const AFTER_FAILURE: super::after_failure::Support = super::after_failure::Support::NONE;

pub struct CircleCi;

const MAX_MATRIX: usize = 256;
/// Where jobs keep the workspace: artifacts are its folders, one per artifact.
const WORKSPACE: &str = "/tmp/cdl-workspace";
const DEFAULT_IMAGE: &str = "cimg/base:current";
/// Each command as `sh -e` runs it; CircleCI's default shell would be bash with pipefail.
const SHELL: &str = "/bin/sh -e";
/// How long CircleCI keeps a workflow's workspace.
const WORKSPACE_RETENTION_SECONDS: u64 = 15 * 86_400;
/// `no_output_timeout` of a command without a timeout: longer than CircleCI lets a job run,
/// so that its default of 10 minutes without output does not stop it.
const NO_TIMEOUT: &str = "24h";

/// The run context from CircleCI's variables, before each command (its steps share no
/// shell); `CDL_TRIGGER_SOURCE` is the job's variable for `pipeline.trigger_source`. A run started through the API (the app's "Trigger pipeline", as a manual run is)
/// is `manual`, a scheduled pipeline `schedule`; CircleCI does not tell a pull request's build
/// from its branch's, and has no variable for the target branch or the default branch.
const CONTEXT: super::context::Sources = super::context::Sources {
    system: "CircleCI",
    event: r#"case "${CDL_TRIGGER_SOURCE:-}" in
  scheduled_pipeline) CDL_EVENT=schedule ;;
  api) CDL_EVENT=manual ;;
  *) if [ -n "${CIRCLE_TAG:-}" ]; then CDL_EVENT=tag; else CDL_EVENT=push; fi ;;
esac"#,
    branch: r#"$(if [ -z "${CIRCLE_TAG:-}" ]; then printf %s "${CIRCLE_BRANCH:-}"; fi)"#,
    tag: "${CIRCLE_TAG:-}",
    sha: "${CIRCLE_SHA1:-}",
    pr_target: None,
    default_branch: None,
    repository: r#"${CIRCLE_PROJECT_USERNAME:-}${CIRCLE_PROJECT_USERNAME:+/}${CIRCLE_PROJECT_REPONAME:-}"#,
};
/// Refuses to run a job with a timeout in an image without `timeout`, which enforces it.
const TIMEOUT_CHECK: &str = "command -v timeout >/dev/null || { echo \"cdl: the image has no timeout command (coreutils or BusyBox), which enforces the job's timeout\" >&2; exit 127; }\n";
/// The resource classes of the Docker executor.
const RESOURCE_CLASSES: &[&str] = &[
    "small", "medium", "medium+", "large", "xlarge", "2xlarge", "2xlarge+",
];

impl Exporter for CircleCi {
    fn name(&self) -> &'static str {
        "circleci"
    }

    fn default_path(&self, _plan: &Plan) -> PathBuf {
        PathBuf::from(".circleci/config.yml")
    }

    fn export(&self, plan: &Plan) -> Export {
        // v2 i13j: composed values' parts as the jobs' variables (export/value.rs)
        let prepared = super::value::prepare(plan);
        let plan: &Plan = &prepared;
        // v2 i13m: inputs are pipeline parameters (`circleci/inputs.rs`), or fixed to their
        // defaults (i13d, W0200) when a value cannot be written as one.
        let not_native = inputs::not_native(plan);
        let (plan, mut fixed) = super::inputs::fixed(
            plan,
            "CircleCI",
            super::inputs::Fixed {
                inputs: not_native.is_some(),
                vars: false,
                secrets: false,
                default_branch: false,
            },
        );
        let mut plan = plan;
        if let Some(why) = not_native {
            // Fixed: no parameters, and jobs get the defaults as literal variables.
            plan.to_mut().inputs.clear();
            if let Some(first) = fixed.first_mut() {
                first.message = format!("{}: {why}", first.message);
            }
        }
        // v2 i14b: `changed()` cannot be decided on CircleCI: everything changed (W0200).
        let (plan, changed) = super::changed::everything_changed(
            plan.as_ref(),
            "CircleCI",
            super::changed::EVERYTHING_HELP,
        );
        let fixed: Vec<_> = fixed.into_iter().chain(changed).collect();
        let plan = plan.as_ref();
        let mut builder = Builder::new(plan);
        builder.lossy.extend(fixed);
        let config = builder.config();
        builder.lossy.extend(super::platform::permissions_lossy(
            plan,
            "CircleCI",
            "CircleCI jobs have no repository token; give the jobs that need one a token as a secret (a context)",
        ));
        builder
            .lossy
            .extend(super::platform::paths_lossy(plan, "CircleCI"));
        for job in &plan.jobs {
            builder
                .lossy
                .extend(super::platform::registry_lossy(job, "CircleCI"));
        }
        // v2 i14d: services. CircleCI runs them as secondary images of the `docker` executor,
        // but the offline parser that checks exports (`@circleci/circleci-config-parser`)
        // refuses a `docker` list of two images ("Error while parsing -
        // config/job:NAME/docker_executor", checked again for v2 §9); until it accepts them, a
        // finding (docs/export.md, "Services").
        for job in &plan.jobs {
            builder.lossy.extend(super::services::unsupported(
                job,
                "CircleCI",
                "add the service as a secondary image of the job's `docker` executor (`- image: postgres:16`, reached at `localhost`) in the exported file, or start it in the job's commands",
            ));
        }
        builder.lossy.extend(super::platform::concurrency_lossy(
            plan,
            "CircleCI",
            "turn on Project Settings → Advanced → Auto-cancel redundant workflows (it spares the default branch)",
        ));
        let settings = super::settings::render("circleci", plan, &builder.gates, None);
        Export::assemble(
            self.default_path(plan),
            super::to_yaml(&config),
            settings,
            builder.lossy,
        )
    }
}

use parameters::literal;

fn literal_map(map: &IndexMap<String, String>) -> IndexMap<String, String> {
    map.iter().map(|(k, v)| (k.clone(), literal(v))).collect()
}

#[derive(Serialize)]
struct Config {
    version: f64,
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    parameters: IndexMap<String, Parameter>,
    // v2 i14e: the orbs of native steps (circleci/native.rs)
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    orbs: IndexMap<String, String>,
    jobs: IndexMap<String, JobDefinition>,
    workflows: IndexMap<String, Workflow>,
}

/// v2 i13m: a pipeline parameter of cdl's own, or of an input.
#[derive(Serialize)]
#[serde(untagged)]
enum Parameter {
    Own(PipelineParameter),
    Input(inputs::InputParameter),
}

#[derive(Serialize)]
struct PipelineParameter {
    #[serde(rename = "type")]
    kind: &'static str,
    default: bool,
    description: &'static str,
}

#[derive(Serialize)]
struct JobDefinition {
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    parameters: IndexMap<String, JobParameter>,
    docker: Vec<Image>,
    #[serde(skip_serializing_if = "Option::is_none")]
    resource_class: Option<String>,
    environment: IndexMap<String, String>,
    steps: Vec<Step>,
}

#[derive(Serialize)]
struct JobParameter {
    #[serde(rename = "type")]
    kind: &'static str,
}

#[derive(Serialize)]
struct Image {
    image: String,
    // v2: the image's `entrypoint` replaced
    #[serde(skip_serializing_if = "Option::is_none")]
    entrypoint: Option<Vec<String>>,
}

#[derive(Serialize)]
#[serde(rename_all = "snake_case")]
enum Step {
    Checkout,
    AttachWorkspace {
        at: &'static str,
    },
    Run(Run),
    PersistToWorkspace {
        root: &'static str,
        paths: Vec<String>,
    },
    // v2 reports and kept files (i13h), each `when: always`.
    StoreTestResults {
        path: String,
        when: &'static str,
    },
    StoreArtifacts {
        path: String,
        when: &'static str,
    },
    // v2 §9: caches (circleci/cache.rs)
    RestoreCache(cache::RestoreCache),
    SaveCache(cache::SaveCache),
    // v2 i14e: `- alias/command: { parameter: value }` (circleci/native.rs)
    #[serde(untagged)]
    Orb(IndexMap<String, IndexMap<String, String>>),
}

#[derive(Serialize)]
struct Run {
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    command: String,
    shell: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    working_directory: Option<String>,
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    environment: IndexMap<String, String>,
    no_output_timeout: String,
    // v2 i14e: `when: always` for a part that runs after a failure (circleci/native.rs)
    #[serde(skip_serializing_if = "Option::is_none")]
    when: Option<&'static str>,
}

#[derive(Serialize)]
struct Workflow {
    #[serde(skip_serializing_if = "Option::is_none")]
    when: Option<String>,
    jobs: Vec<Invocation>,
}

#[derive(Serialize)]
#[serde(untagged)]
enum Invocation {
    Plain(String),
    Options(IndexMap<String, InvocationOptions>),
}

#[derive(Serialize, Default)]
struct InvocationOptions {
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    kind: Option<&'static str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    requires: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    filters: Option<Filters>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    context: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    matrix: Option<MatrixParameters>,
    #[serde(rename = "serial-group", skip_serializing_if = "Option::is_none")]
    serial_group: Option<String>,
}

#[derive(Serialize)]
#[serde(untagged)]
enum Filters {
    Expression(String),
    /// Every tag, besides every branch: CircleCI runs a job for a tag only when asked to.
    AllTags {
        tags: Only,
    },
}

#[derive(Serialize)]
struct Only {
    only: &'static str,
}

#[derive(Serialize)]
struct MatrixParameters {
    parameters: IndexMap<String, Vec<String>>,
}

/// A timeout in CircleCI's `no_output_timeout` form: `90s`, `15m`, `4h`.
fn duration(seconds: u64) -> String {
    if seconds.is_multiple_of(3_600) {
        format!("{}h", seconds / 3_600)
    } else if seconds.is_multiple_of(60) {
        format!("{}m", seconds / 60)
    } else {
        format!("{seconds}s")
    }
}

struct Builder<'p> {
    plan: &'p Plan,
    /// Job id → the name of the CircleCI job that runs it.
    keys: HashMap<&'p str, String>,
    effective: HashMap<&'p str, Condition>,
    working_directory: Option<String>,
    /// Whether the workflow runs for tags, so that every job must allow them.
    tags: bool,
    parameters: Vec<&'static str>,
    /// Runners already reported as not a resource class (a pipeline's runner is every job's).
    reported_runners: HashSet<String>,
    gates: Vec<(String, &'p Job)>,
    lossy: Vec<Lossy>,
    // v2 i14e: alias → orb of the native steps
    orbs: IndexMap<String, String>,
}

impl<'p> Builder<'p> {
    fn new(plan: &'p Plan) -> Builder<'p> {
        let mut lossy = Vec::new();
        // v2 i13f: what the target keeps of `runs` and `start`
        lossy.extend(super::after_failure::losses(
            plan,
            "CircleCI",
            AFTER_FAILURE,
        ));
        lossy.extend(super::matrix_limit::lost(&plan.jobs, "CircleCI"));
        lossy.extend(super::pages::lost(plan, "CircleCI"));
        lossy.extend(super::platform::labels_lost(
            plan,
            "CircleCI",
            "resource class",
        ));
        let working_directory = super::working_directory(plan).unwrap_or_else(|l| {
            lossy.push(l);
            None
        });
        Builder {
            plan,
            keys: HashMap::new(),
            effective: super::after_failure::effective(plan, AFTER_FAILURE),
            working_directory,
            tags: plan.triggers.iter().any(|t| t.event == TriggerEvent::Tag),
            parameters: Vec::new(),
            reported_runners: HashSet::new(),
            gates: Vec::new(),
            lossy,
            orbs: IndexMap::new(),
        }
    }

    fn config(&mut self) -> Config {
        let units = units(self.plan);
        let mut taken = HashSet::new();
        for unit in &units {
            let key = unique_key(unit.id(), &mut taken);
            for job in &unit.jobs {
                self.keys.insert(job.id.as_str(), key.clone());
            }
        }
        let when = self.triggers();
        let mut definitions = IndexMap::new();
        let mut invocations = Vec::new();
        for unit in &units {
            let key = self.keys[unit.job().id.as_str()].clone();
            if unit.job().job_type != JobType::Gate {
                definitions.insert(key.clone(), self.definition(unit));
            }
            invocations.push(self.invocation(unit, key));
        }
        self.workspace_retention();
        let mut parameters = IndexMap::new();
        for name in [filters::MANUAL, filters::SCHEDULE] {
            if !self.parameters.contains(&name) {
                continue;
            }
            let description = if name == filters::MANUAL {
                "Set by hand to run the workflow (cdl's `on manual`)"
            } else {
                "Set by the scheduled pipeline that stands for cdl's `on schedule`"
            };
            parameters.insert(
                name.to_string(),
                Parameter::Own(PipelineParameter {
                    kind: "boolean",
                    default: false,
                    description,
                }),
            );
        }
        parameters.extend(
            inputs::parameters(self.plan)
                .into_iter()
                .map(|(name, p)| (name, Parameter::Input(p))),
        );
        Config {
            version: 2.1,
            parameters,
            orbs: std::mem::take(&mut self.orbs),
            jobs: definitions,
            workflows: IndexMap::from([(
                workflow_name(&self.plan.pipeline.name),
                Workflow {
                    when,
                    jobs: invocations,
                },
            )]),
        }
    }

    /// The workflow's `when`: one of the pipeline's triggers matches.
    fn triggers(&mut self) -> Option<String> {
        let mut translation = filters::Translation::new(self.plan);
        let guard = translation.triggers(self.plan);
        self.parameters.extend(translation.parameters);
        for pattern in translation.widened {
            self.lossy.push(Lossy::pipeline(
                format!("CircleCI's expressions cannot match the trigger's `{pattern}`{}", why_not(&pattern)),
                "the workflow runs for every branch or tag of that trigger's kind; only literal names and prefixes (`release/*`) are matched exactly",
            ));
        }
        for trigger in &self.plan.triggers {
            match trigger.event {
                TriggerEvent::PullRequest => self.lossy.push(Lossy::pipeline(
                    "CircleCI cannot tell a pull request from a push to its branch, nor filter by the branch it targets",
                    "the workflow runs for pushes to every branch; the project setting \"Only build pull requests\" limits that to branches with a pull request",
                )),
                TriggerEvent::Schedule => {
                    let cron = trigger.cron.as_deref().unwrap_or_default();
                    self.lossy.push(Lossy::pipeline(
                        format!("CircleCI cannot set the schedule `{cron}` in config.yml"),
                        format!("create a schedule trigger (Project Settings → Triggers) with the cron `{cron}` (UTC) that sets the pipeline parameter `{}` to true", filters::SCHEDULE),
                    ));
                }
                _ => {}
            }
        }
        match guard {
            crate::export::condition::Bool::Const(true) => None,
            // An expression holds no `<<` (filters::literal): it needs no escape.
            guard => Some(filters::render(&guard)),
        }
    }

    fn definition(&mut self, unit: &Unit<'p>) -> JobDefinition {
        let job = unit.job();
        let mut environment: IndexMap<String, String> = unit
            .env(|axis| format!("<< parameters.{axis} >>"))
            .into_iter()
            .map(|(k, v)| {
                let value = if unit.is_matrix() && is_matrix_variable(&k) {
                    v
                } else {
                    literal(&v)
                };
                (k, value)
            })
            .collect();
        environment.insert("CDL_RUN_ID".into(), "<< pipeline.id >>".into());
        environment.extend(inputs::environment(self.plan));
        environment.insert(
            "CDL_TRIGGER_SOURCE".into(),
            "<< pipeline.trigger_source >>".into(),
        );
        JobDefinition {
            parameters: unit
                .axes
                .iter()
                .map(|(axis, _)| (axis.clone(), JobParameter { kind: "string" }))
                .collect(),
            docker: vec![Image {
                image: literal(job.image.as_deref().unwrap_or(DEFAULT_IMAGE)),
                entrypoint: job
                    .entrypoint
                    .as_ref()
                    .map(|e| e.iter().map(|part| literal(part)).collect()),
            }],
            resource_class: self.resource_class(job),
            environment,
            steps: self.steps(job),
        }
    }

    /// The steps a job starts with (its checkout, as `checkout` says) and the line that
    /// gives its commands `CDL_OIDC_TOKEN` (v2 i14a).
    fn platform(&mut self, job: &'p Job) -> (Vec<Step>, &'static str) {
        let mut steps = Vec::new();
        let checkout = job.checkout.unwrap_or_default();
        self.lossy.extend(super::platform::checkout_lossy(
            job,
            "CircleCI",
            super::platform::CheckoutSupport {
                skip: true,
                full_history: true,
                submodules: true,
                lfs: true,
                ..Default::default()
            },
        ));
        if !checkout.skip {
            steps.push(Step::Checkout);
            for (wanted, name, command) in [
                (
                    checkout.submodules,
                    "Check the submodules out",
                    "git submodule update --init --recursive\n",
                ),
                (checkout.lfs, "Fetch the Git LFS files", "git lfs pull\n"),
            ] {
                if wanted {
                    steps.push(Step::Run(Run {
                        name: Some(name.into()),
                        command: command.into(),
                        shell: SHELL,
                        working_directory: None,
                        environment: IndexMap::new(),
                        no_output_timeout: NO_TIMEOUT.to_string(),
                        when: None,
                    }));
                }
            }
        }
        let Some(oidc) = &job.oidc else {
            return (steps, "");
        };
        self.lossy.push(Lossy::at(
            job,
            format!("CircleCI's OIDC token has the organisation's ID as its audience, not `{}`", oidc.audience),
            "the job gets `CIRCLE_OIDC_TOKEN_V2` as `CDL_OIDC_TOKEN`; configure the service that reads it to accept the organisation's ID",
        ));
        (
            steps,
            "export CDL_OIDC_TOKEN=\"${CIRCLE_OIDC_TOKEN_V2:-}\"\n",
        )
    }

    fn resource_class(&mut self, job: &'p Job) -> Option<String> {
        let runner = job.runner.as_ref()?;
        if RESOURCE_CLASSES.contains(&runner.as_str()) {
            return Some(runner.clone());
        }
        if self.reported_runners.insert(runner.clone()) {
            self.lossy.push(Lossy::at(
                job,
                format!("`{runner}` is not a resource class of CircleCI's Docker executor"),
                format!("the jobs with this runner run on the default class (medium); CircleCI's classes are {}", RESOURCE_CLASSES.join(", ")),
            ));
        }
        None
    }

    fn steps(&mut self, job: &'p Job) -> Vec<Step> {
        // v2 i14a: `checkout` and `oidc` (export/platform.rs).
        let (mut steps, oidc) = self.platform(job);
        let inputs: Vec<&String> = job
            .inputs
            .iter()
            .filter(|i| shell::is_identifier(i))
            .collect();
        // v2 i13i: values of the jobs it waits for come from the workspace too.
        let value_reads = super::values::files_reads(self.plan, job, WORKSPACE);
        if !inputs.is_empty() || !value_reads.is_empty() {
            steps.push(Step::AttachWorkspace { at: WORKSPACE });
        }
        // The job's timeout, for all of its attempts: the commands run under `timeout`, and
        // CircleCI's `no_output_timeout` stops a silent command a minute after that.
        let attempts = u64::from(job.retries) + 1;
        let limit = job.timeout_seconds.map(|seconds| seconds * attempts);
        let runner = job.has_step_blocks();
        self.lossy
            .extend(super::steps::display_name_lost(job, "CircleCI"));
        if let (Some(seconds), true, false) = (job.timeout_seconds, job.retries > 0, runner) {
            self.lossy.push(Lossy::at(
                job,
                format!("CircleCI runs the {attempts} attempts in one step, with one timeout for all of them"),
                format!("the job may run for {} in all; one attempt may take longer than the job's timeout", super::duration_text(seconds * attempts)),
            ));
        }
        let no_output_timeout = limit.map_or_else(|| NO_TIMEOUT.to_string(), |s| duration(s + 60));
        self.lossy
            .extend(super::context::missing_in(self.plan, job, &CONTEXT));
        // CircleCI reads `<< … >>` in commands: the file's `default_branch` is literal text.
        let mut context = super::context::script(self.plan, &CONTEXT);
        for line in &value_reads {
            context.push('\n');
            context.push_str(line);
        }
        // v2 i13j: composed values, after the values they may read (export/value.rs).
        if let Some(compose) = super::value::script(job) {
            context.push('\n');
            context.push_str(compose);
        }
        self.lossy
            .extend(super::value::unsupported(self.plan, job, "CircleCI"));
        self.lossy
            .extend(super::review::unsupported(job, "CircleCI"));
        self.lossy
            .extend(super::trigger::unsupported(job, "CircleCI"));
        // v2 §9: `CDL_CACHE_<NAME>_HIT` comes through `$BASH_ENV` (circleci/cache.rs).
        let caches = cache::steps(
            job,
            self.working_directory.as_deref(),
            self.tags,
            &mut self.lossy,
        );
        if cache::sets_variables(job) {
            context.push('\n');
            context.push_str(cache::SOURCE_BASH_ENV.trim_end());
        }
        steps.extend(caches.before);
        let context = literal(&context);
        let run =
            |name: Option<String>, command: String, environment, no_output_timeout: String| {
                Step::Run(Run {
                    name,
                    command: format!("{context}\n{oidc}{command}"),
                    shell: SHELL,
                    working_directory: self.working_directory.as_deref().map(literal),
                    environment,
                    no_output_timeout,
                    when: None,
                })
            };
        // v2 §5: an orb command whose parameters read references runs its `run` instead.
        self.lossy
            .extend(super::native::unexpressed(job, "circleci"));
        if super::native::any(job, super::native::has_circleci) {
            // v2 i14e: orb commands between step-runner parts (circleci/native.rs).
            let mut prefix = String::new();
            if !inputs.is_empty() {
                prefix.push_str(shell::LOCATE_FUNCTION);
                for input in &inputs {
                    prefix.push_str(&format!(
                        "export {}=\"$(cdl_locate \"{WORKSPACE}/{input}\")\"\n",
                        super::artifact_variable(input)
                    ));
                }
            }
            let (native, orbs, lossy) = native::steps(job, &prefix, &|name, command, env| {
                run(name, command, env, no_output_timeout.clone())
            });
            self.lossy.extend(lossy);
            for (alias, orb) in orbs {
                if let Some(other) = self.orbs.get(&alias).filter(|o| **o != orb) {
                    self.lossy.push(Lossy::at(
                        job,
                        format!("the orb alias `{alias}` names both `{other}` and `{orb}`"),
                        format!("the config names `{other}`; give one of them another alias"),
                    ));
                    continue;
                }
                self.orbs.insert(alias, orb);
            }
            steps.extend(native);
        } else if job.retries > 0
            || !inputs.is_empty()
            || job.allow_failure
            || limit.is_some()
            || runner
        {
            // One command runs every step, after locating the artifacts received.
            let mut command = String::new();
            if !inputs.is_empty() {
                command.push_str(shell::LOCATE_FUNCTION);
                for input in &inputs {
                    command.push_str(&format!(
                        "export {}=\"$(cdl_locate \"{WORKSPACE}/{input}\")\"\n",
                        super::artifact_variable(input)
                    ));
                }
            }
            let mut environment = literal_map(&shell::retry_env(job));
            let body = match limit {
                // v2 steps (i13b): the step runner keeps cdl's step rules, retries and the
                // timeout of each attempt (export/steps.rs).
                _ if runner => {
                    let (env, lossy) = super::steps::runner_env(job);
                    self.lossy.extend(lossy);
                    environment = literal_map(&env);
                    // v2 i13i: the job's values, one file each in the workspace (the folder
                    // exists even when the job fails, for `persist_to_workspace`).
                    let (values_env, folder) = super::values::files_outputs(job, WORKSPACE);
                    if !job.values.is_empty() {
                        command.push_str(&format!("mkdir -p '{WORKSPACE}/{folder}'\n"));
                    }
                    environment.extend(literal_map(&values_env));
                    if let Some(seconds) = job.timeout_seconds {
                        environment.insert("CDL_TIMEOUT".into(), seconds.to_string());
                    }
                    super::steps::runner(job).into_owned()
                }
                Some(seconds) => {
                    environment.insert("CDL_TIMEOUT".into(), seconds.to_string());
                    environment.insert("CDL_RUN".into(), shell::RETRY_LOOP.into());
                    command.push_str(TIMEOUT_CHECK);
                    "timeout \"$CDL_TIMEOUT\" sh -e -c \"$CDL_RUN\"\n".to_string()
                }
                None => shell::RETRY_LOOP.to_string(),
            };
            if job.allow_failure {
                // v2 §9: a failed run saves no cache (circleci/cache.rs).
                let failed = if job.caches.is_empty() {
                    String::new()
                } else {
                    format!("  : > {}\n", cache::FAILED)
                };
                command.push_str(&format!("if ! (\n{body}); then\n  echo \"cdl: the job failed; it is allowed to fail, so the workflow goes on\"\n{failed}fi\n"));
            } else {
                command.push_str(&body);
            }
            let mut name = String::from("Run the steps");
            if job.retries > 0 {
                name.push_str(&format!(
                    ", up to {attempts} attempts (cdl's retries, emulated)"
                ));
            }
            if let Some(seconds) = limit {
                name.push_str(&format!(", within {}", super::duration_text(seconds)));
            }
            steps.push(run(Some(name), command, environment, no_output_timeout));
        } else {
            for command in &job.steps {
                steps.push(run(
                    None,
                    literal(command),
                    IndexMap::new(),
                    NO_TIMEOUT.into(),
                ));
            }
        }
        if job.job_type == JobType::Artifact
            && let Some(artifact) = job.artifact.as_ref().filter(|a| shell::is_identifier(a))
        {
            let (outputs, lossy) = shell::collect_env(job);
            self.lossy.extend(lossy);
            // v2 i13k: an instance of a matrix artifact persists its own folder.
            let part = super::matrix_artifacts::store_part(job, artifact);
            let mut environment = IndexMap::from([(
                "CDL_ARTIFACT_STORE".to_string(),
                format!("{WORKSPACE}/{part}"),
            )]);
            environment.extend(literal_map(&outputs));
            steps.push(run(
                Some(format!("Collect the artifact {part}")),
                shell::collect_artifact(job),
                environment,
                NO_TIMEOUT.into(),
            ));
            steps.push(Step::PersistToWorkspace {
                root: WORKSPACE,
                paths: vec![part],
            });
        }
        if !job.values.is_empty() {
            steps.push(Step::PersistToWorkspace {
                root: WORKSPACE,
                paths: vec![super::values::files_outputs(job, WORKSPACE).1],
            });
        }
        // v2 §9: the caches saved after success (circleci/cache.rs)
        steps.extend(caches.after);
        // v2 reports and kept files (i13h)
        steps.extend(self.kept(job));
        steps
    }

    /// `store_test_results` for the JUnit files' folders and `store_artifacts` for everything
    /// kept, `when: always`. CircleCI stores folders and files, not globs: a glob is stored as
    /// the folder its matches are in (W0200).
    fn kept(&mut self, job: &Job) -> Vec<Step> {
        let folder = self.working_directory.as_deref();
        let mut steps = Vec::new();
        let mut widened = Vec::new();
        let store = |pattern: &str, widened: &mut Vec<String>| -> Option<String> {
            let stored = super::reports::folder_of(pattern);
            if stored.as_deref() != Some(pattern) {
                widened.push(pattern.to_string());
            }
            stored.map(|p| literal(&super::reports::in_folder(folder, &p)))
        };
        let mut seen = Vec::new();
        for pattern in &job.reports.junit {
            if let Some(path) = store(pattern, &mut widened)
                && !seen.contains(&path)
            {
                seen.push(path.clone());
                steps.push(Step::StoreTestResults {
                    path,
                    when: super::reports::keep_when(job).circleci,
                });
            }
        }
        let mut seen = Vec::new();
        for pattern in super::reports::kept(job) {
            if let Some(path) = store(pattern, &mut widened)
                && !seen.contains(&path)
            {
                seen.push(path.clone());
                steps.push(Step::StoreArtifacts {
                    path,
                    when: super::reports::keep_when(job).circleci,
                });
            }
        }
        widened.dedup();
        if !widened.is_empty() {
            self.lossy.push(Lossy::at(
                job,
                format!(
                    "CircleCI stores folders and files, not globs: {} stored as the folders their matches are in",
                    widened.iter().map(|p| format!("`{p}`")).collect::<Vec<_>>().join(", ")
                ),
                "more files may be stored than the globs match (a glob at the top of the working folder is not stored); name files or folders to store exactly",
            ));
        }
        self.lossy
            .extend(super::reports::kinds_unread(job, "CircleCI", &["junit"]));
        self.lossy.extend(super::reports::retention_elsewhere(
            job,
            "CircleCI",
            "in the plan's usage controls",
        ));
        steps
    }

    fn invocation(&mut self, unit: &Unit<'p>, key: String) -> Invocation {
        let job = unit.job();
        let mut options = InvocationOptions {
            requires: self.requires(job),
            filters: self.filters(job),
            ..InvocationOptions::default()
        };
        if job.job_type == JobType::Gate {
            options.kind = Some("approval");
            let context = format!("{}-approval-{}", self.plan.pipeline.name, job.id);
            options.context = vec![context.clone()];
            self.gate(job, context);
        } else {
            options.context = job
                .secrets
                .iter()
                .map(|s| format!("{}-secret-{s}", self.plan.pipeline.name))
                .collect();
            options.serial_group = self.serial_group(job);
        }
        if unit.is_matrix() {
            options.matrix = Some(MatrixParameters {
                parameters: unit
                    .axes
                    .iter()
                    .map(|(axis, values)| {
                        (axis.clone(), values.iter().map(|v| literal(v)).collect())
                    })
                    .collect(),
            });
        }
        let plain = options.requires.is_empty()
            && options.filters.is_none()
            && options.context.is_empty()
            && options.kind.is_none()
            && options.matrix.is_none()
            && options.serial_group.is_none();
        if plain {
            Invocation::Plain(key)
        } else {
            Invocation::Options(IndexMap::from([(key, options)]))
        }
    }

    /// The job's explicit needs and every job of the earlier stages.
    fn requires(&mut self, job: &'p Job) -> Vec<String> {
        let earlier = jobs::earlier_stage_jobs(self.plan, &job.stage);
        let keys = jobs::needs_then(job, earlier.iter().copied(), |id| &self.keys[id]);
        // CircleCI does not run a job all of whose required jobs were filtered out.
        let all_conditional = !earlier.is_empty()
            && earlier
                .iter()
                .all(|id| self.effective[id] != Condition::Const(true));
        if job.needs.is_empty()
            && all_conditional
            && self.effective[job.id.as_str()] != Condition::Const(false)
        {
            self.lossy.push(Lossy::at(
                job,
                "CircleCI does not run a job when every job it requires was left out by a condition",
                "every job of the earlier stages has a condition: when none of them runs, this job does not run either",
            ));
        }
        keys
    }

    /// The job's effective condition as an expression filter.
    fn filters(&mut self, job: &'p Job) -> Option<Filters> {
        let all_tags = || {
            self.tags.then_some(Filters::AllTags {
                tags: Only { only: "/.*/" },
            })
        };
        let effective = &self.effective[job.id.as_str()];
        if *effective == Condition::Const(true) {
            return all_tags();
        }
        let mut translation = filters::Translation::new(self.plan);
        let expr = translation.condition(effective);
        self.parameters.extend(translation.parameters);
        let filter = match &expr {
            crate::export::condition::Bool::Const(true) => None,
            expr => Some(filters::render(expr)),
        };
        for part in translation.widened {
            self.lossy.push(Lossy::at(
                job,
                format!("CircleCI's filters cannot test `{part}`{}", why_not(&part)),
                match &filter {
                    Some(filter) => format!("the part is taken to hold: the job runs whenever `{filter}` holds, more often than cdl runs it"),
                    None => "the part is taken to hold: the job runs on every run of the workflow, more often than cdl runs it".to_string(),
                },
            ));
        }
        match filter {
            Some(filter) => Some(Filters::Expression(filter)),
            None => all_tags(),
        }
    }

    fn gate(&mut self, job: &'p Job, context: String) {
        let required = job.required.unwrap_or(1);
        if required > 1 {
            self.lossy.push(Lossy::at(
                job,
                format!("the gate needs {required} approvals; CircleCI proceeds after one"),
                "any one member of the restricted context's security groups approves the job",
            ));
        }
        if job.message.is_some() {
            self.lossy.push(Lossy::at(
                job,
                "CircleCI shows no message on an approval job",
                "the approval job is named after the gate; the message is in the settings file",
            ));
        }
        if let Some(seconds) = job.timeout_seconds {
            self.lossy.push(Lossy::at(
                job,
                format!("CircleCI cannot reject a gate after {}: an approval job waits until it is approved or the workflow is cancelled", super::duration_text(seconds)),
                "the gate's timeout is not enforced; cancel the workflow by hand when it is over",
            ));
        }
        self.gates.push((context, job));
    }

    /// A deploy to an environment with a concurrency limit joins its serial group.
    fn serial_group(&mut self, job: &'p Job) -> Option<String> {
        if job.job_type != JobType::Deploy {
            return None;
        }
        let name = job.environment.as_ref()?;
        let limit = self
            .plan
            .environments
            .iter()
            .find(|e| &e.name == name)?
            .concurrency?;
        if limit > 1 {
            self.lossy.push(Lossy::at(
                job,
                format!("CircleCI runs one deploy to `{name}` at a time, not {limit}"),
                "a serial group runs its jobs one after another",
            ));
        }
        Some(format!(
            "<< pipeline.project.slug >>/deploy-{}",
            literal(name)
        ))
    }

    /// A job after a gate that reads the workspace fails when the approval comes after the
    /// workspace expired.
    fn workspace_retention(&mut self) {
        let stage_index = |stage: &str| self.plan.stages.iter().position(|s| s.name == stage);
        let mut ancestors: HashMap<&str, HashSet<&str>> = HashMap::new();
        for job in &self.plan.jobs {
            let mut all: HashSet<&str> = HashSet::new();
            for need in &job.needs {
                all.insert(need.as_str());
                if let Some(more) = ancestors.get(need.as_str()) {
                    all.extend(more.iter().copied());
                }
            }
            ancestors.insert(job.id.as_str(), all);
        }
        for gate in self
            .plan
            .jobs
            .iter()
            .filter(|j| j.job_type == JobType::Gate)
        {
            if gate
                .timeout_seconds
                .is_some_and(|s| s <= WORKSPACE_RETENTION_SECONDS)
            {
                continue;
            }
            let readers: Vec<&str> = self
                .plan
                .jobs
                .iter()
                .filter(|j| !j.inputs.is_empty())
                .filter(|j| {
                    stage_index(&j.stage) > stage_index(&gate.stage)
                        || ancestors[j.id.as_str()].contains(gate.id.as_str())
                })
                .map(|j| j.id.as_str())
                .collect();
            let Some(first) = readers.first() else {
                continue;
            };
            let wait = match gate.timeout_seconds {
                Some(seconds) => format!("its timeout is {}", super::duration_text(seconds)),
                None => "it has no timeout".to_string(),
            };
            self.lossy.push(Lossy::at(
                gate,
                format!("CircleCI keeps the workspace for 15 days, but the gate may be approved later ({wait})"),
                format!("`{first}` reads an artifact from the workspace after the gate and fails when it has expired; give the gate a timeout of 15d or less"),
            ));
        }
    }
}

/// The plan's jobs as CircleCI jobs: a matrix job is one parameterised job with a `matrix`
/// when its axes are valid parameter names, else one job per instance.
fn units(plan: &Plan) -> Vec<Unit<'_>> {
    let mut units = Vec::new();
    for unit in jobs::units(plan, MAX_MATRIX) {
        let foldable = unit.axes.iter().all(|(axis, _)| is_name(axis));
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

/// Why a part of a condition holding `<<` cannot be tested.
fn why_not(part: &str) -> &'static str {
    if part.contains("<<") {
        ": CircleCI refuses `<<` anywhere in a filter or `when` expression"
    } else {
        ""
    }
}

fn is_matrix_variable(name: &str) -> bool {
    name == "CDL_JOB" || name.starts_with("CDL_MATRIX_")
}

/// A name CircleCI accepts for a job or a parameter: a letter, then letters, digits, `_`, `-`.
fn is_name(text: &str) -> bool {
    text.starts_with(|c: char| c.is_ascii_alphabetic())
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// A valid, unique job name for a unit id.
fn unique_key(id: &str, taken: &mut HashSet<String>) -> String {
    let mut key = jobs::identifier(id);
    if !is_name(&key) {
        key.insert_str(0, "job_");
    }
    jobs::claim_unique(taken, &key, |key, n| format!("{key}-{n}"))
}

/// The workflow's name: lower case letters, digits, `_` and `-`, from a letter.
fn workflow_name(pipeline: &str) -> String {
    let mut name = jobs::identifier_characters(&pipeline.to_lowercase());
    if !name.starts_with(|c: char| c.is_ascii_lowercase()) {
        name.insert_str(0, "cdl_");
    }
    name
}

/// Text kept literal by this target's encoder (v2 i14e: native steps' `with` values).
pub(super) fn literal_text(text: &str) -> String {
    parameters::literal(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_required_job_is_invoked_by_the_workflow() {
        for plan in super::super::fixture_plans() {
            let config = Builder::new(&plan).config();
            let workflow = config.workflows.values().next().unwrap();
            let mut names = HashSet::new();
            let mut requires = Vec::new();
            for invocation in &workflow.jobs {
                match invocation {
                    Invocation::Plain(name) => {
                        assert!(config.jobs.contains_key(name), "{name} is defined");
                        assert!(names.insert(name.clone()), "{name} once");
                    }
                    Invocation::Options(map) => {
                        let (name, options) = map.iter().next().unwrap();
                        assert!(
                            options.kind == Some("approval") || config.jobs.contains_key(name),
                            "{name} is defined"
                        );
                        assert!(names.insert(name.clone()), "{name} once");
                        requires.extend(options.requires.iter().cloned());
                    }
                }
            }
            for required in requires {
                assert!(names.contains(&required), "{required} is in the workflow");
            }
        }
    }

    #[test]
    fn a_condition_it_cannot_test_widens_and_warns() {
        let text = "pipeline p {\n  stage a { job x { run = \"true\"; when = branch == \"main\" } }\n  stage b { job y { run = \"true\"; when = event == pull_request || tag matches \"v?\" } }\n}\n";
        let compilation = crate::compile::compile_text("p.cdl", None, text.into());
        let plan = crate::plan::build(&compilation).unwrap();
        let export = CircleCi.export(&plan);
        let messages: Vec<&str> = export.lossy.iter().map(|l| l.message.as_str()).collect();
        assert!(
            messages
                .iter()
                .any(|m| m.contains("cannot test `event == pull_request`")),
            "{messages:?}"
        );
        assert!(
            messages
                .iter()
                .any(|m| m.contains("cannot test `tag matches \"v?\"`")),
            "{messages:?}"
        );
        assert!(
            messages
                .iter()
                .any(|m| m.contains("every job it requires was left out")),
            "{messages:?}"
        );
        assert!(
            !export.files[0]
                .content
                .contains("- y:\n        requires:\n        - x\n        filters:")
        );
    }

    #[test]
    fn filters_with_parameter_syntax_are_widened_with_the_reason() {
        let text = "pipeline p {\n  on push\n  on tag { pattern = \"v<<pipeline.number>>*\" }\n  stage a { job x { run = \"true\"; when = branch == \"<< pipeline.id >>\" || branch == \"main\" } }\n}\n";
        let compilation = crate::compile::compile_text("p.cdl", None, text.into());
        let plan = crate::plan::build(&compilation).unwrap();
        let export = CircleCi.export(&plan);
        let config = &export.files[0].content;
        let expressions: Vec<&str> = config
            .lines()
            .filter(|l| l.contains("filters:") || l.contains("when:"))
            .collect();
        assert_eq!(expressions.len(), 2, "{config}");
        assert!(expressions.iter().all(|l| !l.contains("<<")), "{config}");
        let reasons = export
            .lossy
            .iter()
            .filter(|l| l.message.contains("refuses `<<`"))
            .count();
        assert_eq!(reasons, 2, "{:?}", export.lossy);
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(300))]

        /// Every place of an exported configuration, read as CircleCI does, gives the text.
        #[test]
        fn every_place_of_a_config_keeps_hostile_text(
            text in crate::export::literal::hostile_text()
        ) {
            let Some(plan) = crate::export::literal::plan_with_text(&text) else {
                return Ok(());
            };
            let config = Builder::new(&plan).config();
            let evaluate = |written: &str| {
                parameters::evaluate(written)
                    .unwrap_or_else(|e| panic!("{written:?} is evaluated: {e}"))
            };
            let (_, unit) = config.jobs.iter().find(|(k, _)| k.starts_with("unit")).unwrap();
            assert_eq!(evaluate(&unit.environment["X"]), text);
            assert_eq!(evaluate(&unit.environment["Y"]), text);
            assert_eq!(evaluate(&unit.docker[0].image), text);
            let commands: Vec<&Run> = unit
                .steps
                .iter()
                .filter_map(|s| match s {
                    Step::Run(run) => Some(run),
                    _ => None,
                })
                .collect();
            let context = super::super::context::script(&plan, &CONTEXT);
            assert_eq!(evaluate(&commands.last().unwrap().command), format!("{context}\n{text}"));
            let workflow = config.workflows.values().next().unwrap();
            let matrix_values: Vec<&String> = workflow
                .jobs
                .iter()
                .filter_map(|i| match i {
                    Invocation::Options(map) => map.values().next()?.matrix.as_ref(),
                    Invocation::Plain(_) => None,
                })
                .flat_map(|m| m.parameters.values().flatten())
                .collect();
            if let [value] = matrix_values.as_slice() {
                assert_eq!(evaluate(value), text);
            } else {
                // Not a parameter name: one job per instance, with the value in its variables.
                assert_eq!(evaluate(&unit.environment["CDL_MATRIX_V"]), text);
            }
            let deploy = &config.jobs["deploy_app_production"];
            assert_eq!(evaluate(&deploy.environment["CDL_ENV_URL"]), text);
        }
    }

    #[test]
    fn names_are_valid_circleci_names() {
        let mut taken = HashSet::new();
        assert_eq!(unique_key("unit[os=linux]", &mut taken), "unit_os_linux");
        assert_eq!(unique_key("unit[os=linux]", &mut taken), "unit_os_linux-2");
        assert_eq!(unique_key("1st", &mut taken), "job_1st");
        assert_eq!(workflow_name("Web Shop"), "web_shop");
    }

    #[test]
    fn durations_use_the_largest_exact_unit() {
        assert_eq!(duration(90), "90s");
        assert_eq!(duration(900), "15m");
        assert_eq!(duration(4 * 3_600), "4h");
    }
}
