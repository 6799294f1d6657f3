//! Jenkins: a declarative `Jenkinsfile`. Each cdl stage is a stage; its jobs are stages
//! inside it, laid out as `parallel` chains of nested sequential stages ([`layout`]). A
//! failed stage stops every stage after it, as a failed cdl job stops the later stages; a
//! stage skipped by `when` stops nothing, and skipping along explicit needs is carried by
//! each stage's `when`, the job's effective condition. The pipeline runs on `agent none`:
//! each job takes its own agent, and a gate's `input` holds no executor while it waits.
//!
//! Text of the pipeline file reaches the Jenkinsfile only as Groovy single-quoted strings,
//! which are never interpolated; commands reach `sh` through `withEnv`, never pasted into a
//! script.

mod groovy;
// v2 i13m: inputs as build parameters.
mod inputs;
mod layout;
// v2 i13m: values passed between jobs.
mod values;
mod when;

use std::collections::HashSet;
use std::path::PathBuf;

use groovy::Node;
use layout::Layout;

use super::jobs;
use super::shell;
use super::{Export, Exporter, Lossy};
use crate::plan::Condition;
use crate::plan::{Job, Plan};
use crate::plan::{JobType, TriggerEvent};

/// v2 i13f: the jobs of language v2 §6 this target keeps natively.
const AFTER_FAILURE: super::after_failure::Support = super::after_failure::Support::NONE;

pub struct Jenkins;

/// The variable `submitterParameter` sets to the approver's user id.
const APPROVER: &str = "CDL_APPROVER";

/// The run context from the variables of a multibranch pipeline: a change request's branch
/// is `CHANGE_BRANCH` (its `BRANCH_NAME` is `PR-N`), a tag build's `BRANCH_NAME` is the tag.
/// Jenkins has no variable for what started a build: a scheduled or manual build reads as
/// `push` (or `tag`, `pull_request`) in `CDL_EVENT`, while `when` conditions tell them apart.
const CONTEXT: super::context::Sources = super::context::Sources {
    system: "Jenkins",
    event: r#"if [ -n "${TAG_NAME:-}" ]; then CDL_EVENT=tag
elif [ -n "${CHANGE_ID:-}" ]; then CDL_EVENT=pull_request
else CDL_EVENT=push; fi"#,
    branch: r#"$(if [ -n "${CHANGE_BRANCH:-}" ]; then printf %s "$CHANGE_BRANCH"; elif [ -z "${TAG_NAME:-}" ]; then printf %s "${BRANCH_NAME:-}"; fi)"#,
    tag: "${TAG_NAME:-}",
    sha: "${GIT_COMMIT:-}",
    pr_target: Some("${CHANGE_TARGET:-}"),
    default_branch: None,
    repository: r#"$(printf %s "${GIT_URL:-}" | sed -e 's#\.git$##' -e 's#^.*[:/]\([^/:]*/[^/:]*\)$#\1#')"#,
};

impl Exporter for Jenkins {
    fn name(&self) -> &'static str {
        "jenkins"
    }

    fn default_path(&self, _plan: &Plan) -> PathBuf {
        PathBuf::from("Jenkinsfile")
    }

    fn export(&self, plan: &Plan) -> Export {
        // v2 i13j: composed values' parts as the jobs' variables (export/value.rs)
        let prepared = super::value::prepare(plan);
        let plan: &Plan = &prepared;
        // v2 i13d: the default branch and `defined(secret.…)` fixed (W0200); i13m: inputs
        // are build parameters (`jenkins/inputs.rs`).
        let (plan, fixed) = super::inputs::fixed(
            plan,
            "Jenkins",
            super::inputs::Fixed {
                inputs: false,
                vars: false,
                secrets: true,
                default_branch: true,
            },
        );
        // v2 i14b: `changed()` cannot be decided on Jenkins: everything changed (W0200).
        let (plan, changed) = super::changed::everything_changed(
            plan.as_ref(),
            "Jenkins",
            super::changed::EVERYTHING_HELP,
        );
        let fixed: Vec<_> = fixed.into_iter().chain(changed).collect();
        let plan = plan.as_ref();
        let mut builder = Builder::new(plan);
        builder.lossy.extend(fixed);
        let tree = builder.pipeline();
        // v2 i14a: `concurrency` is `disableConcurrentBuilds` (see `options`).
        builder.lossy.extend(super::platform::lossy(
            plan,
            &super::platform::Coverage {
                system: "Jenkins",
                checkout: super::platform::CheckoutSupport {
                    full_history: true,
                    ..Default::default()
                },
                oidc: false,
                concurrency: true,
                paths: false,
                permissions_instead: "Jenkins has no repository token per job; give the jobs that need one a credential as a secret",
                concurrency_instead: "",
            },
        ));
        // v2 i14d: services are not started.
        for job in &plan.jobs {
            builder.lossy.extend(super::services::unsupported(
                job,
                "Jenkins",
                "start it in the stage (`docker.image(…).withRun(…)` of the Docker Pipeline plugin) around the job's commands",
            ));
        }
        Export::assemble(
            self.default_path(plan),
            groovy::render(&[tree]),
            None,
            builder.lossy,
        )
    }
}

