//! Matrices with `include` and `exclude` (language v2 §7) under `cdl run`, the real binary on
//! a pipeline written to a temporary folder: the instances that run are GitHub's, each sees
//! every key as `CDL_MATRIX_<KEY>` (empty where it lacks one), and hostile values reach the
//! commands as they were written.

use std::path::Path;
use std::process::{Command, Output, Stdio};

fn run(pipeline: &str, dir: &Path) -> Output {
    std::fs::write(dir.join("pipeline.cdl"), pipeline).unwrap();
    Command::new(assert_cmd::cargo::cargo_bin!("cdl"))
        .current_dir(dir)
        .args(["run", "pipeline.cdl"])
        .env_remove("NO_COLOR")
        .stdin(Stdio::null())
        .output()
        .expect("cdl runs")
}

/// The lines the instances wrote, one file each (`out-N.txt`), sorted.
fn lines(dir: &Path) -> Vec<String> {
    let mut lines: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with("out-"))
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect();
    lines.sort();
    lines
}

#[test]
fn include_and_exclude_run_githubs_instances_with_every_key() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(
        r#"pipeline p { stage s {
            job j {
                run = "printf '%s|%s|%s|%s\n' \"$CDL_JOB\" \"$CDL_MATRIX_OS\" \"$CDL_MATRIX_RUST\" \"$CDL_MATRIX_EXTRA\" > \"out-$(printf '%s' \"$CDL_JOB\" | cksum | cut -d' ' -f1).txt\""
                matrix {
                    os   = ["linux", "windows"]
                    rust = ["stable", "nightly"]
                    include { extra = "all" }
                    include { os = "linux"  extra = "linux-only" }
                    exclude { os = "windows"  rust = "nightly" }
                    include { os = "macos"  rust = "stable" }
                }
            }
        } }"#,
        dir.path(),
    );
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        lines(dir.path()),
        [
            "j[os=linux,rust=nightly]|linux|nightly|linux-only\n",
            "j[os=linux,rust=stable]|linux|stable|linux-only\n",
            "j[os=macos,rust=stable]|macos|stable|\n",
            "j[os=windows,rust=stable]|windows|stable|all\n",
        ]
    );
}

#[test]
fn hostile_values_of_an_include_only_matrix_reach_commands_intact() {
    let dir = tempfile::tempdir().unwrap();
    let values = [
        "a,b=c",
        "${{ secrets.X }} $HOME $$ $(id)",
        "say \"hi\" 'there' \\",
        "<<a>> {{x}} # : ",
    ];
    let includes: String = values
        .iter()
        .map(|v| format!("include {{ v = {v:?} }}\n"))
        .collect();
    let pipeline = format!(
        r#"pipeline p {{ stage s {{
            job j {{
                run = "printf '%s' \"$CDL_MATRIX_V\" > \"out-$(printf '%s' \"$CDL_JOB\" | cksum | cut -d' ' -f1).txt\""
                matrix {{
                    {includes}
                }}
            }}
        }} }}"#
    );
    let out = run(&pipeline, dir.path());
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let mut want: Vec<String> = values.iter().map(|v| v.to_string()).collect();
    want.sort();
    assert_eq!(lines(dir.path()), want);
}

#[test]
fn a_condition_on_a_matrix_key_skips_the_instances_it_is_false_for() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(
        r#"pipeline p { stage s {
            job j {
                run  = "printf '%s\n' \"$CDL_JOB\" > \"out-$(printf '%s' \"$CDL_JOB\" | cksum | cut -d' ' -f1).txt\""
                when = matrix.os == "linux" || matrix.extra == "yes"
                matrix {
                    os = ["linux", "macos", "windows"]
                    include { os = "windows"  extra = "yes" }
                }
            }
        } }"#,
        dir.path(),
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert_eq!(
        lines(dir.path()),
        ["j[os=linux]\n", "j[os=windows]\n"],
        "{stdout}"
    );
    assert!(stdout.contains("j[os=macos]"), "{stdout}");
}

/// `max_parallel = 2`: with room for six jobs at once, no more than two instances of the
/// matrix ever run together (each instance counts the instances running when it starts, by
/// marker files), and every instance runs; another job is not held back by the limit.
#[test]
fn max_parallel_limits_the_instances_running_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let pipeline = r#"pipeline p {
    stage s {
        job unit {
            matrix {
                n            = ["1", "2", "3", "4", "5", "6"]
                max_parallel = 2
            }
            run = "mkdir -p running && touch running/$CDL_MATRIX_N && ls running | wc -l > out-$CDL_MATRIX_N.txt && sleep 0.3 && rm running/$CDL_MATRIX_N"
        }
        job other { run = "echo other > other.txt" }
    }
}"#;
    std::fs::write(dir.path().join("pipeline.cdl"), pipeline).unwrap();
    let out = Command::new(assert_cmd::cargo::cargo_bin!("cdl"))
        .current_dir(dir.path())
        .args(["run", "pipeline.cdl", "--jobs", "6"])
        .stdin(Stdio::null())
        .output()
        .expect("cdl runs");
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let counts: Vec<usize> = lines(dir.path())
        .iter()
        .map(|l| l.trim().parse().unwrap())
        .collect();
    assert_eq!(counts.len(), 6, "every instance ran: {counts:?}");
    assert!(counts.iter().all(|&c| (1..=2).contains(&c)), "{counts:?}");
    assert!(dir.path().join("other.txt").exists());
}
