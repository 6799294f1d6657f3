//! One compilation: load the root file and its imports (the prelude first), parse them, and
//! check the root file's pipeline. Import cycles and unreadable imports are diagnostics.

use std::path::{Path, PathBuf};

use crate::check::{self, Checked};
use crate::codes::Code;
use crate::diagnostic::{Diagnostic, Sink};
use crate::source::{SourceFile, Sources};
use crate::span::{FileId, Span};
use crate::syntax::{self, ast};

/// The standard library, embedded in the binary: `import "std/NAME"`.
pub const STDLIB: &[(&str, &str)] = &[("prelude", include_str!("../stdlib/prelude.cdl"))];

pub struct Compilation {
    pub sources: Sources,
    pub root: FileId,
    /// Parsed files, each after the files it imports; the prelude first, the root last.
    pub files: Vec<(FileId, ast::File)>,
    /// `None` when a syntax error stopped the compilation before checking.
    pub checked: Option<Checked>,
    pub diagnostics: Vec<Diagnostic>,
}

impl Compilation {
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }

    /// Reports `E0106` when the checked root file declares no pipeline (for commands that
    /// need one: plan, run, export).
    pub fn require_pipeline(&mut self) {
        let missing = self.checked.as_ref().is_some_and(|c| c.pipeline.is_none());
        if missing {
            let span = Span::new(self.root, 0, 0);
            self.diagnostics.push(
                Diagnostic::new(Code::NoPipeline, span, "this file declares no pipeline")
                    .label("nothing to plan")
                    .help("a plan is made from a file with `pipeline NAME { … }`; a file of kinds is imported by one"),
            );
        }
    }

    pub fn root_file(&self) -> Option<&ast::File> {
        self.files
            .iter()
            .find(|(id, _)| *id == self.root)
            .map(|(_, f)| f)
    }
}

/// Compiles the file at `path`. A file that cannot be read is an `Err` with the OS reason.
pub fn compile_path(path: &Path) -> std::io::Result<Compilation> {
    let text = std::fs::read_to_string(path)?;
    let canonical = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
    Ok(compile_text(
        &path.display().to_string(),
        Some(canonical),
        text,
    ))
}

/// Compiles text held in memory (an editor buffer, a test); `path` resolves relative imports.
pub fn compile_text(name: &str, path: Option<PathBuf>, text: String) -> Compilation {
    let mut loader = Loader {
        sources: Sources::default(),
        files: Vec::new(),
        sink: Sink::default(),
        stack: Vec::new(),
    };
    let prelude = loader.add_std("prelude").expect("the prelude is embedded");
    loader.load(prelude);
    let root = loader.sources.add(SourceFile::new(name, path, text));
    loader.load(root);

    let mut sink = loader.sink;
    let files = loader.files;
    let syntax_failed = sink.has_errors() && files.iter().all(|(id, _)| *id != root)
        || sink.iter().any(|d| d.code == Code::Syntax);
    let checked = (!syntax_failed).then(|| {
        let pipeline = root_pipeline(&files, root, &mut sink);
        let asts: Vec<&ast::File> = files.iter().map(|(_, f)| f).collect();
        check::check(&asts, pipeline, &mut sink)
    });
    Compilation {
        sources: loader.sources,
        root,
        files,
        checked,
        diagnostics: sink.into_sorted(),
    }
}

/// The root file's pipeline; a second one anywhere is an error.
fn root_pipeline<'a>(
    files: &'a [(FileId, ast::File)],
    root: FileId,
    sink: &mut Sink,
) -> Option<&'a ast::Pipeline> {
    let pipelines = files.iter().flat_map(|(id, file)| {
        file.items.iter().filter_map(move |item| match item {
            ast::TopItem::Pipeline(p) => Some((*id, p)),
            _ => None,
        })
    });
    let mut first: Option<&ast::Pipeline> = None;
    let (root_ones, imported): (Vec<_>, Vec<_>) = pipelines.partition(|(id, _)| *id == root);
    for (_, pipeline) in root_ones.into_iter().chain(imported) {
        match first {
            None if pipeline.span.file == root => first = Some(pipeline),
            _ => {
                let diagnostic = Diagnostic::new(
                    Code::SecondPipeline,
                    pipeline.name.span,
                    format!("a second pipeline, `{}`", pipeline.name.name),
                )
                .label(if pipeline.span.file == root {
                    "second pipeline in this file"
                } else {
                    "imported files may declare kinds only"
                })
                .help("put each pipeline in its own file; share kinds through `import`");
                let diagnostic = match first {
                    Some(f) if f.span.file == pipeline.span.file => {
                        diagnostic.related(f.name.span, "the first pipeline")
                    }
                    _ => diagnostic,
                };
                sink.push(diagnostic);
            }
        }
    }
    first
}

