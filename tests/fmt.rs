//! `cdl fmt`: over every fixture and example, formatting twice changes nothing more and leaves
//! the plan (or the diagnostics) as they were; `tests/fixtures/fmt` holds snapshots of the
//! layout; the command's `--check` and its refusal to rewrite a file that does not parse.

use std::path::{Path, PathBuf};

use assert_cmd::cargo::cargo_bin_cmd;
use cdl::compile::{Compilation, compile_text};
use cdl::span::FileId;

use crate::support::{self, root};

/// Every `.cdl` file of the fixtures (at any depth), the examples and the standard library.
fn every_cdl_file() -> Vec<PathBuf> {
    fn walk(folder: &Path, files: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(folder).expect("folder exists") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                walk(&path, files);
            } else if path.extension().is_some_and(|e| e == "cdl") {
                files.push(path);
            }
        }
    }
    let mut files = Vec::new();
    for folder in ["tests/fixtures", "stdlib"] {
        walk(&root().join(folder), &mut files);
    }
    files.extend(support::cdl_files("examples"));
    files.sort();
    files
}

/// Compiles `text` as if it were the file at `path` (same name, same imports).
fn compile_as(path: &Path, text: String) -> Compilation {
    let relative = path
        .strip_prefix(root())
        .unwrap_or(path)
        .display()
        .to_string();
    compile_text(&relative, Some(path.canonicalize().unwrap()), text)
}

/// What the compiler made of a file: its plan, or its diagnostics, without source positions.
fn meaning(compilation: &Compilation) -> String {
    fn without_spans(value: &mut serde_json::Value) {
        match value {
            serde_json::Value::Object(map) => {
                map.shift_remove("span");
                map.values_mut().for_each(without_spans);
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(without_spans),
            _ => {}
        }
    }
    match cdl::plan::build(compilation) {
        Some(plan) => {
            let mut value: serde_json::Value = serde_json::from_str(&plan.to_json()).unwrap();
            without_spans(&mut value);
            serde_json::to_string_pretty(&value).unwrap()
        }
        None => compilation
            .diagnostics
            .iter()
            .map(|d| format!("{} {}\n", d.code.as_str(), d.message))
            .collect(),
    }
}

#[test]
fn formatting_is_idempotent_and_keeps_the_meaning() {
    let files = every_cdl_file();
    assert!(files.len() > 50, "found only {} files", files.len());
    let mut formatted_count = 0;
    for path in files {
        let text = std::fs::read_to_string(&path).unwrap();
        let formatted = match cdl::fmt::format(FileId(0), &text) {
            Ok(formatted) => formatted,
            Err(error) => {
                assert!(
                    ["E0100", "E0108", "E0109", "E0301"].contains(&error.code.as_str()),
                    "{}: only a syntax error, a misplaced declaration or a foreign name stops \
                     the formatter, not {}",
                    path.display(),
                    error.code
                );
                continue;
            }
        };
        formatted_count += 1;
        let again = cdl::fmt::format(FileId(0), &formatted).expect("formatted text parses");
        assert_eq!(
            again,
            formatted,
            "{}: fmt(fmt(x)) != fmt(x)",
            path.display()
        );
        assert_eq!(
            meaning(&compile_as(&path, formatted)),
            meaning(&compile_as(&path, text)),
            "{}: the formatted file means something else",
            path.display()
        );
    }
    assert!(formatted_count > 50);
}

/// The examples and the standard library are in `cdl fmt` layout, so format-on-save never
/// rewrites them (issue 15, bug 8): what `cdl fmt --check examples/*.cdl stdlib/*.cdl` says.
#[test]
fn examples_and_the_standard_library_are_in_fmt_layout() {
    let mut files = support::cdl_files("examples");
    files.extend(support::cdl_files("stdlib"));
    assert!(files.len() >= 6, "found only {} files", files.len());
    let unformatted: Vec<String> = files
        .iter()
        .filter(|path| {
            let text = std::fs::read_to_string(path).unwrap();
            cdl::fmt::format(FileId(0), &text).expect("examples parse") != text
        })
        .map(|path| path.strip_prefix(root()).unwrap().display().to_string())
        .collect();
    assert!(
        unformatted.is_empty(),
        "not in `cdl fmt` layout (run `cdl fmt` on them): {unformatted:?}"
    );
    let names: Vec<String> = files
        .iter()
        .map(|path| path.strip_prefix(root()).unwrap().display().to_string())
        .collect();
    let mut args = vec!["fmt", "--check"];
    args.extend(names.iter().map(String::as_str));
    let out = cdl(&args, &root());
    assert_eq!(
        out.status.code(),
        Some(0),
        "cdl fmt --check: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn fmt_fixtures_snapshot_their_layout() {
    insta::glob!("fixtures/fmt/*.cdl", |path| {
        let text = std::fs::read_to_string(path).unwrap();
        let formatted = cdl::fmt::format(FileId(0), &text).expect("fmt fixtures parse");
        insta::assert_snapshot!("formatted", formatted);
    });
}

fn cdl(args: &[&str], folder: &Path) -> std::process::Output {
    cargo_bin_cmd!("cdl")
        .current_dir(folder)
        .args(args)
        .output()
        .expect("cdl runs")
}

#[test]
fn check_names_the_files_that_would_change_and_fmt_rewrites_them() {
    let folder = tempfile::tempdir().unwrap();
    let messy = "pipeline p{stage s{job a{run=\"true\"}}}\n";
    let tidy = cdl::fmt::format(FileId(0), messy).unwrap();
    std::fs::write(folder.path().join("messy.cdl"), messy).unwrap();
    std::fs::write(folder.path().join("tidy.cdl"), &tidy).unwrap();

    let out = cdl(&["fmt", "--check", "messy.cdl", "tidy.cdl"], folder.path());
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "would reformat messy.cdl\n"
    );
    assert_eq!(
        std::fs::read_to_string(folder.path().join("messy.cdl")).unwrap(),
        messy
    );

    let out = cdl(&["fmt", "messy.cdl", "tidy.cdl"], folder.path());
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        std::fs::read_to_string(folder.path().join("messy.cdl")).unwrap(),
        tidy
    );
    let out = cdl(&["fmt", "--check", "messy.cdl", "tidy.cdl"], folder.path());
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_file_with_a_syntax_error_is_reported_and_never_rewritten() {
    let folder = tempfile::tempdir().unwrap();
    let broken = "pipeline p {\n  stage s { job a { run = } }\n}\n";
    std::fs::write(folder.path().join("broken.cdl"), broken).unwrap();
    for args in [
        &["fmt", "broken.cdl"][..],
        &["fmt", "--check", "broken.cdl"],
    ] {
        let out = cdl(args, folder.path());
        assert_eq!(out.status.code(), Some(2));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("error[E0100]"), "{stderr}");
        assert!(stderr.contains("broken.cdl:2:"), "{stderr}");
        assert_eq!(
            std::fs::read_to_string(folder.path().join("broken.cdl")).unwrap(),
            broken
        );
    }
}

