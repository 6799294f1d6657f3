//! Declarations and blocks: headers, one-line or expanded bodies, aligned attributes.

use super::comments::{self, CommentKind, Gap};
use super::{Formatter, WIDTH, width};
use crate::syntax::ast::{self, BodyItem, EnvironmentItem, JobForm, PipelineItem, RequirementKind};

/// Anything that stands on its own line in a block (or at the top of a file).
#[derive(Clone, Copy)]
pub enum Item<'a> {
    Import(&'a ast::Import),
    Kind(&'a ast::KindDecl),
    Team(&'a ast::TeamDecl),
    Pipeline(&'a ast::Pipeline),
    Attribute(&'a ast::Attribute),
    Trigger(&'a ast::Trigger),
    Env(&'a ast::EnvBlock),
    Secret(&'a ast::SecretDecl),
    Environment(&'a ast::EnvironmentDecl),
    Requirement(&'a ast::Requirement),
    Stage(&'a ast::StageDecl),
    Job(&'a ast::JobDecl),
    Matrix(&'a ast::MatrixBlock),
    /// v2 (i13b)
    Step(&'a ast::StepBlock),
    /// v2 i14d
    Service(&'a ast::ServiceBlock),
    /// v2 i13e: templates
    Template(&'a ast::TemplateDecl),
    /// v2 (i13d): `input NAME { … }`, `var NAME { … }`
    Parameter(&'a ast::ParameterDecl),
    /// v2 (i13h)
    Reports(&'a ast::ReportsBlock),
    /// v2 i14a: `permissions { … }` and the other platform settings.
    Setting(&'a ast::SettingBlock),
    /// v2 i14c: `cache NAME { … }`
    Cache(&'a ast::CacheBlock),
    /// v2 i13g: `include { … }` / `exclude { … }` in a matrix.
    MatrixEntry(&'a ast::MatrixEntry),
    /// v2 i14e: `github { … }`, `circleci { … }`, `buildkite { … }` in a step.
    Native(&'a ast::NativeBlock),
}

/// A block item's header (`stage build`), its items, and where the header ends (the `{`
/// is the next token after it).
pub struct Block<'a> {
    header: String,
    items: Vec<Item<'a>>,
    header_end: usize,
}

fn attributes(list: &[ast::Attribute]) -> Vec<Item<'_>> {
    list.iter().map(Item::Attribute).collect()
}

impl<'a> Item<'a> {
    pub fn top(item: &'a ast::TopItem) -> Item<'a> {
        match item {
            ast::TopItem::Import(i) => Item::Import(i),
            ast::TopItem::Kind(k) => Item::Kind(k),
            ast::TopItem::Team(t) => Item::Team(t),
            ast::TopItem::Pipeline(p) => Item::Pipeline(p),
            ast::TopItem::Template(t) => Item::Template(t),
        }
    }

    pub fn start(&self) -> usize {
        let span = match self {
            Item::Import(i) => i.span,
            Item::Kind(k) => k.span,
            Item::Team(t) => t.span,
            Item::Pipeline(p) => p.span,
            Item::Attribute(a) => a.name.span,
            Item::Trigger(t) => t.span,
            Item::Env(e) => e.span,
            Item::Secret(s) => s.span,
            Item::Environment(e) => e.span,
            Item::Requirement(r) => r.span,
            Item::Stage(s) => s.span,
            Item::Job(j) => j.span,
            Item::Matrix(m) => m.span,
            Item::Step(s) => s.span,
            Item::Service(s) => s.span,
            Item::Template(t) => t.span,
            Item::Parameter(p) => p.span,
            Item::Reports(r) => r.span,
            Item::Setting(s) => s.span,
            Item::Cache(c) => c.span,
            Item::MatrixEntry(e) => e.span,
            Item::Native(n) => n.span,
        };
        span.start as usize
    }

    /// The end of the item's last token (an attribute's span may run over trailing trivia).
    pub fn end(&self) -> usize {
        let span = match self {
            Item::Import(i) => i.span,
            Item::Kind(k) => k.span,
            Item::Team(t) => t.span,
            Item::Pipeline(p) => p.span,
            Item::Attribute(a) => a.value.span,
            Item::Trigger(t) => t.span,
            Item::Env(e) => e.span,
            Item::Secret(s) => s.span,
            Item::Environment(e) => e.span,
            Item::Requirement(r) => r.span,
            Item::Stage(s) => s.span,
            Item::Job(j) => j.span,
            Item::Matrix(m) => m.span,
            Item::Step(s) => s.span,
            Item::Service(s) => s.span,
            Item::Template(t) => t.span,
            Item::Parameter(p) => p.span,
            Item::Reports(r) => r.span,
            Item::Setting(s) => s.span,
            Item::Cache(c) => c.span,
            Item::MatrixEntry(e) => e.span,
            Item::Native(n) => n.span,
        };
        span.end as usize
    }

    fn block(&self) -> Option<Block<'a>> {
        let (header, items, header_end) = match *self {
            Item::Kind(k) => (
                format!("kind {}", k.name.name),
                attributes(&k.attributes),
                k.name.span.end,
            ),
            Item::Team(t) => (
                format!("team {}", t.name.name),
                attributes(&t.attributes),
                t.name.span.end,
            ),
            Item::Parameter(p) => (
                format!("{} {}", p.keyword.as_str(), p.name.name),
                attributes(&p.attributes),
                p.name.span.end,
            ),
            Item::Pipeline(p) => (
                format!("pipeline {}", p.name.name),
                p.items.iter().map(pipeline_item).collect(),
                p.name.span.end,
            ),
            Item::Trigger(t) => (
                format!("on {}", t.event.name),
                attributes(t.attributes.as_deref()?),
                t.event.span.end,
            ),
            Item::Env(e) => ("env".into(), attributes(&e.variables), e.span.start + 3),
            Item::Environment(e) => (
                format!("environment {}", e.name.name),
                e.items.iter().map(environment_item).collect(),
                e.name.span.end,
            ),
            Item::Stage(s) => (
                format!("stage {}", s.name.name),
                s.jobs.iter().map(Item::Job).collect(),
                s.name.span.end,
            ),
            Item::Job(j) => (
                job_header(&j.form) + &from_suffix(j.from.as_ref()),
                j.body.iter().map(body_item).collect(),
                j.header_span.end,
            ),
            Item::Matrix(m) => ("matrix".into(), matrix_items(m), m.span.start + 6),
            Item::MatrixEntry(e) => (e.kind.as_str().into(), attributes(&e.values), e.keyword.end),
            Item::Step(s) => (
                format!("step {}", s.name.name),
                s.items.iter().map(step_item).collect(),
                s.name.span.end,
            ),
            Item::Service(s) => (
                format!("service {}", s.name.name),
                s.items.iter().map(step_item).collect(),
                s.name.span.end,
            ),
            Item::Template(t) => (
                format!("template {}", t.name.name) + &from_suffix(t.from.as_ref()),
                t.body.iter().map(body_item).collect(),
                t.header_span.end,
            ),
            Item::Reports(r) => ("reports".into(), attributes(&r.kinds), r.span.start + 7),
            Item::Setting(s) => (
                s.word.name.clone(),
                attributes(&s.attributes),
                s.word.span.end,
            ),
            Item::Native(n) => (
                n.target.name.clone(),
                n.items
                    .iter()
                    .map(|i| match i {
                        ast::NativeItem::Attribute(a) => Item::Attribute(a),
                        ast::NativeItem::With(w) => Item::Setting(w),
                    })
                    .collect(),
                n.target.span.end,
            ),
            Item::Cache(c) => (
                format!("cache {}", c.name.name),
                attributes(&c.attributes),
                c.name.span.end,
            ),
            Item::Import(_) | Item::Attribute(_) | Item::Secret(_) | Item::Requirement(_) => {
                return None;
            }
        };
        Some(Block {
            header,
            items,
            header_end: header_end as usize,
        })
    }
}

fn pipeline_item(item: &ast::PipelineItem) -> Item<'_> {
    match item {
        PipelineItem::Attribute(a) => Item::Attribute(a),
        PipelineItem::Trigger(t) => Item::Trigger(t),
        PipelineItem::Env(e) => Item::Env(e),
        PipelineItem::Secret(s) => Item::Secret(s),
        PipelineItem::Team(t) => Item::Team(t),
        PipelineItem::Environment(e) => Item::Environment(e),
        PipelineItem::Stage(s) => Item::Stage(s),
        PipelineItem::Parameter(p) => Item::Parameter(p),
        PipelineItem::Setting(s) => Item::Setting(s),
    }
}

fn environment_item(item: &ast::EnvironmentItem) -> Item<'_> {
    match item {
        EnvironmentItem::Attribute(a) => Item::Attribute(a),
        EnvironmentItem::Env(e) => Item::Env(e),
        EnvironmentItem::Requires(r) => Item::Requirement(r),
    }
}

fn body_item(item: &ast::BodyItem) -> Item<'_> {
    match item {
        BodyItem::Attribute(a) => Item::Attribute(a),
        BodyItem::Env(e) => Item::Env(e),
        BodyItem::Matrix(m) => Item::Matrix(m),
        BodyItem::Step(s) => Item::Step(s),
        BodyItem::Service(s) => Item::Service(s),
        BodyItem::Reports(r) => Item::Reports(r),
        BodyItem::Setting(s) => Item::Setting(s),
        BodyItem::Cache(c) => Item::Cache(c),
    }
}

/// A matrix's axes and its `include`/`exclude` entries, in written order (v2 i13g).
fn matrix_items(matrix: &ast::MatrixBlock) -> Vec<Item<'_>> {
    let mut items = attributes(&matrix.axes);
    items.extend(matrix.entries.iter().map(Item::MatrixEntry));
    items.sort_by_key(Item::start);
    items
}

fn step_item(item: &ast::StepItem) -> Item<'_> {
    match item {
        ast::StepItem::Attribute(a) => Item::Attribute(a),
        ast::StepItem::Env(e) => Item::Env(e),
        ast::StepItem::Native(n) => Item::Native(n),
    }
}

/// `test KIND [NAME] [on ENV]`, `deploy ARTIFACT to ENV [as NAME]`, `job NAME` …
pub fn job_header(form: &JobForm) -> String {
    match form {
        JobForm::Artifact { name } => format!("artifact {}", name.name),
        JobForm::Test {
            kind,
            name,
            environment,
        } => {
            let mut header = format!("test {}", kind.name);
            if let Some(name) = name {
                header.push(' ');
                header.push_str(&name.name);
            }
            if let Some(environment) = environment {
                header.push_str(" on ");
                header.push_str(&environment.name);
            }
            header
        }
        JobForm::Deploy {
            artifact,
            environment,
            name,
        } => {
            let mut header = format!("deploy {} to {}", artifact.name, environment.name);
            if let Some(name) = name {
                header.push_str(" as ");
                header.push_str(&name.name);
            }
            header
        }
        JobForm::Gate { name } => format!("gate {}", name.name),
        JobForm::Job { name } => format!("job {}", name.name),
    }
}

/// ` from A, B` after a job's or template's head; empty without `from` (v2 i13e).
pub fn from_suffix(from: Option<&ast::FromClause>) -> String {
    let Some(from) = from else {
        return String::new();
    };
    let names: Vec<&str> = from.templates.iter().map(|t| t.name.as_str()).collect();
    format!(" from {}", names.join(", "))
}

fn requirement(requirement: &ast::Requirement) -> String {
    match &requirement.kind {
        RequirementKind::Approval => "requires approval".into(),
        RequirementKind::Tests(kinds) => {
            let names: Vec<&str> = kinds.iter().map(|k| k.name.as_str()).collect();
            format!("requires tests [{}]", names.join(", "))
        }
        RequirementKind::Promotion(from) => format!("requires promotion from {}", from.name),
    }
}

impl Formatter<'_> {
    pub(super) fn item_layout(&mut self, item: &Item, level: usize, pad: usize) {
        match item {
            Item::Attribute(attribute) => self.attribute(attribute, level, pad),
            Item::Import(import) => {
                self.out.push_str("import ");
                self.out.push_str(&self.text[import.path_span.range()]);
            }
            Item::Secret(secret) => {
                self.out.push_str("secret ");
                self.out.push_str(&secret.name.name);
            }
            Item::Requirement(r) => self.out.push_str(&requirement(r)),
            Item::Trigger(trigger) if trigger.attributes.is_none() => {
                self.out.push_str("on ");
                self.out.push_str(&trigger.event.name);
            }
            _ => {
                let block = item.block().expect("every other item is a block");
                if let Some(flat) = self.flat(item)
                    && level * 2 + width(&flat) <= WIDTH
                {
                    self.out.push_str(&flat);
                    return;
                }
                let open = comments::next_token(self.text, &self.comments, block.header_end);
                debug_assert_eq!(self.text.as_bytes().get(open), Some(&b'{'));
                self.header(&block.header, item.start(), open, level);
                self.block(&block.items, open, item.end() - 1, level);
            }
        }
    }

    /// A block's header and the space before its `{`. A header with a comment in it is
    /// written as it stands (a line comment at its end puts the `{` on the next line).
    fn header(&mut self, header: &str, start: usize, open: usize, level: usize) {
        let inside = self.comments_in(start, open);
        if inside == 0 {
            self.out.push_str(header);
            self.out.push(' ');
            return;
        }
        let written = self.text[start..open].trim_end();
        self.out.push_str(written);
        self.consumed += inside;
        let end = start + written.len();
        let ends_in_line_comment = self
            .comments
            .iter()
            .any(|c| c.span.end == end && matches!(c.kind, CommentKind::Line | CommentKind::Doc));
        if ends_in_line_comment {
            self.out.push('\n');
            self.indent(level);
        } else {
            self.out.push(' ');
        }
    }

    /// The item on one line, when it was written on one line without comments.
    fn flat(&self, item: &Item) -> Option<String> {
        let (start, end) = (item.start(), item.end());
        if self.text[start..end].contains('\n') || self.comments_in(start, end) > 0 {
            return None;
        }
        Some(match item {
            Item::Attribute(a) => format!("{} = {}", a.name.name, self.expr_flat(&a.value)),
            Item::Import(i) => format!("import {}", &self.text[i.path_span.range()]),
            Item::Secret(s) => format!("secret {}", s.name.name),
            Item::Requirement(r) => requirement(r),
            Item::Trigger(t) if t.attributes.is_none() => format!("on {}", t.event.name),
            _ => {
                let block = item.block()?;
                let items: Vec<String> = block
                    .items
                    .iter()
                    .map(|i| self.flat(i))
                    .collect::<Option<_>>()?;
                if items.is_empty() {
                    format!("{} {{}}", block.header)
                } else {
                    format!("{} {{ {} }}", block.header, items.join("; "))
                }
            }
        })
    }

    /// An expanded block from its `{` at `open` to its `}` at `close`; the header is written.
    fn block(&mut self, items: &[Item], open: usize, close: usize, level: usize) {
        if items.is_empty() && self.comments_in(open, close) == 0 {
            self.out.push_str("{}");
            return;
        }
        self.out.push('{');
        let widths = self.alignment(items);
        let mut from = open + 1;
        for k in 0..=items.len() {
            let to = items.get(k).map_or(close, Item::start);
            let gap = self.gap(from, to);
            self.trailing(&gap.trailing);
            self.out.push('\n');
            self.gap_lines(&gap.lines, level + 1, k == 0, k == items.len());
            if let Some((item, width)) = items.get(k).zip(widths.get(k)) {
                self.indent(level + 1);
                self.item(item, level + 1, *width);
                from = item.end();
            }
        }
        self.indent(level);
        self.out.push('}');
    }

    pub(super) fn gap(&self, from: usize, to: usize) -> Gap {
        comments::gap(self.text, &self.comments, from, to, true)
    }

    /// For each item, the width its attribute name is padded to: the longest name in its run
    /// of attributes (a run ends at a blank line or another kind of item).
    fn alignment(&self, items: &[Item]) -> Vec<usize> {
        let mut widths = vec![0; items.len()];
        let mut start = 0;
        while start < items.len() {
            let mut end = start + 1;
            while end < items.len() && self.same_run(&items[end - 1], &items[end]) {
                end += 1;
            }
            let longest = items[start..end]
                .iter()
                .filter(|item| self.comments_in(item.start(), item.end()) == 0)
                .filter_map(|item| match item {
                    Item::Attribute(a) => Some(width(&a.name.name)),
                    _ => None,
                })
                .max()
                .unwrap_or(0);
            widths[start..end].fill(longest);
            start = end;
        }
        widths
    }

    fn same_run(&self, before: &Item, item: &Item) -> bool {
        matches!(before, Item::Attribute(_))
            && matches!(item, Item::Attribute(_))
            && !self.gap(before.end(), item.start()).has_blank()
    }

    fn attribute(&mut self, attribute: &ast::Attribute, level: usize, pad: usize) {
        let name = &attribute.name.name;
        self.out.push_str(name);
        for _ in width(name)..pad {
            self.out.push(' ');
        }
        self.out.push_str(" = ");
        let column = level * 2 + pad.max(width(name)) + 3;
        self.value(&attribute.value, level, column);
    }
}
