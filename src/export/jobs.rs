//! The plan's jobs grouped into what an exporter emits: one job, or the instances of a matrix
//! job folded back into one native matrix when they differ only by their matrix values.

use std::collections::HashSet;

use indexmap::IndexMap;

use crate::plan::{Job, Plan};

/// One emitted job: a single plan job, or a folded matrix.
#[derive(Debug)]
pub struct Unit<'p> {
    /// The instances, in plan order (one for a plain job).
    pub jobs: Vec<&'p Job>,
    /// For a folded matrix: each axis with its values, in written order. Empty otherwise.
    pub axes: Vec<(String, Vec<String>)>,
}

impl<'p> Unit<'p> {
    pub fn job(&self) -> &'p Job {
        self.jobs[0]
    }

    pub fn is_matrix(&self) -> bool {
        !self.axes.is_empty()
    }

    /// The id it is known by: the job's id, or the matrix job's name.
    pub fn id(&self) -> &'p str {
        if self.is_matrix() {
            &self.job().name
        } else {
            &self.job().id
        }
    }

    /// The job's variables, with each matrix-dependent one (`CDL_JOB`, `CDL_MATRIX_*`) built
    /// from `placeholder(axis)`, the target's reference to the axis's value.
    pub fn env(&self, placeholder: impl Fn(&str) -> String) -> IndexMap<String, String> {
        let job = self.job();
        if !self.is_matrix() {
            return job.env.clone();
        }
        let values: IndexMap<String, String> = self
            .axes
            .iter()
            .map(|(axis, _)| (axis.clone(), placeholder(axis)))
            .collect();
        let mut env = job.env.clone();
        apply_matrix(&mut env, &job.name, &values);
        env
    }
}

/// Groups the plan's jobs into units, folding a matrix job of at most `max_instances`
/// instances when its instances are the full product of its axes and differ only there.
pub fn units(plan: &Plan, max_instances: usize) -> Vec<Unit<'_>> {
    let mut units: Vec<Unit> = Vec::new();
    let mut index = 0;
    while index < plan.jobs.len() {
        let job = &plan.jobs[index];
        let run = plan.jobs[index..]
            .iter()
            .take_while(|j| j.name == job.name && !j.matrix.is_empty())
            .count();
        let group: Vec<&Job> = plan.jobs[index..index + run.max(1)].iter().collect();
        index += group.len();
        match fold(&group, max_instances) {
            Some(axes) => units.push(Unit { jobs: group, axes }),
            None => units.extend(group.into_iter().map(|job| Unit {
                jobs: vec![job],
                axes: Vec::new(),
            })),
        }
    }
    units
}

/// The axes of a foldable matrix group, or `None`.
fn fold(group: &[&Job], max_instances: usize) -> Option<Vec<(String, Vec<String>)>> {
    let first = group.first()?;
    if first.matrix.is_empty() || group.len() > max_instances {
        return None;
    }
    let mut axes: Vec<(String, Vec<String>)> = first
        .matrix
        .keys()
        .map(|k| (k.clone(), Vec::new()))
        .collect();
    for job in group {
        if job.matrix.keys().ne(first.matrix.keys()) {
            return None;
        }
        for (axis, values) in &mut axes {
            let value = &job.matrix[axis.as_str()];
            if !values.contains(value) {
                values.push(value.clone());
            }
        }
    }
    let product: usize = axes.iter().map(|(_, v)| v.len()).product();
    if product != group.len() || !group.iter().all(|job| same_but_matrix(first, job)) {
        return None;
    }
    Some(axes)
}

/// Whether `job` is `first` with only its matrix values (and what derives from them) changed.
fn same_but_matrix(first: &Job, job: &Job) -> bool {
    let mut expected = first.env.clone();
    // The id spelled from the values as they are: an instance whose id the plan quotes
    // (a value holding `,` `=` `[` `]` `"` or a space) differs, so it stays a job of its
    // own, with its exact `CDL_JOB`.
    apply_matrix(&mut expected, &first.name, &job.matrix);
    let instance_id = format!(
        "{}[{}]",
        job.name,
        job.matrix
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(",")
    );
    let strip = |j: &Job| Job {
        id: String::new(),
        env: IndexMap::new(),
        matrix: IndexMap::new(),
        ..j.clone()
    };
    expected == job.env && instance_id == job.id && strip(first) == strip(job)
}

