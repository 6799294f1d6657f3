//! Every request and notification the server handles, registered here; one file per request.

mod code_action;
mod completion;
mod definition;
mod document_symbol;
mod formatting;
mod hover;
mod inlay_hint;
mod references;
mod rename;
mod semantic_tokens;
mod text_sync;

use std::panic::AssertUnwindSafe;

use lsp_server::{ErrorCode, Notification, Request, Response};
use lsp_types::request::{
    CodeActionRequest, Completion, DocumentSymbolRequest, Formatting, GotoDefinition, HoverRequest,
    InlayHintRequest, PrepareRenameRequest, References, Rename, Request as _,
    SemanticTokensFullDeltaRequest, SemanticTokensFullRequest,
};
use lsp_types::{
    CodeActionKind, CodeActionOptions, CodeActionProviderCapability, CompletionOptions,
    HoverProviderCapability, OneOf, RenameOptions, SemanticTokensFullOptions,
    SemanticTokensOptions, ServerCapabilities, TextDocumentSyncCapability, TextDocumentSyncKind,
    TextDocumentSyncOptions, TextDocumentSyncSaveOptions,
};

use super::Server;

pub fn capabilities() -> ServerCapabilities {
    ServerCapabilities {
        text_document_sync: Some(TextDocumentSyncCapability::Options(
            TextDocumentSyncOptions {
                open_close: Some(true),
                change: Some(TextDocumentSyncKind::INCREMENTAL),
                save: Some(TextDocumentSyncSaveOptions::Supported(true)),
                ..Default::default()
            },
        )),
        hover_provider: Some(HoverProviderCapability::Simple(true)),
        definition_provider: Some(OneOf::Left(true)),
        references_provider: Some(OneOf::Left(true)),
        completion_provider: Some(CompletionOptions {
            trigger_characters: Some(vec![" ".into(), "[".into(), ",".into()]),
            ..Default::default()
        }),
        document_symbol_provider: Some(OneOf::Left(true)),
        document_formatting_provider: Some(OneOf::Left(true)),
        rename_provider: Some(OneOf::Right(RenameOptions {
            prepare_provider: Some(true),
            work_done_progress_options: Default::default(),
        })),
        inlay_hint_provider: Some(OneOf::Left(true)),
        code_action_provider: Some(CodeActionProviderCapability::Options(CodeActionOptions {
            code_action_kinds: Some(vec![CodeActionKind::QUICKFIX]),
            ..Default::default()
        })),
        semantic_tokens_provider: Some(
            SemanticTokensOptions {
                legend: semantic_tokens::legend(),
                full: Some(SemanticTokensFullOptions::Delta { delta: Some(true) }),
                range: None,
                work_done_progress_options: Default::default(),
            }
            .into(),
        ),
        ..Default::default()
    }
}

pub fn request(server: &Server, request: Request) -> Response {
    match request.method.as_str() {
        HoverRequest::METHOD => run::<HoverRequest>(server, request, hover::hover),
        GotoDefinition::METHOD => run::<GotoDefinition>(server, request, definition::definition),
        References::METHOD => run::<References>(server, request, references::references),
        Completion::METHOD => run::<Completion>(server, request, completion::completion),
        DocumentSymbolRequest::METHOD => {
            run::<DocumentSymbolRequest>(server, request, document_symbol::document_symbol)
        }
        Formatting::METHOD => run::<Formatting>(server, request, formatting::formatting),
        PrepareRenameRequest::METHOD => {
            run::<PrepareRenameRequest>(server, request, rename::prepare_rename)
        }
        Rename::METHOD => run::<Rename>(server, request, rename::rename),
        InlayHintRequest::METHOD => {
            run::<InlayHintRequest>(server, request, inlay_hint::inlay_hint)
        }
        CodeActionRequest::METHOD => {
            run::<CodeActionRequest>(server, request, code_action::code_action)
        }
        SemanticTokensFullRequest::METHOD => {
            run::<SemanticTokensFullRequest>(server, request, semantic_tokens::full)
        }
        SemanticTokensFullDeltaRequest::METHOD => {
            run::<SemanticTokensFullDeltaRequest>(server, request, semantic_tokens::full_delta)
        }
        _ => Response::new_err(
            request.id,
            ErrorCode::MethodNotFound as i32,
            format!("cdl lsp does not handle {}", request.method),
        ),
    }
}

type Handler<R> = fn(
    &Server,
    <R as lsp_types::request::Request>::Params,
) -> Result<<R as lsp_types::request::Request>::Result, String>;

fn run<R: lsp_types::request::Request>(
    server: &Server,
    request: Request,
    handler: Handler<R>,
) -> Response {
    let params = match serde_json::from_value::<R::Params>(request.params) {
        Ok(params) => params,
        Err(err) => {
            return Response::new_err(request.id, ErrorCode::InvalidParams as i32, err.to_string());
        }
    };
    // A bug in one handler answers one request with an error; the server stays up.
    let outcome = std::panic::catch_unwind(AssertUnwindSafe(|| handler(server, params)));
    match outcome {
        Ok(Ok(result)) => Response::new_ok(request.id, result),
        Ok(Err(message)) => Response::new_err(request.id, ErrorCode::RequestFailed as i32, message),
        Err(_) => Response::new_err(
            request.id,
            ErrorCode::InternalError as i32,
            format!("cdl lsp failed on {} (a bug: see its log)", R::METHOD),
        ),
    }
}

pub fn notification(server: &mut Server, notification: Notification) {
    let method = notification.method.clone();
    let outcome = std::panic::catch_unwind(AssertUnwindSafe(|| {
        text_sync::notification(server, notification);
    }));
    if outcome.is_err() {
        eprintln!("cdl lsp: failed on {method} (a bug); going on");
    }
}
