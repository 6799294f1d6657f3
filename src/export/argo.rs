//! Argo Workflows: one `Workflow` (or, with `--template`, a `WorkflowTemplate`) whose entry
//! template is a DAG with one task per job. Every task depends on its explicit needs and on
//! the jobs of the latest earlier stage; `failFast: false` lets a failure stop only what is
//! ordered after it, and Argo's `dependencies` treat a skipped task as done, as cdl does.
//! Conditions are expression tags over the workflow's parameters (`branch`, `tag`, `event`),
//! each job's being its effective condition. A gate is a suspend step followed by a check
//! that fails unless the approval parameter was set to `YES`, so that a timeout (which
//! resumes the suspend) rejects it.

mod expression;
// v2 i13m: inputs as workflow parameters.
mod inputs;
mod model;
mod template;

use std::collections::HashMap;
use std::path::PathBuf;

use model::*;

use super::jobs::{self, Unit};
use super::kubernetes::{self, Dialect, Names, Script, matrix_parameter};
use super::{Export, Exporter, Lossy, Options};
use crate::plan::Condition;
use crate::plan::JobType;
use crate::plan::{Job, Plan};

/// v2 i13f: the jobs of language v2 §6 this target keeps natively.
const AFTER_FAILURE: super::after_failure::Support = super::after_failure::Support::NONE;

pub struct Argo;

const API_VERSION: &str = "argoproj.io/v1alpha1";
const ENTRYPOINT: &str = "cdl-pipeline";
const APPROVAL_CHECK: &str = "cdl-approval-check";
/// Where a job's checkout of the repository goes.
const SOURCE: &str = "/src";
/// Where artifacts are stored by the job that builds them and placed for those that receive
/// them: `ARTIFACTS/NAME`.
const ARTIFACTS: &str = "/tmp/cdl/artifacts";
/// The checked text of an approval; any other value, the default included, rejects.
const APPROVED: &str = "YES";
const NOT_APPROVED: &str = "NO";

/// Fails unless `CDL_APPROVAL` is `YES`.
const CHECK_SCRIPT: &str = r#"if [ "$CDL_APPROVAL" = YES ]; then
  echo "cdl: the gate $CDL_GATE was approved"
else
  echo "cdl: the gate $CDL_GATE was rejected, or its timeout expired (approve: $CDL_APPROVAL)" >&2
  exit 1
fi
"#;

impl Exporter for Argo {
    fn name(&self) -> &'static str {
        "argo"
    }

    fn default_path(&self, plan: &Plan) -> PathBuf {
        PathBuf::from(".argo").join(format!("{}.yaml", plan.pipeline.name))
    }

    fn export(&self, plan: &Plan) -> Export {
        self.export_with(plan, Options::default())
    }

    fn export_with(&self, plan: &Plan, options: Options) -> Export {
        // v2 i13j: composed values' parts as the jobs' variables (export/value.rs)
        let prepared = super::value::prepare(plan);
        let plan: &Plan = &prepared;
        // v2 i13d: vars fixed to their defaults (W0200); i13m: inputs are workflow
        // parameters (`argo/inputs.rs`).
        let (plan, fixed) = super::inputs::fixed(
            plan,
            "Argo Workflows",
            super::inputs::Fixed {
                inputs: false,
                vars: true,
                secrets: true,
                default_branch: true,
            },
        );
        // v2 i14b: `changed()` cannot be decided on Argo Workflows: everything changed (W0200).
        let (plan, changed) = super::changed::everything_changed(
            plan.as_ref(),
            "Argo Workflows",
            super::changed::EVERYTHING_HELP,
        );
        let fixed: Vec<_> = fixed.into_iter().chain(changed).collect();
        let plan = plan.as_ref();
        let mut builder = Builder::new(plan);
        builder.lossy.extend(fixed);
        let spec = builder.spec();
        let name = kubernetes::label(&plan.pipeline.name, 50);
        let (kind, metadata) = if options.template {
            (
                "WorkflowTemplate",
                Metadata {
                    name: Some(name),
                    ..Metadata::default()
                },
            )
        } else {
            (
                "Workflow",
                Metadata {
                    generate_name: Some(format!("{name}-")),
                    ..Metadata::default()
                },
            )
        };
        // v2 i14a: the git artifact fetches submodules and takes a depth.
        builder.lossy.extend(super::platform::lossy(
            plan,
            &super::platform::Coverage {
                system: "Argo Workflows",
                checkout: super::platform::CheckoutSupport {
                    depth: true,
                    full_history: true,
                    submodules: true,
                    ..Default::default()
                },
                oidc: false,
                concurrency: false,
                paths: false,
                permissions_instead: "Argo Workflows has no repository token per step; give the steps that need one a credential as a secret",
                concurrency_instead: "use a synchronization semaphore or mutex, or cancel the older Workflow (`argo stop`)",
            },
        ));
        let document = Document {
            api_version: API_VERSION,
            kind,
            metadata,
            spec,
        };
        Export::assemble(
            self.default_path(plan),
            super::to_yaml(&document),
            None,
            builder.lossy,
        )
    }
}

