//! Lowers pest's parse tree to the AST.
//!
//! The grammar guarantees the shape of every pair; a mismatch is our bug, so the helpers
//! assert it. Literal problems (bad escapes, malformed numbers) become diagnostics and
//! `ExprKind::Invalid`, so one bad literal does not hide the rest of the file.

use pest::iterators::{Pair, Pairs};
use pest::pratt_parser::{Assoc, Op, PrattParser};

use super::ast::*;
use super::literal;
use super::misplaced::Block;
use super::parser::Rule;
use crate::codes::Code;
use crate::diagnostic::Diagnostic;
use crate::span::{FileId, Ident, Span};

pub struct Lowerer {
    pub file: FileId,
    pub diagnostics: Vec<Diagnostic>,
    /// `///` lines seen since the last declaration, waiting for the next one.
    pub pending_doc: Vec<String>,
}

pub(super) type Inner<'a> = std::iter::Peekable<Pairs<'a, Rule>>;

/// Operator precedence, lowest first: `||`, `&&`, `!`, then the comparisons.
static PRATT: std::sync::LazyLock<PrattParser<Rule>> = std::sync::LazyLock::new(|| {
    PrattParser::new()
        .op(Op::infix(Rule::or_op, Assoc::Left))
        .op(Op::infix(Rule::and_op, Assoc::Left))
        .op(Op::prefix(Rule::not_op))
        .op(Op::infix(Rule::compare_op, Assoc::Left))
        // v2 i13j: `+` joins the parts of a composed value, tighter than everything.
        .op(Op::infix(Rule::plus_op, Assoc::Left))
});

impl Lowerer {
    fn span(&self, pair: &Pair<Rule>) -> Span {
        let s = pair.as_span();
        Span::new(self.file, s.start(), s.end())
    }

    pub(super) fn ident(&self, pair: Pair<Rule>) -> Ident {
        assert_eq!(pair.as_rule(), Rule::ident);
        Ident {
            name: pair.as_str().to_string(),
            span: self.span(&pair),
        }
    }

