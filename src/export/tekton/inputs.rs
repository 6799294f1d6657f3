//! Inputs on Tekton (v2 §2, i13m): a Pipeline parameter `input_<name>` each, with the default
//! (empty without one) and the description, passed to every task; each job's step gets
//! `CDL_INPUT_<NAME>` from it, and conditions compare it in `when` expressions (or in the
//! conditions task, `conditions.rs`). A PipelineRun sets them under `params:`.
//!
//! What Tekton does not keep, reported once (W0200): the choices (a parameter's `enum` needs
//! the alpha feature `enable-param-enum`, off by default, and a Pipeline that uses it is
//! refused where it is off), and the kubelet's expansion of a container's variables, which
//! turns `$$` into `$` and `$(NAME)` of a variable defined before it into that value.

use super::model::{Param, ParamSpec};
use crate::export::Lossy;
use crate::export::kubernetes::Script;
use crate::model::inputs::{InputType, input_variable};
use crate::plan::{Plan, Variable};

/// The parameter that holds an input.
pub fn parameter(name: &str) -> String {
    format!("input_{name}")
}

/// The Pipeline parameter a `when` expression reads for `variable`.
pub fn when_input(variable: &Variable) -> String {
    match variable {
        Variable::Input(name) => format!("$(params.{})", parameter(name)),
        other => format!("$(params.{})", other.as_str()),
    }
}

/// The Pipeline's parameters for the inputs.
pub fn pipeline_params(plan: &Plan) -> Vec<ParamSpec> {
    plan.inputs
        .iter()
        .map(|input| ParamSpec {
            default: Some(input.default.clone().unwrap_or_default()),
            ..ParamSpec::string(parameter(&input.name), input.description.clone())
        })
        .collect()
}

/// A Task's parameters for the inputs.
pub fn task_params(plan: &Plan) -> Vec<ParamSpec> {
    plan.inputs
        .iter()
        .map(|input| ParamSpec::string(parameter(&input.name), None))
        .collect()
}

/// A pipeline task's arguments: each input from the Pipeline's parameter.
pub fn task_arguments(plan: &Plan) -> Vec<Param> {
    plan.inputs
        .iter()
        .map(|input| {
            let name = parameter(&input.name);
            Param::string(name.clone(), format!("$(params.{name})"))
        })
        .collect()
}

/// `CDL_INPUT_<NAME>` of every input, for a step's script.
pub fn env(plan: &Plan, script: &mut Script) {
    for input in &plan.inputs {
        script.own(
            &input_variable(&input.name),
            format!("$(params.{})", parameter(&input.name)),
        );
    }
}

/// The W0200 of a pipeline with inputs.
pub fn lossy(plan: &Plan) -> Option<Lossy> {
    if plan.inputs.is_empty() {
        return None;
    }
    let limited: Vec<String> = plan
        .inputs
        .iter()
        .filter(|i| i.input_type != InputType::String)
        .map(|i| format!("`{}`", i.name))
        .collect();
    let choices = if limited.is_empty() {
        String::new()
    } else {
        format!(
            "; a PipelineRun may give {} a value outside its choices (Tekton's `enum` is the alpha feature `enable-param-enum`)",
            limited.join(", ")
        )
    };
    Some(Lossy::pipeline(
        format!(
            "Tekton hands the inputs to the steps as container variables, which the kubelet expands{choices}"
        ),
        "a value given to a PipelineRun that holds `$$` or `$(NAME)` reaches the commands as the kubelet expands it (`$$` as `$`); the defaults, and conditions, are exact",
    ))
}
