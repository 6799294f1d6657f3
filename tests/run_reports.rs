//! Reports and kept files (language v2 §8) under `cdl run`, the real binary: JUnit results
//! counted in the summary, `--junit`, `report.html` and `cdl logs`; files kept after a failure;
//! malformed reports a warning; a kill during collection leaves the run resumable and whole.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn cdl(dir: &Path, args: &[&str], envs: &[(&str, &str)]) -> Output {
    let mut command = Command::new(assert_cmd::cargo::cargo_bin!("cdl"));
    command
        .current_dir(dir)
        .args(args)
        .env_remove("NO_COLOR")
        .env_remove("CDL_FAILPOINT")
        .stdin(Stdio::null());
    for (k, v) in envs {
        command.env(k, v);
    }
    command.output().expect("cdl runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn only_run(dir: &Path) -> PathBuf {
    let mut runs: Vec<PathBuf> = std::fs::read_dir(dir.join(".cdl/runs"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    assert_eq!(runs.len(), 1);
    runs.pop().unwrap()
}

/// A test job that writes a JUnit file (2 passed, 1 failed, 1 error, 1 skipped, hostile names),
/// a Cobertura file, prints a coverage line, keeps a folder, and fails.
const FAILING: &str = r#"pipeline shop {
  stage test {
    test unit {
      run = "./write-reports.sh && exit 4"
      reports {
        junit          = ["out/junit-*.xml"]
        coverage       = "out/cobertura.xml"
        coverage_regex = "^TOTAL.*\\s(\\d+(?:\\.\\d+)?)%$"
      }
      keep      = ["bench/**"]
      retention = 3d
    }
  }
}
"#;

const WRITE_REPORTS: &str = r#"#!/bin/sh
set -e
mkdir -p out bench/deep
cat > out/junit-a.xml <<'XML'
<?xml version="1.0" encoding="UTF-8"?>
<testsuites><testsuite name="math">
  <testcase classname="math.add" name="adds" time="0.25"/>
  <testcase classname="math.add" name="&lt;script&gt;alert(1)&lt;/script&gt;" time="0.5"/>
  <testcase classname="math.div" name="divides by zero"><failure message="expected &quot;inf&quot; &amp; got NaN">trace</failure></testcase>
  <testcase classname="math.div" name="errors"><error message="panicked"/></testcase>
  <testcase classname="math.pow" name="later"><skipped message="not yet"/></testcase>
</testsuite></testsuites>
XML
echo '<coverage line-rate="0.5" branch-rate="0"></coverage>' > out/cobertura.xml
echo one > bench/result.txt
echo two > bench/deep/more.txt
echo 'TOTAL 120 12 90.0%'
echo 'TOTAL 120 30 75.5%'
"#;

fn project(pipeline: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("pipeline.cdl"), pipeline).unwrap();
    let script = dir.path().join("write-reports.sh");
    std::fs::write(&script, WRITE_REPORTS).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    dir
}

#[test]
fn a_failed_job_keeps_its_files_and_its_test_counts_show_everywhere() {
    let dir = project(FAILING);
    let out = cdl(
        dir.path(),
        &["run", "pipeline.cdl", "--junit", "run.xml"],
        &[],
    );
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}{}", text(&out.stderr));
    // The summary: 2 passed, 2 failed (a failure and an error), 1 skipped; the regex's last
    // matching line wins over Cobertura's line-rate.
    let row = stdout
        .lines()
        .find(|l| l.starts_with("unit") && l.contains("files"))
        .unwrap_or_else(|| panic!("no tests row in {stdout}"));
    let cells: Vec<&str> = row.split_whitespace().collect();
    assert_eq!(
        cells,
        ["unit", "2", "2", "1", "75.5%", "4", "files"],
        "{row}"
    );

    // Kept files are stored under the run, after the failure.
    let run = only_run(dir.path());
    let files = run.join("kept/unit/attempt-1/files");
    assert_eq!(
        std::fs::read_to_string(files.join("bench/deep/more.txt")).unwrap(),
        "two\n"
    );
    assert!(files.join("out/junit-a.xml").is_file());
    assert!(files.join("out/cobertura.xml").is_file());

    // `--junit`: the job's test cases in a suite nested in its stage's, counted in the total.
    let junit = std::fs::read_to_string(dir.path().join("run.xml")).unwrap();
    assert!(
        junit.contains("<testsuites name=\"shop run ")
            && junit.contains("tests=\"6\" failures=\"3\""),
        "{junit}"
    );
    assert!(junit.contains(
        "<testcase name=\"divides by zero\" classname=\"unit.math.div\" time=\"0.000\"><failure type=\"failed\" message=\"expected &quot;inf&quot; &amp; got NaN\"/></testcase>"
    ), "{junit}");
    assert!(junit.contains("<skipped message=\"not yet\"/>"), "{junit}");
    assert!(junit.contains("name=\"&lt;script&gt;alert(1)&lt;/script&gt;\""));
    let mut reader = quick_xml::Reader::from_str(&junit);
    reader.config_mut().check_end_names = true;
    loop {
        match reader.read_event() {
            Ok(quick_xml::events::Event::Eof) => break,
            Ok(_) => {}
            Err(e) => panic!("--junit is not well-formed: {e}\n{junit}"),
        }
    }

    // report.html: counts, coverage and kept files, every name escaped.
    let html = std::fs::read_to_string(run.join("report.html")).unwrap();
    assert!(html.contains("<h2>Tests and kept files</h2>"));
    assert!(!html.contains("<script>alert(1)"), "unescaped test name");
    assert!(html.contains("<td class=\"passed\">2</td><td class=\"failed\">2</td><td class=\"skipped\">1</td><td>75.5%</td><td>4</td>"));
    assert!(html.contains("<code>bench/deep/more.txt</code>"));

    // `cdl logs` lists the kept files after the log.
    let id = run.file_name().unwrap().to_string_lossy().into_owned();
    let logs = text(&cdl(dir.path(), &["logs", &id, "unit"], &[]).stdout);
    assert!(
        logs.contains("── 2 passed, 2 failed, 1 skipped · coverage 75.5% · 4 files kept"),
        "{logs}"
    );
    assert!(
        logs.contains("kept/unit/attempt-1/files/bench/result.txt"),
        "{logs}"
    );
}

