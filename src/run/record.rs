//! The run record: `.cdl/runs/<id>/run.json`, rewritten atomically after every change, plus
//! the per-job logs and the artifact store beside it. A killed `cdl run` loses nothing that
//! was written: `cdl resume` starts from this file.

use std::io::Write;
use std::path::{Path, PathBuf};

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

use super::error::RunError;
use crate::plan::Plan;
use crate::plan::RunContext;

pub const SCHEMA: &str = "cdl.run/v1";

/// The changes written since the last snapshot of `run.json`, one JSON object per line.
pub const JOURNAL: &str = "journal.jsonl";

/// One entry of the journal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Change {
    /// A job's whole record, as it is now.
    Job { id: String, record: Box<JobRecord> },
    Artifact {
        name: String,
        stored: StoredArtifact,
    },
    Run {
        status: RunStatus,
        pid: u32,
        finished_ms: Option<u64>,
    },
    /// The process group of a job's step, written by the worker the moment the step is
    /// spawned (0 when the step ended), so that a resume after `kill -9` can stop it.
    Group { job: String, group: i32 },
}

impl Change {
    pub fn apply(self, record: &mut RunRecord) {
        match self {
            Change::Job { id, record: job } => {
                record.jobs.insert(id, *job);
            }
            Change::Artifact { name, stored } => {
                record.artifacts.insert(name, stored);
            }
            Change::Run {
                status,
                pid,
                finished_ms,
            } => {
                record.status = status;
                record.pid = pid;
                record.finished_ms = finished_ms;
            }
            Change::Group { job, group: 0 } => {
                record.groups.shift_remove(&job);
            }
            Change::Group { job, group } => {
                record.groups.insert(job, group);
            }
        }
    }
}

/// The changes that turn `before` into `after`: the jobs and artifacts that differ, and the
/// run's own state when it does.
pub fn changes(before: &RunRecord, after: &RunRecord) -> Vec<Change> {
    let mut out: Vec<Change> = after
        .jobs
        .iter()
        .filter(|(id, job)| before.jobs.get(*id) != Some(job))
        .map(|(id, job)| Change::Job {
            id: id.clone(),
            record: Box::new(job.clone()),
        })
        .collect();
    out.extend(
        after
            .artifacts
            .iter()
            .filter(|(name, stored)| before.artifacts.get(*name) != Some(stored))
            .map(|(name, stored)| Change::Artifact {
                name: name.clone(),
                stored: stored.clone(),
            }),
    );
    if (before.status, before.pid, before.finished_ms)
        != (after.status, after.pid, after.finished_ms)
    {
        out.push(Change::Run {
            status: after.status,
            pid: after.pid,
            finished_ms: after.finished_ms,
        });
    }
    out
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RunStatus {
    Running,
    /// Waiting for an approval; `cdl approve` then `cdl resume`.
    Paused,
    Succeeded,
    Failed,
    Cancelled,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JobState {
    Pending,
    Running,
    /// A gate waiting for approvals.
    Waiting,
    Succeeded,
    Failed,
    Skipped,
    Cancelled,
}

impl JobState {
    pub fn is_finished(self) -> bool {
        matches!(
            self,
            JobState::Succeeded | JobState::Failed | JobState::Skipped | JobState::Cancelled
        )
    }

    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Pending => "pending",
            JobState::Running => "running",
            JobState::Waiting => "waiting",
            JobState::Succeeded => "passed",
            JobState::Failed => "failed",
            JobState::Skipped => "skipped",
            JobState::Cancelled => "cancelled",
        }
    }
}

/// One run of a job's steps.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Attempt {
    pub number: u32,
    pub started_ms: u64,
    pub finished_ms: Option<u64>,
    pub exit_code: Option<i32>,
    pub timed_out: bool,
    /// Set when the attempt was cut short: by Ctrl-C, or by the death of its supervisor.
    pub interrupted: bool,
    /// Set when its supervisor vanished without a result: the job ran again, and this attempt
    /// did not use up a retry.
    #[serde(default)]
    pub vanished: bool,
    /// `CDL_ATTEMPT` of the attempt's processes, to find what a vanished supervisor left.
    #[serde(default)]
    pub cookie: Option<String>,
    /// When `cdl` asked the attempt's supervisor to stop its job (a cancel, `--fail-fast`):
    /// journaled, and flushed, *before* the request is sent. A request that never went out
    /// (`cdl` killed in between) leaves a live supervisor, which a resume waits for and whose
    /// real ending it records; the job's outcome is always its result, never this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_requested_ms: Option<u64>,
}

