//! Builds the plan from a checked pipeline: matrix jobs expanded, defaults applied, jobs in
//! the graph's stable topological order, the critical path.

use indexmap::IndexMap;

use super::*;
use crate::check::Checked;
use crate::check::model::{self, JobId};
use crate::compile::Compilation;

/// The plan of a compilation without errors; `None` when it has errors or no pipeline.
pub fn build(compilation: &Compilation) -> Option<Plan> {
    if compilation.has_errors() {
        return None;
    }
    let checked: &Checked = compilation.checked.as_ref()?;
    let pipeline = checked.pipeline.as_ref()?;
    if !checked.graph.acyclic {
        return None;
    }
    let instances: Vec<Vec<Instance>> = pipeline.jobs.iter().map(expand).collect();
    // Review environments: the job that makes the environment each stop job tears down.
    let stoppers = crate::check::review::stopped_by(pipeline);
    let matrix_keys: Vec<Vec<String>> = pipeline
        .jobs
        .iter()
        .map(|job| job_matrix(job).keys())
        .collect();
    let ids = |job: JobId| instances[job.0].iter().map(|i| i.id.clone());
    // v2 i13k: each matrix artifact instance's folder.
    let folders: Vec<Vec<Option<String>>> = pipeline
        .jobs
        .iter()
        .zip(&instances)
        .map(|(job, list)| super::matrix_artifacts::folders(job, list.iter().map(|i| &i.matrix)))
        .collect();

    let mut jobs = Vec::with_capacity(pipeline.jobs.len());
    for job_id in &checked.graph.order {
        let job = pipeline.job(*job_id);
        let kind = job.kind.as_ref().and_then(|k| checked.kinds.get(&k.name));
        let mut needs = Vec::new();
        let mut need_reasons = Vec::new();
        for need in &checked.graph.needs[job_id.0] {
            for id in ids(need.job) {
                needs.push(id);
                need_reasons.push(need.reason);
            }
        }
        let environment = job
            .environment
            .as_ref()
            .and_then(|e| pipeline.environments.get(&e.name));
        let mut inputs: Vec<String> = Vec::new();
        if job.job_type == JobType::Deploy {
            inputs.extend(job.artifact.iter().map(|a| a.name.clone()));
        }
        for used in &job.uses {
            if !inputs.contains(&used.name) {
                inputs.push(used.name.clone());
            }
        }
        let source = compilation.sources.get(job.span.file);
        let position = source.line_column(job.span.start as usize);
        for (instance_index, instance) in instances[job_id.0].iter().enumerate() {
            let mut env = pipeline.env.clone();
            if let Some(environment) = environment {
                env.extend(environment.env.clone());
            }
            env.extend(job.env.clone());
            env.insert("CDL_PIPELINE".into(), pipeline.name.name.clone());
            env.insert("CDL_JOB".into(), instance.id.clone());
            env.insert(
                "CDL_STAGE".into(),
                pipeline.stages[job.stage].name.name.clone(),
            );
            if let Some(environment) = environment {
                env.insert("CDL_ENV_NAME".into(), environment.name.name.clone());
                if let Some(url) = &environment.url {
                    env.insert("CDL_ENV_URL".into(), url.clone());
                }
            }
            // Every key of the matrix, empty where this instance lacks it (v2 §7).
            for key in &matrix_keys[job_id.0] {
                let value = instance.matrix.get(key).cloned().unwrap_or_default();
                env.insert(format!("CDL_MATRIX_{}", env_name(key)), value);
            }
            let is_gate = job.job_type == JobType::Gate;
            // v2 i13g: `runner`/`image`/`timeout = matrix.KEY`, this instance's value.
            let from_matrix = |attribute: &str| {
                job.matrix_references
                    .iter()
                    .find(|r| r.attribute == attribute)
                    .and_then(|r| instance.matrix.get(&r.key).cloned())
            };
            let matrix_timeout =
                from_matrix("timeout").and_then(|v| crate::syntax::literal::duration_seconds(&v));
            // v2 i13j: composed values, this instance's
            let (mut values, composed_image, composed_runner) =
                super::composed::instance(pipeline, environment, job, &instance.matrix, &mut env);
            // Review environments: the job's own, or the one its stop job tears down.
            let review = review(compilation, &stoppers, job, &mut env, &mut values.env);
            jobs.push(Job {
                id: instance.id.clone(),
                name: job.name.clone(),
                job_type: job.job_type,
                stage: pipeline.stages[job.stage].name.name.clone(),
                needs: needs.clone(),
                need_reasons: need_reasons.clone(),
                steps: job.run.clone(),
                env,
                secrets: job.secrets.iter().map(|s| s.name.clone()).collect(),
                timeout_seconds: job
                    .timeout
                    .or(matrix_timeout)
                    .or(kind.and_then(|k| k.timeout)),
                timeout_from: match (job.timeout.or(matrix_timeout), kind.and_then(|k| k.timeout)) {
                    (Some(_), _) => Some(TimeoutFrom::Job),
                    (None, Some(_)) => Some(TimeoutFrom::Kind),
                    (None, None) => None,
                },
                retries: job.retries.or(kind.and_then(|k| k.retries)).unwrap_or(0),
                allow_failure: job.allow_failure.is_some(),
                // v2 i13g: a condition reading `matrix.KEY`, as this instance sees it.
                condition: if job.instance_when.is_empty() {
                    job.when.clone()
                } else {
                    job.instance_when[instance_index].clone()
                }
                .map(|c| fix_default_branch(c, pipeline.default_branch.as_deref())),
                environment: job.environment.as_ref().map(|e| e.name.clone()),
                artifact: job.artifact.as_ref().map(|a| a.name.clone()),
                inputs: inputs.clone(),
                outputs: job.outputs.clone(),
                kind: job.kind.as_ref().map(|k| k.name.clone()),
                approvers: job.approvers.clone(),
                required: is_gate.then_some(job.required),
                message: job.message.clone(),
                matrix: instance.matrix.clone(),
                // `image = none` opts the job out of the pipeline's image.
                image: if job.no_image {
                    None
                } else {
                    from_matrix("image")
                        .or_else(|| job.image.clone())
                        .or(composed_image)
                        .or_else(|| {
                            values
                                .image
                                .is_none()
                                .then(|| pipeline.image.clone())
                                .flatten()
                        })
                },
                runner: from_matrix("runner")
                    .or_else(|| job.runner.clone())
                    .or(composed_runner)
                    .or_else(|| {
                        values
                            .runner
                            .is_none()
                            .then(|| pipeline.runner.clone())
                            .flatten()
                    }),
                doc: job.doc.clone(),
                span: SourceSpan {
                    file: source.name.clone(),
                    start: job.span.start,
                    end: job.span.end,
                    line: position.line,
                    column: position.column,
                },
                display_name: job.display_name.clone(),
                shell: job.shell.or(pipeline.shell),
                // v2 i13l: each step's condition as this instance sees it.
                step_blocks: step_blocks(
                    job,
                    instance_index,
                    &instance.matrix,
                    pipeline.default_branch.as_deref(),
                ),
                values: job.values.iter().map(|v| v.name.clone()).collect(),
                reports: job.reports.clone(),
                // v2: the published site is kept with the run too.
                keep: job
                    .keep
                    .iter()
                    .cloned()
                    .chain(job.pages.iter().map(|folder| format!("{folder}/**")))
                    .collect(),
                retention_days: job.retention_days,
                permissions: (!is_gate)
                    .then(|| {
                        crate::check::platform::effective_permissions(
                            &job.settings,
                            &pipeline.settings,
                        )
                    })
                    .flatten(),
                oidc: job.settings.oidc.clone().filter(|_| !is_gate),
                registry: job.settings.registry && !is_gate,
                checkout: job
                    .settings
                    .checkout
                    .or(pipeline.settings.checkout)
                    .filter(|_| !is_gate),
                runs: job.runs,
                manual: job.manual.is_some(),
                auto_when: job
                    .auto_when
                    .clone()
                    .map(|c| fix_default_branch(c, pipeline.default_branch.as_deref())),
                services: job.services.clone(),
                env_values: values.env,
                image_value: values.image.filter(|_| !job.no_image),
                // The job's own labels; else, when the job names no runner of any kind, the
                // pipeline's.
                runner_labels: if !job.runner_labels.is_empty() {
                    job.runner_labels.clone()
                } else if job.runner.is_none()
                    && from_matrix("runner").is_none()
                    && values.runner.is_none()
                {
                    pipeline.runner_labels.clone()
                } else {
                    Vec::new()
                },
                runner_value: values.runner,
                optional_outputs: job.optional_outputs.clone(),
                max_parallel: job.max_parallel,
                pages: job.pages.clone(),
                keep_when: job.keep_when,
                entrypoint: job.entrypoint.clone(),
                artifact_folder: folders[job_id.0][instance_index].clone(),
                caches: job.caches.iter().map(|d| d.cache.clone()).collect(),
                review: review.clone(),
                trigger: job.trigger.as_ref().map(|t| super::DownstreamTrigger {
                    project: t.project.resolve(&IndexMap::new()),
                    branch: t.branch.clone(),
                    wait: t.wait,
                    span: source_span(compilation, t.span),
                }),
            });
        }
    }

    let mut by_stage: std::collections::HashMap<&str, Vec<String>> =
        std::collections::HashMap::new();
    for job in &jobs {
        by_stage
            .entry(job.stage.as_str())
            .or_default()
            .push(job.id.clone());
    }
    let stages = pipeline
        .stages
        .iter()
        .map(|stage| Stage {
            name: stage.name.name.clone(),
            doc: stage.doc.clone(),
            jobs: by_stage
                .remove(stage.name.name.as_str())
                .unwrap_or_default(),
        })
        .collect::<Vec<_>>();
    let critical_path = critical_path(&jobs, &stages);
    Some(Plan {
        schema: SCHEMA.to_string(),
        pipeline: PipelineInfo {
            name: pipeline.name.name.clone(),
            description: pipeline.description.clone(),
            doc: pipeline.doc.clone(),
            runner: pipeline.runner.clone(),
            image: pipeline.image.clone(),
            file: compilation.sources.get(compilation.root).name.clone(),
            allowed_signers: pipeline.allowed_signers.clone(),
            default_branch: pipeline.default_branch.clone(),
            permissions: pipeline.settings.permissions.clone(),
            concurrency: pipeline.settings.concurrency,
        },
        triggers: pipeline
            .triggers
            .iter()
            .map(|t| Trigger {
                event: t.event,
                branches: t.branches.clone(),
                pattern: t.pattern.clone(),
                cron: t.cron.clone(),
                paths: t.paths.clone(),
                paths_ignore: t.paths_ignore.clone(),
            })
            .collect(),
        env: super::composed::pipeline_env(pipeline).0,
        env_values: super::composed::pipeline_env(pipeline).1,
        environments: pipeline.environments.values().map(environment).collect(),
        artifacts: pipeline
            .artifacts
            .iter()
            .map(|(name, id)| Artifact {
                name: name.clone(),
                job: instances[id.0][0].id.clone(),
                outputs: pipeline.job(*id).outputs.clone(),
                optional_outputs: pipeline.job(*id).optional_outputs.clone(),
                instances: super::matrix_artifacts::instances(
                    instances[id.0].iter().map(|i| &i.id),
                    &folders[id.0],
                ),
            })
            .collect(),
        secrets: pipeline.secrets.keys().cloned().collect(),
        teams: pipeline
            .teams
            .values()
            .map(|t| Team {
                name: t.name.name.clone(),
                members: t.members.clone(),
            })
            .collect(),
        kinds: checked
            .kinds
            .values()
            .map(|k| Kind {
                name: k.name.name.clone(),
                doc: k.doc.clone(),
                environment: k.environment,
                timeout_seconds: k.timeout,
                retries: k.retries,
            })
            .collect(),
        stages,
        jobs,
        critical_path,
        inputs: pipeline.inputs.values().cloned().collect(),
        vars: pipeline.vars.values().cloned().collect(),
    })
}