    /// Takes the next pair, asserting its rule.
    pub(super) fn expect<'a>(&self, inner: &mut Inner<'a>, rule: Rule) -> Pair<'a, Rule> {
        let pair = inner.next().expect("grammar guarantees another pair");
        assert_eq!(
            pair.as_rule(),
            rule,
            "grammar shape at {:?}",
            pair.as_span()
        );
        pair
    }

    fn next_if<'a>(&self, inner: &mut Inner<'a>, rule: Rule) -> Option<Pair<'a, Rule>> {
        inner.next_if(|p| p.as_rule() == rule)
    }

    /// Remembers a `///` line for the declaration that follows it.
    fn doc_line(&mut self, pair: Pair<Rule>) {
        assert_eq!(pair.as_rule(), Rule::doc_comment);
        let text = pair.into_inner().next().map_or("", |t| t.as_str());
        self.pending_doc.push(
            text.strip_prefix(' ')
                .unwrap_or(text)
                .trim_end()
                .to_string(),
        );
    }

    /// The doc comment of the declaration being lowered: the `///` lines right before it.
    fn take_doc(&mut self) -> Option<String> {
        let lines = std::mem::take(&mut self.pending_doc);
        (!lines.is_empty()).then(|| lines.join("\n"))
    }

    /// Forgets `///` lines that no declaration followed (before a closing brace).
    fn end_block(&mut self) {
        self.pending_doc.clear();
    }

    pub fn file(&mut self, pair: Pair<Rule>) -> File {
        assert_eq!(pair.as_rule(), Rule::file);
        let span = self.span(&pair);
        let mut items = Vec::new();
        for item in pair.into_inner() {
            match item.as_rule() {
                Rule::import => items.push(TopItem::Import(self.import(item))),
                Rule::kind_decl => items.push(TopItem::Kind(self.kind(item))),
                Rule::team_decl => items.push(TopItem::Team(self.team(item))),
                Rule::pipeline => items.push(TopItem::Pipeline(self.pipeline(item))),
                Rule::template_decl => items.push(TopItem::Template(self.template(item))),
                Rule::misplaced => self.misplaced(item, Block::File),
                Rule::doc_comment => self.doc_line(item),
                Rule::EOI => {}
                other => unreachable!("top-level rule {other:?}"),
            }
        }
        File { items, span }
    }

    fn import(&mut self, pair: Pair<Rule>) -> Import {
        let span = self.span(&pair);
        let mut inner = pair.into_inner().peekable();
        self.expect(&mut inner, Rule::kw_import);
        let string = self.expect(&mut inner, Rule::string);
        let path_span = self.span(&string);
        let path = match self.string_value(string).kind {
            ExprKind::String(s) => s,
            _ => String::new(),
        };
        Import {
            path,
            path_span,
            span,
        }
    }

    fn kind(&mut self, pair: Pair<Rule>) -> KindDecl {
        let span = self.span(&pair);
        let mut inner = pair.into_inner().peekable();
        let doc = self.take_doc();
        self.expect(&mut inner, Rule::kw_kind);
        let name = self.ident(self.expect(&mut inner, Rule::ident));
        let attributes = self.attr_block(self.expect(&mut inner, Rule::attr_block));
        KindDecl {
            doc,
            name,
            attributes,
            span,
        }
    }

    fn team(&mut self, pair: Pair<Rule>) -> TeamDecl {
        let span = self.span(&pair);
        let mut inner = pair.into_inner().peekable();
        let doc = self.take_doc();
        self.expect(&mut inner, Rule::kw_team);
        let name = self.ident(self.expect(&mut inner, Rule::ident));
        let attributes = self.attr_block(self.expect(&mut inner, Rule::attr_block));
        TeamDecl {
            doc,
            name,
            attributes,
            span,
        }
    }

    fn attr_block(&mut self, pair: Pair<Rule>) -> Vec<Attribute> {
        assert_eq!(pair.as_rule(), Rule::attr_block);
        self.attributes(pair.into_inner())
    }

    /// The `attribute` children of a braced block, skipping braces and `;`.
    fn attributes(&mut self, pairs: Pairs<Rule>) -> Vec<Attribute> {
        let mut attributes = Vec::new();
        for pair in pairs {
            match pair.as_rule() {
                Rule::attribute => attributes.push(self.attribute(pair)),
                Rule::doc_comment => self.doc_line(pair),
                _ => {}
            }
        }
        self.end_block();
        attributes
    }

    fn pipeline(&mut self, pair: Pair<Rule>) -> Pipeline {
        let span = self.span(&pair);
        let mut inner = pair.into_inner().peekable();
        let doc = self.take_doc();
        self.expect(&mut inner, Rule::kw_pipeline);
        let name = self.ident(self.expect(&mut inner, Rule::ident));
        let mut items = Vec::new();
        for item in inner {
            items.push(match item.as_rule() {
                Rule::attribute => PipelineItem::Attribute(self.attribute(item)),
                Rule::trigger => PipelineItem::Trigger(self.trigger(item)),
                Rule::env_block => PipelineItem::Env(self.env_block(item)),
                Rule::secret_decl => PipelineItem::Secret(self.secret(item)),
                Rule::team_decl => PipelineItem::Team(self.team(item)),
                Rule::environment_decl => PipelineItem::Environment(self.environment(item)),
                Rule::stage_decl => PipelineItem::Stage(self.stage(item)),
                Rule::parameter_decl => PipelineItem::Parameter(self.parameter(item)),
                Rule::setting_block => PipelineItem::Setting(self.setting_block(item)),
                Rule::misplaced => {
                    self.misplaced(item, Block::Pipeline);
                    continue;
                }
                Rule::foreign_block => {
                    self.foreign_block(item, Block::Pipeline);
                    continue;
                }
                Rule::doc_comment => {
                    self.doc_line(item);
                    continue;
                }
                Rule::lbrace | Rule::rbrace | Rule::semi => continue,
                other => unreachable!("pipeline item {other:?}"),
            });
        }
        self.end_block();
        Pipeline {
            doc,
            name,
            items,
            span,
        }
    }

    fn trigger(&mut self, pair: Pair<Rule>) -> Trigger {
        let span = self.span(&pair);
        let mut inner = pair.into_inner().peekable();
        let doc = self.take_doc();
        self.expect(&mut inner, Rule::kw_on);
        let event = self.ident(self.expect(&mut inner, Rule::ident));
        let attributes = inner.next().map(|block| self.attr_block(block));
        // Without a block, the pair also covers the white space after the event; trim it.
        let span = if attributes.is_none() {
            span.to(event.span).with_end(event.span.end)
        } else {
            span
        };
        Trigger {
            doc,
            event,
            attributes,
            span,
        }
    }

    fn env_block(&mut self, pair: Pair<Rule>) -> EnvBlock {
        assert_eq!(pair.as_rule(), Rule::env_block);
        self.take_doc();
        let span = self.span(&pair);
        EnvBlock {
            variables: self.attributes(pair.into_inner()),
            span,
        }
    }

    /// `input NAME { … }` / `var NAME { … }` (v2 i13d).
    fn parameter(&mut self, pair: Pair<Rule>) -> crate::syntax::ast::ParameterDecl {
        use crate::syntax::ast::{ParameterDecl, ParameterKeyword};
        let span = self.span(&pair);
        let mut inner = pair.into_inner().peekable();
        let doc = self.take_doc();
        let keyword = match inner.next().map(|p| p.as_rule()) {
            Some(Rule::kw_input) => ParameterKeyword::Input,
            Some(Rule::kw_var) => ParameterKeyword::Var,
            other => unreachable!("parameter keyword {other:?}"),
        };
        let name = self.ident(self.expect(&mut inner, Rule::ident));
        let attributes = self.attr_block(self.expect(&mut inner, Rule::attr_block));
        ParameterDecl {
            doc,
            keyword,
            name,
            attributes,
            span,
        }
    }

    fn secret(&mut self, pair: Pair<Rule>) -> SecretDecl {
        let span = self.span(&pair);
        let mut inner = pair.into_inner().peekable();
        let doc = self.take_doc();
        self.expect(&mut inner, Rule::kw_secret);
        let name = self.ident(self.expect(&mut inner, Rule::ident));
        SecretDecl { doc, name, span }
    }

    fn environment(&mut self, pair: Pair<Rule>) -> EnvironmentDecl {
        let span = self.span(&pair);
        let mut inner = pair.into_inner().peekable();
        let doc = self.take_doc();
        self.expect(&mut inner, Rule::kw_environment);
        let name = self.ident(self.expect(&mut inner, Rule::ident));
        let mut items = Vec::new();
        for item in inner {
            items.push(match item.as_rule() {
                Rule::attribute => EnvironmentItem::Attribute(self.attribute(item)),
                Rule::env_block => EnvironmentItem::Env(self.env_block(item)),
                Rule::requirement => EnvironmentItem::Requires(self.requirement(item)),
                Rule::misplaced => {
                    self.misplaced(item, Block::Environment);
                    continue;
                }
                Rule::doc_comment => {
                    self.doc_line(item);
                    continue;
                }
                Rule::lbrace | Rule::rbrace | Rule::semi => continue,
                other => unreachable!("environment item {other:?}"),
            });
        }
        self.end_block();
        EnvironmentDecl {
            doc,
            name,
            items,
            span,
        }
    }

    fn requirement(&mut self, pair: Pair<Rule>) -> Requirement {
        let span = self.span(&pair);
        let mut inner = pair.into_inner().peekable();
        self.take_doc();
        self.expect(&mut inner, Rule::kw_requires);
        let what = inner.next().expect("requirement body");
        let kind = match what.as_rule() {
            Rule::requires_approval => RequirementKind::Approval,
            Rule::requires_tests => {
                let list = what.into_inner().nth(1).expect("ident_list");
                RequirementKind::Tests(
                    list.into_inner()
                        .filter(|p| p.as_rule() == Rule::ident)
                        .map(|p| self.ident(p))
                        .collect(),
                )
            }
            Rule::requires_promotion => {
                let env = what.into_inner().nth(2).expect("promotion source");
                RequirementKind::Promotion(self.ident(env))
            }
            other => unreachable!("requirement {other:?}"),
        };
        Requirement { kind, span }
    }

    fn stage(&mut self, pair: Pair<Rule>) -> StageDecl {
        let span = self.span(&pair);
        let mut inner = pair.into_inner().peekable();
        let doc = self.take_doc();
        self.expect(&mut inner, Rule::kw_stage);
        let name = self.ident(self.expect(&mut inner, Rule::ident));
        let mut jobs = Vec::new();
        for pair in inner {
            match pair.as_rule() {
                Rule::doc_comment => self.doc_line(pair),
                Rule::lbrace | Rule::rbrace | Rule::semi => {}
                Rule::misplaced => self.misplaced(pair, Block::Stage),
                _ => jobs.push(self.job(pair)),
            }
        }
        self.end_block();
        StageDecl {
            doc,
            name,
            jobs,
            span,
        }
    }

    fn job(&mut self, pair: Pair<Rule>) -> JobDecl {
        let span = self.span(&pair);
        let rule = pair.as_rule();
        let mut inner = pair.into_inner().peekable();
        let doc = self.take_doc();
        let keyword = inner.next().expect("job keyword");
        let header_start = keyword.as_span().start();
        debug_assert_ne!(keyword.as_rule(), Rule::doc_comment);
        let form = match rule {
            Rule::artifact_job => JobForm::Artifact {
                name: self.job_name(&mut inner),
            },
            Rule::test_job => {
                let kind = self.ident(self.expect(&mut inner, Rule::ident));
                let name = self
                    .next_if(&mut inner, Rule::test_name)
                    .map(|p| self.job_name(&mut p.into_inner().peekable()));
                let environment = self
                    .next_if(&mut inner, Rule::test_target)
                    .map(|p| self.ident(p.into_inner().nth(1).expect("test target")));
                JobForm::Test {
                    kind,
                    name,
                    environment,
                }
            }
            Rule::deploy_job => {
                let artifact = self.ident(self.expect(&mut inner, Rule::ident));
                self.expect(&mut inner, Rule::kw_to);
                let environment = self.ident(self.expect(&mut inner, Rule::ident));
                let name = self.next_if(&mut inner, Rule::deploy_name).map(|p| {
                    let mut inner = p.into_inner().peekable();
                    self.expect(&mut inner, Rule::kw_as);
                    self.job_name(&mut inner)
                });
                JobForm::Deploy {
                    artifact,
                    environment,
                    name,
                }
            }
            Rule::gate_job => JobForm::Gate {
                name: self.job_name(&mut inner),
            },
            Rule::plain_job => JobForm::Job {
                name: self.job_name(&mut inner),
            },
            // v2 i13e: a template is lowered as a job, then taken apart by `template`.
            Rule::template_decl => JobForm::Job {
                name: self.ident(self.expect(&mut inner, Rule::ident)),
            },
            other => unreachable!("job rule {other:?}"),
        };
        let from = self
            .next_if(&mut inner, Rule::job_from)
            .map(|p| self.templates_named(p));
        let body_pair = self.expect(&mut inner, Rule::job_body);
        let header_span =
            Span::new(self.file, header_start, body_pair.as_span().start()).trimmed_end(&body_pair);
        let mut body = Vec::new();
        for item in body_pair.into_inner() {
            match item.as_rule() {
                Rule::attribute => body.push(BodyItem::Attribute(self.attribute(item))),
                Rule::env_block => body.push(BodyItem::Env(self.env_block(item))),
                Rule::matrix_block => {
                    self.take_doc();
                    body.push(BodyItem::Matrix(self.matrix_block(item)));
                }
                Rule::step_block => body.push(BodyItem::Step(self.step_block(item))),
                Rule::service_block => body.push(BodyItem::Service(self.service_block(item))),
                Rule::reports_block => body.push(BodyItem::Reports(self.reports_block(item))),
                Rule::setting_block => body.push(BodyItem::Setting(self.setting_block(item))),
                Rule::cache_block => body.push(BodyItem::Cache(self.cache_block(item))),
                Rule::doc_comment => self.doc_line(item),
                Rule::lbrace | Rule::rbrace | Rule::semi => {}
                Rule::misplaced => self.misplaced(item, Block::Job),
                Rule::foreign_block => self.foreign_block(item, Block::Job),
                other => unreachable!("job body item {other:?}"),
            }
        }
        self.end_block();
        JobDecl {
            doc,
            form,
            body,
            header_span,
            span,
            from,
        }
    }

    /// `template NAME [from A, B] { … }` (v2 §3, i13e).
    fn template(&mut self, pair: Pair<Rule>) -> TemplateDecl {
        assert_eq!(pair.as_rule(), Rule::template_decl);
        let job = self.job(pair);
        let JobForm::Job { name } = job.form else {
            unreachable!("a template is lowered as a plain job")
        };
        TemplateDecl {
            doc: job.doc,
            name,
            from: job.from,
            body: job.body,
            header_span: job.header_span,
            span: job.span,
        }
    }

    /// `from A, B` (v2 §3, i13e).
    fn templates_named(&mut self, pair: Pair<Rule>) -> FromClause {
        assert_eq!(pair.as_rule(), Rule::job_from);
        let span = self.span(&pair);
        let mut inner = pair.into_inner();
        let keyword = self.span(&inner.next().expect("`from`"));
        let templates = inner
            .filter(|p| p.as_rule() == Rule::ident)
            .map(|p| self.ident(p))
            .collect();
        FromClause {
            keyword,
            templates,
            span,
        }
    }

    /// `permissions { … }` and the other platform settings (v2 §9, i14a).
    fn setting_block(&mut self, pair: Pair<Rule>) -> SettingBlock {
        assert_eq!(pair.as_rule(), Rule::setting_block);
        let doc = self.take_doc();
        let span = self.span(&pair);
        let mut inner = pair.into_inner().peekable();
        let word_pair = self.expect(&mut inner, Rule::kw_setting);
        let word = Ident {
            name: word_pair.as_str().to_string(),
            span: self.span(&word_pair),
        };
        let block = self.expect(&mut inner, Rule::attr_block);
        let attributes = self.attr_block(block);
        SettingBlock {
            doc,
            word,
            attributes,
            span,
        }
    }

    /// `github { … }`, `circleci { … }`, `buildkite { … }` in a step (v2 i14e).
    fn native_block(&mut self, pair: Pair<Rule>) -> NativeBlock {
        assert_eq!(pair.as_rule(), Rule::native_block);
        let span = self.span(&pair);
        let mut inner = pair.into_inner().peekable();
        let word = self.expect(&mut inner, Rule::kw_native);
        let target = Ident {
            name: word.as_str().to_string(),
            span: self.span(&word),
        };
        let mut items = Vec::new();
        for item in inner {
            match item.as_rule() {
                Rule::attribute => items.push(NativeItem::Attribute(self.attribute(item))),
                Rule::with_block => {
                    let span = self.span(&item);
                    let doc = self.take_doc();
                    let mut parts = item.into_inner().peekable();
                    let kw = self.expect(&mut parts, Rule::kw_with);
                    let word = Ident {
                        name: kw.as_str().to_string(),
                        span: self.span(&kw),
                    };
                    let block = self.expect(&mut parts, Rule::attr_block);
                    let attributes = self.attr_block(block);
                    items.push(NativeItem::With(SettingBlock {
                        doc,
                        word,
                        attributes,
                        span,
                    }));
                }
                Rule::doc_comment => self.doc_line(item),
                Rule::lbrace | Rule::rbrace | Rule::semi => {}
                other => unreachable!("native item {other:?}"),
            }
        }
        self.end_block();
        NativeBlock {
            target,
            items,
            span,
        }
    }

    /// `cache NAME { … }` (v2 §9, i14c).
    fn cache_block(&mut self, pair: Pair<Rule>) -> CacheBlock {
        assert_eq!(pair.as_rule(), Rule::cache_block);
        let doc = self.take_doc();
        let span = self.span(&pair);
        let mut inner = pair.into_inner().peekable();
        self.expect(&mut inner, Rule::kw_cache);
        let name = self.ident(self.expect(&mut inner, Rule::ident));
        let attributes = self.attr_block(self.expect(&mut inner, Rule::attr_block));
        CacheBlock {
            doc,
            name,
            attributes,
            span,
        }
    }

    /// `step NAME { … }` (v2, i13b).
    fn step_block(&mut self, pair: Pair<Rule>) -> StepBlock {
        assert_eq!(pair.as_rule(), Rule::step_block);
        let doc = self.take_doc();
        let span = self.span(&pair);
        let mut inner = pair.into_inner().peekable();
        self.expect(&mut inner, Rule::kw_step);
        let name = self.ident(self.expect(&mut inner, Rule::ident));
        let mut items = Vec::new();
        for item in inner {
            match item.as_rule() {
                Rule::attribute => items.push(StepItem::Attribute(self.attribute(item))),
                Rule::env_block => items.push(StepItem::Env(self.env_block(item))),
                Rule::native_block => items.push(StepItem::Native(self.native_block(item))),
                Rule::doc_comment => self.doc_line(item),
                Rule::lbrace | Rule::rbrace | Rule::semi => {}
                other => unreachable!("step item {other:?}"),
            }
        }
        self.end_block();
        StepBlock {
            doc,
            name,
            items,
            span,
        }
    }

    /// `service NAME { … }` (v2 §9, i14d).
    fn service_block(&mut self, pair: Pair<Rule>) -> ServiceBlock {
        assert_eq!(pair.as_rule(), Rule::service_block);
        let doc = self.take_doc();
        let span = self.span(&pair);
        let mut inner = pair.into_inner().peekable();
        self.expect(&mut inner, Rule::kw_service);
        let name = self.ident(self.expect(&mut inner, Rule::ident));
        let mut items = Vec::new();
        for item in inner {
            match item.as_rule() {
                Rule::attribute => items.push(StepItem::Attribute(self.attribute(item))),
                Rule::env_block => items.push(StepItem::Env(self.env_block(item))),
                Rule::doc_comment => self.doc_line(item),
                Rule::lbrace | Rule::rbrace | Rule::semi => {}
                other => unreachable!("service item {other:?}"),
            }
        }
        self.end_block();
        ServiceBlock {
            doc,
            name,
            items,
            span,
        }
    }

    /// `reports { … }` (v2, i13h).
    fn reports_block(&mut self, pair: Pair<Rule>) -> ReportsBlock {
        assert_eq!(pair.as_rule(), Rule::reports_block);
        self.take_doc();
        let span = self.span(&pair);
        let mut inner = pair.into_inner().peekable();
        self.expect(&mut inner, Rule::kw_reports);
        let kinds = self.attr_block(self.expect(&mut inner, Rule::attr_block));
        ReportsBlock { kinds, span }
    }

    fn attribute(&mut self, pair: Pair<Rule>) -> Attribute {
        assert_eq!(pair.as_rule(), Rule::attribute);
        let span = self.span(&pair);
        let mut inner = pair.into_inner().peekable();
        let doc = self.take_doc();
        let name = self.ident(self.expect(&mut inner, Rule::ident));
        self.expect(&mut inner, Rule::assign);
        let value = self.expr(self.expect(&mut inner, Rule::expr));
        Attribute {
            doc,
            name,
            value,
            span,
        }
    }

    fn expr(&mut self, pair: Pair<Rule>) -> Expr {
        assert_eq!(pair.as_rule(), Rule::expr);
        // The common shapes first, without the Pratt parser: a value alone (`"make"`,
        // `[a, b]`, `10m`) and one operator between two values (`branch == "main"`). An
        // operand is `not_op* primary`, so a first pair that is not `!` is a primary, and with
        // three pairs the second is the operator and the third a primary.
        let mut pairs = pair.clone().into_inner();
        match (pairs.next(), pairs.next(), pairs.next(), pairs.next()) {
            (Some(value), None, None, None) if value.as_rule() != Rule::not_op => {
                return self.primary(value);
            }
            (Some(left), Some(op), Some(right), None) if left.as_rule() != Rule::not_op => {
                let left = self.primary(left);
                let right = self.primary(right);
                return infix(left, op, right);
            }
            _ => {}
        }
        let file = self.file;
        PRATT
            .map_primary(|primary| self.primary(primary))
            .map_prefix(|op, operand| {
                assert_eq!(op.as_rule(), Rule::not_op);
                let span = Span::new(file, op.as_span().start(), operand.span.end as usize);
                Expr {
                    kind: ExprKind::Not(Box::new(operand)),
                    span,
                }
            })
            .map_infix(infix)
            .parse(pair.into_inner())
    }

    fn primary(&mut self, pair: Pair<Rule>) -> Expr {
        let span = self.span(&pair);
        let kind = match pair.as_rule() {
            Rule::paren => {
                let expr = pair.into_inner().nth(1).expect("parenthesised expression");
                let inner = self.expr(expr);
                return Expr {
                    kind: inner.kind,
                    span,
                };
            }
            Rule::list => ExprKind::List(
                pair.into_inner()
                    .filter(|p| p.as_rule() == Rule::expr)
                    .map(|p| self.expr(p))
                    .collect(),
            ),
            Rule::string => return self.string_value(pair),
            Rule::triple_string => return self.triple_string_value(pair),
            Rule::duration => match literal::duration_seconds(pair.as_str()) {
                Some(seconds) => ExprKind::Duration(seconds),
                None => self.malformed(
                    span,
                    "this duration is too large",
                    "durations go up to hundreds of years; use a smaller one",
                ),
            },
            Rule::integer => match pair.as_str().parse() {
                Ok(n) => ExprKind::Integer(n),
                Err(_) => self.malformed(
                    span,
                    "this integer is too large",
                    "integers are 64-bit; use a smaller one",
                ),
            },
            Rule::malformed_number => self.malformed(
                span,
                "this is neither a number nor a duration",
                "a duration is digits followed by `s`, `m`, `h` or `d` (`30s`, `10m`, `1h30m`); \
                 an integer is digits alone",
            ),
            Rule::boolean => ExprKind::Bool(pair.as_str() == "true"),
            Rule::defined_call => {
                let name = pair
                    .into_inner()
                    .find(|p| p.as_rule() == Rule::name_path)
                    .expect("defined(name)");
                ExprKind::Defined(name.as_str().to_string())
            }
            // v2 i14b
            Rule::changed_call => ExprKind::Changed(
                pair.into_inner()
                    .filter(|p| p.as_rule() == Rule::expr)
                    .map(|p| self.expr(p))
                    .collect(),
            ),
            Rule::name_path | Rule::foreign_name => ExprKind::Ident(pair.as_str().to_string()),
            other => unreachable!("primary {other:?}"),
        };
        Expr { kind, span }
    }

    fn malformed(&mut self, span: Span, message: &str, help: &str) -> ExprKind {
        self.diagnostics.push(
            Diagnostic::new(Code::MalformedNumber, span, message)
                .label("not a valid number or duration")
                .help(help),
        );
        ExprKind::Invalid
    }

    fn string_value(&mut self, pair: Pair<Rule>) -> Expr {
        let span = self.span(&pair);
        let inner = pair.into_inner().next().expect("string_inner");
        let offset = inner.as_span().start();
        let kind = self.unescaped(inner.as_str(), offset);
        Expr { kind, span }
    }

    fn triple_string_value(&mut self, pair: Pair<Rule>) -> Expr {
        let span = self.span(&pair);
        let inner = pair.into_inner().next().expect("triple_inner");
        let offset = inner.as_span().start();
        let kind = match self.unescaped(inner.as_str(), offset) {
            ExprKind::String(s) => ExprKind::String(literal::dedent(&s)),
            other => other,
        };
        Expr { kind, span }
    }

    fn unescaped(&mut self, raw: &str, offset: usize) -> ExprKind {
        match literal::unescape(raw) {
            Ok(s) => ExprKind::String(s),
            Err((at, len)) => {
                let span = Span::new(self.file, offset + at, offset + at + len);
                self.diagnostics.push(
                    Diagnostic::new(Code::InvalidEscape, span, "invalid escape in a string")
                        .label("unknown escape")
                        .help(
                            r#"the escapes are \" \\ \n \t \r and \u{…}; write \\ for a backslash"#,
                        ),
                );
                ExprKind::Invalid
            }
        }
    }
}