/// An approval or rejection of a gate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Decision {
    pub by: String,
    pub approved: bool,
    pub at_ms: u64,
    pub comment: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobRecord {
    pub state: JobState,
    /// Why it was skipped or failed, in words.
    pub reason: Option<String>,
    pub attempts: Vec<Attempt>,
    pub decisions: Vec<Decision>,
    /// When a gate started waiting (its timeout counts from here).
    pub waiting_since_ms: Option<u64>,
    /// The artifact digest a deploy or `uses` job was given.
    pub artifact_digests: IndexMap<String, String>,
    // v2 i13i: values passed to later jobs
    /// What the job's successful attempt wrote to `$CDL_VALUES`: every declared value, the
    /// empty string for one never written (absent: none declared, or not succeeded).
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub values: IndexMap<String, String>,
    // Review environments
    /// The review environment the job made, or stopped, as it ran (absent: none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment: Option<Box<ReviewRecord>>,
}

/// A review environment as a job of the run named it (`environment { … }`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewRecord {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// `true` on the stop job: the job tore it down.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub stopped: bool,
}

impl JobRecord {
    fn new() -> JobRecord {
        JobRecord {
            state: JobState::Pending,
            reason: None,
            attempts: Vec::new(),
            decisions: Vec::new(),
            waiting_since_ms: None,
            artifact_digests: IndexMap::new(),
            values: IndexMap::new(),
            environment: None,
        }
    }

    pub fn duration_ms(&self) -> u64 {
        self.attempts
            .iter()
            .map(|a| {
                a.finished_ms
                    .unwrap_or(a.started_ms)
                    .saturating_sub(a.started_ms)
            })
            .sum()
    }
}

/// A sealed artifact (see `artifacts.rs`): read-only at `path`, `artifacts/sha256-<digest>/`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredArtifact {
    /// The read-only stored folder; consumers get a private copy of it.
    pub path: PathBuf,
    /// The SHA-256 of the artifact's manifest (`cdl-manifest/v1`).
    pub digest: String,
    /// How many entries (files, folders, links) the manifest lists.
    #[serde(default)]
    pub entries: usize,
    /// The bytes of its files.
    #[serde(default)]
    pub size: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Selection {
    pub jobs: usize,
    pub fail_fast: bool,
    pub only: Option<String>,
    pub approve: Vec<String>,
    pub auto_approve: bool,
    /// Who approves gates on this terminal (`--as`).
    pub identity: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    pub schema: String,
    pub id: String,
    pub pipeline: String,
    /// The pipeline file, absolute.
    pub file: PathBuf,
    pub workdir: PathBuf,
    pub status: RunStatus,
    pub branch: Option<String>,
    pub tag: Option<String>,
    pub event: String,
    /// The rest of the run context; absent in records of older versions (empty values).
    #[serde(default)]
    pub facts: super::context::Facts,
    pub selection: Selection,
    pub started_ms: u64,
    pub finished_ms: Option<u64>,
    /// The `cdl` process driving the run now.
    pub pid: u32,
    pub jobs: IndexMap<String, JobRecord>,
    pub artifacts: IndexMap<String, StoredArtifact>,
    /// The process group of each job step running now.
    #[serde(default)]
    pub groups: IndexMap<String, i32>,
    /// The plan the run follows, so that a resume runs the same plan even if the file changed.
    /// Kept in `plan.json` beside the record, written once.
    #[serde(skip, default = "empty_plan")]
    pub plan: Plan,
    /// How the approvers' identities are known: `asserted` (`--as`, no proof) or `signed`
    /// (each decision signed with a key of the pipeline's `allowed_signers`).
    #[serde(default)]
    pub identities: Identities,
    /// The sequence number of the last journal entry this record holds: loading skips entries
    /// at or below it (a snapshot written just before a crash, its journal not yet emptied).
    #[serde(default)]
    pub journal_seq: u64,
    /// The SHA-256 of `plan.json`, checked on every load (absent in records of an older cdl).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan_digest: Option<String>,
    // v2 i13d: the run's inputs (given or defaulted), vars, and the names of the secrets that
    // were set (for `defined(secret.X)`; never their values), so a resume sees the same.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub inputs: std::collections::BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub vars: std::collections::BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "std::collections::BTreeSet::is_empty")]
    pub defined_secrets: std::collections::BTreeSet<String>,
}

