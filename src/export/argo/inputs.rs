//! Inputs on Argo Workflows (v2 §2, i13m): a workflow parameter `input_<name>` each, with the
//! default as its value (empty without one) and the choices as its `enum` (`true`/`false` for
//! a bool; the empty value too when there is no default, as `cdl run` without `--input` has
//! it). `argo submit -p input_<name>=…` (or the UI's form) gives another value. Conditions
//! read the parameter in their expression tags (`expression.rs`); each job's container gets
//! `CDL_INPUT_<NAME>` as base64 from an expression tag (`sprig.b64enc`), decoded by its
//! script, so that neither Argo's substitution nor the kubelet's `$(…)`/`$$` expansion
//! alters the value.

use super::expression::{input_parameter, literal};
use super::model::Parameter;
use crate::export::kubernetes::Script;
use crate::model::inputs::{Input, InputType, input_variable};
use crate::plan::Plan;

/// The workflow's parameters for the inputs.
pub fn parameters(plan: &Plan) -> Vec<Parameter> {
    plan.inputs.iter().map(parameter).collect()
}

fn parameter(input: &Input) -> Parameter {
    let default = input.default.clone().unwrap_or_default();
    let mut allowed: Vec<String> = match input.input_type {
        InputType::String => Vec::new(),
        InputType::Bool => vec!["true".into(), "false".into()],
        InputType::Choice => input.choices.clone(),
    };
    if !allowed.is_empty() && !allowed.contains(&default) {
        allowed.insert(0, default.clone());
    }
    Parameter {
        name: input_parameter(&input.name),
        value: Some(default),
        allowed,
        description: input.description.clone(),
        ..Parameter::default()
    }
}

/// The expression tag that gives an input's value as base64.
pub fn base64_tag(name: &str) -> String {
    format!(
        "{{{{=sprig.b64enc(workflow.parameters[{}])}}}}",
        literal(&input_parameter(name))
    )
}

/// `CDL_INPUT_<NAME>` of every input, for a job's script.
pub fn env(plan: &Plan, script: &mut Script) {
    for input in &plan.inputs {
        script.own_base64(&input_variable(&input.name), base64_tag(&input.name));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::export::kubernetes::base64;

    fn plan() -> Plan {
        let text = include_str!("../../../tests/fixtures/ok/hostile_inputs_native.cdl");
        let compilation = crate::compile::compile_text("p.cdl", None, text.into());
        crate::plan::build(&compilation).unwrap()
    }

    /// Argo's evaluation of the tag for a run's parameters: `sprig.b64enc` of the parameter.
    fn evaluate(tag: &str, parameters: &[(String, String)]) -> String {
        let inner = tag
            .strip_prefix("{{=sprig.b64enc(workflow.parameters[")
            .and_then(|t| t.strip_suffix("])}}"))
            .expect("the shape of the tag");
        let name = inner.trim_matches('\'');
        let value = &parameters.iter().find(|(n, _)| n == name).unwrap().1;
        base64(value.as_bytes())
    }

    #[test]
    fn parameters_hold_the_defaults_and_choices_and_jobs_decode_any_value() {
        let plan = plan();
        let parameters = parameters(&plan);
        for (input, parameter) in plan.inputs.iter().zip(&parameters) {
            let value = parameter.value.clone().unwrap();
            assert_eq!(value, input.default.clone().unwrap_or_default());
            assert_eq!(parameter.description, input.description);
            if input.input_type != InputType::String {
                assert!(parameter.allowed.contains(&value), "{}", input.name);
            }
            for choice in &input.choices {
                assert!(parameter.allowed.contains(choice));
            }
        }
        // Every value a run may be given comes back exactly through the container's
        // variable and the script's decoding (`sh`).
        let mut script = Script::new(super::super::DIALECT);
        env(&plan, &mut script);
        for value in ["", "$(id) $$ $HOME", "{{x}}\n\n", "'\"\\ é #: "] {
            let given: Vec<(String, String)> = plan
                .inputs
                .iter()
                .map(|i| (input_parameter(&i.name), value.to_string()))
                .collect();
            let mut command = std::process::Command::new("sh");
            let mut text = script.prelude();
            for input in &plan.inputs {
                text.push_str(&format!(
                    "printf '%s|' \"${}\"\n",
                    input_variable(&input.name)
                ));
            }
            command.arg("-c").arg(text);
            for (name, tag) in &script.env {
                command.env(name, evaluate(tag, &given));
            }
            let out = command.output().unwrap();
            assert!(out.status.success());
            assert_eq!(
                String::from_utf8(out.stdout).unwrap(),
                format!("{value}|").repeat(plan.inputs.len())
            );
        }
    }
}
