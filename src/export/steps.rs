//! The step runner an export puts in place of a job's commands when the job has `step`
//! blocks or a `shell` (language v2 §4): one POSIX script that keeps cdl's step rules in
//! one shell session of the target — steps in order, `runs = always|on_failure` after a
//! failure, `allow_failure`, step timeouts, each step's shell, variables and secrets, and the
//! values steps pass on through `$CDL_ENV` and `$CDL_PATH` — with retries and the job's
//! timeout as `cdl run` has them. Like `shell.rs`, the script is fixed text: the steps reach
//! it through environment variables, and only identifiers are ever written into it.

use indexmap::IndexMap;

use super::Lossy;
use super::condition::shell;
use crate::model::steps::is_variable_name;
use crate::plan::Job;

/// Runs the steps `CDL_STEP_1` … `CDL_STEP_<CDL_STEP_COUNT>` by their rules, up to
/// `CDL_ATTEMPTS` times, each attempt within `CDL_TIMEOUT` seconds when it is set.
pub const STEP_RUNNER: &str = r#"cdl_pass_values() {
  cr=$(printf '\r')
  while IFS= read -r line || [ -n "$line" ]; do
    line=${line%"$cr"}
    if [ -z "$line" ]; then continue; fi
    key=${line%%=*}
    case $line in
      *=*) ;;
      *) echo "cdl: a line of \$CDL_VALUES is not NAME=VALUE" >&2; return 1 ;;
    esac
    case $key in
      ''|[0-9]*|*[!A-Za-z0-9_]*) echo "cdl: a line of \$CDL_VALUES is not NAME=VALUE" >&2; return 1 ;;
    esac
    case " ${CDL_OUT_NAMES:-} " in
      *" $key "*) ;;
      *) echo "cdl: the job wrote the value \`$key\` to \$CDL_VALUES, which it does not declare (its values: ${CDL_OUT_NAMES:-none})" >&2; return 1 ;;
    esac
  done < "$1"
  if [ "${CDL_OUT_TARGET:-}" = gitlab ]; then : > "$CDL_OUT_FILE"; fi
  for name in ${CDL_OUT_NAMES:-}; do
    value=$(sed -n "s/^$name=//p" "$1" | tail -n 1)
    value=${value%"$cr"}
    case ${CDL_OUT_TARGET:-} in
      github)
        delimiter="cdl_$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
        printf '%s<<%s\n%s\n%s\n' "$name" "$delimiter" "$value" "$delimiter" >> "$GITHUB_OUTPUT" ;;
      gitlab)
        printf '%s%s=o%s\n' "$CDL_OUT_PREFIX" "$(printf '%s' "$name" | tr 'a-z' 'A-Z')" "$(printf '%s' "$value" | od -An -v -to1 | tr -d ' \n')" >> "$CDL_OUT_FILE"
        if [ "$(wc -c < "$CDL_OUT_FILE")" -ge 5120 ]; then
          echo "cdl: the job's values take more than GitLab's limit of 5 KB in its dotenv report (each byte is written as 3 digits)" >&2
          return 1
        fi ;;
      buildkite)
        buildkite-agent meta-data set "$CDL_OUT_PREFIX$name" "v$value" ;;
      files)
        mkdir -p "$CDL_OUT_FILE"
        printf '%s' "$value" > "$CDL_OUT_FILE/$name" ;;
    esac
  done
}
cdl_files=$(mktemp -d)
attempt=1
while :; do
  status=0
  : > "$cdl_files/env"
  : > "$cdl_files/path"
  : > "$cdl_files/values"
  deadline=
  if [ -n "${CDL_TIMEOUT:-}" ]; then deadline=$(( $(date +%s) + CDL_TIMEOUT )); fi
  step=1
  while [ "$step" -le "$CDL_STEP_COUNT" ]; do
    name=$(printenv "CDL_STEP_${step}_NAME" || true)
    when=$(printenv "CDL_STEP_${step}_WHEN" || true)
    if [ -n "$when" ] && ! eval "$when"; then
      echo "cdl: step $name: skipped (its condition is false)"
      step=$((step + 1))
      continue
    fi
    runs=$(printenv "CDL_STEP_${step}_RUNS" || true)
    case "${runs:-on_success}:$status" in
      always:*|on_success:0|on_failure:[1-9]*) ;;
      *)
        echo "cdl: step $name: skipped"
        step=$((step + 1))
        continue ;;
    esac
    limit=$(printenv "CDL_STEP_${step}_TIMEOUT" || true)
    bound=
    if [ -n "$deadline" ]; then
      left=$((deadline - $(date +%s)))
      if [ "$left" -le 0 ]; then status=124; echo "cdl: the job timed out after ${CDL_TIMEOUT}s"; break; fi
      if [ -z "$limit" ] || [ "$left" -lt "$limit" ]; then limit=$left; bound=job; fi
    fi
    if [ -n "$limit" ] && ! command -v timeout >/dev/null; then
      echo "cdl: no timeout command (coreutils or BusyBox) here, which enforces the step's timeout" >&2
      exit 127
    fi
    echo "cdl: step $name"
    code=0
    (
      while IFS= read -r line || [ -n "$line" ]; do
        case $line in
          '') ;;
          [A-Za-z_]*=*)
            key=${line%%=*}
            case $key in
              *[!A-Za-z0-9_]*) echo "cdl: a line of \$CDL_ENV is not NAME=VALUE and was ignored" >&2 ;;
              *) export "$key=${line#*=}" ;;
            esac ;;
          *) echo "cdl: a line of \$CDL_ENV is not NAME=VALUE and was ignored" >&2 ;;
        esac
      done < "$cdl_files/env"
      while IFS= read -r folder || [ -n "$folder" ]; do
        if [ -n "$folder" ]; then PATH="$folder:$PATH"; fi
      done < "$cdl_files/path"
      export PATH
      for key in $(printenv "CDL_STEP_${step}_UNSET" || true); do unset "$key"; done
      for key in $(printenv "CDL_STEP_${step}_ENV" || true); do
        eval "export $key=\"\$CDL_STEP_${step}_ENV_$key\""
      done
      export CDL_ENV="$cdl_files/env" CDL_PATH="$cdl_files/path" CDL_VALUES="$cdl_files/values"
      script=$(printenv "CDL_STEP_$step")
      case $(printenv "CDL_STEP_${step}_SHELL" || true) in
        bash) set -- bash --noprofile --norc -eo pipefail -c "$script" ;;
        pwsh) set -- pwsh -NoProfile -Command "\$ErrorActionPreference = 'Stop'
