//! Composed values in exports (v2 §2 "Typed references and composed values", i13j).
//!
//! A job's composed `env` values are computed in the job's own shell on every target, after
//! the run context: every reference names a variable the job already has there (`CDL_SHA`,
//! `CDL_INPUT_<NAME>`, a var, `CDL_VALUE_<JOB>_<NAME>`, a secret), so the value is exactly
//! what `cdl run` computes, with no target syntax in it. The parts reach the fixed script
//! [`COMPOSE`] as variables of the job ([`prepare`] adds them), literal parts as literal
//! text written by each target's own encoder: `CDL_COMPOSED` lists the names, and for each
//! `NAME`, `CDL_COMPOSE_<NAME>_N` counts its parts, `CDL_COMPOSE_<NAME>_<I>` holds a literal
//! part and `CDL_COMPOSE_<NAME>_<I>_FROM` names the variable a reference reads.
//!
//! A composed `image`, `runner` or environment `url` is read by the CI system before any
//! shell runs: GitHub writes it as `${{ … }}` expressions over the same context the job's
//! `CDL_*` variables come from ([`github`]); the other targets report W0200 and leave it out.

use std::borrow::Cow;

use indexmap::IndexMap;

use super::Lossy;
use crate::model::steps::is_variable_name;
use crate::plan::{Job, Part, Plan, Reference, Value};

/// Computes and exports each variable of `CDL_COMPOSED` from its parts. Fixed text: the
/// names it evaluates are identifiers checked by [`prepare`].
pub const COMPOSE: &str = r#"for cdl_name in ${CDL_COMPOSED:-}; do
  cdl_value=
  cdl_part=1
  eval "cdl_parts=\${CDL_COMPOSE_${cdl_name}_N:-0}"
  while [ "$cdl_part" -le "$cdl_parts" ]; do
    eval "cdl_from=\${CDL_COMPOSE_${cdl_name}_${cdl_part}_FROM:-}"
    if [ -n "$cdl_from" ]; then
      eval "cdl_value=\$cdl_value\${$cdl_from:-}"
    else
      eval "cdl_value=\$cdl_value\${CDL_COMPOSE_${cdl_name}_${cdl_part}:-}"
    fi
    cdl_part=$((cdl_part + 1))
  done
  export "$cdl_name=$cdl_value"
done
"#;

/// GitHub Actions: `script` (a step's `run:`) with [`COMPOSE`] before it when the job has
/// composed values. GitHub runs each step in a shell of its own, so every step that runs the
/// job's commands computes them (`$GITHUB_ENV` would do for real GitHub, but its values are
/// expanded as expressions by nektos/act, which the project runs the exports with).
pub fn github_run(job: &Job, script: &str) -> String {
    match script_for(job) {
        Some(compose) => format!("{compose}{script}"),
        None => script.to_string(),
    }
}

/// The variables that carry `values` to [`COMPOSE`], and a W0200 for each name a shell
/// cannot export (the job runs without it).
pub fn data(job: &Job) -> (IndexMap<String, String>, Vec<Lossy>) {
    let (env, unreadable) = parts_env(&job.env_values, "CDL_COMPOSE_", "CDL_COMPOSED");
    let lossy = unreadable
        .into_iter()
        .map(|name| {
            Lossy::at(
                job,
                format!(
                    "the composed variable `{name}` is not a name a shell can export, or reads one"
                ),
                "the job runs without it",
            )
        })
        .collect();
    (env, lossy)
}

/// The variables that carry `values` to a compose loop, under `prefix`: `list` lists the
/// names, `<prefix><NAME>_N` counts a value's parts, `<prefix><NAME>_<I>` holds a
/// literal part and `<prefix><NAME>_<I>_FROM` names the variable a reference reads. Also the
/// names left out, which a shell cannot export or which read such a name.
pub fn parts_env(
    values: &IndexMap<String, Value>,
    prefix: &str,
    list: &str,
) -> (IndexMap<String, String>, Vec<String>) {
    let mut env = IndexMap::new();
    let mut unreadable = Vec::new();
    let mut names = Vec::new();
    for (name, value) in values {
        let readable = value.iter().all(|part| match part {
            Part::Ref(reference) => is_variable_name(&reference.variable()),
            Part::Text(_) => true,
        });
        if !is_variable_name(name) || !readable {
            unreadable.push(name.clone());
            continue;
        }
        names.push(name.as_str());
        env.insert(format!("{prefix}{name}_N"), value.len().to_string());
        for (i, part) in value.iter().enumerate() {
            match part {
                Part::Text(text) => env.insert(format!("{prefix}{name}_{}", i + 1), text.clone()),
                Part::Ref(reference) => env.insert(
                    format!("{prefix}{name}_{}_FROM", i + 1),
                    reference.variable(),
                ),
            };
        }
    }
    if !names.is_empty() {
        env.insert(list.to_string(), names.join(" "));
    }
    (env, unreadable)
}

