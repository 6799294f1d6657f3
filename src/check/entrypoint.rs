//! `entrypoint = [...]` on a job: the image's entrypoint replaced (GitLab's `image:
//! entrypoint`, `[""]` for none); it needs an image to replace the entrypoint of (E0349).

use super::Context;
use crate::codes::Code;
use crate::diagnostic::{Diagnostic, Sink};

/// The doc of a job's `entrypoint`.
pub const ENTRYPOINT_DOC: &str = "The command that replaces the image's entrypoint; `[\"\"]` runs the job's commands with none (GitLab's `image: entrypoint`).";

/// A job with `entrypoint` runs in an image: its own, or the pipeline's.
pub fn check(cx: &Context, sink: &mut Sink) {
    for job in &cx.pipeline.jobs {
        if job.entrypoint.is_none() {
            continue;
        }
        let image = job.image.is_some() || (!job.no_image && cx.pipeline.image.is_some());
        if !image {
            sink.push(
                Diagnostic::new(
                    Code::EntrypointWithoutImage,
                    job.name_span,
                    format!("`{}` replaces the entrypoint of no image", job.name),
                )
                .label("runs without an image")
                .help(
                    "give the job the `image` whose entrypoint it replaces, or remove `entrypoint`",
                ),
            );
        }
    }
}

/// Whether an entrypoint says "none": `[]` or `[""]`, which the targets that run the
/// commands through their own process (GitHub, Argo, Tekton) already do.
pub fn is_none(entrypoint: &[String]) -> bool {
    entrypoint.iter().all(|e| e.is_empty())
}
