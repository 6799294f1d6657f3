//! The run's inputs and vars (v2 §2): `--input NAME=VALUE` checked against the input's type
//! and choices, else its default; `--var NAME=VALUE`, else the process environment, else the
//! var's default. Jobs get every input as `CDL_INPUT_<NAME>` and every var under its name.

use std::collections::{BTreeMap, BTreeSet};

use crate::model::inputs::input_variable;
use crate::plan::Plan;

/// `NAME=VALUE` pairs from the command line.
fn pairs<'a>(given: &'a [String], flag: &str) -> Result<Vec<(&'a str, &'a str)>, String> {
    given
        .iter()
        .map(|pair| {
            pair.split_once('=')
                .ok_or_else(|| format!("{flag} {pair}: write it as {flag} NAME=VALUE"))
        })
        .collect()
}

/// The inputs of the run: each given one checked, the others defaulted (empty when the
/// input has no default). An unknown name, a value of the wrong type, or a name given twice
/// is an error that says so.
pub fn inputs(plan: &Plan, given: &[String]) -> Result<BTreeMap<String, String>, String> {
    let mut values = BTreeMap::new();
    for (name, value) in pairs(given, "--input")? {
        let Some(input) = plan.inputs.iter().find(|i| i.name == name) else {
            let known: Vec<&str> = plan.inputs.iter().map(|i| i.name.as_str()).collect();
            let hint = crate::diagnostic::did_you_mean(name, known.iter().copied())
                .map(|s| format!(" ({s})"))
                .unwrap_or_default();
            return Err(if known.is_empty() {
                format!("--input {name}: the pipeline declares no inputs")
            } else {
                format!(
                    "--input {name}: the pipeline has no input named `{name}`{hint}; its inputs are {}",
                    known.join(", ")
                )
            });
        };
        input
            .accepts(value)
            .map_err(|e| format!("--input {name}: {e}"))?;
        if values.insert(name.to_string(), value.to_string()).is_some() {
            return Err(format!("--input {name}: given twice"));
        }
    }
    for input in &plan.inputs {
        values
            .entry(input.name.clone())
            .or_insert_with(|| input.default.clone().unwrap_or_default());
    }
    Ok(values)
}

/// The vars of the run: `--var`, then `environment`, then the default; a var with none of
/// them is left out (unset: `defined(var.X)` is false).
pub fn vars(
    plan: &Plan,
    given: &[String],
    environment: impl Fn(&str) -> Option<String>,
) -> Result<BTreeMap<String, String>, String> {
    let mut values = BTreeMap::new();
    for (name, value) in pairs(given, "--var")? {
        if !plan.vars.iter().any(|v| v.name == name) {
            let known: Vec<&str> = plan.vars.iter().map(|v| v.name.as_str()).collect();
            let hint = crate::diagnostic::did_you_mean(name, known.iter().copied())
                .map(|s| format!(" ({s})"))
                .unwrap_or_default();
            return Err(format!(
                "--var {name}: the pipeline has no var named `{name}`{hint}"
            ));
        }
        if values.insert(name.to_string(), value.to_string()).is_some() {
            return Err(format!("--var {name}: given twice"));
        }
    }
    for var in &plan.vars {
        if values.contains_key(&var.name) {
            continue;
        }
        if let Some(value) = environment(&var.name).or_else(|| var.default.clone()) {
            values.insert(var.name.clone(), value);
        }
    }
    Ok(values)
}

/// The secrets of the plan that are set and not empty (`defined(secret.X)`).
pub fn defined_secrets(plan: &Plan, secrets: &super::secrets::Secrets) -> BTreeSet<String> {
    plan.secrets
        .iter()
        .filter(|name| secrets.get(name).is_some_and(|v| !v.is_empty()))
        .cloned()
        .collect()
}

/// The variables every job gets: `CDL_INPUT_<NAME>` for each input, each var under its name
/// (empty when unset, as GitHub gives `vars.X`).
pub fn variables(plan: &Plan, context: &crate::plan::RunContext) -> Vec<(String, String)> {
    let inputs = plan.inputs.iter().map(|input| {
        (
            input_variable(&input.name),
            context.inputs.get(&input.name).cloned().unwrap_or_default(),
        )
    });
    let vars = plan.vars.iter().map(|var| {
        (
            var.name.clone(),
            context.vars.get(&var.name).cloned().unwrap_or_default(),
        )
    });
    inputs.chain(vars).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan() -> Plan {
        let text = r#"pipeline p {
          input target { type = choice  choices = ["a", "b"]  default = "a" }
          input dry { type = bool }
          var FLAG { default = "1" }
          var OTHER { }
          stage s { job j { run = "true" } } }"#;
        let compilation = crate::compile::compile_text("p.cdl", None, text.into());
        assert!(!compilation.has_errors(), "{:?}", compilation.diagnostics);
        crate::plan::build(&compilation).unwrap()
    }

    #[test]
    fn inputs_are_checked_and_defaulted() {
        let plan = plan();
        let values = inputs(&plan, &["target=b".into()]).unwrap();
        assert_eq!(values["target"], "b");
        assert_eq!(values["dry"], "");
        assert!(
            inputs(&plan, &["target=c".into()])
                .unwrap_err()
                .contains("\"a\", \"b\"")
        );
        assert!(
            inputs(&plan, &["dry=yes".into()])
                .unwrap_err()
                .contains("bool")
        );
        assert!(
            inputs(&plan, &["targte=a".into()])
                .unwrap_err()
                .contains("`target`")
        );
        assert!(
            inputs(&plan, &["target".into()])
                .unwrap_err()
                .contains("NAME=VALUE")
        );
        assert!(inputs(&plan, &["dry=true".into(), "dry=false".into()]).is_err());
        // `=` in the value is the value's.
        let plan_text = inputs(&plan, &[]).unwrap();
        assert_eq!(plan_text["target"], "a");
    }

    #[test]
    fn vars_come_from_the_flag_then_the_environment_then_the_default() {
        let plan = plan();
        let env = |name: &str| (name == "OTHER").then(|| "from env".to_string());
        let values = vars(&plan, &["FLAG=x=y".into()], env).unwrap();
        assert_eq!(values["FLAG"], "x=y");
        assert_eq!(values["OTHER"], "from env");
        let values = vars(&plan, &[], |_| None).unwrap();
        assert_eq!(values["FLAG"], "1");
        assert!(!values.contains_key("OTHER"));
        assert!(vars(&plan, &["NOPE=1".into()], |_| None).is_err());
    }
}