/// Argo reads `{{…}}` as one of its template tags wherever it appears.
const DIALECT: Dialect = Dialect {
    system: "Argo",
    opener: "{{",
    substitutes: |text| text.contains("{{"),
    matrix_value: |axis| format!("{{{{inputs.parameters.{}}}}}", matrix_parameter(axis)),
};

struct Builder<'p> {
    plan: &'p Plan,
    effective: HashMap<&'p str, Condition>,
    /// Job id → its DAG task.
    tasks: HashMap<&'p str, String>,
    templates: Names,
    working_directory: String,
    lossy: Vec<Lossy>,
}

impl<'p> Builder<'p> {
    fn new(plan: &'p Plan) -> Builder<'p> {
        let mut lossy = Vec::new();
        // v2 i13f: what the target keeps of `runs` and `start`
        lossy.extend(super::after_failure::losses(
            plan,
            "Argo Workflows",
            AFTER_FAILURE,
        ));
        let working_directory = kubernetes::working_directory(plan, SOURCE, DIALECT, &mut lossy);
        lossy.extend(kubernetes::triggers(
            plan,
            "Argo Workflows",
            "submit the workflow from Argo Events (or a CronWorkflow for a schedule) with the parameters repo, revision, branch, tag and event; see docs/export.md",
        ));
        kubernetes::runners(plan, &mut lossy);
        lossy.extend(super::matrix_limit::lost(&plan.jobs, "Argo Workflows"));
        lossy.extend(super::pages::lost(plan, "Argo Workflows"));
        lossy.extend(super::entrypoint::lost_all(plan, "Argo Workflows", true));
        let mut templates = Names::default();
        templates.claim(ENTRYPOINT);
        templates.claim(APPROVAL_CHECK);
        let mut task_names = Names::default();
        let tasks = plan
            .jobs
            .iter()
            .map(|job| (job.id.as_str(), task_names.claim(&job.id)))
            .collect();
        Builder {
            plan,
            effective: super::after_failure::effective(plan, AFTER_FAILURE),
            tasks,
            templates,
            working_directory,
            lossy,
        }
    }

    fn spec(&mut self) -> Spec {
        let mut templates = vec![Template {
            name: ENTRYPOINT.into(),
            ..Template::default()
        }];
        let mut tasks = Vec::new();
        let mut gates = false;
        for unit in kubernetes::units(self.plan, DIALECT) {
            let name = self.templates.claim(unit.id());
            if unit.job().job_type == JobType::Gate {
                gates = true;
                templates.extend(self.gate(unit.job(), &name));
            } else {
                templates.push(self.job(&unit, &name));
            }
            for job in &unit.jobs {
                tasks.push(self.task(job, &unit, &name));
            }
        }
        templates[0].dag = Some(Dag {
            fail_fast: false,
            tasks,
        });
        if gates {
            templates.push(approval_check());
        }
        Spec {
            entrypoint: ENTRYPOINT.into(),
            arguments: Arguments {
                parameters: run_parameters()
                    .into_iter()
                    .chain(inputs::parameters(self.plan))
                    .collect(),
                artifacts: Vec::new(),
            },
            templates,
        }
    }

    fn task(&self, job: &'p Job, unit: &Unit<'p>, template: &str) -> Task {
        let stage_jobs = jobs::previous_stage_jobs(self.plan, &job.stage);
        let dependencies = jobs::needs_then(job, stage_jobs, |id| &self.tasks[id]);
        let mut arguments = Arguments::default();
        if unit.is_matrix() {
            arguments.parameters = job
                .matrix
                .iter()
                .map(|(axis, value)| Parameter {
                    name: matrix_parameter(axis),
                    value: Some(value.clone()),
                    ..Parameter::default()
                })
                .collect();
        }
        for input in &job.inputs {
            let Some(artifact) = self.plan.artifacts.iter().find(|a| &a.name == input) else {
                continue;
            };
            // v2 i13k: a matrix artifact is one argument per instance (`NAME--N`).
            if !artifact.instances.is_empty() {
                for (n, instance) in artifact.instances.iter().enumerate() {
                    arguments.artifacts.push(Artifact {
                        name: format!("{input}--{}", n + 1),
                        from: Some(format!(
                            "{{{{tasks.{}.outputs.artifacts.{input}}}}}",
                            self.tasks[instance.job.as_str()]
                        )),
                        ..Artifact::default()
                    });
                }
                continue;
            }
            arguments.artifacts.push(Artifact {
                name: input.clone(),
                from: Some(format!(
                    "{{{{tasks.{}.outputs.artifacts.{input}}}}}",
                    self.tasks[artifact.job.as_str()]
                )),
                ..Artifact::default()
            });
        }
        Task {
            name: self.tasks[job.id.as_str()].clone(),
            template: template.to_string(),
            dependencies,
            when: expression::when(&self.effective[job.id.as_str()]),
            arguments,
            continue_on: job.allow_failure.then_some(ContinueOn {
                error: true,
                failed: true,
            }),
        }
    }

    /// The container template of a job, or of all instances of a folded matrix job.
    fn job(&mut self, unit: &Unit<'p>, name: &str) -> Template {
        let job = unit.job();
        let mut script = Script::new(DIALECT);
        script.job_variables(unit);
        script.own("CDL_RUN_ID", "{{workflow.name}}");
        inputs::env(self.plan, &mut script);
        script.context(self.plan, &CONTEXT, |p| {
            format!("{{{{workflow.parameters.{p}}}}}")
        });
        // v2 i13j: composed values (export/value.rs).
        script.compose(job);
        self.lossy
            .extend(super::value::unsupported(self.plan, job, "Argo Workflows"));
        self.lossy
            .extend(super::review::unsupported(job, "Argo Workflows"));
        self.lossy
            .extend(super::trigger::unsupported(job, "Argo Workflows"));
        self.lossy
            .extend(super::context::missing_in(self.plan, job, &CONTEXT));
        self.lossy.extend(script.steps(job));
        // v2 i13i: values are not passed on (export/values.rs).
        self.lossy
            .extend(super::values::not_passed(job, "Argo Workflows"));
        self.lossy
            .extend(super::steps::display_name_lost(job, "Argo Workflows"));
        // v2 reports and kept files (i13h): no place for them in a workflow's files.
        self.lossy
            .extend(super::reports::not_kept(job, "Argo Workflows"));
        // v2 i14c: caches
        self.lossy.extend(super::cache::not_cached(
            job,
            "Argo Workflows",
            "keep the cached folders on a persistent volume claim mounted by the template",
        ));
        let mut inputs = Inputs {
            parameters: unit
                .axes
                .iter()
                .map(|(axis, _)| Parameter {
                    name: matrix_parameter(axis),
                    ..Parameter::default()
                })
                .collect(),
            artifacts: vec![Artifact {
                name: "source".into(),
                path: Some(SOURCE.into()),
                git: Some(GitArtifact {
                    repo: "{{workflow.parameters.repo}}".into(),
                    revision: "{{workflow.parameters.revision}}".into(),
                    depth: job.checkout.and_then(|c| c.depth).filter(|d| *d > 0),
                }),
                ..Artifact::default()
            }],
        };
        if !job.inputs.is_empty() {
            script.own("CDL_ARTIFACTS_DIR", ARTIFACTS);
            script.locate_inputs(job);
        }
        for input in &job.inputs {
            // v2 i13k: each instance of a matrix artifact into its folder.
            let downloads = super::matrix_artifacts::downloads(self.plan, input);
            for (n, (_, folder)) in downloads.iter().enumerate() {
                inputs.artifacts.push(Artifact {
                    name: match folder {
                        Some(_) => format!("{input}--{}", n + 1),
                        None => input.clone(),
                    },
                    path: Some(match folder {
                        Some(folder) => format!("{ARTIFACTS}/{input}/{folder}"),
                        None => format!("{ARTIFACTS}/{input}"),
                    }),
                    ..Artifact::default()
                });
            }
        }
        let mut body = Script::commands(job);
        let mut outputs = Inputs::default();
        if job.job_type == JobType::Artifact
            && let Some(artifact) = &job.artifact
        {
            // v2 i13k: an instance of a matrix artifact collects into its folder.
            let store = format!(
                "{ARTIFACTS}/{}",
                super::matrix_artifacts::store_part(job, artifact)
            );
            script.own("CDL_ARTIFACT_STORE", store.clone());
            self.lossy.extend(script.outputs(job));
            body.push_str(&super::shell::collect_artifact(job));
            outputs.artifacts.push(Artifact {
                name: artifact.clone(),
                path: Some(store),
                ..Artifact::default()
            });
        }
        // v2 i14d: services as sidecars, reached at `localhost`.
        let sidecars = super::services::sidecars(job, &DIALECT, &mut self.lossy);
        for (name, value) in
            super::services::variables(job, |_| "localhost".to_string(), |_, port| port.to_string())
        {
            script.own(&name, value);
        }
        self.lossy.extend(script.findings(job));
        let image = DIALECT.image(job, &mut self.lossy);
        Template {
            sidecars,
            name: name.to_string(),
            inputs,
            outputs,
            container: Some(Container {
                image: image.to_string(),
                command: vec![
                    "sh".into(),
                    "-c".into(),
                    format!("{}{body}", script.prelude()),
                ],
                working_dir: Some(self.working_directory.clone()),
                env: script.env_vars(self.plan, &job.secrets),
            }),
            retry_strategy: (job.retries > 0).then_some(RetryStrategy {
                limit: job.retries,
                retry_policy: "Always",
            }),
            active_deadline_seconds: job.timeout_seconds,
            synchronization: self.concurrency(job),
            ..Template::default()
        }
    }

    /// A deploy's limit on concurrent deploys to its environment: a mutex for one at a time,
    /// else a semaphore whose limit is in a ConfigMap.
    fn concurrency(&self, job: &Job) -> Option<Synchronization> {
        if job.job_type != JobType::Deploy {
            return None;
        }
        let name = job.environment.as_ref()?;
        let environment = self.plan.environments.iter().find(|e| &e.name == name)?;
        Some(match environment.concurrency? {
            1 => Synchronization {
                mutexes: vec![Mutex {
                    name: kubernetes::label(
                        &format!("{}-deploy-{name}", self.plan.pipeline.name),
                        kubernetes::MAX_NAME,
                    ),
                }],
                ..Synchronization::default()
            },
            _ => Synchronization {
                semaphores: vec![Semaphore {
                    config_map_key_ref: KeyRef {
                        name: kubernetes::concurrency_config_map(self.plan),
                        key: name.clone(),
                    },
                }],
                ..Synchronization::default()
            },
        })
    }

    /// A gate: a steps template that suspends, then checks that the approval was given.
    fn gate(&mut self, job: &'p Job, name: &str) -> Vec<Template> {
        let approval = self.templates.claim(&format!("{name}-approval"));
        let mut description = job
            .message
            .clone()
            .unwrap_or_else(|| format!("Approve the gate {}?", job.id));
        description.push_str(&format!(" Approvers: {}.", job.approvers.join(", ")));
        if (DIALECT.substitutes)(&description) {
            self.lossy.push(Lossy::at(
                job,
                "the gate's message contains `{{`, which Argo reads as a variable",
                "the message is shown with `{{` written as `{ {`",
            ));
            description = kubernetes::defuse(&description, "{{");
        }
        self.lossy.push(Lossy::at(
            job,
            "Argo lets anyone allowed to resume the workflow approve the gate, not only its approvers",
            format!(
                "limit who may update workflows in the namespace (Kubernetes RBAC) to the approvers: {}",
                job.approvers.join(", ")
            ),
        ));
        let required = job.required.unwrap_or(1);
        if required > 1 {
            self.lossy.push(Lossy::at(
                job,
                format!("the gate needs {required} approvals; Argo proceeds after one"),
                "one resume with `approve` set to YES approves the gate",
            ));
        }
        let wrapper = Template {
            name: name.to_string(),
            steps: vec![
                vec![Step {
                    name: approval.clone(),
                    template: approval.clone(),
                    ..Step::default()
                }],
                vec![Step {
                    name: format!("{name}-check"),
                    template: APPROVAL_CHECK.into(),
                    arguments: Arguments {
                        parameters: vec![
                            Parameter {
                                name: "approve".into(),
                                value: Some(format!(
                                    "{{{{steps.{approval}.outputs.parameters.approve}}}}"
                                )),
                                ..Parameter::default()
                            },
                            Parameter {
                                name: "gate".into(),
                                value: Some(job.id.clone()),
                                ..Parameter::default()
                            },
                        ],
                        artifacts: Vec::new(),
                    },
                }],
            ],
            ..Template::default()
        };
        let suspend = Template {
            name: approval,
            inputs: Inputs {
                parameters: vec![Parameter {
                    name: "approve".into(),
                    default: Some(NOT_APPROVED.into()),
                    allowed: vec![APPROVED.into(), NOT_APPROVED.into()],
                    description: Some(description),
                    ..Parameter::default()
                }],
                artifacts: Vec::new(),
            },
            outputs: Inputs {
                parameters: vec![Parameter {
                    name: "approve".into(),
                    value_from: Some(ValueFrom {
                        supplied: Empty {},
                        default: NOT_APPROVED.into(),
                    }),
                    ..Parameter::default()
                }],
                artifacts: Vec::new(),
            },
            suspend: Some(Suspend {
                duration: job.timeout_seconds.map(|s| s.to_string()),
            }),
            ..Template::default()
        };
        vec![wrapper, suspend]
    }
}

/// The workflow's parameters: what to check out and what the conditions compare.
fn run_parameters() -> Vec<Parameter> {
    kubernetes::RUN_PARAMETERS
        .iter()
        .map(|(name, value, description)| Parameter {
            name: name.to_string(),
            value: value.map(str::to_string),
            allowed: if *name == "event" {
                crate::plan::EVENTS.iter().map(|e| e.to_string()).collect()
            } else {
                Vec::new()
            },
            description: Some(description.to_string()),
            ..Parameter::default()
        })
        .collect()
}

/// The container every gate runs after its suspend: fails unless the approval was given.
fn approval_check() -> Template {
    Template {
        name: APPROVAL_CHECK.into(),
        inputs: Inputs {
            parameters: ["approve", "gate"]
                .iter()
                .map(|name| Parameter {
                    name: name.to_string(),
                    ..Parameter::default()
                })
                .collect(),
            artifacts: Vec::new(),
        },
        container: Some(Container {
            image: kubernetes::UTILITY_IMAGE.into(),
            command: vec!["sh".into(), "-c".into(), CHECK_SCRIPT.into()],
            working_dir: None,
            env: vec![
                EnvVar::value("CDL_APPROVAL", "{{inputs.parameters.approve}}"),
                EnvVar::value("CDL_GATE", "{{inputs.parameters.gate}}"),
            ],
        }),
        ..Template::default()
    }
}

/// The run context from the run's parameters (`kubernetes::context_sources`).
const CONTEXT: super::context::Sources = kubernetes::context_sources("Argo Workflows");

#[cfg(test)]
mod tests {
    use super::*;

