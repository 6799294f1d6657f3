//! `textDocument/references`: every use of the name under the cursor, in this document, the
//! files it imports, and the other open documents that share the declaration (a kind of an
//! imported file is found in every open pipeline that imports it).

use lsp_types::{Location, ReferenceParams};

use super::definition::symbol_at;
use crate::lsp::Server;
use crate::lsp::names::{Role, Symbol, What};

pub fn references(
    server: &Server,
    params: ReferenceParams,
) -> Result<Option<Vec<Location>>, String> {
    let position = params.text_document_position;
    let document = server.document(&position.text_document.uri)?;
    let Some(analysis) = document.good() else {
        return Ok(None);
    };
    let Some(symbol) = symbol_at(analysis, analysis.offset(position.position), true) else {
        return Ok(None);
    };
    let declaration_paths: Vec<_> = analysis
        .names
        .definitions
        .get(&symbol)
        .into_iter()
        .flatten()
        .filter_map(|d| analysis.path(d.span.file))
        .collect();
    let include_declaration = params.context.include_declaration;
    let mut locations: Vec<Location> = Vec::new();
    let analyses = std::iter::once(analysis).chain(
        server
            .documents
            .values()
            .filter_map(|d| d.good())
            .filter(|other| other.uri != analysis.uri),
    );
    for (index, other) in analyses.enumerate() {
        // Another document shares the name only when it declares it in the same file
        // (a kind); jobs and environments belong to one pipeline.
        let shared = index == 0
            || matches!(symbol, Symbol::Kind(_) | Symbol::Template(_))
                && other
                    .names
                    .definitions
                    .get(&symbol)
                    .into_iter()
                    .flatten()
                    .any(|d| {
                        other
                            .path(d.span.file)
                            .is_some_and(|p| declaration_paths.contains(&p))
                    });
        if !shared {
            continue;
        }
        for occurrence in other.names.occurrences_of(&symbol) {
            let is_declaration =
                matches!(&occurrence.what, What::Name(_, role) if *role != Role::Reference);
            if is_declaration && !include_declaration {
                continue;
            }
            if let Some(location) = other.location(occurrence.span)
                && !locations.contains(&location)
            {
                locations.push(location);
            }
        }
    }
    Ok(Some(locations))
}
