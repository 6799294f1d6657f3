//! Platform settings (language v2 §9, i14a): `permissions`, `oidc`, `concurrency` and
//! `checkout` on the pipeline or a job, typed into `model::platform`; every misuse is reported
//! with a code and a span.

use indexmap::IndexMap;

use super::attributes::{Attributes, Spec, Type};
use crate::codes::Code;
use crate::diagnostic::{Diagnostic, Sink, closest};
use crate::model::platform::{
    Access, AllAccess, Checkout, Concurrency, ConcurrencyPer, Oidc, Permissions, SCOPES,
};
use crate::span::Span;
use crate::syntax::ast::{self, ExprKind, SettingBlock};

/// `permissions = read_all | write_all`.
pub const ALL_WORDS: &[&str] = &["read_all", "write_all"];
pub const PERMISSIONS_DOC: &str = "The CI token's permissions: `read_all`, `write_all`, or a `permissions { SCOPE = read | write | none }` block (default: `contents = read`).";
pub const CHECKOUT_DOC: &str = "`false`: the job gets no copy of the repository; a `checkout { depth  submodules  lfs }` block sets how it is fetched.";

pub const REGISTRY_DOC: &str = "`true`: the job gets the CI system's own container registry in `CDL_REGISTRY` (host), `CDL_REGISTRY_IMAGE` (the project's image path), `CDL_REGISTRY_USER` and `CDL_REGISTRY_PASSWORD` (a secret); on GitHub it adds `packages = write`.";

pub const PATHS_DOC: &str = "Path globs (`*` stops at `/`, `**` crosses it): the event starts a run only when a changed file matches one (and no `paths_ignore`).";
pub const PATHS_IGNORE_DOC: &str = "Path globs: changed files matching one do not start a run; a change of only such files starts none.";

/// A trigger's `paths` and `paths_ignore`: globs relative to the repository root, each a
/// pattern a file path can match (E0229 otherwise).
pub fn path_filters(attrs: &Attributes, sink: &mut Sink) -> (Vec<String>, Vec<String>) {
    let mut read = |name: &str| -> Vec<String> {
        let globs = attrs.strings(name);
        let spans = attrs.item_spans(name);
        let mut kept = Vec::new();
        for (i, glob) in globs.into_iter().enumerate() {
            let span = spans.get(i).copied().or(attrs.value_span(name));
            match path_glob_problem(&glob) {
                Some((problem, help)) => {
                    if let Some(span) = span {
                        sink.push(
                            Diagnostic::new(
                                Code::InvalidPathGlob,
                                span,
                                format!("`{glob}` {problem}"),
                            )
                            .label("not a path glob")
                            .help(help),
                        );
                    }
                }
                None => kept.push(glob),
            }
        }
        kept
    };
    (read("paths"), read("paths_ignore"))
}

/// Why `glob` can match no path of a repository, with the fix.
pub fn path_glob_problem(glob: &str) -> Option<(&'static str, String)> {
    if glob.trim().is_empty() {
        return Some((
            "matches no file",
            "write a path or a glob: `\"src/**\"`".into(),
        ));
    }
    if let Some(rest) = glob.strip_prefix("./").or_else(|| glob.strip_prefix('/')) {
        return Some((
            "is not relative to the repository root the way path filters are",
            format!("write `\"{rest}\"`"),
        ));
    }
    if let Some(rest) = glob.strip_prefix('!') {
        return Some((
            "is a negation, which path filters do not have",
            format!("list `\"{rest}\"` in `paths_ignore` instead"),
        ));
    }
    if glob.contains('\\') || glob.chars().any(char::is_control) {
        return Some((
            "holds a backslash or a control character, which no path filter of a CI system reads the same way",
            "write paths with `/`".into(),
        ));
    }
    None
}

/// The scopes of a `permissions { … }` block: completion and hover read this table.
pub const PERMISSION_SCOPES: &[Spec] = &{
    let mut specs = [Spec {
        name: "",
        ty: Type::Word(Access::WORDS),
        required: false,
        doc: "A scope of the CI token (GitHub's scopes, spelled with `_`): `read`, `write` or `none`.",
    }; SCOPES.len()];
    let mut i = 0;
    while i < SCOPES.len() {
        specs[i].name = SCOPES[i];
        i += 1;
    }
    specs
};

pub const OIDC: &[Spec] = &[Spec {
    name: "audience",
    ty: Type::String,
    required: true,
    doc: "The `aud` claim of the OIDC token the job gets in `CDL_OIDC_TOKEN` (`sts.amazonaws.com`).",
}];

