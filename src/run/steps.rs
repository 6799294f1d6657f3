//! A job's steps under its supervisor (language v2 §4): which step runs after which ending,
//! and the values steps pass on through `$CDL_ENV` and `$CDL_PATH`. Kept apart from how a
//! supervisor is started so that the loop is one small function.
//!
//! Rules: steps run in order; once one failed (a non-zero exit, a signal, its own timeout, a
//! command that could not start), only `runs = always` and `runs = on_failure` steps run,
//! and the first failure is the job's. A step with `allow_failure` never counts as failed.
//! A person's cancel stops every step; the job's own timeout ends the job.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::supervisor::Ending;
use crate::model::steps::{self, Runs, Shell};
use crate::plan::Job;

/// One step as a supervisor runs it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepSpec {
    pub name: String,
    /// The display name, or the name.
    pub title: String,
    /// The script as written (shown in the log, masked).
    pub script: String,
    /// The whole command line: shell, arguments, script.
    pub argv: Vec<String>,
    /// The step's own variables, over the job's.
    pub env: Vec<(String, String)>,
    /// The job's variables this step must not see (secrets other steps took for themselves).
    pub remove_env: Vec<String>,
    pub timeout_ms: Option<u64>,
    pub allow_failure: bool,
    pub runs: Runs,
    // v2 i13l: step conditions
    /// The step's `when` is false in this run: it is skipped, whatever the earlier steps did.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub condition_false: bool,
    // v2 i14e: a step with native forms and no `run`
    /// Why the step is skipped whatever happened before it (absent: it runs by `runs`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skip: Option<String>,
}

/// Why `cdl run` skips a step with native forms only (v2 i14e).
pub const NO_FALLBACK: &str = "no `run` for cdl run: the step has only native forms";

impl StepSpec {
    /// A `run` entry of a plan without step specs: `sh -e -c SCRIPT`.
    pub fn sh(script: &str) -> StepSpec {
        StepSpec {
            name: "run".into(),
            title: "run".into(),
            script: script.into(),
            argv: Shell::Sh.argv(script),
            env: Vec::new(),
            remove_env: Vec::new(),
            timeout_ms: None,
            allow_failure: false,
            runs: Runs::OnSuccess,
            condition_false: false,
            skip: None,
        }
    }
}

/// The steps of `job` for its supervisor.
pub fn specs(job: &Job) -> Vec<StepSpec> {
    let all = job.all_steps();
    let taken: Vec<&String> = all.iter().flat_map(|s| &s.secrets).collect();
    all.iter()
        .map(|step| {
            let shell: Shell = job.step_shell(step);
            StepSpec {
                name: step.name.clone(),
                title: step
                    .display_name
                    .clone()
                    .unwrap_or_else(|| step.name.clone()),
                script: step.run.clone(),
                argv: shell.argv(&step.run),
                env: step
                    .env
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
                remove_env: taken
                    .iter()
                    .filter(|s| !step.secrets.contains(s))
                    .map(|s| s.to_string())
                    .collect(),
                timeout_ms: step.timeout_seconds.map(|s| s * 1000),
                allow_failure: step.allow_failure,
                runs: step.runs,
                condition_false: false,
                skip: step.fallback().is_none().then(|| NO_FALLBACK.to_string()),
            }
        })
        .collect()
}

/// v2 i13l: the steps of `job` for a run in `context`: [`specs`], each step whose `when`
/// is false there marked to be skipped.
pub fn specs_in(job: &Job, context: &crate::plan::RunContext) -> Vec<StepSpec> {
    let mut specs = specs(job);
    for (spec, step) in specs.iter_mut().zip(job.all_steps()) {
        spec.condition_false = step.when.as_ref().is_some_and(|c| !c.evaluate(context));
    }
    specs
}