#[test]
fn standard_input_is_formatted_to_standard_output() {
    let out = cargo_bin_cmd!("cdl")
        .args(["fmt", "-"])
        .write_stdin("kind k {timeout=1m}")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "kind k { timeout = 1m }\n"
    );
}

/// The same file with its white space (outside strings and comments) replaced at random by
/// other white space, blank lines and comments.
fn scramble(text: &str, seed: u64) -> String {
    let mut state = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    let mut random = move |n: u64| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state % n
    };
    let bytes = text.as_bytes();
    let mut out = String::new();
    let mut at = 0;
    let mut after_line_comment = false;
    while at < bytes.len() {
        let rest = &text[at..];
        let end = if let Some(inner) = rest.strip_prefix("\"\"\"") {
            3 + inner.find("\"\"\"").map_or(inner.len(), |n| n + 3)
        } else if rest.starts_with('"') {
            let mut end = 1;
            while end < rest.len() && rest.as_bytes()[end] != b'"' {
                end += if rest.as_bytes()[end] == b'\\' { 2 } else { 1 };
            }
            end + 1
        } else if rest.starts_with("//") {
            rest.find('\n').unwrap_or(rest.len())
        } else if rest.starts_with("/*") {
            rest.find("*/").map_or(rest.len(), |n| n + 2)
        } else if rest.starts_with(|c: char| c.is_ascii_whitespace()) {
            let run = rest.len() - rest.trim_start().len();
            let mut replacement = match random(8) {
                0 => "\n\n\n".to_string(),
                1 => format!(" /* c{at} */ "),
                2 => format!(" // c{at}\n"),
                3 => "\n    ".to_string(),
                4 => "\t".to_string(),
                _ => " ".to_string(),
            };
            if after_line_comment && !replacement.contains('\n') {
                replacement.push('\n');
            }
            out.push_str(&replacement);
            after_line_comment = false;
            at += run;
            continue;
        } else {
            rest.chars().next().unwrap().len_utf8()
        };
        let end = end.min(rest.len());
        after_line_comment = rest.starts_with("//");
        out.push_str(&rest[..end]);
        at += end;
    }
    out
}

#[test]
fn any_spacing_and_comments_format_to_a_fixed_point_with_the_same_plan() {
    let mut files = support::cdl_files("tests/fixtures/ok");
    files.extend(support::cdl_files("examples"));
    for path in files {
        let text = std::fs::read_to_string(&path).unwrap();
        for seed in 0..12 {
            // (A comment put after a `///` line joins the doc text: compare with the input.)
            let scrambled = scramble(&text, seed);
            let expected = meaning(&compile_as(&path, scrambled.clone()));
            let formatted = cdl::fmt::format(FileId(0), &scrambled).unwrap_or_else(|e| {
                panic!("{} seed {seed}: {}\n{scrambled}", path.display(), e.message)
            });
            let again = cdl::fmt::format(FileId(0), &formatted).expect("formatted text parses");
            assert_eq!(
                again,
                formatted,
                "{} seed {seed}: not idempotent",
                path.display()
            );
            assert_eq!(
                meaning(&compile_as(&path, formatted.clone())),
                expected,
                "{} seed {seed}: the plan changed\n{formatted}",
                path.display()
            );
            let comments = |t: &str| t.matches("/* c").count() + t.matches("// c").count();
            assert_eq!(
                comments(&formatted),
                comments(&scrambled),
                "{} seed {seed}: a comment was lost\n{scrambled}\n---\n{formatted}",
                path.display()
            );
        }
    }
}
