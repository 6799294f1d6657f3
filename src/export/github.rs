//! GitHub Actions: one workflow file, and a settings file for the protected environments
//! that stand for gates. Conditions are evaluated by a first job in POSIX shell (GitHub's
//! own expressions compare strings without case and have no globs), and every job reads the
//! result; a failure anywhere upstream stops a job through `failure()`, which GitHub
//! evaluates over all ancestors.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

use indexmap::IndexMap;
use serde::Serialize;

mod cache;
mod conditions;
pub(super) mod expressions;
mod inputs;
mod native;

use super::after_failure;
use super::condition;
use super::jobs::{self, Unit};
use super::shell;
use super::{Export, Exporter, Lossy};
use crate::model::platform::github_scope;
use crate::plan::Access;
use crate::plan::Condition;
use crate::plan::{Job, Plan, Reference};
use crate::plan::{JobType, TriggerEvent};

pub struct GitHub;

/// GitHub runs at most 256 jobs from one matrix.
const MAX_MATRIX: usize = 256;
/// How long GitHub lets a job wait for its reviewers.
const REVIEW_LIMIT_SECONDS: u64 = 30 * 86_400;
const MAX_REVIEWERS: usize = 6;
const DEFAULT_RUNNER: &str = "ubuntu-latest";
/// `registry = true`: GitHub's container registry.
const GITHUB_REGISTRY: &str = "ghcr.io";
/// `registry = true`: the project's image path, `ghcr.io/owner/name` in lower case.
const GITHUB_REGISTRY_SCRIPT: &str = "echo \"CDL_REGISTRY_IMAGE=ghcr.io/$(printf '%s' \"$GITHUB_REPOSITORY\" | tr '[:upper:]' '[:lower:]')\" >> \"$GITHUB_ENV\"\n";
const CHECKOUT: &str = "actions/checkout@v4";
const UPLOAD: &str = "actions/upload-artifact@v4";
const DOWNLOAD: &str = "actions/download-artifact@v4";

impl Exporter for GitHub {
    fn name(&self) -> &'static str {
        "github"
    }

    fn default_path(&self, plan: &Plan) -> PathBuf {
        PathBuf::from(".github/workflows").join(format!("{}.yml", plan.pipeline.name))
    }

    fn export(&self, plan: &Plan) -> Export {
        // v2 i13j: composed values' parts as the jobs' variables (export/value.rs)
        let prepared = super::value::prepare(plan);
        let plan: &Plan = &prepared;
        let mut builder = Builder::new(plan);
        let workflow = builder.workflow();
        let settings = super::settings::render("github", plan, &builder.gates, Some(0));
        Export::assemble(
            self.default_path(plan),
            super::to_yaml(&workflow),
            settings,
            builder.lossy,
        )
    }
}

#[derive(Serialize)]
struct Workflow {
    name: String,
    #[serde(rename = "on")]
    on: IndexMap<&'static str, Event>,
    permissions: IndexMap<&'static str, &'static str>,
    /// v2 i14a: the pipeline's `concurrency`.
    #[serde(skip_serializing_if = "Option::is_none")]
    concurrency: Option<Concurrency>,
    env: IndexMap<String, String>,
    defaults: Defaults,
    jobs: IndexMap<String, WorkflowJob>,
}

#[derive(Serialize)]
#[serde(untagged)]
enum Event {
    Filters(Filters),
    Schedule(Vec<Schedule>),
    /// v2 i13d: `workflow_dispatch` with inputs.
    Dispatch {
        inputs: IndexMap<String, inputs::DispatchInput>,
    },
}

#[derive(Serialize, Default)]
struct Filters {
    #[serde(skip_serializing_if = "Option::is_none")]
    branches: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tags: Option<Vec<String>>,
    // v2 i14a: path filters
    #[serde(skip_serializing_if = "Vec::is_empty")]
    paths: Vec<String>,
    #[serde(rename = "paths-ignore", skip_serializing_if = "Vec::is_empty")]
    paths_ignore: Vec<String>,
}

#[derive(Serialize)]
struct Schedule {
    cron: String,
}

#[derive(Serialize)]
struct Defaults {
    run: RunDefaults,
}

#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
struct RunDefaults {
    #[serde(skip_serializing_if = "Option::is_none")]
    shell: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    working_directory: Option<String>,
}

#[derive(Serialize, Default)]
#[serde(rename_all = "kebab-case")]
struct WorkflowJob {
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    needs: Vec<String>,
    #[serde(rename = "if", skip_serializing_if = "Option::is_none")]
    condition: Option<String>,
    #[serde(skip_serializing_if = "String::is_empty")]
    runs_on: String,
    /// v2: `runner = [...]`, every label (then `runs_on` is empty).
    #[serde(rename = "runs-on", skip_serializing_if = "Vec::is_empty")]
    runs_on_labels: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    container: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    environment: Option<Environment>,
    #[serde(skip_serializing_if = "Option::is_none")]
    concurrency: Option<Concurrency>,
    #[serde(skip_serializing_if = "Option::is_none")]
    timeout_minutes: Option<u64>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    continue_on_error: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    strategy: Option<Strategy>,
    #[serde(skip_serializing_if = "Option::is_none")]
    defaults: Option<Defaults>,
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    outputs: IndexMap<String, String>,
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    env: IndexMap<String, String>,
    steps: Vec<Step>,
    // v2 i14a: the job's token permissions (absent: the workflow's `contents: read`).
    #[serde(skip_serializing_if = "Option::is_none")]
    permissions: Option<IndexMap<String, &'static str>>,
    // v2 i14d: service containers
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    services: IndexMap<String, ServiceContainer>,
}

/// v2 i14d: one of a job's `services:`.
#[derive(Serialize)]
struct ServiceContainer {
    image: String,
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    env: IndexMap<String, String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    ports: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    options: Option<String>,
}

#[derive(Serialize)]
struct Environment {
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    url: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
struct Concurrency {
    group: String,
    cancel_in_progress: bool,
}

#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
struct Strategy {
    fail_fast: bool,
    // v2: a matrix's `max_parallel`
    #[serde(skip_serializing_if = "Option::is_none")]
    max_parallel: Option<u32>,
    matrix: IndexMap<String, Vec<String>>,
}

#[derive(Serialize, Default)]
struct Step {
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    uses: Option<String>,
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    with: IndexMap<String, Input>,
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    env: IndexMap<String, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    run: Option<String>,
    // v2 reports and kept files (i13h)
    #[serde(rename = "if", skip_serializing_if = "Option::is_none")]
    condition: Option<String>,
    // v2 i14e: native steps (github/native.rs)
    #[serde(
        rename = "continue-on-error",
        skip_serializing_if = "std::ops::Not::not"
    )]
    continue_on_error: bool,
    #[serde(rename = "timeout-minutes", skip_serializing_if = "Option::is_none")]
    timeout_minutes: Option<u64>,
}

/// An action's input.
#[derive(Serialize)]
#[serde(untagged)]
enum Input {
    Text(String),
    Flag(bool),
}

use expressions::literal;

fn literal_map(map: &IndexMap<String, String>) -> IndexMap<String, String> {
    map.iter().map(|(k, v)| (k.clone(), literal(v))).collect()
}

/// Where a job keeps an artifact's stored copy.
fn store(artifact: &str) -> String {
    format!("${{{{ runner.temp }}}}/cdl-artifacts/{artifact}")
}

