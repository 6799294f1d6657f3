//! The built-in interpreter: runs a plan on this machine with crash-safe state, approvals,
//! resume, and the same skip/fail semantics every export follows.

pub mod approval;
mod artifacts;
// v2 i13j: composed values
pub mod audit;
pub mod cache;
pub mod changed;
mod composed;
mod concurrency;
mod consistency;
mod context;
mod engine;
pub mod error;
pub mod fault;
mod follow;
mod gates;
mod guard;
pub mod inputs;
mod journal;
mod junit;
pub mod keeper;
mod lock;
mod manual;
// v2 i13k: matrix artifacts
pub mod mask;
mod matrix_artifacts;
pub mod process;
mod prompt;
pub mod record;
mod report;
mod report_files;
pub mod reports;
mod secrets;
pub mod services;
pub mod signature;
pub mod steps;
pub mod supervisor;
pub mod values;
mod view;
mod wake;

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicUsize;

pub use context::{Detected, Facts, Given, detect as detect_context};
pub use engine::Outcome;
pub use view::summary;

use crate::plan::JobType;
use crate::plan::Plan;
use crate::plan::RunContext;
use engine::Engine;
use error::RunError;
use record::{JobState, RunRecord, RunStatus, Selection, Store, format_time};
use secrets::Secrets;

pub struct Options {
    pub jobs: usize,
    pub fail_fast: bool,
    pub only: Option<String>,
    pub approve: Vec<String>,
    pub auto_approve: bool,
    pub identity: String,
    pub secrets_file: Option<PathBuf>,
    pub workdir: PathBuf,
    pub context: RunContext,
    /// The rest of the run context (`CDL_SHA`, `CDL_REPOSITORY` …).
    pub facts: Facts,
    /// Whether gates may ask at the terminal.
    pub interactive: bool,
    /// Where to write the run's JUnit XML, if anywhere.
    pub junit: Option<PathBuf>,
    // v2 i14a: platform settings
    /// `--oidc-token-file`: the token of the jobs with `oidc`.
    pub oidc_token_file: Option<PathBuf>,
    // v2 i13f: jobs started by hand
    /// `--start JOB`: the `start = manual` jobs a person starts in this run (ids or names).
    pub start: Vec<String>,
}

/// A finished, paused or cancelled run.
pub struct Finished {
    pub outcome: Outcome,
    /// ` --state-dir DIR` for the commands printed to the user, when needed.
    pub state_dir_option: String,
    pub record: RunRecord,
    pub record_path: PathBuf,
}

/// The user name approvals are made as by default: `USER`, else `LOGNAME`, else the login
/// name of the process's user from the OS, else its numeric id (`uid 1000`) — never a
/// placeholder that names nobody.
pub fn user_name() -> String {
    std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .ok()
        .filter(|u| !u.is_empty())
        .unwrap_or_else(os_login_name)
}

/// The login name of the real user id (`getpwuid_r`), or `uid N` when it has no entry.
fn os_login_name() -> String {
    // SAFETY: getuid cannot fail; getpwuid_r writes only into `entry` and `buffer`, whose
    // sizes are passed, and `name` points into `buffer` while it lives.
    unsafe {
        let uid = libc::getuid();
        let mut entry: libc::passwd = std::mem::zeroed();
        let mut buffer = vec![0 as libc::c_char; 16 * 1024];
        let mut found: *mut libc::passwd = std::ptr::null_mut();
        let status = libc::getpwuid_r(
            uid,
            &mut entry,
            buffer.as_mut_ptr(),
            buffer.len(),
            &mut found,
        );
        if status == 0 && !found.is_null() && !entry.pw_name.is_null() {
            let name = std::ffi::CStr::from_ptr(entry.pw_name).to_string_lossy();
            if !name.is_empty() {
                return name.into_owned();
            }
        }
        format!("uid {uid}")
    }
}

