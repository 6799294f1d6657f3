//! Secret values: from the process environment or a dotenv file, given only to the jobs that
//! list them, and masked as `***` everywhere output is shown or kept.

use indexmap::IndexMap;

#[derive(Debug, Clone, Default)]
pub struct Secrets {
    values: IndexMap<String, String>,
    /// The registry's host, image and user (`registry = true`): given, not masked.
    registry: IndexMap<String, String>,
}

impl Secrets {
    /// Values for `names`: the dotenv file first, then the process environment.
    pub fn load(names: &[String], dotenv: Option<&str>) -> Secrets {
        let from_file = dotenv.map(parse_dotenv).unwrap_or_default();
        let values = names
            .iter()
            .filter_map(|name| {
                let value = from_file
                    .get(name)
                    .cloned()
                    .or_else(|| std::env::var(name).ok())?;
                Some((name.clone(), value))
            })
            .collect();
        Secrets {
            values,
            registry: IndexMap::new(),
        }
    }

    /// The container registry of `registry = true` jobs: `CDL_REGISTRY`,
    /// `CDL_REGISTRY_IMAGE`, `CDL_REGISTRY_USER` and `CDL_REGISTRY_PASSWORD` from the dotenv
    /// file or the process environment (the password is masked like a secret).
    pub fn load_registry(&mut self, dotenv: Option<&str>) {
        let from_file = dotenv.map(parse_dotenv).unwrap_or_default();
        for name in crate::plan::REGISTRY_VARIABLES {
            let Some(value) = from_file
                .get(name)
                .cloned()
                .or_else(|| std::env::var(name).ok())
                .filter(|v| !v.is_empty())
            else {
                continue;
            };
            if name == crate::plan::REGISTRY_PASSWORD {
                self.values.insert(name.to_string(), value);
            } else {
                self.registry.insert(name.to_string(), value);
            }
        }
    }

    /// The four registry variables of a `registry = true` job, or why it has none.
    pub fn registry(&self) -> Result<Vec<(String, String)>, String> {
        let mut found = Vec::new();
        let mut missing = Vec::new();
        for name in crate::plan::REGISTRY_VARIABLES {
            match self.registry.get(name).or_else(|| self.values.get(name)) {
                Some(value) => found.push((name.to_string(), value.clone())),
                None => missing.push(format!("`{name}`")),
            }
        }
        if missing.is_empty() {
            Ok(found)
        } else {
            Err(format!(
                "the job logs in to the container registry (`registry = true`), and cdl run lacks {}: set them in the environment of `cdl run` or in the `--secrets-file` file",
                missing.join(", ")
            ))
        }
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(String::as_str)
    }

    /// Every value, for a supervisor to mask its job's output with.
    pub fn values(&self) -> Vec<String> {
        self.values.values().cloned().collect()
    }

    /// v2 i14a: the OIDC token of `cdl run --oidc-token-file FILE` (and, i14b, `cdl resume`), given to the jobs with
    /// `oidc` as `CDL_OIDC_TOKEN` and masked like a secret. An empty or unreadable file is
    /// an error that names it.
    pub fn load_oidc_token(&mut self, file: Option<&std::path::Path>) -> Result<(), String> {
        let Some(path) = file else { return Ok(()) };
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("--oidc-token-file: cannot read {}: {e}", path.display()))?;
        let token = text.trim();
        if token.is_empty() {
            return Err(format!(
                "--oidc-token-file: {} holds no token",
                path.display()
            ));
        }
        self.values
            .insert(crate::plan::OIDC_VARIABLE.into(), token.to_string());
        Ok(())
    }

    /// The OIDC token for a job with `oidc`, or why it has none.
    pub fn oidc_token(&self, audience: &str) -> Result<&str, String> {
        self.get(crate::plan::OIDC_VARIABLE).ok_or_else(|| {
            format!(
                "the job asks for an OIDC token (audience `{audience}`), and cdl run has none: give it with `cdl run --oidc-token-file FILE` (or `cdl resume --oidc-token-file FILE`)"
            )
        })
    }

    /// Replaces every secret value in `text` by `***`: the longest match wins, and values
    /// spanning lines or ending in a line break are caught (see [`super::mask`]).
    pub fn mask(&self, text: &str) -> String {
        let patterns = super::mask::patterns(self.values.values().map(String::as_str));
        if patterns.is_empty() {
            return text.to_string();
        }
        String::from_utf8_lossy(&super::mask::mask_bytes(&patterns, text.as_bytes())).into_owned()
    }
}

/// `NAME=value` lines; `#` comments, blank lines, `export `, and single or double quotes
/// around the value are understood.
pub fn parse_dotenv(text: &str) -> IndexMap<String, String> {
    let mut out = IndexMap::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line.strip_prefix("export ").unwrap_or(line);
        let Some((name, value)) = line.split_once('=') else {
            continue;
        };
        let value = value.trim();
        let value = match (value.chars().next(), value.chars().last()) {
            (Some('"'), Some('"')) if value.len() >= 2 => value[1..value.len() - 1]
                .replace("\\n", "\n")
                .replace("\\\"", "\""),
            (Some('\''), Some('\'')) if value.len() >= 2 => value[1..value.len() - 1].to_string(),
            _ => value.split(" #").next().unwrap_or("").trim().to_string(),
        };
        out.insert(name.trim().to_string(), value);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_dotenv() {
        let values = parse_dotenv("# c\nA=1\nexport B=\"two words\"\nC='x=y'\nD=plain # note\n");
        assert_eq!(values["A"], "1");
        assert_eq!(values["B"], "two words");
        assert_eq!(values["C"], "x=y");
        assert_eq!(values["D"], "plain");
    }

    #[test]
    fn masks_longest_first() {
        let secrets = Secrets {
            values: [
                ("A".to_string(), "abc".to_string()),
                ("B".to_string(), "abcdef".to_string()),
            ]
            .into_iter()
            .collect(),
            ..Secrets::default()
        };
        assert_eq!(secrets.mask("x abcdef y abc"), "x *** y ***");
    }
}