struct Builder<'p> {
    plan: &'p Plan,
    units: Vec<Unit<'p>>,
    /// Job id → the key of the workflow job that runs it.
    keys: HashMap<&'p str, String>,
    /// v2: the output of the conditions job that says whether a manual job's `auto_when`
    /// holds (only manual jobs with one).
    auto_keys: HashMap<&'p str, String>,
    effective: HashMap<&'p str, Condition>,
    conditions_key: String,
    working_directory: Option<String>,
    /// Each gate with its protected environment.
    gates: Vec<(String, &'p Job)>,
    lossy: Vec<Lossy>,
}

impl<'p> Builder<'p> {
    fn new(plan: &'p Plan) -> Builder<'p> {
        // A matrix value holding `${{` is evaluated again where `${{ matrix.AXIS }}` is read
        // (nektos/act does; GitHub does not say): such a matrix is one job per instance,
        // whose values are plain variables (below).
        let units: Vec<Unit<'p>> = jobs::units(plan, MAX_MATRIX)
            .into_iter()
            .flat_map(|unit| {
                let evaluated = unit
                    .axes
                    .iter()
                    .any(|(_, values)| values.iter().any(|v| v.contains("${{")));
                if !evaluated {
                    return vec![unit];
                }
                unit.jobs
                    .into_iter()
                    .map(|job| Unit {
                        jobs: vec![job],
                        axes: Vec::new(),
                    })
                    .collect()
            })
            .collect();
        let mut taken: HashSet<String> = HashSet::new();
        let mut keys = HashMap::new();
        for unit in &units {
            let key = unique(&job_key(unit.id()), &mut taken);
            for job in &unit.jobs {
                keys.insert(job.id.as_str(), key.clone());
            }
        }
        let conditions_key = unique("cdl_conditions", &mut taken);
        // v2: a matrix written as one job per instance has no `max-parallel`.
        let split = units
            .iter()
            .filter(|u| !u.is_matrix() && u.job().max_parallel.is_some())
            .map(|u| u.job());
        let mut lossy = super::matrix_limit::lost(
            split,
            "GitHub Actions, for a matrix written as one job per instance,",
        );
        lossy.extend(super::pages::lost(plan, "GitHub Actions"));
        lossy.extend(super::entrypoint::lost_all(plan, "GitHub Actions", true));
        // v2: the conditions job's output for each manual job's `auto_when`.
        let mut auto_keys = HashMap::new();
        for unit in &units {
            let job = unit.job();
            if job.manual && job.auto_when.is_some() {
                let key = unique(&format!("{}_auto", keys[job.id.as_str()]), &mut taken);
                for job in &unit.jobs {
                    auto_keys.insert(job.id.as_str(), key.clone());
                }
            }
        }
        let working_directory = super::working_directory(plan).unwrap_or_else(|l| {
            lossy.push(l);
            None
        });
        Builder {
            plan,
            units,
            keys,
            auto_keys,
            effective: condition::effective(plan),
            conditions_key,
            working_directory,
            gates: Vec::new(),
            lossy,
        }
    }

    fn workflow(&mut self) -> Workflow {
        let mut env = literal_map(&self.plan.env);
        env.insert("CDL_RUN_ID".into(), "${{ github.run_id }}".into());
        self.context(&mut env);
        env.extend(inputs::env(self.plan));
        let mut on = self.triggers();
        if let Some(dispatch) = on.get_mut("workflow_dispatch")
            && !self.plan.inputs.is_empty()
        {
            let mut inputs = inputs::dispatch_inputs(self.plan, &mut self.lossy);
            // The manual jobs' inputs (v2 i13f) after the pipeline's.
            if let Event::Dispatch { inputs: manual } = dispatch {
                inputs.extend(std::mem::take(manual));
            }
            *dispatch = Event::Dispatch { inputs };
        }
        let mut jobs = IndexMap::new();
        if let Some(job) = self.conditions_job() {
            jobs.insert(self.conditions_key.clone(), job);
        }
        let units = std::mem::take(&mut self.units);
        for unit in &units {
            let key = self.keys[unit.job().id.as_str()].clone();
            let job = self.job(unit);
            jobs.insert(key, job);
        }
        once_evaluated(&mut env, &mut jobs);
        Workflow {
            name: literal(&self.plan.pipeline.name),
            on,
            permissions: IndexMap::from([("contents", "read")]),
            concurrency: self.plan.pipeline.concurrency.map(|c| Concurrency {
                group: super::platform::github_concurrency_group(c.per).into(),
                cancel_in_progress: c.cancel_in_progress,
            }),
            env,
            defaults: Defaults {
                run: RunDefaults {
                    shell: Some("sh"),
                    working_directory: None,
                },
            },
            jobs,
        }
    }

    /// The run context as expressions over the `github` context, the way the conditions
    /// job reads it (`github/conditions.rs`); `CDL_WORKSPACE` is set by a step of each job,
    /// since `github.workspace` names the runner's folder, not a container job's.
    fn context(&mut self, env: &mut IndexMap<String, String>) {
        let default_branch = match &self.plan.pipeline.default_branch {
            Some(branch) => literal(branch),
            None => "${{ github.event.repository.default_branch }}".into(),
        };
        for (name, value) in [
            ("CDL_EVENT", "${{ github.event_name == 'workflow_dispatch' && 'manual' || github.event_name == 'push' && github.ref_type == 'tag' && 'tag' || github.event_name }}".to_string()),
            ("CDL_BRANCH", "${{ github.head_ref || github.ref_type == 'branch' && github.ref_name || '' }}".into()),
            ("CDL_TAG", "${{ !github.head_ref && github.ref_type == 'tag' && github.ref_name || '' }}".into()),
            ("CDL_SHA", "${{ github.event.pull_request.head.sha || github.sha }}".into()),
            ("CDL_PR_TARGET", "${{ github.base_ref }}".into()),
            ("CDL_DEFAULT_BRANCH", default_branch),
            ("CDL_REPOSITORY", "${{ github.repository }}".into()),
            ("CDL_OWNER", "${{ github.repository_owner }}".into()),
            ("CDL_PROJECT", "${{ github.event.repository.name }}".into()),
        ] {
            env.insert(name.into(), value);
        }
    }

    fn triggers(&mut self) -> IndexMap<&'static str, Event> {
        let mut push = Filters::default();
        let mut on: IndexMap<&'static str, Event> = IndexMap::new();
        let filters = |globs: &[String], what: &str, lossy: &mut Vec<Lossy>| -> Vec<String> {
            if globs.is_empty() {
                return vec!["**".into()];
            }
            globs
                .iter()
                .map(|g| {
                    let (filter, exact) = expressions::filter(g);
                    if g.contains("${{") {
                        lossy.push(Lossy::pipeline(
                            format!("the {what} pattern `{g}` holds `${{{{`, which GitHub's `on:` filters reject as an expression"),
                            format!("the workflow filters with `{filter}`, which also starts runs cdl would not"),
                        ));
                    } else if !exact {
                        lossy.push(Lossy::pipeline(
                            format!("the {what} pattern `{g}` uses `?` or a class GitHub's filters cannot express (`[!…]`, or one holding `-` or punctuation)"),
                            format!("the workflow filters with `{filter}`, which also starts runs cdl would not"),
                        ));
                    }
                    filter
                })
                .collect()
        };
        for trigger in &self.plan.triggers {
            match trigger.event {
                TriggerEvent::Push => {
                    push.branches = Some(filters(&trigger.branches, "branch", &mut self.lossy));
                    (push.paths, push.paths_ignore) =
                        super::platform::github_paths(trigger, &mut self.lossy);
                }
                TriggerEvent::Tag => {
                    let pattern: Vec<String> = trigger.pattern.iter().cloned().collect();
                    push.tags = Some(filters(&pattern, "tag", &mut self.lossy));
                }
                TriggerEvent::PullRequest => {
                    let branches = (!trigger.branches.is_empty())
                        .then(|| filters(&trigger.branches, "branch", &mut self.lossy));
                    let (paths, paths_ignore) =
                        super::platform::github_paths(trigger, &mut self.lossy);
                    on.insert(
                        "pull_request",
                        Event::Filters(Filters {
                            branches,
                            tags: None,
                            paths,
                            paths_ignore,
                        }),
                    );
                }
                TriggerEvent::Schedule => {
                    let cron = trigger.cron.clone().unwrap_or_default();
                    if cron.contains("${{") {
                        // No expression is allowed in `on:`, and no cron holds `${{`.
                        self.lossy.push(Lossy::pipeline(
                            format!("the cron `{cron}` holds `${{{{`, which GitHub's `on:` rejects as an expression"),
                            "the workflow has no schedule for it",
                        ));
                        continue;
                    }
                    match on.get_mut("schedule") {
                        Some(Event::Schedule(list)) => list.push(Schedule { cron }),
                        _ => {
                            on.insert("schedule", Event::Schedule(vec![Schedule { cron }]));
                        }
                    }
                }
                TriggerEvent::Manual => {
                    on.insert("workflow_dispatch", Event::Filters(Filters::default()));
                }
            }
        }
        if push.branches.is_some() || push.tags.is_some() {
            on.shift_insert(0, "push", Event::Filters(push));
        }
        if on.is_empty() {
            // A pipeline without triggers runs only when started directly.
            on.insert("workflow_dispatch", Event::Filters(Filters::default()));
        }
        self.manual_inputs(&mut on);
        on
    }