pub const CONCURRENCY: &[Spec] = &[
    Spec {
        name: "per",
        ty: Type::Word(&["ref", "pipeline"]),
        required: false,
        doc: "`ref`: one group of runs per branch, tag or pull request (default); `pipeline`: one group for all runs.",
    },
    Spec {
        name: "cancel_in_progress",
        ty: Type::Bool,
        required: true,
        doc: "`true`: a new run of the group cancels the older one still running.",
    },
];

pub const CHECKOUT: &[Spec] = &[
    Spec {
        name: "depth",
        ty: Type::Integer {
            min: 0,
            max: 1_000_000,
        },
        required: false,
        doc: "Commits of history to fetch; `0` fetches the whole history (default: the target's own).",
    },
    Spec {
        name: "submodules",
        ty: Type::Bool,
        required: false,
        doc: "`true`: check the submodules out too, recursively.",
    },
    Spec {
        name: "lfs",
        ty: Type::Bool,
        required: false,
        doc: "`true`: fetch Git LFS files.",
    },
];

/// The attributes of one setting block, for completion and hover.
pub fn schema(word: &str) -> &'static [Spec] {
    match word {
        "permissions" => PERMISSION_SCOPES,
        "oidc" => OIDC,
        "concurrency" => CONCURRENCY,
        "checkout" => CHECKOUT,
        "environment" => super::review::REVIEW,
        "trigger" => super::trigger::TRIGGER,
        _ => &[],
    }
}

/// The settings of the pipeline (defaults of its jobs, and its concurrency).
#[derive(Debug, Clone, Default)]
pub struct PipelineSettings {
    pub permissions: Option<Permissions>,
    pub permissions_span: Option<Span>,
    pub concurrency: Option<Concurrency>,
    pub concurrency_span: Option<Span>,
    pub checkout: Option<Checkout>,
}

/// The settings of one job, as written on it.
#[derive(Debug, Clone, Default)]
pub struct JobSettings {
    pub permissions: Option<Permissions>,
    pub oidc: Option<Oidc>,
    pub checkout: Option<Checkout>,
    /// `registry = true`: the CI system's container registry (`CDL_REGISTRY*`).
    pub registry: bool,
}

/// Where a setting is written.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Place {
    Pipeline,
    Job,
    Gate,
}

/// Reads the pipeline's setting blocks and its `permissions = …` / `checkout = …`.
pub fn pipeline(
    items: &[ast::PipelineItem],
    attrs: &Attributes,
    sink: &mut Sink,
) -> PipelineSettings {
    let blocks: Vec<&SettingBlock> = items
        .iter()
        .filter_map(|item| match item {
            ast::PipelineItem::Setting(block) => Some(block),
            _ => None,
        })
        .collect();
    let read = read(&blocks, attrs, Place::Pipeline, sink);
    PipelineSettings {
        permissions: read.permissions,
        permissions_span: read.permissions_span,
        concurrency: read.concurrency,
        concurrency_span: read.concurrency_span,
        checkout: read.checkout,
    }
}

/// Reads a job's setting blocks and its `permissions = …` / `checkout = …` (a gate may have
/// none: it runs no command).
pub fn job(body: &[ast::BodyItem], attrs: &Attributes, gate: bool, sink: &mut Sink) -> JobSettings {
    let blocks: Vec<&SettingBlock> = body
        .iter()
        .filter_map(|item| match item {
            ast::BodyItem::Setting(block) => Some(block),
            _ => None,
        })
        .collect();
    let place = if gate { Place::Gate } else { Place::Job };
    let read = read(&blocks, attrs, place, sink);
    implied_write(
        &read,
        Implied {
            scope: "id_token",
            asked: read.oidc_span,
            spans: (read.id_token_span, read.id_token_value_span),
            code: Code::OidcWithoutIdToken,
            what: "the job asks for an OIDC token",
            label: "the token cannot be requested with this",
            related: "the OIDC token is asked for here",
            help: "write `id_token = write`, or leave `id_token` out: `oidc` implies it",
        },
        sink,
    );
    let registry = attrs.bool("registry") == Some(true);
    implied_write(
        &read,
        Implied {
            scope: "packages",
            asked: attrs.name_span("registry").filter(|_| registry),
            spans: (read.packages_span, read.packages_value_span),
            code: Code::RegistryWithoutPackages,
            what: "the job logs in to the registry to push images",
            label: "the registry's password cannot push with this",
            related: "the registry is asked for here",
            help: "write `packages = write`, or leave `packages` out: `registry = true` implies it",
        },
        sink,
    );
    JobSettings {
        permissions: read.permissions,
        oidc: read.oidc,
        checkout: read.checkout,
        registry,
    }
}