/// Jobs that a run in `context` runs, in plan order, with the reason for each one it skips.
fn selection(
    plan: &Plan,
    only: Option<&str>,
    context: &RunContext,
    start: &[String],
) -> Result<Vec<Option<String>>, String> {
    manual::check_start(plan, start)?;
    let mut reasons: Vec<Option<String>> = vec![None; plan.jobs.len()];
    if let Some(only) = only {
        let roots: Vec<&str> = plan
            .jobs
            .iter()
            .filter(|j| j.id == only || j.name == only)
            .map(|j| j.id.as_str())
            .collect();
        if roots.is_empty() {
            return Err(format!("--only {only}: the plan has no job named `{only}`"));
        }
        let mut keep: HashSet<&str> = HashSet::new();
        let mut stack = roots;
        while let Some(id) = stack.pop() {
            if keep.insert(id)
                && let Some(job) = plan.job(id)
            {
                stack.extend(job.needs.iter().map(String::as_str));
            }
        }
        for (i, job) in plan.jobs.iter().enumerate() {
            if !keep.contains(job.id.as_str()) {
                reasons[i] = Some(format!("not selected by --only {only}"));
            }
        }
    }
    let skipped: HashSet<&str> = plan.skipped_starting(context, start).into_iter().collect();
    for (i, job) in plan.jobs.iter().enumerate() {
        if reasons[i].is_none() && skipped.contains(job.id.as_str()) {
            reasons[i] = Some(match &job.condition {
                Some(condition) if !condition.evaluate(context) => {
                    format!("`when = {condition}` is false")
                }
                _ if job.waits_for_a_person(context) && !manual::started(job, start) => {
                    manual::skip_reason(job)
                }
                _ => {
                    let need = job
                        .needs
                        .iter()
                        .find(|n| skipped.contains(n.as_str()))
                        .cloned()
                        .unwrap_or_default();
                    format!("skipped with `{need}`")
                }
            });
        }
    }
    // Downstream pipelines: `cdl run` starts no other project's pipeline; a trigger job runs
    // its fallback `run`, and without one it is skipped.
    for (i, job) in plan.jobs.iter().enumerate() {
        if reasons[i].is_none() && job.trigger.is_some() && job.all_steps().is_empty() {
            reasons[i] = Some(
                "it starts another project's pipeline (`trigger`), which `cdl run` cannot; write `run` as a fallback to run instead".into(),
            );
        }
    }
    Ok(reasons)
}

/// v2 i13d: the names of the plan's secrets that are set and not empty, for
/// `defined(secret.X)`.
fn defined_secrets(
    plan: &Plan,
    file: Option<&Path>,
) -> Result<std::collections::BTreeSet<String>, RunError> {
    if plan.secrets.is_empty() {
        return Ok(Default::default());
    }
    let dotenv = match file {
        Some(path) => Some(
            std::fs::read_to_string(path)
                .map_err(|e| RunError::Usage(format!("cannot read {}: {e}", path.display())))?,
        ),
        None => None,
    };
    let secrets = Secrets::load(&plan.secrets, dotenv.as_deref());
    Ok(inputs::defined_secrets(plan, &secrets))
}

/// The secrets the jobs that will run need; an error naming every one nobody provided.
fn load_secrets(plan: &Plan, runs: &[bool], file: Option<&Path>) -> Result<Secrets, String> {
    let dotenv = match file {
        Some(path) => Some(
            std::fs::read_to_string(path)
                .map_err(|e| format!("cannot read {}: {e}", path.display()))?,
        ),
        None => None,
    };
    let mut secrets = Secrets::load(&plan.secrets, dotenv.as_deref());
    secrets.load_registry(dotenv.as_deref());
    let mut missing: Vec<String> = Vec::new();
    for (job, _) in plan.jobs.iter().zip(runs).filter(|(_, runs)| **runs) {
        for name in &job.secrets {
            if secrets.get(name).is_none() {
                missing.push(format!("`{name}` (needed by `{}`)", job.id));
            }
        }
    }
    if missing.is_empty() {
        Ok(secrets)
    } else {
        Err(format!(
            "no value for the secret{} {}: set it in the environment or in a file given with --secrets-file",
            if missing.len() == 1 { "" } else { "s" },
            missing.join(", ")
        ))
    }
}

