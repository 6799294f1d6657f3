//! Platform settings of v2 §9 (i14a) shared by every exporter: what a target cannot express
//! of a job's `permissions`, `oidc` and `checkout` or the pipeline's `concurrency` becomes a
//! `W0200` finding with the job's span, never silence. Each target maps the rest natively in
//! its own file.

use super::Lossy;
use crate::plan::{Checkout, ConcurrencyPer, Job, Plan};

/// GitHub: requests the job's OIDC token for `$CDL_OIDC_AUDIENCE` from the runner (the job
/// has `id-token: write`), masks it and puts it in `CDL_OIDC_TOKEN` for the later steps.
pub const GITHUB_OIDC_SCRIPT: &str = r#"cdl_token=$(curl -sSf --get -H "Authorization: Bearer $ACTIONS_ID_TOKEN_REQUEST_TOKEN" --data-urlencode "audience=$CDL_OIDC_AUDIENCE" "$ACTIONS_ID_TOKEN_REQUEST_URL" | sed -n 's/.*"value" *: *"\([^"]*\)".*/\1/p')
if [ -z "$cdl_token" ]; then
  echo "cdl: GitHub gave no OIDC token for the job" >&2
  exit 1
fi
echo "::add-mask::$cdl_token"
echo "CDL_OIDC_TOKEN=$cdl_token" >> "$GITHUB_ENV"
"#;

/// GitHub's workflow-level concurrency group of the pipeline's `concurrency`.
pub fn github_concurrency_group(per: ConcurrencyPer) -> &'static str {
    match per {
        ConcurrencyPer::Ref => "${{ github.workflow }}-${{ github.ref }}",
        ConcurrencyPer::Pipeline => "${{ github.workflow }}",
    }
}

/// `permissions` on a target whose token has no per-job permissions: one finding for the
/// pipeline's default, one for each job whose own permissions differ from it.
pub fn permissions_lossy(plan: &Plan, system: &str, instead: &str) -> Vec<Lossy> {
    let mut lossy = Vec::new();
    if let Some(permissions) = &plan.pipeline.permissions {
        lossy.push(Lossy::pipeline(
            format!(
                "{system} cannot set the CI token's permissions in the pipeline file: the pipeline's `permissions` ({}) are not applied",
                permissions.describe()
            ),
            instead.to_string(),
        ));
    }
    for job in &plan.jobs {
        if let Some(permissions) = &job.permissions
            && Some(permissions) != plan.pipeline.permissions.as_ref()
        {
            lossy.push(Lossy::at(
                job,
                format!(
                    "{system} cannot set the CI token's permissions of one job: `{}` gets the target's token ({})",
                    job.id,
                    permissions.describe()
                ),
                instead.to_string(),
            ));
        }
    }
    lossy
}

/// `oidc` on a target that cannot request an OIDC token.
pub fn oidc_lossy(job: &Job, system: &str) -> Option<Lossy> {
    let oidc = job.oidc.as_ref()?;
    Some(Lossy::at(
        job,
        format!(
            "{system} has no OIDC token for the job: `CDL_OIDC_TOKEN` (audience `{}`) is not set",
            oidc.audience
        ),
        "give the job a secret with a token instead, or run it on a target with OIDC (GitHub, GitLab, CircleCI, Buildkite)",
    ))
}

/// `registry = true` on a target with no container registry of its own.
pub fn registry_lossy(job: &Job, system: &str) -> Option<Lossy> {
    job.registry.then(|| {
        Lossy::at(
            job,
            format!(
                "{system} has no container registry of its own: `CDL_REGISTRY`, `CDL_REGISTRY_IMAGE`, `CDL_REGISTRY_USER` and `CDL_REGISTRY_PASSWORD` are not set"
            ),
            "give the job the registry's address as env and its credentials as secrets, or export to GitHub or GitLab",
        )
    })
}

/// `concurrency` on a target where cancelling an older run is a project setting.
pub fn concurrency_lossy(plan: &Plan, system: &str, instead: &str) -> Option<Lossy> {
    let concurrency = plan.pipeline.concurrency?;
    let group = match concurrency.per {
        ConcurrencyPer::Ref => "of the same branch, tag or pull request",
        ConcurrencyPer::Pipeline => "of the pipeline",
    };
    Some(Lossy::pipeline(
        format!(
            "{system} cannot cancel an older run {group} from the pipeline file (`concurrency`)"
        ),
        instead.to_string(),
    ))
}

/// What a target's checkout can do exactly.
#[derive(Clone, Copy, Default)]
pub struct CheckoutSupport {
    /// No checkout at all (`checkout = false`).
    pub skip: bool,
    /// Any `depth`.
    pub depth: bool,
    /// The whole history (`depth = 0`): targets that always clone it.
    pub full_history: bool,
    pub submodules: bool,
    pub lfs: bool,
}

