//! Declarations written in a block that cannot hold them (the grammar's `misplaced` rule) and
//! job names in another system's spelling (`build:linux`): parsed leniently so that the
//! diagnostic says where the declaration belongs, at its keyword, instead of "expected `=`".

use pest::iterators::Pair;

use super::lower::{Inner, Lowerer};
use super::parser::Rule;
use crate::codes::Code;
use crate::diagnostic::Diagnostic;
use crate::span::{Ident, Span};

/// The block a misplaced declaration was found in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Block {
    File,
    Pipeline,
    Environment,
    Stage,
    Job,
}

impl Block {
    fn inside(self) -> &'static str {
        match self {
            Block::File => "outside the pipeline",
            Block::Pipeline => "directly in the pipeline",
            Block::Environment => "in an environment",
            Block::Stage => "in a stage",
            Block::Job => "in a job",
        }
    }
}

impl Lowerer {
    /// Reports a `misplaced` declaration; it is not part of the syntax tree.
    pub(super) fn misplaced(&mut self, pair: Pair<Rule>, block: Block) {
        assert_eq!(pair.as_rule(), Rule::misplaced);
        self.pending_doc.clear();
        let declaration = pair.into_inner().next().expect("a declaration");
        let rule = declaration.as_rule();
        let keyword = declaration
            .clone()
            .into_inner()
            .next()
            .expect("a keyword first");
        let span = Span::new(
            self.file,
            keyword.as_span().start(),
            keyword.as_span().end(),
        );
        let word = keyword.as_str();
        let inside = block.inside();
        let (what, belongs, help) = match rule {
            Rule::kind_decl => (
                "a `kind`".to_string(),
                "at the top of a file",
                "move `kind NAME { … }` out of the pipeline, before `pipeline`".to_string(),
            ),
            Rule::stage_decl if block == Block::Stage => (
                "a `stage`".to_string(),
                "in the pipeline (stages do not nest)",
                "close the stage before this one: stages follow each other in the pipeline"
                    .to_string(),
            ),
            Rule::stage_decl => (
                "a `stage`".to_string(),
                "in the pipeline",
                "write it inside `pipeline NAME { … }`".to_string(),
            ),
            Rule::artifact_job
            | Rule::test_job
            | Rule::deploy_job
            | Rule::gate_job
            | Rule::plain_job => (
                format!("{} `{word}`", if word == "artifact" { "an" } else { "a" }),
                "in a stage",
                format!("put it in a stage: `stage build {{ {word} … }}`"),
            ),
            Rule::environment_decl => (
                "an `environment`".to_string(),
                "in the pipeline",
                "declare it beside the stages: `pipeline NAME { environment staging { … } \
                 stage … }`, and reach it with `deploy ARTIFACT to staging`"
                    .to_string(),
            ),
            Rule::requirement => (
                "`requires`".to_string(),
                "in an `environment` block",
                "write it in the environment it guards: `environment production { requires \
                 approval }`"
                    .to_string(),
            ),
            Rule::secret_decl => (
                "a `secret`".to_string(),
                "in the pipeline",
                "declare it in the pipeline (`secret TOKEN`) and give it to a job with \
                 `secrets = [TOKEN]`"
                    .to_string(),
            ),
            Rule::trigger => (
                format!("the trigger `on {}`", trigger_event(&declaration)),
                "in the pipeline",
                "write triggers at the top of the pipeline: `pipeline NAME { on push { … } … }`"
                    .to_string(),
            ),
            other => unreachable!("misplaced {other:?}"),
        };
        self.diagnostics.push(
            Diagnostic::new(
                Code::Misplaced,
                span,
                format!("{what} belongs {belongs}, not {inside}"),
            )
            .label(format!("not allowed {inside}"))
            .help(help),
        );
    }

    /// A job's name, and the `:`, `/` or `.` tail another system's name may have: reported,
    /// and replaced by the same name with `-` so that the rest of the file still checks.
    pub(super) fn job_name(&mut self, inner: &mut Inner) -> Ident {
        let mut name = self.ident(self.expect(inner, Rule::ident));
        if let Some(tail) = inner.next_if(|p| p.as_rule() == Rule::name_tail) {
            let written = format!("{}{}", name.name, tail.as_str());
            let fixed: String = written
                .chars()
                .map(|c| if matches!(c, ':' | '/' | '.') { '-' } else { c })
                .collect();
            let span = name.span.to(Span::new(
                self.file,
                tail.as_span().start(),
                tail.as_span().end(),
            ));
            let character = tail.as_str().chars().next().unwrap_or(':');
            self.diagnostics.push(
                Diagnostic::new(
                    Code::InvalidName,
                    span,
                    format!("a name cannot hold `{character}`: `{written}` is not a cdl name"),
                )
                .label("not a name")
                .help(format!(
                    "names are letters, digits, `_` and `-`: write `{fixed}`"
                ))
                .suggest(span, fixed.clone()),
            );
            name = Ident { name: fixed, span };
        }
        name
    }
}

fn trigger_event(trigger: &Pair<Rule>) -> String {
    trigger
        .clone()
        .into_inner()
        .find(|p| p.as_rule() == Rule::ident)
        .map_or_else(String::new, |p| p.as_str().to_string())
}
