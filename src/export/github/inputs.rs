//! Inputs and vars on GitHub (v2 §2, i13d): `on.workflow_dispatch.inputs` for a pipeline
//! started by hand, and the workflow's `env` that gives every job `CDL_INPUT_<NAME>` (the
//! value given, else the default: a push has no inputs) and each var under its name
//! (`vars.NAME`, else the default). Values reach commands through the environment only.

use indexmap::IndexMap;
use serde::Serialize;

use super::conditions::defined_secret_variable;
use crate::export::Lossy;
use crate::model::inputs::{InputType, input_variable};
use crate::plan::{Condition, Plan, Variable};

/// One input of `workflow_dispatch`.
#[derive(Serialize, Debug, PartialEq)]
pub struct DispatchInput {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub required: bool,
    #[serde(rename = "type")]
    pub input_type: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default: Option<DefaultValue>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<String>,
}

/// A default: a boolean for a boolean input, else text.
#[derive(Serialize, Debug, PartialEq)]
#[serde(untagged)]
pub enum DefaultValue {
    Bool(bool),
    Text(String),
}

/// Text for `on:`, where GitHub allows no `${{ … }}` at all (not even a literal one): the `$`
/// of each `${{` is written as the look-alike `＄` (U+FF04).
fn no_expression(text: &str) -> String {
    text.replace("${{", "\u{ff04}{{")
}

/// `on.workflow_dispatch.inputs`, by name. A default or a choice holding `${{` cannot be
/// written there: it is written with `＄` and reported, since a run given it sees that text.
pub fn dispatch_inputs(plan: &Plan, lossy: &mut Vec<Lossy>) -> IndexMap<String, DispatchInput> {
    for input in &plan.inputs {
        let values = input.default.iter().chain(&input.choices);
        if values.clone().any(|v| v.contains("${{")) {
            lossy.push(Lossy::pipeline(
                format!(
                    "a value of the input `{}` holds `${{{{`, which GitHub's `on:` rejects",
                    input.name
                ),
                "the form shows it with `＄` (U+FF04) for `$`, and a run started with it sees that text",
            ));
        }
    }
    plan.inputs
        .iter()
        .map(|input| {
            let default = input.default.as_ref().map(|d| match input.input_type {
                InputType::Bool => DefaultValue::Bool(d == "true"),
                _ => DefaultValue::Text(no_expression(d)),
            });
            let description = input.description.as_deref().map(no_expression);
            (
                input.name.clone(),
                DispatchInput {
                    description,
                    required: false,
                    input_type: match input.input_type {
                        InputType::String => "string",
                        InputType::Bool => "boolean",
                        InputType::Choice => "choice",
                    },
                    default,
                    options: input.choices.iter().map(|c| no_expression(c)).collect(),
                },
            )
        })
        .collect()
}

/// A GitHub expression string literal: in `'…'`, a quote is `''`.
fn string(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// The workflow's `env` entries for the inputs and the vars.
pub fn env(plan: &Plan) -> Vec<(String, String)> {
    let mut env = Vec::new();
    for input in &plan.inputs {
        let name = &input.name;
        let default = string(input.default.as_deref().unwrap_or(""));
        // A run started by hand has every input (the form fills in the defaults); any
        // other event has none, and gets the defaults. `format` keeps a false boolean.
        env.push((
            input_variable(name),
            format!(
                "${{{{ github.event_name == 'workflow_dispatch' && format('{{0}}', inputs[{}]) || github.event_name != 'workflow_dispatch' && {default} || '' }}}}",
                string(name)
            ),
        ));
    }
    for var in &plan.vars {
        let value = match &var.default {
            Some(default) => format!(
                "${{{{ vars[{}] || {} }}}}",
                string(&var.name),
                string(default)
            ),
            None => format!("${{{{ vars[{}] }}}}", string(&var.name)),
        };
        env.push((var.name.clone(), value));
    }
    env
}

/// For the conditions job: whether each secret a condition tests is set (`set` or empty),
/// never its value.
pub fn defined_secrets(conditions: &[(&str, &Condition)]) -> Vec<(String, String)> {
    let mut names: Vec<String> = Vec::new();
    for (_, condition) in conditions {
        collect_secrets(condition, &mut names);
    }
    names
        .into_iter()
        .map(|name| {
            (
                defined_secret_variable(&name),
                format!("${{{{ secrets[{}] != '' && 'set' || '' }}}}", string(&name)),
            )
        })
        .collect()
}

fn collect_secrets(condition: &Condition, names: &mut Vec<String>) {
    match condition {
        Condition::Compare {
            variable: Variable::Secret(name),
            ..
        } if !names.contains(name) => names.push(name.clone()),
        Condition::And(items) | Condition::Or(items) => {
            items.iter().for_each(|c| collect_secrets(c, names));
        }
        Condition::Not(inner) => collect_secrets(inner, names),
        _ => {}
    }
}
