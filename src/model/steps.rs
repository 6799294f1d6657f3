//! Steps and shells (language v2 §4): the step list of a job, its shells' exact command lines
//! and the rule that decides whether a step runs. `cdl run` and every export read these, so a
//! step means the same everywhere.

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

/// The shell a step runs in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Shell {
    Sh,
    Bash,
    Pwsh,
}

/// The words `shell = "…"` accepts.
pub const SHELL_WORDS: &[&str] = &["sh", "bash", "pwsh"];

/// Prepended to a `pwsh` script: a failing cmdlet stops it (GitHub's `shell: pwsh` does the
/// same).
pub const PWSH_PRELUDE: &str = "$ErrorActionPreference = 'Stop'\n";

impl Shell {
    pub fn parse(word: &str) -> Option<Shell> {
        match word {
            "sh" => Some(Shell::Sh),
            "bash" => Some(Shell::Bash),
            "pwsh" => Some(Shell::Pwsh),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Shell::Sh => "sh",
            Shell::Bash => "bash",
            Shell::Pwsh => "pwsh",
        }
    }

    /// The program and its arguments before the script: `sh -e -c`, `bash --noprofile
    /// --norc -eo pipefail -c` (GitHub's `shell: bash`), `pwsh -NoProfile -Command`.
    pub fn program(self) -> &'static [&'static str] {
        match self {
            Shell::Sh => &["sh", "-e", "-c"],
            Shell::Bash => &["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c"],
            Shell::Pwsh => &["pwsh", "-NoProfile", "-Command"],
        }
    }

    /// The script as the shell receives it (`pwsh` gets [`PWSH_PRELUDE`] first).
    pub fn script(self, script: &str) -> String {
        match self {
            Shell::Pwsh => format!("{PWSH_PRELUDE}{script}"),
            Shell::Sh | Shell::Bash => script.to_string(),
        }
    }

    /// The whole command line: program, arguments and script.
    pub fn argv(self, script: &str) -> Vec<String> {
        let mut argv: Vec<String> = self.program().iter().map(|s| s.to_string()).collect();
        argv.push(self.script(script));
        argv
    }

    /// The shell of a step nobody chose one for: `sh`, but `bash` on a runner whose label
    /// starts with `windows` (no `sh` there; Git Bash on GitHub's Windows images).
    pub fn default_for(runner: Option<&str>) -> Shell {
        match runner {
            Some(label) if label.to_ascii_lowercase().starts_with("windows") => Shell::Bash,
            _ => Shell::Sh,
        }
    }
}

/// When a step runs, given how the steps before it went.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Runs {
    /// Only while every earlier step succeeded (the default).
    #[default]
    OnSuccess,
    /// Only when an earlier step failed.
    OnFailure,
    /// Whatever the earlier steps did.
    Always,
}

/// The words `runs = …` accepts.
pub const RUNS_WORDS: &[&str] = &["on_success", "on_failure", "always"];

impl Runs {
    pub fn parse(word: &str) -> Option<Runs> {
        match word {
            "on_success" => Some(Runs::OnSuccess),
            "on_failure" => Some(Runs::OnFailure),
            "always" => Some(Runs::Always),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Runs::OnSuccess => "on_success",
            Runs::OnFailure => "on_failure",
            Runs::Always => "always",
        }
    }

    /// Whether a step with this rule runs once an earlier step has (`failed`) or has not
    /// failed. A person's cancel stops every step whatever its rule.
    pub fn runs(self, failed: bool) -> bool {
        match self {
            Runs::OnSuccess => !failed,
            Runs::OnFailure => failed,
            Runs::Always => true,
        }
    }

    pub fn is_default(&self) -> bool {
        *self == Runs::OnSuccess
    }
}

/// One `step NAME { … }` of a job, as the plan holds it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Step {
    pub name: String,
    /// `name = "…"`: the display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// The script, run by one shell. Empty only in a step with native forms and no `run`
    /// (v2 i14e: omitted then).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub run: String,
    /// The step's own `shell` (the job's, then the pipeline's, when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shell: Option<Shell>,
    /// Variables of this step only, over the job's.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub env: IndexMap<String, String>,
    /// Variables of this step only whose values read references (v2 §2: composed values,
    /// computed when the step runs from the job's variables), over the job's and `env`.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub env_values: IndexMap<String, crate::model::value::Value>,
    /// Secrets only this step (and the others that list them) receive; each is one of the
    /// job's.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub secrets: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_seconds: Option<u64>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub allow_failure: bool,
    #[serde(default, skip_serializing_if = "Runs::is_default")]
    pub runs: Runs,
    // v2 i13l: step conditions
    /// `when = …`: the step runs only when it holds (else it is skipped), for this instance.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub when: Option<crate::model::Condition>,
    // v2 i14e: target-native forms (§5)
    /// `github { … }`, `circleci { … }`, `buildkite { … }` (absent: none).
    #[serde(default, skip_serializing_if = "super::native::Native::is_empty")]
    pub native: super::native::Native,
}

