//! Target-native steps (language v2 §5): `github { … }`, `circleci { … }` and
//! `buildkite { … }` in a step, typed into the plan's [`Native`] forms. A malformed `uses`,
//! `orb`, `command` or `plugin` is an error (E0345); a `uses` not pinned to a full commit is a
//! warning with the fix (W0124, zizmor's `unpinned-uses`); `shell` on a step whose `run` is
//! absent has nothing to apply to (W0125).

use super::attributes::{Attributes, Spec, Type};
use super::value::{self, Place, WithSlot};
use crate::codes::Code;
use crate::diagnostic::{Diagnostic, Sink, did_you_mean};
use crate::model::native::{
    self, BuildkiteStep, CircleciStep, GithubStep, Native, With, WithValue,
};
use crate::span::Span;
use crate::syntax::ast::{self, ExprKind};
use indexmap::IndexMap;

/// The attributes of `github { … }`.
pub const GITHUB: &[Spec] = &[Spec {
    name: "uses",
    ty: Type::String,
    required: true,
    doc: "The action: `owner/repo[/path]@<40-hex commit> # vX` (pinned; the comment says the version), or `docker://image@sha256:…`.",
}];

/// The attributes of `circleci { … }`.
pub const CIRCLECI: &[Spec] = &[
    Spec {
        name: "orb",
        ty: Type::String,
        required: true,
        doc: "The orb as the config's `orbs:` names it: `alias: namespace/orb@version`.",
    },
    Spec {
        name: "command",
        ty: Type::String,
        required: true,
        doc: "The orb command the step invokes: `alias/command`.",
    },
];

/// The attributes of `buildkite { … }`.
pub const BUILDKITE: &[Spec] = &[Spec {
    name: "plugin",
    ty: Type::String,
    required: true,
    doc: "The plugin: `name#vX.Y.Z` (or `org/name#vX.Y.Z`).",
}];

/// The doc of `with { … }` in a native block.
pub const WITH_DOC: &str = "The action's inputs, the orb command's parameters or the plugin's settings: `name = \"value\"` (names are free-form, e.g. `node-version`). A value may read references (`password = secret.TOKEN`, `tags = \"app:\" + sha`, `target = matrix.target`), which each target writes in its own syntax; literal text stays literal.";

/// The schema of a native block's word.
pub fn schema(target: &str) -> &'static [Spec] {
    match target {
        "github" => GITHUB,
        "circleci" => CIRCLECI,
        _ => BUILDKITE,
    }
}

/// Reads a step's native blocks. `has_run` says whether the step has its own `run`, and
/// `shell` where its `shell` is written. The `with` values that read references are added
/// to `values` (the plan resolves them per instance).
pub fn read(
    block: &ast::StepBlock,
    what: &str,
    has_run: bool,
    shell: Option<Span>,
    values: &mut Vec<WithSlot>,
    sink: &mut Sink,
) -> Native {
    let mut out = Native::default();
    let mut seen: Vec<(&str, Span)> = Vec::new();
    for item in &block.items {
        let ast::StepItem::Native(native) = item else {
            continue;
        };
        let target = native.target.name.as_str();
        if let Some((_, first)) = seen.iter().find(|(t, _)| *t == target) {
            sink.push(
                Diagnostic::new(
                    Code::DuplicateAttribute,
                    native.target.span,
                    format!("{what} has two `{target}` blocks"),
                )
                .label("second block")
                .related(*first, "first block")
                .help("merge them into one"),
            );
            continue;
        }
        seen.push((target, native.target.span));
        let block_what = format!("the `{target}` block of {what}");
        let attributes = native.items.iter().filter_map(|i| match i {
            ast::NativeItem::Attribute(a) => Some(a),
            ast::NativeItem::With(_) => None,
        });
        if target == "github" {
            // `uses` here names an action: read as a plain string, not as the job's `uses`
            // (whose GitHub spelling `check/foreign.rs` reports).
            let uses = github_uses(attributes, native.target.span, &block_what, sink);
            let first = values.len();
            let with = with(native, &block_what, &mut slots(values, block, target), sink);
            if let Some((text, _)) = &uses {
                code_inputs(native::split_uses(text).0, &values[first..], sink);
            }
            out.github = uses.and_then(|(text, span)| github(&text, span, with, sink));
            continue;
        }
        let attrs = Attributes::read(schema(target), &block_what, attributes, sink);
        attrs.require(schema(target), &block_what, native.target.span, sink, &[]);
        let with = with(native, &block_what, &mut slots(values, block, target), sink);
        if target == "circleci" {
            out.circleci = circleci(&attrs, with, sink);
        } else {
            out.buildkite = buildkite(&attrs, with, sink);
        }
    }
    if let (false, Some(span)) = (has_run || seen.is_empty(), shell) {
        sink.push(
            Diagnostic::new(
                Code::NativeShellWithoutRun,
                span,
                format!("{what} has a `shell` but no `run` for it to run"),
            )
            .label("applies to nothing")
            .help("remove `shell`, or add the portable `run = \"…\"` it is for (the native forms run in the target's own way)"),
        );
    }
    out
}