$script" ;;
        *) set -- sh -e -c "$script" ;;
      esac
      if [ -n "$limit" ]; then exec timeout "$limit" "$@"; fi
      exec "$@"
    ) || code=$?
    if [ "$code" -ne 0 ]; then
      if [ "$code" -eq 124 ] && [ "$bound" = job ]; then
        status=124
        echo "cdl: the job timed out after ${CDL_TIMEOUT}s"
        break
      fi
      if [ "$code" -eq 124 ] && [ -n "$limit" ]; then echo "cdl: the step $name timed out after ${limit}s"; fi
      if [ "$(printenv "CDL_STEP_${step}_ALLOW" || true)" = true ]; then
        echo "cdl: step $name failed with exit status $code; its failure is allowed"
      else
        echo "cdl: step $name failed with exit status $code"
        if [ "$status" -eq 0 ]; then status=$code; fi
      fi
    fi
    step=$((step + 1))
  done
  if [ "$status" -eq 0 ]; then
    if cdl_pass_values "$cdl_files/values"; then break; fi
    rm -rf "$cdl_files"
    exit 1
  fi
  if [ "$attempt" -ge "${CDL_ATTEMPTS:-1}" ]; then rm -rf "$cdl_files"; exit "$status"; fi
  echo "cdl: attempt $attempt of $CDL_ATTEMPTS failed with exit status $status; running the steps again"
  attempt=$((attempt + 1))
done
rm -rf "$cdl_files"
"#;

/// Where [`STEP_COMPUTE`] goes in [`STEP_RUNNER`]: first thing in a step's subshell, before
/// the values of `$CDL_ENV`, so that a value reads the job's variables as `cdl run` does.
const COMPUTE_AT: &str =
    "      while IFS= read -r line || [ -n \"$line\" ]; do\n        case $line in\n";