/// v2 i13l: the job's steps for one matrix instance: a `when` that reads `matrix.KEY` is
/// the instance's own, and every `when` gets the file's default branch like a job's; the
/// steps' composed `env` values and native forms' `with` values that read references are
/// this instance's (v2 §2, §5).
fn step_blocks(
    job: &model::Job,
    instance_index: usize,
    matrix: &IndexMap<String, String>,
    default_branch: Option<&str>,
) -> Vec<crate::plan::Step> {
    let mut steps = job.steps.clone();
    super::composed::with_values(&mut steps, &job.composed.with, matrix);
    for (index, values) in &job.composed.steps {
        if let Some(step) = steps.get_mut(*index) {
            let (env, env_values) = super::composed::step(values, matrix);
            step.env.extend(env);
            step.env_values = env_values;
        }
    }
    for (index, conditions) in &job.step_instance_when {
        if let Some(step) = steps.get_mut(*index) {
            step.when = conditions.get(instance_index).cloned().flatten();
        }
    }
    for step in &mut steps {
        step.when = step
            .when
            .take()
            .map(|c| fix_default_branch(c, default_branch));
    }
    steps
}

/// v2 i13d: where the file fixes `default_branch`, `branch == default_branch` is
/// `branch == "<it>"` for every target (and `cdl run`, whose default branch is the same).
fn fix_default_branch(condition: Condition, fixed: Option<&str>) -> Condition {
    let Some(fixed) = fixed else {
        return condition;
    };
    let fix = |c: Condition| fix_default_branch(c, Some(fixed));
    match condition {
        Condition::Compare {
            variable: crate::model::Variable::OnDefaultBranch,
            op,
            value,
        } => {
            let (when_true, when_false) = crate::model::condition::boolean_cases(op, &value);
            let on_default = Condition::Compare {
                variable: crate::model::Variable::Branch,
                op: crate::model::CompareOp::Equal,
                value: fixed.to_string(),
            };
            match (when_true, when_false) {
                (true, true) => Condition::Const(true),
                (false, false) => Condition::Const(false),
                (true, false) => on_default,
                (false, true) => Condition::Not(Box::new(on_default)),
            }
        }
        Condition::And(items) => Condition::And(items.into_iter().map(fix).collect()),
        Condition::Or(items) => Condition::Or(items.into_iter().map(fix).collect()),
        Condition::Not(inner) => Condition::Not(Box::new(fix(*inner))),
        other => other,
    }
}