    /// v2 i13f: a boolean `workflow_dispatch` input `start_<job>` per manual job; a manual job
    /// runs in a run started by hand with its input set.
    fn manual_inputs(&mut self, on: &mut IndexMap<&'static str, Event>) {
        if !after_failure::has_manual(self.plan) {
            return;
        }
        let mut inputs = IndexMap::new();
        for job in self.plan.jobs.iter().filter(|j| j.manual) {
            let key = &self.keys[job.id.as_str()];
            inputs.insert(
                after_failure::github_input(key),
                inputs::DispatchInput {
                    description: Some(literal(&format!("Start the manual job {}", job.name))),
                    required: false,
                    input_type: "boolean",
                    default: Some(inputs::DefaultValue::Bool(false)),
                    options: Vec::new(),
                },
            );
        }
        if !on.contains_key("workflow_dispatch") {
            let first = self
                .plan
                .jobs
                .iter()
                .find(|j| j.manual)
                .expect("a manual job");
            self.lossy.push(Lossy::at(
                first,
                "GitHub has no job a person starts inside a run: each `start = manual` job runs in a run started by hand (`workflow_dispatch`) with its input `start_<job>` set",
                "the workflow gains a `workflow_dispatch` trigger the pipeline does not have",
            ));
        }
        on.insert("workflow_dispatch", Event::Dispatch { inputs });
    }

    /// The first job: evaluates every job's effective condition with cdl's semantics and
    /// publishes each as an output `true` or `false`.
    fn conditions_job(&self) -> Option<WorkflowJob> {
        let mut conditions: Vec<(&str, &Condition)> = Vec::new();
        let mut outputs = IndexMap::new();
        for unit in &self.units {
            let job = unit.job();
            let condition = &self.effective[job.id.as_str()];
            // v2: a manual job's `auto_when`, evaluated like the conditions.
            let auto = self
                .auto_keys
                .get(job.id.as_str())
                .zip(job.auto_when.as_ref())
                .filter(|_| !matches!(condition, Condition::Const(false)));
            for (key, condition) in [(&self.keys[job.id.as_str()], condition)]
                .into_iter()
                .filter(|(_, c)| !matches!(c, Condition::Const(_)))
                .chain(auto)
            {
                conditions.push((key, condition));
                outputs.insert(
                    key.clone(),
                    format!("${{{{ steps.evaluate.outputs.{key} }}}}"),
                );
            }
        }
        if conditions.is_empty() {
            return None;
        }
        let (script, values) = conditions::script(&conditions);
        let mut step_env = literal_map(&values);
        step_env.extend(inputs::defined_secrets(&conditions));
        let runs_on = literal(
            self.plan
                .pipeline
                .runner
                .as_deref()
                .unwrap_or(DEFAULT_RUNNER),
        );
        Some(WorkflowJob {
            defaults: windows_shell(&runs_on).map(|shell| Defaults {
                run: RunDefaults {
                    shell: Some(shell),
                    working_directory: None,
                },
            }),
            name: Some("conditions".into()),
            runs_on,
            timeout_minutes: Some(5),
            outputs,
            steps: {
                // v2 i14b: the changed files for `changed()`, from the whole history.
                let reads_changed = conditions.iter().any(|(_, c)| super::changed::reads(c));
                let mut steps = if reads_changed {
                    changed_files_steps()
                } else {
                    Vec::new()
                };
                steps.push(Step {
                    name: Some("Evaluate the jobs' conditions".into()),
                    id: Some("evaluate".into()),
                    env: step_env,
                    run: Some(script),
                    ..Step::default()
                });
                steps
            },
            ..WorkflowJob::default()
        })
    }

    /// `needs.KEY.result != 'skipped'` for each need of `job` (when it runs only after its
    /// needs succeeded) that is a manual job or needs one that way, however far back.
    fn skipped_needs(&self, job: &Job) -> Vec<String> {
        fn waits_for_manual(plan: &Plan, id: &str, seen: &mut HashSet<String>) -> bool {
            let Some(job) = plan.job(id) else {
                return false;
            };
            if job.manual {
                return true;
            }
            job.runs == crate::plan::Runs::OnSuccess
                && job
                    .needs
                    .iter()
                    .any(|n| seen.insert(n.clone()) && waits_for_manual(plan, n, seen))
        }
        if job.runs != crate::plan::Runs::OnSuccess {
            return Vec::new();
        }
        let mut tests: Vec<String> = Vec::new();
        for need in &job.needs {
            if waits_for_manual(self.plan, need, &mut HashSet::new()) {
                let test = format!("needs.{}.result != 'skipped'", self.keys[need.as_str()]);
                if !tests.contains(&test) {
                    tests.push(test);
                }
            }
        }
        tests
    }

