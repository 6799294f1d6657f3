//! The starter pipeline `cdl init` writes: commented, checks clean, runs with POSIX commands.

use crate::check::model::KindEnvironment;

/// A pipeline promoting one artifact through `environments` (in order), with a test of each
/// of `kinds` (a kind that needs an environment runs on the first one), and an approval before
/// the last environment.
pub fn starter(name: &str, environments: &[String], kinds: &[String]) -> String {
    let environments: Vec<&str> = if environments.is_empty() {
        vec!["staging"]
    } else {
        environments.iter().map(String::as_str).collect()
    };
    let kind_rule = |kind: &str| match kind {
        "unit" => KindEnvironment::Forbidden,
        "integration" | "security" => KindEnvironment::Optional,
        _ => KindEnvironment::Required,
    };
    let mut out = format!(
        "// A starter pipeline written by `cdl init`. Check it with `cdl check`, see its plan with
// `cdl plan`, run it here with `cdl run`. The language: docs/language.md.

/// {name}: built once, tested, promoted through {}.
pipeline {name} {{
  // When a CI system runs the exported pipeline (`cdl export`).
  on push {{ branches = [\"main\"] }}
  on pull_request {{ branches = [\"main\"] }}

  // Variables every job gets. Data reaches commands through variables, never by splicing.
  env {{ APP_NAME = \"{name}\" }}
",
        environments.join(" → ")
    );
    let first = environments[0];
    let last = *environments.last().expect("at least one environment");
    for (i, environment) in environments.iter().enumerate() {
        out.push_str(&format!(
            "\n  environment {environment} {{\n    url = \"file:///tmp/{name}-{environment}\"\n"
        ));
        if i > 0 {
            out.push_str(&format!("    // cdl proves that every deploy here follows one to {}.\n    requires promotion from {}\n", environments[i - 1], environments[i - 1]));
        }
        if *environment == last && environments.len() > 1 {
            out.push_str("    // A person approves every release here: continuous delivery.\n    requires approval\n");
        }
        out.push_str("  }\n");
    }
    out.push_str(
        "
  stage build {
    /// The artifact: built once, stored with its SHA-256, deployed everywhere unchanged.
    artifact app {
      run = [\"mkdir -p dist\", \"echo \\\"$APP_NAME built\\\" > dist/app.txt\"]
      outputs = [\"dist/app.txt\"]
    }
",
    );
    let (early, late): (Vec<&String>, Vec<&String>) = kinds
        .iter()
        .partition(|k| kind_rule(k) != KindEnvironment::Required);
    for kind in &early {
        out.push_str(&format!(
            "    test {kind} {{ run = \"echo {kind} tests pass\" }}\n"
        ));
    }
    out.push_str("  }\n");
    for environment in &environments {
        if environments.len() > 1 && *environment == last {
            out.push_str(&format!(
                "
  stage approve {{
    gate release {{
      approvers = [\"{}\"]
      message   = \"Release to {last}?\"
      timeout   = 24h
    }}
  }}
",
                std::env::var("USER")
                    .ok()
                    .filter(|u| !u.is_empty())
                    .unwrap_or_else(|| "release-managers".into())
            ));
        }
        out.push_str(&format!(
            "
  stage {environment} {{
    deploy app to {environment} {{
      run = [\"mkdir -p /tmp/{name}-{environment}\", \"cp \\\"$CDL_ARTIFACT_APP/dist/app.txt\\\" /tmp/{name}-{environment}/\"]
    }}
"
        ));
        if *environment == first {
            for kind in &late {
                out.push_str(&format!("    test {kind} on {environment} {{ run = \"test -f /tmp/{name}-{environment}/app.txt\" }}\n"));
            }
        }
        out.push_str("  }\n");
    }
    out.push_str("}\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: String) {
        let compilation = crate::compile::compile_text("starter.cdl", None, text.clone());
        assert!(
            compilation.diagnostics.is_empty(),
            "{text}\n{:?}",
            compilation.diagnostics
        );
        assert!(crate::plan::build(&compilation).is_some());
    }

    #[test]
    fn starters_check_clean() {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        check(starter(
            "app",
            &s(&["staging", "production"]),
            &s(&["unit", "integration", "smoke"]),
        ));
        check(starter(
            "svc",
            &s(&["dev", "staging", "production"]),
            &s(&["unit", "ui", "load", "security"]),
        ));
        check(starter("solo", &s(&["production"]), &s(&["unit"])));
        check(starter("bare", &[], &[]));
    }
}