#[test]
fn malformed_huge_and_missing_reports_are_warnings_and_the_job_passes() {
    let dir = project(
        r#"pipeline p { stage s {
          job j {
            run = "mkdir -p r && printf '<testsuite><testcase name=\"a\"/><testcase' > r/cut.xml && printf '<html/>' > r/page.xml && printf '<coverage/>' > cov.xml && truncate -s 65M r/huge.xml"
            reports { junit = ["r/*.xml", "nowhere/*.xml"]  coverage = "cov.xml"  codequality = "missing.json" }
          }
        } }"#,
    );
    let out = cdl(dir.path(), &["run", "pipeline.cdl"], &[]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    for warning in [
        "⚠ j: the JUnit file `r/cut.xml` was not read to its end: not well-formed XML",
        "⚠ j: the JUnit file `r/page.xml` was not read to its end: its root element is <html>",
        "⚠ j: the JUnit file `r/huge.xml` was not read to its end: it is 65 MiB, more than the 64 MiB cdl reads",
        "⚠ j: `nowhere/*.xml` matched no file",
        "⚠ j: `missing.json` matched no file",
        "⚠ j: the coverage file `cov.xml` gives no coverage: its <coverage> has no `line-rate`",
    ] {
        assert!(stdout.contains(warning), "missing {warning:?} in {stdout}");
    }
    // The case read before the cut is counted.
    assert!(
        stdout.contains("j: 1 passed, 0 failed, 0 skipped"),
        "{stdout}"
    );
}

#[test]
fn a_kill_while_collecting_leaves_a_run_that_resumes_with_every_file() {
    let dir = project(FAILING);
    let killed = cdl(
        dir.path(),
        &["run", "pipeline.cdl"],
        &[("CDL_FAILPOINT", "report-copying:2")],
    );
    assert_eq!(killed.status.code(), None, "killed by SIGKILL");
    let run = only_run(dir.path());
    assert!(run.join("kept/unit/attempt-1.partial").is_dir());
    assert!(
        !run.join("kept/unit/attempt-1").exists(),
        "no half collection"
    );
    let status = cdl(dir.path(), &["status"], &[]);
    assert_eq!(status.status.code(), Some(0), "{}", text(&status.stderr));

    let resumed = cdl(dir.path(), &["resume"], &[]);
    let stdout = text(&resumed.stdout);
    assert_eq!(
        resumed.status.code(),
        Some(1),
        "{stdout}{}",
        text(&resumed.stderr)
    );
    let kept: Vec<String> = std::fs::read_dir(run.join("kept/unit"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert!(kept.iter().all(|k| !k.contains('.')), "left over: {kept:?}");
    let latest = kept.iter().max().unwrap();
    let files = run.join("kept/unit").join(latest).join("files");
    for file in [
        "out/junit-a.xml",
        "out/cobertura.xml",
        "bench/result.txt",
        "bench/deep/more.txt",
    ] {
        assert!(
            files.join(file).is_file(),
            "{file} not kept after resume: {stdout}"
        );
    }
    assert!(stdout.contains("75.5%"), "{stdout}");
}

/// `pages = "FOLDER"`: `cdl run` keeps the published folder with the run, as kept files.
#[test]
fn the_published_site_is_kept_with_the_run() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("pipeline.cdl"),
        r#"pipeline p {
    stage s {
        job site {
            run   = ["mkdir -p site/html/css", "echo '<h1>hi</h1>' > site/html/index.html", "echo 'a{}' > site/html/css/a.css"]
            pages = "site/html"
        }
    }
}"#,
    )
    .unwrap();
    let out = cdl(dir.path(), &["run", "pipeline.cdl"], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let files = only_run(dir.path()).join("kept/site/attempt-1/files/site/html");
    assert_eq!(
        std::fs::read_to_string(files.join("index.html")).unwrap(),
        "<h1>hi</h1>\n"
    );
    assert!(files.join("css/a.css").exists());
}

/// `keep_when = on_failure` keeps the files of a failed attempt only; `on_success` of a
/// passed one only.
#[test]
fn keep_when_keeps_files_of_the_outcome_it_names() {
    for (exit, when, kept) in [
        (1, "on_failure", true),
        (0, "on_failure", false),
        (0, "on_success", true),
        (1, "on_success", false),
    ] {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("pipeline.cdl"),
            format!(
                r#"pipeline p {{
    stage s {{
        job t {{
            run       = "echo log > test.log && exit {exit}"
            keep      = ["test.log"]
            keep_when = {when}
        }}
    }}
}}"#
            ),
        )
        .unwrap();
        let out = cdl(dir.path(), &["run", "pipeline.cdl"], &[]);
        assert_eq!(out.status.code(), Some(exit), "{}", text(&out.stderr));
        let file = only_run(dir.path()).join("kept/t/attempt-1/files/test.log");
        assert_eq!(file.exists(), kept, "exit {exit}, keep_when = {when}");
    }
}
