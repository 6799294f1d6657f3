//! `service NAME { … }` blocks of a job (language v2 §9): typed into the plan's services,
//! every misuse reported with a code and a span. A service's `env` is literal text this round
//! (no `secret.NAME`; composed values come later and change only `env_values` below).

use super::attributes::{Attributes, Spec, Type, string_map};
use super::resolve::duplicate;
use crate::codes::Code;
use crate::diagnostic::{Diagnostic, Sink};
use crate::model::services::{Service, name_problem, suggested_name};
use crate::span::Span;
use crate::syntax::ast;

/// The attributes of a service.
pub const SERVICE: &[Spec] = &[
    Spec {
        name: "image",
        ty: Type::String,
        required: true,
        doc: "The service's container image (`\"postgres:16\"`).",
    },
    Spec {
        name: "port",
        ty: Type::Integer { min: 1, max: 65535 },
        required: false,
        doc: "The TCP port the service listens on in its container; the job reads where to reach it in `CDL_SERVICE_<NAME>_HOST` and `CDL_SERVICE_<NAME>_PORT`.",
    },
    Spec {
        name: "command",
        ty: Type::Strings,
        required: false,
        doc: "The container's command and its arguments, replacing the image's (`[\"postgres\", \"-c\", \"fsync=off\"]`).",
    },
    Spec {
        name: "health",
        ty: Type::String,
        required: false,
        doc: "A command run in the container with `sh -c` that succeeds once the service is ready; the job starts after it passes.",
    },
];

/// The doc of the `service` block, for hover.
pub const SERVICE_DOC: &str = "A container started before the job and stopped after it, whatever the job's outcome. The job reaches it at `$CDL_SERVICE_<NAME>_HOST`:`$CDL_SERVICE_<NAME>_PORT`.";

/// The services of a job, in written order.
pub fn read(body: &[ast::BodyItem], job: &str, sink: &mut Sink) -> Vec<Service> {
    let mut services: Vec<Service> = Vec::new();
    let mut seen: Vec<(String, Span)> = Vec::new();
    for item in body {
        let ast::BodyItem::Service(block) = item else {
            continue;
        };
        if let Some((_, first)) = seen.iter().find(|(n, _)| *n == block.name.name) {
            let mut diagnostic = duplicate("service", &block.name, *first);
            diagnostic.help = Some(format!(
                "rename one of the services of `{job}`; each gets its own `CDL_SERVICE_<NAME>_HOST`"
            ));
            sink.push(diagnostic);
            continue;
        }
        seen.push((block.name.name.clone(), block.name.span));
        if let Some(service) = service(block, job, sink) {
            services.push(service);
        }
    }
    services
}

fn service(block: &ast::ServiceBlock, job: &str, sink: &mut Sink) -> Option<Service> {
    let name = &block.name;
    let what = format!("the service `{}` of `{job}`", name.name);
    let mut valid = true;
    if let Some(problem) = name_problem(&name.name) {
        valid = false;
        let mut diagnostic = Diagnostic::new(
            Code::InvalidServiceName,
            name.span,
            format!("`{}` cannot name a service", name.name),
        )
        .label("not a DNS label")
        .help(match suggested_name(&name.name) {
            Some(s) => format!("{problem} (it is the service's host name, and `CDL_SERVICE_<NAME>_HOST` names it): write `{s}`"),
            None => format!("{problem} (it is the service's host name, and `CDL_SERVICE_<NAME>_HOST` names it)"),
        });
        if let Some(s) = suggested_name(&name.name) {
            diagnostic = diagnostic.suggest(name.span, s);
        }
        sink.push(diagnostic);
    }
    let attributes = block.items.iter().filter_map(|i| match i {
        ast::StepItem::Attribute(a) => Some(a),
        // a service block holds no native forms (the grammar has none there)
        ast::StepItem::Env(_) | ast::StepItem::Native(_) => None,
    });
    let attrs = Attributes::read(SERVICE, &what, attributes, sink);
    let header = block.span.with_end(name.span.end);
    attrs.require(SERVICE, &what, header, sink, &[]);
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
            env.extend(env_values(e, &what, sink));
        }
    }
    let image = attrs.string("image");
    if let (Some(image), Some(span)) = (&image, attrs.value_span("image"))
        && (image.trim().is_empty() || image.chars().any(char::is_whitespace))
    {
        valid = false;
        sink.push(
            Diagnostic::new(
                Code::InvalidServiceImage,
                span,
                format!("the `image` of {what} names no image"),
            )
            .label(if image.trim().is_empty() {
                "empty image name"
            } else {
                "an image name has no spaces"
            })
            .help("name the container image, with its tag: `image = \"postgres:16\"`"),
        );
    }
    let health = attrs.string("health");
    if let (Some(health), Some(span)) = (&health, attrs.value_span("health"))
        && health.trim().is_empty()
    {
        valid = false;
        sink.push(
                Diagnostic::new(
                    Code::EmptyServiceHealth,
                    span,
                    format!("the `health` of {what} checks nothing"),
                )
                .label("empty command")
                .help("give a command that succeeds once the service is ready (`health = \"pg_isready -U postgres\"`), or leave `health` out to wait for its `port`"),
            );
    }
    let port = attrs.integer("port").map(|p| p as u16);
    if port.is_none() && health.is_none() && !attrs.is_set("port") && !attrs.is_set("health") {
        sink.push(
            Diagnostic::new(
                Code::ServiceNotAwaited,
                header,
                format!("nothing tells when {what} is ready"),
            )
            .label("no `port` and no `health`")
            .help("add the `port` it listens on (the job starts once it accepts connections) or a `health = \"…\"` command; without either the job starts as soon as the container does"),
        );
    }
    if !valid {
        return None;
    }
    Some(Service {
        name: name.name.clone(),
        image: image?,
        env,
        port,
        command: attrs.strings("command"),
        health,
    })
}

/// The variables of a service's `env` block: literal text only this round.
fn env_values(
    block: &ast::EnvBlock,
    what: &str,
    sink: &mut Sink,
) -> indexmap::IndexMap<String, String> {
    string_map(&block.variables, &format!("the `env` of {what}"), sink)
        .into_iter()
        .map(|(k, (v, _))| (k, v))
        .collect()
}
