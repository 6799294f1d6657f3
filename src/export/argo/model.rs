//! The part of Argo Workflows' `Workflow` / `WorkflowTemplate` schema (apiVersion
//! `argoproj.io/v1alpha1`) that the export writes, field names as Argo spells them.

use serde::Serialize;

pub use crate::export::kubernetes::{EnvVar, KeyRef};

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Document {
    pub api_version: &'static str,
    pub kind: &'static str,
    pub metadata: Metadata,
    pub spec: Spec,
}

#[derive(Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Metadata {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub generate_name: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Spec {
    pub entrypoint: String,
    pub arguments: Arguments,
    pub templates: Vec<Template>,
}

#[derive(Serialize, Default)]
pub struct Arguments {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub parameters: Vec<Parameter>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub artifacts: Vec<Artifact>,
}

impl Arguments {
    pub fn is_empty(&self) -> bool {
        self.parameters.is_empty() && self.artifacts.is_empty()
    }
}

#[derive(Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Parameter {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
    #[serde(rename = "enum", skip_serializing_if = "Vec::is_empty")]
    pub allowed: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value_from: Option<ValueFrom>,
}

#[derive(Serialize)]
pub struct ValueFrom {
    /// Set by whoever resumes the suspended node.
    pub supplied: Empty,
    /// The value when it resumes without one (by hand, or when its duration expires).
    pub default: String,
}

#[derive(Serialize)]
pub struct Empty {}

#[derive(Serialize, Default)]
pub struct Artifact {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub git: Option<GitArtifact>,
}

#[derive(Serialize)]
pub struct GitArtifact {
    pub repo: String,
    pub revision: String,
    // v2 i14a: `checkout { depth }` (absent or 0: the whole history).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub depth: Option<u32>,
}

#[derive(Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Template {
    pub name: String,
    #[serde(skip_serializing_if = "Inputs::is_empty")]
    pub inputs: Inputs,
    #[serde(skip_serializing_if = "Inputs::is_empty")]
    pub outputs: Inputs,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dag: Option<Dag>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub steps: Vec<Vec<Step>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suspend: Option<Suspend>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub container: Option<Container>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_strategy: Option<RetryStrategy>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub active_deadline_seconds: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub synchronization: Option<Synchronization>,
    // v2 i14d: services as sidecars
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub sidecars: Vec<crate::export::services::Sidecar>,
}

/// A template's `inputs` or `outputs`.
#[derive(Serialize, Default)]
pub struct Inputs {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub parameters: Vec<Parameter>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub artifacts: Vec<Artifact>,
}

impl Inputs {
    pub fn is_empty(&self) -> bool {
        self.parameters.is_empty() && self.artifacts.is_empty()
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Dag {
    pub fail_fast: bool,
    pub tasks: Vec<Task>,
}

#[derive(Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Task {
    pub name: String,
    pub template: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub dependencies: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub when: Option<String>,
    #[serde(skip_serializing_if = "Arguments::is_empty")]
    pub arguments: Arguments,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub continue_on: Option<ContinueOn>,
}

#[derive(Serialize)]
pub struct ContinueOn {
    pub error: bool,
    pub failed: bool,
}

#[derive(Serialize, Default)]
pub struct Step {
    pub name: String,
    pub template: String,
    #[serde(skip_serializing_if = "Arguments::is_empty")]
    pub arguments: Arguments,
}

#[derive(Serialize, Default)]
pub struct Suspend {
    /// Seconds, as a string; absent: wait until resumed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Container {
    pub image: String,
    pub command: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub working_dir: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub env: Vec<EnvVar>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RetryStrategy {
    pub limit: u32,
    pub retry_policy: &'static str,
}

#[derive(Serialize, Default)]
pub struct Synchronization {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub mutexes: Vec<Mutex>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub semaphores: Vec<Semaphore>,
}

#[derive(Serialize)]
pub struct Mutex {
    pub name: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Semaphore {
    pub config_map_key_ref: KeyRef,
}
