//! Platform settings of v2 §9 (i14a): the token's `permissions`, an `oidc` token, the
//! pipeline's `concurrency` (cancel in progress) and `checkout` options. Plain data shared by
//! the checker, the plan, `cdl run` and the exporters.

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

/// GitHub's token scopes, in cdl's spelling (`_` for GitHub's `-`), in GitHub's order.
pub const SCOPES: &[&str] = &[
    "actions",
    "attestations",
    "checks",
    "contents",
    "deployments",
    "discussions",
    "id_token",
    "issues",
    "packages",
    "pages",
    "pull_requests",
    "repository_projects",
    "security_events",
    "statuses",
];

/// A scope as GitHub spells it: `pull_requests` → `pull-requests`.
pub fn github_scope(scope: &str) -> String {
    scope.replace('_', "-")
}

/// What the token may do with one scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Access {
    Read,
    Write,
    None,
}

impl Access {
    pub const WORDS: &'static [&'static str] = &["read", "write", "none"];

    pub fn parse(word: &str) -> Option<Access> {
        match word {
            "read" => Some(Access::Read),
            "write" => Some(Access::Write),
            "none" => Some(Access::None),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Access::Read => "read",
            Access::Write => "write",
            Access::None => "none",
        }
    }
}

/// `permissions = read_all | write_all`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AllAccess {
    ReadAll,
    WriteAll,
}

/// A job's token permissions. In a `Scopes` map every scope not listed is `none`; the
/// checker adds `contents = read` when the block does not name `contents`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Permissions {
    All(AllAccess),
    Scopes(IndexMap<String, Access>),
}

impl Permissions {
    /// The default of every job: `contents = read`, nothing else.
    pub fn default_scopes() -> Permissions {
        Permissions::Scopes(IndexMap::from([("contents".to_string(), Access::Read)]))
    }

    /// The access to one scope.
    pub fn access(&self, scope: &str) -> Access {
        match self {
            Permissions::All(AllAccess::ReadAll) => Access::Read,
            Permissions::All(AllAccess::WriteAll) => Access::Write,
            Permissions::Scopes(scopes) => scopes.get(scope).copied().unwrap_or(Access::None),
        }
    }

    /// Every scope with its access, in [`SCOPES`] order (`none` left out).
    pub fn expanded(&self) -> Vec<(&'static str, Access)> {
        SCOPES
            .iter()
            .map(|scope| (*scope, self.access(scope)))
            .filter(|(_, access)| *access != Access::None)
            .collect()
    }

    /// These permissions with `scope` raised to `write` (an `oidc` block needs `id_token`).
    pub fn with_write(&self, scope: &str) -> Permissions {
        if self.access(scope) == Access::Write {
            return self.clone();
        }
        let mut scopes: IndexMap<String, Access> = self
            .expanded()
            .into_iter()
            .map(|(s, a)| (s.to_string(), a))
            .collect();
        scopes.insert(scope.to_string(), Access::Write);
        Permissions::Scopes(scopes)
    }

    /// Whether any scope is `write`.
    pub fn writes(&self) -> bool {
        self.expanded().iter().any(|(_, a)| *a == Access::Write)
    }

    /// `contents = read, id_token = write`, for messages.
    pub fn describe(&self) -> String {
        match self {
            Permissions::All(AllAccess::ReadAll) => "read_all".into(),
            Permissions::All(AllAccess::WriteAll) => "write_all".into(),
            Permissions::Scopes(scopes) if scopes.is_empty() => "no scope".into(),
            Permissions::Scopes(scopes) => scopes
                .iter()
                .map(|(s, a)| format!("{s} = {}", a.as_str()))
                .collect::<Vec<_>>()
                .join(", "),
        }
    }
}

/// `oidc { audience = "…" }`: the job gets an OIDC token for this audience in
/// `CDL_OIDC_TOKEN`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Oidc {
    pub audience: String,
}

/// The variable that holds the OIDC token in a job.
pub const OIDC_VARIABLE: &str = "CDL_OIDC_TOKEN";

/// `registry = true`: the job gets the CI system's own container registry (the project's
/// registry on GitLab, `ghcr.io` on GitHub) in these variables: the host, the project's image
/// path, the user and the password (a secret: masked, never written into the export).
pub const REGISTRY_VARIABLES: [&str; 4] = [
    "CDL_REGISTRY",
    "CDL_REGISTRY_IMAGE",
    "CDL_REGISTRY_USER",
    "CDL_REGISTRY_PASSWORD",
];

/// The variable of [`REGISTRY_VARIABLES`] that holds the password.
pub const REGISTRY_PASSWORD: &str = "CDL_REGISTRY_PASSWORD";

/// What runs of one concurrency group share.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ConcurrencyPer {
    /// One group per branch, tag or pull request.
    Ref,
    /// One group for every run of the pipeline.
    Pipeline,
}

/// The pipeline's `concurrency { per = ref  cancel_in_progress = true }`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Concurrency {
    pub per: ConcurrencyPer,
    pub cancel_in_progress: bool,
}

/// `checkout { depth = 0  submodules = true  lfs = true }`, or `checkout = false`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkout {
    /// `checkout = false`: the job gets no copy of the repository.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub skip: bool,
    /// Commits of history to fetch; `0` is the whole history (absent: the target's default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub depth: Option<u32>,
    /// Check the submodules out too (recursively).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub submodules: bool,
    /// Fetch Git LFS files.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub lfs: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permissions_expand_and_raise() {
        let default = Permissions::default_scopes();
        assert_eq!(default.expanded(), vec![("contents", Access::Read)]);
        let raised = default.with_write("id_token");
        assert_eq!(raised.access("id_token"), Access::Write);
        assert_eq!(raised.access("contents"), Access::Read);
        assert!(raised.writes());
        let all = Permissions::All(AllAccess::ReadAll);
        assert_eq!(all.expanded().len(), SCOPES.len());
        assert_eq!(all.with_write("id_token").access("pages"), Access::Read);
        assert_eq!(github_scope("pull_requests"), "pull-requests");
    }

    #[test]
    fn permissions_serialise_as_written() {
        let all = serde_json::to_string(&Permissions::All(AllAccess::WriteAll)).unwrap();
        assert_eq!(all, "\"write_all\"");
        let back: Permissions = serde_json::from_str(&all).unwrap();
        assert_eq!(back, Permissions::All(AllAccess::WriteAll));
        let scopes: Permissions = serde_json::from_str(r#"{"contents":"write"}"#).unwrap();
        assert_eq!(scopes.access("contents"), Access::Write);
    }
}
