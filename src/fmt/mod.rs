//! `cdl fmt`: prints a parsed file back in the one canonical layout, keeping every comment.
//!
//! The layout: two spaces per level; one item per line in a block, `=` aligned across a run of
//! attributes; at most one blank line in a row, none after `{` or before `}`. A block written
//! on one line stays on one line (`{ a = 1; b = 2 }`) when it holds no comment and fits in
//! [`WIDTH`] columns; otherwise it is expanded. A list too long for its line is wrapped, one
//! element per line with a trailing comma. Values keep their spelling (escapes, durations).
//!
//! The grammar's comments are silent, so comments are found in the source text (`comments`)
//! and placed by position: on the line of the token before them (trailing), or on lines of
//! their own before the next item. Invariant: every comment of the input is printed once. An
//! item with a comment in a place the layout has no slot for (inside a header, say) is printed
//! exactly as written, so nothing is ever lost; formatting is idempotent either way.

mod comments;
mod expr;
mod items;

use crate::codes::Code;
use crate::diagnostic::Diagnostic;
use crate::span::FileId;
use crate::syntax;
use comments::{Comment, CommentKind, GapLine};
use items::Item;

/// The line width the layout aims at, in characters.
pub const WIDTH: usize = 100;
const INDENT: &str = "  ";

/// Formats one file. A file that does not parse is returned as its syntax error: it is never
/// rewritten. Other problems (an unknown job, a bad escape) do not stop formatting.
pub fn format(file: FileId, text: &str) -> Result<String, Box<Diagnostic>> {
    let parsed = syntax::parse(file, text);
    let Some(tree) = parsed.file else {
        let error = parsed
            .diagnostics
            .into_iter()
            .next()
            .expect("a failed parse reports why");
        return Err(Box::new(error));
    };
    // A misplaced declaration or another system's block is not in the tree, and a
    // `build:linux` name is in it respelt: printing the tree would drop or rename what the
    // user wrote.
    if let Some(error) = parsed.diagnostics.into_iter().find(|d| {
        matches!(
            d.code,
            Code::Misplaced | Code::InvalidName | Code::UnknownAttribute
        )
    }) {
        return Err(Box::new(error));
    }
    let mut formatter = Formatter {
        text,
        comments: comments::scan(text),
        out: String::with_capacity(text.len() + text.len() / 8),
        consumed: 0,
    };
    let items: Vec<Item> = tree.items.iter().map(Item::top).collect();
    formatter.file(&items);
    debug_assert_eq!(
        formatter.consumed,
        formatter.comments.len(),
        "every comment is printed"
    );
    Ok(formatter.out)
}

struct Formatter<'a> {
    text: &'a str,
    comments: Vec<Comment>,
    out: String,
    /// How many comments have been printed so far.
    consumed: usize,
}

impl Formatter<'_> {
    fn file(&mut self, items: &[Item]) {
        let mut from = 0;
        for k in 0..=items.len() {
            let to = items.get(k).map_or(self.text.len(), Item::start);
            let gap = comments::gap(self.text, &self.comments, from, to, k > 0);
            self.trailing(&gap.trailing);
            if k > 0 {
                self.out.push('\n');
            }
            self.gap_lines(&gap.lines, 0, k == 0, k == items.len());
            if let Some(item) = items.get(k) {
                self.item(item, 0, 0);
                from = item.end();
            }
        }
    }

    fn indent(&mut self, level: usize) {
        for _ in 0..level {
            self.out.push_str(INDENT);
        }
    }

    /// A comment as printed: line comments lose trailing white space, and a doc comment
    /// gets its one space after `///` (which the doc text does not include anyway).
    fn comment_text(&self, index: usize) -> String {
        let comment = &self.comments[index];
        let raw = &self.text[comment.span.clone()];
        match comment.kind {
            CommentKind::Doc => {
                let body = raw[3..].trim_end();
                if body.is_empty() || body.starts_with([' ', '\t']) {
                    format!("///{body}")
                } else {
                    format!("/// {body}")
                }
            }
            CommentKind::Line => raw.trim_end().to_string(),
            CommentKind::Block => raw.to_string(),
        }
    }

    /// Comments that stay on the line of the token before them.
    fn trailing(&mut self, indices: &[usize]) {
        for &index in indices {
            self.out.push(' ');
            let text = self.comment_text(index);
            self.out.push_str(&text);
            self.consumed += 1;
        }
    }

    /// The comment lines and blank lines of a gap, each ended. A blank line is dropped at the
    /// start of a block (`at_start`) and at its end (`at_end`).
    fn gap_lines(&mut self, lines: &[GapLine], level: usize, at_start: bool, at_end: bool) {
        let mut after_content = !at_start;
        for (k, line) in lines.iter().enumerate() {
            match line {
                GapLine::Blank => {
                    let content_follows = !at_end
                        || lines[k + 1..]
                            .iter()
                            .any(|l| matches!(l, GapLine::Comments(_)));
                    if after_content && content_follows {
                        self.out.push('\n');
                    }
                }
                GapLine::Comments(indices) => {
                    self.indent(level);
                    let texts: Vec<String> =
                        indices.iter().map(|i| self.comment_text(*i)).collect();
                    self.out.push_str(&texts.join(" "));
                    self.out.push('\n');
                    self.consumed += indices.len();
                    after_content = true;
                }
            }
        }
    }

    /// Prints an item, or, when the layout would lose one of its comments, its source text.
    /// The indentation of its first line is already written; `width` aligns an attribute's `=`.
    fn item(&mut self, item: &Item, level: usize, width: usize) {
        let (start, end) = (item.start(), item.end());
        let mark = self.out.len();
        let before = self.consumed;
        self.item_layout(item, level, width);
        let inside = comments::count_in(&self.comments, start, end);
        if self.consumed - before != inside {
            self.out.truncate(mark);
            self.out.push_str(&self.text[start..end]);
            self.consumed = before + inside;
        }
    }

    fn comments_in(&self, start: usize, end: usize) -> usize {
        comments::count_in(&self.comments, start, end)
    }
}

/// The width of `text` as shown, in characters.
fn width(text: &str) -> usize {
    text.chars().count()
}

#[cfg(test)]
mod tests;
