//! Templates (language v2 §3) under `cdl run`, the real binary: a job runs what it merged —
//! the templates' steps first (a same-named one replaced), then its own, then its `run` —
//! with the merged `env`, and a template imported from another file.

use std::path::Path;
use std::process::{Command, Output, Stdio};

fn run(dir: &Path) -> Output {
    Command::new(assert_cmd::cargo::cargo_bin!("cdl"))
        .current_dir(dir)
        .args(["run", "pipeline.cdl"])
        .env_remove("NO_COLOR")
        .stdin(Stdio::null())
        .output()
        .expect("cdl runs")
}

#[test]
fn a_templated_job_runs_its_merged_steps_in_order_with_the_merged_env() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("shared.cdl"),
        r#"template base {
  env { WHO = "base"; KEEP = "kept from base" }
  step setup { run = "echo base-setup >> ran.txt" }
  step lint  { run = "echo base-lint >> ran.txt" }
}
"#,
    )
    .unwrap();
    std::fs::write(
        dir.path().join("pipeline.cdl"),
        r#"import "./shared.cdl"
template top from base {
  env { WHO = "top" }
  step setup { run = "echo top-setup >> ran.txt" }
  step cleanup { run = "echo cleanup >> ran.txt"  runs = always }
}
pipeline p { stage s {
  job j from top {
    env { MINE = "mine" }
    step build { run = "echo \"build $WHO $KEEP $MINE\" >> ran.txt" }
    run = "echo run >> ran.txt; exit 4"
  }
  job later { after = [j]  run = "touch later.txt" }
} }
"#,
    )
    .unwrap();
    let out = run(dir.path());
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let ran = std::fs::read_to_string(dir.path().join("ran.txt")).unwrap();
    assert_eq!(
        ran,
        // `top`'s setup stands where `base`'s stood; `cleanup` (always) runs in its place.
        "top-setup\nbase-lint\ncleanup\nbuild top kept from base mine\nrun\n"
    );
    assert!(!dir.path().join("later.txt").exists(), "the job failed");
}
