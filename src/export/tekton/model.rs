//! The part of Tekton's `Pipeline` and `Task` schema (apiVersion `tekton.dev/v1`) that the
//! export writes, field names as Tekton spells them.

use serde::Serialize;

pub use crate::export::kubernetes::EnvVar;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Document<S> {
    pub api_version: &'static str,
    pub kind: &'static str,
    pub metadata: Metadata,
    pub spec: S,
}

#[derive(Serialize)]
pub struct Metadata {
    pub name: String,
}

#[derive(Serialize, Default)]
pub struct PipelineSpec {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub params: Vec<ParamSpec>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub workspaces: Vec<WorkspaceDeclaration>,
    pub tasks: Vec<PipelineTask>,
}

#[derive(Serialize)]
pub struct ParamSpec {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
}

impl ParamSpec {
    pub fn string(name: impl Into<String>, description: Option<String>) -> ParamSpec {
        ParamSpec {
            name: name.into(),
            kind: "string",
            description,
            default: None,
        }
    }
}

#[derive(Serialize)]
pub struct WorkspaceDeclaration {
    pub name: String,
    pub description: String,
}

#[derive(Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct PipelineTask {
    pub name: String,
    pub task_ref: TaskRef,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub run_after: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub when: Vec<WhenExpression>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub params: Vec<Param>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub workspaces: Vec<WorkspaceBinding>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retries: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeout: Option<String>,
}

#[derive(Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct TaskRef {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_version: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<&'static str>,
}

#[derive(Serialize, Debug, Clone, PartialEq, Eq)]
pub struct WhenExpression {
    pub input: String,
    pub operator: &'static str,
    pub values: Vec<String>,
}

#[derive(Serialize)]
pub struct Param {
    pub name: String,
    pub value: ParamValue,
}

impl Param {
    pub fn string(name: impl Into<String>, value: impl Into<String>) -> Param {
        Param {
            name: name.into(),
            value: ParamValue::String(value.into()),
        }
    }
}

#[derive(Serialize)]
#[serde(untagged)]
pub enum ParamValue {
    String(String),
    Array(Vec<String>),
}

#[derive(Serialize)]
pub struct WorkspaceBinding {
    pub name: String,
    pub workspace: String,
}

#[derive(Serialize, Default)]
pub struct TaskSpec {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub params: Vec<ParamSpec>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub workspaces: Vec<WorkspaceDeclaration>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub results: Vec<ResultSpec>,
    pub steps: Vec<Step>,
    // v2 i14d: services as sidecars
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub sidecars: Vec<crate::export::services::Sidecar>,
}

#[derive(Serialize)]
pub struct ResultSpec {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub description: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Step {
    pub name: String,
    pub image: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub working_dir: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub env: Vec<EnvVar>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeout: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub on_error: Option<&'static str>,
    pub script: String,
}