/// Where a job keeps an artifact's stored copy, relative to the pipeline file's folder.
fn store(artifact: &str) -> String {
    format!(".cdl/artifacts/{artifact}")
}

fn stash_name(artifact: &str) -> String {
    format!("cdl-artifact-{artifact}")
}

/// A timeout in the largest unit that keeps it exact.
fn timeout(seconds: u64) -> String {
    let (time, unit) = if seconds.is_multiple_of(86_400) {
        (seconds / 86_400, "DAYS")
    } else if seconds.is_multiple_of(3_600) {
        (seconds / 3_600, "HOURS")
    } else if seconds.is_multiple_of(60) {
        (seconds / 60, "MINUTES")
    } else {
        (seconds, "SECONDS")
    };
    format!("timeout(time: {time}, unit: '{unit}')")
}

struct Builder<'p> {
    plan: &'p Plan,
    effective: std::collections::HashMap<&'p str, Condition>,
    working_directory: Option<String>,
    /// Stage names given out: declarative Pipeline wants them unique in the whole file.
    names: HashSet<String>,
    lossy: Vec<Lossy>,
}

impl<'p> Builder<'p> {
    fn new(plan: &'p Plan) -> Builder<'p> {
        let mut lossy = Vec::new();
        // v2 i13f: what the target keeps of `runs` and `start`
        lossy.extend(super::after_failure::losses(plan, "Jenkins", AFTER_FAILURE));
        lossy.extend(super::matrix_limit::lost(&plan.jobs, "Jenkins"));
        lossy.extend(super::pages::lost(plan, "Jenkins"));
        // `[""]` is the docker agent's `--entrypoint=` (`agent`); any other is lost.
        lossy.extend(super::entrypoint::lost_all(plan, "Jenkins", true));
        let working_directory = super::working_directory(plan).unwrap_or_else(|l| {
            lossy.push(l);
            None
        });
        Builder {
            plan,
            effective: super::after_failure::effective(plan, AFTER_FAILURE),
            working_directory,
            names: plan.stages.iter().map(|s| s.name.clone()).collect(),
            lossy,
        }
    }

    /// `name`, or `name (2)`, `name (3)` … when taken.
    fn unique(&mut self, name: &str) -> String {
        jobs::claim_unique(&mut self.names, name, |name, n| format!("{name} ({n})"))
    }

    fn pipeline(&mut self) -> Node {
        let mut body = vec![
            Node::line("agent none"),
            Node::block(
                "environment",
                std::iter::once(Node::line("CDL_RUN_ID = \"${env.BUILD_TAG}\""))
                    .chain(inputs::environment(self.plan))
                    .collect(),
            ),
        ];
        body.extend(inputs::parameters(self.plan));
        body.extend(self.triggers());
        let mut stages = Vec::new();
        for stage in &self.plan.stages {
            let jobs: Vec<&'p Job> = self
                .plan
                .jobs
                .iter()
                .filter(|j| j.stage == stage.name)
                .collect();
            if jobs.is_empty() {
                continue;
            }
            let layout = Layout::of(&jobs);
            for (job, stoppers) in layout.stopped_without_need() {
                let names: Vec<String> = stoppers.iter().map(|s| format!("`{}`", s.id)).collect();
                self.lossy.push(Lossy::at(
                    job,
                    format!(
                        "Jenkins runs this job after {} in the stage `{}`, so a failure there stops it although it does not need {}",
                        names.join(", "),
                        stage.name,
                        if names.len() == 1 { "it" } else { "them" }
                    ),
                    "declarative stages nest only as parallel chains of sequential stages; order the stage's jobs with `after` so that they form such chains, or split the stage",
                ));
            }
            let content = self.layout(&stage.name, &layout);
            stages.push(Node::block(
                format!("stage({})", groovy::string(&stage.name)),
                vec![content],
            ));
        }
        body.push(Node::block("stages", stages));
        Node::block("pipeline", body)
    }

    /// A cron trigger for each schedule, and no builds on changes to the branch without a
    /// push, pull request or tag trigger; which branches, pull requests and tags are built is
    /// the multibranch project's configuration, which the warnings describe.
    fn triggers(&mut self) -> Vec<Node> {
        let mut crons: Vec<&str> = Vec::new();
        let mut manual_only = true;
        for trigger in &self.plan.triggers {
            match trigger.event {
                TriggerEvent::Schedule => {
                    crons.push(trigger.cron.as_deref().unwrap_or_default());
                }
                TriggerEvent::Manual => {}
                TriggerEvent::Push => {
                    manual_only = false;
                    if !trigger.branches.is_empty() {
                        self.lossy.push(Lossy::pipeline(
                            format!("Jenkins builds the branches its multibranch project discovers, not only {}", quoted(&trigger.branches)),
                            format!("filter the project's branch source by name so that it discovers only {}", quoted(&trigger.branches)),
                        ));
                    }
                }
                TriggerEvent::PullRequest => {
                    manual_only = false;
                    if !trigger.branches.is_empty() {
                        self.lossy.push(Lossy::pipeline(
                            format!("Jenkins builds the pull requests its multibranch project discovers, not only those targeting {}", quoted(&trigger.branches)),
                            format!("filter the pull requests the branch source discovers by their target branch: {}", quoted(&trigger.branches)),
                        ));
                    }
                }
                TriggerEvent::Tag => {
                    manual_only = false;
                    let pattern = trigger.pattern.as_deref().unwrap_or("*");
                    self.lossy.push(Lossy::pipeline(
                        format!("Jenkins builds no tag by itself, and this pipeline runs for the tags `{pattern}`"),
                        format!("enable tag discovery in the branch source, with a build strategy (Basic Branch Build Strategies plugin) that builds the tags `{pattern}`"),
                    ));
                }
            }
        }
        let mut directives = Vec::new();
        let mut options = Vec::new();
        if manual_only {
            // Started by hand (or by its schedule) only: no build when the branch changes.
            options.push(Node::line("overrideIndexTriggers(false)"));
        }
        // v2 i14a: `concurrency` (a multibranch project's job is one branch: per ref).
        if let Some(concurrency) = self.plan.pipeline.concurrency {
            options.push(Node::line("disableConcurrentBuilds(abortPrevious: true)"));
            if concurrency.per == crate::plan::ConcurrencyPer::Pipeline {
                self.lossy.push(Lossy::pipeline(
                    "Jenkins cancels the older build of the same job: in a multibranch project, of the same branch, not of every branch (`per = pipeline`)",
                    "exact for a single-branch Pipeline job; in a multibranch project, a new build cancels only the older one of its branch",
                ));
            }
        }
        if !options.is_empty() {
            directives.push(Node::block("options", options));
        }
        if crons.is_empty() {
            return directives;
        }
        self.lossy.push(Lossy::pipeline(
            "a multibranch project runs the schedule for each of its branches",
            "the cron trigger is exact for a single-branch Pipeline job; in a multibranch project, guard it by branch: `cron(env.BRANCH_NAME == 'main' ? '…' : '')`",
        ));
        let spec = format!("TZ=UTC\n{}", crons.join("\n"));
        directives.push(Node::block(
            "triggers",
            vec![Node::line(format!("cron({})", groovy::string(&spec)))],
        ));
        directives
    }

    /// The content of a cdl stage's stage: its layers, one after another.
    fn layout(&mut self, stage: &str, layout: &Layout<'p>) -> Node {
        let single_layer = layout.layers.len() == 1;
        let mut sequence = Vec::new();
        for (index, layer) in layout.layers.iter().enumerate() {
            if layer.chains.len() == 1 {
                for job in &layer.chains[0] {
                    sequence.push(self.job(job));
                }
                continue;
            }
            let mut branches = Vec::new();
            for chain in &layer.chains {
                if let [job] = chain.as_slice() {
                    branches.push(self.job(job));
                    continue;
                }
                let first = &chain[0].id;
                let last = &chain[chain.len() - 1].id;
                let name = self.unique(&format!("{first} … {last}"));
                let jobs = chain.iter().map(|j| self.job(j)).collect();
                branches.push(Node::block(
                    format!("stage({})", groovy::string(&name)),
                    vec![Node::block("stages", jobs)],
                ));
            }
            let parallel = Node::block("parallel", branches);
            if single_layer {
                return parallel;
            }
            let name = self.unique(&format!("{stage} ({})", index + 1));
            sequence.push(Node::block(
                format!("stage({})", groovy::string(&name)),
                vec![parallel],
            ));
        }
        Node::block("stages", sequence)
    }

    fn job(&mut self, job: &'p Job) -> Node {
        let name = self.unique(&job.id);
        let mut body = Vec::new();
        if job.job_type == JobType::Gate {
            self.gate(job, &mut body);
        } else {
            body.push(agent(job));
            let lock = self.lock(job);
            if let Some(when) = self.when(job, lock.is_some(), "beforeAgent true") {
                body.push(when);
            }
            if let Some(lock) = lock {
                body.push(Node::block("options", vec![lock]));
            }
            body.push(Node::block("steps", self.steps(job)));
            // v2 reports and kept files (i13h)
            body.extend(self.kept(job));
        }
        Node::block(format!("stage({})", groovy::string(&name)), body)
    }

    /// The job's effective condition, evaluated before the stage's `options` (when it has
    /// some) and before what `before` names: a skipped job takes no lock, waits for no
    /// approval and holds no agent.
    fn when(&self, job: &Job, options: bool, before: &str) -> Option<Node> {
        let effective = &self.effective[job.id.as_str()];
        if *effective == Condition::Const(true) {
            return None;
        }
        let mut body = Vec::new();
        if options {
            body.push(Node::line("beforeOptions true"));
        }
        body.push(Node::line(before));
        body.push(when::render(&when::translate(effective)));
        Some(Node::block("when", body))
    }

    /// A deploy to an environment with a concurrency limit holds a lockable resource.
    fn lock(&mut self, job: &'p Job) -> Option<Node> {
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
        let resource = format!("{}/deploy/{name}", self.plan.pipeline.name);
        if limit == 1 {
            return Some(Node::line(format!(
                "lock(resource: {})",
                groovy::string(&resource)
            )));
        }
        self.lossy.push(Lossy::at(
            job,
            format!("Jenkins admits {limit} deploys to `{name}` at a time only with {limit} lockable resources labelled `{resource}`"),
            format!("create {limit} resources with the label `{resource}` (Manage Jenkins → Lockable Resources); without them the deploy waits"),
        ));
        Some(Node::line(format!(
            "lock(label: {}, quantity: 1)",
            groovy::string(&resource)
        )))
    }

    fn gate(&mut self, job: &'p Job, body: &mut Vec<Node>) {
        if let Some(when) = self.when(job, job.timeout_seconds.is_some(), "beforeInput true") {
            body.push(when);
        }
        if let Some(seconds) = job.timeout_seconds {
            body.push(Node::block("options", vec![Node::line(timeout(seconds))]));
        }
        let submitters = submitters(job, &mut self.lossy);
        let message = job
            .message
            .clone()
            .unwrap_or_else(|| format!("Approve the gate {}?", job.id));
        body.push(Node::block(
            "input",
            vec![
                Node::line(format!("message {}", groovy::string(&message))),
                Node::line(format!("id {}", groovy::string(&job.id))),
                Node::line("ok 'Approve'"),
                Node::line(format!("submitter {}", groovy::string(&submitters))),
                Node::line(format!("submitterParameter '{APPROVER}'")),
            ],
        ));
        let submitter = groovy::string(&submitters);
        let required = job.required.unwrap_or(1);
        let steps = if required == 1 {
            vec![Node::line(format!(
                "echo \"cdl: approved by ${{env.{APPROVER}}}\""
            ))]
        } else {
            // The `input` directive records one approver; more inputs follow until the gate
            // has as many distinct approvers as it requires, all within its timeout.
            vec![Node::block(
                "script",
                vec![
                    Node::line(format!("List<String> approvers = [env.{APPROVER}]")),
                    Node::block(
                        format!("while (approvers.size() < {required})"),
                        vec![
                            Node::line(format!(
                                "String approver = input(message: {}, id: {}, ok: 'Approve', submitter: {submitter}, submitterParameter: 'approver')",
                                groovy::string(&format!("{message} (another approver)")),
                                groovy::string(&format!("{}-more", job.id)),
                            )),
                            Node::block(
                                "if (!approvers.contains(approver))",
                                vec![Node::line("approvers << approver")],
                            ),
                        ],
                    ),
                    Node::line("echo \"cdl: approved by ${approvers.join(', ')}\""),
                ],
            )]
        };
        body.push(Node::block("steps", steps));
        if job.approvers.iter().any(|a| a.contains(',')) {
            self.lossy.push(Lossy::at(
                job,
                "an approver's name holds a comma, which separates the submitters of an input",
                "the name is read as several submitters",
            ));
        }
    }

    /// The commands, in the pipeline file's folder, with the job's variables and secrets,
    /// its timeout, retries and `allow_failure`, and its artifacts stashed and unstashed.
    fn steps(&mut self, job: &'p Job) -> Vec<Node> {
        self.lossy
            .extend(super::context::missing_in(self.plan, job, &CONTEXT));
        let mut inner = Vec::new();
        let inputs: Vec<&String> = job
            .inputs
            .iter()
            .filter(|i| shell::is_identifier(i))
            .collect();
        for input in &inputs {
            inner.push(Node::block(
                format!("dir({})", groovy::string(&store(input))),
                vec![Node::line("deleteDir()")],
            ));
            // v2 i13k: every instance of a matrix artifact, stashed under its own name.
            for (name, _) in super::matrix_artifacts::downloads(self.plan, input) {
                inner.push(Node::line(format!(
                    "unstash {}",
                    groovy::string(&stash_name(&name))
                )));
            }
        }
        let mut locate = super::context::script(self.plan, &CONTEXT);
        locate.push('\n');
        if !inputs.is_empty() {
            locate.push_str(shell::LOCATE_FUNCTION);
            for input in &inputs {
                locate.push_str(&format!(
                    "export {}=\"$(cdl_locate \"$PWD/{}\")\"\n",
                    super::artifact_variable(input),
                    store(input)
                ));
            }
        }
        // v2 i13j: composed values (export/value.rs).
        if let Some(compose) = super::value::script(job) {
            locate.push_str(compose);
        }
        self.lossy
            .extend(super::value::unsupported(self.plan, job, "Jenkins"));
        self.lossy
            .extend(super::review::unsupported(job, "Jenkins"));
        self.lossy
            .extend(super::trigger::unsupported(job, "Jenkins"));
        let mut env = job.env.clone();
        self.lossy
            .extend(super::steps::display_name_lost(job, "Jenkins"));
        if job.has_step_blocks() {
            // v2 steps (i13b): the step runner keeps cdl's step rules (export/steps.rs);
            // Jenkins's `retry` and `timeout` wrap it for each attempt.
            let (mut runner, lossy) = super::steps::runner_env(job);
            self.lossy.extend(lossy);
            // v2 i13m: values are stored in the build's `env` (`jenkins/values.rs`).
            runner.extend(values::writer_env(job));
            runner.insert("CDL_ATTEMPTS".into(), "1".into());
            env.extend(runner);
            inner.push(Node::line(format!(
                "sh(label: {}, script: {})",
                groovy::string("cdl: run the steps"),
                script_literal(&format!("{locate}{}", super::steps::runner(job)))
            )));
            inner.extend(values::store(job));
        }
        let legacy = if job.has_step_blocks() {
            &[][..]
        } else {
            &job.steps[..]
        };
        for (i, command) in legacy.iter().enumerate() {
            let variable = format!("CDL_STEP_{}", i + 1);
            env.insert(variable.clone(), command.clone());
            let script = format!("{locate}sh -e -c \"${variable}\"\n");
            // The step's name in Jenkins's views: its first line.
            let label = command
                .lines()
                .map(str::trim)
                .find(|l| !l.is_empty())
                .map_or_else(|| format!("step {}", i + 1), str::to_string);
            inner.push(Node::line(format!(
                "sh(label: {}, script: {})",
                groovy::string(&label),
                script_literal(&script)
            )));
        }
        if job.job_type == JobType::Artifact
            && let Some(artifact) = job.artifact.as_ref().filter(|a| shell::is_identifier(a))
        {
            let (outputs, lossy) = shell::collect_env(job);
            self.lossy.extend(lossy);
            // v2 i13k: an instance of a matrix artifact stashes its own folder.
            let part = super::matrix_artifacts::store_part(job, artifact);
            let upload = super::matrix_artifacts::upload_name(job, artifact);
            env.insert("CDL_ARTIFACT_STORE".into(), store(&part));
            env.extend(outputs);
            inner.push(Node::line(format!(
                "sh(label: {}, script: {})",
                groovy::string(&format!("cdl: collect the artifact {upload}")),
                groovy::multiline(&shell::collect_artifact(job))
            )));
            inner.push(Node::line(format!(
                "stash(name: {}, includes: {}, useDefaultExcludes: false)",
                groovy::string(&stash_name(&upload)),
                groovy::string(&format!("{}/**", store(&part)))
            )));
        }
        if let Some(dir) = &self.working_directory {
            inner = vec![Node::block(format!("dir({})", groovy::string(dir)), inner)];
        }
        if !job.secrets.is_empty() {
            let bindings: Vec<String> = job
                .secrets
                .iter()
                .map(|s| {
                    format!(
                        "string(credentialsId: {}, variable: {})",
                        groovy::string(s),
                        groovy::string(s)
                    )
                })
                .collect();
            inner = vec![Node::block(
                format!("withCredentials([{}])", bindings.join(", ")),
                inner,
            )];
        }
        let empty: Vec<&String> = env
            .iter()
            .filter(|(_, v)| v.is_empty())
            .map(|(k, _)| k)
            .collect();
        if !empty.is_empty() {
            let names: Vec<String> = empty.iter().map(|k| format!("`{k}`")).collect();
            self.lossy.push(Lossy::at(
                job,
                format!(
                    "Jenkins removes a variable set to the empty string: {}",
                    names.join(", ")
                ),
                "the job's commands see it unset rather than empty",
            ));
        }
        let pairs: Vec<String> = env.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let mut steps = vec![Node::list_block("withEnv", pairs, inner)];
        if let Some(head) = values::reader_head(self.plan, job) {
            steps = vec![Node::block(head, steps)];
        }
        if let Some(seconds) = job.timeout_seconds {
            steps = vec![Node::block(timeout(seconds), steps)];
        }
        if job.retries > 0 {
            steps = vec![Node::block(format!("retry({})", job.retries + 1), steps)];
        }
        if job.allow_failure {
            steps = vec![Node::block(
                "catchError(buildResult: 'SUCCESS', stageResult: 'FAILURE')",
                steps,
            )];
        }
        steps
    }
}

impl<'p> Builder<'p> {
    /// `post { always { junit …; archiveArtifacts … } }`: the job's reports and kept files,
    /// whether its steps passed or failed. Ant patterns are separated by `,`.
    fn kept(&mut self, job: &Job) -> Option<Node> {
        let folder = self.working_directory.as_deref();
        let mut commas = Vec::new();
        let mut ant = |patterns: &[&str]| -> String {
            patterns
                .iter()
                .filter(|p| {
                    // `,` separates Ant patterns; the archivers expand `$NAME` (`env.expand`).
                    let fits = !p.contains([',', '$']);
                    if !fits && !commas.iter().any(|c| c == *p) {
                        commas.push(p.to_string());
                    }
                    fits
                })
                .map(|p| super::reports::in_folder(folder, p))
                .collect::<Vec<_>>()
                .join(",")
        };
        let junit: Vec<&str> = job.reports.junit.iter().map(String::as_str).collect();
        let junit = ant(&junit);
        let all = ant(&super::reports::kept(job));
        if !commas.is_empty() {
            self.lossy.push(Lossy::at(
                job,
                format!(
                    "Jenkins separates file patterns with `,` and expands `$NAME` in them: {} not kept",
                    commas
                        .iter()
                        .map(|p| format!("`{p}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                "rename the files so that their paths hold no `,` or `$`",
            ));
        }
        self.lossy
            .extend(super::reports::kinds_unread(job, "Jenkins", &["junit"]));
        // v2 i14c: caches
        self.lossy.extend(super::cache::not_cached(
            job,
            "Jenkins",
            "keep the folders in the agent's workspace, or use the Job Cacher plugin by hand",
        ));
        self.lossy.extend(super::reports::retention_elsewhere(
            job,
            "Jenkins",
            "for a whole pipeline (`buildDiscarder`)",
        ));
        let mut always = Vec::new();
        if !junit.is_empty() {
            always.push(Node::line(format!(
                "junit(testResults: {}, allowEmptyResults: true)",
                groovy::string(&junit)
            )));
        }
        if !all.is_empty() {
            always.push(Node::line(format!(
                "archiveArtifacts(artifacts: {}, allowEmptyArchive: true, defaultExcludes: false)",
                groovy::string(&all)
            )));
        }
        let when = super::reports::keep_when(job).jenkins;
        (!always.is_empty()).then(|| Node::block("post", vec![Node::block(when, always)]))
    }
}

/// A step's script: one line as a plain literal, several as a multi-line one.
fn script_literal(script: &str) -> String {
    if script.trim_end_matches('\n').contains('\n') {
        groovy::multiline(script)
    } else {
        groovy::string(script.trim_end_matches('\n'))
    }
}

/// Globs as a list of code spans: `` `main`, `release/*` ``.
fn quoted(globs: &[String]) -> String {
    globs
        .iter()
        .map(|g| format!("`{g}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `agent any`, a label, or a Docker image (on a labelled agent).
fn agent(job: &Job) -> Node {
    match (&job.image, &job.runner) {
        (None, None) => Node::line("agent any"),
        (None, Some(runner)) => Node::block(
            "agent",
            vec![Node::line(format!(
                "label {}",
                groovy::string(&label_expression(job, runner))
            ))],
        ),
        (Some(image), runner) => {
            let mut docker = vec![Node::line(format!("image {}", groovy::string(image)))];
            // v2: `entrypoint = [""]`: the image's entrypoint does not run.
            if job
                .entrypoint
                .as_deref()
                .is_some_and(crate::check::entrypoint::is_none)
            {
                docker.push(Node::line(format!(
                    "args {}",
                    groovy::string("--entrypoint=")
                )));
            }
            if let Some(runner) = runner {
                docker.push(Node::line(format!(
                    "label {}",
                    groovy::string(&label_expression(job, runner))
                )));
            }
            Node::block("agent", vec![Node::block("docker", docker)])
        }
    }
}

/// A runner as one label of a Jenkins label expression, where `&&`, `||`, `!`, `->`, `(`,
/// `)` and spaces are operators: quoted, with `\\` and `"` escaped, unless it is a plain
/// name (Jenkins `LabelAtom.escape`, which quotes with `QuotedStringTokenizer.quote`).
/// The agent's label expression: the runner's label, or with `runner = [...]` every label
/// joined with `&&` (an agent must have them all).
fn label_expression(job: &Job, runner: &str) -> String {
    if job.runner_labels.len() > 1 {
        job.runner_labels
            .iter()
            .map(|label| label_atom(label))
            .collect::<Vec<_>>()
            .join(" && ")
    } else {
        label_atom(runner)
    }
}

fn label_atom(runner: &str) -> String {
    let plain = !runner.is_empty()
        && runner
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | ':' | '/'));
    if plain {
        return runner.to_string();
    }
    let mut out = String::from("\"");
    for c in runner.chars() {
        match c {
            '"' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Approvers as the `submitter` of an `input`: a comma-separated list, so an approver with a
/// comma would name several; such an approver is left out (fewer may approve, never others).
fn submitters(job: &Job, lossy: &mut Vec<Lossy>) -> String {
    let mut kept = Vec::new();
    for approver in &job.approvers {
        if approver.contains(',') || approver.trim() != approver {
            lossy.push(Lossy::at(
                job,
                format!("the approver `{approver}` holds a comma or surrounding spaces, which Jenkins reads as a list of several submitters"),
                "the approver is left out of the `submitter` list",
            ));
        } else {
            // A team (`@NAME`) is a Jenkins group of the same name.
            kept.push(approver.strip_prefix('@').unwrap_or(approver));
        }
    }
    kept.join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The hostile pipeline of `testdata/`: every `withEnv` list, read as Groovy reads it,
    /// gives each job its commands and variables exactly.
    #[test]
    fn jenkins_hostile_text_reaches_the_steps_exactly() {
        let compilation = crate::compile::compile_text(
            "hostile.cdl",
            None,
            include_str!("testdata/hostile.cdl").into(),
        );
        let plan = crate::plan::build(&compilation).unwrap();
        let content = &Jenkins.export(&plan).files[0].content;
        use std::collections::HashMap;
        let mut blocks: Vec<HashMap<String, String>> = Vec::new();
        let mut current: Option<HashMap<String, String>> = None;
        for line in content.lines().map(str::trim) {
            if line == "withEnv([" {
                current = Some(HashMap::new());
            } else if line == "]) {" {
                blocks.extend(current.take());
            } else if let Some(block) = &mut current {
                let pair = groovy::evaluate(line.trim_end_matches(',')).unwrap();
                let (name, value) = pair.split_once('=').unwrap();
                block.insert(name.to_string(), value.to_string());
            }
        }
        let mut checked = 0;
        for job in plan.jobs.iter().filter(|j| !j.steps.is_empty()) {
            let block = blocks
                .iter()
                .find(|b| b.get("CDL_JOB") == Some(&job.id))
                .unwrap_or_else(|| panic!("no withEnv for {}", job.id));
            for (i, step) in job.steps.iter().enumerate() {
                assert_eq!(block.get(&format!("CDL_STEP_{}", i + 1)), Some(step));
                checked += 1;
            }
            for (name, value) in &job.env {
                assert_eq!(block.get(name), Some(value), "{} {name}", job.id);
                checked += 1;
            }
        }
        assert!(checked > 20, "{checked}");
    }

    /// A runner is one label, never an expression that lets other agents run the job.
    #[test]
    fn jenkins_runner_label_is_one_atom() {
        assert_eq!(label_atom("linux-x64"), "linux-x64");
        assert_eq!(label_atom("a||b"), "\"a||b\"");
        assert_eq!(label_atom("x \" y\\"), "\"x \\\" y\\\\\"");
    }

    /// Issue 10 (Jenkins): an approver `alice,eve` named two submitters.
    #[test]
    fn jenkins_approver_with_a_comma_names_no_one_else() {
        let compilation = crate::compile::compile_text(
            "p.cdl",
            None,
            r#"pipeline p { stage s { gate g { approvers = ["alice,eve", "bob"] } } }"#.into(),
        );
        assert!(compilation.diagnostics.is_empty());
        let export = Jenkins.export(&crate::plan::build(&compilation).unwrap());
        let content = &export.files[0].content;
        assert!(content.contains("submitter 'bob'"), "{content}");
        assert!(!content.contains("eve"), "{content}");
        assert!(export.lossy.iter().any(|l| l.message.contains("alice,eve")));
    }

    #[test]
    fn stage_names_are_unique_in_the_whole_file() {
        for plan in super::super::fixture_plans() {
            let content = &Jenkins.export(&plan).files[0].content;
            let mut names = HashSet::new();
            for line in content.lines() {
                if let Some(rest) = line.trim_start().strip_prefix("stage('") {
                    let name = rest.split("') {").next().unwrap();
                    assert!(
                        names.insert(name.to_string()),
                        "{name} twice in {}",
                        plan.pipeline.name
                    );
                }
            }
            assert!(names.len() > plan.stages.len(), "{}", plan.pipeline.name);
        }
    }

    #[test]
    fn every_unstash_has_a_stash_before_it() {
        for plan in super::super::fixture_plans() {
            let content = &Jenkins.export(&plan).files[0].content;
            let mut stashed = HashSet::new();
            for line in content.lines() {
                let line = line.trim_start();
                if let Some(rest) = line.strip_prefix("stash(name: '") {
                    stashed.insert(rest.split('\'').next().unwrap().to_string());
                }
                if let Some(rest) = line.strip_prefix("unstash '") {
                    let name = rest.trim_end_matches('\'');
                    assert!(
                        stashed.contains(name),
                        "{name} unstashed before it is stashed"
                    );
                }
            }
        }
    }

    #[test]
    fn timeouts_use_the_largest_exact_unit() {
        assert_eq!(timeout(90), "timeout(time: 90, unit: 'SECONDS')");
        assert_eq!(timeout(900), "timeout(time: 15, unit: 'MINUTES')");
        assert_eq!(timeout(4 * 3_600), "timeout(time: 4, unit: 'HOURS')");
        assert_eq!(timeout(2 * 86_400), "timeout(time: 2, unit: 'DAYS')");
    }
}