/// The files steps write values to: `$CDL_ENV`, `$CDL_PATH` and `$CDL_VALUES`, one set per
/// attempt.
///
/// Where the system has them `$CDL_ENV` and `$CDL_PATH` are in memory (`memfd_create`), held
/// open by the attempt's supervisor and named `/proc/<supervisor>/fd/<N>` for its steps: nothing
/// is created on disk per attempt for them (creating files was the largest cost of 1,000 no-op
/// jobs, see docs/run.md "Benchmarks"), and what steps write there — perhaps secrets — never
/// reaches the disk and goes with the supervisor. Else they are files under the run folder.
/// `$CDL_VALUES` is in memory too, and copied to a file under the run folder when the steps
/// wrote to it, before the attempt's result (the run reads it after the job, even when the
/// supervisor finished while `cdl` was away).
#[derive(Debug, Clone)]
pub struct Files {
    pub env: PathBuf,
    pub path: PathBuf,
    /// The in-memory files, open for as long as the attempt runs.
    _held: std::sync::Arc<Vec<std::os::fd::OwnedFd>>,
    /// `$CDL_VALUES`: the job's values for later jobs, read by the run once the job succeeded.
    pub values: PathBuf,
    /// Where the run reads `$CDL_VALUES` (the same file unless `values` is in memory).
    values_on_disk: PathBuf,
}

impl Files {
    /// The attempt's (empty) files: in memory, else created under `dir`.
    pub fn create(dir: &Path) -> std::io::Result<Files> {
        if let Some(files) = Files::in_memory(dir) {
            return Ok(files);
        }
        std::fs::create_dir_all(dir)?;
        let files = Files {
            env: dir.join("env"),
            path: dir.join("path"),
            _held: Default::default(),
            values: values_file(dir),
            values_on_disk: values_file(dir),
        };
        std::fs::write(&files.env, "")?;
        std::fs::write(&files.path, "")?;
        std::fs::write(&files.values, "")?;
        Ok(files)
    }

    /// Makes what the steps wrote to `$CDL_VALUES` readable by the run under `dir` (see
    /// [`values_file`]) before the attempt's result is written: an in-memory file is copied
    /// there (flushed) when the steps wrote anything, else nothing is created.
    pub fn persist_values(&self) -> std::io::Result<()> {
        if self.values == self.values_on_disk {
            return Ok(());
        }
        let bytes = std::fs::read(&self.values)?;
        if bytes.is_empty() {
            return Ok(());
        }
        if let Some(dir) = self.values_on_disk.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let mut file = std::fs::File::create(&self.values_on_disk)?;
        std::io::Write::write_all(&mut file, &bytes)?;
        file.sync_data()
    }

    /// The in-memory files, if this system has them and its `/proc` lets them be opened by
    /// name (a `/proc` mounted with `hidepid`, or none, does not).
    #[cfg(any(target_os = "linux", target_os = "android"))]
    fn in_memory(dir: &Path) -> Option<Files> {
        use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
        let create = |name: &std::ffi::CStr| {
            // SAFETY: a valid C string; the descriptor returned is ours alone (close-on-exec:
            // the steps open it by name, so no job process inherits it by accident).
            let fd = unsafe { libc::memfd_create(name.as_ptr(), libc::MFD_CLOEXEC) };
            // SAFETY: a new descriptor, owned from here on.
            (fd >= 0).then(|| unsafe { OwnedFd::from_raw_fd(fd) })
        };
        let env = create(c"cdl-env")?;
        let path = create(c"cdl-path")?;
        let values = create(c"cdl-values")?;
        let pid = std::process::id();
        let name = |fd: &OwnedFd| PathBuf::from(format!("/proc/{pid}/fd/{}", fd.as_raw_fd()));
        let files = Files {
            env: name(&env),
            path: name(&path),
            values: name(&values),
            values_on_disk: values_file(dir),
            _held: std::sync::Arc::new(vec![env, path, values]),
        };
        std::fs::OpenOptions::new()
            .append(true)
            .open(&files.env)
            .ok()?;
        Some(files)
    }

    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    fn in_memory(_dir: &Path) -> Option<Files> {
        None
    }