/// What `--dry-run` prints: the jobs in order, skipped or with their commands.
pub fn dry_run(plan: &Plan, options: &Options) -> Result<String, RunError> {
    let mut context = options.context.clone();
    context.secrets = defined_secrets(plan, options.secrets_file.as_deref())?;
    let reasons = selection(plan, options.only.as_deref(), &context, &options.start)
        .map_err(RunError::Usage)?;
    let mut out = String::new();
    for (job, reason) in plan.jobs.iter().zip(&reasons) {
        match reason {
            Some(reason) => out.push_str(&format!("skip  {}  ({reason})\n", job.id)),
            None if job.job_type == JobType::Gate => out.push_str(&format!(
                "gate  {}  (approvers: {})\n",
                job.id,
                job.approvers.join(", ")
            )),
            None => {
                out.push_str(&format!("run   {}\n", job.id));
                for step in &job.steps {
                    for line in step.lines() {
                        out.push_str(&format!("        $ {line}\n"));
                    }
                }
            }
        }
    }
    Ok(out)
}

/// Starts a new run of `plan`.
pub fn start(
    plan: Plan,
    file: &Path,
    store: &Store,
    options: Options,
    signal: Arc<AtomicUsize>,
) -> Result<Finished, RunError> {
    if let Some(path) = &options.junit {
        junit::check_path(path).map_err(RunError::Usage)?;
    }
    for gate in &options.approve {
        let job = plan
            .jobs
            .iter()
            .find(|j| (j.id == *gate || j.name == *gate) && j.job_type == JobType::Gate)
            .ok_or_else(|| {
                RunError::Usage(format!(
                    "--approve {gate}: the plan has no gate named `{gate}`"
                ))
            })?;
        // i12: teams count their members; a non-approver is told who may approve, not
        // how to claim to be one.
        if !approval::may_decide(&plan, job, &options.identity) {
            return Err(RunError::Usage(format!(
                "--approve {gate}: `{}` is not an approver of `{gate}` (approvers: {})",
                options.identity,
                approval::approvers_text(&plan, job)
            )));
        }
    }
    if plan.pipeline.allowed_signers.is_some()
        && let Some(gate) = options.approve.first()
    {
        // i12: an approval given ahead on the command line cannot be signed.
        return Err(RunError::Usage(format!(
            "--approve {gate}: this pipeline's approvals must be signed (allowed_signers); approve when the run waits, with `cdl approve {gate} --as WHO --key KEY`"
        )));
    }
    if options.auto_approve {
        // i12: with signed approvals, --auto-approve cannot stand in for a person.
        for gate in plan.jobs.iter().filter(|j| j.job_type == JobType::Gate) {
            if let Some(refusal) = approval::auto_approval_refused(&plan, gate) {
                return Err(RunError::Usage(refusal));
            }
        }
    }
    // i12: two jobs sharing an id would be run (and retried) as one.
    if let Some(id) = crate::plan::build::duplicate_job_id(&plan.jobs) {
        return Err(RunError::Usage(format!(
            "the plan has two jobs with the id `{id}`; refusing to run it"
        )));
    }
    let mut options = options;
    options.context.secrets = defined_secrets(&plan, options.secrets_file.as_deref())?;
    let reasons = selection(
        &plan,
        options.only.as_deref(),
        &options.context,
        &options.start,
    )
    .map_err(RunError::Usage)?;
    let runs: Vec<bool> = reasons.iter().map(Option::is_none).collect();
    let mut secrets =
        load_secrets(&plan, &runs, options.secrets_file.as_deref()).map_err(RunError::Usage)?;
    secrets
        .load_oidc_token(options.oidc_token_file.as_deref())
        .map_err(RunError::Usage)?;
    let id = store
        .new_run_id()
        .map_err(|e| RunError::Usage(format!("cannot create the run folder: {e}")))?;
    let _lock = lock::try_lock_run(&store.run_dir(&id).join("lock"))
        .map_err(|e| RunError::Usage(format!("cannot lock the run: {e}")))?;
    let selection = Selection {
        jobs: options.jobs,
        fail_fast: options.fail_fast,
        only: options.only.clone(),
        approve: options.approve.clone(),
        auto_approve: options.auto_approve,
        identity: options.identity.clone(),
    };
    let canonical = file.canonicalize().unwrap_or_else(|_| file.to_path_buf());
    // v2 i14a: a new run cancels the older live runs of its concurrency group.
    for notice in concurrency::cancel_older(store, &plan, &canonical, &options.context) {
        eprintln!("{notice}");
    }
    let mut record = RunRecord::new(
        id,
        plan,
        canonical,
        options.workdir.clone(),
        &options.context,
        selection,
    );
    record.facts = options.facts.clone();
    signature::pin(store, &record).map_err(RunError::Usage)?; // i12: the trust file and nonce, when approvals are signed
    for (job, reason) in record.plan.jobs.clone().iter().zip(reasons) {
        if let Some(reason) = reason {
            let r = record.job_mut(&job.id);
            r.state = JobState::Skipped;
            r.reason = Some(reason);
        }
    }
    let answerer = Some(options.identity.clone());
    drive(
        store,
        record,
        secrets,
        options.interactive,
        signal,
        options.junit.as_deref(),
        answerer,
    )
}

