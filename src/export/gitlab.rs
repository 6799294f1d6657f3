//! GitLab CI: one `.gitlab-ci.yml`, and a settings file for the protected environments that
//! stand for gates. Stages map one to one; a job gets `needs:` only when it must wait for a
//! job of its own stage, and then lists every job of the earlier stages too, because GitLab
//! ignores stage order for a job with `needs:`. Conditions become `rules:`, each job's being
//! its effective condition, so that a job is left out whenever one of its explicit needs is.

mod cache;
mod expansion;
mod inputs;
mod platform;
mod rules;
// v2 i14b
mod changes;

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

use indexmap::IndexMap;
use serde::Serialize;

use super::condition;
use super::glob;
use super::jobs::{self, Unit};
use super::shell;
use super::{Export, Exporter, Lossy};
use crate::plan::Condition;
use crate::plan::{Job, Plan};
use crate::plan::{JobType, Reference, TriggerEvent};

pub struct GitLab;

/// GitLab runs at most 200 jobs from one `parallel: matrix`.
const MAX_MATRIX: usize = 200;
/// GitLab's default limit on the entries of one job's `needs:`.
const MAX_NEEDS: usize = 50;
/// GitLab's `retry:` goes up to 2; more attempts are emulated by a loop in the script.
const MAX_RETRY: u32 = 2;
/// Artifacts outlive the longest possible wait for the gates by this much.
/// The run context from GitLab's predefined variables, the way its rules read `event`
/// (`gitlab/rules.rs`): a merge request pipeline's branch is its source branch.
const CONTEXT: super::context::Sources = super::context::Sources {
    system: "GitLab CI",
    event: r#"case "${CI_PIPELINE_SOURCE:-}" in
  push) if [ -n "${CI_COMMIT_TAG:-}" ]; then CDL_EVENT=tag; else CDL_EVENT=push; fi ;;
  merge_request_event) CDL_EVENT=pull_request ;;
  web) CDL_EVENT=manual ;;
  *) CDL_EVENT=${CI_PIPELINE_SOURCE:-} ;;
esac"#,
    branch: "${CI_COMMIT_BRANCH:-${CI_MERGE_REQUEST_SOURCE_BRANCH_NAME:-}}",
    tag: "${CI_COMMIT_TAG:-}",
    sha: "${CI_COMMIT_SHA:-}",
    pr_target: Some("${CI_MERGE_REQUEST_TARGET_BRANCH_NAME:-}"),
    default_branch: Some("${CI_DEFAULT_BRANCH:-}"),
    repository: "${CI_PROJECT_PATH:-}",
};

/// A run-context reference in a review environment's name or url, as GitLab expands it there
/// (the same sources as the run context: an undefined variable is empty).
fn review_reference(reference: &Reference) -> &'static str {
    match reference {
        Reference::Branch => "${CI_COMMIT_BRANCH}${CI_MERGE_REQUEST_SOURCE_BRANCH_NAME}",
        Reference::Tag => "${CI_COMMIT_TAG}",
        Reference::Sha => "${CI_COMMIT_SHA}",
        Reference::Repository => "${CI_PROJECT_PATH}",
        Reference::Owner => "${CI_PROJECT_NAMESPACE}",
        Reference::Project => "${CI_PROJECT_NAME}",
        Reference::DefaultBranch => "${CI_DEFAULT_BRANCH}",
        // The checker admits only the run context here (E0360).
        _ => "",
    }
}

const ARTIFACT_MARGIN_SECONDS: u64 = 7 * 86_400;
/// Job names GitLab reads as keywords, or as GitLab Pages' job.
const RESERVED: &[&str] = &[
    "image",
    "services",
    "stages",
    "types",
    "before_script",
    "after_script",
    "variables",
    "cache",
    "include",
    "workflow",
    "default",
    "spec",
    "pages",
    "true",
    "false",
    "nil",
];

impl Exporter for GitLab {
    fn name(&self) -> &'static str {
        "gitlab"
    }

    fn default_path(&self, _plan: &Plan) -> PathBuf {
        PathBuf::from(".gitlab-ci.yml")
    }

    fn export(&self, plan: &Plan) -> Export {
        // v2 i13j: composed values' parts as the jobs' variables (export/value.rs)
        let prepared = super::value::prepare(plan);
        let plan: &Plan = &prepared;
        let mut builder = Builder::new(plan);
        let pipeline = builder.pipeline();
        let settings = super::settings::render("gitlab", plan, &builder.gates, None);
        Export::assemble(
            self.default_path(plan),
            super::to_yaml(&pipeline),
            settings,
            builder.lossy,
        )
    }
}

#[derive(Serialize)]
struct Pipeline {
    stages: Vec<String>,
    variables: IndexMap<String, Value>,
    workflow: Workflow,
    #[serde(flatten)]
    jobs: IndexMap<String, PipelineJob>,
}

/// A variable's value: plain (GitLab expands `$NAME` in it) or literal.
#[derive(Serialize)]
#[serde(untagged)]
enum Value {
    Plain(String),
    Literal {
        value: String,
        expand: bool,
    },
    /// v2 i13d: a variable shown in the form of a pipeline run by hand (inputs, vars).
    Described {
        value: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        description: Option<String>,
        #[serde(skip_serializing_if = "Vec::is_empty")]
        options: Vec<String>,
        expand: bool,
    },
}

impl Value {
    /// Text from the pipeline file, kept exactly as written.
    fn literal(text: &str) -> Value {
        match expansion::plain(text) {
            Some(text) => Value::Plain(text),
            None => Value::Literal {
                value: text.to_string(),
                expand: false,
            },
        }
    }
}

fn literal_map(map: &IndexMap<String, String>) -> IndexMap<String, Value> {
    map.iter()
        .map(|(k, v)| (k.clone(), Value::literal(v)))
        .collect()
}

#[derive(Serialize)]
struct Workflow {
    rules: Vec<Rule>,
    /// v2 i14a: the pipeline's `concurrency`.
    #[serde(skip_serializing_if = "Option::is_none")]
    auto_cancel: Option<platform::AutoCancel>,
}

#[derive(Serialize, Default)]
struct Rule {
    #[serde(rename = "if", skip_serializing_if = "Option::is_none")]
    condition: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    when: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    allow_failure: Option<bool>,
    // v2 i14a: a trigger's `paths`
    #[serde(skip_serializing_if = "Vec::is_empty")]
    changes: Vec<String>,
}

/// A job's `image:`, its name alone or with the `entrypoint` that replaces the image's.
#[derive(Serialize)]
#[serde(untagged)]
enum JobImage {
    Name(String),
    WithEntrypoint {
        name: String,
        entrypoint: Vec<String>,
    },
}

#[derive(Serialize, Default)]
struct PipelineJob {
    stage: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    image: Option<JobImage>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tags: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    needs: Option<Vec<Need>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    dependencies: Option<Vec<String>>,
    rules: Vec<Rule>,
    #[serde(skip_serializing_if = "Option::is_none")]
    parallel: Option<Parallel>,
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    variables: IndexMap<String, Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    timeout: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    retry: Option<u32>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    allow_failure: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    environment: Option<Environment>,
    #[serde(skip_serializing_if = "Option::is_none")]
    resource_group: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    manual_confirmation: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    before_script: Vec<String>,
    // A trigger job has none (GitLab refuses `script` beside `trigger`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    script: Vec<String>,
    // Downstream pipelines: `trigger: {project, branch, strategy: depend}`.
    #[serde(skip_serializing_if = "Option::is_none")]
    trigger: Option<DownstreamTrigger>,
    #[serde(skip_serializing_if = "Option::is_none")]
    artifacts: Option<Artifacts>,
    // v2 reports (i13h): GitLab's `coverage:` regex over the log.
    #[serde(skip_serializing_if = "Option::is_none")]
    coverage: Option<String>,
    // v2 i14a: platform settings
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    interruptible: bool,
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    id_tokens: IndexMap<String, platform::IdToken>,
    // v2 i14d: service containers
    #[serde(skip_serializing_if = "Vec::is_empty")]
    services: Vec<ServiceContainer>,
    // v2 i14c: caches
    #[serde(skip_serializing_if = "Vec::is_empty")]
    cache: Vec<cache::GitlabCache>,
}