fn environment(environment: &model::Environment) -> Environment {
    Environment {
        name: environment.name.name.clone(),
        url: super::composed::url(environment).0,
        env: super::composed::environment_env(environment).0,
        concurrency: environment.concurrency,
        requires: Requires {
            approval: environment.requires_approval.is_some(),
            tests: environment
                .requires_tests
                .iter()
                .map(|k| k.name.clone())
                .collect(),
            promotion_from: environment
                .requires_promotion
                .as_ref()
                .map(|e| e.name.clone()),
        },
        url_value: super::composed::url(environment).1,
        env_values: super::composed::environment_env(environment).1,
    }
}

/// `NAME` as an environment variable name: upper case, `-` as `_`.
pub fn env_name(name: &str) -> String {
    name.to_ascii_uppercase().replace('-', "_")
}

struct Instance {
    id: String,
    /// The instance's values (axes, then include keys).
    matrix: IndexMap<String, String>,
}

/// A job's instances: one per combination of its matrix (v2 §7: with `exclude` and
/// `include`), or the job itself.
fn expand(job: &model::Job) -> Vec<Instance> {
    let matrix = job_matrix(job);
    if matrix.is_empty() {
        return vec![Instance {
            id: job.name.clone(),
            matrix: IndexMap::new(),
        }];
    }
    matrix
        .expand()
        .instances
        .into_iter()
        .map(|instance| Instance {
            id: crate::model::matrix::instance_id(&job.name, &matrix.id_values(&instance.values)),
            matrix: instance.values,
        })
        .collect()
}

