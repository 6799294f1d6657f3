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
            // v2 i13e: templates
            Rule::template_decl => (
                "a `template`".to_string(),
                "at the top of a file",
                "move `template NAME { … }` out of the pipeline, before `pipeline`, like a `kind`"
                    .to_string(),
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

    /// Reports another system's block (`variables { … }`); it is not part of the syntax tree.
    /// Where cdl has the same block under another name, the fix renames it.
    pub(super) fn foreign_block(&mut self, pair: Pair<Rule>, block: Block) {
        assert_eq!(pair.as_rule(), Rule::foreign_block);
        self.pending_doc.clear();
        let word = pair.into_inner().next().expect("the block's word");
        let span = Span::new(self.file, word.as_span().start(), word.as_span().end());
        let name = word.as_str();
        let (message, help, rename) = match (name, block) {
            ("variables", _) => (
                "GitLab's `variables` block is an `env` block in cdl",
                "rename it: `env { NAME = \"value\" }` (values are never expanded)",
                Some("env"),
            ),
            ("strategy", _) => (
                "GitHub's `strategy` block is a `matrix` block in cdl",
                "write the axes directly in the job: `matrix { node = [\"18\", \"20\"] }`",
                None,
            ),
            ("artifacts", _) => (
                "GitLab's `artifacts` block is an `artifact` job in cdl",
                "declare what is built once: `artifact app { run = \"make\"; outputs = \
                 [\"dist/\"] }`, and read it with `uses = [app]`",
                None,
            ),
            ("rules" | "only" | "except", _) => (
                "GitLab's job rules are a `when` condition in cdl",
                "write the condition: `when = branch == \"main\" || event == tag`",
                None,
            ),
            ("cache", _) => (
                "GitLab's and CircleCI's `cache` has no counterpart in cdl",
                "build once in an `artifact` job and read it with `uses`",
                None,
            ),
            ("services", _) => (
                "GitHub's and GitLab's `services` have no counterpart in cdl",
                "start the service in `run` (`docker run -d …`), or use a runner that provides it",
                None,
            ),
            ("with", _) => (
                "GitHub's `with` gives inputs to an action; cdl runs commands, not actions",
                "give the job values with `env { NAME = \"value\" }`",
                None,
            ),
            ("steps", _) => (
                "GitHub's `steps` are the commands of `run` in cdl",
                "list the shell commands: `run = [\"make\", \"make test\"]`",
                None,
            ),
            ("environment", _) => (
                "an `environment` block names the environment, then its settings",
                "declare it in the pipeline, `environment staging { url = \"…\" }`, and reach \
                 it with `deploy ARTIFACT to staging`",
                None,
            ),
            _ => (
                "GitLab's `default`/`workflow` and GitHub's `defaults` have no block in cdl",
                "set `image` and `runner` on the pipeline, and the triggers with `on push { … }`",
                None,
            ),
        };
        let mut diagnostic = Diagnostic::new(Code::UnknownAttribute, span, message)
            .label(format!("not a cdl block {}", block.inside()))
            .help(help);
        if let Some(rename) = rename.filter(|_| matches!(block, Block::Job | Block::Pipeline)) {
            diagnostic = diagnostic.suggest(span, rename);
        }
        self.diagnostics.push(diagnostic);
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
