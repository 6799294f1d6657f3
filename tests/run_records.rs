//! Bad input around runs: hostile run ids through every command that takes one, hand-edited
//! run records, `cdl logs` of jobs that did not run, `--junit` paths; always a clear error and an
//! exit code, never a panic, never a file outside the state folder.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

const PIPELINE: &str = r#"pipeline p {
    environment prod { url = "https://p.example"; requires approval }
    stage build { artifact app { run = "mkdir -p out && echo v1 > out/app.bin"; outputs = ["out"] } }
    stage approve { gate ship { approvers = ["alice"]; required = 1 } }
    stage deploy { deploy app to prod { run = "cat \"$CDL_ARTIFACT_APP/out/app.bin\" >> deployed" } }
}"#;

fn cdl(dir: &Path, args: &[&str]) -> Output {
    Command::new(assert_cmd::cargo::cargo_bin!("cdl"))
        .current_dir(dir)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("cdl runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A project with one run paused at the gate; returns it and the run id.
fn paused_run() -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("pipeline.cdl"), PIPELINE).unwrap();
    let out = cdl(dir.path(), &["run", "pipeline.cdl", "--as", "alice"]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    let store = cdl::run::record::Store::new(dir.path().join(".cdl"));
    let id = store.run_ids().pop().unwrap();
    (dir, id)
}

/// Every file under `dir`, but the state folder.
fn files_outside_state(dir: &Path) -> Vec<PathBuf> {
    fn walk(path: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(path).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.file_name().is_some_and(|n| n == ".cdl") {
                continue;
            }
            out.push(path.clone());
            if path.is_dir() && !path.is_symlink() {
                walk(&path, out);
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, &mut out);
    out.sort();
    out
}

fn assert_no_panic(out: &Output, what: &str) {
    let stderr = text(&out.stderr);
    assert_ne!(out.status.code(), Some(101), "{what} panicked: {stderr}");
    assert!(!stderr.contains("panicked"), "{what}: {stderr}");
    assert!(out.status.code().is_some(), "{what} was killed by a signal");
}

/// Makes the read-only stored artifact folders removable.
fn unseal(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    if path.is_dir() && !path.is_symlink() {
        let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755));
        for entry in std::fs::read_dir(path).into_iter().flatten().flatten() {
            unseal(&entry.path());
        }
    }
}

const HOSTILE_IDS: &[&str] = &[
    "../../x",
    "..",
    ".",
    "../runs/../../escape",
    "/etc",
    "/tmp/cdl-hostile",
    "a/b",
    "x\ny",
    "",
    ".hidden",
    "a b",
    "$(touch pwned)",
    "`touch pwned`",
    "%2e%2e%2f",
    "..\\..\\x",
    "run\0id",
    "日本",
    "20261126-101502/../../../x",
];

