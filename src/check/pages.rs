//! `pages = "FOLDER"` on a job: the folder it publishes as the project's static site (GitLab
//! Pages' `public`), checked to be one plain folder inside the working folder, published by one
//! job of one instance.

use super::Context;
use super::attributes::Attributes;
use crate::codes::Code;
use crate::diagnostic::{Diagnostic, Sink};

/// The doc of a job's `pages`.
pub const PAGES_DOC: &str = "The folder this job publishes as the project's static site, relative to the working folder (GitLab Pages' `public`); it is kept with the run too.";

/// Reads `pages`: a folder inside the working folder, without glob characters.
pub fn read(attrs: &Attributes, job: &str, sink: &mut Sink) -> Option<String> {
    let folder = attrs.string("pages")?;
    let span = attrs.value_span("pages")?;
    let trimmed = folder.trim_end_matches('/');
    let problem = if trimmed.is_empty() || trimmed == "." {
        Some("the working folder itself")
    } else if trimmed.starts_with('/') {
        Some("an absolute path")
    } else if trimmed
        .split('/')
        .any(|part| part == ".." || part.is_empty())
    {
        Some("climbs out with `..` or has an empty part")
    } else if trimmed.contains(['*', '?', '[', ']', '$', '\n', '\r', '\\', '%']) {
        Some("a glob or a character the targets read")
    } else {
        None
    };
    if let Some(label) = problem {
        sink.push(
            Diagnostic::new(
                Code::InvalidPages,
                span,
                format!("`{job}` publishes `{folder}`, which is not one folder inside the working folder"),
            )
            .label(label)
            .help("name the folder the job writes the site to, relative to the working folder: `pages = \"public\"`"),
        );
        return None;
    }
    Some(trimmed.to_string())
}

/// At most one job publishes the site, and not a matrix job (its instances would publish in
/// turn).
pub fn check(cx: &Context, sink: &mut Sink) {
    let publishers: Vec<&super::model::Job> = cx
        .pipeline
        .jobs
        .iter()
        .filter(|j| j.pages.is_some())
        .collect();
    for job in &publishers {
        if !job.matrix.is_empty() {
            sink.push(
                Diagnostic::new(
                    Code::InvalidPages,
                    job.name_span,
                    format!(
                        "the matrix job `{}` publishes the site once per instance",
                        job.name
                    ),
                )
                .label("a matrix job")
                .help("publish from a job without a matrix that uses the instances' artifact"),
            );
        }
    }
    if let [first, rest @ ..] = publishers.as_slice() {
        for job in rest {
            sink.push(
                Diagnostic::new(
                    Code::InvalidPages,
                    job.name_span,
                    format!(
                        "`{}` publishes the site, as `{}` does",
                        job.name, first.name
                    ),
                )
                .label("a second site")
                .related(first.name_span, "the first publishes here")
                .help("a project has one static site: keep `pages` on one job"),
            );
        }
    }
}
