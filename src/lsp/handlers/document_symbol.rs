//! `textDocument/documentSymbol`: kinds, and the pipeline with its triggers, secrets,
//! environments and stages, each stage with its jobs. Read from the last text that parsed.

use lsp_types::{DocumentSymbol, DocumentSymbolParams, DocumentSymbolResponse, SymbolKind};

use crate::lsp::Server;
use crate::lsp::analysis::Analysis;
use crate::lsp::names::job_name;
use crate::span::Span;
use crate::syntax::ast;

pub fn document_symbol(
    server: &Server,
    params: DocumentSymbolParams,
) -> Result<Option<DocumentSymbolResponse>, String> {
    let document = server.document(&params.text_document.uri)?;
    let Some(analysis) = document.good() else {
        return Ok(None);
    };
    let Some(file) = analysis.compilation.root_file() else {
        return Ok(None);
    };
    let symbols = file
        .items
        .iter()
        .filter_map(|item| match item {
            ast::TopItem::Kind(kind) => Some(symbol(
                analysis,
                &kind.name.name,
                Some("kind"),
                SymbolKind::CLASS,
                kind.span,
                kind.name.span,
                Vec::new(),
            )),
            ast::TopItem::Team(team) => Some(self::team(analysis, team)),
            ast::TopItem::Pipeline(pipeline) => Some(self::pipeline(analysis, pipeline)),
            ast::TopItem::Import(_) => None,
            // v2 i13e: templates
            ast::TopItem::Template(template) => Some(symbol(
                analysis,
                &template.name.name,
                Some("template"),
                SymbolKind::CLASS,
                template.span,
                template.name.span,
                Vec::new(),
            )),
        })
        .collect();
    Ok(Some(DocumentSymbolResponse::Nested(symbols)))
}

fn team(analysis: &Analysis, team: &ast::TeamDecl) -> DocumentSymbol {
    symbol(
        analysis,
        &team.name.name,
        Some("team"),
        SymbolKind::STRUCT,
        team.span,
        team.name.span,
        Vec::new(),
    )
}

fn pipeline(analysis: &Analysis, pipeline: &ast::Pipeline) -> DocumentSymbol {
    let children = pipeline
        .items
        .iter()
        .filter_map(|item| match item {
            ast::PipelineItem::Trigger(t) => Some(symbol(
                analysis,
                &format!("on {}", t.event.name),
                None,
                SymbolKind::EVENT,
                t.span,
                t.event.span,
                Vec::new(),
            )),
            ast::PipelineItem::Team(team) => Some(self::team(analysis, team)),
            ast::PipelineItem::Parameter(p) => Some(symbol(
                analysis,
                &p.name.name,
                Some(p.keyword.as_str()),
                SymbolKind::VARIABLE,
                p.span,
                p.name.span,
                Vec::new(),
            )),
            ast::PipelineItem::Secret(s) => Some(symbol(
                analysis,
                &s.name.name,
                Some("secret"),
                SymbolKind::KEY,
                s.span,
                s.name.span,
                Vec::new(),
            )),
            ast::PipelineItem::Environment(e) => Some(symbol(
                analysis,
                &e.name.name,
                Some("environment"),
                SymbolKind::NAMESPACE,
                e.span,
                e.name.span,
                Vec::new(),
            )),
            ast::PipelineItem::Stage(stage) => {
                let jobs = stage
                    .jobs
                    .iter()
                    .map(|job| {
                        let selection = match &job.form {
                            ast::JobForm::Artifact { name }
                            | ast::JobForm::Gate { name }
                            | ast::JobForm::Job { name }
                            | ast::JobForm::Test {
                                name: Some(name), ..
                            }
                            | ast::JobForm::Deploy {
                                name: Some(name), ..
                            } => name.span,
                            ast::JobForm::Test { kind, .. } => kind.span,
                            ast::JobForm::Deploy { .. } => job.header_span,
                        };
                        symbol(
                            analysis,
                            &job_name(job),
                            Some(job.form.keyword()),
                            if matches!(job.form, ast::JobForm::Gate { .. }) {
                                SymbolKind::EVENT
                            } else {
                                SymbolKind::FUNCTION
                            },
                            job.span,
                            selection,
                            Vec::new(),
                        )
                    })
                    .collect();
                Some(symbol(
                    analysis,
                    &stage.name.name,
                    Some("stage"),
                    SymbolKind::PACKAGE,
                    stage.span,
                    stage.name.span,
                    jobs,
                ))
            }
            ast::PipelineItem::Attribute(_)
            | ast::PipelineItem::Env(_)
            | ast::PipelineItem::Setting(_) => None,
        })
        .collect();
    symbol(
        analysis,
        &pipeline.name.name,
        Some("pipeline"),
        SymbolKind::MODULE,
        pipeline.span,
        pipeline.name.span,
        children,
    )
}

fn symbol(
    analysis: &Analysis,
    name: &str,
    detail: Option<&str>,
    kind: SymbolKind,
    span: Span,
    selection: Span,
    children: Vec<DocumentSymbol>,
) -> DocumentSymbol {
    #[allow(deprecated)] // `deprecated` is a field every DocumentSymbol must still spell out
    DocumentSymbol {
        name: name.to_string(),
        detail: detail.map(str::to_string),
        kind,
        tags: None,
        deprecated: None,
        range: analysis.range(span),
        selection_range: analysis.range(selection),
        children: (!children.is_empty()).then_some(children),
    }
}