/// The job's whole matrix: its axes with its `include` and `exclude` entries.
pub fn job_matrix(job: &model::Job) -> crate::model::matrix::Matrix {
    crate::model::matrix::Matrix {
        axes: job.matrix.clone(),
        ..job.matrix_entries.clone()
    }
}

/// `NAME[axis=value,…]`, axes in written order. A value that is empty or holds `,` `=` `[`
/// `]` `"` `\\`, white space or a control character is quoted with Rust's string escapes
/// (`unit[os="linux,arch=arm"]`), so that two instances never share an id.
pub fn instance_id(name: &str, matrix: &IndexMap<String, String>) -> String {
    crate::model::matrix::instance_id(name, matrix)
}

/// The first job id that two jobs of the plan share, if any. Plans built here never have one;
/// a plan read back from a run folder is checked before it runs.
pub fn duplicate_job_id(jobs: &[Job]) -> Option<&str> {
    let mut seen = std::collections::HashSet::new();
    jobs.iter()
        .map(|j| j.id.as_str())
        .find(|id| !seen.insert(*id))
}

/// The longest chain of jobs (each counting one), where a job follows its needs and every job
/// of earlier stages. Linear: one pass in plan order, keeping the best of each stage.
fn critical_path(jobs: &[Job], stages: &[Stage]) -> Vec<String> {
    let index: std::collections::HashMap<&str, usize> = jobs
        .iter()
        .enumerate()
        .map(|(i, j)| (j.id.as_str(), i))
        .collect();
    let stage_of: std::collections::HashMap<&str, usize> = stages
        .iter()
        .enumerate()
        .map(|(i, s)| (s.name.as_str(), i))
        .collect();
    let mut length = vec![0usize; jobs.len()];
    let mut previous: Vec<Option<usize>> = vec![None; jobs.len()];
    // The longest chain ending in any stage before the current one.
    let mut best_before: Option<usize> = None;
    let mut best_in_stage: Option<usize> = None;
    let mut current_stage = usize::MAX;
    for (i, job) in jobs.iter().enumerate() {
        let stage = stage_of[job.stage.as_str()];
        if stage != current_stage {
            if let Some(b) = best_in_stage
                && best_before.is_none_or(|p| length[b] > length[p])
            {
                best_before = Some(b);
            }
            best_in_stage = None;
            current_stage = stage;
        }
        let mut best = best_before;
        for need in &job.needs {
            let n = index[need.as_str()];
            if best.is_none_or(|b| length[n] > length[b]) {
                best = Some(n);
            }
        }
        length[i] = 1 + best.map_or(0, |b| length[b]);
        previous[i] = best;
        if best_in_stage.is_none_or(|b| length[i] > length[b]) {
            best_in_stage = Some(i);
        }
    }
    let Some(mut at) = (0..jobs.len()).max_by_key(|i| (length[*i], std::cmp::Reverse(*i))) else {
        return Vec::new();
    };
    let mut path = vec![jobs[at].id.clone()];
    while let Some(p) = previous[at] {
        path.push(jobs[p].id.clone());
        at = p;
    }
    path.reverse();
    path
}