/// The plan as every exporter reads it: each job's composed variables' parts added to its
/// `env` (see [`data`]). The plan itself when no job has one.
pub fn prepare(plan: &Plan) -> Cow<'_, Plan> {
    let no_fallback = |j: &Job| j.trigger.is_some() && j.all_steps().is_empty();
    if plan
        .jobs
        .iter()
        .all(|j| j.env_values.is_empty() && !no_fallback(j))
    {
        return Cow::Borrowed(plan);
    }
    let mut plan = plan.clone();
    for job in &mut plan.jobs {
        let (env, _) = data(job);
        job.env.extend(env);
        // A trigger job without a fallback `run` (export/trigger.rs); GitLab runs none.
        if no_fallback(job) {
            job.steps = vec![super::trigger::NO_FALLBACK.to_string()];
        }
    }
    Cow::Owned(plan)
}

/// The script a target runs right after the run context, when the job has composed values.
pub fn script(job: &Job) -> Option<&'static str> {
    script_for(job)
}

fn script_for(job: &Job) -> Option<&'static str> {
    (!job.env_values.is_empty()).then_some(COMPOSE)
}

/// What a target that cannot write composed `image`/`runner`/`url` reports for `job`: one
/// W0200 for each, the export leaving it out. `url` is the job's environment's.
pub fn unsupported(plan: &Plan, job: &Job, system: &str) -> Vec<Lossy> {
    let mut lossy: Vec<Lossy> = data(job).1;
    let mut report = |what: &str, value: &Value, instead: &str| {
        lossy.push(Lossy::at(
            job,
            format!(
                "{system} reads the job's {what} before any shell runs, and cannot compute `{}`",
                written(value)
            ),
            instead.to_string(),
        ));
    };
    if let Some(image) = &job.image_value {
        report(
            "image",
            image,
            "the job runs without that image; compute the name in a fixed `image`, or run the container from the job's commands",
        );
    }
    if let Some(runner) = &job.runner_value {
        report(
            "runner",
            runner,
            "the job runs on the target's default runner",
        );
    }
    if let Some(url) = environment_url(plan, job) {
        report(
            "environment url",
            url,
            "the deploy is shown without a link; commands still get `CDL_ENV_URL`",
        );
    }
    lossy
}

/// A deploy's environment's composed `url`.
pub fn environment_url<'p>(plan: &'p Plan, job: &Job) -> Option<&'p Value> {
    if job.job_type != crate::plan::JobType::Deploy {
        return None;
    }
    let name = job.environment.as_ref()?;
    plan.environments
        .iter()
        .find(|e| &e.name == name)?
        .url_value
        .as_ref()
}

/// The value as written in the pipeline file (for messages).
pub fn written(value: &Value) -> String {
    value
        .iter()
        .map(|part| match part {
            Part::Text(text) => crate::syntax::literal::quote(text),
            Part::Ref(reference) => reference.to_string(),
        })
        .collect::<Vec<_>>()
        .join(" + ")
}

/// GitHub Actions: a value in a place GitHub evaluates `${{ … }}` in, each reference the
/// expression the job's `CDL_*` variable is set from, each literal part through
/// [`super::github::expressions::literal`]. `None` for a reference GitHub has no expression
/// for there (`workspace`: `github.workspace` is the runner's folder, not a container job's;
/// `value.JOB.NAME`, which needs the writer among the job's `needs`).
pub fn github(
    value: &Value,
    context: &IndexMap<String, String>,
    literal: impl Fn(&str) -> String,
) -> Option<String> {
    let mut out = String::new();
    for part in value {
        match part {
            Part::Text(text) => out.push_str(&literal(text)),
            Part::Ref(reference) => out.push_str(&github_reference(reference, context)?),
        }
    }
    Some(out)
}

