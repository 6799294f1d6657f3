//! One analysis of a document: its compilation (with imports), its names, and the line
//! index of every file involved, for turning spans into LSP ranges.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::OnceLock;

use lsp_types::{Location, Position, Range, Uri};

use super::names::Names;
use super::position::{Lines, path_to_uri, uri_to_path};
use crate::compile::{Compilation, STDLIB, compile_text};
use crate::span::{FileId, Span};

pub struct Analysis {
    pub uri: Uri,
    pub compilation: Compilation,
    pub names: Names,
    lines: HashMap<FileId, Lines>,
}

impl Analysis {
    pub fn new(uri: &Uri, text: &str) -> Analysis {
        let path = uri_to_path(uri).map(|p| p.canonicalize().unwrap_or(p));
        let name = path
            .as_ref()
            .map_or_else(|| uri.as_str().to_string(), |p| p.display().to_string());
        let compilation = compile_text(&name, path, text.to_string());
        let names = Names::build(&compilation);
        let lines = compilation
            .sources
            .iter()
            .map(|(id, file)| (id, Lines::new(&file.text)))
            .collect();
        Analysis {
            uri: uri.clone(),
            compilation,
            names,
            lines,
        }
    }

    pub fn root(&self) -> FileId {
        self.compilation.root
    }

    /// Whether the document itself parsed (its syntax tree is there).
    pub fn parsed(&self) -> bool {
        self.compilation.root_file().is_some()
    }

    pub fn text(&self) -> &str {
        &self.compilation.sources.get(self.root()).text
    }

    pub fn lines(&self, file: FileId) -> &Lines {
        &self.lines[&file]
    }

    pub fn offset(&self, position: Position) -> usize {
        self.lines(self.root()).offset(position)
    }

    pub fn range(&self, span: Span) -> Range {
        self.lines(span.file)
            .range(span.start as usize, span.end as usize)
    }

    /// The URI of a file of the compilation: the document's own, an imported file's, or the
    /// copy of a standard library module written to the temporary folder.
    pub fn uri(&self, file: FileId) -> Option<Uri> {
        if file == self.root() {
            return Some(self.uri.clone());
        }
        let source = self.compilation.sources.get(file);
        match &source.path {
            Some(path) => Some(path_to_uri(path)),
            None => stdlib_path(&source.name).map(|p| path_to_uri(&p)),
        }
    }

    pub fn location(&self, span: Span) -> Option<Location> {
        Some(Location::new(self.uri(span.file)?, self.range(span)))
    }

    /// The path of a file of the compilation on disk, when it has one.
    pub fn path(&self, file: FileId) -> Option<PathBuf> {
        let source = self.compilation.sources.get(file);
        source.path.clone().or_else(|| stdlib_path(&source.name))
    }
}

/// Where `std/NAME.cdl` is written so that an editor can open it (once per process).
fn stdlib_path(name: &str) -> Option<PathBuf> {
    static FOLDER: OnceLock<Option<PathBuf>> = OnceLock::new();
    let module = name.strip_prefix("std/")?.strip_suffix(".cdl")?;
    let text = STDLIB.iter().find(|(n, _)| *n == module)?.1;
    let folder = FOLDER.get_or_init(|| {
        let folder = std::env::temp_dir().join(format!("cdl-{}-std", env!("CARGO_PKG_VERSION")));
        std::fs::create_dir_all(&folder).ok()?;
        Some(folder)
    });
    let path = folder.as_ref()?.join(format!("{module}.cdl"));
    if std::fs::read_to_string(&path).ok().as_deref() != Some(text) {
        std::fs::write(&path, text).ok()?;
    }
    Some(path)
}