    fn job(&mut self, unit: &Unit<'p>) -> WorkflowJob {
        let job = unit.job();
        let stage_jobs = jobs::previous_stage_jobs(self.plan, &job.stage);
        let mut needs = jobs::needs_then(job, stage_jobs, |id| &self.keys[id]);
        let key = &self.keys[job.id.as_str()];
        let condition = match &self.effective[job.id.as_str()] {
            Condition::Const(true) => None,
            Condition::Const(false) => Some("false".to_string()),
            _ => {
                needs.push(self.conditions_key.clone());
                Some(format!(
                    "needs.{}.outputs.{key} == 'true'",
                    self.conditions_key
                ))
            }
        };
        // v2 i13f: a manual job runs when its `workflow_dispatch` input is set; v2: or, with
        // `auto_when`, when the conditions job says it holds.
        let started = match self.auto_keys.get(job.id.as_str()) {
            Some(auto) if job.manual && condition.as_deref() != Some("false") => {
                if !needs.contains(&self.conditions_key) {
                    needs.push(self.conditions_key.clone());
                }
                format!(
                    "(inputs.{} || needs.{}.outputs.{auto} == 'true')",
                    after_failure::github_input(key),
                    self.conditions_key
                )
            }
            _ => format!("inputs.{}", after_failure::github_input(key)),
        };
        let condition = match (job.manual, condition) {
            (true, Some(never)) if never == "false" => Some(never),
            (true, Some(c)) => Some(format!("{started} && {c}")),
            (true, None) => Some(started),
            (false, condition) => condition,
        };
        // A manual job nobody started is skipped, and so are the jobs that need it (as under
        // `cdl run`): the status check below keeps GitHub from skipping them itself, so each
        // need that may be skipped that way is tested.
        let condition = match (condition, self.skipped_needs(job)) {
            (Some(never), _) if never == "false" => Some(never),
            (condition, tests) if tests.is_empty() => condition,
            (Some(c), tests) => Some(format!("{} && {c}", tests.join(" && "))),
            (None, tests) => Some(tests.join(" && ")),
        };
        let status = after_failure::github_status(job.runs);
        let condition = match (needs.is_empty(), condition) {
            (_, Some(never)) if never == "false" => Some(never),
            // `on_failure` with nothing to wait for never runs.
            (true, _) if job.runs == crate::plan::Runs::OnFailure => Some("false".into()),
            (true, condition) => condition.map(|c| format!("${{{{ {c} }}}}")),
            (false, None) => Some(format!("${{{{ {status} }}}}")),
            (false, Some(c)) => Some(format!("${{{{ {status} && {c} }}}}")),
        };
        let mut workflow_job = WorkflowJob {
            name: job.display_name.as_deref().map(literal),
            needs,
            condition,
            runs_on: literal(job.runner.as_deref().unwrap_or(DEFAULT_RUNNER)),
            container: job.image.as_deref().map(literal),
            continue_on_error: job.allow_failure,
            ..WorkflowJob::default()
        };
        // v2 i13j: a composed runner or image, as expressions
        let [runner, image, url] = self.composed(job);
        if let Some(runner) = runner {
            workflow_job.runs_on = runner;
        }
        if image.is_some() {
            workflow_job.container = image;
        }
        if job.job_type == JobType::Gate {
            // A gate runs no command of its own: no container to start.
            workflow_job.container = None;
            self.gate(job, &mut workflow_job);
            return workflow_job;
        }
        let mut env: IndexMap<String, String> = unit
            .env(|axis| format!("${{{{ matrix.{axis} }}}}"))
            .into_iter()
            .filter(|(k, v)| self.plan.env.get(k) != Some(v))
            .map(|(k, v)| {
                let value = if unit.is_matrix() && is_matrix_variable(&k) {
                    v
                } else {
                    literal(&v)
                };
                (k, value)
            })
            .collect();
        for secret in &job.secrets {
            env.insert(secret.clone(), format!("${{{{ secrets.{secret} }}}}"));
        }
        if job.registry {
            // `registry = true`: GitHub's registry, the actor and the job's own token (which
            // gets `packages: write` below); the image path is set by the `cdl registry` step.
            env.insert("CDL_REGISTRY".into(), GITHUB_REGISTRY.into());
            env.insert("CDL_REGISTRY_USER".into(), "${{ github.actor }}".into());
            env.insert(
                "CDL_REGISTRY_PASSWORD".into(),
                "${{ secrets.GITHUB_TOKEN }}".into(),
            );
        }
        // v2 i13i: values of the jobs it waits for, through `needs` (export/values.rs).
        let (read, writers) =
            super::values::github_reads(self.plan, job, &|id| self.keys[id].clone());
        env.extend(read);
        for writer in writers {
            if !workflow_job.needs.contains(&writer) {
                workflow_job.needs.push(writer);
            }
        }
        workflow_job
            .outputs
            .extend(super::values::github_outputs(job).1);
        workflow_job.env = env;
        if unit.is_matrix() {
            workflow_job.strategy = Some(Strategy {
                fail_fast: false,
                max_parallel: job.max_parallel,
                matrix: unit
                    .axes
                    .iter()
                    .map(|(axis, values)| {
                        (axis.clone(), values.iter().map(|v| literal(v)).collect())
                    })
                    .collect(),
            });
        }
        let shell = windows_shell(&workflow_job.runs_on);
        // v2: several labels, all of which the runner must have.
        if job.runner_labels.len() > 1 && job.runner_value.is_none() {
            workflow_job.runs_on_labels = job.runner_labels.iter().map(|l| literal(l)).collect();
            workflow_job.runs_on.clear();
        }
        workflow_job.defaults =
            (shell.is_some() || self.working_directory.is_some()).then(|| Defaults {
                run: RunDefaults {
                    shell,
                    working_directory: self.working_directory.as_deref().map(literal),
                },
            });
        self.deployment(job, &mut workflow_job);
        self.review(job, &mut workflow_job);
        self.lossy
            .extend(super::trigger::unsupported(job, "GitHub Actions"));
        if let (Some(url), Some(environment)) = (url, workflow_job.environment.as_mut()) {
            environment.url = Some(url);
        }
        if let Some(seconds) = job.timeout_seconds {
            // Each attempt runs under `timeout` (see `steps`); `timeout-minutes`, which also
            // counts the checkout and the artifacts, is a backstop a minute longer.
            let attempts = u64::from(job.retries) + 1;
            workflow_job.timeout_minutes = Some((seconds * attempts).div_ceil(60) + 1);
        }
        workflow_job.steps = self.steps(job);
        // v2 i14d: service containers, and where the steps reach them.
        self.services(job, &mut workflow_job);
        // v2 i14c: caches restored after the context step, saved after the commands.
        if !job.caches.is_empty() {
            let folder = self.working_directory.as_deref();
            let publishes = self
                .plan
                .triggers
                .iter()
                .any(|t| t.event == TriggerEvent::Tag);
            let at = workflow_job
                .steps
                .iter()
                .position(|s| s.name.as_deref() == Some("cdl context"))
                .map_or(0, |i| i + 1);
            let restore = cache::restore_steps(job, folder, publishes, &mut self.lossy);
            workflow_job.steps.splice(at..at, restore);
            workflow_job
                .steps
                .extend(cache::save_steps(job, folder, publishes));
        }
        // v2 reports and kept files (i13h): uploaded whether the steps passed or failed.
        if let Some(step) = self.kept_step(job, unit.is_matrix()) {
            workflow_job.steps.push(step);
        }
        // v2 i14a: write scopes only on the jobs that need them (never the workflow's).
        let permissions = match &job.permissions {
            // `registry = true` pushes with the job's token.
            _ if job.registry => Some(
                job.permissions
                    .clone()
                    .unwrap_or_else(crate::plan::Permissions::default_scopes)
                    .with_write("packages"),
            ),
            permissions => permissions.clone(),
        };
        workflow_job.permissions = permissions.as_ref().map(|p| {
            p.expanded()
                .into_iter()
                .filter(|(scope, access)| *scope != "id_token" || *access == Access::Write)
                .map(|(scope, access)| (github_scope(scope), access.as_str()))
                .collect()
        });
        if job.checkout.is_some_and(|c| c.skip) {
            // No repository, so no folder of the pipeline file to run in.
            if let Some(defaults) = &mut workflow_job.defaults {
                defaults.run.working_directory = None;
            }
            if workflow_job
                .defaults
                .as_ref()
                .is_some_and(|d| d.run.shell.is_none())
            {
                workflow_job.defaults = None;
            }
        }
        workflow_job
    }