/// v2 i14d: one of a job's `services:`.
#[derive(Serialize)]
struct ServiceContainer {
    name: String,
    alias: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    command: Vec<String>,
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    variables: IndexMap<String, String>,
}

#[derive(Serialize)]
struct Need {
    job: String,
    artifacts: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    optional: bool,
}

#[derive(Serialize)]
struct Parallel {
    matrix: Vec<IndexMap<String, Vec<String>>>,
}

#[derive(Serialize)]
struct Environment {
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    url: Option<String>,
    // Review environments: the stop job's key, and `stop` on that job.
    #[serde(skip_serializing_if = "Option::is_none")]
    on_stop: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    action: Option<&'static str>,
}

#[derive(Serialize)]
struct DownstreamTrigger {
    project: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    branch: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    strategy: Option<&'static str>,
}

#[derive(Serialize)]
struct Artifacts {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    paths: Vec<String>,
    expire_in: String,
    // v2 reports and kept files (i13h)
    #[serde(skip_serializing_if = "Option::is_none")]
    when: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reports: Option<KeptReports>,
}

/// `artifacts:reports` (v2 reports, i13h).
#[derive(Serialize, Default)]
struct KeptReports {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    junit: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    coverage_report: Option<CoverageReport>,
    #[serde(skip_serializing_if = "Option::is_none")]
    codequality: Option<String>,
    /// v2 i13i: `dotenv` of a job that passes values on (export/values.rs).
    #[serde(skip_serializing_if = "Option::is_none")]
    dotenv: Option<String>,
}

#[derive(Serialize)]
struct CoverageReport {
    coverage_format: &'static str,
    path: String,
}

/// Where an artifact's stored copy lives, relative to the project folder.
fn store(artifact: &str) -> String {
    format!(".cdl/artifacts/{artifact}")
}

fn matrix_variable(axis: &str) -> String {
    format!("CDL_MATRIX_{}", axis.to_uppercase().replace('-', "_"))
}

struct Builder<'p> {
    plan: &'p Plan,
    /// Job id → the name of the GitLab job that runs it.
    keys: HashMap<&'p str, String>,
    effective: HashMap<&'p str, Condition>,
    working_directory: Option<String>,
    expire_in: String,
    gates: Vec<(String, &'p Job)>,
    lossy: Vec<Lossy>,
}

