//! `textDocument/completion`: what may stand at the cursor — keywords and attribute names at
//! the start of an item, environments after `on` and `to`, kinds after `test`, jobs in
//! `after = [`, artifacts in `uses = [`, secrets in `secrets = [`, variables and events in
//! conditions. The place is read from the text as typed; the names come from the last text
//! that parsed.

use lsp_types::{
    CompletionItem, CompletionItemKind, CompletionParams, CompletionResponse, Documentation,
    MarkupContent, MarkupKind,
};

use super::hover::definition_text;
use crate::check::attributes::{self as schema, KIND_ENVIRONMENT_WORDS, Spec};
use crate::lsp::Server;
use crate::lsp::context::{self, Context, Frame, Token};
use crate::lsp::docs;
use crate::lsp::names::{Names, Symbol};

pub fn completion(
    server: &Server,
    params: CompletionParams,
) -> Result<Option<CompletionResponse>, String> {
    let position = params.text_document_position;
    let document = server.document(&position.text_document.uri)?;
    let offset = document.current.offset(position.position);
    let context = context::at(&document.text, offset);
    if context.in_literal {
        return Ok(None);
    }
    let names = document.good().map(|a| &a.names);
    Ok(Some(CompletionResponse::Array(items(&context, names))))
}

fn items(context: &Context, names: Option<&Names>) -> Vec<CompletionItem> {
    let empty = Names::default();
    let names = names.unwrap_or(&empty);
    if let Some(list) = context.list_of() {
        let written: Vec<&str> = context
            .statement
            .iter()
            .filter_map(|t| match t {
                Token::Word(w) => Some(w.as_str()),
                _ => None,
            })
            .collect();
        let mut items = match list {
            "after" => waitable(names, context, |_| true),
            "uses" => waitable(names, context, |form| form == Some("artifact")),
            "secrets" => symbols(names, CompletionItemKind::CONSTANT, |s| {
                matches!(s, Symbol::Secret(_))
            }),
            "tests" => symbols(names, CompletionItemKind::CLASS, |s| {
                matches!(s, Symbol::Kind(_))
            }),
            // Teams, written as the string `"@NAME"`.
            "approvers" => symbols(names, CompletionItemKind::STRUCT, |s| {
                matches!(s, Symbol::Team(_))
            })
            .into_iter()
            .map(|item| CompletionItem {
                insert_text: Some(format!("\"@{}\"", item.label)),
                label: format!("@{}", item.label),
                ..item
            })
            .collect(),
            _ => Vec::new(),
        };
        items.retain(|item| !written[1..].contains(&item.label.as_str()));
        return items;
    }
    if let Some(attribute) = context.value_of() {
        return match (attribute, &context.frame) {
            ("when", _) => condition(context),
            ("environment", Frame::Kind) => KIND_ENVIRONMENT_WORDS
                .iter()
                .map(|w| word(w, CompletionItemKind::ENUM_MEMBER, None))
                .collect(),
            ("allow_failure", _) => ["true", "false"]
                .iter()
                .map(|w| word(w, CompletionItemKind::KEYWORD, None))
                .collect(),
            _ => Vec::new(),
        };
    }
    let Some(words) = context.words() else {
        return Vec::new();
    };
    let environments = || {
        symbols(names, CompletionItemKind::MODULE, |s| {
            matches!(s, Symbol::Environment(_))
        })
    };
    match (&context.frame, words.as_slice()) {
        (_, []) => start_of_item(context),
        (Frame::Pipeline, ["on"]) => docs::EVENTS
            .iter()
            .map(|(e, d)| word(e, CompletionItemKind::ENUM_MEMBER, Some(d)))
            .collect(),
        (Frame::Stage, ["test"]) => symbols(names, CompletionItemKind::CLASS, |s| {
            matches!(s, Symbol::Kind(_))
        }),
        (Frame::Stage, ["test", _]) => vec![keyword("on")],
        (Frame::Stage, ["test", _, "on"] | ["test", _, _, "on"]) => environments(),
        (Frame::Stage, ["deploy"]) => jobs(names, context, |form| form == Some("artifact")),
        (Frame::Stage, ["deploy", _]) => vec![keyword("to")],
        (Frame::Stage, ["deploy", _, "to"]) => environments(),
        (Frame::Stage, ["deploy", _, "to", _]) => vec![keyword("as")],
        (Frame::Environment, ["requires"]) => ["approval", "tests", "promotion"]
            .iter()
            .map(|k| keyword(k))
            .collect(),
        (Frame::Environment, ["requires", "promotion"]) => vec![keyword("from")],
        (Frame::Environment, ["requires", "promotion", "from"]) => environments(),
        (Frame::File, ["import"]) => crate::compile::STDLIB
            .iter()
            .map(|(module, _)| CompletionItem {
                label: format!("\"std/{module}\""),
                kind: Some(CompletionItemKind::MODULE),
                ..Default::default()
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// Keywords and attribute names that may begin an item of the block.
fn start_of_item(context: &Context) -> Vec<CompletionItem> {
    let (keywords, specs): (&[&str], &[Spec]) = match &context.frame {
        Frame::File => (&["import", "kind", "pipeline"], &[]),
        Frame::Pipeline => (
            &["on", "env", "secret", "environment", "stage"],
            schema::PIPELINE,
        ),
        Frame::Kind => (&[], schema::KIND),
        Frame::Trigger(event) => (
            &[],
            match event.as_str() {
                "push" => schema::TRIGGER_PUSH,
                "pull_request" => schema::TRIGGER_PULL_REQUEST,
                "tag" => schema::TRIGGER_TAG,
                "schedule" => schema::TRIGGER_SCHEDULE,
                _ => schema::TRIGGER_MANUAL,
            },
        ),
        Frame::Environment => (&["requires", "env"], schema::ENVIRONMENT),
        Frame::Stage => (&["artifact", "test", "deploy", "gate", "job"], &[]),
        Frame::Job(form, _) => match form.as_str() {
            "artifact" => (&["env"], schema::ARTIFACT),
            "gate" => (&[], schema::GATE),
            _ => (&["env", "matrix"], schema::JOB),
        },
        // v2 i13g: the entries of a matrix
        Frame::Matrix => (&["include", "exclude"], &[]),
        Frame::Env | Frame::Other => (&[], &[]),
    };
    let mut items: Vec<CompletionItem> = keywords.iter().map(|k| keyword(k)).collect();
    items.extend(
        specs
            .iter()
            .filter(|spec| !context.seen.iter().any(|s| s == spec.name))
            .map(|spec| CompletionItem {
                label: spec.name.to_string(),
                kind: Some(CompletionItemKind::PROPERTY),
                detail: Some(format!(
                    "{}{}",
                    spec.ty.describe(),
                    if spec.required { " (required)" } else { "" }
                )),
                documentation: Some(markdown(spec.doc.to_string())),
                insert_text: Some(format!("{} = ", spec.name)),
                ..Default::default()
            }),
    );
    items
}

/// Variables after `=`, `(`, `!`, `&&`, `||`; events after `event ==` or `event !=`.
fn condition(context: &Context) -> Vec<CompletionItem> {
    let tokens = &context.statement;
    match tokens.as_slice() {
        [.., Token::Word(variable), Token::Operator("==" | "!=")] if variable == "event" => {
            docs::EVENTS
                .iter()
                .map(|(e, d)| word(e, CompletionItemKind::ENUM_MEMBER, Some(d)))
                .collect()
        }
        [
            ..,
            Token::Punct('=' | '(') | Token::Operator("!" | "&&" | "||"),
        ] => {
            let mut items: Vec<CompletionItem> = docs::VARIABLES
                .iter()
                .map(|(v, d)| word(v, CompletionItemKind::VARIABLE, Some(d)))
                .collect();
            items.push(keyword("true"));
            items.push(keyword("false"));
            items
        }
        [.., Token::Word(variable)] if variable == "branch" || variable == "tag" => {
            vec![keyword("matches")]
        }
        _ => Vec::new(),
    }
}

/// The jobs `after` (or `uses`, artifacts) may name: those of the same stage first, then those
/// of earlier stages (a job waits for those anyway), never one of a later stage (that closes a
/// cycle, E0400), nor the job itself, nor one that already waits for it.
fn waitable(
    names: &Names,
    context: &Context,
    keep: impl Fn(Option<&str>) -> bool,
) -> Vec<CompletionItem> {
    let current = match &context.frame {
        Frame::Job(_, name) => name.as_deref(),
        _ => None,
    };
    let here = context
        .stage
        .as_ref()
        .and_then(|stage| names.stages.iter().position(|s| s == stage));
    let mut items = jobs(names, context, keep);
    items.retain_mut(|item| {
        let stage = names.jobs.get(&item.label).map(|place| place.stage);
        if let (Some(here), Some(stage)) = (here, stage) {
            if stage > here {
                return false;
            }
            // Same stage first.
            item.sort_text = Some(format!("{}{}", u8::from(stage < here), item.label));
        }
        !current.is_some_and(|current| names.waits_for(&item.label, current))
    });
    items
}

/// Jobs (of a form, by `keep`), without the job being written.
fn jobs(
    names: &Names,
    context: &Context,
    keep: impl Fn(Option<&str>) -> bool,
) -> Vec<CompletionItem> {
    let current = match &context.frame {
        Frame::Job(_, name) => name.as_deref(),
        _ => None,
    };
    names
        .defined(|s| matches!(s, Symbol::Job(_)))
        .into_iter()
        .filter(|d| keep(d.form) && Some(d.symbol.name()) != current)
        .map(|d| CompletionItem {
            label: d.symbol.name().to_string(),
            kind: Some(CompletionItemKind::FUNCTION),
            detail: d.form.map(str::to_string),
            documentation: Some(markdown(definition_text(d))),
            ..Default::default()
        })
        .collect()
}

fn symbols(
    names: &Names,
    kind: CompletionItemKind,
    keep: impl Fn(&Symbol) -> bool,
) -> Vec<CompletionItem> {
    names
        .defined(keep)
        .into_iter()
        .map(|d| CompletionItem {
            label: d.symbol.name().to_string(),
            kind: Some(kind),
            documentation: Some(markdown(definition_text(d))),
            ..Default::default()
        })
        .collect()
}

fn keyword(word: &str) -> CompletionItem {
    self::word(word, CompletionItemKind::KEYWORD, docs::keyword(word))
}

fn word(label: &str, kind: CompletionItemKind, doc: Option<&str>) -> CompletionItem {
    CompletionItem {
        label: label.to_string(),
        kind: Some(kind),
        documentation: doc.map(|d| markdown(d.to_string())),
        ..Default::default()
    }
}

fn markdown(value: String) -> Documentation {
    Documentation::MarkupContent(MarkupContent {
        kind: MarkupKind::Markdown,
        value,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compile::compile_text;

    #[test]
    fn approvers_offer_the_teams_as_strings() {
        let text = r#"pipeline p {
  team release-managers { members = ["alice"] }
  stage s { gate g { approvers = [] } }
}"#;
        let names = Names::build(&compile_text("t.cdl", None, text.to_string()));
        let offset = text.find("= []").unwrap() + 3;
        let context = context::at(text, offset);
        let items = items(&context, Some(&names));
        let labels: Vec<(&str, Option<&str>)> = items
            .iter()
            .map(|i| (i.label.as_str(), i.insert_text.as_deref()))
            .collect();
        assert_eq!(
            labels,
            [("@release-managers", Some("\"@release-managers\""))]
        );
    }

    fn labels_at(text: &str, needle: &str) -> Vec<String> {
        let names = Names::build(&compile_text("t.cdl", None, text.to_string()));
        let offset = text.find(needle).unwrap() + needle.len();
        let context = context::at(text, offset);
        let mut labels: Vec<String> = items(&context, Some(&names))
            .into_iter()
            .map(|i| i.label)
            .collect();
        labels.sort();
        labels
    }

    #[test]
    fn after_offers_only_jobs_of_the_same_stage_that_close_no_cycle() {
        let text = r#"pipeline p {
  environment staging {}
  stage build {
    artifact app { run = "make" }
    job lint { run = "l"; after = [] }
    job docs { run = "d"; after = [lint] }
    job check { run = "c"; after = [] }
  }
  stage ship {
    deploy app to staging { run = "d" }
    job smoke { run = "s"; after = [] }
  }
}"#;
        // Never the job itself, nor a job of stage `ship` (E0400); `docs` waits for `lint`.
        assert_eq!(labels_at(text, "\"l\"; after = ["), ["app", "check"]);
        assert_eq!(
            labels_at(text, "\"d\"; after = ["),
            ["app", "check", "lint"]
        );
        assert_eq!(labels_at(text, "\"c\"; after = ["), ["app", "docs", "lint"]);
        // Jobs of earlier stages are legal (already waited for); the same stage's come first.
        let names = Names::build(&compile_text("t.cdl", None, text.to_string()));
        let needle = "\"s\"; after = [";
        let offset = text.find(needle).unwrap() + needle.len();
        let mut offered: Vec<(String, String)> = items(&context::at(text, offset), Some(&names))
            .into_iter()
            .map(|i| (i.sort_text.unwrap_or_default(), i.label))
            .collect();
        offered.sort();
        let labels: Vec<&str> = offered.iter().map(|(_, l)| l.as_str()).collect();
        assert_eq!(
            labels,
            ["deploy_app_staging", "app", "check", "docs", "lint"]
        );
    }

    // v2 i13g
    #[test]
    fn a_matrix_offers_include_and_exclude() {
        let text = "pipeline p { stage s { job j { run = \"x\"\n matrix { os = [\"a\"]\n  } } } }";
        assert_eq!(labels_at(text, "[\"a\"]\n "), ["exclude", "include"]);
    }

    #[test]
    fn half_typed_matrix_entries_never_panic() {
        let full = "pipeline p { stage s { job j { run = \"x\"  runner = matrix.os\n matrix {\n os = [\"a\", \"b\"]\n include { os = \"c\"  extra = \"1\" }\n exclude { os = \"a\" }\n } } } }";
        for end in (0..=full.len()).filter(|i| full.is_char_boundary(*i)) {
            let text = &full[..end];
            let names = Names::build(&compile_text("t.cdl", None, text.to_string()));
            for offset in (0..=text.len()).step_by(7) {
                let context = context::at(text, offset);
                let _ = items(&context, Some(&names));
            }
        }
    }
}