impl Step {
    /// The script a target without a native form of the step runs, and `cdl run`: `None`
    /// for a step with native forms and no `run`, which such a target skips (v2 i14e).
    pub fn fallback(&self) -> Option<&str> {
        (!self.run.is_empty() || self.native.is_empty()).then_some(self.run.as_str())
    }
}

/// The variables of a job given to steps through files: `CDL_ENV` (`NAME=VALUE` lines for the
/// later steps) and `CDL_PATH` (folders put before `PATH` for the later steps).
pub const ENV_FILE_VARIABLE: &str = "CDL_ENV";
pub const PATH_FILE_VARIABLE: &str = "CDL_PATH";

/// The variables read from `$CDL_ENV`, and its bad lines (1-based number, text).
pub type EnvFile = (Vec<(String, String)>, Vec<(usize, String)>);

/// Reads the `NAME=VALUE` lines a step wrote to `$CDL_ENV`, in order (a later line wins).
/// Lines without `=`, or whose name is not an environment variable name, are returned as
/// errors with their 1-based line number.
pub fn parse_env_file(text: &str) -> EnvFile {
    let mut values = Vec::new();
    let mut errors = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.is_empty() {
            continue;
        }
        match line.split_once('=') {
            Some((name, value)) if is_variable_name(name) => {
                values.push((name.to_string(), value.to_string()));
            }
            _ => errors.push((number + 1, line.to_string())),
        }
    }
    (values, errors)
}

/// `[A-Za-z_][A-Za-z0-9_]*`: a name every shell accepts.
pub fn is_variable_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The folders a step wrote to `$CDL_PATH`, the last written first (each is put before the
/// `PATH` of the later steps, as GitHub's `$GITHUB_PATH` does).
pub fn parse_path_file(text: &str) -> Vec<String> {
    let mut folders: Vec<String> = text
        .lines()
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect();
    folders.reverse();
    folders
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_step_runs_by_its_rule() {
        assert!(Runs::OnSuccess.runs(false) && !Runs::OnSuccess.runs(true));
        assert!(!Runs::OnFailure.runs(false) && Runs::OnFailure.runs(true));
        assert!(Runs::Always.runs(false) && Runs::Always.runs(true));
    }

    #[test]
    fn shells_have_the_designs_command_lines() {
        assert_eq!(Shell::Sh.argv("x"), ["sh", "-e", "-c", "x"]);
        assert_eq!(
            Shell::Bash.argv("x"),
            [
                "bash",
                "--noprofile",
                "--norc",
                "-eo",
                "pipefail",
                "-c",
                "x"
            ]
        );
        assert_eq!(
            Shell::Pwsh.argv("x"),
            [
                "pwsh",
                "-NoProfile",
                "-Command",
                "$ErrorActionPreference = 'Stop'\nx"
            ]
        );
        assert_eq!(Shell::default_for(Some("Windows-2022")), Shell::Bash);
        assert_eq!(Shell::default_for(Some("ubuntu-latest")), Shell::Sh);
        assert_eq!(Shell::default_for(None), Shell::Sh);
    }

    #[test]
    fn env_file_lines_are_read_in_order_and_bad_ones_reported() {
        let (values, errors) = parse_env_file("A=1\n\nB=x=y\r\nbad line\n1X=2\nA=\n");
        assert_eq!(
            values,
            [
                ("A".to_string(), "1".to_string()),
                ("B".into(), "x=y".into()),
                ("A".into(), "".into())
            ]
        );
        assert_eq!(
            errors,
            [(4, "bad line".to_string()), (5, "1X=2".to_string())]
        );
    }

    #[test]
    fn the_last_path_written_comes_first() {
        assert_eq!(parse_path_file("/a\n\n/b\n"), ["/b", "/a"]);
    }
}
