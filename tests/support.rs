//! Helpers shared by the integration tests.

use std::path::{Path, PathBuf};

use cdl::compile::{Compilation, compile_text};
use cdl::render::human;

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Compiles a file of the repository, naming it by its path relative to the root so that
/// rendered output does not depend on where the repository is.
pub fn compile(path: &Path) -> Compilation {
    let absolute = if path.is_absolute() {
        path.to_path_buf()
    } else {
        root().join(path)
    };
    let relative = absolute
        .strip_prefix(root())
        .unwrap_or(&absolute)
        .display()
        .to_string();
    let text = std::fs::read_to_string(&absolute).expect("fixture is readable");
    compile_text(
        &relative,
        Some(absolute.canonicalize().expect("canonical path")),
        text,
    )
}

/// Every diagnostic, rendered without colour at a fixed width.
pub fn render(compilation: &Compilation) -> String {
    compilation
        .diagnostics
        .iter()
        .map(|d| human::render(d, &compilation.sources, human::Style::plain()))
        .collect::<Vec<_>>()
        .join("\n")
}

pub fn codes(compilation: &Compilation) -> Vec<&'static str> {
    compilation
        .diagnostics
        .iter()
        .map(|d| d.code.as_str())
        .collect()
}

/// The `.cdl` files directly in a folder of the repository, sorted.
pub fn cdl_files(folder: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(root().join(folder))
        .expect("folder exists")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "cdl"))
        .collect();
    files.sort();
    files
}
