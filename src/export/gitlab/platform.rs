//! Platform settings on GitLab (v2 §9, i14a): `oidc` as `id_tokens`, `registry` as the
//! `CI_REGISTRY*` variables, `checkout` as the
//! `GIT_*` variables, `concurrency` as `interruptible` jobs with `workflow:auto_cancel`;
//! `permissions` are project settings (W0200).

use indexmap::IndexMap;
use serde::Serialize;

use super::{Builder, PipelineJob, Value, expansion};
use crate::export::Lossy;
use crate::export::platform;
use crate::plan::{ConcurrencyPer, Job, JobType, OIDC_VARIABLE};

/// `id_tokens: NAME: aud: …`
#[derive(Serialize)]
pub(super) struct IdToken {
    aud: String,
}

/// `workflow: auto_cancel: on_new_commit: interruptible`
#[derive(Serialize)]
pub(super) struct AutoCancel {
    on_new_commit: &'static str,
}

impl Builder<'_> {
    /// A trigger's `paths` as `rules:changes` (GitLab compares a push with the commit before
    /// it and a merge request with its target branch, as cdl does); `paths_ignore` has no
    /// GitLab form (W0200), nor a glob GitLab would expand.
    pub(super) fn changes(&mut self, trigger: &crate::plan::Trigger) -> Vec<String> {
        if !trigger.paths_ignore.is_empty() {
            self.lossy.push(Lossy::pipeline(
                "GitLab's `rules:changes` cannot leave files out (`paths_ignore`)",
                "a change of only ignored files starts a pipeline too",
            ));
        }
        let mut changes = Vec::new();
        for glob in &trigger.paths {
            match expansion::plain(glob) {
                Some(glob) => changes.push(glob),
                None => {
                    self.lossy.push(Lossy::pipeline(
                        format!("GitLab expands variables in `rules:changes`, so the path glob `{glob}` cannot be written as it is"),
                        "the pipeline starts whatever files changed",
                    ));
                    return Vec::new();
                }
            }
        }
        changes
    }

    /// What the pipeline's settings add to the workflow, and the findings of the pipeline.
    pub(super) fn platform_workflow(&mut self) -> Option<AutoCancel> {
        self.lossy.extend(platform::permissions_lossy(
            self.plan,
            "GitLab",
            "CI_JOB_TOKEN's access is a project setting (Settings → CI/CD → Job token permissions); grant what the jobs need there",
        ));
        let concurrency = self.plan.pipeline.concurrency?;
        if concurrency.per == ConcurrencyPer::Pipeline {
            self.lossy.push(Lossy::pipeline(
                "GitLab cancels only older pipelines of the same ref, not of every ref (`per = pipeline`)",
                "a new pipeline cancels the older ones of its branch or tag; write `per = ref` to say so",
            ));
        }
        if let Some(deploy) = self
            .plan
            .jobs
            .iter()
            .find(|j| j.job_type == JobType::Deploy)
        {
            self.lossy.push(Lossy::at(
                deploy,
                "GitLab does not interrupt a deploy when a newer pipeline starts (`concurrency`): the deploys are not `interruptible`",
                "a half-done deploy runs to its end; the newer pipeline's deploy follows it",
            ));
        }
        Some(AutoCancel {
            on_new_commit: "interruptible",
        })
    }

    /// A job's `oidc`, `checkout` and `interruptible`.
    pub(super) fn platform_job(&mut self, job: &Job, pipeline_job: &mut PipelineJob) {
        if self.plan.pipeline.concurrency.is_some() && job.job_type != JobType::Deploy {
            pipeline_job.interruptible = true;
        }
        if let Some(oidc) = &job.oidc {
            match expansion::plain(&oidc.audience) {
                Some(aud) => {
                    pipeline_job
                        .id_tokens
                        .insert(OIDC_VARIABLE.into(), IdToken { aud });
                }
                None => self.lossy.push(Lossy::at(
                    job,
                    format!(
                        "GitLab expands variables in an ID token's audience, so `{}` cannot be written as it is",
                        oidc.audience
                    ),
                    "the job gets no `CDL_OIDC_TOKEN`; use an audience without `$`",
                )),
            }
        }
        if job.registry {
            // `registry = true`: the project's registry, through GitLab's own variables (which
            // GitLab expands here, as wanted; the password is the job token, masked by GitLab).
            for (name, gitlab) in [
                ("CDL_REGISTRY", "$CI_REGISTRY"),
                ("CDL_REGISTRY_IMAGE", "$CI_REGISTRY_IMAGE"),
                ("CDL_REGISTRY_USER", "$CI_REGISTRY_USER"),
                ("CDL_REGISTRY_PASSWORD", "$CI_REGISTRY_PASSWORD"),
            ] {
                pipeline_job
                    .variables
                    .insert(name.into(), Value::Plain(gitlab.into()));
            }
        }
        let Some(checkout) = job.checkout else {
            return;
        };
        let mut variables: IndexMap<String, Value> = IndexMap::new();
        if checkout.skip {
            variables.insert("GIT_STRATEGY".into(), Value::Plain("none".into()));
        } else {
            if let Some(depth) = checkout.depth {
                variables.insert("GIT_DEPTH".into(), Value::Plain(depth.to_string()));
            }
            if checkout.submodules {
                variables.insert(
                    "GIT_SUBMODULE_STRATEGY".into(),
                    Value::Plain("recursive".into()),
                );
            }
            if !checkout.lfs {
                // GitLab fetches LFS files whenever git-lfs is installed; cdl only when asked.
                variables.insert("GIT_LFS_SKIP_SMUDGE".into(), Value::Plain("1".into()));
            }
        }
        pipeline_job.variables.extend(variables);
    }
}