fn drive(
    store: &Store,
    record: RunRecord,
    secrets: Secrets,
    interactive: bool,
    signal: Arc<AtomicUsize>,
    junit: Option<&Path>,
    answerer: Option<String>,
) -> Result<Finished, RunError> {
    let id = record.id.clone();
    let mut engine = Engine::new(store, record, secrets, interactive, signal)?;
    engine.answerer = answerer;
    let outcome = engine.drive()?;
    let report = store.run_dir(&id).join("report.html");
    std::fs::write(&report, report::render(&engine.record, store))
        .map_err(|e| RunError::Stopped(format!("cannot write {}: {e}", report.display())))?;
    if let Some(path) = junit {
        std::fs::write(path, junit::render(&engine.record, store))
            .map_err(|e| RunError::Stopped(format!("cannot write {}: {e}", path.display())))?;
    }
    Ok(Finished {
        outcome,
        state_dir_option: store.state_dir_option(),
        record: engine.record,
        record_path: store.record_path(&id),
    })
}

/// The tests, coverage and kept files of a finished run's jobs (v2 reports, i13h): a table
/// printed after the summary, empty when no job keeps anything.
pub fn reports_summary(finished: &Finished) -> String {
    match finished.record_path.ancestors().nth(3) {
        Some(root) => reports::summary(&Store::new(root.to_path_buf()), &finished.record),
        None => String::new(),
    }
}

/// The run a command means: the one given, or the latest.
pub fn find_run(store: &Store, id: Option<&str>) -> Result<RunRecord, RunError> {
    let id = match id {
        Some(id) => id.to_string(),
        None => store
            .run_ids()
            .pop()
            .ok_or_else(|| RunError::Usage(format!("no runs in {}", store.runs_dir().display())))?,
    };
    store.load(&id)
}

/// Continues a paused or crashed run: what is left of a dead run's jobs is stopped first, and
/// only unfinished jobs run again. A gate's prompt is answered as `answerer` (`--as`, default
/// the user running the resume — never whoever started the run).
pub fn resume(
    store: &Store,
    id: Option<&str>,
    secrets_file: Option<&Path>,
    interactive: bool,
    signal: Arc<AtomicUsize>,
    junit: Option<&Path>,
    answerer: String,
) -> Result<Finished, RunError> {
    resume_with_oidc(
        store,
        id,
        secrets_file,
        None,
        interactive,
        signal,
        junit,
        answerer,
    )
}

