//! The cdl examples of the guides check clean: every ```cdl block of `docs/migrating.md`
//! (and of the checked sections of `docs/language.md`)
//! compiles to a plan without a single diagnostic.

use crate::support;

/// The bodies of the ```cdl blocks of a page.
fn cdl_blocks(page: &str) -> Vec<&str> {
    page.split("```cdl\n")
        .skip(1)
        .map(|rest| &rest[..rest.find("```").expect("a closed block")])
        .collect()
}

#[test]
fn migrating_examples_check_clean() {
    let page = std::fs::read_to_string(support::root().join("docs/migrating.md")).unwrap();
    let blocks = cdl_blocks(&page);
    assert!(blocks.len() >= 2, "one example per system");
    for block in blocks {
        let dir = std::env::temp_dir().join("cdl-migrating-examples");
        std::fs::create_dir_all(&dir).unwrap();
        let mut compilation = cdl::compile::compile_text(
            "migrating.cdl",
            Some(dir.join("migrating.cdl")),
            block.to_string(),
        );
        compilation.require_pipeline();
        assert!(
            compilation.diagnostics.is_empty(),
            "{block}\n{}",
            support::render(&compilation)
        );
        assert!(cdl::plan::build(&compilation).is_some());
    }
}

/// The sections of `docs/language.md` whose examples must check clean (the language v2
/// constructs; older sections hold deliberate mistakes and fragments).
const CHECKED_LANGUAGE_SECTIONS: &[&str] = &[
    "## The run context",
    "## Templates",                     // v2 i13e
    "## Passing values between jobs",   // v2 i13i
    "## Inputs and variables",          // v2 i13d
    "## Reports and kept files",        // v2 i13h
    "## Platform settings",             // v2 i14a
    "## Jobs that run after a failure", // v2 i13f
    "## Matrix include and exclude",    // v2 i13g
    "## Step conditions",               // v2 i13l
    "## Changed files",                 // v2 i14b
    "## Services",                      // v2 i14d
    "## Composed values",               // v2 i13j
    "## Target-native steps",           // v2 i14e
    "## Matrix artifacts",              // v2 i13k
    "## Caches",                        // v2 i14c
];

#[test]
fn language_examples_of_checked_sections_check_clean() {
    let page = std::fs::read_to_string(support::root().join("docs/language.md")).unwrap();
    for heading in CHECKED_LANGUAGE_SECTIONS {
        let start = page
            .find(&format!("\n{heading}\n"))
            .unwrap_or_else(|| panic!("docs/language.md has a section `{heading}`"));
        let rest = &page[start + heading.len() + 2..];
        let section = &rest[..rest.find("\n## ").unwrap_or(rest.len())];
        let blocks = cdl_blocks(section);
        assert!(!blocks.is_empty(), "`{heading}` has an example");
        for block in blocks {
            let mut compilation =
                cdl::compile::compile_text("language.cdl", None, block.to_string());
            compilation.require_pipeline();
            assert!(
                compilation.diagnostics.is_empty(),
                "{block}\n{}",
                support::render(&compilation)
            );
            assert!(cdl::plan::build(&compilation).is_some());
        }
    }
}

/// The example of "Steps and shells" in `docs/language.md` (written as in a stage) checks
/// clean inside a pipeline that declares its secret.
#[test]
fn language_steps_example_checks_clean() {
    let page = std::fs::read_to_string(support::root().join("docs/language.md")).unwrap();
    let section = &page[page.find("## Steps and shells").expect("the section")..];
    let block = cdl_blocks(section)[0];
    let text = format!("pipeline p {{\n  secret UPLOAD_TOKEN\n  stage s {{\n{block}  }}\n}}\n");
    let mut compilation = cdl::compile::compile_text("steps.cdl", None, text.clone());
    compilation.require_pipeline();
    assert!(
        compilation.diagnostics.is_empty(),
        "{text}\n{}",
        support::render(&compilation)
    );
    let plan = cdl::plan::build(&compilation).unwrap();
    assert_eq!(plan.jobs[0].step_blocks.len(), 3);
}
