//! Where the cursor stands, read from the text before it with a small lexer (not the parser:
//! the text being typed rarely parses). Completion decides what to offer from this.

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
    pub fn value_of(&self) -> Option<&str> {
        match self.statement.as_slice() {
            [Token::Word(name), Token::Punct('='), ..] => Some(name),
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

fn is_word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '-'
}

struct FrameState {
    frame: Frame,
    seen: Vec<String>,
}

/// Reads `text[..cursor]`.
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
    }];
    let mut statement: Vec<Token> = Vec::new();
    let mut depth = 0usize;
    let mut in_literal = false;
    let bytes = lexed.as_bytes();
    let mut at = 0;
    while at < bytes.len() {
        let c = bytes[at];
        let rest = &lexed[at..];
        if c == b'\n' {
            let continues = matches!(
                statement.last(),
                Some(Token::Operator(_) | Token::Punct('=') | Token::Punct(','))
            );
            if depth == 0 && !continues {
                statement.clear();
            }
            at += 1;
        } else if c.is_ascii_whitespace() {
            at += 1;
        } else if rest.starts_with("//") {
            match rest.find('\n') {
                Some(n) => at += n,
                None => {
                    in_literal = true;
                    at = bytes.len();
                }
            }
        } else if rest.starts_with("/*") {
            match rest.find("*/") {
                Some(n) => at += n + 2,
                None => {
                    in_literal = true;
                    at = bytes.len();
                }
            }
        } else if let Some(inner) = rest.strip_prefix("\"\"\"") {
            match inner.find("\"\"\"") {
                Some(n) => at += 3 + n + 3,
                None => {
                    in_literal = true;
                    at = bytes.len();
                }
            }
            statement.push(Token::Literal);
        } else if c == b'"' {
            let mut end = at + 1;
            let mut closed = false;
            while end < bytes.len() {
                match bytes[end] {
                    b'\\' => end += 2,
                    b'"' => {
                        closed = true;
                        end += 1;
                        break;
                    }
                    b'\n' => break,
                    _ => end += 1,
                }
            }
            if !closed && end >= bytes.len() {
                in_literal = true;
            }
            at = end.min(bytes.len());
            statement.push(Token::Literal);
        } else if is_word_char(c as char) {
            let len = rest
                .find(|ch: char| !is_word_char(ch))
                .unwrap_or(rest.len());
            let word = &rest[..len];
            if word.starts_with(|ch: char| ch.is_ascii_digit()) {
                statement.push(Token::Literal);
            } else {
                statement.push(Token::Word(word.to_string()));
            }
            at += len;
        } else {
            let two = rest.get(..2).unwrap_or("");
            let operator = match two {
                "==" => Some("=="),
                "!=" => Some("!="),
                "&&" => Some("&&"),
                "||" => Some("||"),
                _ => None,
            };
            if let Some(op) = operator {
                statement.push(Token::Operator(op));
                at += 2;
                continue;
            }
            at += 1;
            match c {
                b'{' => {
                    let frame = classify(&statement);
                    stack.push(FrameState {
                        frame,
                        seen: Vec::new(),
                    });
                    statement.clear();
                    depth = 0;
                }
                b'}' => {
                    if stack.len() > 1 {
                        stack.pop();
                    }
                    statement.clear();
                    depth = 0;
                }
                b';' if depth == 0 => statement.clear(),
                b'[' | b'(' => {
                    depth += 1;
                    statement.push(Token::Punct(c as char));
                }
                b']' | b')' => {
                    depth = depth.saturating_sub(1);
                    statement.push(Token::Punct(c as char));
                }
                b'=' => {
                    if let [Token::Word(name)] = statement.as_slice() {
                        let top = stack.last_mut().expect("the file frame stays");
                        top.seen.push(name.clone());
                    }
                    statement.push(Token::Punct('='));
                }
                b'!' => statement.push(Token::Operator("!")),
                other => statement.push(Token::Punct(other as char)),
            }
        }
    }
    let top = stack.pop().expect("the file frame stays");
    Context {
        frame: top.frame,
        seen: top.seen,
        statement,
        prefix,
        in_literal,
    }
}

/// The block a header opens: `stage build {` opens a stage.
fn classify(header: &[Token]) -> Frame {
    let words: Vec<&str> = header
        .iter()
        .filter_map(|t| match t {
            Token::Word(w) => Some(w.as_str()),
            _ => None,
        })
        .collect();
    match words.as_slice() {
        ["pipeline", ..] => Frame::Pipeline,
        ["kind", ..] => Frame::Kind,
        ["on", event, ..] => Frame::Trigger((*event).to_string()),
        ["env"] => Frame::Env,
        ["environment", ..] => Frame::Environment,
        ["stage", ..] => Frame::Stage,
        ["matrix"] => Frame::Matrix,
        [form @ ("artifact" | "gate" | "job"), name, ..] => {
            Frame::Job((*form).to_string(), Some((*name).to_string()))
        }
        ["test", kind, rest @ ..] => {
            let name = match rest {
                [name, ..] if *name != "on" => name,
                _ => kind,
            };
            Frame::Job("test".into(), Some((*name).to_string()))
        }
        ["deploy", artifact, "to", environment, rest @ ..] => {
            let name = match rest {
                ["as", name, ..] => (*name).to_string(),
                _ => format!("deploy_{artifact}_{environment}"),
            };
            Frame::Job("deploy".into(), Some(name))
        }
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
}
