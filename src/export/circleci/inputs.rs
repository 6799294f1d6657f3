//! Inputs on CircleCI (v2 §2, i13m): a pipeline parameter `input_<name>` each — `boolean` for
//! a bool input with a default, `enum` for a choice (and for a bool without one: `""`,
//! `true`, `false`), else `string` — with the default (empty without one: a push, a tag and a
//! schedule trigger no parameters, and get the defaults, as `cdl run` without `--input`).
//! A run started through the API or the app's "Trigger pipeline" gives other values. Jobs
//! get `CDL_INPUT_<NAME>` as `<< pipeline.parameters.input_<name> >>`; conditions compare
//! `pipeline.parameters.input_<name>` in the expression filters (`filters.rs`).
//!
//! The file's text in a default or a choice holding `<<` cannot be written where CircleCI
//! would not read it as a parameter, nor compared in an expression (which refuses `<<`):
//! then every input keeps its default (`export/inputs.rs`, W0200).

use indexmap::IndexMap;
use serde::Serialize;

use super::parameters::literal;
use crate::model::inputs::{Input, InputType, input_variable};
use crate::plan::Plan;

/// The pipeline parameter that holds an input.
pub fn parameter(name: &str) -> String {
    format!("input_{name}")
}

/// Whether an input is a `boolean` parameter (compared as one in expressions).
pub fn is_boolean(input: &Input) -> bool {
    input.input_type == InputType::Bool && input.default.is_some()
}

/// Why the inputs cannot be parameters, or `None` when they can.
pub fn not_native(plan: &Plan) -> Option<String> {
    let bad = plan.inputs.iter().find(|input| {
        input
            .default
            .iter()
            .chain(&input.choices)
            .any(|v| v.contains("<<"))
    })?;
    Some(format!(
        "a value of the input `{}` holds `<<`, which CircleCI reads as a parameter in a pipeline parameter and refuses in an expression",
        bad.name
    ))
}

/// A pipeline parameter of an input.
#[derive(Serialize, Debug, PartialEq)]
pub struct InputParameter {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub default: Default,
    #[serde(rename = "enum", skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// A boolean parameter's default is a boolean, any other's text.
#[derive(Serialize, Debug, PartialEq)]
#[serde(untagged)]
pub enum Default {
    Bool(bool),
    Text(String),
}

/// The pipeline parameters of the inputs, by name.
pub fn parameters(plan: &Plan) -> IndexMap<String, InputParameter> {
    plan.inputs
        .iter()
        .map(|input| {
            let default = input.default.clone().unwrap_or_default();
            let description = input.description.as_deref().map(literal);
            let parameter_of = |kind, default, values| InputParameter {
                kind,
                default,
                values,
                description: description.clone(),
            };
            let value = match input.input_type {
                _ if is_boolean(input) => {
                    parameter_of("boolean", Default::Bool(default == "true"), Vec::new())
                }
                InputType::String => parameter_of("string", Default::Text(default), Vec::new()),
                InputType::Bool | InputType::Choice => {
                    let mut values = if input.input_type == InputType::Bool {
                        vec!["true".to_string(), "false".to_string()]
                    } else {
                        input.choices.clone()
                    };
                    if !values.contains(&default) {
                        values.insert(0, default.clone());
                    }
                    parameter_of("enum", Default::Text(default), values)
                }
            };
            (parameter(&input.name), value)
        })
        .collect()
}

/// The job's `environment` entries of the inputs.
pub fn environment(plan: &Plan) -> Vec<(String, String)> {
    plan.inputs
        .iter()
        .map(|input| {
            (
                input_variable(&input.name),
                format!("<< pipeline.parameters.{} >>", parameter(&input.name)),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(text: &str) -> Plan {
        let compilation = crate::compile::compile_text("p.cdl", None, text.into());
        assert!(!compilation.has_errors(), "{:?}", compilation.diagnostics);
        crate::plan::build(&compilation).unwrap()
    }

    #[test]
    fn each_type_is_a_parameter_whose_default_is_cdls() {
        let plan = plan(include_str!("../../../tests/fixtures/ok/inputs.cdl"));
        assert_eq!(not_native(&plan), None);
        let parameters = parameters(&plan);
        let target = &parameters["input_target"];
        assert_eq!(target.kind, "enum");
        assert_eq!(target.values, ["staging", "production"]);
        assert_eq!(target.default, Default::Text("staging".into()));
        assert_eq!(parameters["input_dry_run"].default, Default::Bool(false));
        assert_eq!(parameters["input_note"].kind, "string");
        assert_eq!(parameters["input_note"].default, Default::Text("".into()));
        let unset = plan_with_bool_without_default();
        let quiet = &parameters_of(&unset)["input_quiet"];
        assert_eq!(quiet.kind, "enum");
        assert_eq!(quiet.values, ["", "true", "false"]);
        assert_eq!(
            environment(&plan)[0],
            (
                "CDL_INPUT_TARGET".to_string(),
                "<< pipeline.parameters.input_target >>".to_string()
            )
        );
    }

    fn plan_with_bool_without_default() -> Plan {
        plan("pipeline p { input quiet { type = bool } stage s { job j { run = \"true\" } } }")
    }

    fn parameters_of(plan: &Plan) -> IndexMap<String, InputParameter> {
        parameters(plan)
    }

    #[test]
    fn a_value_holding_the_parameter_opener_keeps_the_defaults() {
        let plan = plan(include_str!(
            "../../../tests/fixtures/ok/hostile_inputs_native.cdl"
        ));
        assert!(not_native(&plan).unwrap().contains("`mode`"));
    }
}
