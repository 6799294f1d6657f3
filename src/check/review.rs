//! Review environments: `environment { name = "review/" + branch  url = "https://" + …  stop =
//! JOB }` in a job. A review environment is made by the job for each branch (a review app); it
//! carries no policy, unlike a declared `environment NAME { … }`, whose approvals and required
//! tests the checker proves for every deploy to it. The job `stop` names is started by hand and
//! tears the environment down; it gets the same `CDL_ENV_NAME` and `CDL_ENV_URL`.
//!
//! E0360: a misused review environment (where it is written, its name, its url, a reference
//! the CI systems cannot read before the job runs, a name that is a declared environment's);
//! E0361: a stop job that is unknown, not started by hand, or not a plain job of its own.

use super::Context;
use super::attributes::{Spec, Type};
use super::value::{Composed, Piece, Place};
use crate::codes::Code;
use crate::diagnostic::{Diagnostic, Sink, did_you_mean};
use crate::model::JobType;
use crate::model::value::Reference;
use crate::span::{Ident, Span};
use crate::syntax::ast::{self, ExprKind};

/// The attributes of a job's `environment { … }` block: completion and hover read this table.
pub const REVIEW: &[Spec] = &[
    Spec {
        name: "name",
        ty: Type::String,
        required: true,
        doc: "The review environment's name, made per branch: `\"review/\" + branch` (letters, digits, ` `, `-`, `_`, `.`, `/` and references). Jobs get it as `CDL_ENV_NAME`.",
    },
    Spec {
        name: "url",
        ty: Type::String,
        required: false,
        doc: "Where the review environment is reached, an http(s) URL: `\"https://\" + branch + \".preview.example\"`. Jobs get it as `CDL_ENV_URL`.",
    },
    Spec {
        name: "stop",
        ty: Type::Names,
        required: false,
        doc: "The job that tears the environment down: a plain job with `start = manual`, started by hand (GitLab's stop button).",
    },
];

/// A job's review environment, as written.
#[derive(Debug, Clone, PartialEq)]
pub struct Review {
    pub name: Composed,
    pub url: Option<Composed>,
    /// The job that stops it.
    pub stop: Option<Ident>,
    /// The `environment` word.
    pub span: Span,
}

/// The characters a review environment's name may hold, besides references: what GitLab and
/// GitHub accept in an environment name.
fn name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, ' ' | '-' | '_' | '.' | '/')
}

fn misuse(
    span: Span,
    message: impl Into<String>,
    label: &str,
    help: impl Into<String>,
) -> Diagnostic {
    Diagnostic::new(Code::InvalidReviewEnvironment, span, message)
        .label(label)
        .help(help)
}