    /// The variables the next step gets from what earlier steps wrote: `CDL_ENV`/`CDL_PATH`
    /// themselves, the `NAME=VALUE` lines, and `PATH` with the written folders first. `path`
    /// is the `PATH` the job would otherwise have. Bad lines are returned as messages.
    pub fn read(&self, path: &str) -> (Vec<(String, String)>, Vec<String>) {
        let mut env = vec![
            (
                steps::ENV_FILE_VARIABLE.to_string(),
                self.env.display().to_string(),
            ),
            (
                steps::PATH_FILE_VARIABLE.to_string(),
                self.path.display().to_string(),
            ),
            (
                crate::model::values::VALUES_FILE_VARIABLE.to_string(),
                self.values.display().to_string(),
            ),
        ];
        let text = std::fs::read_to_string(&self.env).unwrap_or_default();
        let (values, errors) = steps::parse_env_file(&text);
        let messages = errors
            .into_iter()
            .map(|(line, text)| {
                format!(
                    "cdl: line {line} of $CDL_ENV is not NAME=VALUE and was ignored: {}",
                    text.chars().take(80).collect::<String>()
                )
            })
            .collect();
        env.extend(values);
        let folders =
            steps::parse_path_file(&std::fs::read_to_string(&self.path).unwrap_or_default());
        if !folders.is_empty() {
            let mut joined = folders.join(":");
            if !path.is_empty() {
                joined.push(':');
                joined.push_str(path);
            }
            env.push(("PATH".into(), joined));
        }
        (env, messages)
    }
}

/// `$CDL_VALUES` of the attempt whose files are in `dir`.
pub fn values_file(dir: &Path) -> PathBuf {
    dir.join("values")
}

/// The folder of an attempt's files: `<run>/steps/<job key>.<attempt>`.
pub fn files_dir(run_dir: &Path, key: &str, attempt: u32) -> PathBuf {
    run_dir.join("steps").join(format!("{key}.{attempt}"))
}

/// What the loop tells the log.
pub trait Sink {
    fn header(&mut self, text: &str);
}

