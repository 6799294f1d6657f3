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
            ("when" | "auto_when", _) => condition(context, names),
            ("environment", Frame::Kind) => KIND_ENVIRONMENT_WORDS
                .iter()
                .map(|w| word(w, CompletionItemKind::ENUM_MEMBER, None))
                .collect(),
            // v2 i13f: jobs (and steps) that run after a failure, jobs started by hand
            ("runs", _) => crate::model::steps::RUNS_WORDS
                .iter()
                .map(|w| word(w, CompletionItemKind::ENUM_MEMBER, None))
                .collect(),
            ("start", _) => crate::check::after_failure::START_WORDS
                .iter()
                .map(|w| word(w, CompletionItemKind::ENUM_MEMBER, None))
                .collect(),
            ("allow_failure", _) => ["true", "false"]
                .iter()
                .map(|w| word(w, CompletionItemKind::KEYWORD, None))
                .collect(),
            // v2 i13j: the declared names after `input.`, `var.`, `secret.` in a value.
            (name, frame)
                if (*frame == Frame::Env || matches!(name, "image" | "runner" | "url"))
                    && matches!(
                        context.statement.as_slice(),
                        [.., Token::Word(_), Token::Punct('.')]
                    ) =>
            {
                condition(context, names)
            }
            // v2 i14a: the words a setting takes.
            (name, frame) => setting_values(name, frame),
        };
    }
    if let Some(written) = after_from(context) {
        // v2 i13e: templates after `from` in a head.
        let mut items = symbols(names, CompletionItemKind::CLASS, |s| {
            matches!(s, Symbol::Template(_))
        });
        items.retain(|item| !written.contains(&item.label.as_str()));
        return items;
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
        (Frame::Stage, ["test", _]) => vec![keyword("on"), keyword("from")],
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
        Frame::File => (&["import", "kind", "template", "pipeline"], &[]),
        Frame::Pipeline => (
            &["on", "env", "secret", "environment", "stage", "concurrency"],
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
            // v2 i13k: an artifact may have a matrix.
            "artifact" => (&["env", "matrix", "reports", "service"], schema::ARTIFACT),
            "gate" => (&[], schema::GATE),
            "template" => (
                &["env", "matrix", "reports", "oidc", "service"],
                crate::check::templates::any_job(),
            ),
            _ => (
                &[
                    "env",
                    "matrix",
                    "reports",
                    "oidc",
                    "service",
                    "environment",
                    "trigger",
                ],
                schema::JOB,
            ),
        },
        Frame::Cache => (&[], schema::CACHE), // v2 i14c
        Frame::Reports => (&[], schema::REPORTS),
        Frame::Service => (&["env"], crate::check::services::SERVICE),
        Frame::Setting(word) => (&[], crate::check::platform::schema(word)),
        // v2 i13g: the entries of a matrix
        Frame::Matrix => (&["include", "exclude"], &[]),
        // v2 i13l, i14e: a step's attributes (`when` among them) and native blocks; a native
        // block's attributes
        Frame::Step => (
            &["env", "github", "circleci", "buildkite"],
            crate::check::steps::STEP,
        ),
        Frame::Native(target) => (&["with"], crate::check::native::schema(target)),
        Frame::Env | Frame::With | Frame::Other => (&[], &[]),
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

/// The templates already written after `from` in a job's or template's head, when the cursor
/// is where a template's name goes (v2 i13e).
fn after_from(context: &Context) -> Option<Vec<&str>> {
    if !matches!(context.frame, Frame::Stage | Frame::File) {
        return None;
    }
    let statement = &context.statement;
    match statement.first() {
        Some(Token::Word(head))
            if ["artifact", "test", "deploy", "gate", "job", "template"]
                .contains(&head.as_str()) => {}
        _ => return None,
    }
    let from = statement
        .iter()
        .position(|t| *t == Token::Word("from".into()))?;
    let after = &statement[from + 1..];
    let well_formed = after
        .iter()
        .all(|t| matches!(t, Token::Word(_) | Token::Punct(',')));
    let expects_name = matches!(after.last(), None | Some(Token::Punct(',')));
    (well_formed && expects_name).then(|| {
        after
            .iter()
            .filter_map(|t| match t {
                Token::Word(w) => Some(w.as_str()),
                _ => None,
            })
            .collect()
    })
}

/// The words of a platform setting's value: `read | write | none` for a scope, `read_all |
/// write_all` for `permissions =`, `ref | pipeline`, `true | false` (v2 i14a).
fn setting_values(name: &str, frame: &Frame) -> Vec<CompletionItem> {
    let specs: &[Spec] = match frame {
        Frame::Setting(word) => crate::check::platform::schema(word),
        Frame::Cache => schema::CACHE, // v2 i14c
        Frame::Pipeline => schema::PIPELINE,
        Frame::Job(..) => schema::JOB,
        _ => &[],
    };
    let words: &[&str] = match specs.iter().find(|s| s.name == name).map(|s| s.ty) {
        Some(schema::Type::Word(words)) => words,
        Some(schema::Type::Bool) => &["true", "false"],
        _ => &[],
    };
    words
        .iter()
        .map(|w| word(w, CompletionItemKind::ENUM_MEMBER, None))
        .collect()
}

/// Variables after `=`, `(`, `!`, `&&`, `||`; events after `event ==` or `event !=`.
fn condition(context: &Context, names: &Names) -> Vec<CompletionItem> {
    let tokens = &context.statement;
    match tokens.as_slice() {
        // v2 i13d: `input.`, `var.`, `secret.` (in `defined(…)`): the declared names.
        [.., Token::Word(prefix), Token::Punct('.')] => match prefix.as_str() {
            "input" => symbols(names, CompletionItemKind::VARIABLE, |s| {
                matches!(s, Symbol::Input(_))
            }),
            "var" => symbols(names, CompletionItemKind::VARIABLE, |s| {
                matches!(s, Symbol::Var(_))
            }),
            "secret" => symbols(names, CompletionItemKind::CONSTANT, |s| {
                matches!(s, Symbol::Secret(_))
            }),
            _ => Vec::new(),
        },
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

    /// v2 i13d: `input.`, `var.` and `secret.` in a condition offer the declared names; the
    /// hover of a reference shows the declaration; half-typed versions never panic.
    #[test]
    fn conditions_offer_inputs_vars_and_secrets() {
        let text = r#"pipeline p {
  secret TOKEN
  input target { type = choice  choices = ["a", "b"]  default = "a"  description = "Where" }
  var FLAG { default = "1" }
  stage s { job j { run = "x"; when = input.target == "a" } }
}"#;
        let names = Names::build(&compile_text("t.cdl", None, text.to_string()));
        let labels = |prefix: &str| -> Vec<String> {
            let typed = text.replace("input.target == \"a\"", prefix);
            let offset = typed.find(prefix).unwrap() + prefix.len();
            let context = context::at(&typed, offset);
            items(&context, Some(&names))
                .into_iter()
                .map(|i| i.label)
                .collect()
        };
        assert_eq!(labels("input."), ["target"]);
        assert_eq!(labels("var."), ["FLAG"]);
        assert_eq!(labels("defined(secret."), ["TOKEN"]);
        let symbol = Symbol::Input("target".into());
        let references = names.occurrences_of(&symbol).count();
        assert_eq!(references, 2, "the declaration and `input.target`");
        for cut in [
            "input",
            "input t",
            "input t {",
            "input t { type =",
            "var",
            "var V { default",
            "when = defined(",
            "when = defined(var.",
            "when = input.",
            "when = branch == default_",
        ] {
            let half = format!("pipeline p {{ {cut}");
            let compilation = compile_text("h.cdl", None, half.clone());
            let names = Names::build(&compilation);
            let _ = items(&context::at(&half, half.len()), Some(&names));
        }
    }

    /// v2 i14b: `changed` completes where a condition starts, hovers with its meaning, and
    /// half-typed calls never panic.
    #[test]
    fn changed_completes_and_hovers_and_survives_half_typed_calls() {
        let text =
            r#"pipeline p { stage s { job j { run = "x"; when = changed("src/**", "a b") } } }"#;
        let at = text.find("changed").unwrap();
        let labels: Vec<String> = items(&context::at(text, at), None)
            .into_iter()
            .map(|i| i.label)
            .collect();
        assert!(labels.contains(&"changed".to_string()), "{labels:?}");
        let compilation = compile_text("t.cdl", None, text.to_string());
        assert!(compilation.diagnostics.is_empty());
        let names = Names::build(&compilation);
        for offset in [at, at + 3, at + "changed".len()] {
            let found = names.at(compilation.root, offset);
            assert!(
                found.iter().any(
                    |o| matches!(&o.what, crate::lsp::names::What::Variable(v) if v == "changed")
                ),
                "{offset}"
            );
        }
        assert!(crate::lsp::docs::variable("changed").is_some_and(|d| d.contains("path glob")));
        for cut in [
            "when = changed",
            "when = changed(",
            "when = changed(\"",
            "when = changed(\"a/**",
            "when = changed(\"a\",",
            "when = changed(\"a\", ",
            "when = !changed(\"a\") &&",
            "when = changed())",
        ] {
            let half = format!("pipeline p {{ stage s {{ job j {{ run = \"x\"; {cut}");
            let compilation = compile_text("h.cdl", None, half.clone());
            let names = Names::build(&compilation);
            let _ = items(&context::at(&half, half.len()), Some(&names));
            for offset in 0..=half.len() {
                let _ = names.at(compilation.root, offset);
            }
        }
    }

    #[test]
    fn runs_and_start_complete_their_words_and_names() {
        let labels = |text: &str, at: &str| -> Vec<String> {
            let names = Names::build(&compile_text("t.cdl", None, text.to_string()));
            let offset = text.find(at).unwrap() + at.len();
            items(&context::at(text, offset), Some(&names))
                .into_iter()
                .map(|i| i.label)
                .collect()
        };
        let job = |body: &str| {
            format!(
                "pipeline p {{\n  stage s {{\n    job j {{\n      run = \"x\"\n      {body}\n    }}\n  }}\n}}\n"
            )
        };
        let runs = ["on_success", "on_failure", "always"];
        assert_eq!(labels(&job("runs = "), "runs = "), runs);
        assert_eq!(labels(&job("start = "), "start = "), ["manual"]);
        assert_eq!(
            labels(
                &job("step a {\n        run = \"y\"\n        runs = \n      }"),
                "runs = "
            ),
            runs
        );
        let attributes = labels(&job("runs = always\n      "), "always\n      ");
        assert!(attributes.iter().any(|l| l == "start"), "{attributes:?}");
        assert!(!attributes.iter().any(|l| l == "runs"), "{attributes:?}");
        // v2 i14e: a step offers its native blocks, a native block its attributes and `with`.
        let step = labels(&job("step a {\n        \n      }"), "step a {\n        ");
        for word in ["github", "circleci", "buildkite", "run", "env"] {
            assert!(step.iter().any(|l| l == word), "{word}: {step:?}");
        }
        let github = labels(&job("step a {\n        github {  }\n      }"), "github { ");
        assert_eq!(github, ["with", "uses"]);
        let circleci = labels(
            &job("step a {\n        circleci {  }\n      }"),
            "circleci { ",
        );
        assert_eq!(circleci, ["with", "orb", "command"]);
        let buildkite = labels(
            &job("step a {\n        buildkite {  }\n      }"),
            "buildkite { ",
        );
        assert_eq!(buildkite, ["with", "plugin"]);
        let with = labels(
            &job("step a {\n        github { with {  } }\n      }"),
            "with { ",
        );
        assert!(with.is_empty(), "{with:?}");
        for truncated in [
            "step a { git",
            "step a { github",
            "step a { github {",
            "step a { github { uses",
            "step a { github { uses = \"act",
            "step a { github { uses = \"a/b@v1\" with",
            "step a { github { uses = \"a/b@v1\" with {",
            "step a { github { uses = \"a/b@v1\" with { node-",
            "step a { github { uses = \"a/b@v1\" with { node-version = ",
            "step a { circleci { orb = \"node: ",
            "step a { buildkite { plugin = \"x#v1\" with { run = \"app\" }",
        ] {
            let text = job(truncated);
            for offset in 0..=text.len() {
                if text.is_char_boundary(offset) {
                    let _ = items(&context::at(&text, offset), None);
                }
            }
            let _ = labels(&text, truncated);
        }
        // Half-typed versions never panic.
        for truncated in [
            "runs",
            "runs =",
            "runs = al",
            "start = man",
            "start",
            "start =",
        ] {
            let text = format!("pipeline p {{ stage s {{ job j {{ run = \"x\"  {truncated}");
            let _ = items(&context::at(&text, text.len()), None);
            let _ = compile_text("t.cdl", None, text.clone());
        }
    }

    /// v2 i13l: a step offers `when`, its value completes like a job's condition, and
    /// half-typed step conditions never panic.
    #[test]
    fn a_steps_when_completes_and_half_typed_ones_never_panic() {
        let text = "pipeline p {\n  stage s {\n    job j {\n      step a {\n        run = \"y\"\n        \n      }\n    }\n  }\n}\n";
        let names = Names::build(&compile_text("t.cdl", None, text.to_string()));
        let offset = text.find("\"y\"\n        ").unwrap() + "\"y\"\n        ".len();
        let labels: Vec<String> = items(&context::at(text, offset), Some(&names))
            .into_iter()
            .map(|i| i.label)
            .collect();
        assert!(labels.iter().any(|l| l == "when"), "{labels:?}");
        for cut in [
            "step a { run = \"y\"  when",
            "step a { run = \"y\"  when =",
            "step a { run = \"y\"  when = matrix.",
            "step a { run = \"y\"  when = branch ==",
            "step a { run = \"y\"  when = defined(secret.",
            "step a { run = \"y\"  when = !(",
        ] {
            let half = format!("pipeline p {{ stage s {{ job j {{ {cut}");
            let compilation = compile_text("h.cdl", None, half.clone());
            let names = Names::build(&compilation);
            let _ = items(&context::at(&half, half.len()), Some(&names));
        }
    }

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
    fn caches_complete_their_attributes_and_policy_values() {
        let text = "pipeline p { stage s { job a { run = \"x\"\n cache cargo { key = [\"Cargo.lock\"]\n  } \n cache npm { paths = [\"n\"] policy = } } } }";
        assert_eq!(labels_at(text, "[\"Cargo.lock\"]\n "), ["paths", "policy"]);
        assert_eq!(labels_at(text, "policy = "), ["pull", "pull_push", "push"]);
    }

    #[test]
    fn reports_complete_the_report_kinds_and_jobs_offer_reports_keep_and_retention() {
        let text = "pipeline p { stage s { test unit { run = \"x\"\n reports { junit = [\"a.xml\"]\n  } \n  } } }";
        let labels = labels_at(text, "[\"a.xml\"]\n ");
        assert_eq!(labels, ["codequality", "coverage", "coverage_regex"]);
        let labels = labels_at(text, "run = \"x\"\n");
        for expected in ["reports", "keep", "retention"] {
            assert!(
                labels.iter().any(|l| l == expected),
                "{expected}: {labels:?}"
            );
        }
    }

    /// v2 i14d
    #[test]
    fn services_complete_their_attributes_and_jobs_offer_service() {
        let text = "pipeline p { stage s { test unit { run = \"x\"\n service db { image = \"postgres:16\"\n  } \n  } } }";
        let labels = labels_at(text, "\"postgres:16\"\n ");
        assert_eq!(labels, ["command", "env", "health", "port"]);
        let labels = labels_at(text, "run = \"x\"\n");
        assert!(labels.iter().any(|l| l == "service"), "{labels:?}");
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

    // v2 i13i: values passed to later jobs.
    #[test]
    fn a_job_offers_values_and_half_typed_values_never_panic() {
        let text = "pipeline p { stage s { job meta { run = \"x\"\n    \n } } }";
        assert!(labels_at(text, "run = \"x\"\n    ").contains(&"values".to_string()));
        let fixture = include_str!("../../../tests/fixtures/ok/values.cdl");
        for end in (0..=fixture.len()).filter(|&i| fixture.is_char_boundary(i)) {
            let prefix = &fixture[..end];
            let names = Names::build(&compile_text("t.cdl", None, prefix.to_string()));
            let context = context::at(prefix, prefix.len());
            let _ = items(&context, Some(&names));
        }
    }

    // ---- v2 i14a: platform settings

    const PLATFORM: &str = r#"pipeline p {
  permissions { contents = read; pull_requests = write }
  concurrency { per = ref; cancel_in_progress = true }
  stage s {
    job a {
      run = "x"
      oidc { audience = "sts.amazonaws.com" }
      checkout { depth = 0; lfs = true }
      permissions = read_all
    }
  }
}"#;

    #[test]
    fn setting_blocks_complete_their_keys_and_values() {
        let text = "pipeline p {\n  permissions {\n    pu";
        let labels = labels_at(text, "pu");
        assert!(labels.contains(&"pull_requests".to_string()), "{labels:?}");
        assert!(labels.contains(&"id_token".to_string()), "{labels:?}");
        assert_eq!(labels.len(), crate::model::platform::SCOPES.len());
        let text = "pipeline p {\n  permissions { contents = ";
        assert_eq!(labels_at(text, "contents = "), ["none", "read", "write"]);
        let text = "pipeline p {\n  permissions = ";
        assert_eq!(labels_at(text, "permissions = "), ["read_all", "write_all"]);
        let text = "pipeline p {\n  concurrency { per = ";
        assert_eq!(labels_at(text, "per = "), ["pipeline", "ref"]);
        let text = "pipeline p {\n  concurrency { cancel_in_progress = ";
        assert_eq!(labels_at(text, "cancel_in_progress = "), ["false", "true"]);
        let text = "pipeline p { stage s { job a {\n  checkout {\n ";
        assert_eq!(
            labels_at(text, "checkout {\n "),
            ["depth", "lfs", "submodules"]
        );
        let text = "pipeline p { stage s { job a {\n  oidc {\n ";
        assert_eq!(labels_at(text, "oidc {\n "), ["audience"]);
        let text = "pipeline p { stage s { job a {\n  ";
        let labels = labels_at(text, "{\n  ");
        for word in ["oidc", "permissions", "checkout"] {
            assert!(labels.contains(&word.to_string()), "{word}: {labels:?}");
        }
        let text = "pipeline p { stage s { job a {\n  environment {\n ";
        assert_eq!(labels_at(text, "environment {\n "), ["name", "stop", "url"]);
        let text = "pipeline p { stage s { job a {\n  trigger {\n ";
        assert_eq!(
            labels_at(text, "trigger {\n "),
            ["branch", "project", "wait"]
        );
        let text = "pipeline p {\n  ";
        let labels = labels_at(text, "{\n  ");
        for word in ["concurrency", "permissions", "checkout"] {
            assert!(labels.contains(&word.to_string()), "{word}: {labels:?}");
        }
    }

    #[test]
    fn half_typed_settings_never_panic() {
        for end in 0..=PLATFORM.len() {
            if !PLATFORM.is_char_boundary(end) {
                continue;
            }
            let text = &PLATFORM[..end];
            let names = Names::build(&compile_text("t.cdl", None, text.to_string()));
            let context = context::at(text, text.len());
            let _ = items(&context, Some(&names));
        }
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

    /// v2 i13j: a value offers the declared inputs, vars and secrets after their prefix.
    #[test]
    fn values_offer_inputs_vars_and_secrets() {
        let text = r#"pipeline p {
  secret TOKEN
  input target { type = string }
  var FLAG { default = "1" }
  stage s { job j { run = "x"  secrets = [TOKEN]
  image = "a:" + var.
  env { A = "x" + input.
  B = secret. } } }
}"#;
        let declared = r#"pipeline p {
  secret TOKEN
  input target { type = string }
  var FLAG { default = "1" }
  stage s { job j { run = "x"  secrets = [TOKEN] } }
}"#;
        let names = Names::build(&compile_text("t.cdl", None, declared.to_string()));
        let labels = |at: &str| -> Vec<String> {
            let offset = text.find(at).unwrap() + at.len();
            items(&context::at(text, offset), Some(&names))
                .into_iter()
                .map(|i| i.label)
                .collect()
        };
        assert_eq!(labels("\"a:\" + var."), ["FLAG"]);
        assert_eq!(labels("\"x\" + input."), ["target"]);
        assert_eq!(labels("B = secret."), ["TOKEN"]);
    }

    /// v2 i13j: half-typed composed values (`"a" +`, `sha + input.`) never panic the
    /// compiler, the names or the completion, anywhere a value may stand.
    #[test]
    fn half_typed_composed_values_never_panic() {
        let full = r#"pipeline p {
  input channel { type = string }
  env { A = "x" + sha }
  environment e { url = "https://" + branch }
  stage s { job j { run = "x"  image = "a:" + var.T  matrix { os = ["a"] }  env { B = "y" + matrix.os + input.channel + value.k.v + secret.S } } }
}"#;
        for end in (0..=full.len()).filter(|&i| full.is_char_boundary(i)) {
            let half = &full[..end];
            for text in [
                half.to_string(),
                format!("{half} +"),
                format!("{half} + \""),
            ] {
                let compilation = compile_text("h.cdl", None, text.clone());
                let names = Names::build(&compilation);
                let _ = items(&context::at(&text, text.len()), Some(&names));
                let _ = crate::fmt::format(crate::span::FileId(0), &text);
            }
        }
    }

    // v2 i13k
    #[test]
    fn an_artifact_offers_optional_outputs_and_matrix() {
        let text = "pipeline p { stage s { artifact a { run = \"x\"\n outputs = [\"o\"]\n } } }";
        let labels = labels_at(text, "[\"o\"]\n");
        for expected in ["optional_outputs", "matrix"] {
            assert!(
                labels.iter().any(|l| l == expected),
                "{expected}: {labels:?}"
            );
        }
    }

    #[test]
    fn half_typed_matrix_artifacts_never_panic() {
        let full = "pipeline p { environment e {}\n stage s { artifact a { run = \"x\"\n matrix {\n os = [\"a/b\", \"a_b\"]\n include { os = \"c\" }\n }\n outputs = [\"o\"]\n optional_outputs = [\"d/**\"]\n } }\n stage t { deploy a to e { run = \"y\" } } }";
        for end in (0..=full.len()).filter(|i| full.is_char_boundary(*i)) {
            let text = &full[..end];
            let names = Names::build(&compile_text("t.cdl", None, text.to_string()));
            for offset in (0..=text.len()).step_by(5) {
                let context = context::at(text, offset);
                let _ = items(&context, Some(&names));
            }
        }
    }
}