    fn exported(text: &str, options: Options) -> Export {
        let compilation = crate::compile::compile_text("p.cdl", None, text.into());
        assert!(
            compilation.diagnostics.is_empty(),
            "{:?}",
            compilation.diagnostics
        );
        Argo.export_with(&crate::plan::build(&compilation).unwrap(), options)
    }

    /// The hostile pipeline of `testdata/`: every command and variable reaches its container
    /// exactly, through Argo's tags and the kubelet's expansion.
    #[test]
    fn argo_hostile_text_reaches_the_containers_exactly() {
        let compilation = crate::compile::compile_text(
            "hostile.cdl",
            None,
            include_str!("testdata/hostile.cdl").into(),
        );
        let plan = crate::plan::build(&compilation).unwrap();
        let spec = Builder::new(&plan).spec();
        let containers =
            kubernetes::containers_see(&serde_json::to_value(&spec).unwrap(), template::substitute);
        kubernetes::assert_jobs_see_their_text(&plan, &containers);
    }

    /// Issue 10: an `image` holding a tag was passed raw: the workflow's parameters chose the
    /// image.
    #[test]
    fn argo_image_with_a_tag_is_not_written() {
        let export = exported(
            r#"pipeline p { stage s { job j { run = "true"; image = "{{workflow.parameters.image}}" } } }"#,
            Options::default(),
        );
        let content = &export.files[0].content;
        assert!(!content.contains("workflow.parameters.image"), "{content}");
        assert!(content.contains(kubernetes::DEFAULT_IMAGE), "{content}");
        assert!(export.lossy.iter().any(|l| l.message.contains("the image")));
    }

