//! Arbitrary input never panics the parser, the checker, the plan or the renderers.

use proptest::prelude::*;

use cdl::compile::compile_text;
use cdl::render;

fn exercise(text: String) {
    let mut compilation = compile_text("input.cdl", None, text);
    compilation.require_pipeline();
    let _ = cdl::plan::build(&compilation).map(|p| cdl::plan::text::render(&p, None));
    for d in &compilation.diagnostics {
        let _ = render::human::render(d, &compilation.sources, render::human::Style::plain());
    }
    let _ = render::json::render(&compilation.diagnostics, &compilation.sources);
    let _ = render::sarif::render(&[(&compilation.sources, compilation.diagnostics.as_slice())]);
}

fn examples() -> Vec<String> {
    crate::support::cdl_files("examples")
        .iter()
        .chain(&crate::support::cdl_files("tests/fixtures/ok"))
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect()
}

/// Pieces that make mutations land on interesting syntax.
const TOKENS: &[&str] = &[
    "{",
    "}",
    "[",
    "]",
    "(",
    ")",
    "=",
    "==",
    "!=",
    "&&",
    "||",
    "!",
    ",",
    ";",
    "\"",
    "\"\"\"",
    "///",
    "//",
    "/*",
    "*/",
    "\\",
    "\\u{",
    "é",
    "\n",
    " ",
    "10m",
    "1h30m",
    "99999999999999999999d",
    "0",
    "-1",
    "true",
    "stage",
    "job",
    "test",
    "deploy",
    "to",
    "as",
    "on",
    "gate",
    "artifact",
    "matrix",
    "env",
    "after",
    "when",
    "requires",
    "approval",
    "tests",
    "promotion",
    "from",
    "import",
    "kind",
    "pipeline",
    "branch",
    "event",
    "tag",
    "matches",
];

#[derive(Debug, Clone)]
enum Edit {
    Delete { at: usize, len: usize },
    Insert { at: usize, token: usize },
    Duplicate { at: usize, len: usize },
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (any::<usize>(), 0usize..40).prop_map(|(at, len)| Edit::Delete { at, len }),
        (any::<usize>(), 0..TOKENS.len()).prop_map(|(at, token)| Edit::Insert { at, token }),
        (any::<usize>(), 0usize..200).prop_map(|(at, len)| Edit::Duplicate { at, len }),
    ]
}

fn apply(text: &str, edits: &[Edit]) -> String {
    let mut bytes = text.as_bytes().to_vec();
    for edit in edits {
        let len = bytes.len().max(1);
        match *edit {
            Edit::Delete { at, len: n } => {
                let at = at % len;
                let end = (at + n).min(bytes.len());
                bytes.drain(at.min(bytes.len())..end);
            }
            Edit::Insert { at, token } => {
                let at = (at % len).min(bytes.len());
                bytes.splice(at..at, TOKENS[token].bytes());
            }
            Edit::Duplicate { at, len: n } => {
                let at = (at % len).min(bytes.len());
                let end = (at + n).min(bytes.len());
                let copy = bytes[at..end].to_vec();
                bytes.splice(at..at, copy);
            }
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        exercise(String::from_utf8_lossy(&bytes).into_owned());
    }

    #[test]
    fn random_tokens_never_panic(tokens in proptest::collection::vec(0..TOKENS.len(), 0..120)) {
        exercise(tokens.iter().map(|t| TOKENS[*t]).collect::<Vec<_>>().join(" "));
    }

    #[test]
    fn mutated_examples_never_panic(index in any::<usize>(), edits in proptest::collection::vec(edit(), 1..6)) {
        let examples = examples();
        let text = &examples[index % examples.len()];
        exercise(apply(text, &edits));
    }
}

// v2 i13k: the folders of a matrix artifact's instances.
proptest! {
    #![proptest_config(ProptestConfig { cases: 500, ..ProptestConfig::default() })]

    /// For random instance values (hostile characters, case variants, long values, values
    /// that become the same once made safe), every folder is a safe file name and no two are
    /// equal, even ignoring case.
    #[test]
    fn matrix_artifact_folders_are_unique_and_file_name_safe(
        instances in proptest::collection::vec(
            proptest::collection::vec(
                prop_oneof![
                    "[a-cA-C_./ -]{0,4}",
                    "\\PC{0,6}",
                    Just("..".to_string()),
                    Just("a-2".to_string()),
                    "[a-z]{150,200}",
                ],
                2,
            ),
            1..24,
        )
    ) {
        let values: Vec<cdl::model::matrix::Values> = instances
            .iter()
            .map(|pair| {
                [("os".to_string(), pair[0].clone()), ("arch".to_string(), pair[1].clone())]
                    .into_iter()
                    .collect()
            })
            .collect();
        let folders = cdl::model::matrix::folder_names(&values);
        prop_assert_eq!(folders.len(), values.len());
        let mut seen = std::collections::HashSet::new();
        for folder in &folders {
            prop_assert!(!folder.is_empty());
            prop_assert!(folder.len() <= 200, "{} is long", folder);
            prop_assert!(folder != "." && folder != "..");
            prop_assert!(
                folder.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')),
                "unsafe {:?}", folder
            );
            prop_assert!(seen.insert(folder.to_ascii_lowercase()), "twice: {:?} in {:?}", folder, folders);
        }
    }
}
