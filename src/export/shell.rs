//! The POSIX shell an export adds around the user's commands: a retry loop, collecting an
//! artifact's outputs into a store folder, and finding an artifact's path in a later job.
//! Every script here is fixed text: data (commands, paths, patterns) reaches it through
//! environment variables, and only identifiers (`[A-Za-z0-9_-]`) are ever written into it.

use indexmap::IndexMap;

use super::Lossy;
use crate::plan::Job;

/// Runs the commands `CDL_STEP_1` … `CDL_STEP_<CDL_STEP_COUNT>`, each with `sh -e -c`,
/// stopping at the first failure, up to `CDL_ATTEMPTS` times until one attempt succeeds.
pub const RETRY_LOOP: &str = r#"attempt=1
while :; do
  status=0
  step=1
  while [ "$step" -le "$CDL_STEP_COUNT" ]; do
    script=$(printenv "CDL_STEP_$step")
    sh -e -c "$script" || { status=$?; break; }
    step=$((step + 1))
  done
  if [ "$status" -eq 0 ]; then break; fi
  if [ "$attempt" -ge "$CDL_ATTEMPTS" ]; then exit "$status"; fi
  echo "cdl: attempt $attempt of $CDL_ATTEMPTS failed with exit status $status; running the steps again"
  attempt=$((attempt + 1))
done
"#;

/// [`RETRY_LOOP`] with a timeout for each attempt, as `cdl run` has: an attempt's steps run
/// under `timeout "$CDL_TIMEOUT"` (seconds; coreutils or BusyBox, which stops the whole
/// process group on expiry), and a timed-out attempt counts as a failed one.
pub const TIMED_RETRY_LOOP: &str = r#"command -v timeout >/dev/null || { echo "cdl: no timeout command (coreutils or BusyBox) here, which enforces the job's timeout" >&2; exit 127; }
attempt=1
while :; do
  status=0
  # shellcheck disable=SC2016 # the attempt's script is expanded by the shell that runs it
  timeout "$CDL_TIMEOUT" sh -c '
    step=1
    while [ "$step" -le "$CDL_STEP_COUNT" ]; do
      sh -e -c "$(printenv "CDL_STEP_$step")" || exit
      step=$((step + 1))
    done' || status=$?
  if [ "$status" -eq 0 ]; then break; fi
  if [ "$status" -eq 124 ]; then echo "cdl: attempt $attempt of $CDL_ATTEMPTS timed out after ${CDL_TIMEOUT}s"; fi
  if [ "$attempt" -ge "$CDL_ATTEMPTS" ]; then exit "$status"; fi
  echo "cdl: attempt $attempt of $CDL_ATTEMPTS failed with exit status $status; running the steps again"
  attempt=$((attempt + 1))
done
"#;

/// The variables that drive [`RETRY_LOOP`] for a job's steps.
pub fn retry_env(job: &Job) -> IndexMap<String, String> {
    let mut env = IndexMap::new();
    env.insert("CDL_ATTEMPTS".into(), (job.retries + 1).to_string());
    env.insert("CDL_STEP_COUNT".into(), job.steps.len().to_string());
    for (i, step) in job.steps.iter().enumerate() {
        env.insert(format!("CDL_STEP_{}", i + 1), step.clone());
    }
    env
}

