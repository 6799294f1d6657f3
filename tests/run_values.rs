//! Values passed between jobs (language v2 §4 "Passing values") under `cdl run`, the real
//! binary on pipelines written to a temporary folder: a job's `$CDL_VALUES` lines reach the
//! jobs that wait for it as `CDL_VALUE_<JOB>_<NAME>`, across stages and `after`, survive a
//! resume, and an undeclared name fails the job.

use std::path::Path;
use std::process::{Command, Output, Stdio};

use serde_json::Value;

fn cdl(dir: &Path, args: &[&str]) -> Output {
    Command::new(assert_cmd::cargo::cargo_bin!("cdl"))
        .current_dir(dir)
        .args(args)
        .env("NO_COLOR", "1")
        .env("HOME", dir)
        .stdin(Stdio::null())
        .output()
        .expect("cdl runs")
}

fn run(pipeline: &str, dir: &Path) -> Output {
    std::fs::write(dir.join("pipeline.cdl"), pipeline).unwrap();
    cdl(dir, &["run", "pipeline.cdl"])
}

fn read(dir: &Path, file: &str) -> String {
    std::fs::read_to_string(dir.join(file)).unwrap_or_default()
}

fn latest_record(dir: &Path) -> Value {
    let store = cdl::run::record::Store::new(dir.join(".cdl"));
    let id = store.run_ids().pop().expect("a run");
    serde_json::to_value(store.load(&id).expect("a readable record")).unwrap()
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// A value with every character a shell or a CI system could read as something else.
const HOSTILE: &str = r#"a$HOME ${{ x }} $(touch pwned) `id` "q" 'q' \n # : <<EOF {{x}} $$ %s"#;

#[test]
fn values_reach_later_stages_and_after_jobs_and_unwritten_ones_are_empty() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("hostile.txt"), HOSTILE).unwrap();
    let out = run(
        r#"pipeline p {
          stage build {
            job meta {
              values = [version, notes, never]
              step one { run = "echo version=1.2.3 >> \"$CDL_VALUES\"" }
              step two { run = "printf 'notes=%s\n' \"$(cat hostile.txt)\" >> \"$CDL_VALUES\"" }
              run = "echo version=1.2.4 >> \"$CDL_VALUES\""
            }
            job same_stage {
              after = [meta]
              run = "printf '%s|%s|%s' \"$CDL_VALUE_META_VERSION\" \"$CDL_VALUE_META_NEVER\" \"${CDL_VALUE_META_NEVER+set}\" > after.txt"
            }
            job unrelated { run = "printf '%s' \"${CDL_VALUE_META_VERSION-unset}\" > unrelated.txt" }
          }
          stage release {
            job publish { run = "printf '%s' \"$CDL_VALUE_META_NOTES\" > notes.txt" }
          }
        }"#,
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(
        read(dir.path(), "after.txt"),
        "1.2.4||set",
        "the last line wins"
    );
    assert_eq!(read(dir.path(), "notes.txt"), HOSTILE);
    assert_eq!(
        read(dir.path(), "unrelated.txt"),
        "unset",
        "a job that does not wait for `meta` reads none of its values"
    );
    assert!(!dir.path().join("pwned").exists());
    let record = latest_record(dir.path());
    assert_eq!(record["jobs"]["meta"]["values"]["version"], "1.2.4");
    assert_eq!(record["jobs"]["meta"]["values"]["never"], "");
}

#[test]
fn an_undeclared_value_fails_the_job_with_the_name() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(
        r#"pipeline p {
          stage build {
            job meta { values = [version]  run = "echo tag=v1 >> \"$CDL_VALUES\"" }
            job plain { run = "echo x=1 >> \"$CDL_VALUES\"" }
          }
          stage release { job publish { run = "touch published" } }
        }"#,
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let record = latest_record(dir.path());
    let reason = record["jobs"]["meta"]["reason"].as_str().unwrap();
    assert!(
        reason.contains("`tag`") && reason.contains("`version`"),
        "{reason}"
    );
    let reason = record["jobs"]["plain"]["reason"]
        .as_str()
        .unwrap_or_default();
    assert!(reason.contains("declares no values"), "{reason}");
    assert!(!dir.path().join("published").exists());
}

#[test]
fn a_resumed_run_keeps_the_values_of_jobs_that_ran_before_it_stopped() {
    let dir = tempfile::tempdir().unwrap();
    let first = run(
        r#"pipeline p {
          stage build {
            job meta {
              values = [digest]
              run = "echo ran >> meta-ran.txt; echo digest=sha256:abc >> \"$CDL_VALUES\""
            }
          }
          stage release {
            gate ship { approvers = ["alice"] }
            job publish { after = [ship]  run = "printf '%s' \"$CDL_VALUE_META_DIGEST\" > digest.txt" }
          }
        }"#,
        dir.path(),
    );
    assert_eq!(first.status.code(), Some(3), "waiting: {}", text(&first));
    let approved = cdl(dir.path(), &["approve", "ship", "--as", "alice"]);
    assert_eq!(approved.status.code(), Some(0), "{}", text(&approved));
    let resumed = cdl(dir.path(), &["resume"]);
    assert_eq!(resumed.status.code(), Some(0), "{}", text(&resumed));
    assert_eq!(read(dir.path(), "digest.txt"), "sha256:abc");
    assert_eq!(read(dir.path(), "meta-ran.txt"), "ran\n", "meta ran once");
}
