//! `values = [NAME, …]` on a job (language v2 §4 "Passing values"): the names a job may write
//! to `$CDL_VALUES`, read by the jobs that wait for it as `CDL_VALUE_<JOB>_<NAME>`. Each name
//! must be one a `NAME=VALUE` line can hold, each variable must belong to one value, and a
//! matrix job (whose instances would race for one variable) declares none.

use std::collections::HashMap;

use super::Context;
use crate::codes::Code;
use crate::diagnostic::{Diagnostic, Sink};
use crate::model::steps::is_variable_name;
use crate::model::values::value_variable;
use crate::span::Ident;
use crate::syntax::ast::{Attribute, ExprKind};

pub const VALUES_DOC: &str = "Names the job may append to `$CDL_VALUES` as `NAME=VALUE` lines; the jobs that wait for it read them as `CDL_VALUE_<JOB>_<NAME>`.";

/// The names of a job's `values` list, with their spans (a list of another type is reported
/// by the attribute's type check).
pub fn declared(attributes: &[&Attribute]) -> Vec<Ident> {
    let Some(attribute) = attributes.iter().find(|a| a.name.name == "values") else {
        return Vec::new();
    };
    let ExprKind::List(items) = &attribute.value.kind else {
        return Vec::new();
    };
    items
        .iter()
        .filter_map(|item| match &item.kind {
            ExprKind::Ident(name) => Some(Ident {
                name: name.clone(),
                span: item.span,
            }),
            _ => None,
        })
        .collect()
}

pub fn check(cx: &Context, sink: &mut Sink) {
    // Every `CDL_VALUE_…` variable, with the job and value that own it.
    let mut owners: HashMap<String, (&str, &Ident)> = HashMap::new();
    for job in &cx.pipeline.jobs {
        if let Some(first) = job.values.first()
            && !job.matrix.is_empty()
        {
            sink.push(
                Diagnostic::new(
                    Code::ValuesOnMatrix,
                    first.span,
                    format!("the matrix job `{}` cannot pass values on", job.name),
                )
                .label("each instance would write the same variable")
                .help("declare the values in a job without a matrix, or pass the variants' results as an artifact"),
            );
            continue;
        }
        for value in &job.values {
            if !is_variable_name(&value.name) {
                sink.push(
                    Diagnostic::new(
                        Code::ValueName,
                        value.span,
                        format!(
                            "the value name `{}` cannot be written as a `NAME=VALUE` line",
                            value.name
                        ),
                    )
                    .label("letters, digits and `_` only, not first a digit")
                    .help(format!("write `{}`", value.name.replace('-', "_"))),
                );
                continue;
            }
            let variable = value_variable(&job.name, &value.name);
            match owners.get(&variable) {
                Some((owner, first)) => {
                    let same = *owner == job.name.as_str();
                    sink.push(
                        Diagnostic::new(
                            Code::ValueVariableTwice,
                            value.span,
                            if same {
                                format!("`{}` declares the value `{}` twice (names are read without case)", job.name, value.name)
                            } else {
                                format!("the value `{}` of `{}` and the value `{}` of `{owner}` are both read as `{variable}`", value.name, job.name, first.name)
                            },
                        )
                        .label(format!("also `{variable}`"))
                        .related(first.span, "first here")
                        .help(if same {
                            "remove one of them".to_string()
                        } else {
                            "rename one of the values".to_string()
                        }),
                    );
                }
                None => {
                    owners.insert(variable, (job.name.as_str(), value));
                }
            }
        }
    }
}

