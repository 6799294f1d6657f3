//! What stops a run command, typed: bad input, a record that cannot be written, or one that is
//! damaged or inconsistent. Each has its message (with a help line where there is a way out)
//! and its exit code.

use std::fmt;
use std::path::PathBuf;

#[derive(Debug)]
pub enum RunError {
    /// The command cannot start: a bad option, an unknown run, a run locked by another `cdl`.
    Usage(String),
    /// The run record cannot be written (a full disk, a read-only folder …): no new work starts.
    Write(std::io::Error),
    /// The run record contradicts itself or the plan (edited by hand, damaged).
    Record(String),
    /// A line of `journal.jsonl` that is not a cut-short last line does not read.
    Journal {
        path: PathBuf,
        line: usize,
        what: String,
    },
    /// A run that stopped because its record could not be written; says what happened.
    Stopped(String),
}

impl RunError {
    /// The process's exit code: 2 for every error (1 is a failed job, 3 a paused run, 128 + N
    /// a signal), 4 for a run stopped because its record could not be written (it can be
    /// resumed once that is fixed).
    pub fn exit_code(&self) -> u8 {
        match self {
            RunError::Usage(_) | RunError::Record(_) | RunError::Journal { .. } => 2,
            RunError::Write(_) | RunError::Stopped(_) => 4,
        }
    }
}

impl fmt::Display for RunError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RunError::Write(e) => write!(
                f,
                "cannot write the run record in {e}; no new job starts\nhelp: what was written before is consistent: free space (or fix the folder), then `cdl resume` continues the run"
            ),
            RunError::Usage(message) | RunError::Record(message) | RunError::Stopped(message) => {
                f.write_str(message)
            }
            RunError::Journal { path, line, what } => write!(
                f,
                "{}:{line}: a damaged journal entry: {what}\nhelp: the {} line(s) before it are intact; to resume from them, keep a copy of the run folder, cut the journal before line {line} (`head -n {} journal.jsonl > j && mv j journal.jsonl`) and run `cdl resume`: what line {line} and later recorded is lost, and jobs it said finished run again",
                path.display(),
                line - 1,
                line - 1,
            ),
        }
    }
}

impl std::error::Error for RunError {}

impl From<RunError> for String {
    fn from(error: RunError) -> String {
        error.to_string()
    }
}
