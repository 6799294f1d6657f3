//! `textDocument/codeAction`: a quick fix for every diagnostic in the range that carries an
//! exact edit (`Diagnostic::suggestion`), or whose help names one (`lsp::fixes`).

use std::collections::HashMap;

use lsp_types::{
    CodeAction, CodeActionKind, CodeActionOrCommand, CodeActionParams, CodeActionResponse, Range,
    TextEdit, WorkspaceEdit,
};

use crate::lsp::Server;
use crate::lsp::analysis::Analysis;
use crate::lsp::fixes::{self, Fix};

pub fn code_action(
    server: &Server,
    params: CodeActionParams,
) -> Result<Option<CodeActionResponse>, String> {
    let document = server.document(&params.text_document.uri)?;
    Ok(Some(quick_fixes(&document.current, params.range)))
}

/// The quick fixes of the document's own diagnostics whose range touches `range`.
pub fn quick_fixes(analysis: &Analysis, range: Range) -> CodeActionResponse {
    let root = analysis.root();
    let rendered = crate::lsp::diagnostics::render(analysis);
    analysis
        .compilation
        .diagnostics
        .iter()
        .zip(rendered)
        .filter_map(|(d, lsp_diagnostic)| {
            if d.primary.span.file != root || !touches(lsp_diagnostic.range, range) {
                return None;
            }
            let fix = match &d.suggestion {
                Some(suggestion) if suggestion.span.file == root => Fix {
                    title: match &d.help {
                        Some(help) => format!("{}: {help}", d.code),
                        None => format!("{}: replace with `{}`", d.code, suggestion.replacement),
                    },
                    edits: vec![(
                        suggestion.span.start as usize..suggestion.span.end as usize,
                        suggestion.replacement.clone(),
                    )],
                },
                Some(_) => return None,
                None => fixes::fix(analysis, d)?,
            };
            let lines = analysis.lines(root);
            let edits = fix
                .edits
                .into_iter()
                .map(|(at, text)| TextEdit::new(lines.range(at.start, at.end), text))
                .collect();
            Some(CodeActionOrCommand::CodeAction(CodeAction {
                title: fix.title,
                kind: Some(CodeActionKind::QUICKFIX),
                diagnostics: Some(vec![lsp_diagnostic]),
                edit: Some(WorkspaceEdit {
                    changes: Some(HashMap::from([(analysis.uri.clone(), edits)])),
                    ..Default::default()
                }),
                is_preferred: Some(true),
                ..Default::default()
            }))
        })
        .collect()
}

/// Whether two ranges overlap or touch (an empty request range at a diagnostic's edge counts).
fn touches(a: Range, b: Range) -> bool {
    a.start <= b.end && b.start <= a.end
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lsp::position::path_to_uri;

    /// Every diagnostic of every error fixture whose help names an edit gets a quick fix, and
    /// the fixed text no longer has that diagnostic. The codes covered, by help:
    ///
    /// | help says | codes (fixtures) |
    /// | --- | --- |
    /// | did you mean `X`? | E0200, E0203, E0204, E0208, E0301, E0600 |
    /// | add `NAME = …` | E0302 |
    /// | add `after = [X]` to `Y` | E0500 |
    /// | run the deploy only when `G` runs: `when = …` | E0500 |
    /// | `deploy A to E as NAME { … }` | E0205 |
    /// | (a check's own exact edit, `suggestion`) | E0109, E0206, E0301, E0304, E0600, W0105 |
    #[test]
    fn every_help_that_names_an_edit_is_a_quick_fix_that_removes_its_diagnostic() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut fixtures: Vec<_> = std::fs::read_dir(root.join("tests/fixtures/err"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "cdl"))
            .collect();
        fixtures.sort();
        let mut covered = std::collections::BTreeSet::new();
        for path in fixtures {
            let uri = path_to_uri(&path);
            let text = std::fs::read_to_string(&path).unwrap();
            let analysis = Analysis::new(&uri, &text);
            let everywhere = Range::new(Default::default(), lsp_types::Position::new(u32::MAX, 0));
            for (index, d) in analysis.compilation.diagnostics.iter().enumerate() {
                let concrete =
                    d.suggestion.is_some() || d.help.as_deref().is_some_and(fixes::names_an_edit);
                if !concrete || d.primary.span.file != analysis.root() {
                    continue;
                }
                let rendered = crate::lsp::diagnostics::render(&analysis).remove(index);
                let action = quick_fixes(&analysis, everywhere)
                    .into_iter()
                    .find_map(|a| match a {
                        CodeActionOrCommand::CodeAction(a)
                            if a.diagnostics.as_ref() == Some(&vec![rendered.clone()]) =>
                        {
                            Some(a)
                        }
                        _ => None,
                    })
                    .unwrap_or_else(|| {
                        panic!(
                            "{}: no quick fix for {} ({:?})",
                            path.display(),
                            d.code,
                            d.help
                        )
                    });
                let edits = &action.edit.unwrap().changes.unwrap()[&uri];
                let mut fixed = text.clone();
                let lines = analysis.lines(analysis.root());
                let mut ranges: Vec<_> = edits
                    .iter()
                    .map(|e| {
                        (
                            lines.offset(e.range.start),
                            lines.offset(e.range.end),
                            &e.new_text,
                        )
                    })
                    .collect();
                ranges.sort_by_key(|r| std::cmp::Reverse(r.0));
                for (start, end, new_text) in ranges {
                    fixed.replace_range(start..end, new_text);
                }
                let after = Analysis::new(&uri, &fixed);
                let count = |a: &Analysis| {
                    a.compilation
                        .diagnostics
                        .iter()
                        .filter(|x| x.code == d.code && x.message == d.message)
                        .count()
                };
                assert!(
                    count(&after) < count(&analysis),
                    "{}: the fix of {} ({:?}) leaves it:\n{fixed}",
                    path.display(),
                    d.code,
                    d.help
                );
                covered.insert(d.code.to_string());
            }
        }
        for code in [
            "E0200", "E0203", "E0204", "E0205", "E0208", "E0302", "E0500",
        ] {
            assert!(
                covered.contains(code),
                "{code} has no fixture with a fix: {covered:?}"
            );
        }
    }
}
