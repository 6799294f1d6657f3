//! What stops a run, typed: the record cannot be written, or it is inconsistent.

use std::fmt;

#[derive(Debug)]
pub enum RunError {
    /// The run record cannot be written (a full disk, a read-only folder …): no new work starts.
    Write(std::io::Error),
    /// The run record contradicts itself or the plan (edited by hand, damaged).
    Record(String),
    /// A run that stopped because its record could not be written; says what happened.
    Stopped(String),
}

impl fmt::Display for RunError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RunError::Write(e) => write!(f, "cannot write the run record: {e}"),
            RunError::Record(message) | RunError::Stopped(message) => f.write_str(message),
        }
    }
}

impl std::error::Error for RunError {}

impl From<RunError> for String {
    fn from(error: RunError) -> String {
        error.to_string()
    }
}
