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
