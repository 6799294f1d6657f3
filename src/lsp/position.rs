//! Byte offsets ↔ LSP positions (UTF-16 code units, as the protocol requires), and file
//! paths ↔ `file:` URIs.

use std::path::{Path, PathBuf};

use line_index::{LineCol, LineIndex, TextSize, WideEncoding, WideLineCol};
use lsp_types::{Position, Range, Uri};

/// A text with its line index.
pub struct Lines {
    index: LineIndex,
    len: usize,
}

impl Lines {
    pub fn new(text: &str) -> Lines {
        Lines {
            index: LineIndex::new(text),
            len: text.len(),
        }
    }

    pub fn position(&self, offset: usize) -> Position {
        let mut offset = offset.min(self.len) as u32;
        let line_col = loop {
            // An offset inside a multi-byte character moves to the character's start.
            match self.index.try_line_col(TextSize::new(offset)) {
                Some(line_col) => break line_col,
                None => offset -= 1,
            }
        };
        let wide = self
            .index
            .to_wide(WideEncoding::Utf16, line_col)
            .unwrap_or(WideLineCol {
                line: line_col.line,
                col: line_col.col,
            });
        Position::new(wide.line, wide.col)
    }

    pub fn range(&self, start: usize, end: usize) -> Range {
        Range::new(self.position(start), self.position(end))
    }

    /// The byte offset of a position, always on a character boundary; a position past the end
    /// of its line (or of the text) is clamped to that end, one inside a character to its start.
    pub fn offset(&self, position: Position) -> usize {
        let wide = WideLineCol {
            line: position.line,
            col: position.character,
        };
        let Some(line) = self.index.line(position.line) else {
            return self.len;
        };
        // The line's range includes its line break, except on the last line.
        let mut line_len = u32::from(line.len());
        if self.index.line(position.line + 1).is_some() {
            line_len -= 1;
        }
        let line_col = self
            .index
            .to_utf8(WideEncoding::Utf16, wide)
            .unwrap_or(LineCol {
                line: position.line,
                col: line_len,
            });
        let col = line_col.col.min(line_len);
        let offset = self.index.offset(LineCol {
            line: line_col.line,
            col,
        });
        let mut offset = offset.map_or(self.len as u32, |o| u32::from(o).min(self.len as u32));
        // A position inside a surrogate pair (the middle of a 4-byte character) moves to the
        // character's start, as rust-analyzer does: edits there stay on character boundaries.
        while offset > 0 && self.index.try_line_col(TextSize::new(offset)).is_none() {
            offset -= 1;
        }
        offset as usize
    }
}

/// The path of a `file:` URI, percent-decoded.
pub fn uri_to_path(uri: &Uri) -> Option<PathBuf> {
    let rest = uri.as_str().strip_prefix("file://")?;
    let rest = rest.strip_prefix("localhost").unwrap_or(rest);
    let bytes = rest.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut at = 0;
    while at < bytes.len() {
        if bytes[at] == b'%'
            && let Some(byte) = rest
                .get(at + 1..at + 3)
                .and_then(|hex| u8::from_str_radix(hex, 16).ok())
        {
            decoded.push(byte);
            at += 3;
            continue;
        }
        decoded.push(bytes[at]);
        at += 1;
    }
    let path = String::from_utf8(decoded).ok()?;
    Some(PathBuf::from(path))
}

/// The `file:` URI of an absolute path.
pub fn path_to_uri(path: &Path) -> Uri {
    let mut uri = String::from("file://");
    for byte in path.to_string_lossy().bytes() {
        if byte.is_ascii_alphanumeric() || b"/-_.~".contains(&byte) {
            uri.push(byte as char);
        } else {
            uri.push_str(&format!("%{byte:02X}"));
        }
    }
    uri.parse().expect("a percent-encoded file URI is valid")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_count_utf16_code_units() {
        // `é` is 2 bytes and 1 UTF-16 unit; `𝄞` is 4 bytes and 2 units.
        let text = "ab\né𝄞x\n";
        let lines = Lines::new(text);
        let x = text.find('x').unwrap();
        assert_eq!(lines.position(x), Position::new(1, 3));
        assert_eq!(lines.offset(Position::new(1, 3)), x);
        assert_eq!(lines.offset(Position::new(1, 99)), text.len() - 1);
        assert_eq!(lines.offset(Position::new(9, 0)), text.len());
    }

    #[test]
    fn file_uris_round_trip() {
        let path = Path::new("/tmp/a dir/é.cdl");
        let uri = path_to_uri(path);
        assert_eq!(uri.as_str(), "file:///tmp/a%20dir/%C3%A9.cdl");
        assert_eq!(uri_to_path(&uri).unwrap(), path);
    }

    #[test]
    fn a_position_inside_a_surrogate_pair_moves_to_the_character_start() {
        // `🚀` is 4 bytes and 2 UTF-16 units; column 5 is between its two units.
        let text = "run \u{1f680}\u{1f680}x\n";
        let lines = Lines::new(text);
        assert_eq!(lines.offset(Position::new(0, 5)), 4);
        assert_eq!(lines.offset(Position::new(0, 7)), 8);
        assert_eq!(lines.offset(Position::new(0, 8)), 12);
        for character in 0..12 {
            let offset = lines.offset(Position::new(0, character));
            assert!(text.is_char_boundary(offset), "column {character}");
        }
    }
}
