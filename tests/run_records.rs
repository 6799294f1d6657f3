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

fn cdl_with(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    Command::new(assert_cmd::cargo::cargo_bin!("cdl"))
        .current_dir(dir)
        .args(args)
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .output()
        .expect("cdl runs")
}

/// A paused run whose journal holds `count` entries written by cdl's own writer (each sets
/// the run's status, so the last one read is visible), plus the run folder.
fn journaled_run(count: u64) -> (tempfile::TempDir, String, PathBuf) {
    let (dir, id) = paused_run();
    let store = cdl::run::record::Store::new(dir.path().join(".cdl"));
    let record = store.load(&id).unwrap();
    let changes: Vec<cdl::run::record::Change> = (0..count)
        .map(|n| cdl::run::record::Change::Run {
            status: cdl::run::record::RunStatus::Paused,
            pid: 1000 + n as u32,
            finished_ms: None,
        })
        .collect();
    store
        .append_with(&id, record.journal_seq + 1, &changes, false)
        .unwrap();
    let run_dir = dir.path().join(".cdl/runs").join(&id);
    (dir, id, run_dir)
}

#[test]
fn every_changed_byte_of_the_journal_is_an_error_naming_its_line() {
    let (dir, id, run_dir) = journaled_run(3);
    let journal = run_dir.join("journal.jsonl");
    let whole = std::fs::read(&journal).unwrap();
    assert_eq!(whole.iter().filter(|b| **b == b'\n').count(), 3);
    let store = cdl::run::record::Store::new(dir.path().join(".cdl"));
    assert_eq!(store.load(&id).unwrap().pid, 1002, "the journal is read");
    let line_of = |at: usize| whole[..at].iter().filter(|b| **b == b'\n').count() + 1;
    // Every byte but the last line break (without it the last line is a torn tail).
    for at in 0..whole.len() - 1 {
        for flip in [0x01u8, 0x20, 0x80, 0xff] {
            let mut damaged = whole.clone();
            damaged[at] ^= flip;
            std::fs::write(&journal, &damaged).unwrap();
            match store.load(&id) {
                Err(cdl::run::error::RunError::Journal { line, .. }) => {
                    assert_eq!(line, line_of(at), "byte {at} ^ {flip:#x}")
                }
                other => panic!("byte {at} ^ {flip:#x}: {other:?}"),
            }
        }
    }
    // Through the command line: the file and line, a help line, exit code 2, for each line.
    for line in 1..=3usize {
        let start = whole
            .split_inclusive(|b| *b == b'\n')
            .take(line - 1)
            .map(<[u8]>::len)
            .sum::<usize>();
        let mut damaged = whole.clone();
        damaged[start + 4] ^= 0x01;
        std::fs::write(&journal, &damaged).unwrap();
        for args in [vec!["status", id.as_str()], vec!["resume", id.as_str()]] {
            let out = cdl(dir.path(), &args);
            assert_no_panic(&out, "a damaged journal");
            assert_eq!(out.status.code(), Some(2));
            let stderr = text(&out.stderr);
            assert!(
                stderr.contains(&format!("journal.jsonl:{line}: a damaged journal entry")),
                "{stderr}"
            );
            assert!(stderr.contains("help: "), "{stderr}");
        }
    }
    unseal(dir.path());
}

