//! The plain types every stage shares (conditions, job types, events): a leaf that depends on
//! nothing else in the crate. `check` produces them, `plan` re-exports them; exporters, `run` and
//! `graph` reach them through `crate::plan`.

pub mod cache;
pub mod condition;
pub mod glob;
pub mod inputs;
pub mod matrix;
pub mod native;
pub mod path_glob;
pub mod platform;
pub mod reports;
pub mod services;
pub mod steps;
// v2 i13j: composed values
pub mod value;
pub mod values;

pub use condition::{Condition, EVENTS, RunContext, Variable, glob_matches};

/// How a condition compares a variable with a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CompareOp {
    Equal,
    NotEqual,
    Matches,
}

impl CompareOp {
    pub fn as_str(self) -> &'static str {
        match self {
            CompareOp::Equal => "==",
            CompareOp::NotEqual => "!=",
            CompareOp::Matches => "matches",
        }
    }
}

/// What a job is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JobType {
    Artifact,
    Test,
    Deploy,
    Gate,
    Job,
}

impl JobType {
    pub fn as_str(self) -> &'static str {
        match self {
            JobType::Artifact => "artifact",
            JobType::Test => "test",
            JobType::Deploy => "deploy",
            JobType::Gate => "gate",
            JobType::Job => "job",
        }
    }
}

/// Whether a test kind needs an environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum KindEnvironment {
    Forbidden,
    Optional,
    Required,
}

/// What starts a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TriggerEvent {
    Push,
    PullRequest,
    Tag,
    Schedule,
    Manual,
}