/// Runs `steps` in order by their rules; `run` runs one step until `deadline` and says how it
/// ended. Returns the job's ending.
pub fn run_all<L: Sink>(
    steps: &[StepSpec],
    deadline: Option<Instant>,
    cancelled: &dyn Fn() -> bool,
    log: &mut L,
    run: &mut dyn FnMut(&StepSpec, Option<Instant>, &mut L) -> Ending,
) -> Ending {
    let mut failure: Option<Ending> = None;
    // A job of `run` entries only keeps its log as before steps existed: no step headers.
    let named = steps.iter().any(|s| s.name != "run");
    for (number, step) in steps.iter().enumerate() {
        if number > 0 && cancelled() {
            // Stopped between steps: no later step starts, whatever its rule.
            return Ending::Cancelled;
        }
        if deadline.is_some_and(|d| Instant::now() >= d) {
            return Ending::TimedOut;
        }
        // v2 i13l: a step whose condition is false is skipped.
        if step.condition_false {
            log.header(&format!(
                "── step {}: skipped (its condition is false) ──",
                step.title
            ));
            continue;
        }
        if let Some(why) = &step.skip {
            log.header(&format!("── step {}: skipped ({why}) ──", step.title));
            continue;
        }
        if !step.runs.runs(failure.is_some()) {
            if named {
                log.header(&format!(
                    "── step {}: skipped ({}) ──",
                    step.title,
                    if failure.is_some() {
                        "an earlier step failed"
                    } else {
                        "it runs only after a failure"
                    }
                ));
            }
            continue;
        }
        if named {
            log.header(&format!("── step {} ──", step.title));
        }
        let own = step
            .timeout_ms
            .map(|ms| Instant::now() + Duration::from_millis(ms));
        let step_deadline = match (own, deadline) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let ending = run(step, step_deadline, log);
        let ending = match ending {
            Ending::Exited { code: 0 } => continue,
            Ending::Cancelled => return Ending::Cancelled,
            Ending::TimedOut if deadline.is_some_and(|d| Instant::now() >= d) => {
                return Ending::TimedOut;
            }
            Ending::TimedOut => Ending::Error {
                message: format!(
                    "the step `{}` timed out after {}",
                    step.name,
                    crate::syntax::literal::format_duration(
                        step.timeout_ms.unwrap_or(0).div_ceil(1000)
                    )
                ),
            },
            other => other,
        };
        if step.allow_failure {
            log.header(&format!(
                "── step {} failed; its failure is allowed ──",
                step.title
            ));
        } else {
            if named {
                log.header(&format!("── step {} failed ──", step.title));
            }
            failure.get_or_insert(ending);
        }
    }
    failure.unwrap_or(Ending::Exited { code: 0 })
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Lines(Vec<String>);
    impl Sink for Lines {
        fn header(&mut self, text: &str) {
            self.0.push(text.to_string());
        }
    }

    fn step(name: &str, runs: Runs, allow_failure: bool) -> StepSpec {
        StepSpec {
            name: name.into(),
            title: name.into(),
            script: name.into(),
            argv: vec![],
            env: vec![],
            remove_env: vec![],
            timeout_ms: None,
            allow_failure,
            runs,
            condition_false: false,
            skip: None,
        }
    }

    /// Runs the loop with each step ending as `outcome` says; returns the job's ending and
    /// the steps that ran.
    fn simulate(steps: &[StepSpec], outcome: &dyn Fn(&str) -> Ending) -> (Ending, Vec<String>) {
        let mut ran = Vec::new();
        let mut log = Lines(Vec::new());
        let ending = run_all(steps, None, &|| false, &mut log, &mut |s, _, _| {
            ran.push(s.name.clone());
            outcome(&s.name)
        });
        (ending, ran)
    }

    /// A model of the rules, written differently: the job's ending is the first failure
    /// among steps that run; a step runs when its rule accepts "some earlier counted step
    /// failed".
    fn model(steps: &[StepSpec], fails: &[bool]) -> (bool, Vec<String>) {
        let mut ran = Vec::new();
        let mut failed = false;
        for (s, f) in steps.iter().zip(fails) {
            let go = match s.runs {
                Runs::OnSuccess => !failed,
                Runs::OnFailure => failed,
                Runs::Always => true,
            };
            if go {
                ran.push(s.name.clone());
                if *f && !s.allow_failure {
                    failed = true;
                }
            }
        }
        (failed, ran)
    }

    #[test]
    fn every_combination_of_three_steps_follows_the_model() {
        let rules = [Runs::OnSuccess, Runs::OnFailure, Runs::Always];
        // 3 rules × 2 allow × 2 outcomes per step, three steps.
        for code in 0..(12u32.pow(3)) {
            let mut steps = Vec::new();
            let mut fails = Vec::new();
            let mut rest = code;
            for i in 0..3 {
                let n = rest % 12;
                rest /= 12;
                steps.push(step(
                    &format!("s{i}"),
                    rules[(n % 3) as usize],
                    n / 3 % 2 == 1,
                ));
                fails.push(n / 6 == 1);
            }
            let outcome = |name: &str| {
                let i: usize = name[1..].parse().unwrap();
                if fails[i] {
                    Ending::Exited { code: 7 }
                } else {
                    Ending::Exited { code: 0 }
                }
            };
            let (ending, ran) = simulate(&steps, &outcome);
            let (failed, expected) = model(&steps, &fails);
            assert_eq!(ran, expected, "{steps:?} {fails:?}");
            assert_eq!(
                ending != Ending::Exited { code: 0 },
                failed,
                "{steps:?} {fails:?}"
            );
        }
    }

    #[test]
    fn a_cancel_stops_every_later_step_even_always_ones() {
        let steps = [
            step("a", Runs::OnSuccess, false),
            step("b", Runs::Always, false),
        ];
        let (ending, ran) = simulate(&steps, &|_| Ending::Cancelled);
        assert_eq!((ending, ran), (Ending::Cancelled, vec!["a".to_string()]));
    }

    #[test]
    fn a_steps_timeout_is_a_failure_after_which_cleanup_runs() {
        let mut first = step("slow", Runs::OnSuccess, false);
        first.timeout_ms = Some(1000);
        let steps = [first, step("cleanup", Runs::Always, false)];
        let (ending, ran) = simulate(&steps, &|name| match name {
            "slow" => Ending::TimedOut,
            _ => Ending::Exited { code: 0 },
        });
        assert_eq!(ran, ["slow", "cleanup"]);
        assert_eq!(
            ending,
            Ending::Error {
                message: "the step `slow` timed out after 1s".into()
            }
        );
    }

    #[test]
    fn the_first_failure_is_the_jobs() {
        let steps = [
            step("a", Runs::OnSuccess, false),
            step("b", Runs::Always, false),
        ];
        let (ending, _) = simulate(&steps, &|name| match name {
            "a" => Ending::Exited { code: 3 },
            _ => Ending::Exited { code: 5 },
        });
        assert_eq!(ending, Ending::Exited { code: 3 });
    }
}