/// Copies the files matching `CDL_OUTPUT_1` … `CDL_OUTPUT_<CDL_OUTPUT_COUNT>` into
/// `CDL_ARTIFACT_STORE`, keeping their paths relative to the current folder (as `cdl run`
/// does). An output is a shell glob; with `CDL_OUTPUT_<N>_NAME` set it is a folder searched
/// at any depth for files of that name pattern. An output matching nothing is an error.
pub const COLLECT_ARTIFACT: &str = r#"rm -rf "$CDL_ARTIFACT_STORE"
mkdir -p "$CDL_ARTIFACT_STORE"
cdl_copy() {
  case "$1" in
    /* | ../* | */../* | ..) target=$(basename "$1") ;;
    *) target=$1 ;;
  esac
  mkdir -p "$CDL_ARTIFACT_STORE/$(dirname "$target")"
  if [ -d "$1" ]; then
    mkdir -p "$CDL_ARTIFACT_STORE/$target"
    cp -R "$1/." "$CDL_ARTIFACT_STORE/$target/"
  else
    cp "$1" "$CDL_ARTIFACT_STORE/$target"
  fi
}
output=1
while [ "$output" -le "$CDL_OUTPUT_COUNT" ]; do
  pattern=$(printenv "CDL_OUTPUT_$output")
  name=$(printenv "CDL_OUTPUT_${output}_NAME" || true)
  found=0
  if [ -n "$name" ]; then
    if [ -n "$(find "$pattern" -type f -name "$name" 2>/dev/null | head -n 1)" ]; then
      found=1
      find "$pattern" -type f -name "$name" -exec sh -c 'for f do mkdir -p "$0/$(dirname "$f")" && cp "$f" "$0/$f"; done' "$CDL_ARTIFACT_STORE" {} +
    fi
  else
    old_ifs=$IFS
    IFS=
    # shellcheck disable=SC2086 # the pattern is expanded on purpose, without splitting
    for path in $pattern; do
      if [ -e "$path" ]; then
        found=1
        cdl_copy "$path"
      fi
    done
    IFS=$old_ifs
  fi
  if [ "$found" = 0 ]; then
    echo "cdl: the output $pattern${name:+/**/$name} matched no file" >&2
    exit 1
  fi
  output=$((output + 1))
done
"#;

/// v2 i13k: [`COLLECT_ARTIFACT`] for `job`: where it has `optional_outputs`, an output marked
/// `CDL_OUTPUT_<N>_OPTIONAL` that matches nothing prints a note rather than failing (the
/// script is unchanged for other jobs).
pub fn collect_artifact(job: &Job) -> String {
    if job.optional_outputs.is_empty() {
        return COLLECT_ARTIFACT.to_string();
    }
    COLLECT_ARTIFACT.replacen(
        "  if [ \"$found\" = 0 ]; then\n",
        "  if [ \"$found\" = 0 ] && [ -n \"$(printenv \"CDL_OUTPUT_${output}_OPTIONAL\" || true)\" ]; then\n    echo \"cdl: the optional output $pattern${name:+/**/$name} matched no file\"\n  elif [ \"$found\" = 0 ]; then\n",
        1,
    )
}

/// The variables that drive [`COLLECT_ARTIFACT`] but `CDL_ARTIFACT_STORE`, and the outputs
/// it cannot match exactly.
pub fn collect_env(job: &Job) -> (IndexMap<String, String>, Vec<Lossy>) {
    let mut env = IndexMap::new();
    let mut lossy = Vec::new();
    // v2 i13k: `optional_outputs` follow the outputs, each marked `CDL_OUTPUT_<N>_OPTIONAL`.
    let all: Vec<&String> = job.outputs.iter().chain(&job.optional_outputs).collect();
    env.insert("CDL_OUTPUT_COUNT".into(), all.len().to_string());
    for (i, output) in all.into_iter().enumerate() {
        let key = format!("CDL_OUTPUT_{}", i + 1);
        if i >= job.outputs.len() {
            env.insert(format!("{key}_OPTIONAL"), "1".into());
        }
        match output_pattern(output) {
            OutputPattern::Glob(pattern) => {
                env.insert(key, pattern);
            }
            OutputPattern::Find { folder, name } => {
                env.insert(key.clone(), folder);
                env.insert(format!("{key}_NAME"), name);
            }
            OutputPattern::Approximate(pattern) => {
                lossy.push(Lossy::at(
                    job,
                    format!("the output `{output}` uses `**` in a way the export's shell cannot match"),
                    format!("it is matched as `{pattern}` (one folder level for each `**`); `DIR/**` and `DIR/**/NAME` are matched exactly"),
                ));
                env.insert(key, pattern);
            }
        }
    }
    (env, lossy)
}

#[derive(Debug, PartialEq, Eq)]
enum OutputPattern {
    /// A shell glob that matches the same files.
    Glob(String),
    /// `FOLDER/**/NAME`: files named NAME at any depth under FOLDER.
    Find { folder: String, name: String },
    /// A shell glob that matches fewer files.
    Approximate(String),
}