#[test]
fn a_torn_tail_is_ignored_and_cut_off_by_the_next_writer() {
    let (dir, id, run_dir) = journaled_run(2);
    let journal = run_dir.join("journal.jsonl");
    let whole = std::fs::read(&journal).unwrap();
    let store = cdl::run::record::Store::new(dir.path().join(".cdl"));
    let last_line = whole[..whole.len() - 1]
        .iter()
        .rposition(|b| *b == b'\n')
        .unwrap()
        + 1;
    // A crash at every byte of the last line's write: the line before it is what counts.
    for cut in last_line..whole.len() {
        std::fs::write(&journal, &whole[..cut]).unwrap();
        assert_eq!(store.load(&id).unwrap().pid, 1000, "cut at {cut}");
    }
    // The next writer starts a line of its own: the fragment is cut off, not continued.
    store.cut_torn_tail(&id).unwrap();
    assert_eq!(std::fs::read(&journal).unwrap(), &whole[..last_line]);
    let record = store.load(&id).unwrap();
    store
        .append_with(
            &id,
            record.journal_seq + 1,
            &[cdl::run::record::Change::Run {
                status: cdl::run::record::RunStatus::Paused,
                pid: 7,
                finished_ms: None,
            }],
            false,
        )
        .unwrap();
    assert_eq!(store.load(&id).unwrap().pid, 7);
    // And the run goes on to the end from there.
    std::fs::write(&journal, &whole[..whole.len() - 3]).unwrap();
    assert!(
        cdl(dir.path(), &["approve", "ship", "--as", "alice"])
            .status
            .success()
    );
    let out = cdl(dir.path(), &["resume"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    unseal(dir.path());
}

#[test]
fn a_snapshot_written_before_its_journal_was_emptied_skips_the_old_entries() {
    let (dir, id, run_dir) = journaled_run(3);
    let journal = run_dir.join("journal.jsonl");
    let old = std::fs::read(&journal).unwrap();
    let store = cdl::run::record::Store::new(dir.path().join(".cdl"));
    let mut record = store.load(&id).unwrap();
    let seq = record.journal_seq;
    record.pid = 4242;
    store.save(&record).unwrap();
    // A crash between the rename of run.json and the emptying of the journal.
    std::fs::write(&journal, &old).unwrap();
    let loaded = store.load(&id).unwrap();
    assert_eq!(
        loaded.pid, 4242,
        "an entry the snapshot holds was applied again"
    );
    assert_eq!(loaded.journal_seq, seq);
    unseal(dir.path());
}

#[test]
fn a_plan_changed_after_the_run_started_is_refused() {
    let (dir, id) = paused_run();
    let plan = dir.path().join(".cdl/runs").join(&id).join("plan.json");
    let mut text_of_plan = std::fs::read_to_string(&plan).unwrap();
    text_of_plan = text_of_plan.replacen("v1", "v2", 1);
    text_of_plan.push(' ');
    std::fs::write(&plan, text_of_plan).unwrap();
    let out = cdl(dir.path(), &["resume", &id]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("plan.json: its SHA-256 is"), "{stderr}");
    assert!(!dir.path().join("deployed").exists());
    unseal(dir.path());
}

const LEDGER_PIPELINE: &str = r#"pipeline p {
    stage build { artifact app { run = ["echo building app", "mkdir -p out && head -c 200000 /dev/urandom > out/app.bin", "echo app >> ledger"]; outputs = ["out"] } }
    stage test { job a { run = "echo a >> ledger" } job b { run = "echo b >> ledger" } }
    stage more { job c { uses = [app]; run = "test -s \"$CDL_ARTIFACT_APP/out/app.bin\" && echo c >> ledger" } }
}"#;

/// A full disk (`CDL_FAULT_ENOSPC=PLACE[:N]`) where the record is written: no new job starts,
/// the message says what and where, the record reads, and a resume once there is space again
/// finishes the run with every job's command completed once.
#[test]
fn a_full_disk_under_the_record_stops_new_work_and_a_resume_finishes() {
    for fault in [
        "journal:1",
        "journal:2",
        "journal:4",
        "journal:6",
        "record:2",
    ] {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("pipeline.cdl"), LEDGER_PIPELINE).unwrap();
        let out = cdl_with(
            dir.path(),
            &["run", "pipeline.cdl", "--jobs", "1"],
            &[("CDL_FAULT_ENOSPC", fault)],
        );
        assert_no_panic(&out, fault);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(4), "{fault}: {stderr}");
        assert!(
            stderr.contains("No space left on device"),
            "{fault}: {stderr}"
        );
        assert!(stderr.contains("cdl resume"), "{fault}: {stderr}");
        let store = cdl::run::record::Store::new(dir.path().join(".cdl"));
        let id = store.run_ids().pop().unwrap();
        store
            .load(&id)
            .unwrap_or_else(|e| panic!("{fault}: the record reads: {e}"));
        let out = cdl(dir.path(), &["resume", &id]);
        assert!(out.status.success(), "{fault}: {}", text(&out.stderr));
        let mut ledger: Vec<String> = std::fs::read_to_string(dir.path().join("ledger"))
            .unwrap()
            .lines()
            .map(str::to_string)
            .collect();
        ledger.sort();
        assert_eq!(ledger, ["a", "app", "b", "c"], "{fault}");
        unseal(dir.path());
    }
}

/// A full disk where a job writes (its log, the artifact store or a consumer's copy): the job
/// fails and says so, never passes with a cut log or a partial artifact; the record reads.
#[test]
fn a_full_disk_under_a_log_or_an_artifact_fails_the_job_and_says_so() {
    for (fault, job) in [("log", "app"), ("artifact:1", "app"), ("artifact:5", "c")] {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("pipeline.cdl"), LEDGER_PIPELINE).unwrap();
        let out = cdl_with(
            dir.path(),
            &["run", "pipeline.cdl", "--jobs", "1"],
            &[("CDL_FAULT_ENOSPC", fault)],
        );
        assert_no_panic(&out, fault);
        assert_eq!(out.status.code(), Some(1), "{fault}: {}", text(&out.stderr));
        let store = cdl::run::record::Store::new(dir.path().join(".cdl"));
        let id = store.run_ids().pop().unwrap();
        let record = store.load(&id).unwrap();
        let failed = &record.jobs[job];
        assert_eq!(failed.state, cdl::run::record::JobState::Failed, "{fault}");
        let reason = failed.reason.clone().unwrap_or_default();
        assert!(
            reason.contains("No space left on device") || reason.contains("lost"),
            "{fault}: {reason}"
        );
        unseal(dir.path());
    }
}

