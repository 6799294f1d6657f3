//! Target-native steps (language v2 §5): a step's form for GitHub (an action), CircleCI (an
//! orb command) or Buildkite (a plugin), used by that target's export in place of the step's
//! portable `run`.

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

/// One value of a `with { KEY = … }` block (v2 §2, §5): a literal (a string, or an integer
/// or boolean as its text), or a value that reads references (`secret.TOKEN`,
/// `"v" + value.meta.version`) as its parts. `matrix.KEY` is fixed per instance, so the plan
/// holds its value as literal text. Each target renders a value with one function
/// (`export/native.rs`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum WithValue {
    /// Text written in the file, passed as it stands.
    Literal(String),
    /// Literal parts and references, in order (`[{"text": "v"}, {"ref": "sha"}]`).
    Value(crate::model::value::Value),
}

/// The `with { … }` of a native form: input names (free-form, e.g. `node-version`) to values.
pub type With = IndexMap<String, WithValue>;

/// `github { uses = "…"  with { … } }`: a GitHub action.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GithubStep {
    /// `owner/repo[/path]@ref` or `docker://image`.
    pub uses: String,
    /// The version a pinned `uses` stands for: `v4` of `"…@<sha> # v4"` (absent: none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub with: With,
}

/// `circleci { orb = "alias: ns/orb@version"  command = "alias/command"  with { … } }`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CircleciStep {
    /// The orb's alias in the config (`node`).
    pub alias: String,
    /// The orb's registry name and version (`circleci/node@5.2`).
    pub orb: String,
    /// The orb command the step invokes (`node/install`).
    pub command: String,
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub with: With,
}

/// `buildkite { plugin = "name#vX.Y.Z"  with { … } }`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BuildkiteStep {
    pub plugin: String,
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub with: With,
}

/// A step's native forms, one per target at most.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Native {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub github: Option<GithubStep>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub circleci: Option<CircleciStep>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub buildkite: Option<BuildkiteStep>,
}

impl Native {
    pub fn is_empty(&self) -> bool {
        self.github.is_none() && self.circleci.is_none() && self.buildkite.is_none()
    }
}

/// The targets a step may carry a native form for.
pub const NATIVE_TARGETS: &[&str] = &["github", "circleci", "buildkite"];

/// Splits `"owner/repo@ref # v4"` into the action and its version comment.
pub fn split_uses(text: &str) -> (&str, Option<&str>) {
    match text.split_once('#') {
        Some((uses, comment)) if !uses.starts_with("docker://") || uses.ends_with(' ') => {
            let comment = comment.trim();
            (uses.trim(), (!comment.is_empty()).then_some(comment))
        }
        _ => (text.trim(), None),
    }
}

/// Whether `uses` names an action as GitHub accepts it: `owner/repo[/path]@ref`, or
/// `docker://image`. (`./path` local actions need the repository's files at a place cdl
/// does not control, so they are not accepted.)
pub fn valid_uses(uses: &str) -> bool {
    if let Some(image) = uses.strip_prefix("docker://") {
        return !image.is_empty() && !image.chars().any(char::is_whitespace);
    }
    let Some((path, reference)) = uses.split_once('@') else {
        return false;
    };
    let part = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    };
    let mut parts = path.split('/');
    let (Some(owner), Some(repo)) = (parts.next(), parts.next()) else {
        return false;
    };
    part(owner)
        && part(repo)
        && parts.all(part)
        && !reference.is_empty()
        && reference
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/'))
}

/// Whether a `uses` is pinned to a full commit: a 40-hex ref (or a `docker://` image by
/// `@sha256:` digest).
pub fn pinned_uses(uses: &str) -> bool {
    if let Some(image) = uses.strip_prefix("docker://") {
        return image.contains("@sha256:");
    }
    uses.rsplit_once('@').is_some_and(|(_, r)| {
        r.len() == 40
            && r.chars()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
    })
}

/// Splits `alias: namespace/orb@version` into the alias and `namespace/orb@version`.
pub fn parse_orb(orb: &str) -> Option<(String, String)> {
    let (alias, reference) = orb.split_once(':')?;
    let alias = alias.trim();
    let reference = reference.trim();
    let name_ok = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))
    };
    let (path, version) = reference.split_once('@')?;
    let (namespace, name) = path.split_once('/')?;
    let version_ok = !version.is_empty()
        && version
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-'));
    (name_ok(alias)
        && alias.starts_with(|c: char| c.is_ascii_alphabetic())
        && name_ok(namespace)
        && name_ok(name)
        && version_ok)
        .then(|| (alias.to_string(), reference.to_string()))
}

/// Whether an orb command is `alias/command` for the orb's alias.
pub fn valid_orb_command(command: &str, alias: &str) -> bool {
    command.split_once('/').is_some_and(|(a, c)| {
        a == alias
            && !c.is_empty()
            && c.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))
    })
}

/// Whether a Buildkite plugin is `name#vX…` (`docker-compose#v5.5.0`, or a repository
/// `org/name#v1.0.0`, or a URL ending in `#v…`).
pub fn valid_plugin(plugin: &str) -> bool {
    let Some((name, version)) = plugin.rsplit_once('#') else {
        return false;
    };
    !name.is_empty()
        && !name.chars().any(|c| c.is_whitespace() || c == '#')
        && version.starts_with('v')
        && version.len() > 1
        && version[1..]
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uses_forms() {
        for good in [
            "actions/setup-node@v4",
            "actions/cache/restore@v4",
            "docker://alpine:3.20",
            "pypa/gh-action-pypi-publish@76f52bc884231f62b9a034ebfe128415bbaabdfc",
        ] {
            assert!(valid_uses(good), "{good}");
        }
        for bad in [
            "actions/setup-node",
            "setup-node@v4",
            "./local",
            "actions/setup node@v4",
            "a/b@",
            "docker://",
            "",
            "a/b@v1 # x",
        ] {
            assert!(!valid_uses(bad), "{bad}");
        }
        assert!(pinned_uses(
            "actions/setup-node@49933ea5288caeca8642d1e84afbd3f7d6820020"
        ));
        assert!(!pinned_uses("actions/setup-node@v4"));
        assert!(!pinned_uses(
            "actions/setup-node@49933EA5288CAECA8642D1E84AFBD3F7D6820020"
        ));
        assert!(pinned_uses("docker://alpine@sha256:abc"));
        assert_eq!(split_uses("a/b@0123 # v4"), ("a/b@0123", Some("v4")));
        assert_eq!(split_uses("a/b@v4"), ("a/b@v4", None));
    }

    #[test]
    fn orb_and_plugin_forms() {
        assert_eq!(
            parse_orb("node: circleci/node@5.2"),
            Some(("node".into(), "circleci/node@5.2".into()))
        );
        assert_eq!(parse_orb("circleci/node@5.2"), None);
        assert_eq!(parse_orb("node: circleci/node"), None);
        assert_eq!(parse_orb(": a/b@1"), None);
        assert!(valid_orb_command("node/install", "node"));
        assert!(!valid_orb_command("install", "node"));
        assert!(!valid_orb_command("other/install", "node"));
        assert!(valid_plugin("docker-compose#v5.5.0"));
        assert!(valid_plugin("my-org/my-plugin#v1.0.0"));
        assert!(!valid_plugin("docker-compose"));
        assert!(!valid_plugin("docker-compose#5.5.0"));
        assert!(!valid_plugin("#v1"));
    }
}