/// Where [`STEP_EXPORT`] goes in [`STEP_RUNNER`]: after the step's own variables, which the
/// composed ones follow (a step's variable of either kind wins over the job's).
const EXPORT_AT: &str = "      export CDL_ENV=\"$cdl_files/env\"";

/// Computes the step's composed variables (v2 §2) from their parts: the names are
/// `CDL_STEP_<N>_COMPOSED`, and for each `NAME`, `CDL_STEP_<N>_COMPOSE_<NAME>_N` counts its
/// parts, `…_<I>` holds a literal part and `…_<I>_FROM` names the variable a reference reads
/// (the job-level layout of `value::COMPOSE`, under the step's prefix). Kept in
/// `cdl_composed_<NAME>` until [`STEP_EXPORT`].
const STEP_COMPUTE: &str = r#"      cdl_composed=$(printenv "CDL_STEP_${step}_COMPOSED" || true)
      for cdl_name in $cdl_composed; do
        cdl_value=
        cdl_part=1
        eval "cdl_parts=\${CDL_STEP_${step}_COMPOSE_${cdl_name}_N:-0}"
        while [ "$cdl_part" -le "$cdl_parts" ]; do
          eval "cdl_from=\${CDL_STEP_${step}_COMPOSE_${cdl_name}_${cdl_part}_FROM:-}"
          if [ -n "$cdl_from" ]; then
            eval "cdl_value=\$cdl_value\${$cdl_from:-}"
          else
            eval "cdl_value=\$cdl_value\${CDL_STEP_${step}_COMPOSE_${cdl_name}_${cdl_part}:-}"
          fi
          cdl_part=$((cdl_part + 1))
        done
        eval "cdl_composed_$cdl_name=\$cdl_value"
      done
"#;

/// Exports what [`STEP_COMPUTE`] computed.
const STEP_EXPORT: &str = r#"      for cdl_name in $cdl_composed; do
        eval "export $cdl_name=\"\$cdl_composed_$cdl_name\""
      done
"#;

/// The step runner for `job`: [`STEP_RUNNER`], with the computation of its steps' composed
/// variables when one of them has some (fixed text either way).
pub fn runner(job: &Job) -> std::borrow::Cow<'static, str> {
    if job.all_steps().iter().all(|s| s.env_values.is_empty()) {
        return std::borrow::Cow::Borrowed(STEP_RUNNER);
    }
    let runner = STEP_RUNNER
        .replacen(COMPUTE_AT, &format!("{STEP_COMPUTE}{COMPUTE_AT}"), 1)
        .replacen(EXPORT_AT, &format!("{STEP_EXPORT}{EXPORT_AT}"), 1);
    std::borrow::Cow::Owned(runner)
}

/// The variables that drive [`STEP_RUNNER`] for `job` (without `CDL_TIMEOUT`, which the
/// exporter sets when it lets the runner enforce the job's timeout), and what the export
/// cannot keep.
pub fn runner_env(job: &Job) -> (IndexMap<String, String>, Vec<Lossy>) {
    // v2 i14e: a step with native forms only has no script for the runner (W0200).
    let (steps, mut lossy) = super::native::portable(job);
    let (env, more) = runner_env_for(job, &steps);
    lossy.extend(more);
    (env, lossy)
}

