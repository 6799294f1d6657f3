//! Downstream pipelines under `cdl run`: a trigger job runs its fallback `run`, and without one
//! it is skipped with the reason.

use std::path::Path;
use std::process::{Command, Stdio};

const PIPELINE: &str = r#"pipeline downstream {
  stage s {
    job with_fallback {
      trigger { project = "ops/deploy"  wait = true }
      env { REVISION = branch }
      run = "printf 'fallback %s\n' \"$REVISION\" >> ledger"
    }
    job without_fallback {
      trigger { project = "ops/deploy" }
    }
  }
}
"#;

fn state(dir: &Path, job: &str) -> (String, String) {
    let store = cdl::run::record::Store::new(dir.join(".cdl"));
    let id = store.run_ids().pop().expect("a run");
    let record = serde_json::to_value(store.load(&id).expect("a readable record")).unwrap();
    let job = &record["jobs"][job];
    (
        job["state"].as_str().unwrap().to_string(),
        job["reason"].as_str().unwrap_or_default().to_string(),
    )
}

#[test]
fn trigger_jobs_run_their_fallback_or_are_skipped() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("pipeline.cdl"), PIPELINE).unwrap();
    let out = Command::new(assert_cmd::cargo::cargo_bin!("cdl"))
        .current_dir(dir.path())
        .args(["run", "pipeline.cdl", "--branch", "feat", "--sha", "abc"])
        .stdin(Stdio::null())
        .output()
        .expect("cdl runs");
    assert!(out.status.success(), "{out:?}");
    let ledger = std::fs::read_to_string(dir.path().join("ledger")).unwrap();
    assert_eq!(ledger, "fallback feat\n");
    assert_eq!(state(dir.path(), "with_fallback").0, "succeeded");
    let (state, reason) = state(dir.path(), "without_fallback");
    assert_eq!(state, "skipped");
    assert!(reason.contains("another project's pipeline"), "{reason}");
}