    /// v2 i14d: the job's `services:`. A container job reaches a service at its name and
    /// port (job `env`); a host job at `localhost` and the published port, which only a step
    /// can read (`job.services.<id>.ports`): a first step writes both to `$GITHUB_ENV`.
    fn services(&mut self, job: &'p Job, workflow_job: &mut WorkflowJob) {
        if job.services.is_empty() {
            return;
        }
        for service in &job.services {
            let mut options = None;
            if let Some(health) = &service.health {
                options = super::services::docker_health_option(health);
                if options.is_none() {
                    self.lossy.push(super::services::part_lost(
                        job,
                        service,
                        "health",
                        "GitHub",
                        "GitHub passes `options` on docker's command line, where this command cannot be quoted exactly; write a health command of letters, digits, single spaces and `._/:=,@+-%`, or check readiness in the job's first step",
                    ));
                }
            }
            if !service.command.is_empty() {
                self.lossy.push(super::services::part_lost(
                    job,
                    service,
                    "command",
                    "GitHub",
                    "GitHub service containers run their image's command; use an image whose command is the one you need, or set it through the image's environment variables",
                ));
            }
            workflow_job.services.insert(
                service.name.clone(),
                ServiceContainer {
                    image: literal(&service.image),
                    env: literal_map(&service.env),
                    ports: service.port.map(|p| p.to_string()).into_iter().collect(),
                    options,
                },
            );
        }
        if workflow_job.container.is_some() {
            workflow_job.env.extend(super::services::variables(
                job,
                |s| s.name.clone(),
                |_, port| port.to_string(),
            ));
            return;
        }
        let variables = super::services::variables(
            job,
            |_| "localhost".to_string(),
            |s, port| format!("${{{{ job.services.{}.ports['{port}'] }}}}", s.name),
        );
        let mut env = IndexMap::new();
        let mut script = String::new();
        for (index, (name, value)) in variables.into_iter().enumerate() {
            let holder = format!("CDL_SERVICE_VALUE_{index}");
            script.push_str(&format!("echo \"{name}=${holder}\" >> \"$GITHUB_ENV\"\n"));
            env.insert(holder, value);
        }
        // After the checkout: the steps run in the pipeline file's folder.
        let after_checkout = workflow_job
            .steps
            .iter()
            .position(|s| {
                s.uses
                    .as_deref()
                    .is_some_and(|u| u.starts_with("actions/checkout"))
            })
            .map_or(0, |i| i + 1);
        workflow_job.steps.insert(
            after_checkout,
            Step {
                name: Some("Where the services are (cdl `service`)".into()),
                env,
                run: Some(script),
                ..Step::default()
            },
        );
    }

    /// `actions/upload-artifact` with `if: always()` for the job's reports and kept files.
    fn kept_step(&mut self, job: &'p Job, matrix: bool) -> Option<Step> {
        let paths = super::reports::kept(job);
        if paths.is_empty() {
            // An artifact's upload carries its `retention` (`artifact_steps`).
            if job.job_type != JobType::Artifact {
                self.lossy.extend(super::reports::retention_elsewhere(
                    job,
                    "GitHub",
                    "only for uploaded files",
                ));
            }
            return None;
        }
        self.lossy
            .extend(super::reports::kinds_unread(job, "GitHub", &[]));
        let mut name = format!("{}-kept", job.name);
        if matrix {
            name.push_str("-${{ strategy.job-index }}");
        }
        let folder = self.working_directory.as_deref();
        let path: Vec<String> = paths
            .iter()
            .map(|p| super::reports::github_glob(&super::reports::in_folder(folder, p)))
            .collect();
        let mut with = IndexMap::from([
            ("name".into(), Input::Text(name)),
            (
                "path".into(),
                Input::Text(literal(&(path.join("\n") + "\n"))),
            ),
            ("if-no-files-found".into(), Input::Text("warn".into())),
        ]);
        if let Some(days) = job.retention_days {
            with.insert("retention-days".into(), Input::Text(days.to_string()));
        }
        Some(Step {
            name: Some("Keep the reports and files (cdl `reports`, `keep`)".into()),
            uses: Some(UPLOAD.into()),
            with,
            condition: Some(super::reports::keep_when(job).github.into()),
            ..Step::default()
        })
    }

    fn gate(&mut self, job: &'p Job, workflow_job: &mut WorkflowJob) {
        let environment = format!("approval/{}/{}", self.plan.pipeline.name, job.id);
        workflow_job.name = Some(literal(&match &job.message {
            Some(message) => format!("{}: {message}", job.id),
            None => job.id.clone(),
        }));
        workflow_job.environment = Some(Environment {
            name: literal(&environment),
            url: None,
        });
        workflow_job.env = job
            .env
            .iter()
            .filter(|(k, v)| self.plan.env.get(*k) != Some(*v))
            .map(|(k, v)| (k.clone(), literal(v)))
            .collect();
        workflow_job.steps = vec![Step {
            name: Some("Approved".into()),
            run: Some("printf 'cdl: the gate %s was approved\\n' \"$CDL_JOB\"\n".into()),
            ..Step::default()
        }];
        let required = job.required.unwrap_or(1);
        if required > 1 {
            self.lossy.push(Lossy::at(
                job,
                format!("the gate needs {required} approvals; GitHub proceeds after one required reviewer approves"),
                "the settings file lists the approvers; only one approval is enforced",
            ));
        }
        if job.approvers.len() > MAX_REVIEWERS {
            self.lossy.push(Lossy::at(
                job,
                format!("the gate has {} approvers; GitHub allows at most {MAX_REVIEWERS} required reviewers", job.approvers.len()),
                "give the protected environment a team of the approvers instead",
            ));
        }
        match job.timeout_seconds {
            Some(REVIEW_LIMIT_SECONDS) => {}
            Some(seconds) => self.lossy.push(Lossy::at(
                job,
                format!("GitHub cannot reject a gate after {}: a review may come up to 30 days later", super::duration_text(seconds)),
                "a job waiting for review fails after 30 days; the gate's own timeout is not enforced",
            )),
            None => self.lossy.push(Lossy::at(
                job,
                "the gate has no timeout, but GitHub fails a job waiting for review after 30 days",
                "write `timeout = 30d` to say so in the pipeline",
            )),
        }
        self.gates.push((environment, job));
    }

    /// A review environment: `environment:` with the name and url as expressions over the
    /// context the job's `CDL_*` variables come from (GitHub evaluates them before the job;
    /// `github` is allowed in both). A stop job gets none: W0200.
    fn review(&mut self, job: &'p Job, workflow_job: &mut WorkflowJob) {
        let Some(review) = &job.review else { return };
        if review.stops.is_some() {
            self.lossy.extend(super::review::github_stop(job));
            return;
        }
        let mut context = IndexMap::new();
        self.context(&mut context);
        let name = super::value::github(&review.name, &context, literal);
        let url = review
            .url
            .as_ref()
            .and_then(|u| super::value::github(u, &context, literal));
        if let Some(name) = name {
            workflow_job.environment = Some(Environment { name, url });
        }
    }