/// Where [`with`] puts a block's values that read references.
struct Slots<'a> {
    values: &'a mut Vec<WithSlot>,
    step: &'a str,
    target: &'a str,
}

fn slots<'a>(
    values: &'a mut Vec<WithSlot>,
    block: &'a ast::StepBlock,
    target: &'a str,
) -> Slots<'a> {
    Slots {
        values,
        step: &block.name.name,
        target,
    }
}

/// `with { KEY = … }`: integers and booleans kept as their text, strings as they stand, and
/// values (v2 §2: `secret.TOKEN`, `"v" + value.meta.version`, `matrix.target`) typed by
/// `value::read` — each is in the native form as its parts without `matrix.KEY` (the plan
/// puts in each instance's) and in `slots`.
fn with(native: &ast::NativeBlock, what: &str, slots: &mut Slots, sink: &mut Sink) -> With {
    let mut out = With::new();
    let mut first_block: Option<Span> = None;
    for item in &native.items {
        let ast::NativeItem::With(block) = item else {
            continue;
        };
        if let Some(first) = first_block.replace(block.word.span) {
            sink.push(
                Diagnostic::new(
                    Code::DuplicateAttribute,
                    block.word.span,
                    format!("{what} has two `with` blocks"),
                )
                .label("second `with`")
                .related(first, "first `with`")
                .help("merge them into one"),
            );
        }
        let mut spans: Vec<(String, Span)> = Vec::new();
        for attribute in &block.attributes {
            let name = &attribute.name;
            if let Some((_, first)) = spans.iter().find(|(n, _)| *n == name.name) {
                sink.push(
                    Diagnostic::new(
                        Code::DuplicateAttribute,
                        name.span,
                        format!("`{}` is set twice in the `with` of {what}", name.name),
                    )
                    .label("set again here")
                    .related(*first, "first set here")
                    .help("remove one of them"),
                );
                continue;
            }
            spans.push((name.name.clone(), name.span));
            let text = match &attribute.value.kind {
                ExprKind::String(s) => s.clone(),
                ExprKind::Integer(n) => n.to_string(),
                ExprKind::Bool(b) => b.to_string(),
                ExprKind::Invalid => continue,
                ExprKind::Value(_) | ExprKind::Ident(_) => {
                    let Some(value) = value::read(&attribute.value, Place::With, sink) else {
                        continue;
                    };
                    let parts = value.resolve(&IndexMap::new());
                    out.insert(name.name.clone(), WithValue::Value(parts));
                    slots.values.push(WithSlot {
                        step: slots.step.to_string(),
                        target: slots.target.to_string(),
                        name: name.name.clone(),
                        value,
                    });
                    continue;
                }
                _ => {
                    sink.push(
                        Diagnostic::new(
                            Code::AttributeType,
                            attribute.value.span,
                            format!(
                                "`{}` in the `with` of {what} expects a string, a number, `true`/`false` or a value",
                                name.name
                            ),
                        )
                        .label(attribute.value.kind.describe())
                        .help(format!(
                            "quote it (`{0} = \"…\"`), or compose it from strings and references: `{0} = \"v\" + sha`",
                            name.name
                        )),
                    );
                    continue;
                }
            };
            out.insert(name.name.clone(), WithValue::Literal(text));
        }
    }
    out
}