/// [`runner_env`] for some of the job's steps (v2 i14e: a segment between native steps).
pub fn runner_env_for(
    job: &Job,
    steps: &[crate::plan::Step],
) -> (IndexMap<String, String>, Vec<Lossy>) {
    let mut env = IndexMap::new();
    let mut lossy = Vec::new();
    env.insert("CDL_ATTEMPTS".into(), (job.retries + 1).to_string());
    env.insert("CDL_STEP_COUNT".into(), steps.len().to_string());
    if !job.values.is_empty() {
        // v2 i13i: the names the job may write to `$CDL_VALUES` (see export/values.rs).
        env.insert("CDL_OUT_NAMES".into(), job.values.join(" "));
    }
    let all = job.all_steps();
    let taken: Vec<&String> = all.iter().flat_map(|s| &s.secrets).collect();
    for (i, step) in steps.iter().enumerate() {
        let key = format!("CDL_STEP_{}", i + 1);
        env.insert(key.clone(), step.run.clone());
        env.insert(
            format!("{key}_NAME"),
            step.display_name
                .clone()
                .unwrap_or_else(|| step.name.clone()),
        );
        let shell = job.export_shell(step);
        if shell != crate::plan::Shell::Sh {
            env.insert(format!("{key}_SHELL"), shell.as_str().into());
        }
        if !step.runs.is_default() {
            env.insert(format!("{key}_RUNS"), step.runs.as_str().into());
        }
        if step.allow_failure {
            env.insert(format!("{key}_ALLOW"), "true".into());
        }
        // v2 i13l: the step's condition, a shell test whose strings are variables.
        if let Some(condition) = &step.when {
            env.extend(when_env(&key, condition));
        }
        if let Some(seconds) = step.timeout_seconds {
            env.insert(format!("{key}_TIMEOUT"), seconds.to_string());
        }
        let unset: Vec<&str> = taken
            .iter()
            .filter(|s| !step.secrets.contains(s) && is_variable_name(s))
            .map(|s| s.as_str())
            .collect();
        if !unset.is_empty() {
            env.insert(format!("{key}_UNSET"), unset.join(" "));
        }
        let mut names = Vec::new();
        for (name, value) in &step.env {
            if is_variable_name(name) {
                env.insert(format!("{key}_ENV_{name}"), value.clone());
                names.push(name.as_str());
            } else {
                lossy.push(Lossy::at(
                    job,
                    format!(
                        "the variable `{name}` of the step `{}` is not a name a shell can export",
                        step.name
                    ),
                    "the step runs without it",
                ));
            }
        }
        if !names.is_empty() {
            env.insert(format!("{key}_ENV"), names.join(" "));
        }
        // v2 §2: the step's composed variables, computed by `runner(job)`.
        let (data, unreadable) = super::value::parts_env(
            &step.env_values,
            &format!("{key}_COMPOSE_"),
            &format!("{key}_COMPOSED"),
        );
        for name in unreadable {
            lossy.push(Lossy::at(
                job,
                format!(
                    "the composed variable `{name}` of the step `{}` is not a name a shell can export, or reads one",
                    step.name
                ),
                "the step runs without it",
            ));
        }
        env.extend(data);
    }
    (env, lossy)
}

/// v2 i13l: the variables of a step's condition: `<key>_WHEN`, the test the runner `eval`s
/// (fixed syntax and identifiers only: the renderer of `condition::shell`, and for each
/// `defined(secret.NAME)` an assignment from the job's variable `NAME`), and `<key>_WHEN_<N>`,
/// the strings it compares with.
pub fn when_env(key: &str, condition: &crate::plan::Condition) -> Vec<(String, String)> {
    let mut values = IndexMap::new();
    let test = shell::test_named(condition, &mut values, &format!("{key}_WHEN_"));
    let mut secrets = Vec::new();
    secrets_in(condition, &mut secrets);
    let mut text = String::new();
    for secret in secrets.iter().filter(|s| is_variable_name(s)) {
        text.push_str(&format!(
            "{}=${{{secret}:+set}}; ",
            shell::defined_secret_variable(secret)
        ));
    }
    text.push_str(&test);
    let mut env = vec![(format!("{key}_WHEN"), text)];
    // An empty string is left unset: `"$X"` reads the same, and some systems drop empty ones.
    env.extend(
        values
            .into_iter()
            .filter(|(text, _)| !text.is_empty())
            .map(|(text, name)| (name, text)),
    );
    env
}

fn secrets_in(condition: &crate::plan::Condition, out: &mut Vec<String>) {
    use crate::plan::{Condition, Variable};
    match condition {
        Condition::Compare {
            variable: Variable::Secret(name),
            ..
        } if !out.contains(name) => out.push(name.clone()),
        Condition::And(items) | Condition::Or(items) => {
            items.iter().for_each(|c| secrets_in(c, out))
        }
        Condition::Not(inner) => secrets_in(inner, out),
        _ => {}
    }
}