struct Loader {
    sources: Sources,
    files: Vec<(FileId, ast::File)>,
    sink: Sink,
    /// Files being loaded, outermost first, for cycle detection.
    stack: Vec<FileId>,
}

impl Loader {
    fn add_std(&mut self, module: &str) -> Option<FileId> {
        let name = module.trim_end_matches(".cdl");
        let display = format!("std/{name}.cdl");
        if let Some((id, _)) = self.sources.iter().find(|(_, f)| f.name == display) {
            return Some(id);
        }
        let text = STDLIB.iter().find(|(n, _)| *n == name)?.1;
        Some(
            self.sources
                .add(SourceFile::new(display, None, text.to_string())),
        )
    }

    fn is_loaded(&self, id: FileId) -> bool {
        self.files.iter().any(|(f, _)| *f == id)
    }

    fn load(&mut self, id: FileId) {
        self.stack.push(id);
        let parsed = syntax::parse(id, &self.sources.get(id).text);
        self.sink.extend(parsed.diagnostics);
        if let Some(file) = parsed.file {
            for item in &file.items {
                if let ast::TopItem::Import(import) = item {
                    self.import(id, import);
                }
            }
            self.files.push((id, file));
        }
        self.stack.pop();
    }

    fn import(&mut self, from: FileId, import: &ast::Import) {
        let target = if let Some(module) = import.path.strip_prefix("std/") {
            match self.add_std(module) {
                Some(id) => id,
                None => {
                    self.sink.push(
                        Diagnostic::new(
                            Code::UnknownStdModule,
                            import.path_span,
                            format!("the standard library has no module `{}`", import.path),
                        )
                        .label("unknown module")
                        .help(format!(
                            "standard modules: {}",
                            STDLIB
                                .iter()
                                .map(|(n, _)| format!("`std/{n}`"))
                                .collect::<Vec<_>>()
                                .join(", ")
                        )),
                    );
                    return;
                }
            }
        } else {
            match self.read_relative(from, import) {
                Some(id) => id,
                None => return,
            }
        };
        if let Some(at) = self.stack.iter().position(|f| *f == target) {
            let mut chain: Vec<String> = self.stack[at..]
                .iter()
                .map(|f| self.sources.get(*f).name.clone())
                .collect();
            chain.push(self.sources.get(target).name.clone());
            let diagnostic = if target == from {
                Diagnostic::new(
                    Code::ImportCycle,
                    import.path_span,
                    "this file imports itself",
                )
                .label("the file being read")
                .help("remove this import: a file sees its own kinds")
            } else {
                Diagnostic::new(Code::ImportCycle, import.path_span, "import cycle")
                    .label("imports a file that imports this one")
                    .note(format!("cycle: {}", chain.join(" → ")))
                    .help("move the shared kinds into a third file that both import")
            };
            self.sink.push(diagnostic);
            return;
        }
        if !self.is_loaded(target) {
            self.load(target);
        }
    }

    fn read_relative(&mut self, from: FileId, import: &ast::Import) -> Option<FileId> {
        let base = self
            .sources
            .get(from)
            .path
            .as_deref()
            .and_then(Path::parent)
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."));
        let path = base.join(&import.path);
        let canonical = path.canonicalize().unwrap_or_else(|_| path.clone());
        if let Some(id) = self.sources.find_path(&canonical) {
            return Some(id);
        }
        match std::fs::read_to_string(&canonical) {
            Ok(text) => {
                let name = display_name(&self.sources.get(from).name, &import.path);
                Some(
                    self.sources
                        .add(SourceFile::new(name, Some(canonical), text)),
                )
            }
            Err(err) => {
                self.sink
                    .push(import_error(import.path_span, &import.path, &err));
                None
            }
        }
    }
}

/// The name an imported file is shown by: its path as seen from where the importing file was
/// named (`tests/x.cdl` importing `./lib/k.cdl` shows `tests/lib/k.cdl`), `..` resolved.
fn display_name(importer: &str, import: &str) -> String {
    let joined = Path::new(importer)
        .parent()
        .unwrap_or(Path::new(""))
        .join(import);
    let mut parts: Vec<std::path::Component> = Vec::new();
    for component in joined.components() {
        match component {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir
                if parts
                    .last()
                    .is_some_and(|p| matches!(p, std::path::Component::Normal(_))) =>
            {
                parts.pop();
            }
            other => parts.push(other),
        }
    }
    let path: PathBuf = parts.iter().collect();
    path.display().to_string()
}

fn import_error(span: Span, path: &str, err: &std::io::Error) -> Diagnostic {
    Diagnostic::new(Code::ImportNotFound, span, format!("cannot read the imported file `{path}`: {err}"))
        .label("cannot be read")
        .help("a relative import is resolved from the importing file's folder; standard modules start with `std/`")
}