/// W0116: a command of a job reads `$CDL_VALUE_<JOB>_<NAME>` that it never receives — no job
/// declares that value, the job writes it itself, or the job does not wait for its writer.
/// Only the job's own `run` and step scripts are read: a script file is not seen.
pub fn check_reads(cx: &Context, sink: &mut Sink) {
    let pipeline = cx.pipeline;
    let mut writers: HashMap<String, (usize, &str)> = HashMap::new();
    for (index, job) in pipeline.jobs.iter().enumerate() {
        if job.matrix.is_empty() {
            for value in job.values.iter().filter(|v| is_variable_name(&v.name)) {
                writers
                    .entry(value_variable(&job.name, &value.name))
                    .or_insert((index, value.name.as_str()));
            }
        }
    }
    for (index, job) in pipeline.jobs.iter().enumerate() {
        let scripts = job
            .run
            .iter()
            .enumerate()
            .map(|(i, run)| {
                (
                    run.as_str(),
                    job.run_spans.get(i).copied().unwrap_or(job.header_span),
                )
            })
            .chain(job.steps.iter().map(|s| (s.run.as_str(), job.header_span)));
        let mut seen: Vec<String> = Vec::new();
        for (script, span) in scripts {
            for variable in value_variables(script) {
                if seen.contains(&variable) {
                    continue;
                }
                seen.push(variable.clone());
                let diagnostic = match writers.get(&variable) {
                    None => Diagnostic::new(
                        Code::ValueNotReceived,
                        span,
                        format!(
                            "`{}` reads `${variable}`, but no job declares that value",
                            job.name
                        ),
                    )
                    .label("always empty")
                    .maybe_help(
                        crate::diagnostic::closest(&variable, sorted(&writers))
                            .map(|near| format!("the declared value nearest to it is `${near}`"))
                            .or_else(|| {
                                Some("declare it in the writing job: `values = [NAME]`".into())
                            }),
                    ),
                    Some((writer, _)) if *writer == index => Diagnostic::new(
                        Code::ValueNotReceived,
                        span,
                        format!("`{}` reads its own value `${variable}`", job.name),
                    )
                    .label("a job's values reach only the jobs that wait for it")
                    .help("pass it between its own steps through `$CDL_ENV` instead"),
                    Some((writer, name)) if !waits_for(cx, index, *writer) => {
                        let writer = &pipeline.jobs[*writer].name;
                        Diagnostic::new(
                            Code::ValueNotReceived,
                            span,
                            format!("`{}` reads `${variable}` (the value `{name}` of `{writer}`), but does not wait for `{writer}`", job.name),
                        )
                        .label("empty: it may run before or beside the writer")
                        .help(format!("make it wait for `{writer}` (`after = [{writer}]`), or move it to a later stage"))
                    }
                    Some(_) => continue,
                };
                sink.push(diagnostic);
            }
        }
    }
}

fn sorted<'a>(writers: &'a HashMap<String, (usize, &str)>) -> Vec<&'a str> {
    let mut names: Vec<&str> = writers.keys().map(String::as_str).collect();
    names.sort_unstable();
    names
}

/// Whether the job at `index` waits for the job at `writer`: `writer` is in an earlier stage, or
/// is reached, transitively, through `after`, `uses` and a deploy's artifact job. Asked only for
/// the values a job reads, so a pipeline of many jobs that read none costs nothing here.
pub(crate) fn waits_for(cx: &Context, index: usize, writer: usize) -> bool {
    let jobs = &cx.pipeline.jobs;
    if jobs[writer].stage < jobs[index].stage {
        return true;
    }
    let mut seen = vec![false; jobs.len()];
    let mut queue = vec![index];
    while let Some(current) = queue.pop() {
        let job = &jobs[current];
        for next in job
            .after_jobs
            .iter()
            .chain(&job.uses_jobs)
            .chain(&job.artifact_job)
            .map(|id| id.0)
        {
            if next == writer {
                return true;
            }
            if !seen[next] {
                seen[next] = true;
                queue.push(next);
            }
        }
    }
    false
}

/// Every `CDL_VALUE_…` variable a script names (`$CDL_VALUE_X`, `${CDL_VALUE_X}`, …).
fn value_variables(script: &str) -> Vec<String> {
    let prefix = crate::model::values::VALUE_PREFIX;
    let mut found = Vec::new();
    let mut rest = script;
    while let Some(at) = rest.find(prefix) {
        let before = script.len() - rest.len() + at;
        let starts_word = script[..before]
            .chars()
            .next_back()
            .is_none_or(|c| !(c.is_ascii_alphanumeric() || c == '_'));
        let tail = &rest[at..];
        let end = tail
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(tail.len());
        if starts_word && end > prefix.len() {
            found.push(tail[..end].to_string());
        }
        rest = &tail[end.max(1)..];
    }
    found
}

#[cfg(test)]
mod tests {
    use super::value_variables;

    #[test]
    fn value_variables_are_found_in_every_spelling() {
        assert_eq!(
            value_variables(
                "echo $CDL_VALUE_A_B ${CDL_VALUE_C_D}x \"$CDL_VALUE_E_F\" XCDL_VALUE_G_H $CDL_VALUE_"
            ),
            ["CDL_VALUE_A_B", "CDL_VALUE_C_D", "CDL_VALUE_E_F"]
        );
    }
}