    /// A deploy's environment and concurrency limit.
    fn deployment(&mut self, job: &'p Job, workflow_job: &mut WorkflowJob) {
        if job.job_type != JobType::Deploy {
            return;
        }
        let Some(name) = &job.environment else { return };
        let environment = self.plan.environments.iter().find(|e| &e.name == name);
        workflow_job.environment = Some(Environment {
            name: literal(name),
            url: environment.and_then(|e| e.url.as_deref()).map(literal),
        });
        let Some(limit) = environment.and_then(|e| e.concurrency) else {
            return;
        };
        workflow_job.concurrency = Some(Concurrency {
            // A repository's workflows share concurrency groups: the pipeline's name keeps
            // this one to the deploys of this pipeline.
            group: literal(&format!("{}-deploy-{name}", self.plan.pipeline.name)),
            cancel_in_progress: false,
        });
        let first = self
            .plan
            .jobs
            .iter()
            .find(|j| j.job_type == JobType::Deploy && j.environment.as_ref() == Some(name));
        if first.map(|j| &j.id) != Some(&job.id) {
            return;
        }
        let mut message = format!(
            "GitHub keeps one deploy to `{name}` waiting and cancels it when another one queues"
        );
        if limit > 1 {
            message = format!(
                "GitHub runs one deploy to `{name}` at a time, not {limit}; it also keeps one waiting and cancels it when another one queues"
            );
        }
        self.lossy.push(Lossy::at(
            job,
            message,
            "a third deploy waiting for the environment cancels the second instead of queueing behind it",
        ));
    }

    fn steps(&mut self, job: &'p Job) -> Vec<Step> {
        let mut steps = Vec::new();
        if !job.checkout.is_some_and(|c| c.skip) {
            let mut with = IndexMap::from([("persist-credentials".into(), Input::Flag(false))]);
            // v2 i14a: `checkout { depth  submodules  lfs }` as actions/checkout's inputs.
            if let Some(checkout) = job.checkout {
                if let Some(depth) = checkout.depth {
                    with.insert("fetch-depth".into(), Input::Text(depth.to_string()));
                }
                if checkout.submodules {
                    with.insert("submodules".into(), Input::Text("recursive".into()));
                }
                if checkout.lfs {
                    with.insert("lfs".into(), Input::Flag(true));
                }
            }
            steps.push(Step {
                uses: Some(CHECKOUT.into()),
                with,
                ..Step::default()
            });
        }
        steps.push(Step {
            name: Some("cdl context".into()),
            run: Some("echo \"CDL_WORKSPACE=$PWD\" >> \"$GITHUB_ENV\"\n".into()),
            ..Step::default()
        });
        if job.registry {
            // GitHub's image names are lower case; the repository's name is read from the
            // runner's environment, never written into the workflow.
            steps.push(Step {
                name: Some("cdl registry".into()),
                run: Some(GITHUB_REGISTRY_SCRIPT.into()),
                ..Step::default()
            });
        }
        if let Some(oidc) = &job.oidc {
            // v2 i14a: the token for the audience, masked, in `CDL_OIDC_TOKEN`.
            steps.push(Step {
                name: Some("Request the OIDC token".into()),
                env: IndexMap::from([("CDL_OIDC_AUDIENCE".into(), literal(&oidc.audience))]),
                run: Some(super::platform::GITHUB_OIDC_SCRIPT.into()),
                ..Step::default()
            });
        }
        for input in &job.inputs {
            // v2 i13k: a matrix artifact is one download per instance, into its folder.
            for (name, folder) in super::matrix_artifacts::downloads(self.plan, input) {
                let path = match &folder {
                    Some(folder) => format!("{}/{folder}", store(input)),
                    None => store(input),
                };
                steps.push(Step {
                    name: Some(format!("Download the artifact {name}")),
                    uses: Some(DOWNLOAD.into()),
                    with: IndexMap::from([
                        ("name".into(), Input::Text(literal(&name))),
                        ("path".into(), Input::Text(path)),
                    ]),
                    ..Step::default()
                });
            }
        }
        if !job.inputs.is_empty() {
            let mut run = String::from(shell::LOCATE_FUNCTION);
            for input in job.inputs.iter().filter(|i| shell::is_identifier(i)) {
                let variable = super::artifact_variable(input);
                run.push_str(&format!(
                    "printf '%s=%s\\n' {variable} \"$(cdl_locate \"$RUNNER_TEMP/cdl-artifacts/{input}\")\" >> \"$GITHUB_ENV\"\n"
                ));
            }
            steps.push(Step {
                name: Some("Locate the artifacts".into()),
                run: Some(run),
                ..Step::default()
            });
        }
        if super::native::any(job, super::native::has_github) {
            // v2 i14e: actions between runner segments (github/native.rs).
            let references = self.with_references();
            let (native, lossy) = native::steps(job, &references);
            self.lossy.extend(lossy);
            steps.extend(native);
        } else if job.has_step_blocks() {
            // v2 steps (i13b): cdl's step rules in one step, exactly (export/steps.rs).
            let (mut env, lossy) = super::steps::runner_env(job);
            self.lossy.extend(lossy);
            if let Some(seconds) = job.timeout_seconds {
                env.insert("CDL_TIMEOUT".into(), seconds.to_string());
            }
            // v2 i13i: the job's values become the step's outputs (export/values.rs).
            env.extend(super::values::github_outputs(job).0);
            steps.push(Step {
                id: (!job.values.is_empty()).then(|| super::values::GITHUB_STEP_ID.to_string()),
                name: Some("Run the steps by cdl's step rules".into()),
                env: literal_map(&env),
                run: Some(super::value::github_run(job, &super::steps::runner(job))),
                ..Step::default()
            });
        } else if job.retries > 0 || job.timeout_seconds.is_some() {
            let mut name = String::from("Run the steps");
            if job.retries > 0 {
                name.push_str(&format!(
                    ", up to {} attempts (cdl's retries, emulated)",
                    job.retries + 1
                ));
            }
            let mut env = literal_map(&shell::retry_env(job));
            let script = match job.timeout_seconds {
                Some(seconds) => {
                    let each = if job.retries > 0 { ", each" } else { "" };
                    name.push_str(&format!("{each} within {}", super::duration_text(seconds)));
                    env.insert("CDL_TIMEOUT".into(), seconds.to_string());
                    shell::TIMED_RETRY_LOOP
                }
                None => shell::RETRY_LOOP,
            };
            steps.push(Step {
                name: Some(name),
                env,
                run: Some(super::value::github_run(job, script)),
                ..Step::default()
            });
        } else {
            for command in &job.steps {
                // v2 i13j: composed values are computed in the command's own shell.
                let plain = expressions::run(command).filter(|_| job.env_values.is_empty());
                steps.push(match plain {
                    Some(run) => Step {
                        run: Some(run),
                        ..Step::default()
                    },
                    None => Step {
                        env: IndexMap::from([("CDL_STEP".into(), literal(command))]),
                        run: Some(super::value::github_run(job, "sh -e -c \"$CDL_STEP\"\n")),
                        ..Step::default()
                    },
                });
            }
        }
        if job.job_type == JobType::Artifact
            && let Some(artifact) = &job.artifact
        {
            let (outputs, lossy) = shell::collect_env(job);
            self.lossy.extend(lossy);
            // v2 i13k: an instance of a matrix artifact collects into its folder and uploads
            // under its own name.
            let part = super::matrix_artifacts::store_part(job, artifact);
            let upload = super::matrix_artifacts::upload_name(job, artifact);
            let mut env = IndexMap::from([("CDL_ARTIFACT_STORE".to_string(), store(&part))]);
            env.extend(literal_map(&outputs));
            steps.push(Step {
                name: Some(format!("Collect the artifact {upload}")),
                env,
                run: Some(shell::collect_artifact(job)),
                ..Step::default()
            });
            let mut with = IndexMap::from([
                ("name".into(), Input::Text(literal(&upload))),
                ("path".into(), Input::Text(store(&part))),
                ("if-no-files-found".into(), Input::Text("error".into())),
                ("include-hidden-files".into(), Input::Flag(true)),
            ]);
            // v2: an artifact's own `retention`.
            if let Some(days) = job.retention_days {
                with.insert("retention-days".into(), Input::Text(days.to_string()));
            }
            steps.push(Step {
                name: Some(format!("Upload the artifact {upload}")),
                uses: Some(UPLOAD.into()),
                with,
                ..Step::default()
            });
        }
        steps
    }
}

