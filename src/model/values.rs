//! Values passed between jobs (language v2 §4 "Passing values"): a job that declares
//! `values = [version, digest]` appends `NAME=VALUE` lines to the file `$CDL_VALUES`; a job that
//! waits for it reads `CDL_VALUE_<JOB>_<NAME>`. `cdl run` and every export read the file by
//! the rules here, so an undeclared name fails the job everywhere.

use indexmap::IndexMap;

use super::steps::is_variable_name;

/// The variable naming the file a job's steps append `NAME=VALUE` lines to.
pub const VALUES_FILE_VARIABLE: &str = "CDL_VALUES";

/// The prefix of the variables later jobs read values from. Exporters never use it for their
/// own names.
pub const VALUE_PREFIX: &str = "CDL_VALUE_";

/// `CDL_VALUE_<JOB>_<NAME>`, upper-cased, `-` as `_` (as `CDL_ARTIFACT_<NAME>`).
pub fn value_variable(job: &str, name: &str) -> String {
    format!(
        "{VALUE_PREFIX}{}_{}",
        job.to_ascii_uppercase().replace('-', "_"),
        name.to_ascii_uppercase().replace('-', "_")
    )
}

/// Why the lines a job wrote to `$CDL_VALUES` fail it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ValuesError {
    /// A line that is not `NAME=VALUE` (1-based line number, its first characters).
    BadLine { line: usize, text: String },
    /// A name the job does not declare in `values`.
    Undeclared { name: String, declared: Vec<String> },
}

impl std::fmt::Display for ValuesError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ValuesError::BadLine { line, text } => write!(
                f,
                "line {line} of $CDL_VALUES is not NAME=VALUE: {}",
                text.chars().take(80).collect::<String>()
            ),
            ValuesError::Undeclared { name, declared } if declared.is_empty() => write!(
                f,
                "the job wrote the value `{}` to $CDL_VALUES but declares no values; add `values = [{}]` to the job",
                name.chars().take(80).collect::<String>(),
                name.chars().take(80).collect::<String>()
            ),
            ValuesError::Undeclared { name, declared } => write!(
                f,
                "the job wrote the value `{}` to $CDL_VALUES, which it does not declare (it declares {}); add it to the job's `values`",
                name.chars().take(80).collect::<String>(),
                declared
                    .iter()
                    .map(|d| format!("`{d}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }
}

/// Reads what a job wrote to `$CDL_VALUES`: every declared name with its last written value,
/// in declaration order, and the empty string for one never written. Empty lines are skipped;
/// a line that is not `NAME=VALUE` or names an undeclared value is an error of the job.
pub fn read_values(
    text: &str,
    declared: &[String],
) -> Result<IndexMap<String, String>, ValuesError> {
    let mut values: IndexMap<String, String> = declared
        .iter()
        .map(|name| (name.clone(), String::new()))
        .collect();
    for (number, line) in text.split('\n').enumerate() {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.is_empty() {
            continue;
        }
        let Some((name, value)) = line.split_once('=').filter(|(n, _)| is_variable_name(n)) else {
            return Err(ValuesError::BadLine {
                line: number + 1,
                text: line.to_string(),
            });
        };
        match values.get_mut(name) {
            Some(slot) => *slot = value.to_string(),
            None => {
                return Err(ValuesError::Undeclared {
                    name: name.to_string(),
                    declared: declared.to_vec(),
                });
            }
        }
    }
    Ok(values)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn declared() -> Vec<String> {
        vec!["version".into(), "digest".into()]
    }

    #[test]
    fn the_last_line_of_a_name_wins_and_unwritten_names_are_empty() {
        let values = read_values("version=1\r\n\nversion=2=x\n", &declared()).unwrap();
        assert_eq!(
            values.into_iter().collect::<Vec<_>>(),
            [
                ("version".to_string(), "2=x".to_string()),
                ("digest".into(), "".into())
            ]
        );
    }

    #[test]
    fn undeclared_names_and_bad_lines_fail() {
        assert!(matches!(
            read_values("tag=1\n", &declared()),
            Err(ValuesError::Undeclared { name, .. }) if name == "tag"
        ));
        assert!(matches!(
            read_values("version=1\nno equals\n", &declared()),
            Err(ValuesError::BadLine { line: 2, .. })
        ));
        assert!(matches!(
            read_values("1x=2\n", &declared()),
            Err(ValuesError::BadLine { line: 1, .. })
        ));
        let message = read_values("Version=1", &declared())
            .unwrap_err()
            .to_string();
        assert!(
            message.contains("`Version`") && message.contains("`version`"),
            "{message}"
        );
    }

    #[test]
    fn variables_are_upper_case_with_underscores() {
        assert_eq!(
            value_variable("build-app", "version"),
            "CDL_VALUE_BUILD_APP_VERSION"
        );
    }
}
