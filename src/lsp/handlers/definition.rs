//! `textDocument/definition`: where the name under the cursor is declared, in this file, an
//! imported one or the standard library.

use lsp_types::{GotoDefinitionParams, GotoDefinitionResponse, Location};

use crate::lsp::Server;
use crate::lsp::analysis::Analysis;
use crate::lsp::names::{Role, Symbol, What};

pub fn definition(
    server: &Server,
    params: GotoDefinitionParams,
) -> Result<Option<GotoDefinitionResponse>, String> {
    let position = params.text_document_position_params;
    let document = server.document(&position.text_document.uri)?;
    let Some(analysis) = document.good() else {
        return Ok(None);
    };
    let Some(symbol) = symbol_at(analysis, analysis.offset(position.position), true) else {
        return Ok(None);
    };
    let locations: Vec<Location> = analysis
        .names
        .definitions
        .get(&symbol)
        .into_iter()
        .flatten()
        .filter_map(|d| analysis.location(d.span))
        .collect();
    Ok((!locations.is_empty()).then_some(GotoDefinitionResponse::Array(locations)))
}

/// The name at `offset` of the document. Where two names share a span (`test unit` is a
/// reference to the kind and the implicit name of the job), a reference wins when
/// `prefer_reference`, a definition otherwise.
pub fn symbol_at(analysis: &Analysis, offset: usize, prefer_reference: bool) -> Option<Symbol> {
    let found = analysis.names.at(analysis.root(), offset);
    let first_span = found
        .iter()
        .find(|o| matches!(o.what, What::Name(..)))?
        .span;
    let mut names: Vec<(&Symbol, &Role)> = found
        .iter()
        .filter(|o| o.span == first_span)
        .filter_map(|o| match &o.what {
            What::Name(symbol, role) => Some((symbol, role)),
            _ => None,
        })
        .collect();
    names.sort_by_key(|(_, role)| (**role == Role::Reference) != prefer_reference);
    names.first().map(|(symbol, _)| (*symbol).clone())
}