/// Inputs of actions that run their text as code (a script, a `jq`/`yq` program, a
/// template): zizmor's `template-injection` sinks. An expression GitHub puts in them becomes
/// code, so a reference may not stand there.
const CODE_INPUTS: &[(&str, &[&str])] = &[
    ("8398a7/action-slack", &["custom_payload"]),
    ("actions/github-script", &["script"]),
    ("amadevus/pwsh-script", &["script"]),
    ("appleboy/ssh-action", &["script"]),
    ("azure/cli", &["inlineScript"]),
    ("azure/powershell", &["inlineScript"]),
    ("devorbitus/yq-action-output", &["cmd"]),
    ("gautamkrishnar/blog-post-workflow", &["item_exec"]),
    (
        "imjohnbo/issue-bot",
        &[
            "body",
            "linked-comments-previous-issue-text",
            "linked-comments-new-issue-text",
        ],
    ),
    ("lucasbento/auto-close-issues", &["issue-close-message"]),
    ("mikefarah/yq", &["cmd"]),
    (
        "roots/issue-closer-action",
        &["issue-close-message", "pr-close-message"],
    ),
    ("sergeysova/jq-action", &["cmd"]),
    ("skitionek/notify-microsoft-teams", &["overwrite"]),
    (
        "tibdex/backport",
        &[
            "body_template",
            "head_template",
            "labels_template",
            "title_template",
        ],
    ),
];

/// E0346: a reference in an input of [`CODE_INPUTS`] (`script = "…" + branch` of
/// `actions/github-script`): the branch's text would run as code.
fn code_inputs(uses: &str, values: &[WithSlot], sink: &mut Sink) {
    let action = uses
        .split_once('@')
        .map_or(uses, |(a, _)| a)
        .splitn(3, '/')
        .take(2)
        .collect::<Vec<_>>()
        .join("/")
        .to_ascii_lowercase();
    let Some((_, inputs)) = CODE_INPUTS
        .iter()
        .find(|(a, _)| a.to_ascii_lowercase() == action)
    else {
        return;
    };
    for slot in values.iter().filter(|s| inputs.contains(&s.name.as_str())) {
        let Some((piece, span)) = slot
            .value
            .pieces
            .iter()
            .find(|(p, _)| !matches!(p, value::Piece::Text(_)))
        else {
            continue;
        };
        let written = match piece {
            value::Piece::Matrix(key) => format!("matrix.{key}"),
            value::Piece::Ref(reference) => reference.to_string(),
            value::Piece::Text(_) => continue,
        };
        let variable = match piece {
            value::Piece::Matrix(key) => {
                format!("CDL_MATRIX_{}", key.to_uppercase().replace('-', "_"))
            }
            value::Piece::Ref(reference) => reference.variable(),
            value::Piece::Text(_) => continue,
        };
        sink.push(
            Diagnostic::new(
                Code::ReferenceInCodeInput,
                *span,
                format!(
                    "`{}` of `{action}` runs as code, and `{written}` would be written into it",
                    slot.name
                ),
            )
            .label("its text would become code")
            .help(format!(
                "read it from the environment in the code: `${variable}` (`process.env.{variable}` in JavaScript), which the job's steps and actions receive"
            )),
        );
    }
}

fn malformed(span: Span, message: String, label: &str, help: &str) -> Diagnostic {
    Diagnostic::new(Code::InvalidNativeReference, span, message)
        .label(label.to_string())
        .help(help.to_string())
}

