//! Caches (language v2 §9): `cache NAME { key = [...]  paths = [...]  policy = ... }` in a job.
//! A cache NAME is shared by every job that declares it; its key is the digest of the key files.

use serde::{Deserialize, Serialize};

/// The words `policy = …` accepts, in the order they are documented.
pub const POLICY_WORDS: &[&str] = &["pull_push", "pull", "push"];

/// When a job restores and saves a cache.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Policy {
    /// Restored before the first step; saved after success when the key is new.
    #[default]
    PullPush,
    /// Restored, never saved.
    Pull,
    /// Not restored; saved after every success (a cache refreshed each run).
    Push,
}

impl Policy {
    pub fn from_word(word: &str) -> Option<Policy> {
        match word {
            "pull_push" => Some(Policy::PullPush),
            "pull" => Some(Policy::Pull),
            "push" => Some(Policy::Push),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Policy::PullPush => "pull_push",
            Policy::Pull => "pull",
            Policy::Push => "push",
        }
    }

    pub fn is_default(&self) -> bool {
        *self == Policy::PullPush
    }

    /// Whether the job restores the cache before its first step.
    pub fn restores(self) -> bool {
        self != Policy::Push
    }

    /// Whether the job may save the cache after success.
    pub fn saves(self) -> bool {
        self != Policy::Pull
    }
}

/// One `cache NAME { … }` of a job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cache {
    /// The cache's name, shared by every job that declares it.
    pub name: String,
    /// Files or globs (relative to the working folder) whose paths and bytes make the key;
    /// absent: one constant key.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub key: Vec<String>,
    /// Paths or globs (relative to the working folder) that are restored and saved.
    pub paths: Vec<String>,
    /// `pull_push` (absent), `pull` or `push`.
    #[serde(default, skip_serializing_if = "Policy::is_default")]
    pub policy: Policy,
}

impl Cache {
    /// `CDL_CACHE_<NAME>_HIT`: `true` when the job restored the cache.
    pub fn hit_variable(&self) -> String {
        hit_variable(&self.name)
    }
}

/// `CDL_CACHE_<NAME>_HIT` for a cache name.
pub fn hit_variable(name: &str) -> String {
    format!("CDL_CACHE_{}_HIT", name.to_ascii_uppercase())
}

/// Whether a cache name makes a portable environment variable name once upper-cased.
pub fn is_variable_name(name: &str) -> bool {
    name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}
