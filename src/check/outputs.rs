//! An artifact's `outputs` must name paths inside the working folder: an absolute path or one
//! that climbs out with `..` would be stored under another name, and two of them could collide.

use std::path::{Component, Path};

use crate::codes::Code;
use crate::diagnostic::{Diagnostic, Sink};
use crate::syntax::ast::{self, ExprKind};

/// Whether an `outputs` entry stays inside the working folder: relative, no `..`.
pub fn inside_workdir(output: &str) -> bool {
    !output.is_empty()
        && Path::new(output)
            .components()
            .all(|c| matches!(c, Component::Normal(_) | Component::CurDir))
}

/// Reports every entry of an artifact's `outputs` that leaves the working folder.
/// (v2 i13k: and of its `optional_outputs`.)
pub fn check(attributes: &[&ast::Attribute], sink: &mut Sink) {
    let entries: Vec<&ast::Expr> = attributes
        .iter()
        .filter(|a| a.name.name == "outputs" || a.name.name == "optional_outputs")
        .flat_map(|outputs| match &outputs.value.kind {
            ExprKind::List(items) => items.iter().collect(),
            _ => vec![&outputs.value],
        })
        .collect();
    for entry in entries {
        let ExprKind::String(path) = &entry.kind else {
            continue;
        };
        if inside_workdir(path) {
            continue;
        }
        let suggestion = Path::new(path)
            .components()
            .filter_map(|c| match c {
                Component::Normal(part) => Some(part.to_string_lossy().into_owned()),
                _ => None,
            })
            .collect::<Vec<_>>()
            .join("/");
        let help = if suggestion.is_empty() {
            "name the files the artifact is made of, relative to the working folder: `outputs = [\"dist/app.tar.gz\"]`".to_string()
        } else {
            format!(
                "outputs are relative paths inside the working folder, kept as they are in the artifact; have the job write there and name it: `\"{suggestion}\"`"
            )
        };
        sink.push(
            Diagnostic::new(
                Code::OutputOutsideWorkdir,
                entry.span,
                format!("the output `{path}` is outside the working folder"),
            )
            .label(if path.is_empty() {
                "an empty path"
            } else if path.starts_with('/') {
                "an absolute path"
            } else {
                "climbs out with `..`"
            })
            .help(help),
        );
    }
}
