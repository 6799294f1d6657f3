//! Exports: every `ok` fixture gives one snapshot per target (the files written and the
//! W0200 warnings), every `lossy` fixture a snapshot of its warnings per target, and
//! `cdl export` is run as a real process. The external validators run in `.ci/run`.

use std::path::{Path, PathBuf};

use assert_cmd::cargo::cargo_bin_cmd;
use cdl::export::Target;
use cdl::render::human;

use crate::support;

/// The export of a fixture: each file under its default path, then the warnings.
fn rendered(path: &Path, target: Target) -> String {
    let compilation = support::compile(path);
    let plan = cdl::plan::build(&compilation).expect("the fixture plans");
    let export = target.exporter().export(&plan);
    let mut text = String::new();
    for file in &export.files {
        text.push_str(&format!("--- {}\n{}", file.path.display(), file.content));
    }
    text.push_str("--- warnings\n");
    text.push_str(&warnings(&compilation, &export));
    text
}

fn warnings(compilation: &cdl::compile::Compilation, export: &cdl::export::Export) -> String {
    export
        .lossy
        .iter()
        .map(|l| {
            let diagnostic = l.to_diagnostic(&compilation.sources, compilation.root, false);
            human::render(&diagnostic, &compilation.sources, human::Style::plain())
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn ok_fixtures_export_to_every_target() {
    insta::glob!("fixtures/ok/*.cdl", |path| {
        for target in Target::ALL {
            insta::assert_snapshot!(target.name(), rendered(path, *target));
        }
    });
}

#[test]
fn lossy_fixtures_warn_with_their_code() {
    for path in support::cdl_files("tests/fixtures/lossy") {
        let compilation = support::compile(&path);
        assert!(
            compilation.diagnostics.is_empty(),
            "{} should check clean:\n{}",
            path.display(),
            support::render(&compilation)
        );
        let plan = cdl::plan::build(&compilation).unwrap();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let code = name.split('-').next().unwrap();
        let mut reported = false;
        for target in Target::ALL {
            let text = warnings(&compilation, &target.exporter().export(&plan));
            reported |= text.contains(&format!("[{code}]"));
            insta::with_settings!({ snapshot_suffix => name.as_str() }, {
                insta::assert_snapshot!(format!("warnings-{}", target.name()), text);
            });
        }
        assert!(reported, "{name} should report {code} on some target");
    }
}

#[test]
fn exports_are_deterministic() {
    for path in support::cdl_files("examples")
        .iter()
        .chain(&support::cdl_files("tests/fixtures/ok"))
    {
        for target in Target::ALL {
            assert_eq!(rendered(path, *target), rendered(path, *target));
        }
    }
}

/// A fresh folder holding a copy of an example, to run `cdl export` in.
fn workdir(name: &str, example: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("cdl-export-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(
        support::root().join("examples").join(example),
        dir.join(example),
    )
    .unwrap();
    dir
}

fn cdl(dir: &Path, args: &[&str]) -> (Option<i32>, String, String) {
    let out = cargo_bin_cmd!("cdl")
        .current_dir(dir)
        .args(args)
        .output()
        .expect("cdl runs");
    (
        out.status.code(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

/// Every file under `dir`, relative, sorted.
fn files(dir: &Path) -> Vec<String> {
    fn walk(dir: &Path, base: &Path, out: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, base, out);
            } else {
                out.push(path.strip_prefix(base).unwrap().display().to_string());
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

#[test]
fn export_writes_the_default_paths_and_says_where() {
    let dir = workdir("default", "hello.cdl");
    let (code, stdout, stderr) = cdl(&dir, &["export", "--target", "github", "hello.cdl"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stdout.is_empty());
    assert!(
        stderr.contains("wrote .github/workflows/hello.yml"),
        "{stderr}"
    );
    assert!(
        stderr.contains(
            "wrote .github/workflows/hello.environments.json: the gates' protected environments"
        ),
        "{stderr}"
    );
    let (code, _, stderr) = cdl(&dir, &["export", "--target", "gitlab", "hello.cdl"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stderr.contains("wrote .gitlab-ci.yml"), "{stderr}");
    assert_eq!(
        files(&dir),
        [
            ".github/workflows/hello.environments.json",
            ".github/workflows/hello.yml",
            ".gitlab-ci.environments.json",
            ".gitlab-ci.yml",
            "hello.cdl"
        ]
    );
    let settings: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join(".gitlab-ci.environments.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(settings["schema"], "cdl.environments/v1");
    assert_eq!(settings["environments"][0]["name"], "approval/ship");
    assert_eq!(settings["environments"][0]["approvers"][0], "you");
    let workflow = std::fs::read_to_string(dir.join(".github/workflows/hello.yml")).unwrap();
    assert!(workflow.contains("environment:\n      name: approval/hello/ship"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn export_to_standard_output_writes_no_file() {
    let dir = workdir("stdout", "hello.cdl");
    let (code, stdout, stderr) = cdl(&dir, &["export", "-t", "gitlab", "hello.cdl", "-o", "-"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stdout.starts_with("stages:\n"), "{stdout}");
    assert!(
        stderr.contains("give --settings PATH to write it"),
        "{stderr}"
    );
    assert_eq!(files(&dir), ["hello.cdl"]);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn export_puts_the_settings_beside_the_output() {
    let dir = workdir("output", "webshop.cdl");
    let (code, _, stderr) = cdl(
        &dir,
        &["export", "-t", "github", "webshop.cdl", "-o", "ci/shop.yml"],
    );
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stderr.contains("warning[W0200]"), "{stderr}");
    assert!(
        stderr.contains("exported to github with 2 warnings"),
        "{stderr}"
    );
    let (code, _, stderr) = cdl(
        &dir,
        &[
            "export",
            "-t",
            "gitlab",
            "webshop.cdl",
            "-o",
            "-",
            "--settings",
            "gates.json",
        ],
    );
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(
        files(&dir),
        [
            "ci/shop.environments.json",
            "ci/shop.yml",
            "gates.json",
            "webshop.cdl"
        ]
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn deny_lossy_makes_warnings_errors_and_writes_nothing() {
    let dir = workdir("deny", "webshop.cdl");
    let (code, stdout, stderr) = cdl(
        &dir,
        &["export", "-t", "gitlab", "webshop.cdl", "--deny-lossy"],
    );
    assert_eq!(code, Some(2));
    assert!(stdout.is_empty());
    assert!(stderr.contains("error[W0200]"), "{stderr}");
    assert!(stderr.contains("not exported"), "{stderr}");
    assert_eq!(files(&dir), ["webshop.cdl"]);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn export_refuses_a_file_that_does_not_compile() {
    let root = support::root();
    let (code, stdout, stderr) = cdl(
        &root,
        &[
            "export",
            "--target",
            "github",
            "tests/fixtures/err/E0400-dependency-cycle.cdl",
            "-o",
            "-",
        ],
    );
    assert_eq!(code, Some(2));
    assert!(stdout.is_empty());
    assert!(stderr.contains("error[E0400]"), "{stderr}");
    let (code, _, stderr) = cdl(
        &root,
        &[
            "export",
            "-t",
            "github",
            "tests/fixtures/ok/shared/kinds.cdl",
            "-o",
            "-",
        ],
    );
    assert_eq!(code, Some(2));
    assert!(stderr.contains("error[E0106]"), "{stderr}");
}

#[test]
fn argo_template_writes_a_workflow_template() {
    let dir = workdir("argo-template", "hello.cdl");
    let (code, _, stderr) = cdl(&dir, &["export", "-t", "argo", "hello.cdl"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stderr.contains("wrote .argo/hello.yaml"), "{stderr}");
    let workflow = std::fs::read_to_string(dir.join(".argo/hello.yaml")).unwrap();
    assert!(workflow.contains("kind: Workflow\nmetadata:\n  generateName: hello-\n"));
    let (code, stdout, stderr) = cdl(
        &dir,
        &["export", "-t", "argo", "--template", "hello.cdl", "-o", "-"],
    );
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        stdout.contains("kind: WorkflowTemplate\nmetadata:\n  name: hello\n"),
        "{stdout}"
    );
    assert_eq!(
        stdout.replace("kind: WorkflowTemplate\nmetadata:\n  name: hello\n", ""),
        workflow.replace("kind: Workflow\nmetadata:\n  generateName: hello-\n", "")
    );
    let (code, _, stderr) = cdl(&dir, &["export", "-t", "tekton", "--template", "hello.cdl"]);
    assert_eq!(code, Some(2));
    assert!(
        stderr.contains("--template applies to --target argo only"),
        "{stderr}"
    );
    assert_eq!(files(&dir), [".argo/hello.yaml", "hello.cdl"]);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn export_usage() {
    let root = support::root();
    let (code, stdout, _) = cdl(&root, &["export", "--help"]);
    assert_eq!(code, Some(0));
    assert!(stdout.contains("Examples:"), "{stdout}");
    assert!(stdout.contains("--deny-lossy"), "{stdout}");
    let (code, _, stderr) = cdl(&root, &["export", "-t", "travis", "examples/hello.cdl"]);
    assert_eq!(code, Some(2));
    assert!(stderr.contains("github"), "{stderr}");
    assert!(stderr.contains("all"), "{stderr}");
}

#[test]
fn export_to_all_targets_writes_each_at_its_default_path_under_the_folder() {
    let dir = workdir("all", "webshop.cdl");
    let (code, stdout, stderr) = cdl(
        &dir,
        &["export", "--target", "all", "webshop.cdl", "-o", "out"],
    );
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stdout.is_empty());
    let mut expected = vec!["webshop.cdl".to_string()];
    let source = dir.join("webshop.cdl");
    let text = std::fs::read_to_string(&source).unwrap();
    let compilation = cdl::compile::compile_text("webshop.cdl", Some(source), text);
    let plan = cdl::plan::build(&compilation).unwrap();
    for target in Target::ALL {
        let export = target.exporter().export(&plan);
        for file in &export.files {
            let path = Path::new("out").join(&file.path);
            let written = std::fs::read_to_string(dir.join(&path)).unwrap();
            assert_eq!(written, file.content, "{}", path.display());
            assert!(
                stderr.contains(&format!("wrote {}", path.display())),
                "{stderr}"
            );
            expected.push(path.display().to_string());
        }
        if !export.lossy.is_empty() {
            assert!(stderr.contains(&format!("{}: ", target.name())), "{stderr}");
        }
    }
    expected.sort();
    assert_eq!(files(&dir), expected);
    for name in [
        "out/.circleci/config.yml",
        "out/.buildkite/pipeline.yml",
        "out/Jenkinsfile",
    ] {
        assert!(expected.iter().any(|e| e == name), "{name} in {expected:?}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn export_to_all_targets_refuses_what_names_one_file() {
    let dir = workdir("all-usage", "webshop.cdl");
    for args in [
        &["export", "-t", "all", "webshop.cdl", "-o", "-"][..],
        &["export", "-t", "all", "webshop.cdl", "--settings", "s.json"][..],
    ] {
        let (code, stdout, stderr) = cdl(&dir, args);
        assert_eq!(code, Some(2), "{args:?}");
        assert!(stdout.is_empty());
        assert!(stderr.contains("error:"), "{stderr}");
    }
    let (code, _, stderr) = cdl(
        &dir,
        &["export", "-t", "all", "webshop.cdl", "--deny-lossy"],
    );
    assert_eq!(code, Some(2));
    assert!(stderr.contains("error[W0200]"), "{stderr}");
    assert!(
        stderr.contains("cannot be expressed exactly on every target (--deny-lossy)"),
        "{stderr}"
    );
    assert_eq!(files(&dir), ["webshop.cdl"]);
    std::fs::remove_dir_all(&dir).unwrap();
}