fn github_reference(reference: &Reference, context: &IndexMap<String, String>) -> Option<String> {
    match reference {
        Reference::Workspace | Reference::Value { .. } | Reference::Secret(_) => None,
        Reference::Input(name) => Some(format!("${{{{ inputs.{name} }}}}")),
        Reference::Var(name) => Some(format!("${{{{ vars.{name} }}}}")),
        other => context.get(&other.variable()).cloned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::strategy::Strategy;

    fn job(values: IndexMap<String, Value>) -> Job {
        let mut job: Job = serde_json::from_value(serde_json::json!({
            "id": "j", "name": "j", "type": "job", "stage": "s", "needs": [],
            "need_reasons": [], "steps": [], "env": {}, "secrets": [], "timeout_seconds": null,
            "timeout_from": null, "retries": 0, "allow_failure": false, "condition": null,
            "environment": null, "artifact": null, "inputs": [], "outputs": [], "kind": null,
            "approvers": [], "required": null, "message": null, "matrix": {}, "image": null,
            "runner": null, "doc": null,
            "span": {"file": "a.cdl", "start": 0, "end": 0, "line": 1, "column": 1}
        }))
        .unwrap();
        job.env_values = values;
        job
    }

    /// Runs [`COMPOSE`] with `sh` and the job's data and `context` as its environment, and
    /// returns each composed variable as a later command sees it.
    fn composed_in_sh(job: &Job, context: &[(String, String)]) -> Vec<String> {
        let (env, lossy) = data(job);
        assert!(lossy.is_empty(), "{lossy:?}");
        let printer: Vec<String> = job
            .env_values
            .keys()
            .map(|name| format!("printf '%s\\000' \"${name}\""))
            .collect();
        let output = std::process::Command::new("sh")
            .arg("-c")
            .arg(format!("{COMPOSE}sh -c \"$PRINTER\""))
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("PRINTER", printer.join("; "))
            .envs(env)
            .envs(context.iter().map(|(k, v)| (k, v)))
            .output()
            .unwrap();
        assert!(output.status.success(), "{output:?}");
        let text = String::from_utf8(output.stdout).unwrap();
        let mut values: Vec<String> = text.split('\0').map(str::to_string).collect();
        values.pop();
        values
    }

    fn reference() -> impl proptest::strategy::Strategy<Value = Reference> {
        use proptest::prelude::*;
        prop_oneof![
            Just(Reference::Sha),
            Just(Reference::Branch),
            Just(Reference::Tag),
            Just(Reference::Workspace),
            Just(Reference::Input("target".into())),
            Just(Reference::Var("FLAG".into())),
            Just(Reference::Value {
                job: "meta".into(),
                name: "version".into()
            }),
            Just(Reference::Secret("TOKEN".into())),
        ]
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(40))]

        /// The export's shell computes every value exactly as `cdl run` does
        /// (`model::value::compute`), whatever the literal parts and the referenced
        /// variables hold.
        #[test]
        fn the_shell_computes_what_cdl_run_computes(
            parts in proptest::collection::vec(
                proptest::prop_oneof![
                    crate::export::literal::hostile_text().prop_map(Part::Text),
                    reference().prop_map(Part::Ref),
                ],
                1..6,
            ),
            context_values in proptest::collection::vec(crate::export::literal::hostile_text(), 8),
        ) {
            use proptest::prelude::*;
            let parts: Vec<Part> = parts
                .into_iter()
                .filter(|p| !matches!(p, Part::Text(t) if t.is_empty() || t.contains('\0')))
                .collect();
            prop_assume!(!parts.is_empty());
            let variables = ["CDL_SHA", "CDL_BRANCH", "CDL_TAG", "CDL_WORKSPACE", "CDL_INPUT_TARGET", "FLAG", "CDL_VALUE_META_VERSION", "TOKEN"];
            let context: Vec<(String, String)> = variables
                .iter()
                .zip(&context_values)
                .filter(|(_, v)| !v.contains('\0'))
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect();
            let job = job(IndexMap::from([
                ("A".to_string(), parts.clone()),
                ("B".to_string(), vec![Part::Ref(Reference::Sha), Part::Text(" x ".into())]),
            ]));
            let lookup = |name: &str| context.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
            let expected = vec![
                crate::model::value::compute(&parts, lookup),
                crate::model::value::compute(&job.env_values["B"], lookup),
            ];
            prop_assert_eq!(composed_in_sh(&job, &context), expected);
        }
    }

    /// GitHub's rendering of a value evaluates, by the model of how GitHub reads `${{ … }}`
    /// (`github::expressions::evaluate`, which reads string literals), to the value `cdl run`
    /// computes when each reference's expression stands for its variable.
    #[test]
    fn githubs_rendering_keeps_literal_parts_literal() {
        use crate::export::github::expressions;
        for text in [
            "${{ x }}",
            "$HOME",
            "<< y >>",
            "{{z}}",
            "$(id)",
            "${{ '${{' }}",
            "}}",
            "a'b",
        ] {
            let value = vec![
                Part::Text(text.into()),
                Part::Ref(Reference::Sha),
                Part::Text(text.into()),
            ];
            // The reference as a string literal expression: its variable's value.
            let context = IndexMap::from([("CDL_SHA".to_string(), "${{ 'abc' }}".to_string())]);
            let rendered = github(&value, &context, expressions::literal).unwrap();
            let lookup = |name: &str| (name == "CDL_SHA").then(|| "abc".to_string());
            assert_eq!(
                expressions::evaluate(&rendered).unwrap(),
                crate::model::value::compute(&value, lookup),
                "{rendered}"
            );
        }
        let workspace = vec![Part::Ref(Reference::Workspace)];
        assert_eq!(
            github(&workspace, &IndexMap::new(), expressions::literal),
            None
        );
    }
}