/// The W0200 of a job's display name on a target that names jobs by their key only.
pub fn display_name_lost(job: &Job, target: &str) -> Option<Lossy> {
    let name = job.display_name.as_ref()?;
    Some(Lossy::at(
        job,
        format!("{target} names a job by its key: the display name \"{name}\" is not shown"),
        format!("the job is shown as `{}`", job.id),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::steps::{Runs, Step};
    use crate::run::supervisor::Ending;

    fn job(steps: Vec<Step>) -> Job {
        let mut job: Job = serde_json::from_value(serde_json::json!({
            "id": "j", "name": "j", "type": "job", "stage": "s", "needs": [],
            "need_reasons": [], "steps": [], "env": {}, "secrets": [], "timeout_seconds": null,
            "timeout_from": null, "retries": 0, "allow_failure": false, "condition": null,
            "environment": null, "artifact": null, "inputs": [], "outputs": [], "kind": null,
            "approvers": [], "required": null, "message": null, "matrix": {}, "image": null,
            "runner": null, "doc": null,
            "span": {"file": "a.cdl", "start": 0, "end": 0, "line": 1, "column": 1}
        }))
        .unwrap();
        job.step_blocks = steps;
        job
    }

    fn step(name: &str, run: &str) -> Step {
        Step {
            name: name.into(),
            display_name: None,
            run: run.into(),
            shell: None,
            env: IndexMap::new(),
            secrets: Vec::new(),
            timeout_seconds: None,
            allow_failure: false,
            runs: Runs::OnSuccess,
            when: None,
            native: Default::default(),
            env_values: IndexMap::new(),
        }
    }

    /// Runs the step runner with `sh` in a fresh folder; returns its exit status and the
    /// folder.
    fn run_runner(job: &Job, extra: &[(&str, &str)]) -> (i32, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let (env, lossy) = runner_env(job);
        assert!(lossy.is_empty());
        let status = std::process::Command::new("sh")
            .arg("-c")
            .arg(runner(job).as_ref())
            .current_dir(dir.path())
            .envs(env)
            .envs(extra.iter().copied())
            .stdout(std::process::Stdio::null())
            .status()
            .unwrap();
        (status.code().unwrap_or(-1), dir)
    }

    /// The export's step runner and `cdl run`'s step loop agree on which steps run and how
    /// the job ends, over a spread of rules, allowed failures and outcomes.
    #[test]
    fn the_step_runner_follows_cdl_runs_rules() {
        let rules = [Runs::OnSuccess, Runs::OnFailure, Runs::Always];
        for code in (0..12u32.pow(3)).step_by(41) {
            let mut steps = Vec::new();
            let mut fails = Vec::new();
            let mut rest = code;
            for i in 0..3 {
                let n = rest % 12;
                rest /= 12;
                let exit = if n / 6 == 1 { 3 + i } else { 0 };
                let mut s = step(
                    &format!("s{i}"),
                    &format!("echo s{i} >> ran.txt; exit {exit}"),
                );
                s.runs = rules[(n % 3) as usize];
                s.allow_failure = n / 3 % 2 == 1;
                steps.push(s);
                fails.push(exit);
            }
            let job = job(steps);
            let (status, dir) = run_runner(&job, &[]);
            let ran = std::fs::read_to_string(dir.path().join("ran.txt")).unwrap_or_default();

            let specs = crate::run::steps::specs(&job);
            let mut expected = String::new();
            struct Quiet;
            impl crate::run::steps::Sink for Quiet {
                fn header(&mut self, _: &str) {}
            }
            let ending =
                crate::run::steps::run_all(&specs, None, &|| false, &mut Quiet, &mut |s, _, _| {
                    let i: usize = s.name[1..].parse().unwrap();
                    expected.push_str(&format!("{}\n", s.name));
                    Ending::Exited { code: fails[i] }
                });
            assert_eq!(ran, expected, "{:?}", job.step_blocks);
            let expected_status = match ending {
                Ending::Exited { code } => code,
                other => panic!("{other:?}"),
            };
            assert_eq!(status, expected_status, "{:?}", job.step_blocks);
        }
    }

    #[test]
    fn the_step_runner_passes_values_and_keeps_each_steps_env_and_secrets() {
        let mut first = step(
            "first",
            "mkdir bin && printf '#!/bin/sh\\necho tool\\n' > bin/tool && chmod +x bin/tool && echo \"$PWD/bin\" >> \"$CDL_PATH\" && echo 'PASSED=a b=c' >> \"$CDL_ENV\" && echo 'WHO=file' >> \"$CDL_ENV\"",
        );
        first.env.insert("UNUSED".into(), "x".into());
        let second = step(
            "second",
            "tool > seen.txt; echo \"$PASSED|$WHO|${TOKEN:-none}\" >> seen.txt",
        );
        let mut third = step("third", "echo \"$WHO|$TOKEN|$QUOTED\" >> seen.txt");
        third.env.insert("WHO".into(), "step".into());
        third
            .env
            .insert("QUOTED".into(), "it's \"$HOME\" `x` \\ $(y)\n".into());
        third.secrets = vec!["TOKEN".into()];
        let job = job(vec![first, second, third]);
        let (status, dir) = run_runner(&job, &[("TOKEN", "tok"), ("WHO", "job")]);
        assert_eq!(status, 0);
        assert_eq!(
            std::fs::read_to_string(dir.path().join("seen.txt")).unwrap(),
            "tool\na b=c|file|none\nstep|tok|it's \"$HOME\" `x` \\ $(y)\n\n"
        );
    }

    /// v2 §2: a step's composed variables, computed by the runner from the job's variables
    /// (not from what an earlier step wrote to `$CDL_ENV`), equal what `cdl run` computes, and
    /// win over the job's variables and `$CDL_ENV`'s; literal parts stay literal.
    #[test]
    fn the_step_runner_computes_a_steps_composed_values_as_cdl_run_does() {
        use crate::model::value::{Part, Reference};
        let first = step(
            "first",
            "echo 'CDL_TAG=changed' >> \"$CDL_ENV\"; echo 'ARCHIVE=file' >> \"$CDL_ENV\"",
        );
        let mut second = step(
            "second",
            "printf '%s|%s|%s\\n' \"$ARCHIVE\" \"$KEY\" \"$PLAIN\" > seen.txt",
        );
        let archive = vec![
            Part::Text("app-'$HOME' `x`-".into()),
            Part::Ref(Reference::Tag),
            Part::Text("-".into()),
            Part::Ref(Reference::Sha),
        ];
        let key = vec![
            Part::Text("k:".into()),
            Part::Ref(Reference::Secret("TOKEN".into())),
        ];
        second.env_values.insert("ARCHIVE".into(), archive.clone());
        second.env_values.insert("KEY".into(), key.clone());
        second.env.insert("PLAIN".into(), "p".into());
        second.secrets = vec!["TOKEN".into()];
        let job = job(vec![first, second]);
        assert!(runner(&job).contains("cdl_composed"));
        let context = [
            ("CDL_TAG", "v1.2.3"),
            ("CDL_SHA", "abc"),
            ("TOKEN", "t0k"),
            ("ARCHIVE", "job"),
        ];
        let (status, dir) = run_runner(&job, &context);
        assert_eq!(status, 0);
        let lookup = |name: &str| {
            context
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        };
        let expected = format!(
            "{}|{}|p\n",
            crate::model::value::compute(&archive, lookup),
            crate::model::value::compute(&key, lookup)
        );
        assert_eq!(expected, "app-'$HOME' `x`-v1.2.3-abc|k:t0k|p\n");
        assert_eq!(
            std::fs::read_to_string(dir.path().join("seen.txt")).unwrap(),
            expected
        );
    }

    /// The runner without composed step values is the fixed [`STEP_RUNNER`]; the places the
    /// computation goes in are in it once each.
    #[test]
    fn the_composed_runner_is_the_runner_with_the_computation() {
        assert_eq!(STEP_RUNNER.matches(COMPUTE_AT).count(), 1);
        assert_eq!(STEP_RUNNER.matches(EXPORT_AT).count(), 1);
        let plain = job(vec![step("a", "true")]);
        assert_eq!(runner(&plain), STEP_RUNNER);
    }

    /// v2 i13l: the oracle's conditions as step conditions, on the oracle's runs: whether a
    /// step runs in the export's step runner (its shell test) equals whether it runs under
    /// `cdl run` (`Condition::evaluate`), after a failure too. Each run takes a slice of the
    /// conditions, so every condition meets several kinds of run.
    #[test]
    fn a_steps_condition_decides_the_same_in_the_step_runner_as_in_cdl_run() {
        use crate::export::oracle;
        // `changed()` is a job's test only (E0338): a step's condition never holds one.
        let conditions: Vec<_> = oracle::conditions()
            .into_iter()
            .filter(|c| !format!("{c:?}").contains("Changed"))
            .collect();
        let runs = oracle::runs();
        const PER_RUN: usize = 10;
        for (r, run) in runs.iter().enumerate() {
            let failing = r % 3 == 1;
            let mut steps = vec![step("first", if failing { "exit 5" } else { "true" })];
            for k in 0..PER_RUN {
                let index = (r * PER_RUN + k) % conditions.len();
                let mut s = step(&format!("c{index}"), &format!("echo c{index} >> ran.txt"));
                s.when = Some(conditions[index].clone());
                s.runs = [Runs::OnSuccess, Runs::Always, Runs::OnFailure][k % 3];
                steps.push(s);
            }
            let mut job = job(steps);
            job.secrets = vec!["TOKEN".into()];
            let token = if run.secrets.contains("TOKEN") {
                "tok"
            } else {
                ""
            };
            let mut extra: Vec<(String, String)> = vec![
                ("CDL_EVENT".into(), run.event.clone()),
                ("CDL_BRANCH".into(), run.branch.clone().unwrap_or_default()),
                ("CDL_TAG".into(), run.tag.clone().unwrap_or_default()),
                ("CDL_REPOSITORY".into(), run.repository.clone()),
                ("CDL_DEFAULT_BRANCH".into(), run.default_branch.clone()),
                ("TOKEN".into(), token.into()),
            ];
            for (name, value) in &run.inputs {
                extra.push((crate::model::inputs::input_variable(name), value.clone()));
            }
            extra.extend(run.vars.iter().map(|(k, v)| (k.clone(), v.clone())));
            let borrowed: Vec<(&str, &str)> = extra
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            let (status, dir) = run_runner_without(&job, &borrowed, &["FLAG"]);
            let ran = std::fs::read_to_string(dir.path().join("ran.txt")).unwrap_or_default();

            let specs = crate::run::steps::specs_in(&job, run);
            let mut expected = String::new();
            struct Quiet;
            impl crate::run::steps::Sink for Quiet {
                fn header(&mut self, _: &str) {}
            }
            let ending =
                crate::run::steps::run_all(&specs, None, &|| false, &mut Quiet, &mut |s, _, _| {
                    if s.name == "first" {
                        return Ending::Exited {
                            code: if failing { 5 } else { 0 },
                        };
                    }
                    expected.push_str(&format!("{}\n", s.name));
                    Ending::Exited { code: 0 }
                });
            assert_eq!(ran, expected, "run {run:?}");
            assert_eq!(
                status,
                match ending {
                    Ending::Exited { code } => code,
                    other => panic!("{other:?}"),
                }
            );
        }
    }

    /// [`run_runner`] without the variables `remove` in the environment.
    fn run_runner_without(
        job: &Job,
        extra: &[(&str, &str)],
        remove: &[&str],
    ) -> (i32, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let (env, lossy) = runner_env(job);
        assert!(lossy.is_empty());
        let mut command = std::process::Command::new("sh");
        command.arg("-c").arg(STEP_RUNNER).current_dir(dir.path());
        for name in remove {
            command.env_remove(name);
        }
        let status = command
            .envs(env)
            .envs(extra.iter().copied())
            .stdout(std::process::Stdio::null())
            .status()
            .unwrap();
        (status.code().unwrap_or(-1), dir)
    }

    #[test]
    fn a_steps_timeout_is_a_failure_after_which_always_steps_run() {
        let mut slow = step("slow", "sleep 20");
        slow.timeout_seconds = Some(1);
        let mut cleanup = step("cleanup", "touch cleaned");
        cleanup.runs = Runs::Always;
        let job = job(vec![slow, cleanup]);
        let (status, dir) = run_runner(&job, &[]);
        assert_eq!(status, 124);
        assert!(dir.path().join("cleaned").exists());
    }

    /// v2 i14e: what a runner part writes to `$CDL_ENV`/`$CDL_PATH` reaches the target's own
    /// files (GitHub's `$GITHUB_ENV`/`$GITHUB_PATH`, CircleCI's `$BASH_ENV`) exactly, hostile
    /// text included; a part starts from the earlier parts' status and shares `$CDL_VALUES`.
    #[test]
    fn a_runner_part_carries_values_to_the_next_part() {
        let hostile = "it's \"x\" $y `z` \\ $(id) << a >> ${{ b }}";
        let mut write = step(
            "write",
            "printf 'A=%s\\nbad line\\nB=1=2\\n' \"$HOSTILE\" >> \"$CDL_ENV\"; printf '/opt/a b\\n/opt/it'\\''s\\n' >> \"$CDL_PATH\"; echo v=1 >> \"$CDL_VALUES\"",
        );
        write.env.insert("HOSTILE".into(), hostile.into());
        let dir = tempfile::tempdir().unwrap();
        let at = |f: &str| dir.path().join(f).display().to_string();
        use crate::export::native::{Carry, part_steps};
        for (carry, file) in [(Carry::Github, "GITHUB_ENV"), (Carry::Circleci, "BASH_ENV")] {
            std::fs::write(at(file), "").unwrap();
            let mut job = job(part_steps(std::slice::from_ref(&write), carry));
            job.values = vec!["v".into()];
            let (env, _) = runner_env(&job);
            let status = std::process::Command::new("sh")
                .arg("-c")
                .arg(STEP_RUNNER)
                .current_dir(dir.path())
                .envs(env)
                .envs([
                    ("GITHUB_ENV", &at("GITHUB_ENV")),
                    ("GITHUB_PATH", &at("GITHUB_PATH")),
                    ("BASH_ENV", &at("BASH_ENV")),
                    ("CDL_VALUES_AT", &at("values")),
                ])
                .output()
                .unwrap();
            assert!(
                status.status.success(),
                "{carry:?}: {}",
                String::from_utf8_lossy(&status.stderr)
            );
        }
        assert_eq!(
            std::fs::read_to_string(at("GITHUB_ENV")).unwrap(),
            format!("A={hostile}\nB=1=2\n")
        );
        assert_eq!(
            std::fs::read_to_string(at("GITHUB_PATH")).unwrap(),
            "/opt/a b\n/opt/it's\n"
        );
        let sourced = std::process::Command::new("sh")
            .arg("-c")
            .arg(". \"$BASH_ENV\"; printf '%s|%s|%s' \"$A\" \"$B\" \"$PATH\"")
            .env("BASH_ENV", at("BASH_ENV"))
            .env("PATH", "/bin")
            .output()
            .unwrap();
        assert_eq!(
            String::from_utf8_lossy(&sourced.stdout),
            format!("{hostile}|1=2|/opt/it's:/opt/a b:/bin")
        );
        // Both parts appended to the one values file.
        assert_eq!(std::fs::read_to_string(at("values")).unwrap(), "v=1\nv=1\n");

        // A part that starts after a failure runs only its `always` steps, and fails.
        let mut always = step("always", "touch always");
        always.runs = Runs::Always;
        let job = job_with(part_steps(
            &[step("later", "touch later"), always],
            Carry::Github,
        ));
        let (status, dir) = run_runner(
            &job,
            &[
                ("CDL_PRIOR_STATUS", "1"),
                ("GITHUB_ENV", "/dev/null"),
                ("GITHUB_PATH", "/dev/null"),
            ],
        );
        assert_eq!(status, 1);
        assert!(dir.path().join("always").exists());
        assert!(!dir.path().join("later").exists());
    }

    fn job_with(steps: Vec<Step>) -> Job {
        job(steps)
    }
}
