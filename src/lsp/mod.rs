//! `cdl lsp`: the language server, over stdio. Synchronous (lsp-server, from rust-analyzer):
//! one thread reads messages and answers them in order; a change is analysed at once and its
//! diagnostics published before the next message is read. Positions are UTF-16, as the
//! protocol requires. Every request and notification is registered in `handlers`.

mod analysis;
mod context;
mod diagnostics;
mod docs;
mod documents;
mod fixes;
mod handlers;
mod names;
mod position;
mod transport;

use std::cell::RefCell;
use std::collections::HashMap;

use lsp_server::{Connection, Message, Notification};
use lsp_types::notification::PublishDiagnostics;
use lsp_types::{PublishDiagnosticsParams, SemanticToken, Uri};

use documents::Document;

pub type Error = Box<dyn std::error::Error + Send + Sync>;

/// Serves one client on standard input and output until it says `exit`.
pub fn serve_stdio() -> Result<(), Error> {
    let (connection, threads) = transport::stdio();
    serve(&connection)?;
    drop(connection);
    threads.join()?;
    Ok(())
}

/// Serves one client on a connection (stdio, or in memory for tests and benchmarks).
pub fn serve(connection: &Connection) -> Result<(), Error> {
    let capabilities = serde_json::to_value(handlers::capabilities())?;
    connection.initialize(capabilities)?;
    let mut server = Server {
        connection,
        documents: HashMap::new(),
        semantic_tokens: RefCell::new((0, HashMap::new())),
    };
    for message in &connection.receiver {
        match message {
            Message::Request(request) => {
                if connection.handle_shutdown(&request)? {
                    return Ok(());
                }
                let response = handlers::request(&server, request);
                connection.sender.send(Message::Response(response))?;
            }
            Message::Notification(notification) => {
                if notification.method == "exit" {
                    return Ok(());
                }
                handlers::notification(&mut server, notification);
            }
            Message::Response(_) => {}
        }
    }
    Ok(())
}

pub struct Server<'a> {
    connection: &'a Connection,
    documents: HashMap<Uri, Document>,
    /// The last semantic tokens sent for each document, with their result id, for deltas;
    /// and the last id given.
    semantic_tokens: RefCell<(u64, HashMap<Uri, SentTokens>)>,
}

/// Semantic tokens sent for a document, with their result id.
type SentTokens = (String, Vec<SemanticToken>);

impl Server<'_> {
    fn document(&self, uri: &Uri) -> Result<&Document, String> {
        self.documents
            .get(uri)
            .ok_or_else(|| format!("{} is not open", uri.as_str()))
    }

    /// Sends the current diagnostics of a document.
    fn publish(&self, uri: &Uri) {
        let Some(document) = self.documents.get(uri) else {
            return;
        };
        let params = PublishDiagnosticsParams {
            uri: uri.clone(),
            diagnostics: diagnostics::render(&document.current),
            version: Some(document.version),
        };
        self.notify::<PublishDiagnostics>(params);
    }

    /// Keeps the tokens sent for a document; returns their result id.
    fn remember_tokens(&self, uri: &Uri, tokens: Vec<SemanticToken>) -> String {
        let mut cache = self.semantic_tokens.borrow_mut();
        cache.0 += 1;
        let id = cache.0.to_string();
        cache.1.insert(uri.clone(), (id.clone(), tokens));
        id
    }

    /// The tokens last sent for a document under `result_id`, if they are still the last.
    fn previous_tokens(&self, uri: &Uri, result_id: &str) -> Option<Vec<SemanticToken>> {
        let cache = self.semantic_tokens.borrow();
        let (id, tokens) = cache.1.get(uri)?;
        (id == result_id).then(|| tokens.clone())
    }

    fn notify<N: lsp_types::notification::Notification>(&self, params: N::Params) {
        let notification = Notification::new(N::METHOD.to_string(), params);
        // A closed connection ends the main loop on its own.
        let _ = self
            .connection
            .sender
            .send(Message::Notification(notification));
    }
}
