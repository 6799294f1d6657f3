//! `didOpen`, `didChange`, `didSave`, `didClose`: keep the documents and publish their
//! diagnostics. A saved file may be imported by the others, so they are analysed again.

use lsp_server::Notification;
use lsp_types::notification::{
    DidChangeTextDocument, DidCloseTextDocument, DidOpenTextDocument, DidSaveTextDocument,
    Notification as _, PublishDiagnostics,
};
use lsp_types::{
    DidChangeTextDocumentParams, DidCloseTextDocumentParams, DidOpenTextDocumentParams,
    DidSaveTextDocumentParams, PublishDiagnosticsParams, Uri,
};

use crate::lsp::Server;
use crate::lsp::documents::Document;

pub fn notification(server: &mut Server, notification: Notification) {
    match notification.method.as_str() {
        DidOpenTextDocument::METHOD => {
            if let Ok(params) = params::<DidOpenTextDocumentParams>(notification) {
                let document = params.text_document;
                let uri = document.uri;
                server.documents.insert(
                    uri.clone(),
                    Document::open(&uri, document.text, document.version),
                );
                server.publish(&uri);
            }
        }
        DidChangeTextDocument::METHOD => {
            if let Ok(params) = params::<DidChangeTextDocumentParams>(notification) {
                let uri = params.text_document.uri;
                if let Some(document) = server.documents.get_mut(&uri) {
                    let retired =
                        document.change(&uri, params.content_changes, params.text_document.version);
                    server.publish(&uri);
                    drop(retired);
                }
            }
        }
        DidSaveTextDocument::METHOD => {
            if let Ok(params) = params::<DidSaveTextDocumentParams>(notification) {
                let saved = params.text_document.uri;
                let others: Vec<Uri> = server
                    .documents
                    .keys()
                    .filter(|uri| **uri != saved)
                    .cloned()
                    .collect();
                for uri in others {
                    let retired = server
                        .documents
                        .get_mut(&uri)
                        .and_then(|document| document.reanalyse(&uri));
                    server.publish(&uri);
                    drop(retired);
                }
            }
        }
        DidCloseTextDocument::METHOD => {
            if let Ok(params) = params::<DidCloseTextDocumentParams>(notification) {
                let uri = params.text_document.uri;
                server.documents.remove(&uri);
                server.semantic_tokens.borrow_mut().1.remove(&uri);
                server.notify::<PublishDiagnostics>(PublishDiagnosticsParams {
                    uri,
                    diagnostics: Vec::new(),
                    version: None,
                });
            }
        }
        _ => {}
    }
}

fn params<P: serde::de::DeserializeOwned>(notification: Notification) -> Result<P, ()> {
    serde_json::from_value(notification.params).map_err(|_| ())
}