/// How a run knows who decided its gates.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Identities {
    /// Names given with `--as`: asserted, not proved.
    #[default]
    Asserted,
    /// Decisions signed with SSH keys listed in the pipeline's `allowed_signers`.
    Signed,
}

impl RunRecord {
    pub fn new(
        id: String,
        plan: Plan,
        file: PathBuf,
        workdir: PathBuf,
        context: &RunContext,
        selection: Selection,
    ) -> RunRecord {
        let jobs = plan
            .jobs
            .iter()
            .map(|j| (j.id.clone(), JobRecord::new()))
            .collect();
        let plan_digest = Some(sha256_hex(&plan_bytes(&plan)));
        RunRecord {
            journal_seq: 0,
            plan_digest,
            schema: SCHEMA.to_string(),
            id,
            pipeline: plan.pipeline.name.clone(),
            file,
            workdir,
            status: RunStatus::Running,
            branch: context.branch.clone(),
            tag: context.tag.clone(),
            event: context.event.clone(),
            facts: super::context::Facts::default(),
            selection,
            started_ms: now_ms(),
            finished_ms: None,
            pid: std::process::id(),
            jobs,
            artifacts: IndexMap::new(),
            groups: IndexMap::new(),
            identities: if plan.pipeline.allowed_signers.is_some() {
                Identities::Signed
            } else {
                Identities::Asserted
            },
            plan,
            inputs: context.inputs.clone(),
            vars: context.vars.clone(),
            defined_secrets: context.secrets.clone(),
        }
    }

    pub fn context(&self) -> RunContext {
        RunContext {
            branch: self.branch.clone(),
            tag: self.tag.clone(),
            event: self.event.clone(),
            repository: self.facts.repository.clone(),
            default_branch: self.facts.default_branch.clone(),
            changed: self.facts.changed.clone(),
            inputs: self.inputs.clone(),
            vars: self.vars.clone(),
            secrets: self.defined_secrets.clone(),
        }
    }

    pub fn job(&self, id: &str) -> &JobRecord {
        &self.jobs[id]
    }

    pub fn job_mut(&mut self, id: &str) -> &mut JobRecord {
        self.jobs.get_mut(id).expect("every plan job has a record")
    }
}

