//! The grammar's lexical rules, once: a lossless token stream of a text (white space and
//! comments included), read by the limits pass, the formatter's comment recovery and the LSP's
//! context analysis. Invariant: the tokens cover the text with no gap or overlap, each on
//! character boundaries, whatever the text (unclosed strings and comments run to their end).

use std::ops::Range;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    /// Spaces, tabs, line breaks and the byte order mark (the grammar's `WHITESPACE`).
    Whitespace,
    /// `// …` (also `////…`), up to its line break.
    LineComment,
    /// `/// …` (exactly three slashes), up to its line break.
    DocComment,
    /// `/* … */`, nested; `closed` is false when the text ends inside it.
    BlockComment { closed: bool },
    /// `"…"` with `\` escapes; an unclosed one ends before its line break.
    String { closed: bool },
    /// `"""…"""` with `\` escapes.
    TripleString { closed: bool },
    /// A run of identifier characters (`A-Za-z0-9_-`): a name, keyword, number or duration.
    Word,
    /// `==`, `!=`, `&&` or `||`.
    Operator,
    /// Any other single character (`{`, `=`, `!`, `:` …, or a stray non-ASCII one).
    Punct(char),
}

impl TokenKind {
    pub fn is_comment(self) -> bool {
        matches!(
            self,
            TokenKind::LineComment | TokenKind::DocComment | TokenKind::BlockComment { .. }
        )
    }

