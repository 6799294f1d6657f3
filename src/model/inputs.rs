//! `input` and `var` declarations as the plan holds them (v2 §2), and the variable names
//! jobs read them under. A leaf: `check` produces these, `plan`, `run` and `export` read them.

use serde::{Deserialize, Serialize};

/// The type of an input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum InputType {
    String,
    Bool,
    Choice,
}

impl InputType {
    pub const ALL: [(&'static str, InputType); 3] = [
        ("string", InputType::String),
        ("bool", InputType::Bool),
        ("choice", InputType::Choice),
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            InputType::String => "string",
            InputType::Bool => "bool",
            InputType::Choice => "choice",
        }
    }
}

/// `input NAME { type, default, choices, description }`: a value given when a run starts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Input {
    pub name: String,
    #[serde(rename = "type")]
    pub input_type: InputType,
    /// The value without `--input` (a bool as `true`/`false`); `None`: empty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
    /// The allowed values of a `choice`, in written order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub choices: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// `var NAME { default, description }`: a value kept in the CI system's settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Var {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

impl Input {
    /// Whether `value` is a value of this input: `true`/`false` for a bool, one of the
    /// choices for a choice, anything for a string. `Err` says why not.
    pub fn accepts(&self, value: &str) -> Result<(), String> {
        match self.input_type {
            InputType::String => Ok(()),
            InputType::Bool if value == "true" || value == "false" => Ok(()),
            InputType::Bool => Err(format!(
                "input `{}` is a bool: give `true` or `false`, not {value:?}",
                self.name
            )),
            InputType::Choice if self.choices.iter().any(|c| c == value) => Ok(()),
            InputType::Choice => Err(format!(
                "input `{}` is one of {}, not {value:?}",
                self.name,
                self.choices
                    .iter()
                    .map(|c| format!("{c:?}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        }
    }
}

/// The variable a job reads an input under: `CDL_INPUT_<NAME>`, upper case, `-` as `_`.
pub fn input_variable(name: &str) -> String {
    format!("CDL_INPUT_{}", name.to_uppercase().replace('-', "_"))
}