/// The bytes of `plan.json`.
fn plan_bytes(plan: &Plan) -> Vec<u8> {
    let mut text = serde_json::to_vec_pretty(plan).unwrap_or_default();
    text.push(b'\n');
    text
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn empty_plan() -> Plan {
    serde_json::from_value(serde_json::json!({
        "schema": crate::plan::SCHEMA,
        "pipeline": {"name": "", "description": null, "doc": null, "runner": null, "image": null, "file": ""},
        "triggers": [], "env": {}, "environments": [], "artifacts": [], "secrets": [], "kinds": [],
        "stages": [], "jobs": [], "critical_path": []
    }))
    .expect("an empty plan")
}

/// Where runs live: `<state dir>/runs/<id>/`.
#[derive(Debug, Clone)]
pub struct Store {
    pub root: PathBuf,
}

impl Store {
    /// The state directory `.cdl` beside the pipeline file, or the one given; kept absolute
    /// because jobs receive paths into it.
    pub fn new(root: PathBuf) -> Store {
        let root = std::path::absolute(&root).unwrap_or(root);
        Store { root }
    }

    /// ` --state-dir DIR` when this store is not `.cdl` in the current folder (the default of
    /// `approve`, `resume` and the other run commands), else nothing.
    pub fn state_dir_option(&self) -> String {
        let default = std::path::absolute(".cdl").ok();
        if default.as_deref() == Some(self.root.as_path()) {
            String::new()
        } else {
            let shown = std::env::current_dir()
                .ok()
                .and_then(|cwd| self.root.strip_prefix(cwd).ok().map(Path::to_path_buf))
                .unwrap_or_else(|| self.root.clone());
            format!(" --state-dir {}", shown.display())
        }
    }

    pub fn runs_dir(&self) -> PathBuf {
        self.root.join("runs")
    }

    pub fn run_dir(&self, id: &str) -> PathBuf {
        self.runs_dir().join(id)
    }

    pub fn locks_dir(&self) -> PathBuf {
        self.root.join("locks")
    }

    pub fn record_path(&self, id: &str) -> PathBuf {
        self.run_dir(id).join("run.json")
    }

    /// A job's id as it appears in file names of the run folder.
    pub fn job_key(&self, job: &str) -> String {
        file_name(job)
    }

    pub fn log_path(&self, id: &str, job: &str) -> PathBuf {
        self.run_dir(id)
            .join("logs")
            .join(format!("{}.log", file_name(job)))
    }

    /// Where the run's sealed artifacts are stored (`sha256-<digest>/` each).
    pub fn artifacts_dir(&self, id: &str) -> PathBuf {
        self.run_dir(id).join("artifacts")
    }

    /// A job's private copy of an artifact it receives (`CDL_ARTIFACT_<NAME>`).
    pub fn input_dir(&self, id: &str, job: &str, artifact: &str) -> PathBuf {
        self.run_dir(id)
            .join("inputs")
            .join(file_name(job))
            .join(file_name(artifact))
    }

    /// A new, unused run id: the UTC time, then a counter if needed (`20261126-101502`).
    pub fn new_run_id(&self) -> std::io::Result<String> {
        std::fs::create_dir_all(self.runs_dir())?;
        let base = format_compact(now_ms());
        for n in 0.. {
            let id = if n == 0 {
                base.clone()
            } else {
                format!("{base}-{n}")
            };
            match std::fs::create_dir(self.run_dir(&id)) {
                Ok(()) => return Ok(id),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(e),
            }
        }
        unreachable!("an unused id is always found")
    }

    /// Writes the whole record atomically as `run.json` (a temporary file in the same folder,
    /// flushed to disk, renamed), and empties the journal it now contains (its entries are at
    /// or below the record's `journal_seq`, so a crash between the two loses nothing). The plan
    /// goes to `plan.json` the first time.
    pub fn save(&self, record: &RunRecord) -> std::io::Result<()> {
        let dir = self.run_dir(&record.id);
        std::fs::create_dir_all(&dir)?;
        let plan = dir.join("plan.json");
        if !plan.exists() {
            write_atomically(&dir, &plan, &plan_bytes(&record.plan))?;
        }
        let mut text = serde_json::to_vec_pretty(record).map_err(std::io::Error::other)?;
        text.push(b'\n');
        super::fault::check(super::fault::Place::Record)?;
        write_atomically(&dir, &dir.join("run.json"), &text)?;
        crate::failpoint!("snapshot-renamed");
        std::fs::File::create(dir.join(JOURNAL))?;
        Ok(())
    }

    /// Appends changes to the journal, numbered from `first_seq`, one line each, in one write:
    /// what changed since the last snapshot survives the death of `cdl` (even `kill -9`)
    /// without rewriting the record. Flushed to disk (`fdatasync`) when `sync`: then it
    /// survives a power loss too. A write that fails is cut off again, so the journal never
    /// keeps half of it.
    pub fn append_with(
        &self,
        id: &str,
        first_seq: u64,
        changes: &[Change],
        sync: bool,
    ) -> std::io::Result<()> {
        if changes.is_empty() {
            return Ok(());
        }
        let mut text = Vec::new();
        for (seq, change) in (first_seq..).zip(changes) {
            super::journal::encode(seq, change, &mut text)?;
        }
        let mut journal = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.run_dir(id).join(JOURNAL))?;
        let before = journal.metadata()?.len();
        let written = super::fault::write_all(super::fault::Place::Journal, &mut journal, &text)
            .and_then(|()| if sync { journal.sync_data() } else { Ok(()) });
        if let Err(error) = written {
            let _ = journal.set_len(before);
            return Err(error);
        }
        Ok(())
    }

    /// Cuts off the bytes after the journal's last line break — a write cut short by a crash —
    /// so that the next entry starts a line of its own (appending after the fragment would turn
    /// it into a damaged middle line).
    pub fn cut_torn_tail(&self, id: &str) -> std::io::Result<()> {
        let path = self.run_dir(id).join(JOURNAL);
        let bytes = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(e),
        };
        let keep = super::journal::complete_len(&bytes);
        if keep < bytes.len() {
            std::fs::OpenOptions::new()
                .write(true)
                .open(&path)?
                .set_len(keep as u64)?;
        }
        Ok(())
    }

    /// The record as last written: the snapshot, with the journal's changes applied in order.
    /// The id is checked first (a name, never a path), and the record against its plan after.
    pub fn load(&self, id: &str) -> Result<RunRecord, RunError> {
        super::consistency::check_run_id(id).map_err(RunError::Usage)?;
        let dir = self.run_dir(id);
        if !dir.join("run.json").is_file() {
            return Err(RunError::Usage(format!(
                "there is no run {id} in {}; `cdl runs` lists the runs",
                self.runs_dir().display()
            )));
        }
        let read = |name: &str| {
            let path = dir.join(name);
            std::fs::read(&path)
                .map_err(|e| RunError::Record(format!("cannot read {}: {e}", path.display())))
        };
        let mut record: RunRecord = serde_json::from_slice(&read("run.json")?).map_err(|e| {
            RunError::Record(format!(
                "{}: not a cdl run record ({e}); was it edited by hand?",
                dir.join("run.json").display()
            ))
        })?;
        let plan_text = read("plan.json")?;
        record.plan = serde_json::from_slice(&plan_text).map_err(|e| {
            RunError::Record(format!(
                "{}: not a cdl plan ({e}); was it edited by hand?",
                dir.join("plan.json").display()
            ))
        })?;
        // i12: a plan with a repeated job id cannot be run or resumed safely.
        if let Some(job) = crate::plan::build::duplicate_job_id(&record.plan.jobs) {
            return Err(RunError::Record(format!(
                "{}: two jobs have the id `{job}`; was it edited by hand?",
                dir.join("plan.json").display()
            )));
        }
        // After the checks of its shape, whose messages say more.
        if let Some(recorded) = &record.plan_digest {
            let found = sha256_hex(&plan_text);
            if found != *recorded {
                return Err(RunError::Record(format!(
                    "{}: its SHA-256 is {found}, the run record says {recorded}: the plan was changed after the run started, and run {id} cannot be used",
                    dir.join("plan.json").display()
                )));
            }
        }
        let path = dir.join(JOURNAL);
        let journal = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => {
                return Err(RunError::Record(format!(
                    "cannot read {}: {e}",
                    path.display()
                )));
            }
        };
        let (changes, last) =
            super::journal::decode(&journal, record.journal_seq).map_err(|bad| {
                RunError::Journal {
                    path: path.clone(),
                    line: bad.line,
                    what: bad.what,
                }
            })?;
        for change in changes {
            change.apply(&mut record);
        }
        record.journal_seq = last;
        super::consistency::check(&mut record, id, &dir).map_err(RunError::Record)?;
        Ok(record)
    }

    /// Run ids, oldest first (ids sort by time).
    pub fn run_ids(&self) -> Vec<String> {
        let Ok(entries) = std::fs::read_dir(self.runs_dir()) else {
            return Vec::new();
        };
        let mut ids: Vec<String> = entries
            .filter_map(Result::ok)
            .filter(|e| e.path().join("run.json").is_file())
            .filter_map(|e| e.file_name().into_string().ok())
            .collect();
        ids.sort();
        ids
    }
}

