//! Composed values in the plan (v2 §2, i13j): each job instance's and its steps' `env` values, `image`,
//! `runner` and environment `url` that read references, as lists of parts. `matrix.KEY` is
//! fixed per instance, so a value whose only references are matrix keys becomes plain text
//! in the fields it always had (`env`, `image`, `runner`, `CDL_ENV_URL`).

use indexmap::IndexMap;

use crate::check::model::{Environment, Job, Pipeline};
use crate::check::value::{Composed, WithSlot};
use crate::model::native::WithValue;
use crate::model::value::Value;

/// What a job instance's composed values add to its plan job.
#[derive(Debug, Default)]
pub struct InstanceValues {
    /// Variables computed when the job runs (each left out of the plain `env`).
    pub env: IndexMap<String, Value>,
    pub image: Option<Value>,
    pub runner: Option<Value>,
}

/// Resolves the composed values of one instance of `job`, layering the pipeline's `env`,
/// the environment's, then the job's (a later plain value replaces an earlier composed one
/// and the other way round). Values that turn out fixed are written into `env`; the others
/// are taken out of it.
pub fn instance(
    pipeline: &Pipeline,
    environment: Option<&Environment>,
    job: &Job,
    matrix: &IndexMap<String, String>,
    env: &mut IndexMap<String, String>,
) -> (InstanceValues, Option<String>, Option<String>) {
    type Layer<'a> = (&'a IndexMap<String, String>, &'a IndexMap<String, Composed>);
    let mut layers: Vec<Layer> = vec![(&pipeline.env, &pipeline.composed_env)];
    if let Some(environment) = environment {
        layers.push((&environment.env, &environment.composed_env));
    }
    layers.push((&job.env, &job.composed.env));
    let mut composed: IndexMap<String, &Composed> = IndexMap::new();
    for (plain, values) in layers {
        for name in plain.keys() {
            composed.shift_remove(name);
        }
        composed.extend(values.iter().map(|(k, v)| (k.clone(), v)));
    }
    let url = environment.and_then(|e| e.composed_url.as_ref());
    let mut out = InstanceValues::default();
    let named = composed
        .into_iter()
        .chain(url.map(|u| ("CDL_ENV_URL".to_string(), u)));
    for (name, value) in named {
        let parts = value.resolve(matrix);
        env.shift_remove(&name);
        match Composed::fixed(&parts) {
            Some(text) => {
                env.insert(name, text);
            }
            None => {
                out.env.insert(name, parts);
            }
        }
    }
    let fixed = |value: &Option<Composed>, slot: &mut Option<Value>| {
        let parts = value.as_ref()?.resolve(matrix);
        match Composed::fixed(&parts) {
            Some(text) => Some(text),
            None => {
                *slot = Some(parts);
                None
            }
        }
    };
    let image = fixed(&job.composed.image, &mut out.image);
    let runner = fixed(&job.composed.runner, &mut out.runner);
    (out, image, runner)
}

/// A step's composed `env` values for one matrix instance: those that turn out fixed (their
/// only references are matrix keys) as plain variables, the others as parts.
pub fn step(
    values: &IndexMap<String, Composed>,
    matrix: &IndexMap<String, String>,
) -> (IndexMap<String, String>, IndexMap<String, Value>) {
    let mut env = IndexMap::new();
    let mut composed = IndexMap::new();
    for (name, value) in values {
        let parts = value.resolve(matrix);
        match Composed::fixed(&parts) {
            Some(text) => {
                env.insert(name.clone(), text);
            }
            None => {
                composed.insert(name.clone(), parts);
            }
        }
    }
    (env, composed)
}

/// An environment's composed `url` in the plan: its parts, or `None` when it has none or it
/// is fixed (then in `url`).
pub fn url(environment: &Environment) -> (Option<String>, Option<Value>) {
    match &environment.composed_url {
        None => (environment.url.clone(), None),
        Some(value) => {
            let parts = value.resolve(&IndexMap::new());
            match Composed::fixed(&parts) {
                Some(text) => (Some(text), None),
                None => (None, Some(parts)),
            }
        }
    }
}

/// An environment's composed `env` values (fixed ones are in its `env`).
pub fn environment_env(
    environment: &Environment,
) -> (IndexMap<String, String>, IndexMap<String, Value>) {
    split(&environment.env, &environment.composed_env)
}

/// The pipeline's `env`, plain and composed.
pub fn pipeline_env(pipeline: &Pipeline) -> (IndexMap<String, String>, IndexMap<String, Value>) {
    split(&pipeline.env, &pipeline.composed_env)
}

fn split(
    plain: &IndexMap<String, String>,
    composed: &IndexMap<String, Composed>,
) -> (IndexMap<String, String>, IndexMap<String, Value>) {
    let mut env = plain.clone();
    let mut values = IndexMap::new();
    for (name, value) in composed {
        let parts = value.resolve(&IndexMap::new());
        match Composed::fixed(&parts) {
            Some(text) => {
                env.insert(name.clone(), text);
            }
            None => {
                values.insert(name.clone(), parts);
            }
        }
    }
    (env, values)
}

/// v2 §5: the `with` values of native steps that read references, as one instance sees
/// them: their parts with `matrix.KEY` the instance's value, or the text when no run-time
/// reference is left.
pub fn with_values(
    steps: &mut [crate::model::steps::Step],
    slots: &[WithSlot],
    matrix: &IndexMap<String, String>,
) {
    for slot in slots {
        let Some(step) = steps.iter_mut().find(|s| s.name == slot.step) else {
            continue;
        };
        let native = &mut step.native;
        let with = match slot.target.as_str() {
            "github" => native.github.as_mut().map(|f| &mut f.with),
            "circleci" => native.circleci.as_mut().map(|f| &mut f.with),
            _ => native.buildkite.as_mut().map(|f| &mut f.with),
        };
        let Some(value) = with.and_then(|w| w.get_mut(&slot.name)) else {
            continue;
        };
        let parts = slot.value.resolve(matrix);
        *value = match Composed::fixed(&parts) {
            Some(text) => WithValue::Literal(text),
            None => WithValue::Value(parts),
        };
    }
}
