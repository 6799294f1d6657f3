//! Composed values (v2 §2 "Typed references and composed values", i13j): a value is a list of
//! literal parts and typed references (`"ghcr.io/acme/app:" + sha`). Every reference names a
//! variable every job already has (the run context, inputs, vars, passed values, secrets), so
//! `cdl run` and the exports that compute a value in the job's shell read the same thing.

use serde::{Deserialize, Serialize};

/// What a reference reads. `matrix.KEY` is not here: it is fixed per instance, so the plan
/// holds its value as a literal part.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Reference {
    Branch,
    Tag,
    Sha,
    Repository,
    /// `owner`: the repository's owner or namespace (`repository` up to its last `/`).
    Owner,
    /// `project`: the repository's name (`repository` after its last `/`).
    Project,
    DefaultBranch,
    Workspace,
    Input(String),
    Var(String),
    /// `value.JOB.NAME`: a value of a job this one waits for.
    Value {
        job: String,
        name: String,
    },
    Secret(String),
}

/// The reference kinds, as written, for did-you-mean and completion.
pub const KINDS: &[&str] = &[
    "branch",
    "tag",
    "sha",
    "repository",
    "owner",
    "project",
    "default_branch",
    "workspace",
    "matrix",
    "input",
    "var",
    "value",
    "secret",
];

impl Reference {
    /// Reads a reference as written (`sha`, `input.target`, `value.build.version`); `None` for
    /// anything else, `matrix.KEY` included.
    pub fn parse(text: &str) -> Option<Reference> {
        let word = |s: &str| {
            !s.is_empty()
                && s.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        };
        Some(match text {
            "branch" => Reference::Branch,
            "tag" => Reference::Tag,
            "sha" => Reference::Sha,
            "repository" => Reference::Repository,
            "owner" => Reference::Owner,
            "project" => Reference::Project,
            "default_branch" => Reference::DefaultBranch,
            "workspace" => Reference::Workspace,
            _ => {
                let (kind, rest) = text.split_once('.')?;
                match kind {
                    "input" if word(rest) => Reference::Input(rest.into()),
                    "var" if word(rest) => Reference::Var(rest.into()),
                    "secret" if word(rest) => Reference::Secret(rest.into()),
                    "value" => {
                        let (job, name) = rest.split_once('.')?;
                        if !word(job) || !word(name) {
                            return None;
                        }
                        Reference::Value {
                            job: job.into(),
                            name: name.into(),
                        }
                    }
                    _ => return None,
                }
            }
        })
    }

    /// The variable of the job's environment that holds the referenced value, in `cdl run`
    /// and in every export.
    pub fn variable(&self) -> String {
        match self {
            Reference::Branch => "CDL_BRANCH".into(),
            Reference::Tag => "CDL_TAG".into(),
            Reference::Sha => "CDL_SHA".into(),
            Reference::Repository => "CDL_REPOSITORY".into(),
            Reference::Owner => "CDL_OWNER".into(),
            Reference::Project => "CDL_PROJECT".into(),
            Reference::DefaultBranch => "CDL_DEFAULT_BRANCH".into(),
            Reference::Workspace => "CDL_WORKSPACE".into(),
            Reference::Input(name) => super::inputs::input_variable(name),
            Reference::Var(name) | Reference::Secret(name) => name.clone(),
            Reference::Value { job, name } => super::values::value_variable(job, name),
        }
    }
}

/// `repository` split at its last `/`: the owner or namespace (empty without a `/`) and the
/// project's name (`owner` and `project`), as every export splits `CDL_REPOSITORY`.
pub fn owner_and_project(repository: &str) -> (&str, &str) {
    repository.rsplit_once('/').unwrap_or(("", repository))
}

impl std::fmt::Display for Reference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Reference::Branch => f.write_str("branch"),
            Reference::Tag => f.write_str("tag"),
            Reference::Sha => f.write_str("sha"),
            Reference::Repository => f.write_str("repository"),
            Reference::Owner => f.write_str("owner"),
            Reference::Project => f.write_str("project"),
            Reference::DefaultBranch => f.write_str("default_branch"),
            Reference::Workspace => f.write_str("workspace"),
            Reference::Input(name) => write!(f, "input.{name}"),
            Reference::Var(name) => write!(f, "var.{name}"),
            Reference::Secret(name) => write!(f, "secret.{name}"),
            Reference::Value { job, name } => write!(f, "value.{job}.{name}"),
        }
    }
}

impl Serialize for Reference {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Reference {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Reference::parse(&text)
            .ok_or_else(|| serde::de::Error::custom(format!("not a reference: `{text}`")))
    }
}

/// One part of a value: `{"text": "…"}` or `{"ref": "sha"}` in the plan.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Part {
    #[serde(rename = "text")]
    Text(String),
    #[serde(rename = "ref")]
    Ref(Reference),
}

/// A composed value: its parts in order.
pub type Value = Vec<Part>;

/// The value's text, each reference read by `lookup` from its [`Reference::variable`]
/// (an unset variable is empty, as in a shell).
pub fn compute(value: &[Part], lookup: impl Fn(&str) -> Option<String>) -> String {
    value
        .iter()
        .map(|part| match part {
            Part::Text(text) => text.clone(),
            Part::Ref(reference) => lookup(&reference.variable()).unwrap_or_default(),
        })
        .collect()
}

/// Whether the value reads a secret.
pub fn reads_secret(value: &[Part]) -> bool {
    value
        .iter()
        .any(|p| matches!(p, Part::Ref(Reference::Secret(_))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_read_back_as_written_and_name_their_variables() {
        for text in [
            "branch",
            "tag",
            "sha",
            "repository",
            "default_branch",
            "workspace",
            "input.dry-run",
            "var.FLAG",
            "secret.TOKEN",
            "value.build.version",
        ] {
            let reference = Reference::parse(text).expect(text);
            assert_eq!(reference.to_string(), text);
        }
        for bad in [
            "matrix.os",
            "value.build",
            "input.",
            "shas",
            "var.a.b",
            "env.X",
        ] {
            assert_eq!(Reference::parse(bad), None, "{bad}");
        }
        assert_eq!(
            Reference::parse("input.dry-run").unwrap().variable(),
            "CDL_INPUT_DRY_RUN"
        );
        assert_eq!(
            Reference::parse("value.build-app.v").unwrap().variable(),
            "CDL_VALUE_BUILD_APP_V"
        );
    }

    #[test]
    fn a_value_is_its_parts_in_order_and_an_unset_variable_is_empty() {
        let value = vec![
            Part::Text("img:".into()),
            Part::Ref(Reference::Sha),
            Part::Text("-".into()),
            Part::Ref(Reference::Var("NOPE".into())),
        ];
        let text = compute(&value, |v| (v == "CDL_SHA").then(|| "abc".to_string()));
        assert_eq!(text, "img:abc-");
        let json = serde_json::to_string(&value).unwrap();
        assert_eq!(
            json,
            r#"[{"text":"img:"},{"ref":"sha"},{"text":"-"},{"ref":"var.NOPE"}]"#
        );
        assert_eq!(serde_json::from_str::<Value>(&json).unwrap(), value);
    }
}