/// Reads a job's `environment { … }` block. `None` when there is none or it was reported.
pub fn read(
    body: &[ast::BodyItem],
    job_type: JobType,
    has_matrix: bool,
    sink: &mut Sink,
) -> Option<Review> {
    let block = super::platform::one_block(
        body,
        "environment",
        "a job makes one review environment: merge them into one block",
        sink,
    )?;
    let span = block.word.span;
    match job_type {
        // A gate's settings are reported by check/platform.rs.
        JobType::Gate => return None,
        JobType::Job => {}
        JobType::Deploy => {
            sink.push(misuse(
                span,
                "a deploy goes to its declared environment, not to a review environment",
                "a review environment on a deploy",
                "a review environment carries no policy, so a deploy cannot make one: deploy to a declared `environment NAME { … }`, or make the review app in a `job`",
            ));
            return None;
        }
        _ => {
            sink.push(misuse(
                span,
                "only a `job` makes a review environment",
                "not a `job`",
                "move the `environment { … }` block to a `job` that deploys the review app; tests run `on` a declared environment",
            ));
            return None;
        }
    }
    if has_matrix {
        sink.push(misuse(
            span,
            "a job with a matrix cannot make a review environment",
            "the instances would make one environment each, all stopped by one job",
            "make the review app in a job without a matrix",
        ));
        return None;
    }
    let mut name = None;
    let mut url = None;
    let mut stop = None;
    let mut ok = true;
    for attribute in &block.attributes {
        match attribute.name.name.as_str() {
            "name" => {
                name = Some(super::value::read(
                    &attribute.value,
                    Place::JobAttribute,
                    sink,
                ))
            }
            "url" => {
                url = Some(super::value::read(
                    &attribute.value,
                    Place::JobAttribute,
                    sink,
                ))
            }
            "stop" => match &attribute.value.kind {
                ExprKind::Ident(job) => {
                    stop = Some(Ident {
                        name: job.clone(),
                        span: attribute.value.span,
                    })
                }
                ExprKind::Invalid => ok = false,
                other => {
                    sink.push(misuse(
                        attribute.value.span,
                        format!("`stop` names a job, found {}", other.describe()),
                        "not a job name",
                        "write the stop job's name without quotes: `stop = teardown`",
                    ));
                    ok = false;
                }
            },
            _ => {
                sink.push(super::attributes::unknown_attribute(
                    &attribute.name,
                    "a review environment",
                    REVIEW,
                ));
            }
        }
    }
    let Some(name) = name else {
        sink.push(misuse(
            span,
            "a review environment needs a name",
            "no `name`",
            "name it per branch: `name = \"review/\" + branch`",
        ));
        return None;
    };
    let name = name?;
    let url = match url {
        Some(Some(url)) => Some(url),
        Some(None) => return None,
        None => None,
    };
    ok &= references(&name, sink);
    if let Some(url) = &url {
        ok &= references(url, sink);
    }
    for (piece, span) in &name.pieces {
        if let Piece::Text(text) = piece
            && let Some(bad) = text.chars().find(|c| !name_char(*c))
        {
            sink.push(misuse(
                *span,
                format!("a review environment's name cannot hold {bad:?}"),
                "not allowed in an environment name",
                "use letters, digits, spaces, `-`, `_`, `.` and `/` (GitLab and GitHub reject the others), and references such as `branch`",
            ));
            ok = false;
        }
    }
    if name.pieces.is_empty() {
        sink.push(misuse(
            name.span,
            "a review environment's name is empty",
            "empty name",
            "name it per branch: `name = \"review/\" + branch`",
        ));
        ok = false;
    }
    if let Some(url) = &url {
        let head = match url.pieces.first() {
            Some((Piece::Text(text), _)) => text.as_str(),
            _ => "",
        };
        let scheme = ["https://", "http://"]
            .iter()
            .find(|s| head.starts_with(**s))
            .map(|s| s.len());
        match scheme {
            Some(len) if head.len() > len || url.pieces.len() > 1 => {}
            _ => {
                sink.push(misuse(
                    url.span,
                    "a review environment's url must start with `https://` or `http://` and a host",
                    "not an http(s) URL",
                    "write the scheme first: `url = \"https://\" + branch + \".preview.example\"`",
                ));
                ok = false;
            }
        }
        for (piece, span) in &url.pieces {
            if let Piece::Text(text) = piece
                && text.chars().any(|c| c.is_whitespace() || c.is_control())
            {
                sink.push(misuse(
                    *span,
                    "a review environment's url cannot hold spaces or control characters",
                    "not part of a URL",
                    "percent-encode them (`%20`)",
                ));
                ok = false;
            }
        }
    }
    ok.then_some(Review {
        name,
        url,
        stop,
        span,
    })
}

/// The references a CI system can read before the job runs (it names the environment then):
/// the run context.
fn references(value: &Composed, sink: &mut Sink) -> bool {
    let mut ok = true;
    for (piece, span) in &value.pieces {
        let Piece::Ref(reference) = piece else {
            continue;
        };
        if matches!(
            reference,
            Reference::Branch
                | Reference::Tag
                | Reference::Sha
                | Reference::Repository
                | Reference::Owner
                | Reference::Project
                | Reference::DefaultBranch
        ) {
            continue;
        }
        sink.push(misuse(
            *span,
            format!("a review environment cannot read `{reference}`"),
            "not known before the job runs",
            "CI systems name the environment before the job starts: use `branch`, `tag`, `sha`, `repository`, `owner`, `project` or `default_branch`",
        ));
        ok = false;
    }
    ok
}

