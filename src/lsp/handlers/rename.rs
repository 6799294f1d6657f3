//! `textDocument/prepareRename` and `textDocument/rename`: jobs (gates and artifacts are
//! jobs) and environments, with every reference. A job named after its kind or its deploy
//! gets a name of its own (`test unit NAME`, `deploy app to prod as NAME`), and renaming an
//! artifact or environment also updates the references to the deploys named after them.

use std::collections::HashMap;

use lsp_types::{
    PrepareRenameResponse, RenameParams, TextDocumentPositionParams, TextEdit, WorkspaceEdit,
};

use crate::check::job_name;
use crate::lsp::Server;
use crate::lsp::analysis::Analysis;
use crate::lsp::names::{Implicit, Role, Symbol, What};
use crate::span::Span;

pub fn prepare_rename(
    server: &Server,
    params: TextDocumentPositionParams,
) -> Result<Option<PrepareRenameResponse>, String> {
    let document = server.document(&params.text_document.uri)?;
    let analysis = current(&document.current)?;
    let offset = analysis.offset(params.position);
    Ok(renameable_at(analysis, offset).map(|(symbol, span)| {
        PrepareRenameResponse::RangeWithPlaceholder {
            range: analysis.range(span),
            placeholder: symbol.name().to_string(),
        }
    }))
}

pub fn rename(server: &Server, params: RenameParams) -> Result<Option<WorkspaceEdit>, String> {
    let position = params.text_document_position;
    let document = server.document(&position.text_document.uri)?;
    let analysis = current(&document.current)?;
    let offset = analysis.offset(position.position);
    let Some((symbol, _)) = renameable_at(analysis, offset) else {
        return Err(
            "only jobs, gates, artifacts, environments and this file's templates can be renamed"
                .into(),
        );
    };
    let new_name = params.new_name;
    if !is_identifier(&new_name) {
        return Err(format!(
            "`{new_name}` is not a name: a letter or `_`, then letters, digits, `_` or `-`"
        ));
    }
    let renamed = match &symbol {
        Symbol::Job(_) => Symbol::Job(new_name.clone()),
        Symbol::Template(_) => Symbol::Template(new_name.clone()), // v2 i13e
        _ => Symbol::Environment(new_name.clone()),
    };
    if renamed != symbol && analysis.names.definitions.contains_key(&renamed) {
        return Err(format!("`{new_name}` is already taken"));
    }
    let edits = edits(analysis, &symbol, &new_name);
    // lsp-types keys `changes` by `Uri`, whose parsed form caches lazily; the key never changes.
    #[allow(clippy::mutable_key_type)]
    let mut changes = HashMap::new();
    changes.insert(analysis.uri.clone(), edits);
    Ok(Some(WorkspaceEdit {
        changes: Some(changes),
        ..Default::default()
    }))
}

/// Renaming needs the text as it is: refuse while it does not parse.
fn current(analysis: &Analysis) -> Result<&Analysis, String> {
    if analysis.parsed() {
        Ok(analysis)
    } else {
        Err("the file has a syntax error: fix it before renaming".into())
    }
}

fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// The job or environment at `offset`, with the span of its name there.
fn renameable_at(analysis: &Analysis, offset: usize) -> Option<(Symbol, Span)> {
    analysis
        .names
        .at(analysis.root(), offset)
        .into_iter()
        .find_map(|o| match &o.what {
            What::Name(symbol @ (Symbol::Job(_) | Symbol::Environment(_)), _)
                if analysis.names.definitions.contains_key(symbol) =>
            {
                Some((symbol.clone(), o.span))
            }
            // v2 i13e: a template declared in this file (an imported one is another file's).
            What::Name(symbol @ Symbol::Template(_), _)
                if analysis
                    .names
                    .definition(symbol)
                    .is_some_and(|d| d.span.file == analysis.root()) =>
            {
                Some((symbol.clone(), o.span))
            }
            _ => None,
        })
}

fn edits(analysis: &Analysis, symbol: &Symbol, new_name: &str) -> Vec<TextEdit> {
    let root = analysis.root();
    let replace = |span: Span, text: String| TextEdit::new(analysis.range(span), text);
    let insert = |at: u32, text: String| {
        let point = Span::new(root, at as usize, at as usize);
        TextEdit::new(analysis.range(point), text)
    };
    let mut edits = Vec::new();
    for occurrence in analysis.names.occurrences_of(symbol) {
        if occurrence.span.file != root {
            continue;
        }
        let What::Name(_, role) = &occurrence.what else {
            continue;
        };
        edits.push(match role {
            Role::Definition | Role::Reference => replace(occurrence.span, new_name.to_string()),
            Role::Implicit(Implicit::TestKind) => {
                insert(occurrence.span.end, format!(" {new_name}"))
            }
            Role::Implicit(Implicit::Deploy {
                environment_end, ..
            }) => insert(*environment_end, format!(" as {new_name}")),
        });
    }
    // Deploys named after the artifact or environment being renamed change name too.
    for occurrence in &analysis.names.occurrences {
        let What::Name(
            Symbol::Job(derived),
            Role::Implicit(Implicit::Deploy {
                artifact,
                environment,
                ..
            }),
        ) = &occurrence.what
        else {
            continue;
        };
        let new_derived = match symbol {
            Symbol::Job(name) if name == artifact => job_name::deploy(new_name, environment),
            Symbol::Environment(name) if name == environment => {
                job_name::deploy(artifact, new_name)
            }
            _ => continue,
        };
        let derived = Symbol::Job(derived.clone());
        for reference in analysis.names.occurrences_of(&derived) {
            if matches!(reference.what, What::Name(_, Role::Reference)) {
                edits.push(replace(reference.span, new_derived.clone()));
            }
        }
    }
    edits
}
