//! v2 i13k: matrix artifacts (language v2 §7). An artifact with a `matrix` is built once per
//! instance; `optional_outputs` are outputs an instance may lack. An output cannot be both
//! required and optional (E0333); instances whose folders would be the same are told apart
//! with a suffix, and W0119 says so.

use crate::codes::Code;
use crate::diagnostic::{Diagnostic, Sink};
use crate::model::matrix::Matrix;
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

/// W0119: instances whose folders would be the same once their values are made file-name safe
/// (`a/b` and `a_b`, `Linux` and `linux`): the later ones get `-2`, `-3`…, which a consumer
/// looking for the plain name would miss.
pub fn check_folders(matrix: &Matrix, name: &str, span: Span, sink: &mut Sink) {
    if matrix.is_empty() {
        return;
    }
    let values: Vec<_> = matrix
        .expand()
        .instances
        .iter()
        .map(|i| matrix.id_values(&i.values))
        .collect();
    let folders = crate::model::matrix::folder_names(&values);
    for (values, folder) in values.iter().zip(&folders) {
        let plain = crate::model::matrix::folder_name(values);
        if plain == *folder {
            continue;
        }
        let id = crate::model::matrix::instance_id(name, values);
        sink.push(
            Diagnostic::new(
                Code::MatrixArtifactFolderRenamed,
                span.with_end(span.start + 6),
                format!("the instance `{id}` of the artifact `{name}` gets the folder `{folder}`"),
            )
            .label(format!("`{plain}` is another instance's folder, or too long"))
            .help("give the instances values that differ in letters, digits, `.` or `_` (a folder name keeps only those), or read the folders from `cdl plan` (`artifacts[].instances`)"),
        );
    }
}
