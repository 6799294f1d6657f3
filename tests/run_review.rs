//! Review environments under `cdl run`: the job making one and its stop job get
//! `CDL_ENV_NAME`/`CDL_ENV_URL` computed from the run context, the name and url are shown and
//! kept in the run record, and the stop job runs only when started.

use std::path::Path;
use std::process::{Command, Output, Stdio};

const PIPELINE: &str = r#"pipeline review {
  stage s {
    job preview {
      environment {
        name = "review/" + branch
        url  = "https://" + branch + ".example/$HOME/`id`/'q'"
        stop = teardown
      }
      run = "printf '%s|%s\n' \"$CDL_ENV_NAME\" \"$CDL_ENV_URL\" >> ledger"
    }
    job teardown {
      start = manual
      run   = "printf 'stop %s\n' \"$CDL_ENV_NAME\" >> ledger"
    }
  }
}
"#;

fn run(dir: &Path, extra: &[&str]) -> Output {
    std::fs::write(dir.join("pipeline.cdl"), PIPELINE).unwrap();
    let mut args = vec!["run", "pipeline.cdl", "--branch", "feat-1", "--sha", "abc"];
    args.extend_from_slice(extra);
    Command::new(assert_cmd::cargo::cargo_bin!("cdl"))
        .current_dir(dir)
        .args(&args)
        .env_remove("NO_COLOR")
        .stdin(Stdio::null())
        .output()
        .expect("cdl runs")
}

fn load(dir: &Path) -> serde_json::Value {
    let store = cdl::run::record::Store::new(dir.join(".cdl"));
    let id = store.run_ids().pop().expect("a run");
    serde_json::to_value(store.load(&id).expect("a readable record")).unwrap()
}

#[test]
fn review_environment_is_computed_shown_and_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(dir.path(), &[]);
    assert!(out.status.success(), "{out:?}");
    let url = "https://feat-1.example/$HOME/`id`/'q'";
    let ledger = std::fs::read_to_string(dir.path().join("ledger")).unwrap();
    assert_eq!(ledger, format!("review/feat-1|{url}\n"));
    let stdout =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(
        stdout.contains(&format!(
            "makes the review environment review/feat-1 at {url}"
        )),
        "{stdout}"
    );
    let record = load(dir.path());
    assert_eq!(
        record["jobs"]["preview"]["environment"]["name"],
        "review/feat-1"
    );
    assert_eq!(record["jobs"]["preview"]["environment"]["url"], url);
    assert_eq!(record["jobs"]["teardown"]["state"], "skipped");

    let dir = tempfile::tempdir().unwrap();
    let out = run(dir.path(), &["--start", "teardown"]);
    assert!(out.status.success(), "{out:?}");
    let ledger = std::fs::read_to_string(dir.path().join("ledger")).unwrap();
    assert!(ledger.contains("stop review/feat-1\n"), "{ledger}");
    let record = load(dir.path());
    assert_eq!(record["jobs"]["teardown"]["environment"]["stopped"], true);
}