fn output_pattern(output: &str) -> OutputPattern {
    if !output.contains("**") {
        return OutputPattern::Glob(output.to_string());
    }
    let trimmed = output.trim_end_matches("/**/*").trim_end_matches("/**");
    if !trimmed.contains("**") {
        let folder = if trimmed == "**" || trimmed.is_empty() {
            "."
        } else {
            trimmed
        };
        return OutputPattern::Glob(folder.to_string());
    }
    if let Some((folder, name)) = output.split_once("/**/")
        && !folder.contains(['*', '?', '['])
        && !name.contains('/')
        && !name.contains("**")
    {
        return OutputPattern::Find {
            folder: folder.to_string(),
            name: name.to_string(),
        };
    }
    if let Some(name) = output.strip_prefix("**/")
        && !name.contains('/')
        && !name.contains("**")
    {
        return OutputPattern::Find {
            folder: ".".into(),
            name: name.to_string(),
        };
    }
    OutputPattern::Approximate(output.replace("**", "*"))
}

/// Defines `cdl_locate DIR`, which prints where an artifact's stored copy is: always the
/// folder holding the outputs at their relative paths (the rule of `cdl run`).
pub const LOCATE_FUNCTION: &str = r#"cdl_locate() {
  printf '%s\n' "$1"
}
"#;

/// Whether text may be written into a script as is: a cdl identifier, `[A-Za-z0-9_-]+`.
pub fn is_identifier(text: &str) -> bool {
    !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// Quotes text for a POSIX shell (single quotes).
pub fn quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_patterns_keep_globstar_folders_exact() {
        use OutputPattern::*;
        assert_eq!(output_pattern("dist/*.whl"), Glob("dist/*.whl".into()));
        assert_eq!(output_pattern("public/**"), Glob("public".into()));
        assert_eq!(output_pattern("public/**/*"), Glob("public".into()));
        assert_eq!(
            output_pattern("dist/**/*.js"),
            Find {
                folder: "dist".into(),
                name: "*.js".into()
            }
        );
        assert_eq!(
            output_pattern("**/*.log"),
            Find {
                folder: ".".into(),
                name: "*.log".into()
            }
        );
        assert_eq!(
            output_pattern("a/**/b/*.so"),
            Approximate("a/*/b/*.so".into())
        );
    }

    #[test]
    fn quotes_single_quotes() {
        assert_eq!(quote("it's"), r"'it'\''s'");
    }
}

#[cfg(test)]
mod scripts {
    use super::*;

    fn sh(script: &str, dir: &std::path::Path, env: &[(&str, &str)]) -> (bool, String) {
        let output = std::process::Command::new("sh")
            .args(["-e", "-c", script])
            .current_dir(dir)
            .envs(env.iter().copied())
            .output()
            .unwrap();
        (
            output.status.success(),
            String::from_utf8_lossy(&output.stdout).into_owned(),
        )
    }

