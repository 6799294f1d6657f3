//! What a test inherits from its kind: the `timeout` and `retries` it did not set itself.
//! Shown where people look (hover, inlay hints, `cdl plan`, the message of a timed-out job).

use indexmap::IndexMap;

use super::model::{Job, Kind};
use crate::syntax::literal::format_duration;

/// One default a job takes from its kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inherited {
    /// `timeout` or `retries`.
    pub attribute: &'static str,
    /// The value as it would be written: `15m`, `2`.
    pub value: String,
    pub kind: String,
}

/// The defaults `job` takes from its kind, `timeout` first.
pub fn inherited(job: &Job, kinds: &IndexMap<String, Kind>) -> Vec<Inherited> {
    let Some(kind) = job.kind.as_ref().and_then(|k| kinds.get(&k.name)) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    if let (None, Some(timeout)) = (job.timeout, kind.timeout) {
        out.push(Inherited {
            attribute: "timeout",
            value: format_duration(timeout),
            kind: kind.name.name.clone(),
        });
    }
    if let (None, Some(retries)) = (job.retries, kind.retries) {
        out.push(Inherited {
            attribute: "retries",
            value: retries.to_string(),
            kind: kind.name.name.clone(),
        });
    }
    out
}
