//! Signed approvals (docs/run.md, "Signed approvals"): the decision message, signed with
//! `ssh-keygen -Y sign -n cdl-approval` (keys in an agent or on hardware work) and verified
//! with `ssh-keygen -Y verify` against an OpenSSH allowed-signers file.
//!
//! Everything an auditor needs lives in the run folder's `approvals/`: the allowed-signers
//! file as it was when the run started, the run's nonce, and per decision the exact message
//! (`GATE.N.msg`) and its signature (`GATE.N.msg.sig`), so that `ssh-keygen -Y verify` can be
//! run by hand.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use sha2::{Digest, Sha256};

use super::record::{Decision, RunRecord, Store, format_time};
use crate::plan::Job;
use crate::plan::JobType;

pub const NAMESPACE: &str = "cdl-approval";
const DIRECTORY: &str = "approvals";
const SIGNERS_COPY: &str = "allowed_signers";
const NONCE: &str = "nonce";

/// The pipeline's allowed-signers file, as the plan names it (relative to the pipeline file).
pub fn trust_file(record: &RunRecord) -> Option<PathBuf> {
    let name = record.plan.pipeline.allowed_signers.as_ref()?;
    let folder = record.file.parent().unwrap_or(Path::new("."));
    Some(folder.join(name))
}

fn directory(store: &Store, record: &RunRecord) -> PathBuf {
    store.run_dir(&record.id).join(DIRECTORY)
}

/// The allowed-signers file as it was when the run started.
pub fn pinned_signers(store: &Store, record: &RunRecord) -> PathBuf {
    directory(store, record).join(SIGNERS_COPY)
}

/// Copies the allowed-signers file into the run and draws the run's nonce; called once when
/// a run whose pipeline signs approvals starts. A missing or empty file is an error.
pub fn pin(store: &Store, record: &RunRecord) -> Result<(), String> {
    let Some(trust) = trust_file(record) else {
        return Ok(());
    };
    let content = std::fs::read(&trust).map_err(|e| {
        format!(
            "allowed_signers: cannot read {}: {e}; approvals of this pipeline must be signed",
            trust.display()
        )
    })?;
    let dir = directory(store, record);
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let mut nonce = [0u8; 16];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut nonce))
        .map_err(|e| format!("cannot draw a nonce: {e}"))?;
    let write = |name: &str, bytes: &[u8]| {
        std::fs::write(dir.join(name), bytes)
            .map_err(|e| format!("cannot write {}: {e}", dir.join(name).display()))
    };
    write(SIGNERS_COPY, &content)?;
    write(NONCE, hex(&nonce).as_bytes())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn sha256_file(path: &Path) -> Result<String, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    Ok(hex(&Sha256::digest(&bytes)))
}

fn rfc3339(ms: u64) -> String {
    format_time(ms).replacen(' ', "T", 1)
}

/// The artifacts a gate's decision covers: those that the deploys after it receive, with the
/// digests the run stored (sorted by name; artifacts not built yet are left out).
fn covered_artifacts(record: &RunRecord, gate: &Job) -> Vec<(String, String)> {
    let plan = &record.plan;
    let stage_of = |job: &Job| plan.stages.iter().position(|s| s.name == job.stage);
    let mut names: Vec<&String> = plan
        .jobs
        .iter()
        .filter(|j| j.job_type == JobType::Deploy && stage_of(j) > stage_of(gate))
        .chain(
            plan.jobs
                .iter()
                .filter(|j| j.job_type == JobType::Deploy && j.needs.contains(&gate.id)),
        )
        .flat_map(|j| &j.inputs)
        .collect();
    names.sort();
    names.dedup();
    names
        .into_iter()
        // v2 i13k: a matrix artifact's instances, each by its own digest.
        .flat_map(|name| {
            super::matrix_artifacts::matrix_artifact(record, name).map_or_else(
                || vec![name.clone()],
                |a| a.parts().into_iter().map(|(k, _)| k).collect(),
            )
        })
        .filter_map(|key| {
            let stored = record.artifacts.get(&key)?;
            Some((key, stored.digest.clone()))
        })
        .collect()
}

/// The exact text a decision's signature covers (design note 11).
pub fn message(
    store: &Store,
    record: &RunRecord,
    gate: &Job,
    decision: &Decision,
) -> Result<String, String> {
    let dir = directory(store, record);
    let nonce = std::fs::read_to_string(dir.join(NONCE))
        .map_err(|e| format!("run {}: no approval nonce ({e})", record.id))?;
    let plan = sha256_file(&store.run_dir(&record.id).join("plan.json"))?;
    let signers = sha256_file(&dir.join(SIGNERS_COPY))?;
    let opened = record
        .job(&gate.id)
        .waiting_since_ms
        .unwrap_or(record.started_ms);
    let mut text = format!(
        "cdl-approval/v1\nrun {} {}\nplan sha256:{plan}\nsigners sha256:{signers}\ngate {} opened {}\n",
        record.id,
        nonce.trim(),
        gate.id,
        rfc3339(opened)
    );
    for (name, digest) in covered_artifacts(record, gate) {
        text.push_str(&format!("artifact {name} sha256:{digest}\n"));
    }
    text.push_str(&format!(
        "decision {}\nprincipal {}\ntime {}\ncomment {}\n",
        if decision.approved {
            "approve"
        } else {
            "reject"
        },
        decision.by,
        rfc3339(decision.at_ms),
        serde_json::to_string(&decision.comment.clone().unwrap_or_default())
            .expect("a string serialises")
    ));
    Ok(text)
}

