//! The layout rules, one small case each.

use super::format;
use crate::span::FileId;

fn fmt(text: &str) -> String {
    let formatted = format(FileId(0), text).expect("parses");
    let again = format(FileId(0), &formatted).expect("formatted text parses");
    assert_eq!(formatted, again, "idempotent");
    formatted
}

#[test]
fn indents_and_aligns_a_run_of_attributes() {
    let text = "pipeline p{stage s{job a{\nrun=\"make\"\ntimeout=10m\n\nretries=1}}}";
    assert_eq!(
        fmt(text),
        "pipeline p {\n  stage s {\n    job a {\n      run     = \"make\"\n      timeout = 10m\n\n      retries = 1\n    }\n  }\n}\n"
    );
}

#[test]
fn keeps_one_line_blocks_that_fit_and_normalises_separators() {
    let text = "kind quick { environment = forbidden  timeout = 15m ; }\n";
    assert_eq!(
        fmt(text),
        "kind quick { environment = forbidden; timeout = 15m }\n"
    );
}

#[test]
fn expands_a_one_line_block_that_is_too_long() {
    let run = "x".repeat(90);
    let text = format!("pipeline p {{ stage s {{ job a {{ run = \"{run}\" }} }} }}\n");
    let out = fmt(&text);
    assert!(
        out.contains(&format!("\n    job a {{\n      run = \"{run}\"\n    }}\n")),
        "{out}"
    );
}

#[test]
fn keeps_comments_and_at_most_one_blank_line() {
    let text = "// head\n\n\n\nkind a {} // after\n/// doc\n\n\nkind b { // open\n  /* in */ timeout = 1m // t\n\n  // dangling\n}\n// end\n";
    assert_eq!(
        fmt(text),
        "// head\n\nkind a {} // after\n/// doc\n\nkind b { // open\n  /* in */\n  timeout = 1m // t\n\n  // dangling\n}\n// end\n"
    );
}

#[test]
fn wraps_long_lists_with_a_trailing_comma() {
    let items: Vec<String> = (0..8).map(|i| format!("\"command number {i}\"")).collect();
    let text = format!(
        "pipeline p {{\n  stage s {{\n    job a {{\n      run = [{}]\n    }}\n  }}\n}}\n",
        items.join(",")
    );
    let out = fmt(&text);
    assert!(
        out.contains("      run = [\n        \"command number 0\",\n"),
        "{out}"
    );
    assert!(
        out.contains("        \"command number 7\",\n      ]\n"),
        "{out}"
    );
}

#[test]
fn keeps_the_parentheses_of_conditions() {
    let text = "pipeline p { stage s { job a { run = \"x\"; when = ((event==push))&&!(branch  ==  \"a\"||tag matches \"v*\") } } }";
    assert!(
        fmt(text).contains("when = (event == push) && !(branch == \"a\" || tag matches \"v*\")")
    );
}

#[test]
fn reindents_triple_strings_without_changing_their_value() {
    let text = "pipeline p {\nstage s {\njob a {\nrun = \"\"\"\n      set -u\n        echo hi\n      \"\"\"\n}\n}\n}\n";
    assert!(
        fmt(text)
            .contains("      run = \"\"\"\n        set -u\n          echo hi\n        \"\"\"\n")
    );
}

#[test]
fn keeps_a_header_with_a_comment_as_written() {
    let text =
        "pipeline p {\n    stage /* x */ s { job a { run = \"x\" } }\n  stage t // y\n{}\n}\n";
    assert_eq!(
        fmt(text),
        "pipeline p {\n  stage /* x */ s {\n    job a { run = \"x\" }\n  }\n  stage t // y\n  {}\n}\n"
    );
}

#[test]
fn prints_an_attribute_with_a_comment_inside_as_written() {
    let text = "kind k {\n  timeout /* t */ = 1m\n}\n";
    assert_eq!(fmt(text), "kind k {\n  timeout /* t */ = 1m\n}\n");
}

#[test]
fn refuses_a_file_with_a_syntax_error() {
    let error = format(FileId(0), "pipeline p {").unwrap_err();
    assert_eq!(error.code, crate::codes::Code::Syntax);
}

/// v2 i14b: `changed(…)` is written on one line, its globs as written, comments beside kept.
#[test]
fn changed_calls_are_one_line_and_keep_their_globs() {
    let text = "pipeline p { stage s { job a {\nrun=\"x\"\n// only docs\nwhen=changed( \"docs/**\" ,\"a \\\"b\\\"\",)&&!changed(\"x\")\n} } }\n";
    let out = fmt(text);
    assert!(
        out.contains(
            "// only docs\n      when = changed(\"docs/**\", \"a \\\"b\\\"\") && !changed(\"x\")\n"
        ),
        "{out}"
    );
}