// ---- v2 i13g: richer matrices
impl Lowerer {
    /// `matrix { AXIS = [values]  include { … }  exclude { … } }`.
    fn matrix_block(&mut self, pair: Pair<Rule>) -> MatrixBlock {
        assert_eq!(pair.as_rule(), Rule::matrix_block);
        let span = self.span(&pair);
        let mut axes = Vec::new();
        let mut entries = Vec::new();
        for item in pair.into_inner() {
            match item.as_rule() {
                Rule::attribute => axes.push(self.attribute(item)),
                Rule::doc_comment => self.doc_line(item),
                Rule::matrix_entry => {
                    self.take_doc();
                    let entry_span = self.span(&item);
                    let mut inner = item.into_inner().peekable();
                    let word = self.expect(&mut inner, Rule::matrix_entry_word);
                    let keyword = self.span(&word);
                    let kind = if word.as_str() == "include" {
                        MatrixEntryKind::Include
                    } else {
                        MatrixEntryKind::Exclude
                    };
                    let values = self.attr_block(self.expect(&mut inner, Rule::attr_block));
                    entries.push(MatrixEntry {
                        kind,
                        keyword,
                        values,
                        span: entry_span,
                    });
                }
                _ => {}
            }
        }
        self.end_block();
        MatrixBlock {
            axes,
            span,
            entries,
        }
    }
}