/// A setting that implies `SCOPE = write` (`oidc`: `id_token`; `registry`: `packages`).
struct Implied {
    scope: &'static str,
    /// Where the setting is written (absent: not set).
    asked: Option<Span>,
    /// The scope's name and value in the job's `permissions { … }`.
    spans: (Option<Span>, Option<Span>),
    code: Code,
    what: &'static str,
    label: &'static str,
    related: &'static str,
    help: &'static str,
}

/// A job whose `permissions { … }` deny the scope its setting implies contradicts itself.
fn implied_write(read: &Read, implied: Implied, sink: &mut Sink) {
    let (Some(asked), Some(Permissions::Scopes(scopes))) = (implied.asked, &read.permissions)
    else {
        return;
    };
    let Some(access) = scopes.get(implied.scope).filter(|a| **a != Access::Write) else {
        return;
    };
    let mut diagnostic = Diagnostic::new(
        implied.code,
        implied.spans.0.unwrap_or(asked),
        format!(
            "{} but its permissions give `{} = {}`",
            implied.what,
            implied.scope,
            access.as_str()
        ),
    )
    .label(implied.label)
    .related(asked, implied.related)
    .help(implied.help);
    if let Some(span) = implied.spans.1 {
        diagnostic = diagnostic.suggest(span, "write");
    }
    sink.push(diagnostic);
}

#[derive(Default)]
struct Read {
    permissions: Option<Permissions>,
    permissions_span: Option<Span>,
    id_token_span: Option<Span>,
    id_token_value_span: Option<Span>,
    packages_span: Option<Span>,
    packages_value_span: Option<Span>,
    oidc: Option<Oidc>,
    oidc_span: Option<Span>,
    concurrency: Option<Concurrency>,
    concurrency_span: Option<Span>,
    checkout: Option<Checkout>,
}

fn read(blocks: &[&SettingBlock], attrs: &Attributes, place: Place, sink: &mut Sink) -> Read {
    let mut read = Read::default();
    let mut seen: IndexMap<&str, Span> = IndexMap::new();
    for (word, span) in [
        ("permissions", attrs.name_span("permissions")),
        ("checkout", attrs.name_span("checkout")),
    ] {
        if let Some(span) = span {
            seen.insert(word, span);
        }
    }
    read.permissions = attrs.word("permissions").map(|w| {
        Permissions::All(if w == "write_all" {
            AllAccess::WriteAll
        } else {
            AllAccess::ReadAll
        })
    });
    read.permissions_span = attrs.name_span("permissions");
    if attrs.bool("checkout") == Some(false) {
        read.checkout = Some(Checkout {
            skip: true,
            ..Checkout::default()
        });
    }
    for block in blocks {
        let word = block.word.name.as_str();
        if let Some(problem) = misplaced(word, place) {
            sink.push(
                Diagnostic::new(Code::SettingMisplaced, block.word.span, problem.0)
                    .label("not allowed here")
                    .help(problem.1),
            );
            continue;
        }
        // A job's review environment and trigger: read by check/review.rs, check/trigger.rs.
        if word == "environment" || word == "trigger" {
            continue;
        }
        if let Some(first) = seen.get(word) {
            sink.push(
                Diagnostic::new(
                    Code::DuplicateAttribute,
                    block.word.span,
                    format!("`{word}` is set twice"),
                )
                .label("set again here")
                .related(*first, "first set here")
                .help("merge them into one block"),
            );
            continue;
        }
        seen.insert(word, block.word.span);
        let what = format!("`{word}`");
        match word {
            "permissions" => {
                read.permissions_span = Some(block.word.span);
                read.permissions = Some(permissions(block, &mut read, sink));
            }
            "oidc" => {
                let attrs = Attributes::read(OIDC, &what, &block.attributes, sink);
                attrs.require(OIDC, &what, block.word.span, sink, &[]);
                read.oidc_span = Some(block.word.span);
                if let Some(audience) = attrs.string("audience") {
                    if audience.trim().is_empty() {
                        sink.push(
                            Diagnostic::new(
                                Code::InvalidValue,
                                attrs.value_span("audience").unwrap_or(block.word.span),
                                "an OIDC audience must not be empty",
                            )
                            .label("empty audience")
                            .help("name the service that reads the token: `audience = \"sts.amazonaws.com\"`"),
                        );
                    } else {
                        read.oidc = Some(Oidc { audience });
                    }
                }
            }
            "concurrency" => {
                let attrs = Attributes::read(CONCURRENCY, &what, &block.attributes, sink);
                attrs.require(CONCURRENCY, &what, block.word.span, sink, &[]);
                read.concurrency_span = Some(block.word.span);
                let per = match attrs.word("per").as_deref() {
                    Some("pipeline") => ConcurrencyPer::Pipeline,
                    _ => ConcurrencyPer::Ref,
                };
                if let Some(cancel_in_progress) = attrs.bool("cancel_in_progress") {
                    if !cancel_in_progress {
                        sink.push(
                            Diagnostic::new(
                                Code::ConcurrencyWithoutCancel,
                                attrs.value_span("cancel_in_progress").unwrap_or(block.word.span),
                                "a `concurrency` block that cancels nothing does nothing",
                            )
                            .label("runs of the group are not cancelled")
                            .help("write `cancel_in_progress = true` to cancel an older run of the group, or remove the block"),
                        );
                    }
                    read.concurrency = cancel_in_progress.then_some(Concurrency {
                        per,
                        cancel_in_progress,
                    });
                }
            }
            "checkout" => {
                let attrs = Attributes::read(CHECKOUT, &what, &block.attributes, sink);
                read.checkout = Some(Checkout {
                    skip: false,
                    depth: attrs.integer("depth").map(|d| d as u32),
                    submodules: attrs.bool("submodules") == Some(true),
                    lfs: attrs.bool("lfs") == Some(true),
                });
            }
            _ => unreachable!("the grammar has six setting words"),
        }
    }
    read
}