/// Moves the variables whose value holds `${{` from the workflow's and the jobs' `env:` to the
/// `env:` of each step that runs a command. nektos/act evaluates workflow and job variables
/// a second time (a `${{ '${{' }}` becomes an expression again), steps' variables once; a
/// step's `env:` is the one place both evaluate once.
fn once_evaluated(
    workflow_env: &mut IndexMap<String, String>,
    jobs: &mut IndexMap<String, WorkflowJob>,
) {
    let evaluated = |value: &String| value.contains("${{ '${{' }}");
    let workflow_moved: IndexMap<String, String> = workflow_env
        .iter()
        .filter(|(_, v)| evaluated(v))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    workflow_env.retain(|_, v| !evaluated(v));
    for job in jobs.values_mut() {
        let mut moved: IndexMap<String, String> = workflow_moved
            .iter()
            .filter(|(k, _)| !job.env.contains_key(*k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        moved.extend(
            job.env
                .iter()
                .filter(|(_, v)| evaluated(v))
                .map(|(k, v)| (k.clone(), v.clone())),
        );
        job.env.retain(|_, v| !evaluated(v));
        if moved.is_empty() {
            continue;
        }
        for step in job.steps.iter_mut().filter(|s| s.run.is_some()) {
            let mut env = moved.clone();
            env.extend(std::mem::take(&mut step.env));
            step.env = env;
        }
    }
}

/// The shell of a job on a Windows runner, where GitHub has no `sh` shell: Git Bash runs the
/// POSIX commands (GitHub's `bash` on Windows; docs: "jobs.<job_id>.steps[*].shell").
fn windows_shell(runs_on: &str) -> Option<&'static str> {
    runs_on
        .to_ascii_lowercase()
        .starts_with("windows")
        .then_some("bash")
}

fn is_matrix_variable(name: &str) -> bool {
    name == "CDL_JOB" || name.starts_with("CDL_MATRIX_")
}

/// The longest job id [`job_key`] makes: GitHub's ids "must be less than 100 characters", and
/// [`unique`] may add `-NNN` to it.
const JOB_KEY_MAX: usize = 92;

/// A valid GitHub job id for a unit id: `[A-Za-z0-9_-]`, starting with a letter or `_`, at most
/// [`JOB_KEY_MAX`] characters (a matrix instance named by all its values is cut; [`unique`]
/// tells apart the instances that the cut makes alike).
fn job_key(id: &str) -> String {
    let mut key = jobs::identifier(id);
    if !key.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') {
        key.insert(0, '_');
    }
    // only ASCII is left, so any byte index is a character boundary
    key.truncate(JOB_KEY_MAX);
    key
}

/// `key`, or `key-2`, `key-3` … when taken (GitHub compares job ids without case).
fn unique(key: &str, taken: &mut HashSet<String>) -> String {
    jobs::claim_unique_folded(taken, key, |key, n| format!("{key}-{n}"), str::to_lowercase)
}

/// v2 i14b: the conditions job's steps that list the changed files for `changed()` (see
/// `export::changed::GITHUB_CHANGED_SCRIPT`): a checkout of the whole history, and the diff
/// against the event's base, which reaches the script through the environment only.
fn changed_files_steps() -> Vec<Step> {
    vec![
        Step {
            uses: Some(CHECKOUT.into()),
            with: IndexMap::from([
                ("persist-credentials".into(), Input::Flag(false)),
                ("fetch-depth".into(), Input::Text("0".into())),
            ]),
            ..Step::default()
        },
        Step {
            name: Some("List the changed files".into()),
            env: IndexMap::from([
                (
                    "CDL_PUSH_BEFORE".into(),
                    "${{ github.event.before }}".into(),
                ),
                (
                    "CDL_PR_BASE".into(),
                    "${{ github.event.pull_request.base.sha }}".into(),
                ),
            ]),
            run: Some(super::changed::GITHUB_CHANGED_SCRIPT.into()),
            ..Step::default()
        },
    ]
}

// v2 i13j: composed values
impl Builder<'_> {
    /// A job's composed runner, image and environment url as expressions over the context
    /// its `CDL_*` variables come from (export/value.rs); W0200 for a reference GitHub
    /// cannot read there, which is left out.
    fn composed(&mut self, job: &Job) -> [Option<String>; 3] {
        self.lossy.extend(super::value::data(job).1);
        let mut context = IndexMap::new();
        self.context(&mut context);
        let url = super::value::environment_url(self.plan, job);
        let mut out = [None, None, None];
        let values = [
            ("runner", job.runner_value.as_ref()),
            ("image", job.image_value.as_ref()),
            ("environment url", url),
        ];
        for (slot, (what, value)) in out.iter_mut().zip(values) {
            let Some(value) = value else { continue };
            match super::value::github(value, &context, literal) {
                Some(text) => *slot = Some(text),
                None => self.lossy.push(Lossy::at(
                    job,
                    format!(
                        "GitHub reads the job's {what} before its steps and has no expression there for a reference of `{}`",
                        super::value::written(value)
                    ),
                    format!("the {what} is left out; compute it from `sha`, `branch`, `tag`, `repository`, `default_branch`, `input.NAME` or `var.NAME`"),
                )),
            }
        }
        out
    }
}

impl Builder<'_> {
    /// v2 §5: each reference of an action's `with:` as the expression it reads: the run
    /// context, an input or a var as the one the job's `CDL_*` variable is set from, a
    /// secret as `secrets.NAME`, a value as the writer's job output (`needs`), `workspace` as
    /// the variable the `cdl context` step sets.
    fn with_references(&mut self) -> impl Fn(&Reference) -> String + use<> {
        let mut context = IndexMap::new();
        self.context(&mut context);
        context.extend(inputs::env(self.plan));
        let writers: HashMap<String, String> = self
            .plan
            .jobs
            .iter()
            .filter(|j| !j.values.is_empty())
            .filter_map(|j| Some((j.name.clone(), self.keys.get(j.id.as_str())?.clone())))
            .collect();
        move |reference| match reference {
            Reference::Secret(name) => format!("${{{{ secrets.{name} }}}}"),
            Reference::Workspace => "${{ env.CDL_WORKSPACE }}".into(),
            Reference::Value { job, name } => match writers.get(job) {
                Some(key) => format!("${{{{ needs.{key}.outputs.{name} }}}}"),
                None => format!("${{{{ env.{} }}}}", reference.variable()),
            },
            other => context
                .get(&other.variable())
                .cloned()
                .unwrap_or_else(|| format!("${{{{ env.{} }}}}", other.variable())),
        }
    }
}