/// The parts of a job's `checkout` that `support` lacks, one finding for all of them.
pub fn checkout_lossy(job: &Job, system: &str, support: CheckoutSupport) -> Option<Lossy> {
    let checkout: Checkout = job.checkout?;
    let mut missing = Vec::new();
    if checkout.skip && !support.skip {
        missing.push("`checkout = false`".to_string());
    }
    if let Some(depth) = checkout.depth
        && !support.depth
        && !(depth == 0 && support.full_history)
    {
        missing.push(format!("`depth = {depth}`"));
    }
    if checkout.submodules && !support.submodules {
        missing.push("`submodules = true`".into());
    }
    if checkout.lfs && !support.lfs {
        missing.push("`lfs = true`".into());
    }
    if missing.is_empty() {
        return None;
    }
    Some(Lossy::at(
        job,
        format!(
            "{system} cannot set {} of the job's checkout",
            missing.join(", ")
        ),
        "the job gets the target's usual checkout; fetch what it needs in its commands (`git submodule update --init --recursive`, `git lfs pull`, `git fetch --unshallow`)",
    ))
}

/// `paths` / `paths_ignore` of the triggers on a target without path filters: one finding
/// for each trigger that has them.
pub fn paths_lossy(plan: &Plan, system: &str) -> Vec<Lossy> {
    plan.triggers
        .iter()
        .filter(|t| !t.paths.is_empty() || !t.paths_ignore.is_empty())
        .map(|t| {
            Lossy::pipeline(
                format!(
                    "{system} has no path filters: `on {}` starts a run whatever files changed (`paths`, `paths_ignore`)",
                    match t.event {
                        crate::plan::TriggerEvent::PullRequest => "pull_request",
                        _ => "push",
                    }
                ),
                "every change starts a run; the jobs themselves may check what changed",
            )
        })
        .collect()
}

/// GitHub's `paths` and `paths-ignore` of a trigger. GitHub refuses both on one event, so
/// with both, the ignored globs follow the paths as `!` patterns, which is cdl's meaning (a
/// changed file counts when it matches a path and no ignored glob). A glob holding `${{` (no
/// expression is allowed in `on:`) or starting with `!` is left out, with a finding.
pub fn github_paths(
    trigger: &crate::plan::Trigger,
    lossy: &mut Vec<Lossy>,
) -> (Vec<String>, Vec<String>) {
    let mut keep = |globs: &[String]| -> Vec<String> {
        globs
            .iter()
            .filter(|g| {
                let ok = !g.contains("${{");
                if !ok {
                    lossy.push(Lossy::pipeline(
                        format!("the path glob `{g}` holds `${{{{`, which GitHub's `on:` filters reject as an expression"),
                        "the glob is left out of the workflow's path filters",
                    ));
                }
                ok
            })
            .cloned()
            .collect()
    };
    let paths = keep(&trigger.paths);
    let ignore = keep(&trigger.paths_ignore);
    if paths.is_empty() || ignore.is_empty() {
        return (paths, ignore);
    }
    let mut combined = paths;
    combined.extend(ignore.iter().map(|g| format!("!{g}")));
    (combined, Vec::new())
}

/// What a target does natively of the settings; the rest is reported by [`lossy`].
pub struct Coverage {
    pub system: &'static str,
    pub checkout: CheckoutSupport,
    /// The target gives the job an OIDC token itself.
    pub oidc: bool,
    /// The target cancels older runs itself (`concurrency`).
    pub concurrency: bool,
    /// The target filters the triggers by path itself.
    pub paths: bool,
    /// What to do instead of the pipeline file, for `permissions`.
    pub permissions_instead: &'static str,
    /// What to do instead of the pipeline file, for `concurrency`.
    pub concurrency_instead: &'static str,
}

/// Every finding of a target's coverage of the settings, in plan order.
pub fn lossy(plan: &Plan, coverage: &Coverage) -> Vec<Lossy> {
    let mut lossy = permissions_lossy(plan, coverage.system, coverage.permissions_instead);
    if !coverage.paths {
        lossy.extend(paths_lossy(plan, coverage.system));
    }
    if !coverage.concurrency {
        lossy.extend(concurrency_lossy(
            plan,
            coverage.system,
            coverage.concurrency_instead,
        ));
    }
    for job in &plan.jobs {
        if !coverage.oidc {
            lossy.extend(oidc_lossy(job, coverage.system));
        }
        lossy.extend(registry_lossy(job, coverage.system));
        lossy.extend(checkout_lossy(job, coverage.system, coverage.checkout));
    }
    lossy
}

/// v2 `runner = [...]` on a target that selects a machine by one label: one W0200 per job
/// name, saying which labels the export leaves out.
pub fn labels_lost(plan: &Plan, system: &str, what: &str) -> Vec<Lossy> {
    let mut seen = std::collections::HashSet::new();
    plan.jobs
        .iter()
        .filter(|job| job.runner_labels.len() > 1 && seen.insert(job.name.as_str()))
        .map(|job| {
            let rest: Vec<String> = job.runner_labels[1..]
                .iter()
                .map(|l| format!("`{l}`"))
                .collect();
            Lossy::at(
                job,
                format!(
                    "{system} selects a machine by one {what}: the labels {} are left out",
                    rest.join(", ")
                ),
                format!(
                    "the job runs on a machine with `{}`; make that label say the others too",
                    job.runner_labels[0]
                ),
            )
        })
        .collect()
}
