//! `step NAME { … }` blocks and `shell = "…"` (language v2 §4): typed into the plan's steps,
//! every misuse reported with a code and a span.

use super::attributes::{Attributes, Spec, Type, string_map};
use super::resolve::duplicate;
use super::value::WithSlot;
use crate::codes::Code;
use crate::diagnostic::{Diagnostic, Sink};
use crate::model::steps::{RUNS_WORDS, Runs, SHELL_WORDS, Shell, Step};
use crate::span::{Ident, Span};
use crate::syntax::ast;

/// The attributes of a step.
pub const STEP: &[Spec] = &[
    Spec {
        name: "run",
        ty: Type::String,
        required: true,
        doc: "The step's script, run by one shell.",
    },
    Spec {
        name: "name",
        ty: Type::String,
        required: false,
        doc: "The step's display name.",
    },
    Spec {
        name: "secrets",
        ty: Type::Names,
        required: false,
        doc: "Secrets of the job that only the steps listing them receive.",
    },
    Spec {
        name: "timeout",
        ty: Type::Duration,
        required: false,
        doc: "The step is stopped when it runs longer; the steps that run after a failure still run.",
    },
    Spec {
        name: "allow_failure",
        ty: Type::Bool,
        required: false,
        doc: "A failure of this step neither fails the job nor stops the later steps.",
    },
    Spec {
        name: "runs",
        ty: Type::Word(RUNS_WORDS),
        required: false,
        doc: "`on_success` (default): only while every earlier step succeeded; `on_failure`: only after one failed; `always`: whatever they did. Never after a person cancelled the run.",
    },
    // v2 i13l: step conditions (read by `step_when::read`)
    Spec {
        name: "when",
        ty: Type::Condition,
        required: false,
        doc: "The step runs only when this condition holds (the job's condition language, `matrix.KEY` too); otherwise it is skipped.",
    },
    Spec {
        name: "shell",
        ty: Type::String,
        required: false,
        doc: "`\"sh\"` (`sh -e -c`), `\"bash\"` (`bash --noprofile --norc -eo pipefail -c`) or `\"pwsh\"` (`pwsh -NoProfile -Command`, stopping at the first error).",
    },
];

/// The doc of the `shell` attribute of a pipeline or a job.
pub const SHELL_DOC: &str = "The shell of the steps: `\"sh\"` (default; `bash` on Windows runners in exports), `\"bash\"` or `\"pwsh\"`.";