fn write_atomically(dir: &Path, path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut file = tempfile::NamedTempFile::new_in(dir)?;
    file.write_all(bytes)?;
    file.as_file().sync_data()?;
    file.persist(path).map_err(|e| e.error)?;
    // The rename itself survives a power loss only once its folder is flushed: `cdl approve`
    // reports a decision after this returns.
    sync_dir(dir)
}

/// Flushes a folder's entries (a rename, a new file) to disk.
pub fn sync_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::File::open(dir)?.sync_all()
}

/// A job id as a file name: `unit[os=linux]` → `unit[os=linux]`, with `/` replaced.
fn file_name(name: &str) -> String {
    name.replace(['/', '\\'], "_")
}

pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// Days since the epoch → (year, month, day), proleptic Gregorian (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(month <= 2), month, day)
}

fn parts(ms: u64) -> (i64, u32, u32, u64, u64, u64) {
    let seconds = ms / 1000;
    let (y, m, d) = civil_from_days((seconds / 86_400) as i64);
    let rest = seconds % 86_400;
    (y, m, d, rest / 3600, rest % 3600 / 60, rest % 60)
}

/// `2026-11-26 10:15:02Z`
pub fn format_time(ms: u64) -> String {
    let (y, m, d, h, min, s) = parts(ms);
    format!("{y:04}-{m:02}-{d:02} {h:02}:{min:02}:{s:02}Z")
}