/// [`resume`] with the OIDC token of `cdl resume --oidc-token-file FILE` (v2 i14b): the jobs
/// with `oidc` that the resume runs get it, masked like a secret, as under `cdl run`.
#[allow(clippy::too_many_arguments)]
pub fn resume_with_oidc(
    store: &Store,
    id: Option<&str>,
    secrets_file: Option<&Path>,
    oidc_token_file: Option<&Path>,
    interactive: bool,
    signal: Arc<AtomicUsize>,
    junit: Option<&Path>,
    answerer: String,
) -> Result<Finished, RunError> {
    if let Some(path) = junit {
        junit::check_path(path).map_err(RunError::Usage)?;
    }
    // The lock first, then the record: nobody changes it between our reading and writing.
    let id = match id {
        Some(id) => {
            consistency::check_run_id(id).map_err(RunError::Usage)?;
            id.to_string()
        }
        None => store
            .run_ids()
            .pop()
            .ok_or_else(|| RunError::Usage(format!("no runs in {}", store.runs_dir().display())))?,
    };
    if !store.run_dir(&id).join("run.json").is_file() {
        return Err(RunError::Usage(format!(
            "there is no run {id} in {}; `cdl runs` lists the runs",
            store.runs_dir().display()
        )));
    }
    let _lock = lock::try_lock_run(&store.run_dir(&id).join("lock"))
        .map_err(|e| RunError::Usage(format!("cannot lock the run: {e}")))?
        .ok_or_else(|| {
            let pid = store.load(&id).map(|r| r.pid).unwrap_or(0);
            RunError::Usage(format!(
                "run {id} is still running (pid {pid}); wait for it or stop it first"
            ))
        })?;
    let mut record = store.load(&id)?;
    if matches!(record.status, RunStatus::Succeeded | RunStatus::Failed) {
        return Err(RunError::Usage(
            format!(
                "run {} is already finished ({:?}); start a new one with `cdl run`",
                record.id, record.status
            )
            .to_lowercase(),
        ));
    }
    // Process groups recorded by an older `cdl` (before supervisors).
    for (_, group) in std::mem::take(&mut record.groups) {
        process::kill_group(group);
    }
    for job in record.jobs.values_mut() {
        // A running job keeps its state: the engine re-attaches to its supervisor, records
        // its result if it finished while nobody watched, and runs it again only if the
        // supervisor vanished without one.
        if matches!(job.state, JobState::Waiting | JobState::Cancelled) {
            job.state = JobState::Pending;
        }
    }
    let runs: Vec<bool> = record
        .plan
        .jobs
        .iter()
        .map(|j| !record.job(&j.id).state.is_finished())
        .collect();
    let mut secrets = load_secrets(&record.plan, &runs, secrets_file).map_err(RunError::Usage)?;
    secrets
        .load_oidc_token(oidc_token_file)
        .map_err(RunError::Usage)?;
    record.finished_ms = None;
    drive(
        store,
        record,
        secrets,
        interactive,
        signal,
        junit,
        Some(answerer),
    )
}

pub use gates::decide;

/// The `cdl approve` and `cdl resume` lines for a paused run.
pub fn paused_help(record: &RunRecord, state_dir_option: &str) -> String {
    let dir = state_dir_option;
    let mut out = format!("run {} is waiting for approval:\n", record.id);
    for job in &record.plan.jobs {
        let r = record.job(&job.id);
        if r.state != JobState::Waiting {
            continue;
        }
        let approvals = r.decisions.iter().filter(|d| d.approved).count();
        out.push_str(&format!(
            "  gate {}{} — approvers: {} ({approvals} of {} approvals)\n",
            job.id,
            job.message
                .as_ref()
                .map(|m| format!(": \"{m}\""))
                .unwrap_or_default(),
            job.approvers.join(", "),
            job.required.unwrap_or(1)
        ));
        if let Some(timeout) = job.timeout_seconds {
            let since = r.waiting_since_ms.unwrap_or(record.started_ms);
            out.push_str(&format!(
                "    rejected unless decided by {}\n",
                format_time(since + timeout * 1000)
            ));
        }
        out.push_str(&format!(
            "    cdl approve {} --run {}{dir}\n",
            job.id, record.id
        ));
        out.push_str(&format!(
            "    cdl reject {} --run {}{dir}\n",
            job.id, record.id
        ));
    }
    out.push_str(&format!(
        "then continue with:\n    cdl resume {}{dir}\n",
        record.id
    ));
    out
}

/// The average duration of each job's successful attempts over the runs kept in `store`.
pub fn estimates(store: &Store) -> crate::plan::text::Estimates {
    let mut sums: std::collections::HashMap<String, (u64, usize)> =
        std::collections::HashMap::new();
    for id in store.run_ids() {
        let Ok(record) = store.load(&id) else {
            continue;
        };
        for (job, r) in &record.jobs {
            if r.state == JobState::Succeeded && !r.attempts.is_empty() {
                let last = r.attempts.last().expect("not empty");
                let ms = last
                    .finished_ms
                    .unwrap_or(last.started_ms)
                    .saturating_sub(last.started_ms);
                let entry = sums.entry(job.clone()).or_default();
                entry.0 += ms;
                entry.1 += 1;
            }
        }
    }
    sums.into_iter()
        .map(|(job, (sum, n))| (job, (sum / n as u64, n)))
        .collect()
}