/// Text kept literal by this target's encoder (v2 i14e: native steps' `with` values).
pub(super) fn literal_text(text: &str) -> String {
    expressions::literal(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn job_keys_are_valid_github_ids() {
        assert_eq!(
            job_key("unit[os=linux,rust=1.85]"),
            "unit_os_linux_rust_1_85"
        );
        assert_eq!(job_key("build"), "build");
        // a matrix instance named by every value of a long include (ripgrep's release)
        let long = format!(
            "archive[build=stable-x86,target={}]",
            "i686-unknown-linux-gnu".repeat(8)
        );
        assert!(job_key(&long).len() <= JOB_KEY_MAX);
        let mut taken = HashSet::new();
        let first = unique(&job_key(&long), &mut taken);
        let second = unique(&job_key(&format!("{long}x")), &mut taken);
        assert_ne!(first, second);
        assert!(first.len() < 100 && second.len() < 100);
        let mut taken = HashSet::new();
        assert_eq!(unique("Build", &mut taken), "Build");
        assert_eq!(unique("build", &mut taken), "build-2");
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(300))]

        /// Every place of an exported workflow, evaluated as GitHub does, gives the text.
        #[test]
        fn every_place_of_a_workflow_keeps_hostile_text(
            text in crate::export::literal::hostile_text()
        ) {
            let Some(plan) = crate::export::literal::plan_with_text(&text) else {
                return Ok(());
            };
            let workflow = Builder::new(&plan).workflow();
            let evaluate = |written: &str| {
                expressions::evaluate(written)
                    .unwrap_or_else(|e| panic!("{written:?} is evaluated: {e}"))
            };
            let (_, unit) = workflow.jobs.iter().find(|(k, _)| k.starts_with("unit")).unwrap();
            let step = unit.steps.last().unwrap();
            // A variable as the step sees it: its own, else the job's, else the workflow's.
            let variable = |name: &str| {
                let written = step
                    .env
                    .get(name)
                    .or_else(|| unit.env.get(name))
                    .or_else(|| workflow.env.get(name))
                    .unwrap_or_else(|| panic!("{name} is set"));
                // Workflow and job variables must not depend on how often they are evaluated.
                if !step.env.contains_key(name) {
                    assert!(!written.contains("${{"), "{name}: {written:?}");
                }
                evaluate(written)
            };
            assert_eq!(variable("X"), text);
            assert_eq!(variable("Y"), text);
            assert_eq!(variable("CDL_DEFAULT_BRANCH"), text);
            assert_eq!(evaluate(unit.container.as_deref().unwrap()), text);
            assert_eq!(evaluate(&unit.runs_on), text);
            match &unit.strategy {
                Some(strategy) => {
                    assert!(!strategy.matrix["v"][0].contains("${{"));
                    assert_eq!(evaluate(&strategy.matrix["v"][0]), text);
                }
                None => assert_eq!(variable("CDL_MATRIX_V"), text),
            }
            let command = match step.env.get("CDL_STEP") {
                Some(written) => evaluate(written),
                None => step.run.clone().unwrap(),
            };
            assert_eq!(command, text);
            let gate = &workflow.jobs["g"];
            assert_eq!(evaluate(gate.name.as_deref().unwrap()), format!("g: {text}"));
            let deploy = &workflow.jobs["deploy_app_production"];
            let environment = deploy.environment.as_ref().unwrap();
            assert_eq!(evaluate(environment.url.as_deref().unwrap()), text);
        }
    }

    fn export(text: &str) -> Export {
        let compilation = crate::compile::compile_text("p.cdl", None, text.into());
        let plan = crate::plan::build(&compilation).unwrap();
        GitHub.export(&plan)
    }

    #[test]
    fn on_filter_with_expression_is_widened_and_reported() {
        let export = export(
            "pipeline p {\n  on push { branches = [\"x${{github.actor}}\"] }\n  on tag { pattern = \"v${{x}}\" }\n  stage a { job x { run = \"true\" } }\n}\n",
        );
        let workflow = &export.files[0].content;
        assert!(workflow.contains("- x$*{{github.actor}}"), "{workflow}");
        assert!(!workflow.contains("${{ '${{' }}"), "{workflow}");
        let messages: Vec<&str> = export.lossy.iter().map(|l| l.message.as_str()).collect();
        assert_eq!(
            messages
                .iter()
                .filter(|m| m.contains("reject as an expression"))
                .count(),
            2,
            "{messages:?}"
        );
    }

    #[test]
    fn windows_runners_get_bash_not_sh() {
        let export = export(
            "pipeline p {\n  runner = \"windows-latest\"\n  stage a {\n    job x { run = \"true\"; when = branch == \"main\" }\n    job other { run = \"true\"; runner = \"ubuntu-latest\" }\n  }\n}\n",
        );
        let workflow = &export.files[0].content;
        let x = workflow
            .split("\n  x:")
            .nth(1)
            .unwrap()
            .split("\n  other:")
            .next()
            .unwrap();
        assert!(x.contains("shell: bash"), "{workflow}");
        let conditions = workflow.split("cdl_conditions:").nth(1).unwrap();
        let conditions = conditions.split("\n  x:").next().unwrap();
        assert!(conditions.contains("shell: bash"), "{workflow}");
        let other = workflow.split("\n  other:").nth(1).unwrap();
        assert!(!other.contains("shell: bash"), "{workflow}");
    }

    #[test]
    fn deploy_concurrency_group_is_the_pipelines_own() {
        let export = export(
            "pipeline shop {\n  environment production { url = \"https://x.example\"; concurrency = 1 }\n  stage a { artifact app { run = \"true\"; outputs = [\"a\"] } }\n  stage b { deploy app to production { run = \"true\" } }\n}\n",
        );
        let workflow = &export.files[0].content;
        assert!(
            workflow.contains("group: shop-deploy-production"),
            "{workflow}"
        );
    }

    #[test]
    fn every_attempt_of_a_timed_job_runs_under_timeout_exactly() {
        let text = "pipeline p { stage s { job slow { run = \"sleep 30\"; timeout = 2s; retries = 2; allow_failure = true } } }";
        let compilation = crate::compile::compile_text("p.cdl", None, text.into());
        let plan = crate::plan::build(&compilation).unwrap();
        let export = GitHub.export(&plan);
        let warnings: Vec<&str> = export.lossy.iter().map(|l| l.message.as_str()).collect();
        assert!(warnings.is_empty(), "{warnings:?}");
        let workflow = &export.files[0].content;
        // 3 attempts of 2 s, rounded up to a minute, and a minute more: only a backstop.
        assert!(workflow.contains("timeout-minutes: 2\n"), "{workflow}");
        assert!(workflow.contains("CDL_TIMEOUT: \"2\""), "{workflow}");
        assert!(workflow.contains("CDL_ATTEMPTS: \"3\""), "{workflow}");
        assert!(
            workflow.contains("timeout \"$CDL_TIMEOUT\" sh -c"),
            "{workflow}"
        );
        assert!(workflow.contains("continue-on-error: true"), "{workflow}");
    }
}