/// `left OP right`, for the Pratt parser and for `Lowerer::expr`'s fast path.
fn infix(left: Expr, op: Pair<Rule>, right: Expr) -> Expr {
    let span = left.span.to(right.span);
    let (left, right) = (Box::new(left), Box::new(right));
    let kind = match op.as_rule() {
        Rule::or_op => ExprKind::Or(left, right),
        Rule::and_op => ExprKind::And(left, right),
        Rule::compare_op => ExprKind::Compare {
            op: match op.as_str() {
                "==" => CompareOp::Equal,
                "!=" => CompareOp::NotEqual,
                _ => CompareOp::Matches,
            },
            left,
            right,
        },
        Rule::plus_op => ExprKind::Value(Value::join(*left, *right, span)),
        other => unreachable!("infix operator {other:?}"),
    };
    Expr { kind, span }
}

trait TrimEnd {
    fn trimmed_end(self, body: &Pair<Rule>) -> Span;
}

impl TrimEnd for Span {
    /// Shrinks a header span so it ends at its last non-blank character before the body.
    fn trimmed_end(self, body: &Pair<Rule>) -> Span {
        let text = body.get_input();
        let header = &text[self.range()];
        let trimmed = header.trim_end().len();
        Span {
            end: self.start + trimmed as u32,
            ..self
        }
    }
}