/// The pipeline-wide checks: each stop job exists, is a plain job started by hand, makes no
/// review environment itself and stops one only; a name is not a declared environment's.
pub fn check(cx: &Context, sink: &mut Sink) {
    let pipeline = cx.pipeline;
    let mut stopped: std::collections::HashMap<&str, Span> = std::collections::HashMap::new();
    for job in &pipeline.jobs {
        let Some(review) = &job.review else { continue };
        let parts = review.name.resolve(&Default::default());
        if let Some(text) = Composed::fixed(&parts)
            && let Some(declared) = pipeline.environments.get(&text)
        {
            sink.push(
                misuse(
                    review.name.span,
                    format!("the review environment is named `{text}`, a declared environment"),
                    "a declared environment's name",
                    "a declared environment carries approvals and required tests that only deploys may reach: give the review environment a name of its own, such as `\"review/\" + branch`",
                )
                .related(declared.name.span, "declared here"),
            );
        }
        let Some(stop) = &review.stop else { continue };
        let Some(stop_id) = pipeline.job_names.get(&stop.name) else {
            let help = did_you_mean(&stop.name, pipeline.jobs.iter().map(|j| j.name.as_str()))
                .unwrap_or_else(|| {
                    "name a job of the pipeline that tears the environment down".into()
                });
            sink.push(
                Diagnostic::new(
                    Code::InvalidStopJob,
                    stop.span,
                    format!("no job is named `{}`", stop.name),
                )
                .label("unknown job")
                .help(help),
            );
            continue;
        };
        let stop_job = pipeline.job(*stop_id);
        let problem = if stop_job.name == job.name {
            Some((
                "a job cannot stop the environment it makes".to_string(),
                "name another job, started by hand, that tears it down".to_string(),
            ))
        } else if stop_job.job_type != JobType::Job {
            Some((
                format!("the stop job `{}` is not a `job`", stop_job.name),
                "tear the environment down in a `job` with `start = manual`".to_string(),
            ))
        } else if stop_job.manual.is_none() {
            Some((
                format!("the stop job `{}` is not started by hand", stop_job.name),
                format!(
                    "write `start = manual` in `{}`: it would tear the environment down in every run",
                    stop_job.name
                ),
            ))
        } else if stop_job.review.is_some() {
            Some((
                format!("the stop job `{}` makes a review environment itself", stop_job.name),
                "a stop job tears down the environment of the job that names it: remove its `environment { … }`".to_string(),
            ))
        } else if !stop_job.matrix.is_empty() {
            Some((
                format!("the stop job `{}` has a matrix", stop_job.name),
                "stop the environment with one job, without a matrix".to_string(),
            ))
        } else if let Some(first) = stopped.get(stop.name.as_str()) {
            sink.push(
                Diagnostic::new(
                    Code::InvalidStopJob,
                    stop.span,
                    format!("`{}` already stops another review environment", stop.name),
                )
                .label("stops a second environment")
                .related(*first, "first named here")
                .help("give each review environment a stop job of its own"),
            );
            continue;
        } else {
            None
        };
        match problem {
            Some((message, help)) => sink.push(
                Diagnostic::new(Code::InvalidStopJob, stop.span, message)
                    .label("cannot stop the environment")
                    .related(stop_job.name_span, "the job")
                    .help(help),
            ),
            None => {
                stopped.insert(stop.name.as_str(), stop.span);
            }
        }
    }
}

/// For each stop job, the job whose review environment it stops (the checker made sure it is
/// one), computed once for the whole pipeline.
pub fn stopped_by(
    pipeline: &super::model::Pipeline,
) -> std::collections::HashMap<&str, &super::model::Job> {
    let mut out = std::collections::HashMap::new();
    for job in &pipeline.jobs {
        if let Some(stop) = job.review.as_ref().and_then(|r| r.stop.as_ref()) {
            out.entry(stop.name.as_str()).or_insert(job);
        }
    }
    out
}
