//! The table of loaded source files, and byte offset ↔ line/column conversion.

use crate::span::{FileId, Span};

/// One loaded file: its display name (as the user wrote it, or `std/…`) and text.
#[derive(Debug, Clone)]
pub struct SourceFile {
    pub name: String,
    pub path: Option<std::path::PathBuf>,
    pub text: String,
    line_starts: Vec<usize>,
}

/// A 1-based line and column; the column counts characters (what editors and rustc show).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineColumn {
    pub line: usize,
    pub column: usize,
}

impl SourceFile {
    pub fn new(name: impl Into<String>, path: Option<std::path::PathBuf>, text: String) -> Self {
        let mut line_starts = vec![0];
        line_starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        SourceFile {
            name: name.into(),
            path,
            text,
            line_starts,
        }
    }

    /// 0-based line index of a byte offset.
    pub fn line_index(&self, offset: usize) -> usize {
        match self.line_starts.binary_search(&offset) {
            Ok(line) => line,
            Err(next) => next - 1,
        }
    }

    pub fn line_start(&self, line: usize) -> usize {
        self.line_starts[line]
    }

    pub fn line_count(&self) -> usize {
        self.line_starts.len()
    }

    /// 1-based line and character column of a byte offset (clamped to the text).
    pub fn line_column(&self, offset: usize) -> LineColumn {
        let offset = self.floor_char_boundary(offset.min(self.text.len()));
        let line = self.line_index(offset);
        let start = self.line_starts[line];
        LineColumn {
            line: line + 1,
            column: self.text[start..offset].chars().count() + 1,
        }
    }

    fn floor_char_boundary(&self, mut offset: usize) -> usize {
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        offset
    }

    pub fn slice(&self, span: Span) -> &str {
        self.text.get(span.range()).unwrap_or("")
    }
}

/// Every file of one compilation, indexed by [`FileId`].
#[derive(Debug, Clone, Default)]
pub struct Sources {
    files: Vec<SourceFile>,
}

impl Sources {
    pub fn add(&mut self, file: SourceFile) -> FileId {
        self.files.push(file);
        FileId(self.files.len() as u32 - 1)
    }

    pub fn get(&self, id: FileId) -> &SourceFile {
        &self.files[id.0 as usize]
    }

    pub fn iter(&self) -> impl Iterator<Item = (FileId, &SourceFile)> {
        self.files
            .iter()
            .enumerate()
            .map(|(i, f)| (FileId(i as u32), f))
    }

    pub fn find_path(&self, path: &std::path::Path) -> Option<FileId> {
        self.iter()
            .find(|(_, f)| f.path.as_deref() == Some(path))
            .map(|(id, _)| id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_columns_count_characters() {
        let file = SourceFile::new("t", None, "ab\né x\n".to_string());
        assert_eq!(file.line_column(0), LineColumn { line: 1, column: 1 });
        assert_eq!(file.line_column(3), LineColumn { line: 2, column: 1 });
        // 'x' is after a 2-byte 'é' and a space: byte 6, character column 3.
        assert_eq!(file.line_column(6), LineColumn { line: 2, column: 3 });
        assert_eq!(file.line_column(100), LineColumn { line: 3, column: 1 });
    }
}