/// The `uses` of a `github { }` block and where its value is written.
fn github_uses<'a>(
    attributes: impl Iterator<Item = &'a ast::Attribute>,
    header: Span,
    what: &str,
    sink: &mut Sink,
) -> Option<(String, Span)> {
    let mut found: Option<(Option<String>, Span, Span)> = None;
    for attribute in attributes {
        let name = &attribute.name;
        if name.name != "uses" {
            sink.push(
                Diagnostic::new(
                    Code::UnknownAttribute,
                    name.span,
                    format!("{what} has no attribute `{}`", name.name),
                )
                .label("unknown attribute")
                .help(
                    did_you_mean(&name.name, ["uses", "with"])
                        .unwrap_or_else(|| format!("{what} takes `uses` and `with {{ … }}`")),
                ),
            );
            continue;
        }
        if let Some((_, first, _)) = &found {
            sink.push(
                Diagnostic::new(
                    Code::DuplicateAttribute,
                    name.span,
                    format!("`uses` is set twice in {what}"),
                )
                .label("set again here")
                .related(*first, "first set here")
                .help("remove one of them"),
            );
            continue;
        }
        let text = match &attribute.value.kind {
            ExprKind::String(text) => Some(text.clone()),
            ExprKind::Invalid => None,
            _ => {
                sink.push(
                    Diagnostic::new(
                        Code::AttributeType,
                        attribute.value.span,
                        format!("`uses` in {what} expects a string"),
                    )
                    .label("not a string")
                    .help("write `uses = \"owner/repo@<40-hex commit> # vX\"`"),
                );
                None
            }
        };
        found = Some((text, name.span, attribute.value.span));
    }
    match found {
        Some((text, _, span)) => text.map(|t| (t, span)),
        None => {
            sink.push(
                Diagnostic::new(
                    Code::MissingAttribute,
                    header,
                    format!("{what} is missing `uses`"),
                )
                .label("needs `uses`")
                .help("add `uses = \"owner/repo@<40-hex commit> # vX\"`: the action to run"),
            );
            None
        }
    }
}

fn github(text: &str, span: Span, with: With, sink: &mut Sink) -> Option<GithubStep> {
    let (uses, version) = native::split_uses(text);
    if !native::valid_uses(uses) {
        sink.push(malformed(
            span,
            format!("`{uses}` is not an action GitHub can run"),
            "not `owner/repo[/path]@ref` or `docker://image`",
            "write `owner/repo@<40-hex commit> # vX`, e.g. `actions/setup-node@49933ea5288caeca8642d1e84afbd3f7d6820020 # v4.4.0`",
        ));
        return None;
    }
    if !native::pinned_uses(uses) {
        let (action, reference) = uses.rsplit_once('@').unwrap_or((uses, ""));
        let help = if uses.starts_with("docker://") {
            "pin the image by digest: `docker://image@sha256:<digest>`".to_string()
        } else {
            format!(
                "pin it to the commit `{reference}` stands for: `{action}@<40-hex commit> # {reference}` (`git ls-remote https://github.com/{repo} {reference}` prints it)",
                repo = action.splitn(3, '/').take(2).collect::<Vec<_>>().join("/")
            )
        };
        sink.push(
            Diagnostic::new(
                Code::UnpinnedUses,
                span,
                format!("`{uses}` is not pinned to a commit"),
            )
            .label("a tag or branch can be moved to other code")
            .help(help),
        );
    }
    Some(GithubStep {
        uses: uses.to_string(),
        version: version.map(str::to_string),
        with,
    })
}

fn circleci(attrs: &Attributes, with: With, sink: &mut Sink) -> Option<CircleciStep> {
    let text = attrs.string("orb")?;
    let span = attrs.value_span("orb")?;
    let Some((alias, orb)) = native::parse_orb(&text) else {
        sink.push(malformed(
            span,
            format!("`{text}` is not an orb as CircleCI's `orbs:` names one"),
            "not `alias: namespace/orb@version`",
            "write `alias: namespace/orb@version`, e.g. `node: circleci/node@5.2`",
        ));
        return None;
    };
    let command = attrs.string("command")?;
    if !native::valid_orb_command(&command, &alias) {
        sink.push(malformed(
            attrs.value_span("command")?,
            format!("`{command}` is not a command of the orb `{alias}`"),
            "not `alias/command`",
            &format!("write `{alias}/<command>`, e.g. `{alias}/install`"),
        ));
        return None;
    }
    Some(CircleciStep {
        alias,
        orb,
        command,
        with,
    })
}

fn buildkite(attrs: &Attributes, with: With, sink: &mut Sink) -> Option<BuildkiteStep> {
    let plugin = attrs.string("plugin")?;
    if !native::valid_plugin(&plugin) {
        sink.push(malformed(
            attrs.value_span("plugin")?,
            format!("`{plugin}` is not a Buildkite plugin with a version"),
            "not `name#vX.Y.Z`",
            "write `name#vX.Y.Z`, e.g. `docker-compose#v5.5.0`",
        ));
        return None;
    }
    Some(BuildkiteStep { plugin, with })
}