/// Sets `CDL_JOB` and `CDL_MATRIX_*` for the given matrix values.
fn apply_matrix(env: &mut IndexMap<String, String>, name: &str, values: &IndexMap<String, String>) {
    let id = format!(
        "{name}[{}]",
        values
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(",")
    );
    if let Some(slot) = env.get_mut("CDL_JOB") {
        *slot = id;
    }
    for (axis, value) in values {
        let key = format!("CDL_MATRIX_{}", axis.to_uppercase().replace('-', "_"));
        if let Some(slot) = env.get_mut(&key) {
            *slot = value.clone();
        }
    }
}

/// The ids of the jobs of the latest stage before `stage` that has jobs: waiting for them
/// waits, transitively, for every job of every earlier stage.
pub fn previous_stage_jobs<'p>(plan: &'p Plan, stage: &str) -> Vec<&'p str> {
    let position = plan.stages.iter().position(|s| s.name == stage);
    plan.stages[..position.unwrap_or(0)]
        .iter()
        .rev()
        .find(|s| !s.jobs.is_empty())
        .map(|s| s.jobs.iter().map(String::as_str).collect())
        .unwrap_or_default()
}

/// The ids of every job of every stage before `stage`.
pub fn earlier_stage_jobs<'p>(plan: &'p Plan, stage: &str) -> Vec<&'p str> {
    let position = plan.stages.iter().position(|s| s.name == stage);
    plan.stages[..position.unwrap_or(0)]
        .iter()
        .flat_map(|s| s.jobs.iter().map(String::as_str))
        .collect()
}

/// The keys of what a job waits for, each once, in order: `ids` (its explicit needs and the
/// jobs of a stage before it, as the target orders them), each through `key`.
pub fn dependency_keys<'a>(
    ids: impl IntoIterator<Item = &'a str>,
    key: impl Fn(&str) -> &'a str,
) -> Vec<String> {
    let mut keys: Vec<String> = Vec::new();
    for id in ids {
        let key = key(id);
        if !keys.iter().any(|k| k == key) {
            keys.push(key.to_string());
        }
    }
    keys
}

/// What a job waits for (see [`dependency_keys`]): its explicit needs, then `stage_jobs`.
pub fn needs_then<'a>(
    job: &'a Job,
    stage_jobs: impl IntoIterator<Item = &'a str>,
    key: impl Fn(&str) -> &'a str,
) -> Vec<String> {
    dependency_keys(job.needs.iter().map(String::as_str).chain(stage_jobs), key)
}

/// The first of `base`, `suffixed(base, 2)`, `suffixed(base, 3)` … that `taken` does not
/// hold, added to it: a name unique among those an export has handed out.
pub fn claim_unique(
    taken: &mut HashSet<String>,
    base: &str,
    suffixed: impl Fn(&str, usize) -> String,
) -> String {
    claim_unique_folded(taken, base, suffixed, str::to_string)
}

/// [`claim_unique`] for a target that compares names after `fold` (GitHub: without case);
/// `taken` holds folded names.
pub fn claim_unique_folded(
    taken: &mut HashSet<String>,
    base: &str,
    suffixed: impl Fn(&str, usize) -> String,
    fold: impl Fn(&str) -> String,
) -> String {
    let mut candidate = base.to_string();
    let mut n = 2;
    while !taken.insert(fold(&candidate)) {
        candidate = suffixed(base, n);
        n += 1;
    }
    candidate
}

/// `id` with every character but `[A-Za-z0-9_-]` made `_`, and trailing `_` dropped: the
/// base of a job key for targets whose keys are identifiers.
pub fn identifier(id: &str) -> String {
    identifier_characters(id).trim_end_matches('_').to_string()
}

/// `text` with every character but `[A-Za-z0-9_-]` made `_`.
pub fn identifier_characters(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}
