//! A warning for a stage with no jobs.

use crate::check::Context;
use crate::codes::Code;
use crate::diagnostic::{Diagnostic, Sink};

pub fn check(cx: &Context, sink: &mut Sink) {
    for stage in cx.pipeline.stages.iter().filter(|s| s.jobs.is_empty()) {
        sink.push(
            Diagnostic::new(
                Code::EmptyStage,
                stage.name.span,
                format!("the stage `{}` has no jobs", stage.name.name),
            )
            .label("empty stage")
            .help("add jobs to it or remove it"),
        );
    }
}