impl<'p> Builder<'p> {
    fn new(plan: &'p Plan) -> Builder<'p> {
        let mut lossy = super::matrix_limit::lost(&plan.jobs, "GitLab CI");
        let working_directory = super::working_directory(plan).unwrap_or_else(|l| {
            lossy.push(l);
            None
        });
        let gate_timeouts: Option<Vec<u64>> = plan
            .jobs
            .iter()
            .filter(|j| j.job_type == JobType::Gate)
            .map(|j| j.timeout_seconds)
            .collect();
        let expire_in = match gate_timeouts {
            Some(timeouts) => {
                super::duration_text(timeouts.iter().sum::<u64>() + ARTIFACT_MARGIN_SECONDS)
            }
            None => "never".into(),
        };
        Builder {
            plan,
            keys: HashMap::new(),
            effective: condition::effective(plan),
            working_directory,
            expire_in,
            gates: Vec::new(),
            lossy,
        }
    }

    fn pipeline(&mut self) -> Pipeline {
        let units = jobs::units(self.plan, MAX_MATRIX);
        let mut taken: HashSet<String> = HashSet::new();
        // v2: the job that publishes the site is GitLab Pages' job, `pages`.
        if let Some(unit) = units.iter().find(|u| u.job().pages.is_some()) {
            taken.insert("pages".to_string());
            self.keys
                .insert(unit.job().id.as_str(), "pages".to_string());
        }
        for unit in &units {
            if self.keys.contains_key(unit.job().id.as_str()) {
                continue;
            }
            let mut key = unit.id().to_string();
            if RESERVED.contains(&key.as_str()) {
                key.push_str("-job");
                let what = if key == "pages-job" {
                    "GitLab publishes GitLab Pages from the job named `pages`".to_string()
                } else {
                    format!("GitLab reads `{}` as a keyword, not as a job", unit.id())
                };
                self.lossy.push(Lossy::at(
                    unit.job(),
                    what,
                    format!("the job is named `{key}` in .gitlab-ci.yml, and `CDL_JOB` keeps its cdl name"),
                ));
            }
            let key = jobs::claim_unique(&mut taken, &key, |key, n| {
                format!("{key}{}", "_".repeat(n - 1))
            });
            for job in &unit.jobs {
                self.keys.insert(job.id.as_str(), key.clone());
            }
        }
        self.secrets();
        let mut variables = literal_map(&self.plan.env);
        variables.insert("CDL_RUN_ID".into(), Value::Plain("$CI_PIPELINE_ID".into()));
        self.inputs_and_vars(&mut variables);
        let mut jobs = IndexMap::new();
        for unit in &units {
            let key = self.keys[unit.job().id.as_str()].clone();
            let job = self.job(unit);
            jobs.insert(key, job);
        }
        Pipeline {
            stages: self.plan.stages.iter().map(|s| s.name.clone()).collect(),
            variables,
            workflow: Workflow {
                rules: self.triggers(),
                auto_cancel: self.platform_workflow(),
            },
            jobs,
        }
    }

    /// v2 i13d: each input as the variable `CDL_INPUT_<NAME>` (its default as the value, its
    /// choices as `options`, shown in the form of a pipeline run by hand), each var with a
    /// default as a variable of its name — except one named like a predefined variable, which
    /// a YAML value would shadow (W0200).
    fn inputs_and_vars(&mut self, variables: &mut IndexMap<String, Value>) {
        for input in &self.plan.inputs {
            let value = input.default.clone().unwrap_or_default();
            let options = match input.input_type {
                crate::model::inputs::InputType::Bool => vec!["true".into(), "false".into()],
                _ => input.choices.clone(),
            };
            // `options` must hold `value`: a choice without a default lists none.
            let options = if options.contains(&value) {
                options
            } else {
                Vec::new()
            };
            variables.insert(
                crate::model::inputs::input_variable(&input.name),
                Value::Described {
                    value,
                    description: input.description.clone(),
                    options,
                    expand: false,
                },
            );
        }
        for var in &self.plan.vars {
            let Some(default) = &var.default else {
                continue;
            };
            if inputs::predefined(&var.name) {
                self.lossy.push(Lossy::pipeline(
                    format!(
                        "the var `{}` is named like a GitLab predefined variable, which a value in the file would shadow",
                        var.name
                    ),
                    format!("its default {default:?} is not written: GitLab's own value (or the project's setting) is used"),
                ));
                continue;
            }
            variables.insert(
                var.name.clone(),
                Value::Described {
                    value: default.clone(),
                    description: var.description.clone(),
                    options: Vec::new(),
                    expand: false,
                },
            );
        }
    }

    /// GitLab gives a project's CI/CD variables to every job: the jobs that do not list a
    /// secret unset it before their commands run, and a warning says what remains.
    fn secrets(&mut self) {
        for secret in &self.plan.secrets {
            let Some(first) = self.plan.jobs.iter().find(|j| j.secrets.contains(secret)) else {
                continue;
            };
            self.lossy.push(Lossy::at(
                first,
                format!("GitLab gives the CI/CD variable `{secret}` to every job, not only to the jobs that list it"),
                format!("the other jobs unset `{secret}` before their commands run, but their runner still receives it; scope the variable to the environments of the jobs that need it"),
            ));
        }
    }

    fn triggers(&mut self) -> Vec<Rule> {
        let source = |s: &str| format!("$CI_PIPELINE_SOURCE == \"{s}\"");
        let any = |variable: &str, globs: &[String]| -> String {
            if globs.is_empty() {
                return format!("{variable} != null");
            }
            let alternatives: Vec<String> = globs
                .iter()
                .map(|g| format!("{variable} =~ {}", glob::regex(g, glob::Dialect::GitLab)))
                .collect();
            if alternatives.len() == 1 {
                alternatives[0].clone()
            } else {
                format!("({})", alternatives.join(" || "))
            }
        };
        let mut rules = Vec::new();
        for trigger in &self.plan.triggers {
            let condition = match trigger.event {
                TriggerEvent::Push => format!(
                    "{} && {}",
                    source("push"),
                    any("$CI_COMMIT_BRANCH", &trigger.branches)
                ),
                TriggerEvent::Tag => {
                    let pattern: Vec<String> = trigger.pattern.iter().cloned().collect();
                    format!("{} && {}", source("push"), any("$CI_COMMIT_TAG", &pattern))
                }
                TriggerEvent::PullRequest => {
                    let mut condition = source("merge_request_event");
                    if !trigger.branches.is_empty() {
                        condition.push_str(" && ");
                        condition.push_str(&any(
                            "$CI_MERGE_REQUEST_TARGET_BRANCH_NAME",
                            &trigger.branches,
                        ));
                    }
                    condition
                }
                TriggerEvent::Schedule => {
                    let cron = trigger.cron.as_deref().unwrap_or_default();
                    self.lossy.push(Lossy::pipeline(
                        format!("GitLab cannot set the schedule `{cron}` in .gitlab-ci.yml"),
                        format!("create a pipeline schedule (Build → Pipeline schedules) with the cron `{cron}` in the UTC time zone; the export accepts scheduled pipelines"),
                    ));
                    source("schedule")
                }
                TriggerEvent::Manual => source("web"),
            };
            rules.push(Rule {
                condition: Some(condition),
                changes: self.changes(trigger),
                ..Rule::default()
            });
        }
        if rules.is_empty() {
            // A pipeline without triggers runs only when started directly.
            rules.push(Rule {
                condition: Some(source("web")),
                ..Rule::default()
            });
        }
        rules
    }

    fn job(&mut self, unit: &Unit<'p>) -> PipelineJob {
        let job = unit.job();
        let gate = job.job_type == JobType::Gate;
        let mut pipeline_job = PipelineJob {
            stage: job.stage.clone(),
            rules: self.rules(job, gate),
            allow_failure: job.allow_failure,
            ..PipelineJob::default()
        };
        if super::after_failure::manual_after_failure(job) {
            // v2 i13f: GitLab's `when:` is either `manual` or `always`/`on_failure`.
            self.lossy.push(Lossy::at(
                job,
                format!("GitLab's `when:` cannot say both `manual` and `{}`", job.runs.as_str()),
                "the job is a manual job (`when: manual`, `allow_failure: true`) that a person may start whatever the jobs before it did",
            ));
        }
        if let Some(manual) = job
            .needs
            .iter()
            .filter_map(|n| self.plan.job(n))
            .find(|n| n.manual && job.runs == crate::plan::Runs::OnSuccess)
        {
            // v2 i13f: cdl skips the jobs that need a manual job nobody started.
            self.lossy.push(Lossy::at(
                job,
                format!("on GitLab a job that needs the manual job `{}` waits until a person plays it", manual.id),
                format!("the job runs once `{}` is played; when nobody plays it, the job stays blocked instead of being skipped as in `cdl run`", manual.id),
            ));
        }
        self.ordering(job, &mut pipeline_job);
        if job.trigger.is_some() {
            self.downstream(job, &mut pipeline_job);
            return pipeline_job;
        }
        let axes: Vec<String> = unit.axes.iter().map(|(a, _)| matrix_variable(a)).collect();
        pipeline_job.variables = unit
            .env(|axis| format!("${}", matrix_variable(axis)))
            .into_iter()
            .filter(|(k, v)| self.plan.env.get(k) != Some(v) && !axes.contains(k))
            .map(|(k, v)| {
                let value = if unit.is_matrix() && k == "CDL_JOB" {
                    Value::Plain(v)
                } else {
                    Value::literal(&v)
                };
                (k, value)
            })
            .collect();
        // GitLab expands `image`, `tags` and matrix values: text it would expand moves into
        // a variable it does not expand, which the place names.
        let mut unexpanded = |name: String, text: &str| match expansion::plain(text) {
            Some(text) => text,
            None => {
                pipeline_job.variables.insert(
                    name.clone(),
                    Value::Literal {
                        value: text.to_string(),
                        expand: false,
                    },
                );
                format!("${name}")
            }
        };
        let image = job
            .image
            .as_deref()
            .map(|image| unexpanded("CDL_IMAGE".into(), image));
        // v2: `runner = [...]`: every label a tag (`CDL_RUNNER`, `CDL_RUNNER_2` … where GitLab
        // would expand one).
        let tags = if job.runner_labels.len() > 1 {
            job.runner_labels
                .iter()
                .enumerate()
                .map(|(i, label)| {
                    let name = if i == 0 {
                        "CDL_RUNNER".to_string()
                    } else {
                        format!("CDL_RUNNER_{}", i + 1)
                    };
                    unexpanded(name, label)
                })
                .collect()
        } else {
            job.runner
                .iter()
                .map(|runner| unexpanded("CDL_RUNNER".into(), runner))
                .collect()
        };
        let matrix = unit.is_matrix().then(|| {
            let mut axes = IndexMap::new();
            for (axis, values) in &unit.axes {
                let variable = matrix_variable(axis);
                let values = values
                    .iter()
                    .enumerate()
                    .map(|(i, value)| unexpanded(format!("{variable}_VALUE_{}", i + 1), value))
                    .collect();
                axes.insert(variable, values);
            }
            Parallel { matrix: vec![axes] }
        });
        // v2: `entrypoint`, as text GitLab does not expand; one that holds `$` is left out
        // (W0200): GitLab would expand it, and a part of an entrypoint is no entrypoint.
        let entrypoint: Option<Vec<String>> = job
            .entrypoint
            .as_ref()
            .and_then(|e| e.iter().map(|part| expansion::plain(part)).collect());
        if job.entrypoint.is_some() && entrypoint.is_none() {
            self.lossy.push(Lossy::at(
                job,
                "GitLab expands `$` in an image's entrypoint: the job's entrypoint is not exported",
                "write the entrypoint without `$`, or set it in the image",
            ));
        }
        pipeline_job.image = image.map(|name| match entrypoint {
            None => JobImage::Name(name),
            Some(entrypoint) => JobImage::WithEntrypoint { name, entrypoint },
        });
        pipeline_job.tags = tags;
        pipeline_job.parallel = matrix;
        // A matrix value read from another variable is one reference further from
        // `CDL_JOB`: the runner expands a variable's references once, so the shell sets it.
        let indirect = unit.is_matrix()
            && unit
                .axes
                .iter()
                .flat_map(|(_, values)| values)
                .any(|v| expansion::plain(v).is_none());
        let cdl_job = indirect
            .then(|| pipeline_job.variables.shift_remove("CDL_JOB"))
            .flatten();
        if gate {
            self.gate(job, &mut pipeline_job);
            return pipeline_job;
        }
        self.deployment(job, &mut pipeline_job);
        self.review(job, &mut pipeline_job);
        self.platform_job(job, &mut pipeline_job);
        self.before_script(job, &mut pipeline_job);
        match cdl_job {
            // An identifier with `[`, `=`, `,`, `]` and `$CDL_MATRIX_<AXIS>` references.
            Some(Value::Plain(cdl_job)) => pipeline_job
                .before_script
                .insert(0, format!("export CDL_JOB=\"{cdl_job}\"")),
            Some(value) => {
                pipeline_job.variables.insert("CDL_JOB".into(), value);
            }
            None => {}
        }
        self.script(job, &mut pipeline_job);
        self.services(job, &mut pipeline_job);
        pipeline_job
    }

    /// v2 i14d: the job's `services:`, each reached at its alias and port. GitLab expands
    /// `$NAME` in a service's image, command and variables: text it would expand is left out
    /// with a finding.
    fn services(&mut self, job: &'p Job, pipeline_job: &mut PipelineJob) {
        for service in &job.services {
            let lost = |part: &str| {
                super::services::part_lost(
                    job,
                    service,
                    part,
                    "GitLab",
                    "GitLab expands `$` in a service's image, command and variables, and has no way to write it literally there; write the value without `$`, or set it in the image",
                )
            };
            let Some(image) = expansion::plain(&service.image) else {
                self.lossy.extend(super::services::unsupported(
                    job,
                    "GitLab",
                    "GitLab expands `$` in a service's image; name the image without `$`",
                ));
                continue;
            };
            let mut variables = IndexMap::new();
            for (name, value) in &service.env {
                match expansion::plain(value) {
                    Some(value) => {
                        variables.insert(name.clone(), value);
                    }
                    None => self.lossy.push(lost(&format!("env {name}"))),
                }
            }
            let command: Option<Vec<String>> = service
                .command
                .iter()
                .map(|c| expansion::plain(c))
                .collect();
            let command = command.unwrap_or_else(|| {
                self.lossy.push(lost("command"));
                Vec::new()
            });
            if service.health.is_some() {
                self.lossy.push(super::services::part_lost(
                    job,
                    service,
                    "health",
                    "GitLab",
                    "GitLab waits for the ports the service's image exposes, not for a command; the job starts once they accept connections",
                ));
            }
            pipeline_job.services.push(ServiceContainer {
                name: image,
                alias: service.name.clone(),
                command,
                variables,
            });
        }
        for (name, value) in
            super::services::variables(job, |s| s.name.clone(), |_, port| port.to_string())
        {
            pipeline_job.variables.insert(name, Value::Plain(value));
        }
    }

    /// The job's effective condition as rules; a gate is a blocking manual job. A manual job
    /// with `auto_when` gets a first rule that starts it by itself where the condition holds;
    /// the manual rules follow.
    fn rules(&mut self, job: &Job, gate: bool) -> Vec<Rule> {
        let mut rules = if gate {
            Vec::new()
        } else {
            self.auto_rule(job)
        };
        if rules.last().is_some_and(|r| r.condition.is_none()) {
            return rules;
        }
        rules.extend(self.condition_rules(job, gate));
        rules
    }

    /// v2: `auto_when` of a manual job as the rule before its manual ones: `if:` the job's
    /// effective condition and the `auto_when` condition, `when:` as the job's `runs` says
    /// (GitLab's default `on_success`). Empty when the job has none, when the two never hold
    /// together, or when either reads `changed()` (W0200: GitLab's `changes:` cannot be joined
    /// to an `if:` exactly here; the job stays manual).
    fn auto_rule(&mut self, job: &Job) -> Vec<Rule> {
        let Some(auto) = job.auto_when.as_ref().filter(|_| job.manual) else {
            return Vec::new();
        };
        let effective = self.effective[job.id.as_str()].clone();
        if super::changed::reads(&effective) || super::changed::reads(auto) {
            self.lossy.push(Lossy::at(
                job,
                "GitLab cannot join `auto_when` to a job condition that reads `changed()`",
                "the job is a manual job on GitLab whatever `auto_when` says; a person starts it",
            ));
            return Vec::new();
        }
        let both =
            super::condition::simplify(crate::plan::Condition::And(vec![effective, auto.clone()]));
        let expression = rules::expression(&both);
        if matches!(expression, rules::Expr::Const(false)) {
            return Vec::new();
        }
        vec![Rule {
            condition: rules::render(&expression),
            when: super::after_failure::gitlab_when(job.runs).or(Some("on_success")),
            ..Rule::default()
        }]
    }

    /// The job's effective condition as rules, with the `when:` its kind and `runs` give.
    fn condition_rules(&mut self, job: &Job, gate: bool) -> Vec<Rule> {
        let (when, allow_failure) = if gate {
            (Some("manual"), Some(false))
        } else if job.manual {
            // v2 i13f: an optional job a person starts.
            (Some("manual"), Some(true))
        } else {
            (super::after_failure::gitlab_when(job.runs), None)
        };
        let mut effective = self.effective[job.id.as_str()].clone();
        // v2 i14b: `changed()` as `rules: changes`, or everything changed (W0200).
        if super::changed::reads(&effective) {
            match changes::terms(&effective) {
                Some(terms) => return change_rules(terms, when, allow_failure),
                None => {
                    self.lossy.push(Lossy::at(
                        job,
                        "GitLab's `rules: changes` cannot say the job's `changed()` exactly (a negated one, two that must both hold, a glob with `$`, a class with `+`, or a `**` inside a name)",
                        super::changed::EVERYTHING_HELP,
                    ));
                    effective = super::changed::decide(effective);
                }
            }
        }
        let expression = rules::expression(&effective);
        let condition = rules::render(&expression);
        match (expression, condition) {
            (rules::Expr::Const(false), _) => vec![Rule {
                when: Some("never"),
                ..Rule::default()
            }],
            (_, None) => vec![Rule {
                when: when.or(Some("on_success")),
                allow_failure,
                ..Rule::default()
            }],
            (_, condition) => vec![Rule {
                condition,
                when,
                allow_failure,
                ..Rule::default()
            }],
        }
    }

    /// Stage order is GitLab's own; a job that must wait for one of its own stage gets
    /// `needs:`, which then lists every job of the earlier stages as well.
    fn ordering(&mut self, job: &'p Job, pipeline_job: &mut PipelineJob) {
        let mut inputs: Vec<&str> = job
            .inputs
            .iter()
            // v2 i13k: every instance of a matrix artifact.
            .flat_map(|a| super::matrix_artifacts::builder_jobs(self.plan, a))
            .collect();
        // v2 i13i: a dotenv report reaches only the jobs that take the writer's artifacts.
        for read in self.plan.values_read(job) {
            if !inputs.contains(&read.job.id.as_str()) {
                inputs.push(read.job.id.as_str());
            }
        }
        let same_stage = job
            .needs
            .iter()
            .any(|need| self.plan.job(need).is_some_and(|n| n.stage == job.stage));
        if !same_stage {
            let dependencies = jobs::dependency_keys(inputs.iter().copied(), |id| &self.keys[id]);
            pipeline_job.dependencies = Some(dependencies);
            return;
        }
        let mut needs: Vec<Need> = Vec::new();
        let earlier = jobs::earlier_stage_jobs(self.plan, &job.stage);
        for id in earlier
            .into_iter()
            .chain(job.needs.iter().map(String::as_str))
        {
            let key = &self.keys[id];
            let explicit = job.needs.iter().any(|n| n == id);
            let artifacts = inputs.contains(&id);
            // v2 i13f: a job that runs after a failure is not left out with its needs.
            let optional = (!explicit || job.runs != crate::plan::Runs::OnSuccess)
                && self.effective[id] != Condition::Const(true);
            match needs.iter_mut().find(|n| &n.job == key) {
                Some(need) => {
                    need.artifacts |= artifacts;
                    need.optional &= optional;
                }
                None => needs.push(Need {
                    job: key.clone(),
                    artifacts,
                    optional,
                }),
            }
        }
        if needs.len() > MAX_NEEDS {
            self.lossy.push(Lossy::at(
                job,
                format!("the job needs {} jobs; GitLab accepts at most {MAX_NEEDS} by default", needs.len()),
                "GitLab rejects the pipeline unless its administrator raises the `ci_max_needs` limit; fewer jobs in the earlier stages avoid it",
            ));
        }
        pipeline_job.needs = Some(needs);
    }

    fn gate(&mut self, job: &'p Job, pipeline_job: &mut PipelineJob) {
        let environment = format!("approval/{}", job.id);
        pipeline_job.environment = Some(Environment {
            on_stop: None,
            action: None,
            name: environment.clone(),
            url: None,
        });
        // GitLab expands the confirmation message (gitlab-org/gitlab!187897).
        pipeline_job.manual_confirmation =
            job.message
                .as_deref()
                .map(|message| match expansion::plain(message) {
                    Some(message) => message,
                    None => {
                        pipeline_job
                            .variables
                            .insert("CDL_GATE_MESSAGE".into(), Value::literal(message));
                        "$CDL_GATE_MESSAGE".into()
                    }
                });
        pipeline_job.script = vec!["printf 'cdl: the gate %s was approved\\n' \"$CDL_JOB\"".into()];
        if let Some(seconds) = job.timeout_seconds {
            self.lossy.push(Lossy::at(
                job,
                format!("GitLab cannot reject a gate after {}: a manual job waits until someone runs it", super::duration_text(seconds)),
                "the gate's timeout is not enforced; cancel the pipeline by hand when it is over",
            ));
        }
        self.gates.push((environment, job));
    }

    fn deployment(&mut self, job: &'p Job, pipeline_job: &mut PipelineJob) {
        if job.job_type != JobType::Deploy {
            return;
        }
        let Some(name) = &job.environment else { return };
        let environment = self.plan.environments.iter().find(|e| &e.name == name);
        let mut url = environment.and_then(|e| e.url.clone());
        if let Some(text) = &url
            && !(text.starts_with("https://") || text.starts_with("http://"))
        {
            self.lossy.push(Lossy::at(
                job,
                format!("GitLab links an environment only to an http(s) URL, not to `{text}`"),
                "the environment has no link in GitLab; the job still gets `CDL_ENV_URL`",
            ));
            url = None;
        }
        // GitLab expands the URL: text it would expand is read from `CDL_ENV_URL`, which
        // holds it unexpanded.
        let url = url.map(|url| match expansion::plain(&url) {
            Some(url) => url,
            None => {
                pipeline_job
                    .variables
                    .insert("CDL_ENV_URL".into(), Value::literal(&url));
                "$CDL_ENV_URL".into()
            }
        });
        pipeline_job.environment = Some(Environment {
            name: name.clone(),
            url,
            on_stop: None,
            action: None,
        });
        let Some(limit) = environment.and_then(|e| e.concurrency) else {
            return;
        };
        pipeline_job.resource_group = Some(name.clone());
        if limit > 1 {
            self.lossy.push(Lossy::at(
                job,
                format!("GitLab runs one deploy to `{name}` at a time, not {limit}"),
                "a resource group admits one job at a time; the others wait",
            ));
        }
    }

    /// A review environment (`environment { name  url  stop }`): GitLab's own `environment:`,
    /// its name and url expanded by GitLab from its predefined variables. A literal part GitLab
    /// would expand is read from a variable of the job holding it unexpanded (GitLab expands
    /// the name and url once, not the values of the variables they read).
    fn review(&mut self, job: &'p Job, pipeline_job: &mut PipelineJob) {
        let Some(review) = &job.review else { return };
        let mut text = |value: &crate::plan::Value, what: &str| -> String {
            let mut out = String::new();
            for (i, part) in value.iter().enumerate() {
                // A default branch the pipeline names is literal text.
                let fixed = match (part, &self.plan.pipeline.default_branch) {
                    (crate::plan::Part::Ref(Reference::DefaultBranch), Some(branch)) => {
                        Some(branch.as_str())
                    }
                    (crate::plan::Part::Text(text), _) => Some(text.as_str()),
                    _ => None,
                };
                match (part, fixed) {
                    (_, Some(text)) => match expansion::plain(text) {
                        Some(text) => out.push_str(&text),
                        None => {
                            let name = format!("CDL_ENV_{what}_{}", i + 1);
                            out.push_str(&format!("${{{name}}}"));
                            pipeline_job.variables.insert(name, Value::literal(text));
                        }
                    },
                    (crate::plan::Part::Ref(reference), None) => {
                        out.push_str(review_reference(reference))
                    }
                    (crate::plan::Part::Text(_), None) => {}
                }
            }
            out
        };
        let name = text(&review.name, "NAME");
        let url = review.url.as_ref().map(|u| text(u, "URL"));
        let (on_stop, action) = match (&review.stop, &review.stops) {
            (_, Some(_)) => (None, Some("stop")),
            (Some(stop), None) => (self.keys.get(stop.as_str()).cloned(), None),
            (None, None) => (None, None),
        };
        pipeline_job.environment = Some(Environment {
            name,
            // GitLab takes a stop job's url from the environment it stops.
            url: url.filter(|_| review.stops.is_none()),
            on_stop,
            action,
        });
    }

    /// A job that starts another project's pipeline: GitLab's own `trigger:` (a bridge job,
    /// which has no script: the fallback `run` is not needed). The job's variables go down to
    /// the downstream pipeline, as GitLab forwards a trigger job's `variables:`: its own and
    /// its composed ones, each reference the predefined variable GitLab expands there.
    fn downstream(&mut self, job: &'p Job, pipeline_job: &mut PipelineJob) {
        let Some(trigger) = &job.trigger else { return };
        // A trigger job has no `dependencies:` (it downloads nothing; GitLab refuses the key).
        pipeline_job.dependencies = None;
        let text = |value: &crate::plan::Value| -> Option<String> {
            let mut out = String::new();
            for part in value {
                match part {
                    crate::plan::Part::Text(text) => out.push_str(&expansion::plain(text)?),
                    crate::plan::Part::Ref(Reference::Var(name)) => {
                        out.push_str(&format!("${{{name}}}"))
                    }
                    crate::plan::Part::Ref(
                        reference @ (Reference::Branch
                        | Reference::Tag
                        | Reference::Sha
                        | Reference::Repository
                        | Reference::DefaultBranch),
                    ) => out.push_str(review_reference(reference)),
                    crate::plan::Part::Ref(_) => return None,
                }
            }
            Some(out)
        };
        let lost = |what: String| {
            Lossy {
            span: Some(trigger.span.clone()),
            message: format!("GitLab cannot pass {what} to the downstream pipeline exactly"),
            help: "it is left out; write it from literal text, the run context or `var.NAME`, or pass it in the fallback `run`".into(),
        }
        };
        let project = text(&trigger.project).unwrap_or_default();
        for (name, value) in &job.env {
            if name.starts_with("CDL_") || self.plan.env.get(name) == Some(value) {
                continue;
            }
            pipeline_job
                .variables
                .insert(name.clone(), Value::literal(value));
        }
        for (name, value) in &job.env_values {
            if name.starts_with("CDL_") {
                continue;
            }
            match text(value) {
                Some(text) => {
                    pipeline_job
                        .variables
                        .insert(name.clone(), Value::Plain(text));
                }
                None => self.lossy.push(lost(format!("`{name}`"))),
            }
        }
        if !job.secrets.is_empty() {
            self.lossy.push(Lossy {
                span: Some(trigger.span.clone()),
                message: "GitLab gives a trigger job's secrets to nothing: the downstream pipeline reads its own project's variables".into(),
                help: "the secrets are for the fallback `run`, which GitLab does not run".into(),
            });
        }
        let branch = trigger.branch.as_deref().and_then(|branch| {
            let plain = expansion::plain(branch);
            if plain.is_none() {
                self.lossy.push(lost(format!(
                    "the branch `{branch}`, which it would expand,"
                )));
            }
            plain
        });
        pipeline_job.trigger = Some(DownstreamTrigger {
            project,
            branch,
            strategy: trigger.wait.then_some("depend"),
        });
    }

    /// Unsets the secrets the job does not list, enters the pipeline file's folder and
    /// sets `CDL_ARTIFACT_*` for the artifacts it receives.
    fn before_script(&self, job: &Job, pipeline_job: &mut PipelineJob) {
        let others: Vec<&String> = self
            .plan
            .secrets
            .iter()
            .filter(|s| !job.secrets.contains(s) && shell::is_identifier(s))
            .collect();
        if !others.is_empty() {
            let names: Vec<&str> = others.iter().map(|s| s.as_str()).collect();
            pipeline_job
                .before_script
                .push(format!("unset {}", names.join(" ")));
        }
        // v2 i14a: without a checkout there is no folder of the pipeline file to go to.
        if let Some(dir) = &self.working_directory
            && !job.checkout.is_some_and(|c| c.skip)
        {
            pipeline_job
                .before_script
                .push(format!("cd {}", shell::quote(dir)));
        }
        pipeline_job
            .before_script
            .push(super::context::script(self.plan, &CONTEXT));
        // v2 i13i: the values of the jobs it waits for, decoded (export/values.rs).
        pipeline_job
            .before_script
            .extend(super::values::gitlab_reads(self.plan, job));
        // v2 i13j: composed values, after the values they may read (export/value.rs).
        if let Some(compose) = super::value::script(job) {
            pipeline_job.before_script.push(compose.to_string());
        }
        if job.inputs.is_empty() {
            return;
        }
        pipeline_job
            .before_script
            .push(shell::LOCATE_FUNCTION.to_string());
        for input in job.inputs.iter().filter(|i| shell::is_identifier(i)) {
            pipeline_job.before_script.push(format!(
                "export {}=\"$(cdl_locate \"$CI_PROJECT_DIR/{}\")\"",
                super::artifact_variable(input),
                store(input)
            ));
        }
    }

    fn script(&mut self, job: &'p Job, pipeline_job: &mut PipelineJob) {
        // v2 i13j: composed image / tags / url (export/value.rs).
        self.lossy
            .extend(super::value::unsupported(self.plan, job, "GitLab CI"));
        let attempts = u64::from(job.retries) + 1;
        // v2 steps (i13b): cdl's step rules in `script:` itself (not `after_script:`, which
        // runs in another shell, has its own timeout and cannot fail the job).
        let runner = job.has_step_blocks();
        self.lossy
            .extend(super::steps::display_name_lost(job, "GitLab"));
        if runner {
            let (env, lossy) = super::steps::runner_env(job);
            self.lossy.extend(lossy);
            pipeline_job.variables.extend(literal_map(&env));
            // v2 i13i: the job's values, through a dotenv report (export/values.rs).
            let (env, lossy) = super::values::gitlab_outputs(job);
            self.lossy.extend(lossy);
            pipeline_job.variables.extend(literal_map(&env));
            if let Some(seconds) = job.timeout_seconds {
                pipeline_job
                    .variables
                    .insert("CDL_TIMEOUT".into(), Value::Plain(seconds.to_string()));
            }
            pipeline_job
                .script
                .push(super::steps::runner(job).into_owned());
        } else if job.retries > MAX_RETRY {
            pipeline_job
                .variables
                .extend(literal_map(&shell::retry_env(job)));
            let script = match job.timeout_seconds {
                Some(seconds) => {
                    pipeline_job
                        .variables
                        .insert("CDL_TIMEOUT".into(), Value::Plain(seconds.to_string()));
                    shell::TIMED_RETRY_LOOP
                }
                None => shell::RETRY_LOOP,
            };
            pipeline_job.script.push(script.to_string());
        } else {
            pipeline_job.retry = (job.retries > 0).then_some(job.retries);
            pipeline_job.script = job
                .steps
                .iter()
                .map(|step| format!("sh -e -c {}", shell::quote(step)))
                .collect();
        }
        if let Some(seconds) = job.timeout_seconds {
            if job.retries > MAX_RETRY || runner {
                // Each attempt of the loop runs under `timeout`; the job's own is a backstop.
                pipeline_job.timeout = Some(super::duration_text(seconds * attempts + 60));
            } else {
                pipeline_job.timeout = Some(super::duration_text(seconds));
            }
        }
        if job.job_type == JobType::Artifact
            && let Some(artifact) = &job.artifact
        {
            let (outputs, lossy) = shell::collect_env(job);
            self.lossy.extend(lossy);
            // v2 i13k: an instance of a matrix artifact collects into its folder.
            let part = super::matrix_artifacts::store_part(job, artifact);
            pipeline_job.variables.insert(
                "CDL_ARTIFACT_STORE".into(),
                Value::Plain(format!("$CI_PROJECT_DIR/{}", store(&part))),
            );
            pipeline_job.variables.extend(literal_map(&outputs));
            pipeline_job.script.push(shell::collect_artifact(job));
            pipeline_job.artifacts = Some(Artifacts {
                paths: vec![store(&part)],
                // v2: an artifact's own `retention`, else as long as its gates may wait.
                expire_in: match job.retention_days {
                    Some(1) => "1 day".to_string(),
                    Some(days) => format!("{days} days"),
                    None => self.expire_in.clone(),
                },
                when: None,
                reports: None,
            });
        }
        // v2 reports and kept files (i13h)
        self.kept(job, pipeline_job);
        // v2: GitLab Pages publishes `public` at the project's root from the `pages` job.
        if let Some(folder) = &job.pages {
            self.pages(folder, pipeline_job);
        }
        // v2 i14c: caches
        pipeline_job.cache = cache::caches(job, self.working_directory.as_deref(), &mut self.lossy);
        // v2 i13i: values passed to later jobs, as a dotenv report
        if !job.values.is_empty() {
            pipeline_job
                .artifacts
                .get_or_insert_with(|| Artifacts {
                    paths: Vec::new(),
                    expire_in: self.expire_in.clone(),
                    when: None,
                    reports: None,
                })
                .reports
                .get_or_insert_with(KeptReports::default)
                .dotenv = Some(super::values::GITLAB_DOTENV.into());
        }
    }

    /// `artifacts:reports`, `artifacts:paths` with `when: always`, and `coverage:`.
    /// The `pages` job's site: its folder copied to `public` at the project's root when it is
    /// elsewhere (after the commands passed), and `public` among the artifacts' paths.
    fn pages(&mut self, folder: &str, pipeline_job: &mut PipelineJob) {
        let at_root = super::reports::in_folder(self.working_directory.as_deref(), folder);
        if at_root != "public" {
            pipeline_job.script.push(format!(
                "rm -rf \"$CI_PROJECT_DIR/public\" && cp -a -- {} \"$CI_PROJECT_DIR/public\"",
                shell::quote(folder)
            ));
        }
        let artifacts = pipeline_job.artifacts.get_or_insert_with(|| Artifacts {
            paths: Vec::new(),
            expire_in: "30 days".into(),
            when: None,
            reports: None,
        });
        artifacts.paths.push("public".into());
    }

    fn kept(&mut self, job: &Job, pipeline_job: &mut PipelineJob) {
        let reports = &job.reports;
        if let Some(regex) = &reports.coverage_regex {
            pipeline_job.coverage = Some(super::reports::gitlab_coverage(regex));
        }
        let folder = self.working_directory.as_deref();
        let mut dropped = Vec::new();
        let mut path = |p: &str| -> Option<String> {
            let written = super::reports::in_folder(folder, p);
            if expansion::expands(&written) {
                dropped.push(p.to_string());
                None
            } else {
                Some(written)
            }
        };
        let kept_reports = KeptReports {
            junit: reports.junit.iter().filter_map(|p| path(p)).collect(),
            coverage_report: reports.coverage.as_deref().and_then(&mut path).map(|path| {
                CoverageReport {
                    coverage_format: "cobertura",
                    path,
                }
            }),
            codequality: reports.codequality.as_deref().and_then(&mut path),
            dotenv: None,
        };
        let paths: Vec<String> = job.keep.iter().filter_map(|p| path(p)).collect();
        if !dropped.is_empty() {
            let list: Vec<String> = dropped.iter().map(|p| format!("`{p}`")).collect();
            self.lossy.push(Lossy::at(
                job,
                format!("GitLab expands variables in artifact paths: {} not kept", list.join(", ")),
                "a path with `$` or `%NAME%` would name other files on GitLab; rename the files so that their paths hold neither",
            ));
        }
        let any_report = !kept_reports.junit.is_empty()
            || kept_reports.coverage_report.is_some()
            || kept_reports.codequality.is_some();
        if paths.is_empty() && !any_report {
            if job.retention_days.is_some() && pipeline_job.artifacts.is_none() {
                self.lossy.push(Lossy::at(
                    job,
                    "GitLab keeps no file of the job: its `retention` applies to nothing",
                    "name files that GitLab can keep",
                ));
            }
            return;
        }
        let expire_in = match job.retention_days {
            Some(1) => "1 day".to_string(),
            Some(days) => format!("{days} days"),
            None => "30 days".to_string(),
        };
        match pipeline_job.artifacts.as_mut() {
            Some(artifacts) => {
                // An artifact job keeps its `expire_in`, which outlives the gates after it;
                // its one `artifacts:` block holds its outputs too, kept whatever the result.
                self.lossy.extend(super::reports::keep_when_lost(
                    job,
                    "GitLab",
                    "one `artifacts:` block holds them with the job's artifact or values",
                ));
                artifacts.paths.extend(paths);
                artifacts.when = Some("always");
                artifacts.reports = any_report.then_some(kept_reports);
            }
            None => {
                pipeline_job.artifacts = Some(Artifacts {
                    paths,
                    expire_in,
                    when: Some(super::reports::keep_when(job).gitlab),
                    reports: any_report.then_some(kept_reports),
                });
            }
        }
    }
}

/// v2 i14b: one rule per term of the condition (see `gitlab/changes.rs`): its comparisons as
/// `if:`, its globs as `changes:`; no rule that can hold is `when: never`.
fn change_rules(
    terms: Vec<changes::Term>,
    when: Option<&'static str>,
    allow_failure: Option<bool>,
) -> Vec<Rule> {
    let mut out = Vec::new();
    for term in terms {
        let expression = rules::expression(&Condition::And(term.when));
        if expression == rules::Expr::Const(false) {
            continue;
        }
        let condition = rules::render(&expression);
        out.push(Rule {
            when: if condition.is_none() && term.changes.is_empty() {
                when.or(Some("on_success"))
            } else {
                when
            },
            condition,
            allow_failure,
            changes: term.changes,
        });
    }
    if out.is_empty() {
        out.push(Rule {
            when: Some("never"),
            ..Rule::default()
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What GitLab makes of `written` at a place that expands, with the job's `variables`.
    fn resolve(written: &str, variables: &IndexMap<String, Value>) -> String {
        if let Some(Value::Literal {
            value,
            expand: false,
        }) = written
            .strip_prefix('$')
            .and_then(|name| variables.get(name))
        {
            return value.clone();
        }
        expansion::evaluate_expanded(written)
            .unwrap_or_else(|e| panic!("{written:?} is expanded: {e}"))
    }

    fn value(value: &Value) -> String {
        match value {
            Value::Plain(text) => expansion::evaluate_expanded(text)
                .unwrap_or_else(|e| panic!("{text:?} is expanded: {e}")),
            Value::Literal { value, expand } | Value::Described { value, expand, .. } => {
                assert!(!expand);
                value.clone()
            }
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(300))]

        /// Every place of an exported pipeline, expanded as GitLab does, gives the text.
        #[test]
        fn every_place_of_a_pipeline_keeps_hostile_text(
            text in crate::export::literal::hostile_text()
        ) {
            let Some(plan) = crate::export::literal::plan_with_text(&text) else {
                return Ok(());
            };
            let mut builder = Builder::new(&plan);
            let pipeline = builder.pipeline();
            assert_eq!(value(&pipeline.variables["X"]), text);
            let (_, unit) = pipeline.jobs.iter().find(|(k, _)| k.starts_with("unit")).unwrap();
            assert_eq!(value(&unit.variables["Y"]), text);
            // GitLab runs scripts as written: the context script (export/context.rs, whose
            // shell quoting of a hostile `default_branch` is tested there) reaches the shell.
            assert!(unit.before_script.contains(&crate::export::context::script(&plan, &CONTEXT)));
            let Some(JobImage::Name(image)) = &unit.image else {
                panic!("an image without entrypoint");
            };
            assert_eq!(resolve(image, &unit.variables), text);
            assert_eq!(resolve(&unit.tags[0], &unit.variables), text);
            match &unit.parallel {
                Some(parallel) => {
                    let matrix = &parallel.matrix[0]["CDL_MATRIX_V"];
                    assert_eq!(resolve(&matrix[0], &unit.variables), text);
                    if let Some(Value::Plain(cdl_job)) = unit.variables.get("CDL_JOB") {
                        // Expanded once: the matrix variable must hold the text itself.
                        assert_eq!(cdl_job, "unit[v=$CDL_MATRIX_V]");
                        assert_eq!(matrix[0], text);
                    }
                }
                // A value the instance id quotes is not folded into `parallel:matrix`
                // (`CDL_JOB` could not be spelled from it): the instance is a job of its own.
                None => {
                    assert_eq!(value(&unit.variables["CDL_MATRIX_V"]), text);
                    let id = &plan.jobs.iter().find(|j| j.name == "unit").unwrap().id;
                    assert_eq!(value(&unit.variables["CDL_JOB"]), *id);
                }
            }
            let gate = &pipeline.jobs["g"];
            let message = gate.manual_confirmation.as_deref().unwrap();
            assert_eq!(resolve(message, &gate.variables), text);
            let deploy = &pipeline.jobs["deploy_app_production"];
            let environment = deploy.environment.as_ref().unwrap();
            if let Some(url) = &environment.url {
                assert_eq!(resolve(url, &deploy.variables), text);
            }
        }
    }

    fn export(text: &str) -> Export {
        let compilation = crate::compile::compile_text("p.cdl", None, text.into());
        let plan = crate::plan::build(&compilation).unwrap();
        GitLab.export(&plan)
    }

    const EXPANDED: &str = r#"pipeline p {
  environment production { url = "https://x.example/$CI_JOB_NAME" }
  stage a { artifact app { run = "true"; outputs = ["a"] } }
  stage b {
    job unit {
      run = "true"
      image = "registry.example/$CI_PROJECT_PATH:1"
      runner = "linux-$CI_RUNNER_TAG"
      matrix { v = ["$CI_JOB_NAME", "plain"] }
    }
    deploy app to production { run = "true" }
  }
}
"#;

    #[test]
    fn matrix_values_gitlab_would_expand_are_read_from_unexpanded_variables() {
        let file = &export(EXPANDED).files[0].content;
        assert!(
            file.contains("- $CDL_MATRIX_V_VALUE_1\n      - plain"),
            "{file}"
        );
        assert!(
            file.contains("CDL_MATRIX_V_VALUE_1:\n      value: $CI_JOB_NAME\n      expand: false"),
            "{file}"
        );
        assert!(!file.contains("CDL_JOB: unit["), "{file}");
        assert!(
            file.contains("- export CDL_JOB=\"unit[v=$CDL_MATRIX_V]\""),
            "{file}"
        );
    }

    #[test]
    fn image_and_tags_gitlab_would_expand_are_read_from_unexpanded_variables() {
        let file = &export(EXPANDED).files[0].content;
        assert!(file.contains("image: $CDL_IMAGE"), "{file}");
        assert!(file.contains("tags:\n  - $CDL_RUNNER"), "{file}");
        assert!(
            file.contains(
                "CDL_IMAGE:\n      value: registry.example/$CI_PROJECT_PATH:1\n      expand: false"
            ),
            "{file}"
        );
        assert!(
            file.contains("CDL_RUNNER:\n      value: linux-$CI_RUNNER_TAG\n      expand: false"),
            "{file}"
        );
    }

    #[test]
    fn environment_url_gitlab_would_expand_is_cdl_env_url() {
        let file = &export(EXPANDED).files[0].content;
        assert!(file.contains("url: $CDL_ENV_URL"), "{file}");
        assert!(
            file.contains(
                "CDL_ENV_URL:\n      value: https://x.example/$CI_JOB_NAME\n      expand: false"
            ),
            "{file}"
        );
    }

    #[test]
    fn gate_message_gitlab_would_expand_is_read_from_an_unexpanded_variable() {
        let file = &export(
            "pipeline p {\n  stage a { gate g { approvers = [\"a\"]; message = \"ship $CI_COMMIT_SHA?\" } }\n}\n",
        )
        .files[0]
            .content;
        assert!(
            file.contains("manual_confirmation: $CDL_GATE_MESSAGE"),
            "{file}"
        );
        assert!(
            file.contains(
                "CDL_GATE_MESSAGE:\n      value: ship $CI_COMMIT_SHA?\n      expand: false"
            ),
            "{file}"
        );
    }

    #[test]
    fn review_environment_reads_literal_parts_gitlab_would_expand_from_unexpanded_variables() {
        let export = export(
            "pipeline p {\n  stage a {\n    job preview {\n      environment { name = \"review/\" + branch  url = \"https://\" + sha + \".x/$CI_JOB_NAME/%PATH%\"  stop = down }\n      run = \"true\"\n    }\n    job down { start = manual  run = \"true\" }\n  }\n}\n",
        );
        let file = &export.files[0].content;
        assert!(
            file.contains("  environment:\n    name: review/${CI_COMMIT_BRANCH}${CI_MERGE_REQUEST_SOURCE_BRANCH_NAME}\n    url: https://${CI_COMMIT_SHA}${CDL_ENV_URL_3}\n    on_stop: down\n"),
            "{file}"
        );
        assert!(
            file.contains(
                "CDL_ENV_URL_3:\n      value: .x/$CI_JOB_NAME/%PATH%\n      expand: false"
            ),
            "{file}"
        );
        assert!(
            file.contains("  environment:\n    name: review/${CI_COMMIT_BRANCH}${CI_MERGE_REQUEST_SOURCE_BRANCH_NAME}\n    action: stop\n"),
            "{file}"
        );
        assert!(export.lossy.is_empty(), "{:?}", export.lossy);
    }

    #[test]
    fn a_trigger_job_is_a_bridge_with_its_variables_and_no_script() {
        let export = export(
            "pipeline p {\n  var DEPLOY { default = \"ops/deploy\" }\n  stage a {\n    job down {\n      trigger { project = var.DEPLOY  branch = \"main\"  wait = true }\n      env { REVISION = branch  PLAIN = \"$HOME\" }\n      run = \"./fallback.sh\"\n    }\n  }\n}\n",
        );
        let file = &export.files[0].content;
        let job = &file[file.find("\ndown:\n").expect("the job")..];
        assert!(!job.contains("script"), "{job}");
        assert!(!job.contains("dependencies"), "{job}");
        assert!(
            job.contains(
                "  trigger:\n    project: ${DEPLOY}\n    branch: main\n    strategy: depend\n"
            ),
            "{job}"
        );
        assert!(
            job.contains("REVISION: ${CI_COMMIT_BRANCH}${CI_MERGE_REQUEST_SOURCE_BRANCH_NAME}"),
            "{job}"
        );
        assert!(
            job.contains("PLAIN:\n      value: $HOME\n      expand: false"),
            "{job}"
        );
    }

    #[test]
    fn a_job_named_pages_is_renamed_with_a_warning() {
        let export = export(
            "pipeline p {\n  stage a {\n    job pages { run = \"true\" }\n    job image { run = \"true\" }\n  }\n}\n",
        );
        let file = &export.files[0].content;
        assert!(file.contains("\npages-job:\n"), "{file}");
        assert!(file.contains("\nimage-job:\n"), "{file}");
        let messages: Vec<&str> = export.lossy.iter().map(|l| l.message.as_str()).collect();
        assert!(
            messages.iter().any(|m| m.contains("GitLab Pages")),
            "{messages:?}"
        );
        assert!(
            messages.iter().any(|m| m.contains("`image` as a keyword")),
            "{messages:?}"
        );
    }

    #[test]
    fn rules_never_hold_text_gitlab_would_expand() {
        let export = export(
            "pipeline p {\n  on push { branches = [\"z$CI_JOB_NAME\"] }\n  stage a { job x { run = \"true\"; when = branch == \"$CI_JOB_NAME\" || tag matches \"v$X*\" } }\n}\n",
        );
        let file = &export.files[0].content;
        for line in file.lines().filter(|l| l.contains("if:")) {
            let rule = line.split("if:").nth(1).unwrap();
            let rule = rule.replace("$CI_", "").replace("$/", "");
            assert!(!rule.contains('$'), "{line}");
        }
    }
}