/// What `cdl logs` says about a job without a log file: it did not run (and why), or it ran
/// and printed nothing.
pub fn no_log(record: &RunRecord, job: &str) -> String {
    let r = record.job(job);
    let reason = r
        .reason
        .as_ref()
        .map(|reason| format!(": {reason}"))
        .unwrap_or_default();
    match r.attempts.len() {
        0 => format!(
            "`{job}` did not run in run {} (it is {}{reason})",
            record.id,
            r.state.as_str()
        ),
        1 => format!(
            "`{job}` ran in run {} and printed nothing (it {}{reason})",
            record.id,
            r.state.as_str()
        ),
        n => format!(
            "`{job}` ran {n} times in run {} and printed nothing (it {}{reason})",
            record.id,
            r.state.as_str()
        ),
    }
}

/// `cdl runs`: one line per run, newest last.
pub fn list(store: &Store) -> String {
    let mut out = String::new();
    for id in store.run_ids() {
        match store.load(&id) {
            Ok(record) => {
                let done = record
                    .jobs
                    .values()
                    .filter(|j| j.state.is_finished())
                    .count();
                out.push_str(&format!(
                    "{id}  {:9}  {}  {}/{} jobs  started {}\n",
                    format!("{:?}", record.status).to_lowercase(),
                    record.pipeline,
                    done,
                    record.jobs.len(),
                    format_time(record.started_ms)
                ));
            }
            Err(e) => out.push_str(&format!("{id}  unreadable: {e}\n")),
        }
    }
    if out.is_empty() {
        out = format!("no runs in {}\n", store.runs_dir().display());
    }
    out
}

/// `cdl status`: every job of a run, and what each unfinished one waits for.
pub fn status(record: &RunRecord) -> String {
    let mut out = format!(
        "run {}  pipeline {}  {}\nstarted {}  branch {}  tag {}  event {}\n",
        record.id,
        record.pipeline,
        format!("{:?}", record.status).to_lowercase(),
        format_time(record.started_ms),
        record.branch.as_deref().unwrap_or("-"),
        record.tag.as_deref().unwrap_or("-"),
        record.event
    );
    out.push_str(&summary(record));
    let mut waits = String::new();
    for job in &record.plan.jobs {
        let r = record.job(&job.id);
        if let Some(reason) = &r.reason
            && r.state.is_finished()
        {
            waits.push_str(&format!("  {}: {reason}\n", job.id));
        }
        for decision in &r.decisions {
            waits.push_str(&format!(
                "  {}: {} by {} at {}{}\n",
                job.id,
                if decision.approved {
                    "approved"
                } else {
                    "rejected"
                },
                decision.by,
                format_time(decision.at_ms),
                decision
                    .comment
                    .as_ref()
                    .map(|c| format!(" — {c}"))
                    .unwrap_or_default()
            ));
        }
        match r.state {
            JobState::Waiting => waits.push_str(&format!(
                "  {} waits for approval by {} ({} needed)\n",
                job.id,
                job.approvers.join(", "),
                job.required.unwrap_or(1)
            )),
            JobState::Pending => {
                let blocking: Vec<&str> = job
                    .needs
                    .iter()
                    .filter(|n| !record.job(n).state.is_finished())
                    .map(String::as_str)
                    .collect();
                if !blocking.is_empty() {
                    waits.push_str(&format!("  {} waits for {}\n", job.id, blocking.join(", ")));
                } else {
                    waits.push_str(&format!("  {} waits for the earlier stages\n", job.id));
                }
            }
            _ => {}
        }
    }
    if !waits.is_empty() {
        out.push('\n');
        out.push_str(&waits);
    }
    for (name, artifact) in &record.artifacts {
        out.push_str(&format!(
            "  artifact {name}: sha256 {} ({} entries, {} bytes, sealed at {})\n",
            artifact.digest,
            artifact.entries,
            artifact.size,
            artifact.path.display()
        ));
    }
    out
}

#[cfg(test)]
mod user_name_tests {
    use super::os_login_name;

    #[test]
    fn the_os_login_name_is_the_one_id_prints() {
        let name = os_login_name();
        assert!(!name.is_empty() && name != "unknown");
        match std::process::Command::new("id").arg("-un").output() {
            Ok(out) if out.status.success() => {
                assert_eq!(name, String::from_utf8_lossy(&out.stdout).trim());
            }
            _ => assert!(name.starts_with("uid "), "{name}"),
        }
    }
}
