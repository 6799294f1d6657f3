//! `textDocument/hover`: the doc comment and type of what is under the cursor — a name (its
//! declaration, `///` docs and facts), an attribute (its type and meaning), a variable or an
//! event of a condition, or a keyword.

use lsp_types::{Hover, HoverContents, HoverParams, MarkupContent, MarkupKind};

use crate::lsp::Server;
use crate::lsp::analysis::Analysis;
use crate::lsp::docs;
use crate::lsp::names::{Block, Definition, Role, What};

pub fn hover(server: &Server, params: HoverParams) -> Result<Option<Hover>, String> {
    let position = params.text_document_position_params;
    let document = server.document(&position.text_document.uri)?;
    let Some(analysis) = document.good() else {
        return Ok(None);
    };
    let offset = analysis.offset(position.position);
    let found = analysis.names.at(analysis.root(), offset);
    if let Some(first) = found.first() {
        let innermost: Vec<_> = found.iter().filter(|o| o.span == first.span).collect();
        let parts: Vec<String> = innermost
            .iter()
            .filter_map(|o| describe(analysis, &o.what))
            .collect();
        if !parts.is_empty() {
            return Ok(Some(markdown(
                parts.join("\n\n---\n\n"),
                Some(analysis.range(first.span)),
            )));
        }
    }
    let text = analysis.text();
    let (start, end) = word_at(text, offset);
    Ok(docs::keyword(&text[start..end]).map(|doc| {
        let range = analysis.lines(analysis.root()).range(start, end);
        markdown(
            format!("```cdl\n{}\n```\n\n{doc}", &text[start..end]),
            Some(range),
        )
    }))
}

fn markdown(value: String, range: Option<lsp_types::Range>) -> Hover {
    Hover {
        contents: HoverContents::Markup(MarkupContent {
            kind: MarkupKind::Markdown,
            value,
        }),
        range,
    }
}

/// The identifier around `offset` (empty when there is none).
pub fn word_at(text: &str, offset: usize) -> (usize, usize) {
    let is_word = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-';
    let offset = offset.min(text.len());
    let start = text[..offset]
        .rfind(|c: char| !is_word(c))
        .map_or(0, |i| i + 1);
    let end = text[offset..]
        .find(|c: char| !is_word(c))
        .map_or(text.len(), |i| offset + i);
    (start, end)
}

fn describe(analysis: &Analysis, what: &What) -> Option<String> {
    match what {
        What::Name(symbol, role) => {
            let definition = analysis.names.definition(symbol);
            Some(match definition {
                Some(definition) => definition_text(definition),
                None if *role == Role::Reference => format!("`{}` is not declared", symbol.name()),
                None => return None,
            })
        }
        What::Attribute(block, name) => Some(attribute_text(*block, name)),
        What::Variable(name) => docs::variable(name)
            .map(|doc| format!("```cdl\n{name}\n```\n\nVariable of conditions. {doc}")),
        What::Service(name) => Some(service_text(name)),
        What::Event(name) => Some(match docs::event(name) {
            Some(doc) => format!("```cdl\n{name}\n```\n\nEvent. {doc}"),
            None => format!(
                "`{name}` is not an event: `push`, `pull_request`, `tag`, `schedule` or `manual`"
            ),
        }),
    }
}

pub fn definition_text(definition: &Definition) -> String {
    let mut text = format!("```cdl\n{}\n```", definition.signature);
    if let Some(doc) = &definition.doc {
        text.push_str("\n\n");
        text.push_str(doc);
    }
    if !definition.facts.is_empty() {
        text.push_str("\n\n");
        let facts: Vec<String> = definition.facts.iter().map(|f| format!("- {f}")).collect();
        text.push_str(&facts.join("\n"));
    }
    text
}

fn attribute_text(block: Block, name: &str) -> String {
    match block {
        Block::Env => format!(
            "```cdl\n{name}\n```\n\nAn environment variable of the jobs: a string, an integer or a boolean."
        ),
        Block::Matrix => format!(
            "```cdl\n{name}\n```\n\nA matrix axis (the job runs once per value) or a key an `include` adds: `CDL_MATRIX_{}` in every instance, empty where an instance lacks it.",
            name.to_uppercase().replace('-', "_")
        ),
        _ => match block.schema().iter().find(|s| s.name == name) {
            Some(spec) => format!(
                "```cdl\n{name} = …\n```\n\n**Type:** {}{}\n\n{}",
                spec.ty.describe(),
                if spec.required { " (required)" } else { "" },
                spec.doc
            ),
            None => {
                let known: Vec<String> = block
                    .schema()
                    .iter()
                    .map(|s| format!("`{}`", s.name))
                    .collect();
                format!(
                    "`{name}` is not an attribute of this block; it takes {}",
                    if known.is_empty() {
                        "none".to_string()
                    } else {
                        known.join(", ")
                    }
                )
            }
        },
    }
}

/// v2 i14d: hover on a service's name: what it is and the variables it gives the job.
fn service_text(name: &str) -> String {
    use crate::model::services::Service;
    format!(
        "```cdl\nservice {name}\n```\n\n{}\n\n- `{}`\n- `{}`",
        crate::check::services::SERVICE_DOC,
        Service::host_variable_of(name),
        Service::port_variable_of(name),
    )
}

#[cfg(test)]
mod service_tests {
    use super::*;

    #[test]
    fn a_service_name_and_its_attributes_hover_with_their_meaning() {
        let text = service_text("db-main");
        assert!(text.contains("CDL_SERVICE_DB_MAIN_HOST"), "{text}");
        assert!(text.contains("CDL_SERVICE_DB_MAIN_PORT"), "{text}");
        let health = attribute_text(Block::Service, "health");
        assert!(health.contains("sh -c"), "{health}");
        let unknown = attribute_text(Block::Service, "ports");
        assert!(unknown.contains("`port`"), "{unknown}");
    }
}
