//! Teams: `team NAME { members = [...] }` in the pipeline or in any file it imports (the
//! prelude first). A gate names one as `@NAME`; its members then count as approvers.

use indexmap::IndexMap;

use super::attributes::{Attributes, TEAM};
use super::model::Team;
use super::resolve::{duplicate, item_spans};
use crate::codes::Code;
use crate::diagnostic::{Diagnostic, Sink};
use crate::syntax::ast;

/// Every team declared at the top of a file or inside the pipeline, checked.
pub fn resolve<'a>(
    files: impl IntoIterator<Item = &'a ast::File>,
    pipeline: &ast::Pipeline,
    sink: &mut Sink,
) -> IndexMap<String, Team> {
    let mut teams: IndexMap<String, Team> = IndexMap::new();
    let top = files
        .into_iter()
        .flat_map(|f| &f.items)
        .filter_map(|i| match i {
            ast::TopItem::Team(team) => Some(team),
            _ => None,
        });
    let inner = pipeline.items.iter().filter_map(|i| match i {
        ast::PipelineItem::Team(team) => Some(team),
        _ => None,
    });
    for decl in top.chain(inner) {
        if let Some(first) = teams.get(&decl.name.name) {
            sink.push(duplicate("team", &decl.name, first.name.span));
            continue;
        }
        if let Some(team) = team(decl, sink) {
            teams.insert(decl.name.name.clone(), team);
        }
    }
    teams
}

fn team(decl: &ast::TeamDecl, sink: &mut Sink) -> Option<Team> {
    let block = format!("the team `{}`", decl.name.name);
    let attrs = Attributes::read(TEAM, &block, &decl.attributes, sink);
    attrs.require(TEAM, &block, decl.name.span, sink, &[]);
    if !attrs.is_set("members") {
        return None;
    }
    let written = attrs.strings("members");
    let attributes: Vec<&ast::Attribute> = decl.attributes.iter().collect();
    let spans = item_spans(&attributes, "members");
    let span_of = |i: usize| spans.get(i).copied().unwrap_or(decl.name.span);
    let mut members: Vec<String> = Vec::new();
    for (i, member) in written.iter().enumerate() {
        let problem = if member.trim().is_empty() {
            Some((
                format!("the team `{}` lists an empty member name", decl.name.name),
                "write who belongs to the team: `members = [\"alice\", \"bob\"]`".to_string(),
            ))
        } else if member.chars().any(char::is_control) {
            Some((
                format!(
                    "the team `{}` lists a member name with a control character",
                    decl.name.name
                ),
                "write the name on one line, as the approver types it after `--as`".to_string(),
            ))
        } else if let Some(inner) = member.strip_prefix('@') {
            Some((
                format!(
                    "the team `{}` lists the team `@{inner}` as a member",
                    decl.name.name
                ),
                format!(
                    "list people, not teams; a gate may name both: `approvers = [\"@{}\", \"@{inner}\"]`",
                    decl.name.name
                ),
            ))
        } else if members.contains(member) {
            Some((
                format!("the team `{}` lists `{member}` twice", decl.name.name),
                "list each person once".to_string(),
            ))
        } else {
            None
        };
        match problem {
            Some((message, help)) => sink.push(
                Diagnostic::new(Code::InvalidValue, span_of(i), message)
                    .label("not a member name")
                    .help(help),
            ),
            None => members.push(member.clone()),
        }
    }
    // An empty list is reported when the attribute is typed (E0305).
    Some(Team {
        name: decl.name.clone(),
        doc: decl.doc.clone(),
        members,
        span: decl.span,
    })
}
