//! Services (language v2 §9): containers a job talks to, started before it and stopped after
//! it. `cdl run` and every export read these, so a service means the same everywhere.

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

/// `service NAME { image = "…"  env { … }  port = 5432  command = [...]  health = "…" }`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Service {
    /// A DNS label (lowercase letters, digits, `-`): the host name in container jobs.
    pub name: String,
    /// The container image.
    pub image: String,
    /// Variables of the service's container (literal text; absent: none).
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub env: IndexMap<String, String>,
    /// The TCP port the service listens on inside its container (absent: none published).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    /// The container's command and arguments, replacing the image's (absent: the image's).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub command: Vec<String>,
    /// A shell command run in the container (`sh -c`) that succeeds once the service is ready.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health: Option<String>,
}

impl Service {
    /// The `NAME` part of the job's variables: upper case, `-` as `_` (`db-main` → `DB_MAIN`).
    pub fn variable_stem(&self) -> String {
        variable_stem(&self.name)
    }

    /// `CDL_SERVICE_<NAME>_HOST`: the host the job reaches the service at.
    pub fn host_variable(&self) -> String {
        Service::host_variable_of(&self.name)
    }

    /// `CDL_SERVICE_<NAME>_PORT`: the port the job reaches the service at.
    pub fn port_variable(&self) -> String {
        Service::port_variable_of(&self.name)
    }

    /// `CDL_SERVICE_<NAME>_HOST` of a service named `name`.
    pub fn host_variable_of(name: &str) -> String {
        format!("CDL_SERVICE_{}_HOST", variable_stem(name))
    }

    /// `CDL_SERVICE_<NAME>_PORT` of a service named `name`.
    pub fn port_variable_of(name: &str) -> String {
        format!("CDL_SERVICE_{}_PORT", variable_stem(name))
    }
}

/// The `NAME` part of `CDL_SERVICE_<NAME>_HOST` for a service name.
pub fn variable_stem(name: &str) -> String {
    name.to_ascii_uppercase().replace('-', "_")
}

/// Why `name` cannot name a service (a DNS label that also fits an environment variable), or
/// `None` when it can: lowercase ASCII letters, digits and `-`, starting with a letter, not
/// ending with `-`, at most 63 characters.
pub fn name_problem(name: &str) -> Option<&'static str> {
    if name.is_empty() || name.len() > 63 {
        return Some("a service name is 1 to 63 characters long");
    }
    if !name.starts_with(|c: char| c.is_ascii_lowercase()) {
        return Some("a service name starts with a lowercase letter");
    }
    if name.ends_with('-') {
        return Some("a service name does not end with `-`");
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    {
        return Some("a service name holds only lowercase letters, digits and `-`");
    }
    None
}

/// The nearest valid service name to `name` (lowercase, `_` as `-`), when there is one.
pub fn suggested_name(name: &str) -> Option<String> {
    let mut out: String = name
        .chars()
        .map(|c| match c {
            '_' => '-',
            c => c.to_ascii_lowercase(),
        })
        .filter(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-')
        .collect();
    out = out
        .trim_start_matches(|c: char| !c.is_ascii_lowercase())
        .to_string();
    out = out.trim_end_matches('-').to_string();
    out.truncate(63);
    let out = out.trim_end_matches('-').to_string();
    (name_problem(&out).is_none() && out != name).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_dns_labels_that_fit_a_variable() {
        for good in ["db", "postgres-16", "a", "redis2"] {
            assert_eq!(name_problem(good), None, "{good}");
        }
        for bad in ["Db", "db_main", "-db", "db-", "1db", "", &"a".repeat(64)] {
            assert!(name_problem(bad).is_some(), "{bad}");
        }
        assert_eq!(suggested_name("DB_Main").as_deref(), Some("db-main"));
        assert_eq!(suggested_name("_db_").as_deref(), Some("db"));
        assert_eq!(suggested_name("db"), None);
        assert_eq!(suggested_name("___"), None);
    }

    #[test]
    fn variables_are_upper_case_with_underscores() {
        let service = Service {
            name: "db-main".into(),
            image: "postgres:16".into(),
            env: IndexMap::new(),
            port: Some(5432),
            command: Vec::new(),
            health: None,
        };
        assert_eq!(service.host_variable(), "CDL_SERVICE_DB_MAIN_HOST");
        assert_eq!(service.port_variable(), "CDL_SERVICE_DB_MAIN_PORT");
    }
}
