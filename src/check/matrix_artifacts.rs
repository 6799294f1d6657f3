//! v2 i13k: matrix artifacts (language v2 §7). An artifact with a `matrix` is built once per
//! instance; `optional_outputs` are outputs an instance may lack. An output cannot be both
//! required and optional (E0333).

use crate::codes::Code;
use crate::diagnostic::{Diagnostic, Sink};
use crate::span::Span;
use crate::syntax::ast::{self, ExprKind};

pub const OPTIONAL_OUTPUTS_DOC: &str = "Paths or globs the artifact holds when they exist: a missing one does not fail the build (a `.deb` built on Linux instances only).";

fn strings<'a>(attributes: &[&'a ast::Attribute], name: &str) -> Vec<(&'a str, Span)> {
    attributes
        .iter()
        .filter(|a| a.name.name == name)
        .flat_map(|a| match &a.value.kind {
            ExprKind::List(items) => items.iter().collect(),
            _ => vec![&a.value],
        })
        .filter_map(|e| match &e.kind {
            ExprKind::String(s) => Some((s.as_str(), e.span)),
            _ => None,
        })
        .collect()
}

/// E0333: an entry of `optional_outputs` that `outputs` already requires.
pub fn check(attributes: &[&ast::Attribute], sink: &mut Sink) {
    let required = strings(attributes, "outputs");
    for (path, span) in strings(attributes, "optional_outputs") {
        let Some((_, first)) = required.iter().find(|(r, _)| *r == path) else {
            continue;
        };
        sink.push(
            Diagnostic::new(
                Code::OptionalOutputRequired,
                span,
                format!("the output `{path}` is both required and optional"),
            )
            .label("listed as optional here")
            .related(*first, "and as required here")
            .help("keep it in one list: `outputs` when every instance must make it, `optional_outputs` when some may not"),
        );
    }
}
