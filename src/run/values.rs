//! Values passed between jobs in `cdl run` (language v2 §4 "Passing values"): read from the
//! attempt's `$CDL_VALUES` once the job succeeded, kept in its record (journaled with its
//! success, so `cdl resume` keeps them), and given to every job that waits for it.

use std::path::Path;

use indexmap::IndexMap;

use super::record::RunRecord;
use crate::model::values::read_values;
use crate::plan::Job;

/// What `job` wrote to `$CDL_VALUES` in the attempt whose files are in `dir`: every declared
/// value (empty when not written). An undeclared name or a bad line is the job's failure,
/// said in words.
pub fn read(dir: &Path, job: &Job) -> Result<IndexMap<String, String>, String> {
    let file = super::steps::values_file(dir);
    let text = match std::fs::read(&file) {
        Ok(bytes) => String::from_utf8(bytes)
            .map_err(|_| "the job wrote bytes to $CDL_VALUES that are not UTF-8".to_string())?,
        // No file: an attempt that ran no step (nothing written).
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(format!("cannot read $CDL_VALUES ({}): {e}", file.display())),
    };
    read_values(&text, &job.values).map_err(|e| e.to_string())
}

/// The `CDL_VALUE_<JOB>_<NAME>` variables `job` gets: one per value of each job it waits for,
/// empty when that job did not write it or did not succeed.
pub fn variables(record: &RunRecord, job: &Job) -> Vec<(String, String)> {
    record
        .plan
        .values_read(job)
        .into_iter()
        .map(|read| {
            let value = record
                .jobs
                .get(&read.job.id)
                .and_then(|r| r.values.get(read.name))
                .cloned()
                .unwrap_or_default();
            (read.variable, value)
        })
        .collect()
}