#[test]
fn hostile_run_ids_are_refused_by_every_command() {
    let (dir, _) = paused_run();
    let before = files_outside_state(dir.path());
    let long = "a".repeat(300);
    let mut ids: Vec<&str> = HOSTILE_IDS.to_vec();
    ids.push(&long);
    for id in ids {
        if id.contains('\0') {
            // No process argument can hold a NUL byte.
            continue;
        }
        let run_option = format!("--run={id}");
        let commands: Vec<Vec<&str>> = vec![
            vec!["status", "--", id],
            vec!["logs", "--", id, "ship"],
            vec!["resume", "--", id],
            vec!["approve", "ship", &run_option, "--as", "alice"],
            vec!["reject", "ship", &run_option, "--as", "alice"],
        ];
        for args in commands {
            let out = cdl(dir.path(), &args);
            let what = format!("{args:?}");
            assert_no_panic(&out, &what);
            assert_eq!(out.status.code(), Some(2), "{what}: {}", text(&out.stderr));
            let stderr = text(&out.stderr);
            assert!(stderr.contains("is not a run id"), "{what}: {stderr}");
        }
    }
    assert_eq!(files_outside_state(dir.path()), before);
    assert!(!Path::new("/tmp/cdl-hostile").exists());
    // The refusals changed nothing: the run still waits and can be approved.
    let out = cdl(dir.path(), &["approve", "ship", "--as", "alice"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    unseal(dir.path());
}

#[test]
fn an_unknown_but_well_formed_run_id_is_a_clear_error() {
    let (dir, _) = paused_run();
    for args in [
        vec!["status", "20991231-000000"],
        vec!["logs", "20991231-000000", "ship"],
        vec!["resume", "20991231-000000"],
        vec![
            "approve",
            "ship",
            "--run",
            "20991231-000000",
            "--as",
            "alice",
        ],
    ] {
        let out = cdl(dir.path(), &args);
        assert_no_panic(&out, &format!("{args:?}"));
        assert_eq!(out.status.code(), Some(2));
        assert!(
            text(&out.stderr).contains("there is no run 20991231-000000"),
            "{args:?}: {}",
            text(&out.stderr)
        );
    }
    unseal(dir.path());
}

type Mutation = (&'static str, &'static str, fn(&mut Value));

/// Edits of `run.json` or `plan.json` a person might make; each must give an error naming the
/// file, or (the last ones) be harmless.
fn mutations() -> Vec<Mutation> {
    vec![
        ("a job missing", "run.json", |r| {
            r["jobs"].as_object_mut().unwrap().remove("app").unwrap();
        }),
        ("a gate removed from the plan", "plan.json", |p| {
            p["jobs"]
                .as_array_mut()
                .unwrap()
                .retain(|j| j["id"] != "ship");
            for stage in p["stages"].as_array_mut().unwrap() {
                stage["jobs"]
                    .as_array_mut()
                    .unwrap()
                    .retain(|j| j != "ship");
            }
        }),
        ("a gate removed from the record", "run.json", |r| {
            r["jobs"].as_object_mut().unwrap().remove("ship");
        }),
        ("a job's state of the wrong type", "run.json", |r| {
            r["jobs"]["ship"]["state"] = Value::from(5);
        }),
        ("an unknown state", "run.json", |r| {
            r["jobs"]["ship"]["state"] = Value::from("exploded");
        }),
        ("jobs not an object", "run.json", |r| {
            r["jobs"] = Value::from("none");
        }),
        ("a need naming nothing", "plan.json", |p| {
            let jobs = p["jobs"].as_array_mut().unwrap();
            let last = jobs.len() - 1;
            jobs[last]["needs"] = serde_json::json!(["nowhere"]);
        }),
        ("a job in a stage that is gone", "plan.json", |p| {
            p["jobs"][0]["stage"] = Value::from("vanished");
        }),
        ("a job twice", "plan.json", |p| {
            let first = p["jobs"][0].clone();
            p["jobs"].as_array_mut().unwrap().push(first);
        }),
        ("a running job without an attempt", "run.json", |r| {
            r["jobs"]["ship"]["state"] = Value::from("running");
            r["jobs"]["ship"]["attempts"] = serde_json::json!([]);
        }),
        ("a plain job waiting for approval", "run.json", |r| {
            let first = r["jobs"]
                .as_object()
                .unwrap()
                .keys()
                .next()
                .unwrap()
                .clone();
            r["jobs"][&first]["state"] = Value::from("waiting");
        }),
        ("a bad artifact digest", "run.json", |r| {
            r["artifacts"]["app"]["digest"] = Value::from("../../etc");
        }),
        ("an artifact pointing out of the store", "run.json", |r| {
            r["artifacts"]["app"]["path"] = Value::from("/etc");
        }),
        ("another run's id", "run.json", |r| {
            r["id"] = Value::from("../../elsewhere");
        }),
        ("a future schema", "run.json", |r| {
            r["schema"] = Value::from("cdl.run/v9");
        }),
        (
            "a receiver of an artifact nobody builds",
            "plan.json",
            |p| {
                let jobs = p["jobs"].as_array_mut().unwrap();
                let last = jobs.len() - 1;
                jobs[last]["inputs"] = serde_json::json!(["ghost"]);
            },
        ),
        ("init's process group", "run.json", |r| {
            r["groups"] = serde_json::json!({"ship": 1});
        }),
        (
            "a process group of a job that is not there",
            "run.json",
            |r| {
                r["groups"] = serde_json::json!({"ghost": 4242});
            },
        ),
        ("truncated", "run.json", |r| {
            *r = Value::from("{\"schema\": ");
        }),
    ]
}

fn edit(path: &Path, mutate: fn(&mut Value)) {
    let mut value: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    mutate(&mut value);
    let text = match &value {
        Value::String(s) if s.starts_with('{') => s.clone(),
        _ => serde_json::to_string_pretty(&value).unwrap(),
    };
    std::fs::write(path, text).unwrap();
}

#[test]
fn hand_edited_records_are_a_clear_error_naming_the_file() {
    for (what, file, mutate) in mutations() {
        let (dir, id) = paused_run();
        let run_dir = dir.path().join(".cdl/runs").join(&id);
        edit(&run_dir.join(file), mutate);
        let commands: Vec<Vec<&str>> = vec![
            vec!["status", &id],
            vec!["logs", &id, "ship"],
            vec!["approve", "ship", "--run", &id, "--as", "alice"],
            vec!["resume", &id],
        ];
        for args in commands {
            let out = cdl(dir.path(), &args);
            let context = format!("{what}: {args:?}");
            assert_no_panic(&out, &context);
            assert_eq!(
                out.status.code(),
                Some(2),
                "{context}: {}",
                text(&out.stderr)
            );
            let stderr = text(&out.stderr);
            assert!(
                stderr.contains(file),
                "{context}: the message names {file}: {stderr}"
            );
        }
        let out = cdl(dir.path(), &["runs"]);
        assert_no_panic(&out, what);
        assert!(text(&out.stdout).contains("unreadable"), "{what}");
        assert!(
            !dir.path().join("deployed").exists(),
            "{what}: nothing deployed"
        );
        unseal(dir.path());
    }
}

#[test]
fn jobs_reordered_by_hand_are_put_back_in_plan_order() {
    let (dir, id) = paused_run();
    let run_json = dir.path().join(".cdl/runs").join(&id).join("run.json");
    edit(&run_json, |r| {
        let jobs = r["jobs"].as_object().unwrap().clone();
        let reversed: serde_json::Map<String, Value> = jobs.into_iter().rev().collect();
        r["jobs"] = Value::Object(reversed);
    });
    assert!(
        cdl(dir.path(), &["approve", "ship", "--as", "alice"])
            .status
            .success()
    );
    let out = cdl(dir.path(), &["resume"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("deployed")).unwrap(),
        "v1\n"
    );
    unseal(dir.path());
}

/// Random damage to `run.json`: any value replaced by a string, a number, null, or removed,
/// at random depths (a fixed-seed generator, so a failure reproduces).
#[test]
fn random_damage_to_a_record_never_panics() {
    let (dir, id) = paused_run();
    let run_json = dir.path().join(".cdl/runs").join(&id).join("run.json");
    let original = std::fs::read_to_string(&run_json).unwrap();
    let mut seed: u64 = 0x05ee_dcd1;
    let mut next = move |n: usize| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % n.max(1) as u64) as usize
    };
    for round in 0..40 {
        let mut value: Value = serde_json::from_str(&original).unwrap();
        let mut node = &mut value;
        loop {
            let children = match node {
                Value::Object(map) => map.len(),
                Value::Array(items) => items.len(),
                _ => 0,
            };
            if children == 0 || next(3) == 0 {
                break;
            }
            let pick = next(children);
            node = match node {
                Value::Object(map) => map.values_mut().nth(pick).unwrap(),
                Value::Array(items) => &mut items[pick],
                _ => unreachable!(),
            };
        }
        *node = match next(5) {
            0 => Value::Null,
            1 => Value::from(-1),
            2 => Value::from("../../x"),
            3 => serde_json::json!({}),
            _ => serde_json::json!([1, "a", null]),
        };
        std::fs::write(&run_json, serde_json::to_string(&value).unwrap()).unwrap();
        for args in [vec!["status", id.as_str()], vec!["logs", &id, "ship"]] {
            let out = cdl(dir.path(), &args);
            assert_no_panic(&out, &format!("round {round}: {args:?}: {value}"));
        }
    }
    unseal(dir.path());
}