/// Why `word` cannot be written in `place`, and the fix.
fn misplaced(word: &str, place: Place) -> Option<(String, String)> {
    match (word, place) {
        (_, Place::Gate) => Some((
            format!("a gate has no `{word}`"),
            "a gate only waits for approval; put the setting on the job after it".into(),
        )),
        ("trigger", Place::Pipeline) => Some((
            "`trigger { … }` is a setting of a job, not of the pipeline".into(),
            "write it in the job that starts the other project's pipeline".into(),
        )),
        ("environment", Place::Pipeline) => Some((
            "an environment of the pipeline needs a name".into(),
            "declare it as `environment NAME { url = \"…\" }`; a review environment made per branch is an `environment { name = … }` block in the job that creates it".into(),
        )),
        ("oidc", Place::Pipeline) => Some((
            "`oidc` is a setting of a job, not of the pipeline".into(),
            "move `oidc { audience = \"…\" }` into the jobs that need the token".into(),
        )),
        ("concurrency", Place::Job) => Some((
            "`concurrency { … }` is a setting of the pipeline, not of a job".into(),
            "move it to the pipeline; to limit deploys to an environment, write `concurrency = 1` in the environment".into(),
        )),
        _ => None,
    }
}

/// `permissions { contents = write … }`: every scope known, every value `read`, `write` or
/// `none`; `contents` stays `read` when the block does not name it.
fn permissions(block: &SettingBlock, read: &mut Read, sink: &mut Sink) -> Permissions {
    let mut scopes: IndexMap<String, Access> = IndexMap::new();
    let mut spans: IndexMap<String, Span> = IndexMap::new();
    for attribute in &block.attributes {
        let name = attribute.name.name.as_str();
        if !SCOPES.contains(&name) {
            let underscored = name.replace('-', "_");
            let nearest = if SCOPES.contains(&underscored.as_str()) {
                SCOPES.iter().find(|s| **s == underscored).copied()
            } else {
                closest(&underscored, SCOPES.iter().copied())
            };
            let mut diagnostic = Diagnostic::new(
                Code::UnknownScope,
                attribute.name.span,
                format!("unknown permission scope `{name}`"),
            )
            .label("not a scope of the CI token");
            diagnostic = match nearest {
                Some(scope) => diagnostic
                    .help(format!("did you mean `{scope}`?"))
                    .suggest(attribute.name.span, scope),
                None => diagnostic.help(format!(
                    "the scopes are {}",
                    SCOPES
                        .iter()
                        .map(|s| format!("`{s}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )),
            };
            sink.push(diagnostic);
            continue;
        }
        if let Some(first) = spans.get(name) {
            sink.push(
                Diagnostic::new(
                    Code::DuplicateAttribute,
                    attribute.name.span,
                    format!("the scope `{name}` is set twice"),
                )
                .label("set again here")
                .related(*first, "first set here")
                .help("remove one of them"),
            );
            continue;
        }
        spans.insert(name.to_string(), attribute.name.span);
        let access = match &attribute.value.kind {
            ExprKind::Ident(word) => Access::parse(word),
            ExprKind::Invalid => continue,
            _ => None,
        };
        let Some(access) = access else {
            let found = match &attribute.value.kind {
                ExprKind::Ident(word) => format!("`{word}`"),
                ExprKind::String(text) if Access::parse(text).is_some() => {
                    format!("the string \"{text}\"")
                }
                other => other.describe().to_string(),
            };
            let mut diagnostic = Diagnostic::new(
                Code::InvalidValue,
                attribute.value.span,
                format!("`{name}` must be `read`, `write` or `none`, found {found}"),
            )
            .label("not an access level");
            diagnostic = match &attribute.value.kind {
                ExprKind::String(text) if Access::parse(text).is_some() => diagnostic
                    .help(format!("write `{name} = {text}` without quotes"))
                    .suggest(attribute.value.span, text.clone()),
                _ => {
                    diagnostic.help("`read` lets the job read, `write` also change, `none` neither")
                }
            };
            sink.push(diagnostic);
            continue;
        };
        if name == "id_token" {
            read.id_token_span = Some(attribute.name.span);
            read.id_token_value_span = Some(attribute.value.span);
        }
        if name == "packages" {
            read.packages_span = Some(attribute.name.span);
            read.packages_value_span = Some(attribute.value.span);
        }
        scopes.insert(name.to_string(), access);
    }
    if !scopes.contains_key("contents") {
        scopes.shift_insert(0, "contents".to_string(), Access::Read);
    }
    Permissions::Scopes(scopes)
}

/// The permissions a job runs with: its own, else the pipeline's, else `contents = read`;
/// with `oidc`, `id_token = write` is added (`registry = true` adds `packages = write` only in
/// the GitHub export: no other target has that scope).
pub fn effective_permissions(
    job: &JobSettings,
    pipeline: &PipelineSettings,
) -> Option<Permissions> {
    let base = job
        .permissions
        .clone()
        .or_else(|| pipeline.permissions.clone());
    match (&job.oidc, base) {
        (Some(_), base) => Some(
            base.unwrap_or_else(Permissions::default_scopes)
                .with_write("id_token"),
        ),
        (None, base) => base,
    }
}

/// A job's one `WORD { … }` block read by a check of its own (`environment`, `trigger`): the
/// first; each further one is reported, with `help`.
pub fn one_block<'a>(
    body: &'a [ast::BodyItem],
    word: &str,
    help: &str,
    sink: &mut Sink,
) -> Option<&'a SettingBlock> {
    let mut blocks = body.iter().filter_map(|item| match item {
        ast::BodyItem::Setting(block) if block.word.name == word => Some(block),
        _ => None,
    });
    let block = blocks.next()?;
    for again in blocks {
        sink.push(
            Diagnostic::new(
                Code::DuplicateAttribute,
                again.word.span,
                format!("`{word}` is set twice"),
            )
            .label("set again here")
            .related(block.word.span, "first set here")
            .help(help),
        );
    }
    Some(block)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_job_replaces_the_pipelines_permissions_and_oidc_adds_id_token() {
        let pipeline = PipelineSettings {
            permissions: Some(Permissions::All(AllAccess::WriteAll)),
            ..PipelineSettings::default()
        };
        let job = JobSettings::default();
        assert_eq!(
            effective_permissions(&job, &pipeline),
            Some(Permissions::All(AllAccess::WriteAll))
        );
        let own = JobSettings {
            permissions: Some(Permissions::default_scopes()),
            oidc: Some(Oidc {
                audience: "aud".into(),
            }),
            checkout: None,
            registry: true,
        };
        // `registry` adds `packages = write` only in the GitHub export, not to the plan.
        let effective = effective_permissions(&own, &pipeline).unwrap();
        assert_eq!(effective.access("contents"), Access::Read);
        assert_eq!(effective.access("id_token"), Access::Write);
        assert_eq!(effective.access("packages"), Access::None);
        assert_eq!(
            effective_permissions(&JobSettings::default(), &PipelineSettings::default()),
            None
        );
    }

    #[test]
    fn path_globs_that_match_no_path_are_refused() {
        for bad in ["", " ", "./src", "/src", "!docs/**", "a\\b", "a\nb"] {
            assert!(path_glob_problem(bad).is_some(), "{bad:?}");
        }
        for good in ["src/**", "*.md", "a b/c", "Cargo.*", "**/x/*"] {
            assert!(path_glob_problem(good).is_none(), "{good:?}");
        }
    }
}