// ------------------------------------------------------------------------- durable before shown

fn killed_by_its_failpoint(out: &Output, point: &str) {
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(
        out.status.signal(),
        Some(libc::SIGKILL),
        "the failpoint {point} did not fire: {:?}\n{}{}",
        out.status,
        text(&out.stdout),
        text(&out.stderr)
    );
}

#[test]
fn a_decision_cdl_approve_reported_is_in_the_record_when_it_dies_right_after() {
    let (dir, id) = paused_run();
    let out = cdl_with(
        dir.path(),
        &["approve", "ship", "--run", &id, "--as", "alice"],
        &[("CDL_FAILPOINT", "decision-reported")],
    );
    killed_by_its_failpoint(&out, "decision-reported");
    assert!(
        text(&out.stdout).contains("approved `ship` as alice"),
        "reported first: {}",
        text(&out.stdout)
    );
    let store = cdl::run::record::Store::new(dir.path().join(".cdl"));
    let record = store.load(&id).unwrap();
    let decisions = &record.job("ship").decisions;
    assert_eq!(decisions.len(), 1, "{decisions:?}");
    assert!(decisions[0].approved && decisions[0].by == "alice");
    let out = cdl(dir.path(), &["resume", &id]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let deployed = std::fs::read_to_string(dir.path().join("deployed")).unwrap();
    assert_eq!(deployed, "v1\n");
    unseal(dir.path());
}

#[test]
fn a_gate_decision_shown_by_the_scheduler_is_in_the_record_when_it_dies_right_after() {
    let (dir, id) = paused_run();
    let out = cdl(
        dir.path(),
        &["approve", "ship", "--run", &id, "--as", "alice"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let out = cdl_with(
        dir.path(),
        &["resume", &id],
        &[("CDL_FAILPOINT", "gate-reported")],
    );
    killed_by_its_failpoint(&out, "gate-reported");
    let shown = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert!(
        shown.contains("ship") && shown.contains("approved by alice"),
        "{shown}"
    );
    let store = cdl::run::record::Store::new(dir.path().join(".cdl"));
    let record = store.load(&id).unwrap();
    let gate = record.job("ship");
    assert_eq!(gate.state, cdl::run::record::JobState::Succeeded);
    assert_eq!(gate.reason.as_deref(), Some("approved by alice"));
    assert!(
        !dir.path().join("deployed").exists(),
        "killed before the deploy"
    );
    let out = cdl(dir.path(), &["resume", &id]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let deployed = std::fs::read_to_string(dir.path().join("deployed")).unwrap();
    assert_eq!(deployed, "v1\n", "deployed once");
    unseal(dir.path());
}

#[test]
fn a_cancel_is_journaled_before_any_supervisor_is_asked_to_stop() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("pipeline.cdl"),
        r#"pipeline p { stage s {
            job long { run = "touch started; while [ ! -e release ]; do sleep 0.02; done; echo done >> ledger" }
        } }"#,
    )
    .unwrap();
    let child = Command::new(assert_cmd::cargo::cargo_bin!("cdl"))
        .current_dir(dir.path())
        .args(["run", "pipeline.cdl"])
        .env("CDL_FAILPOINT", "cancel-journaled")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let until = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !dir.path().join("started").exists() {
        assert!(std::time::Instant::now() < until, "the job never started");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    // SAFETY: a signal to our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let out = child.wait_with_output().unwrap();
    killed_by_its_failpoint(&out, "cancel-journaled");
    // Killed between the two: the stop is in the record, the supervisor never got it.
    let store = cdl::run::record::Store::new(dir.path().join(".cdl"));
    let id = store.run_ids().pop().unwrap();
    let record = store.load(&id).unwrap();
    let job = record.job("long");
    assert_eq!(job.state, cdl::run::record::JobState::Running);
    assert_eq!(job.attempts.len(), 1);
    assert!(job.attempts[0].stop_requested_ms.is_some(), "{job:?}");
    // The job runs on under its supervisor and finishes by itself; a resume records that
    // ending and does not run it again.
    std::fs::write(dir.path().join("release"), "").unwrap();
    let out = cdl(dir.path(), &["resume", &id]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let record = store.load(&id).unwrap();
    let job = record.job("long");
    assert_eq!(job.state, cdl::run::record::JobState::Succeeded);
    assert_eq!(job.attempts.len(), 1, "{job:?}");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("ledger")).unwrap(),
        "done\n"
    );
}