    /// A gate's message with `{{{` kept a tag after one replacement.
    #[test]
    fn argo_gate_message_holds_no_tag() {
        let export = exported(
            r#"pipeline p { stage s { gate g { approvers = ["ops"]; message = "{{{workflow.name}}" } } }"#,
            Options::default(),
        );
        let content = &export.files[0].content;
        assert!(!content.contains("{{workflow.name}}"), "{content}");
    }

    #[test]
    fn only_an_approval_passes_the_check() {
        for (approval, passes) in [("YES", true), ("NO", false), ("", false), ("yes", false)] {
            let status = std::process::Command::new("sh")
                .args(["-c", CHECK_SCRIPT])
                .env("CDL_APPROVAL", approval)
                .env("CDL_GATE", "ship")
                .output()
                .unwrap()
                .status;
            assert_eq!(status.success(), passes, "{approval:?}");
        }
    }

    #[test]
    fn a_gate_suspends_then_checks_and_its_timeout_resumes_to_a_rejection() {
        let export = exported(
            r#"pipeline p { stage s {
                 gate ship { approvers = ["ops"]; timeout = 2h; message = "Ship {{it}}?" }
               } }"#,
            Options::default(),
        );
        let content = &export.files[0].content;
        for expected in [
            "    steps:\n    - - name: ship-approval\n        template: ship-approval\n    - - name: ship-check\n        template: cdl-approval-check\n",
            "value: \"{{steps.ship-approval.outputs.parameters.approve}}\"",
            "        valueFrom:\n          supplied: {}\n          default: \"NO\"\n    suspend:\n      duration: \"7200\"\n",
            "description: \"Ship { {it}}? Approvers: ops.\"",
        ] {
            assert!(content.contains(expected), "{expected}\n{content}");
        }
        assert_eq!(export.lossy.len(), 2);
    }

    #[test]
    fn argo_tags_in_the_pipeline_file_reach_the_commands_encoded() {
        let export = exported(
            r#"pipeline p { stage s {
                 job j { run = "echo {{workflow.name}}"; matrix { v = ["{{x}}", "y"] } }
               } }"#,
            Options { template: true },
        );
        let content = &export.files[0].content;
        assert!(content.starts_with(
            "apiVersion: argoproj.io/v1alpha1\nkind: WorkflowTemplate\nmetadata:\n  name: p\n"
        ));
        assert!(!content.contains("echo {{"), "{content}");
        assert!(!content.contains("{{x}}"), "{content}");
        assert!(content.contains("cdl_decode CDL_MATRIX_V\n"), "{content}");
        assert!(!content.contains("inputs.parameters.matrix-v"), "{content}");
    }

    #[test]
    fn concurrency_is_a_mutex_or_a_semaphore() {
        let text = |n: u32| {
            format!(
                r#"pipeline p {{
                     environment prod {{ url = "https://x"; concurrency = {n} }}
                     stage s {{ artifact a {{ run = "make"; outputs = ["a"] }} }}
                     stage d {{ deploy a to prod {{ run = "ship" }} }}
                   }}"#
            )
        };
        let one = exported(&text(1), Options::default());
        assert!(
            one.files[0]
                .content
                .contains("mutexes:\n      - name: p-deploy-prod\n")
        );
        let two = exported(&text(2), Options::default());
        assert!(two.files[0].content.contains(
            "semaphores:\n      - configMapKeyRef:\n          name: p-concurrency\n          key: prod\n"
        ));
        assert!(one.lossy.is_empty() && two.lossy.is_empty());
    }
}
