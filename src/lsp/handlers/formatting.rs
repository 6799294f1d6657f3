//! `textDocument/formatting`: a thin wrapper over `cdl::fmt`; one edit replacing the whole
//! document, none when it is already formatted or does not parse.

use lsp_types::{DocumentFormattingParams, TextEdit};

use crate::lsp::Server;
use crate::lsp::position::Lines;
use crate::span::FileId;

pub fn formatting(
    server: &Server,
    params: DocumentFormattingParams,
) -> Result<Option<Vec<TextEdit>>, String> {
    let document = server.document(&params.text_document.uri)?;
    let Ok(formatted) = crate::fmt::format(FileId(0), &document.text) else {
        // The syntax error is already shown as a diagnostic.
        return Ok(None);
    };
    if formatted == document.text {
        return Ok(Some(Vec::new()));
    }
    let range = Lines::new(&document.text).range(0, document.text.len());
    Ok(Some(vec![TextEdit::new(range, formatted)]))
}