#[test]
fn logs_tell_did_not_run_from_ran_with_no_output() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("pipeline.cdl"),
        r#"pipeline p {
            stage s {
                job quiet { run = "true" }
                job loud { run = "echo hello" }
                job broken { run = "exit 3" }
                job later { run = "echo never"; after = [broken] }
            }
        }"#,
    )
    .unwrap();
    let out = cdl(dir.path(), &["run", "pipeline.cdl"]);
    assert_eq!(out.status.code(), Some(1));
    let store = cdl::run::record::Store::new(dir.path().join(".cdl"));
    let id = store.run_ids().pop().unwrap();
    let logs = |job: &str| {
        let out = cdl(dir.path(), &["logs", &id, job]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        (text(&out.stdout), text(&out.stderr))
    };
    assert!(logs("loud").0.contains("hello"));
    let quiet = logs("quiet").1;
    assert!(quiet.contains("`quiet` ran in run"), "{quiet}");
    assert!(quiet.contains("printed nothing (it passed)"), "{quiet}");
    let broken = logs("broken").1;
    assert!(
        broken.contains("printed nothing (it failed: exited with 3)"),
        "{broken}"
    );
    let later = logs("later").1;
    assert!(later.contains("`later` did not run"), "{later}");
    assert!(
        later.contains("skipped: stopped: `broken` failed"),
        "{later}"
    );
}

#[test]
fn the_junit_path_is_checked_before_the_run_starts() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("pipeline.cdl"),
        r#"pipeline p { stage s { job j { run = "touch ran" } } }"#,
    )
    .unwrap();
    std::fs::create_dir(dir.path().join("reports")).unwrap();
    for (path, message) in [
        ("missing/folder/junit.xml", "does not exist"),
        ("reports", "it is a folder"),
    ] {
        let out = cdl(dir.path(), &["run", "pipeline.cdl", "--junit", path]);
        assert_eq!(out.status.code(), Some(2), "{path}");
        let stderr = text(&out.stderr);
        assert!(stderr.contains(&format!("--junit {path}")), "{stderr}");
        assert!(stderr.contains(message), "{stderr}");
        assert!(!dir.path().join("ran").exists(), "{path}: the run started");
        assert!(
            !dir.path().join(".cdl/runs").exists(),
            "{path}: a run was created"
        );
    }
    let out = cdl(
        dir.path(),
        &["run", "pipeline.cdl", "--junit", "reports/junit.xml"],
    );
    assert!(out.status.success());
    assert!(dir.path().join("reports/junit.xml").is_file());
    // The same check before a resume.
    let out = cdl(dir.path(), &["resume", "--junit", "missing/junit.xml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("does not exist"));
}