/// The review environment `job` makes, or the one it stops (its maker's, with `stops`), and
/// its `CDL_ENV_NAME`/`CDL_ENV_URL`: plain when fixed, computed when they read references.
fn review(
    compilation: &crate::compile::Compilation,
    stoppers: &std::collections::HashMap<&str, &crate::check::model::Job>,
    job: &crate::check::model::Job,
    env: &mut IndexMap<String, String>,
    values: &mut IndexMap<String, crate::model::value::Value>,
) -> Option<super::ReviewEnvironment> {
    let (maker, stops) = match &job.review {
        Some(_) => (job, None),
        None => {
            let maker = *stoppers.get(job.name.as_str())?;
            (maker, Some(maker.name.clone()))
        }
    };
    let review = maker.review.as_ref()?;
    let none = IndexMap::new();
    let name = review.name.resolve(&none);
    let url = review.url.as_ref().map(|u| u.resolve(&none));
    for (variable, value) in [("CDL_ENV_NAME", Some(&name)), ("CDL_ENV_URL", url.as_ref())] {
        let Some(value) = value else { continue };
        env.shift_remove(variable);
        values.shift_remove(variable);
        match crate::check::value::Composed::fixed(value) {
            Some(text) => {
                env.insert(variable.into(), text);
            }
            None => {
                values.insert(variable.into(), value.clone());
            }
        }
    }
    Some(super::ReviewEnvironment {
        name,
        url,
        stop: if stops.is_none() {
            review.stop.as_ref().map(|s| s.name.clone())
        } else {
            None
        },
        stops,
        span: source_span(compilation, review.span),
    })
}

/// Where a construct is written, as the plan says it (a file name, offsets, line and column).
fn source_span(compilation: &Compilation, span: crate::span::Span) -> SourceSpan {
    let source = compilation.sources.get(span.file);
    let position = source.line_column(span.start as usize);
    SourceSpan {
        file: source.name.clone(),
        start: span.start,
        end: span.end,
        line: position.line,
        column: position.column,
    }
}