fn message_path(store: &Store, record: &RunRecord, gate: &Job, index: usize) -> PathBuf {
    directory(store, record).join(format!("{}.{}.msg", gate.id, index + 1))
}

/// The key `cdl approve` signs with when `--key` is not given: git's `user.signingkey` (a
/// path), else `~/.ssh/id_ed25519`.
pub fn default_key() -> PathBuf {
    let configured = Command::new("git")
        .args(["config", "--get", "user.signingkey"])
        .stderr(Stdio::null())
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .filter(|k| !k.is_empty() && !k.starts_with("key::"));
    let home = std::env::var("HOME").unwrap_or_default();
    match configured {
        Some(key) => match key.strip_prefix("~/") {
            Some(rest) => Path::new(&home).join(rest),
            None => PathBuf::from(key),
        },
        None => Path::new(&home).join(".ssh/id_ed25519"),
    }
}

/// Writes decision `index` of `gate` as a message and signs it with `key`.
pub fn sign(
    store: &Store,
    record: &RunRecord,
    gate: &Job,
    index: usize,
    key: &Path,
) -> Result<(), String> {
    let decision = &record.job(&gate.id).decisions[index];
    let text = message(store, record, gate, decision)?;
    let path = message_path(store, record, gate, index);
    let signature = path.with_extension("msg.sig");
    let _ = std::fs::remove_file(&signature); // ssh-keygen will not overwrite it
    std::fs::write(&path, &text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    let output = Command::new("ssh-keygen")
        .args(["-q", "-Y", "sign", "-n", NAMESPACE, "-f"])
        .arg(key)
        .arg(&path)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run ssh-keygen to sign the decision: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "ssh-keygen could not sign with {}: {}",
            key.display(),
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    // The message and its signature reach the disk before the decision that names them is
    // recorded (and reported): a power loss cannot leave a decision without its proof.
    for file in [&path, &signature] {
        std::fs::File::open(file)
            .and_then(|f| f.sync_data())
            .map_err(|e| format!("cannot write {}: {e}", file.display()))?;
    }
    if let Some(dir) = path.parent() {
        super::record::sync_dir(dir).map_err(|e| format!("cannot write {}: {e}", dir.display()))?;
    }
    Ok(())
}

/// Checks decision `index` of `gate`: its stored message is the one the record implies, and
/// its signature verifies for the decision's principal against `trust`. Returns the key's
/// fingerprint as `ssh-keygen` reports it.
pub fn verify(
    store: &Store,
    record: &RunRecord,
    gate: &Job,
    index: usize,
    trust: &Path,
) -> Result<String, String> {
    let decision = &record.job(&gate.id).decisions[index];
    let path = message_path(store, record, gate, index);
    let stored = std::fs::read_to_string(&path)
        .map_err(|_| format!("{} by {} is not signed", gate.id, decision.by))?;
    let expected = message(store, record, gate, decision)?;
    if stored != expected {
        return Err(format!(
            "{} by {}: the signed message does not match the record",
            gate.id, decision.by
        ));
    }
    let mut child = Command::new("ssh-keygen")
        .args(["-Y", "verify", "-n", NAMESPACE, "-f"])
        .arg(trust)
        .arg("-I")
        .arg(&decision.by)
        .arg("-s")
        .arg(path.with_extension("msg.sig"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run ssh-keygen to verify: {e}"))?;
    child
        .stdin
        .take()
        .expect("piped")
        .write_all(stored.as_bytes())
        .map_err(|e| format!("cannot run ssh-keygen to verify: {e}"))?;
    let output = child
        .wait_with_output()
        .map_err(|e| format!("cannot run ssh-keygen to verify: {e}"))?;
    let said = String::from_utf8_lossy(&output.stdout).trim().to_string();
    if !output.status.success() {
        return Err(format!(
            "{} by {}: the signature does not verify for `{}` against {}",
            gate.id,
            decision.by,
            decision.by,
            trust.display()
        ));
    }
    // "Good "cdl-approval" signature for alice with ED25519 key SHA256:…"
    Ok(said
        .split_whitespace()
        .find(|w| w.starts_with("SHA256:"))
        .unwrap_or("")
        .to_string())
}
