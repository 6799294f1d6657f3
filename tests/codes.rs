//! Every code has an `explain` page whose wrong example produces it and whose right example
//! checks clean.

use cdl::codes::Code;
use cdl::compile::compile_text;

/// The body of the first ```cdl block after `heading`.
fn block<'a>(page: &'a str, heading: &str) -> Option<&'a str> {
    let after = &page[page.find(heading)? + heading.len()..];
    let start = after.find("```cdl\n")? + "```cdl\n".len();
    let end = after[start..].find("```")?;
    Some(&after[start..start + end])
}

/// For an export code (W0200): the code once for each finding of exporting the example to
/// every target; `cdl check` does not report it.
fn exported(compilation: &cdl::compile::Compilation, code: Code) -> Vec<Code> {
    let plan = cdl::plan::build(compilation).filter(|_| code.is_export());
    cdl::export::Target::ALL
        .iter()
        .flat_map(|target| plan.iter().flat_map(|p| target.exporter().export(p).lossy))
        .map(|_| code)
        .collect()
}

fn compile(text: &str) -> cdl::compile::Compilation {
    let dir = std::env::temp_dir().join("cdl-explain-examples");
    std::fs::create_dir_all(&dir).unwrap();
    let mut compilation = compile_text(
        "example.cdl",
        Some(dir.join("example.cdl")),
        text.to_string(),
    );
    compilation.require_pipeline();
    compilation
}

#[test]
fn every_code_has_a_page_with_a_wrong_and_a_right_example() {
    for code in Code::ALL {
        let page = code.explanation();
        let heading = format!("# {}: {}", code.as_str(), code.title());
        assert!(
            page.starts_with(&heading),
            "{code}: the page must start with `{heading}`"
        );
        let wrong = block(page, "## Wrong").unwrap_or_else(|| panic!("{code}: no wrong example"));
        let right = block(page, "## Right").unwrap_or_else(|| panic!("{code}: no right example"));

        let wrong = compile(wrong);
        let codes: Vec<Code> = wrong
            .diagnostics
            .iter()
            .map(|d| d.code)
            .chain(exported(&wrong, *code))
            .collect();
        assert!(
            codes.contains(code),
            "{code}: the wrong example reports {codes:?}"
        );

        let right = compile(right);
        let problems: Vec<Code> = right
            .diagnostics
            .iter()
            .filter(|d| d.is_error() || d.code == *code)
            .map(|d| d.code)
            .chain(exported(&right, *code))
            .collect();
        assert!(
            problems.is_empty(),
            "{code}: the right example reports {problems:?}"
        );
    }
}