    /// A string or comment the text ends inside of.
    pub fn is_unclosed(self) -> bool {
        matches!(
            self,
            TokenKind::BlockComment { closed: false }
                | TokenKind::String { closed: false }
                | TokenKind::TripleString { closed: false }
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    pub kind: TokenKind,
    /// Byte range into the text.
    pub span: Range<usize>,
}

/// A character of an identifier (the grammar's `ident_char`).
pub fn is_word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '-'
}

fn is_whitespace(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n' | '\u{FEFF}')
}

/// Every token of `text`, in order.
pub fn tokens(text: &str) -> Vec<Token> {
    let mut out = Vec::new();
    let mut at = 0;
    while at < text.len() {
        let (kind, len) = next(&text[at..]);
        out.push(Token {
            kind,
            span: at..at + len,
        });
        at += len;
    }
    out
}

/// The token at the start of a non-empty `rest`, and its length in bytes (never 0).
fn next(rest: &str) -> (TokenKind, usize) {
    let first = rest.chars().next().expect("rest is not empty");
    if is_whitespace(first) {
        let len = rest.find(|c| !is_whitespace(c)).unwrap_or(rest.len());
        return (TokenKind::Whitespace, len);
    }
    if is_word_char(first) {
        let len = rest.find(|c| !is_word_char(c)).unwrap_or(rest.len());
        return (TokenKind::Word, len);
    }
    if rest.starts_with("//") {
        let len = rest.find('\n').unwrap_or(rest.len());
        let doc = rest.starts_with("///") && !rest.starts_with("////");
        let kind = if doc {
            TokenKind::DocComment
        } else {
            TokenKind::LineComment
        };
        return (kind, len);
    }
    if rest.starts_with("/*") {
        let (len, closed) = block_comment(rest);
        return (TokenKind::BlockComment { closed }, len);
    }
    if let Some(inner) = rest.strip_prefix("\"\"\"") {
        let (len, closed) = string_body(inner, "\"\"\"", false);
        return (TokenKind::TripleString { closed }, 3 + len);
    }
    if let Some(inner) = rest.strip_prefix('"') {
        let (len, closed) = string_body(inner, "\"", true);
        return (TokenKind::String { closed }, 1 + len);
    }
    for operator in ["==", "!=", "&&", "||"] {
        if rest.starts_with(operator) {
            return (TokenKind::Operator, 2);
        }
    }
    (TokenKind::Punct(first), first.len_utf8())
}

/// The length of a string's body and closing quote(s), `\` escaping any one character (a line
/// break too, as in the grammar).
fn string_body(inner: &str, close: &str, stops_at_newline: bool) -> (usize, bool) {
    let mut chars = inner.char_indices();
    while let Some((at, c)) = chars.next() {
        if inner[at..].starts_with(close) {
            return (at + close.len(), true);
        }
        match c {
            '\\' => {
                chars.next();
            }
            '\n' if stops_at_newline => return (at, false),
            _ => {}
        }
    }
    (inner.len(), false)
}

/// The length of a nested block comment at the start of `rest`, and whether it is closed.
fn block_comment(rest: &str) -> (usize, bool) {
    let bytes = rest.as_bytes();
    let mut depth = 0usize;
    let mut at = 0;
    while at < bytes.len() {
        if bytes[at..].starts_with(b"/*") {
            depth += 1;
            at += 2;
        } else if bytes[at..].starts_with(b"*/") {
            depth -= 1;
            at += 2;
            if depth == 0 {
                return (at, true);
            }
        } else {
            at += 1;
        }
    }
    (rest.len(), false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn kinds(text: &str) -> Vec<(TokenKind, &str)> {
        tokens(text)
            .into_iter()
            .map(|t| (t.kind, &text[t.span]))
            .collect()
    }

    #[test]
    fn strings_hide_comment_markers_and_comments_hide_quotes() {
        let text = "a = \"// no\" // \"yes\"\nb = \"\"\"/* no */\"\"\" /* a /* nested */ \" */";
        let found: Vec<&str> = kinds(text)
            .into_iter()
            .filter(|(k, _)| k.is_comment() || matches!(k, TokenKind::String { .. }))
            .map(|(_, s)| s)
            .collect();
        assert_eq!(
            found,
            ["\"// no\"", "// \"yes\"", "/* a /* nested */ \" */"]
        );
    }

    #[test]
    fn three_slashes_make_a_doc_comment_four_a_line_comment() {
        let found: Vec<TokenKind> = kinds("/// d\n//// l\n// l\n///")
            .into_iter()
            .map(|(k, _)| k)
            .filter(|k| *k != TokenKind::Whitespace)
            .collect();
        assert_eq!(
            found,
            [
                TokenKind::DocComment,
                TokenKind::LineComment,
                TokenKind::LineComment,
                TokenKind::DocComment
            ]
        );
    }

    #[test]
    fn unclosed_strings_and_comments_are_marked() {
        assert_eq!(
            kinds("x = \"ab\ny")[4],
            (TokenKind::String { closed: false }, "\"ab")
        );
        assert_eq!(
            kinds("\"a\\\"")[0],
            (TokenKind::String { closed: false }, "\"a\\\"")
        );
        assert_eq!(
            kinds("/* /* */")[0],
            (TokenKind::BlockComment { closed: false }, "/* /* */")
        );
        assert_eq!(
            kinds("\"\"\"a\\\"\"\"")[0],
            (TokenKind::TripleString { closed: false }, "\"\"\"a\\\"\"\"")
        );
    }

    #[test]
    fn non_ascii_outside_strings_is_one_token_per_character() {
        let text = "job caf\u{e9} { x = \u{201c}info\u{201d}\u{a0}}\u{feff}";
        let found = kinds(text);
        assert!(found.contains(&(TokenKind::Punct('\u{e9}'), "\u{e9}")));
        assert!(found.contains(&(TokenKind::Punct('\u{201c}'), "\u{201c}")));
        assert!(found.contains(&(TokenKind::Punct('\u{a0}'), "\u{a0}")));
        assert_eq!(found.last(), Some(&(TokenKind::Whitespace, "\u{feff}")));
    }

    fn assert_lossless(text: &str) {
        let tokens = tokens(text);
        let mut at = 0;
        for token in &tokens {
            assert_eq!(token.span.start, at, "tokens are contiguous in {text:?}");
            assert!(token.span.end > token.span.start, "no empty token");
            assert!(text.is_char_boundary(token.span.end));
            at = token.span.end;
        }
        assert_eq!(at, text.len());
        let joined: String = tokens.iter().map(|t| &text[t.span.clone()]).collect();
        assert_eq!(joined, text);
    }

    proptest! {
        #[test]
        fn any_text_is_covered_exactly_by_its_tokens(text in any::<String>()) {
            assert_lossless(&text);
        }

        #[test]
        fn random_bytes_read_as_text_are_covered(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            assert_lossless(&String::from_utf8_lossy(&bytes));
        }

        #[test]
        fn cdl_like_text_is_covered(text in "([ \\n\\t\"\\\\/*{}=!&|a-z0-9é€😀\u{feff}\u{a0}\u{201c}])*") {
            assert_lossless(&text);
        }
    }
}
