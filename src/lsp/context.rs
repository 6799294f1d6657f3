//! Where the cursor stands, read from the tokens of the text before it (the syntax's lexer, not
//! the parser: the text being typed rarely parses). Completion decides what to offer from this.

use crate::check::job_name;
use crate::syntax::lexer::{self, TokenKind, is_word_char};

/// The block the cursor is in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    File,
    Pipeline,
    Kind,
    Trigger(String),
    Env,
    Environment,
    Stage,
    /// A job of the form (`artifact`, `test`, `deploy`, `gate`, `job`), with its name.
    Job(String, Option<String>),
    Matrix,
    /// `reports { … }` in a job (v2, i13h).
    Reports,
    /// v2 i14a: `permissions { … }`, `oidc { … }`, `concurrency { … }`, `checkout { … }`.
    Setting(String),
    /// v2 i13l: `step NAME { … }` in a job.
    Step,
    /// v2 i14d: `service NAME { … }` in a job.
    Service,
    Native(String),
    With,
    /// v2 i14c: `cache NAME { … }` in a job.
    Cache,
    /// A block the lexer could not place.
    Other,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Token {
    Word(String),
    /// A string or number literal.
    Literal,
    Punct(char),
    /// `==`, `!=`, `&&`, `||`, `!`
    Operator(&'static str),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Context {
    pub frame: Frame,
    /// Attribute names already set in the block.
    pub seen: Vec<String>,
    /// The tokens of the item being written, before the word under the cursor.
    pub statement: Vec<Token>,
    /// The word being typed (possibly empty).
    pub prefix: String,
    /// The cursor is in a string or a comment.
    pub in_literal: bool,
    /// The stage the cursor is in, if any.
    pub stage: Option<String>,
}

impl Context {
    /// Inside `[` of `NAME = [` (the attribute) or of `requires tests [` (`"tests"`).
    pub fn list_of(&self) -> Option<&str> {
        let open = self
            .statement
            .iter()
            .rposition(|t| *t == Token::Punct('['))?;
        let closed = self.statement[open..].contains(&Token::Punct(']'));
        if closed {
            return None;
        }
        match &self.statement[..open] {
            [Token::Word(name), Token::Punct('=')] => Some(name),
            [Token::Word(requires), Token::Word(tests)]
                if requires == "requires" && tests == "tests" =>
            {
                Some("tests")
            }
            _ => None,
        }
    }

    /// The attribute whose value is being written (`NAME = …`), outside any list.
    /// Several attributes may share a line (`paths = ["n"]  policy = `): the last `NAME =`
    /// of the statement is the one being written.
    pub fn value_of(&self) -> Option<&str> {
        match self.statement.as_slice() {
            [Token::Word(_), Token::Punct('='), ..] => {
                self.statement.windows(2).rev().find_map(|pair| match pair {
                    [Token::Word(name), Token::Punct('=')] => Some(name.as_str()),
                    _ => None,
                })
            }
            _ => None,
        }
    }

    /// The words of the statement, when it is only words (`test unit on`).
    pub fn words(&self) -> Option<Vec<&str>> {
        self.statement
            .iter()
            .map(|t| match t {
                Token::Word(w) => Some(w.as_str()),
                _ => None,
            })
            .collect()
    }
}

struct FrameState {
    frame: Frame,
    seen: Vec<String>,
    /// The stage's name, for a stage's block.
    stage: Option<String>,
}

/// Reads `text[..cursor]` with the syntax's lexer.
pub fn at(text: &str, cursor: usize) -> Context {
    let mut cursor = cursor.min(text.len());
    while !text.is_char_boundary(cursor) {
        cursor -= 1;
    }
    let before = &text[..cursor];
    let prefix_len = before
        .chars()
        .rev()
        .take_while(|c| is_word_char(*c))
        .map(char::len_utf8)
        .sum::<usize>();
    let prefix = before[before.len() - prefix_len..].to_string();
    let lexed = &before[..before.len() - prefix_len];

    let mut stack = vec![FrameState {
        frame: Frame::File,
        seen: Vec::new(),
        stage: None,
    }];
    let mut statement: Vec<Token> = Vec::new();
    let mut depth = 0usize;
    let mut in_literal = false;
    for token in lexer::tokens(lexed) {
        let source = &lexed[token.span.clone()];
        let reaches_cursor = token.span.end == lexed.len();
        match token.kind {
            TokenKind::Whitespace => {
                let continues = matches!(
                    statement.last(),
                    Some(Token::Operator(_) | Token::Punct('=') | Token::Punct(','))
                );
                if source.contains('\n') && depth == 0 && !continues {
                    statement.clear();
                }
            }
            TokenKind::LineComment | TokenKind::DocComment => in_literal = reaches_cursor,
            TokenKind::BlockComment { closed } => in_literal = !closed,
            TokenKind::String { closed } | TokenKind::TripleString { closed } => {
                // An unclosed `"…` ends at its line break; the cursor is in it only before that.
                in_literal = !closed && reaches_cursor;
                statement.push(Token::Literal);
            }
            TokenKind::Word if source.starts_with(|c: char| c.is_ascii_digit()) => {
                statement.push(Token::Literal);
            }
            TokenKind::Word => statement.push(Token::Word(source.to_string())),
            TokenKind::Operator => statement.push(Token::Operator(match source {
                "==" => "==",
                "!=" => "!=",
                "&&" => "&&",
                _ => "||",
            })),
            TokenKind::Punct(c) => match c {
                '{' => {
                    let frame = classify(&statement);
                    let stage = match frame {
                        Frame::Stage => words(&statement).get(1).map(|name| name.to_string()),
                        _ => stack.last().and_then(|top| top.stage.clone()),
                    };
                    stack.push(FrameState {
                        frame,
                        seen: Vec::new(),
                        stage,
                    });
                    statement.clear();
                    depth = 0;
                }
                '}' => {
                    if stack.len() > 1 {
                        stack.pop();
                    }
                    statement.clear();
                    depth = 0;
                }
                ';' if depth == 0 => statement.clear(),
                '[' | '(' => {
                    depth += 1;
                    statement.push(Token::Punct(c));
                }
                ']' | ')' => {
                    depth = depth.saturating_sub(1);
                    statement.push(Token::Punct(c));
                }
                '=' => {
                    if let [Token::Word(name)] = statement.as_slice() {
                        let top = stack.last_mut().expect("the file frame stays");
                        top.seen.push(name.clone());
                    }
                    statement.push(Token::Punct('='));
                }
                '!' => statement.push(Token::Operator("!")),
                other => statement.push(Token::Punct(other)),
            },
        }
    }
    let top = stack.pop().expect("the file frame stays");
    Context {
        frame: top.frame,
        seen: top.seen,
        stage: top.stage,
        statement,
        prefix,
        in_literal,
    }
}

/// The words of a header, without its punctuation.
fn words(header: &[Token]) -> Vec<&str> {
    header
        .iter()
        .filter_map(|t| match t {
            Token::Word(w) => Some(w.as_str()),
            _ => None,
        })
        .collect()
}

/// The block a header opens: `stage build {` opens a stage.
fn classify(header: &[Token]) -> Frame {
    match words(header).as_slice() {
        ["pipeline", ..] => Frame::Pipeline,
        ["kind", ..] => Frame::Kind,
        ["on", event, ..] => Frame::Trigger((*event).to_string()),
        ["env"] => Frame::Env,
        // A job's review environment: `environment { … }`, no name.
        ["environment"] => Frame::Setting("environment".to_string()),
        ["environment", ..] => Frame::Environment,
        ["stage", ..] => Frame::Stage,
        ["matrix"] => Frame::Matrix,
        ["reports"] => Frame::Reports,
        ["step", ..] => Frame::Step,
        ["service", _] => Frame::Service,
        [word @ ("github" | "circleci" | "buildkite")] => Frame::Native((*word).to_string()),
        ["with"] => Frame::With,
        ["cache", _] => Frame::Cache,
        [word @ ("permissions" | "oidc" | "concurrency" | "checkout" | "trigger")] => {
            Frame::Setting((*word).to_string())
        }
        [form @ ("artifact" | "gate" | "job"), name, ..] => {
            Frame::Job((*form).to_string(), Some((*name).to_string()))
        }
        ["test", kind, rest @ ..] => {
            let name = match rest {
                [name, ..] if *name != "on" && *name != "from" => name,
                _ => kind,
            };
            Frame::Job("test".into(), Some((*name).to_string()))
        }
        ["deploy", artifact, "to", environment, rest @ ..] => {
            let name = match rest {
                ["as", name, ..] => (*name).to_string(),
                _ => job_name::deploy(artifact, environment),
            };
            Frame::Job("deploy".into(), Some(name))
        }
        // v2 i13e: a template's body takes what a job's does.
        ["template", name, ..] => Frame::Job("template".into(), Some((*name).to_string())),
        [form @ ("artifact" | "test" | "deploy" | "gate" | "job"), ..] => {
            Frame::Job((*form).to_string(), None)
        }
        _ => Frame::Other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn context(text_with_cursor: &str) -> Context {
        let cursor = text_with_cursor.find('|').unwrap();
        let text = text_with_cursor.replace('|', "");
        at(&text, cursor)
    }

    #[test]
    fn finds_the_enclosing_block_and_the_statement() {
        let c = context("pipeline p {\n  stage s {\n    job a {\n      run = \"x\"\n      ti|");
        assert_eq!(c.frame, Frame::Job("job".into(), Some("a".into())));
        assert_eq!(c.seen, ["run"]);
        assert_eq!(c.prefix, "ti");
        assert!(c.statement.is_empty());
    }

    #[test]
    fn knows_lists_and_values() {
        let c = context("pipeline p { stage s { job a { after = [lint, |");
        assert_eq!(c.list_of(), Some("after"));
        let c = context("pipeline p { environment e { requires tests [|");
        assert_eq!(c.list_of(), Some("tests"));
        let c = context("pipeline p { stage s { job a { when = event == |");
        assert_eq!(c.value_of(), Some("when"));
        let c = context("pipeline p { stage s {\n test smoke on |");
        assert_eq!(c.words(), Some(vec!["test", "smoke", "on"]));
    }

    #[test]
    fn ignores_braces_in_strings_and_comments() {
        let c = context("pipeline p { // {\n stage s { job a { run = \"}\"; |");
        assert_eq!(c.frame, Frame::Job("job".into(), Some("a".into())));
        let c = context("pipeline p { stage s { job a { run = \"ab|");
        assert!(c.in_literal);
    }

    #[test]
    fn non_ascii_outside_strings_does_not_stop_the_reading() {
        // Pasted smart quotes, a typo in a name, a no-break space, a byte order mark.
        for text in [
            "pipeline p { stage s { job a { run = \u{201c}info\u{201d}\n      ti|",
            "pipeline p { stage s { job caf\u{e9} { run = \"x\"\n      ti|",
            "pipeline p {\u{a0}stage s { job a {\u{a0}ti|",
            "\u{feff}pipeline p { stage s { job a { ti|",
            "pipeline p { stage s { job a { run = \"x\" } \u{1f680} job b { ti|",
        ] {
            let c = context(text);
            assert_eq!(c.prefix, "ti", "{text:?}");
            assert!(matches!(c.frame, Frame::Job(..)), "{text:?}: {:?}", c.frame);
            assert_eq!(c.stage.as_deref(), Some("s"), "{text:?}");
        }
    }

    #[test]
    fn reports_blocks_are_their_own_frame_and_half_typed_ones_never_panic() {
        let c = context("pipeline p { stage s { test unit { reports { junit = [\"a.xml\"]\n co|");
        assert_eq!(c.frame, Frame::Reports);
        assert_eq!(c.seen, ["junit"]);
        assert_eq!(c.prefix, "co");
        let text = "pipeline p { stage s { test unit { reports { junit = [\"a\", \"b/*.xml\"] coverage_regex = \"^T.*\\\\s(\\\\d+)%$ /\" } keep = [\"x/**\"] retention = 14d } } }";
        for cursor in 0..=text.len() {
            at(text, cursor);
        }
    }

    #[test]
    fn cache_blocks_are_their_own_frame_and_half_typed_ones_never_panic() {
        let c =
            context("pipeline p { stage s { job a { cache cargo { key = [\"Cargo.lock\"]\n pa|");
        assert_eq!(c.frame, Frame::Cache);
        assert_eq!(c.seen, ["key"]);
        assert_eq!(c.prefix, "pa");
        let text = "template t { cache c { paths = [\"a\"] } }\npipeline p { stage s { job a from t { run = \"x\" cache cargo { key = [\"C'$\\\"{{x}}\", \"*.lock\"] paths = [\"t\"] policy = pull } cache x { } } } }";
        for cursor in 0..=text.len() {
            at(text, cursor);
        }
        for cursor in 0..=text.len() {
            if text.is_char_boundary(cursor) {
                let _ = crate::compile::compile_text("p.cdl", None, text[..cursor].to_string());
            }
        }
    }

    #[test]
    fn reading_any_prefix_of_hostile_text_never_panics() {
        let text = "\u{feff}pipeline p { // \u{e9}\n stage s { job caf\u{e9} { run = \u{201c}x\u{201d}; when = branch == \"\u{1f680}\\\u{e9}\" && !x /* \u{1f680} */ }\u{a0}}}";
        for cursor in 0..=text.len() {
            at(text, cursor);
        }
    }
}
