//! Test-only faults, driven by environment variables and free when they are unset (one read of
//! a `OnceLock`): failpoints that `SIGKILL` the process at the narrow moments random kills
//! rarely hit, and writes that fail with `ENOSPC` as on a full disk. The torture test
//! (`tests/torture/torture.py`) and `tests/run_records.rs` use them.
//!
//! - `CDL_FAILPOINT=NAME[:N]`: the `N`th time (default 1) the point `NAME` is passed, the
//!   process kills itself with `SIGKILL`.
//! - `CDL_FAULT_ENOSPC=PLACE[:N]` (`journal`, `log`, `artifact`, `record`): from the `N`th write
//!   (default 1) at that place on, every write there fails with `ENOSPC`.
//! - `CDL_FAULT_COUNTER=FILE`: count occurrences in `FILE` (one byte appended each) rather than
//!   in the process, so that the `N`th counts across processes (supervisors, resumes).
//!
//! A hand-rolled macro rather than the `fail` crate: the points must fire in release builds
//! (the torture test drives `target/release/cdl`), and a second release build with a cargo
//! feature would cost CI minutes on two cores; unset, a point costs one atomic load.

use std::io::Write;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

/// Kills the process with `SIGKILL` when `CDL_FAILPOINT` names this point (and occurrence).
#[macro_export]
macro_rules! failpoint {
    ($name:literal) => {
        $crate::run::fault::failpoint($name)
    };
}

/// Every failpoint, for documentation and for the torture test's list.
pub const FAILPOINTS: &[&str] = &[
    "attempt-started",
    "result-renamed",
    "artifact-copy",
    "artifact-stored",
    "snapshot-renamed",
    "decision-recording",
    "gate-settling",
    "gate-reported",
    "decision-reported",
    "cancel-journaled",
    "report-copying",
    // v2 i14c: caches
    "cache-copying",
    "cache-written",
    "cache-replacing",
    "cache-saved",
];

/// Where a write can be made to fail as on a full disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    /// An append to `journal.jsonl`.
    Journal,
    /// A job's log.
    Log,
    /// A file copied into the artifact store or a consumer's copy.
    Artifact,
    /// A snapshot of `run.json`.
    Record,
}

impl Place {
    fn name(self) -> &'static str {
        match self {
            Place::Journal => "journal",
            Place::Log => "log",
            Place::Artifact => "artifact",
            Place::Record => "record",
        }
    }
}

struct Armed {
    name: String,
    nth: u64,
    local: AtomicU64,
}

impl Armed {
    fn parse(variable: &str) -> Option<Armed> {
        let value = std::env::var(variable).ok()?;
        let (name, nth) = match value.split_once(':') {
            Some((name, nth)) => (name, nth.parse().ok()?),
            None => (value.as_str(), 1),
        };
        Some(Armed {
            name: name.to_string(),
            nth,
            local: AtomicU64::new(0),
        })
    }

    /// This occurrence's number (from 1), counted in the counter file when there is one.
    fn occurrence(&self) -> u64 {
        if let Some(path) = std::env::var_os("CDL_FAULT_COUNTER") {
            let counted = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .and_then(|mut file| {
                    // With O_APPEND, write and offset move together: the offset after our byte
                    // is our number, even with other processes appending.
                    file.write_all(b".")?;
                    std::io::Seek::stream_position(&mut file)
                });
            if let Ok(n) = counted {
                return n;
            }
        }
        self.local.fetch_add(1, Ordering::SeqCst) + 1
    }
}

fn armed_failpoint() -> Option<&'static Armed> {
    static ARMED: OnceLock<Option<Armed>> = OnceLock::new();
    ARMED.get_or_init(|| Armed::parse("CDL_FAILPOINT")).as_ref()
}

fn armed_enospc() -> Option<&'static Armed> {
    static ARMED: OnceLock<Option<Armed>> = OnceLock::new();
    ARMED
        .get_or_init(|| Armed::parse("CDL_FAULT_ENOSPC"))
        .as_ref()
}

/// The failpoint `name`: see the module's documentation.
pub fn failpoint(name: &str) {
    let Some(armed) = armed_failpoint() else {
        return;
    };
    if armed.name == name && armed.occurrence() == armed.nth {
        // SAFETY: kill(2) on our own pid; SIGKILL cannot be caught, nothing runs after it.
        unsafe { libc::kill(libc::getpid(), libc::SIGKILL) };
    }
}

/// `Err(ENOSPC)` when `CDL_FAULT_ENOSPC` makes this write at `place` fail.
pub fn check(place: Place) -> std::io::Result<()> {
    let Some(armed) = armed_enospc() else {
        return Ok(());
    };
    if armed.name == place.name() && armed.occurrence() >= armed.nth {
        return Err(std::io::Error::from_raw_os_error(libc::ENOSPC));
    }
    Ok(())
}

/// `writer.write_all(bytes)`, failing as on a full disk when `CDL_FAULT_ENOSPC` says so (after
/// writing half of `bytes`, as a real full disk may).
pub fn write_all(place: Place, writer: &mut impl Write, bytes: &[u8]) -> std::io::Result<()> {
    if let Err(error) = check(place) {
        let _ = writer.write_all(&bytes[..bytes.len() / 2]);
        return Err(error);
    }
    writer.write_all(bytes)
}