/// Reads `shell = "…"` of a block, reporting a word that is no shell.
pub fn shell(attrs: &Attributes, sink: &mut Sink) -> Option<Shell> {
    let word = attrs.string("shell")?;
    let parsed = Shell::parse(&word);
    if parsed.is_none() {
        let span = attrs.value_span("shell")?;
        sink.push(
            Diagnostic::new(
                Code::InvalidValue,
                span,
                format!("`{word}` is not a shell cdl knows"),
            )
            .label("not a shell")
            .help(format!(
                "write one of {}",
                SHELL_WORDS
                    .iter()
                    .map(|w| format!("`\"{w}\"`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        );
    }
    parsed
}

/// The steps of a job, in written order, and their native forms' `with` values that read
/// references. `secrets` are the job's; `has_run` says whether the job has its own `run`
/// (its last step, named `run`).
pub fn read(
    body: &[ast::BodyItem],
    job: &str,
    secrets: &[Ident],
    has_run: bool,
    sink: &mut Sink,
) -> (Vec<Step>, Vec<WithSlot>) {
    let mut steps: Vec<Step> = Vec::new();
    let mut values: Vec<WithSlot> = Vec::new();
    let mut seen: Vec<(String, Span)> = Vec::new();
    for item in body {
        let ast::BodyItem::Step(block) = item else {
            continue;
        };
        if let Some((_, first)) = seen.iter().find(|(n, _)| *n == block.name.name) {
            let mut diagnostic = duplicate("step", &block.name, *first);
            diagnostic.help = Some(format!("rename one of the steps of `{job}`"));
            sink.push(diagnostic);
            continue;
        }
        if block.name.name == "run" {
            let mut diagnostic = Diagnostic::new(
                Code::DuplicateName,
                block.name.span,
                format!("`{job}` has a step named `run`, the name of the job's own `run`"),
            )
            .label("the job's `run` is its last step, named `run`");
            diagnostic.help = Some(if has_run {
                "rename this step".to_string()
            } else {
                "rename this step, or write its script as the job's `run = \"…\"`".to_string()
            });
            sink.push(diagnostic);
            continue;
        }
        seen.push((block.name.name.clone(), block.name.span));
        let mut read = Vec::new();
        if let Some(step) = step(block, job, secrets, &mut read, sink) {
            steps.push(step);
            values.extend(read);
        }
    }
    (steps, values)
}

fn step(
    block: &ast::StepBlock,
    job: &str,
    secrets: &[Ident],
    values: &mut Vec<WithSlot>,
    sink: &mut Sink,
) -> Option<Step> {
    let what = format!("the step `{}` of `{job}`", block.name.name);
    let attributes = block.items.iter().filter_map(|i| match i {
        ast::StepItem::Attribute(a) => Some(a),
        ast::StepItem::Env(_) | ast::StepItem::Native(_) => None,
    });
    // v2 i13l: a step's `when` is read by `step_when::read`, which knows the job's matrix.
    let attributes: Vec<&ast::Attribute> = attributes.filter(|a| a.name.name != "when").collect();
    let attrs = Attributes::read(STEP, &what, attributes, sink);
    let header = block.span.with_end(block.name.span.end);
    // v2 i14e: a step with native forms may leave out `run` (those targets use the forms).
    let has_native = block
        .items
        .iter()
        .any(|i| matches!(i, ast::StepItem::Native(_)));
    attrs.require(
        STEP,
        &what,
        header,
        sink,
        if has_native { &["run"] } else { &[] },
    );
    let native = super::native::read(
        block,
        &what,
        attrs.is_set("run"),
        attrs.name_span("shell"),
        values,
        sink,
    );
    let mut env = indexmap::IndexMap::new();
    let mut env_span: Option<Span> = None;
    for item in &block.items {
        if let ast::StepItem::Env(e) = item {
            if let Some(first) = env_span.replace(e.span) {
                sink.push(
                    Diagnostic::new(
                        Code::DuplicateAttribute,
                        e.span,
                        format!("{what} has two `env` blocks"),
                    )
                    .label("second `env` block")
                    .related(first, "first `env` block")
                    .help("merge them into one"),
                );
            }
            let vars = string_map(&e.variables, &format!("the `env` of {what}"), sink);
            env.extend(vars.into_iter().map(|(k, (v, _))| (k, v)));
            // v2: composed values are read by `value::steps`.
        }
    }
    let step_secrets = attrs.names("secrets");
    for secret in &step_secrets {
        if !secrets.iter().any(|s| s.name == secret.name) {
            sink.push(
                Diagnostic::new(
                    Code::StepSecretNotListed,
                    secret.span,
                    format!(
                        "the step `{}` takes the secret `{}`, which `{job}` does not list",
                        block.name.name, secret.name
                    ),
                )
                .label("not a secret of the job")
                .help(format!(
                    "add it to the job: `secrets = [{}]`; a step chooses among the job's secrets",
                    secrets
                        .iter()
                        .map(|s| s.name.as_str())
                        .chain([secret.name.as_str()])
                        .collect::<Vec<_>>()
                        .join(", ")
                )),
            );
        }
    }
    let shell = shell(&attrs, sink);
    Some(Step {
        name: block.name.name.clone(),
        display_name: attrs.string("name"),
        run: match attrs.string("run") {
            Some(run) => run,
            None if has_native && !attrs.is_set("run") => String::new(),
            None => return None,
        },
        shell,
        env,
        secrets: step_secrets.into_iter().map(|s| s.name).collect(),
        timeout_seconds: attrs.duration("timeout"),
        allow_failure: attrs.bool("allow_failure") == Some(true),
        runs: attrs
            .word("runs")
            .and_then(|w| Runs::parse(&w))
            .unwrap_or_default(),
        // v2 i13l: read by `step_when::read` with the job's matrix.
        when: None,
        native,
        // v2: composed values, per instance (read by `value::steps`, set by the plan).
        env_values: indexmap::IndexMap::new(),
    })
}
