//! Which values a job reads (language v2 §4 "Passing values"): those of every job it waits
//! for — the jobs of earlier stages and, transitively, the jobs it names in `after`/`uses`.

use std::collections::HashSet;

use super::{Job, Plan};
use crate::model::values::value_variable;

/// One value a job reads: the job that writes it, its name, and the variable it arrives in.
#[derive(Debug, Clone)]
pub struct ValueRead<'p> {
    pub job: &'p Job,
    pub name: &'p str,
    pub variable: String,
}

impl Plan {
    /// The ids of every job `job` waits for, directly or not, in the plan's order.
    pub fn waits_for(&self, job: &Job) -> Vec<&Job> {
        let position = self.stages.iter().position(|s| s.name == job.stage);
        let mut waited: HashSet<&str> = self.stages[..position.unwrap_or(0)]
            .iter()
            .flat_map(|s| s.jobs.iter().map(String::as_str))
            .collect();
        let mut queue: Vec<&str> = job.needs.iter().map(String::as_str).collect();
        while let Some(id) = queue.pop() {
            if waited.insert(id)
                && let Some(need) = self.jobs.iter().find(|j| j.id == id)
            {
                queue.extend(need.needs.iter().map(String::as_str));
            }
        }
        self.jobs
            .iter()
            .filter(|j| j.id != job.id && waited.contains(j.id.as_str()))
            .collect()
    }

    /// Every value `job` reads, in the plan's order of the jobs that write them.
    pub fn values_read(&self, job: &Job) -> Vec<ValueRead<'_>> {
        self.waits_for(job)
            .into_iter()
            .flat_map(|writer| {
                writer.values.iter().map(move |name| ValueRead {
                    job: writer,
                    name,
                    variable: value_variable(&writer.name, name),
                })
            })
            .collect()
    }
}
