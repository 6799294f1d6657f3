//! Jobs that run after a failure and jobs started by hand (language v2 §6), as each export
//! target says them. The pieces every exporter shares live here; each exporter makes one small
//! call.

use crate::plan::{Job, Plan, Runs};

/// GitHub's status check for a job that waits for others: `!cancelled()` paired with
/// `!failure()` (the default, `on_success`), nothing more (`always`: whatever they did), or
/// `failure()` (`on_failure`: a job it waits for, directly or not, failed). A person's cancel
/// stops all three.
pub fn github_status(runs: Runs) -> &'static str {
    match runs {
        Runs::OnSuccess => "!cancelled() && !failure()",
        Runs::Always => "!cancelled()",
        Runs::OnFailure => "!cancelled() && failure()",
    }
}

/// GitLab's `when:` for a job's `runs` (`None`: the default, `on_success`).
pub fn gitlab_when(runs: Runs) -> Option<&'static str> {
    match runs {
        Runs::OnSuccess => None,
        Runs::Always => Some("always"),
        Runs::OnFailure => Some("on_failure"),
    }
}

/// The name of the `workflow_dispatch` input that starts a manual job on GitHub.
pub fn github_input(key: &str) -> String {
    format!("start_{key}")
}

/// Whether the plan has a `start = manual` job.
pub fn has_manual(plan: &Plan) -> bool {
    plan.jobs.iter().any(|j| j.manual)
}

/// A job that is manual and runs after a failure at once: no target has both for one job.
pub fn manual_after_failure(job: &Job) -> bool {
    job.manual && job.runs != Runs::OnSuccess
}

/// What a target can say of v2 §6 natively (or by an exact emulation).
#[derive(Debug, Clone, Copy, Default)]
pub struct Support {
    pub manual: bool,
    pub always: bool,
    pub on_failure: bool,
}

impl Support {
    /// Neither manual jobs nor jobs that run after a failure.
    pub const NONE: Support = Support {
        manual: false,
        always: false,
        on_failure: false,
    };
    /// `runs = always` only.
    pub const ALWAYS: Support = Support {
        manual: false,
        always: true,
        on_failure: false,
    };

    /// Whether an export to the target leaves the job out: a manual job or an `on_failure`
    /// job it cannot say (an `always` job it cannot say runs as an `on_success` one).
    pub fn leaves_out(self, job: &Job) -> bool {
        (job.manual && !self.manual) || (job.runs == Runs::OnFailure && !self.on_failure)
    }

    /// Whether the target keeps the job's `runs` and `start` as they are.
    pub fn keeps(self, job: &Job) -> bool {
        (!job.manual || self.manual)
            && match job.runs {
                Runs::OnSuccess => true,
                Runs::Always => self.always,
                Runs::OnFailure => self.on_failure,
            }
    }
}

/// The effective conditions of a target that lacks some of v2 §6: a job it cannot keep is
/// left out (as `cdl run` leaves out a manual job nobody started, or an `on_failure` job when
/// nothing failed), and the jobs that need it with it.
pub fn effective(
    plan: &Plan,
    support: Support,
) -> std::collections::HashMap<&str, crate::plan::Condition> {
    let mut effective = super::condition::effective(plan);
    let mut left_out: std::collections::HashSet<&str> = std::collections::HashSet::new();
    // A manual job with `auto_when` the target cannot make manual runs exactly when the
    // condition holds (as under `cdl run` when nobody starts it): the condition joins its
    // effective condition and, like a skip, the effective conditions of the jobs that need it.
    let mut auto: std::collections::HashMap<&str, crate::plan::Condition> =
        std::collections::HashMap::new();
    for job in &plan.jobs {
        // An `always` job the target cannot say runs as an `on_success` one: skipped with
        // its needs.
        let as_on_success =
            job.runs == Runs::OnSuccess || (job.runs == Runs::Always && !support.always);
        if job.runs == Runs::Always && !support.always {
            let mut parts: Vec<crate::plan::Condition> = job.condition.iter().cloned().collect();
            parts.extend(
                job.needs
                    .iter()
                    .filter_map(|n| effective.get(n.as_str()).cloned()),
            );
            let condition = super::condition::simplify(crate::plan::Condition::And(parts));
            effective.insert(job.id.as_str(), condition);
        }
        let with_need = as_on_success && job.needs.iter().any(|n| left_out.contains(n.as_str()));
        let mut autos: Vec<crate::plan::Condition> = if as_on_success {
            job.needs
                .iter()
                .filter_map(|n| auto.get(n.as_str()).cloned())
                .collect()
        } else {
            Vec::new()
        };
        let manual_lost = job.manual && !support.manual;
        let only_manual_lost = manual_lost
            && (job.runs != Runs::OnFailure || support.on_failure)
            && job.auto_when.is_some();
        if only_manual_lost && !with_need {
            autos.extend(job.auto_when.iter().cloned());
        } else if support.leaves_out(job) || with_need {
            left_out.insert(job.id.as_str());
            effective.insert(job.id.as_str(), crate::plan::Condition::Const(false));
            continue;
        }
        if !autos.is_empty() {
            let all = super::condition::simplify(crate::plan::Condition::And(autos));
            let own = effective
                .get(job.id.as_str())
                .cloned()
                .unwrap_or(crate::plan::Condition::Const(true));
            let joined =
                super::condition::simplify(crate::plan::Condition::And(vec![own, all.clone()]));
            effective.insert(job.id.as_str(), joined);
            auto.insert(job.id.as_str(), all);
        }
    }
    effective
}

/// A `W0200` for each job the target cannot keep, saying what the export does instead.
pub fn losses(plan: &Plan, target: &str, support: Support) -> Vec<super::Lossy> {
    let mut lossy = Vec::new();
    for job in plan.jobs.iter().filter(|j| !support.keeps(j)) {
        let (what, help) = if job.manual && !support.manual && job.auto_when.is_some() {
            (
                format!("{target} has no optional job a person starts (`start = manual`)"),
                "the job runs by itself when its `auto_when` holds, and is left out otherwise (with the jobs that need it), as `cdl run` does when nobody starts it; start it by hand on GitHub Actions or GitLab CI",
            )
        } else if job.manual && !support.manual {
            (
                format!("{target} has no optional job a person starts (`start = manual`)"),
                "the export leaves the job out (and the jobs that need it), as `cdl run` does when nobody starts it; run it on GitHub Actions or GitLab CI, or by hand",
            )
        } else if job.runs == Runs::Always {
            (
                format!(
                    "{target} cannot run a job whatever the jobs before it did (`runs = always`)"
                ),
                "the job runs only when the jobs before it succeeded",
            )
        } else {
            (
                format!(
                    "{target} cannot run a job only when a job before it failed (`runs = on_failure`)"
                ),
                "the export leaves the job out (and the jobs that need it), as `cdl run` does when nothing failed",
            )
        };
        lossy.push(super::Lossy::at(job, what, help));
    }
    lossy
}
