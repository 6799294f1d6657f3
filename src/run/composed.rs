//! Composed values in `cdl run` (v2 §2, i13j): each of a job's and its steps' `env_values` is
//! computed from the variables the job already gets — the run context, inputs and vars, the values of the
//! jobs it waits for, its secrets — the same variables every export reads.

use crate::plan::Job;

/// The job's composed variables, each computed from `env` (the last entry of a name wins, as
/// when they are given to the process). A secret in a value reaches the log masked, like the
/// secret itself: the log masks every secret's value wherever it appears.
pub fn variables(job: &Job, env: &[(String, String)]) -> Vec<(String, String)> {
    computed(&job.env_values, env)
}

/// Adds each step's composed variables to its spec (`specs` are `job.all_steps()`'s, in
/// order), computed from the job's variables `env` (its composed ones included); they come
/// after the step's plain ones, over the job's.
pub fn steps(job: &Job, env: &[(String, String)], specs: &mut [crate::run::steps::StepSpec]) {
    for (spec, step) in specs.iter_mut().zip(job.all_steps()) {
        spec.env.extend(computed(&step.env_values, env));
    }
}

fn computed(
    values: &indexmap::IndexMap<String, crate::model::value::Value>,
    env: &[(String, String)],
) -> Vec<(String, String)> {
    let lookup = |name: &str| {
        env.iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    values
        .iter()
        .map(|(name, value)| (name.clone(), crate::model::value::compute(value, lookup)))
        .collect()
}