/// `20261126-101502`
fn format_compact(ms: u64) -> String {
    let (y, m, d, h, min, s) = parts(ms);
    format!("{y:04}{m:02}{d:02}-{h:02}{min:02}{s:02}")
}

/// `1.2s`, `3m04s`, `1h02m`
pub fn format_elapsed(ms: u64) -> String {
    let seconds = ms / 1000;
    if seconds < 60 {
        format!("{}.{}s", seconds, ms % 1000 / 100)
    } else if seconds < 3600 {
        format!("{}m{:02}s", seconds / 60, seconds % 60)
    } else {
        format!("{}h{:02}m", seconds / 3600, seconds % 3600 / 60)
    }
}

/// The state directory for a pipeline file: `.cdl` beside it.
pub fn default_state_dir(pipeline_file: &Path) -> PathBuf {
    pipeline_file
        .parent()
        .unwrap_or(Path::new("."))
        .join(".cdl")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(group: i32) -> String {
        serde_json::to_string(&Change::Group {
            job: "j".into(),
            group,
        })
        .unwrap()
    }

    /// Journals written before sequence numbers and CRCs (`{json}` lines) are still read.
    #[test]
    fn an_old_journal_without_crc_is_read_its_torn_last_line_ignored() {
        let decode = |text: &str| super::super::journal::decode(text.as_bytes(), 0);
        let text = format!("{}\n{}\n{}", entry(1), entry(2), &entry(3)[..7]);
        assert_eq!(decode(&text).unwrap().0.len(), 2);
        // Even a complete entry without its line break is a cut-short write.
        let text = format!("{}\n{}", entry(1), entry(2));
        assert_eq!(decode(&text).unwrap().0.len(), 1);
        assert!(decode("").unwrap().0.is_empty());
    }

    #[test]
    fn a_damaged_middle_line_of_an_old_journal_is_an_error_naming_it() {
        let mut damaged = entry(2).into_bytes();
        damaged[3] ^= 0x55;
        let text = [
            entry(1).into_bytes(),
            damaged,
            entry(3).into_bytes(),
            Vec::new(),
        ]
        .join(&b'\n');
        let bad = super::super::journal::decode(&text, 0).unwrap_err();
        assert_eq!(bad.line, 2);
    }

    #[test]
    fn formats_times() {
        assert_eq!(format_time(0), "1970-01-01 00:00:00Z");
        // 2026-11-26 10:15:02 UTC
        assert_eq!(format_time(1_795_688_102_000), "2026-11-26 10:15:02Z");
        assert_eq!(format_compact(1_795_688_102_000), "20261126-101502");
        assert_eq!(format_elapsed(1234), "1.2s");
        assert_eq!(format_elapsed(184_000), "3m04s");
    }
}
