//! Fixtures: every `ok` file gives a plan snapshot, every `err` file a snapshot of its
//! rendered diagnostics. An `err` file's name starts with the code it demonstrates.

use crate::support;

#[test]
fn ok_fixtures_plan_without_diagnostics() {
    insta::glob!("fixtures/ok/*.cdl", |path| {
        let compilation = support::compile(path);
        // A fixture may expect warnings, named on a line `// expect warnings: CODE, CODE`:
        // exactly those, and nothing else, must be reported.
        let text = std::fs::read_to_string(path).unwrap();
        let expected: Vec<&str> = text
            .lines()
            .find_map(|line| line.strip_prefix("// expect warnings:"))
            .map(|codes| codes.split(',').map(str::trim).collect())
            .unwrap_or_default();
        let mut reported = support::codes(&compilation);
        reported.sort_unstable();
        reported.dedup();
        let mut wanted = expected.clone();
        wanted.sort_unstable();
        assert!(
            reported == wanted && compilation.diagnostics.iter().all(|d| !d.is_error()),
            "{} should check clean{}:\n{}",
            path.display(),
            if expected.is_empty() {
                String::new()
            } else {
                format!(" but for {expected:?}")
            },
            support::render(&compilation)
        );
        let plan = cdl::plan::build(&compilation).expect("a clean file has a plan");
        insta::assert_json_snapshot!("plan", plan);
    });
}

#[test]
fn err_fixtures_render_their_code() {
    insta::glob!("fixtures/err/*.cdl", |path| {
        let mut compilation = support::compile(path);
        compilation.require_pipeline();
        let name = path.file_name().unwrap().to_string_lossy();
        let code = name.split('-').next().unwrap();
        assert!(
            support::codes(&compilation).contains(&code),
            "{name} should report {code}, got {:?}",
            support::codes(&compilation)
        );
        insta::assert_snapshot!("diagnostics", support::render(&compilation));
    });
}

/// A code `cdl check` reports has a fixture in `err`; one `cdl export` reports, in `lossy`
/// (checked by `export.rs`).
#[test]
fn every_code_has_an_err_fixture() {
    let names = |folder: &str| -> Vec<String> {
        support::cdl_files(folder)
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect()
    };
    let (err, lossy) = (names("tests/fixtures/err"), names("tests/fixtures/lossy"));
    for code in cdl::codes::Code::ALL {
        let (folder, fixtures) = if code.is_export() {
            ("lossy", &lossy)
        } else {
            ("err", &err)
        };
        assert!(
            fixtures
                .iter()
                .any(|f| f.starts_with(&format!("{}-", code.as_str()))),
            "no fixture in tests/fixtures/{folder} for {}",
            code.as_str()
        );
    }
}

#[test]
fn plans_are_deterministic() {
    for path in support::cdl_files("tests/fixtures/ok")
        .iter()
        .chain(&support::cdl_files("examples"))
    {
        let first = cdl::plan::build(&support::compile(path)).unwrap().to_json();
        let second = cdl::plan::build(&support::compile(path)).unwrap().to_json();
        assert_eq!(first, second, "{}", path.display());
    }
}

#[test]
fn plan_json_reads_back() {
    for path in support::cdl_files("examples") {
        let plan = cdl::plan::build(&support::compile(&path)).unwrap();
        let back: cdl::plan::Plan = serde_json::from_str(&plan.to_json()).unwrap();
        assert_eq!(back, plan, "{}", path.display());
    }
}

/// Every word of the foreign keywords table has a fixture whose first diagnostic names it.
#[test]
fn every_foreign_word_has_a_fixture() {
    use cdl::check::foreign::{Place, TABLE};
    for entry in TABLE {
        let place = match entry.place {
            Place::Job => "job",
            Place::Pipeline => "pipeline",
            Place::BranchTrigger => "trigger",
            Place::Other => "other",
        };
        let path = format!(
            "tests/fixtures/err/E0301-foreign-{place}-{}.cdl",
            entry.word
        );
        assert!(
            support::root().join(&path).exists(),
            "no fixture {path} for the foreign word `{}`",
            entry.word
        );
        let compilation = support::compile(std::path::Path::new(&path));
        let first = compilation
            .diagnostics
            .iter()
            .find(|d| d.code == cdl::codes::Code::UnknownAttribute)
            .unwrap_or_else(|| panic!("{path} reports no E0301"));
        assert!(
            first.message.contains(&format!("`{}`", entry.word)),
            "{path}: {}",
            first.message
        );
    }
}
