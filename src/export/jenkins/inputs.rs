//! Inputs on Jenkins (v2 §2, i13m): the `parameters` directive (`string`, `booleanParam`,
//! `choice`) and, in the pipeline's `environment`, `CDL_INPUT_<NAME>` read from `params`.
//! Declarative Pipeline fills `params` with the defaults on a build nobody started with
//! values (a push, a tag, a schedule, the first build of a branch), as `cdl run` without
//! `--input`. `when` conditions read `params` (`when.rs`).
//!
//! A choice input without a default gets the empty string as its first choice: Jenkins
//! defaults a choice to its first, and a run without `--input` has the empty value.

use super::groovy::{self, Node};
use crate::model::inputs::{Input, InputType, input_variable};
use crate::plan::Plan;

/// The `parameters` directive, or `None` for a pipeline without inputs.
pub fn parameters(plan: &Plan) -> Option<Node> {
    if plan.inputs.is_empty() {
        return None;
    }
    Some(Node::block(
        "parameters",
        plan.inputs.iter().map(parameter).collect(),
    ))
}

fn parameter(input: &Input) -> Node {
    let name = groovy::string(&input.name);
    let description = groovy::string(input.description.as_deref().unwrap_or(""));
    if let Some(choices) = choices(input) {
        let choices: Vec<String> = choices.iter().map(|c| groovy::string(c)).collect();
        return Node::line(format!(
            "choice(name: {name}, choices: [{}], description: {description})",
            choices.join(", ")
        ));
    }
    Node::line(match input.input_type {
        InputType::Bool => format!(
            "booleanParam(name: {name}, defaultValue: {}, description: {description})",
            input.default.as_deref() == Some("true")
        ),
        InputType::String => format!(
            "string(name: {name}, defaultValue: {}, trim: false, description: {description})",
            groovy::string(input.default.as_deref().unwrap_or(""))
        ),
        InputType::Choice => unreachable!("a choice is written by `choices`"),
    })
}

/// The choices Jenkins lists for a choice input, the default (or empty) first; and for a
/// bool input without a default, whose value is empty without `--input`, `''`, `'true'`
/// and `'false'`. `None` for the other inputs.
pub fn choices(input: &Input) -> Option<Vec<&str>> {
    let listed: Vec<&str> = match (input.input_type, input.default.as_deref()) {
        (InputType::Choice, _) => input.choices.iter().map(String::as_str).collect(),
        (InputType::Bool, None) => vec!["true", "false"],
        _ => return None,
    };
    let default = input.default.as_deref().unwrap_or("");
    let mut out = vec![default];
    out.extend(listed.into_iter().filter(|c| *c != default));
    Some(out)
}

/// The pipeline's `environment` lines: `CDL_INPUT_<NAME>` from `params` (a GString whose
/// only interpolation is the parameter's value; no text of the file is in it).
pub fn environment(plan: &Plan) -> Vec<Node> {
    plan.inputs
        .iter()
        .map(|input| {
            let key = groovy::string(&input.name);
            Node::line(format!(
                "{} = \"${{params[{key}] == null ? '' : params[{key}]}}\"",
                input_variable(&input.name)
            ))
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

    /// The value of a `name: 'literal'` argument of a rendered line.
    fn argument(line: &str, name: &str) -> String {
        let start = line.find(&format!("{name}: ")).unwrap() + name.len() + 2;
        let rest = &line[start..];
        // A single-quoted literal: up to the first unescaped `'` after the opening one.
        let mut end = 1;
        let bytes = rest.as_bytes();
        while bytes[end] != b'\'' {
            end += if bytes[end] == b'\\' { 2 } else { 1 };
        }
        groovy::evaluate(&rest[..=end]).unwrap()
    }

    #[test]
    fn hostile_defaults_descriptions_and_choices_come_back_exactly() {
        let plan = plan(include_str!(
            "../../../tests/fixtures/ok/hostile_inputs_native.cdl"
        ));
        let Some(Node::Block(head, lines)) = parameters(&plan) else {
            panic!("no parameters")
        };
        assert_eq!(head, "parameters");
        for (input, line) in plan.inputs.iter().zip(&lines) {
            let Node::Line(line) = line else { panic!() };
            assert_eq!(argument(line, "name"), input.name);
            assert_eq!(
                argument(line, "description"),
                input.description.clone().unwrap_or_default()
            );
            match input.input_type {
                InputType::String => assert_eq!(
                    argument(line, "defaultValue"),
                    input.default.clone().unwrap_or_default()
                ),
                InputType::Bool if input.default.is_some() => assert!(line.contains(&format!(
                    "defaultValue: {}",
                    input.default.as_deref() == Some("true")
                ))),
                InputType::Choice | InputType::Bool => {
                    let listed = &line[line.find("choices: [").unwrap() + 10..];
                    let first = &listed[..listed.find("', ").unwrap_or(listed.len() - 1) + 1];
                    // Jenkins' default is the first choice: cdl's default (or empty).
                    assert_eq!(
                        groovy::evaluate(first).unwrap(),
                        input.default.clone().unwrap_or_default(),
                        "{line}"
                    );
                    let mut expected: Vec<&str> =
                        input.choices.iter().map(String::as_str).collect();
                    if input.input_type == InputType::Bool {
                        expected = vec!["true", "false"];
                    }
                    expected.sort_unstable();
                    let mut got = choices(input).unwrap();
                    if input.default.is_none() {
                        assert_eq!(got.remove(0), "");
                    }
                    got.sort_unstable();
                    assert_eq!(got, expected);
                }
            }
        }
        let environment = environment(&plan);
        assert_eq!(environment.len(), plan.inputs.len());
        for (input, line) in plan.inputs.iter().zip(&environment) {
            let Node::Line(line) = line else { panic!() };
            assert_eq!(
                line,
                &format!(
                    "{} = \"${{params['{1}'] == null ? '' : params['{1}']}}\"",
                    input_variable(&input.name),
                    input.name
                )
            );
        }
    }
}