    fn tempdir(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("cdl-shell-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn artifacts_are_stored_and_located_like_cdl_run_does() {
        let dir = tempdir("artifact");
        std::fs::create_dir_all(dir.join("dist/sub")).unwrap();
        std::fs::write(dir.join("dist/a.whl"), "a").unwrap();
        std::fs::write(dir.join("dist/sub/b.js"), "b").unwrap();
        std::fs::write(dir.join("dist/c.js"), "c").unwrap();
        std::fs::write(dir.join("one file.txt"), "1").unwrap();
        let store = dir.join("store");
        let store = store.to_str().unwrap();
        let collect = |outputs: &[&str]| {
            let text = "pipeline p { stage s { job j { run = \"true\" } } }";
            let compilation = crate::compile::compile_text("p.cdl", None, text.into());
            let mut job = crate::plan::build(&compilation).unwrap().jobs[0].clone();
            job.outputs = outputs.iter().map(|o| o.to_string()).collect();
            let (mut env, _) = collect_env(&job);
            env.insert("CDL_ARTIFACT_STORE".into(), store.into());
            let env: Vec<(&str, &str)> =
                env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            let ok = sh(COLLECT_ARTIFACT, &dir, &env).0;
            let (_, path) = sh(
                &format!("{LOCATE_FUNCTION}cdl_locate \"$STORE\""),
                &dir,
                &[("STORE", store)],
            );
            (ok, path.trim_end().to_string())
        };
        // Always the folder, even for one file (the rule of `cdl run`).
        assert_eq!(collect(&["one file.txt"]), (true, store.to_string()));
        assert!(std::path::Path::new(store).join("one file.txt").is_file());
        assert_eq!(
            collect(&["dist/*.whl", "dist/**/*.js"]),
            (true, store.to_string())
        );
        for file in ["dist/a.whl", "dist/sub/b.js", "dist/c.js"] {
            assert!(std::path::Path::new(store).join(file).is_file(), "{file}");
        }
        assert!(collect(&["dist/**"]).0);
        assert!(std::path::Path::new(store).join("dist/sub/b.js").is_file());
        assert!(!collect(&["missing/*"]).0);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_retry_loop_runs_every_step_again_until_an_attempt_succeeds() {
        let dir = tempdir("retry");
        let env = [
            ("CDL_ATTEMPTS", "3"),
            ("CDL_STEP_COUNT", "2"),
            ("CDL_STEP_1", "echo run >> log"),
            ("CDL_STEP_2", "[ \"$(wc -l < log)\" -ge 2 ]"),
        ];
        let (ok, out) = sh(RETRY_LOOP, &dir, &env);
        assert!(ok, "{out}");
        assert_eq!(
            std::fs::read_to_string(dir.join("log")).unwrap(),
            "run\nrun\n"
        );
        let failing = [
            ("CDL_ATTEMPTS", "2"),
            ("CDL_STEP_COUNT", "1"),
            ("CDL_STEP_1", "echo try >> tries; exit 3"),
        ];
        assert!(!sh(RETRY_LOOP, &dir, &failing).0);
        assert_eq!(
            std::fs::read_to_string(dir.join("tries")).unwrap(),
            "try\ntry\n"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_timed_loop_gives_each_attempt_the_whole_timeout() {
        let dir = tempdir("timed");
        // The first attempt hangs (a grandchild of the step, in the background too) and is
        // stopped; the second one finds the mark it left and passes.
        let env = [
            ("CDL_TIMEOUT", "1"),
            ("CDL_ATTEMPTS", "2"),
            ("CDL_STEP_COUNT", "2"),
            ("CDL_STEP_1", "echo step >> log"),
            (
                "CDL_STEP_2",
                "if [ -e mark ]; then exit 0; fi; touch mark; sleep 60 & sh -c 'sleep 60'",
            ),
        ];
        let (ok, out) = sh(TIMED_RETRY_LOOP, &dir, &env);
        assert!(ok, "{out}");
        assert!(out.contains("attempt 1 of 2 timed out after 1s"), "{out}");
        assert_eq!(
            std::fs::read_to_string(dir.join("log")).unwrap(),
            "step\nstep\n"
        );
        // An attempt that always hangs fails the job with timeout's status, 124.
        let hanging = [
            ("CDL_TIMEOUT", "1"),
            ("CDL_ATTEMPTS", "2"),
            ("CDL_STEP_COUNT", "1"),
            ("CDL_STEP_1", "echo try >> tries; sleep 60"),
        ];
        let output = std::process::Command::new("sh")
            .args(["-e", "-c", TIMED_RETRY_LOOP])
            .current_dir(&dir)
            .envs(hanging.iter().copied())
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(124));
        assert_eq!(
            std::fs::read_to_string(dir.join("tries")).unwrap(),
            "try\ntry\n"
        );
        // A failing step still stops its attempt at once, and its status is the job's.
        let failing = [
            ("CDL_TIMEOUT", "30"),
            ("CDL_ATTEMPTS", "1"),
            ("CDL_STEP_COUNT", "2"),
            ("CDL_STEP_1", "exit 7"),
            ("CDL_STEP_2", "touch never"),
        ];
        let output = std::process::Command::new("sh")
            .args(["-e", "-c", TIMED_RETRY_LOOP])
            .current_dir(&dir)
            .envs(failing.iter().copied())
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(7));
        assert!(!dir.join("never").exists());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
