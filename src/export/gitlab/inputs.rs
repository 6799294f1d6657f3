//! Vars on GitLab (v2 §2, i13d): which names GitLab predefines. A variable written in the
//! file's `variables:` outranks a predefined one, so a var named like one gets no default
//! there.

/// Names GitLab predefines without the `CI_` / `GITLAB_` prefixes ("Predefined CI/CD
/// variables reference").
const UNPREFIXED: [&str; 6] = [
    "CI",
    "CHAT_CHANNEL",
    "CHAT_INPUT",
    "CHAT_USER_ID",
    "KUBECONFIG",
    "TRIGGER_PAYLOAD",
];

/// Whether GitLab predefines a variable of this name.
pub fn predefined(name: &str) -> bool {
    name.starts_with("CI_") || name.starts_with("GITLAB_") || UNPREFIXED.contains(&name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn predefined_names() {
        for name in ["CI", "CI_COMMIT_BRANCH", "GITLAB_USER_LOGIN", "KUBECONFIG"] {
            assert!(predefined(name), "{name}");
        }
        for name in ["STAGING_ENABLED", "CIRCLE", "MY_CI_FLAG"] {
            assert!(!predefined(name), "{name}");
        }
    }
}
