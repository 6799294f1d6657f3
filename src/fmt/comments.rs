//! Finds the comments of a source text (the grammar skips them as white space, so the AST has
//! none) and reads the trivia between two tokens: comments, and where the blank lines are.
//!
//! The comments are the syntax's lexer's (`syntax::lexer`): strings hide what looks like a
//! comment, `/* … */` nests, and `///` (exactly three slashes) is a doc comment.

use std::ops::Range;

use crate::syntax::lexer::{self, TokenKind};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommentKind {
    /// `// …` (also `////…`).
    Line,
    /// `/// …`
    Doc,
    /// `/* … */`, possibly over several lines.
    Block,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comment {
    pub kind: CommentKind,
    /// Byte range; a line comment ends before its line break.
    pub span: Range<usize>,
}

/// Every comment of `text`, in source order.
pub fn scan(text: &str) -> Vec<Comment> {
    lexer::tokens(text)
        .into_iter()
        .filter_map(|token| {
            let kind = match token.kind {
                TokenKind::LineComment => CommentKind::Line,
                TokenKind::DocComment => CommentKind::Doc,
                TokenKind::BlockComment { .. } => CommentKind::Block,
                _ => return None,
            };
            Some(Comment {
                kind,
                span: token.span,
            })
        })
        .collect()
}

/// The trivia between two tokens.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Gap {
    /// Comments on the line of the token before the gap (indices into the comment list).
    pub trailing: Vec<usize>,
    /// What stands on the lines after it, before the next token.
    pub lines: Vec<GapLine>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GapLine {
    /// One or more blank lines, kept as one.
    Blank,
    /// Comments sharing a line.
    Comments(Vec<usize>),
}

impl Gap {
    pub fn has_blank(&self) -> bool {
        self.lines.contains(&GapLine::Blank)
    }
}

/// Reads `text[from..to]`, which holds only white space, punctuation and comments.
/// `after_token` is false at the start of the file, where nothing can trail.
pub fn gap(text: &str, comments: &[Comment], from: usize, to: usize, after_token: bool) -> Gap {
    let mut gap = Gap::default();
    let first = comments.partition_point(|c| c.span.start < from);
    let mut at = from;
    let mut on_token_line = after_token;
    for (index, comment) in comments.iter().enumerate().skip(first) {
        if comment.span.start >= to {
            break;
        }
        let breaks = line_breaks(&text[at..comment.span.start]);
        if breaks == 0 && on_token_line {
            gap.trailing.push(index);
        } else if breaks == 0 && matches!(gap.lines.last(), Some(GapLine::Comments(_))) {
            if let Some(GapLine::Comments(line)) = gap.lines.last_mut() {
                line.push(index);
            }
        } else {
            if breaks >= 2 {
                gap.lines.push(GapLine::Blank);
            }
            gap.lines.push(GapLine::Comments(vec![index]));
        }
        on_token_line = on_token_line && breaks == 0;
        at = comment.span.end;
    }
    if line_breaks(&text[at..to]) >= 2 {
        gap.lines.push(GapLine::Blank);
    }
    gap
}

fn line_breaks(text: &str) -> usize {
    text.bytes().filter(|b| *b == b'\n').count()
}

/// How many comments start in `from..to`.
pub fn count_in(comments: &[Comment], from: usize, to: usize) -> usize {
    let first = comments.partition_point(|c| c.span.start < from);
    let last = comments.partition_point(|c| c.span.start < to);
    last.saturating_sub(first)
}

/// The first byte at or after `at` that is neither white space nor inside a comment.
pub fn next_token(text: &str, comments: &[Comment], mut at: usize) -> usize {
    let bytes = text.as_bytes();
    loop {
        while at < bytes.len() && bytes[at].is_ascii_whitespace() {
            at += 1;
        }
        let index = comments.partition_point(|c| c.span.start < at);
        match comments.get(index).filter(|c| c.span.start == at) {
            Some(comment) => at = comment.span.end,
            None => return at,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_hide_comment_markers() {
        let text = "a = \"// no\" // yes\nb = \"\"\"\n/* no */\"\"\" /* a /* nested */ one */";
        let found: Vec<&str> = scan(text).iter().map(|c| &text[c.span.clone()]).collect();
        assert_eq!(found, ["// yes", "/* a /* nested */ one */"]);
    }

    #[test]
    fn three_slashes_make_a_doc_comment() {
        let kinds: Vec<CommentKind> = scan("/// doc\n//// line\n// line")
            .iter()
            .map(|c| c.kind)
            .collect();
        assert_eq!(
            kinds,
            [CommentKind::Doc, CommentKind::Line, CommentKind::Line]
        );
    }

    #[test]
    fn gaps_tell_trailing_comments_from_comment_lines() {
        let text = "x // t\n\n// a\n/* b */ /* c */\n\ny";
        let comments = scan(text);
        let gap = gap(text, &comments, 1, text.len() - 1, true);
        assert_eq!(gap.trailing, [0]);
        assert_eq!(
            gap.lines,
            [
                GapLine::Blank,
                GapLine::Comments(vec![1]),
                GapLine::Comments(vec![2, 3]),
                GapLine::Blank
            ]
        );
    }
}
