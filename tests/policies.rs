//! Policies you can trust (issue 12): matrix ids that never collide, approvals that name a
//! real approver (or say they were automatic), teams and signed decisions, run as a real
//! process on pipelines written to a temporary folder.

use std::path::Path;
use std::process::{Command, Output, Stdio};

use serde_json::Value;

struct Project {
    dir: tempfile::TempDir,
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

    fn cdl(&self, args: &[&str]) -> Output {
        Command::new(assert_cmd::cargo::cargo_bin!("cdl"))
            .current_dir(self.path())
            .args(args)
            .env("NO_COLOR", "1")
            .env("HOME", self.path())
            .stdin(Stdio::null())
            .output()
            .expect("cdl runs")
    }

    fn run(&self, extra: &[&str]) -> Output {
        let mut args = vec!["run", "pipeline.cdl"];
        args.extend_from_slice(extra);
        self.cdl(&args)
    }

    fn read(&self, file: &str) -> String {
        std::fs::read_to_string(self.path().join(file)).unwrap_or_default()
    }

    fn latest_record(&self) -> Value {
        let store = cdl::run::record::Store::new(self.path().join(".cdl"));
        let id = store.run_ids().pop().expect("a run");
        serde_json::to_value(store.load(&id).expect("a readable record")).unwrap()
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn plan_ids(source: &str) -> Vec<String> {
    let compilation = cdl::compile::compile_text("t.cdl", None, source.to_string());
    assert!(
        compilation.diagnostics.iter().all(|d| !d.is_error()),
        "{:?}",
        compilation.diagnostics
    );
    let plan = cdl::plan::build(&compilation).expect("a plan");
    plan.jobs.iter().map(|j| j.id.clone()).collect()
}

// ------------------------------------------------------------------------------ matrix ids

/// Values chosen so that writing `axis=value` joined by `,` without quoting collides.
const HOSTILE_MATRIX: &str = r#"pipeline p { stage s { job x {
    run = "echo \"$CDL_MATRIX_OS|$CDL_MATRIX_ARCH\" >> ran.txt; exit 1"
    retries = 0
    matrix {
        os   = ["linux", "linux,arch=arm"]
        arch = ["arm,arch=x86", "x86"]
    }
} } }"#;

#[test]
fn matrix_ids_quote_values_that_would_collide() {
    let ids = plan_ids(HOSTILE_MATRIX);
    assert_eq!(
        ids,
        [
            r#"x[os=linux,arch="arm,arch=x86"]"#,
            r#"x[os=linux,arch=x86]"#,
            r#"x[os="linux,arch=arm",arch="arm,arch=x86"]"#,
            r#"x[os="linux,arch=arm",arch=x86]"#,
        ]
    );
}

#[test]
fn matrix_ids_are_unique_for_every_hostile_value() {
    let values = [
        "", " ", "a", "a b", "a,b", "a=b", "[", "]", "\"", "\\", "\\\"", "a\"b", "\t", "é", "a]",
        "=a", ",", "x=\"y\"", "a\\,b",
    ];
    let list = |vs: &[&str]| {
        vs.iter()
            .map(|v| format!("{v:?}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let source = format!(
        "pipeline p {{ stage s {{ job x {{ run = \"true\"; matrix {{ a = [{}]; b = [{}] }} }} }} }}",
        list(&values),
        list(&values[..6])
    );
    let ids = plan_ids(&source);
    let unique: std::collections::HashSet<&String> = ids.iter().collect();
    assert_eq!(ids.len(), values.len() * 6);
    assert_eq!(unique.len(), ids.len(), "{ids:#?}");
}

#[test]
fn a_failing_matrix_instance_runs_once_with_retries_zero_and_four_workers() {
    let project = Project::new(HOSTILE_MATRIX);
    let out = project.run(&["--jobs", "4"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(
        !text(&out.stderr).contains("panicked"),
        "{}",
        text(&out.stderr)
    );
    let mut ran: Vec<String> = project.read("ran.txt").lines().map(String::from).collect();
    ran.sort();
    assert_eq!(
        ran,
        [
            "linux,arch=arm|arm,arch=x86",
            "linux,arch=arm|x86",
            "linux|arm,arch=x86",
            "linux|x86",
        ]
    );
    let record = project.latest_record();
    for (id, job) in record["jobs"].as_object().unwrap() {
        assert_eq!(job["attempts"].as_array().unwrap().len(), 1, "{id}");
    }
}

// ------------------------------------------------------------------------ who approves

const TEAM_RELEASE: &str = r#"pipeline release {
    team release-managers { members = ["alice", "bob", "carol"] }
    environment prod {
        url = "https://prod.example"
        requires approval
    }
    stage build { artifact app { run = "echo v1 > app.bin"; outputs = ["app.bin"] } }
    stage approve {
        gate ship { approvers = ["@release-managers", "dave"]; required = 2 }
    }
    stage deploy { deploy app to prod { run = "cp \"$CDL_ARTIFACT_APP/app.bin\" deployed.bin" } }
}"#;

#[test]
fn team_members_approve_and_count_as_distinct_people() {
    let project = Project::new(TEAM_RELEASE);
    assert_eq!(project.run(&[]).status.code(), Some(3));
    for outsider in [
        "mallory",
        "",
        "release-managers",
        "@release-managers",
        "auto-approved",
        "alice\ndecision approve",
    ] {
        let refused = project.cdl(&["approve", "ship", "--as", outsider]);
        assert_eq!(refused.status.code(), Some(2), "{outsider:?} was accepted");
        assert!(
            text(&refused.stderr).contains("@release-managers (alice, bob, carol), dave"),
            "{}",
            text(&refused.stderr)
        );
    }
    let first = project.cdl(&["approve", "ship", "--as", "alice"]);
    assert!(
        text(&first.stdout).contains("(1 of 2)"),
        "{}",
        text(&first.stdout)
    );
    let again = project.cdl(&["approve", "ship", "--as", "alice"]);
    assert_eq!(again.status.code(), Some(2), "one person counts once");
    let second = project.cdl(&["approve", "ship", "--as", "dave"]);
    assert!(
        text(&second.stdout).contains("(2 of 2)"),
        "{}",
        text(&second.stdout)
    );
    assert_eq!(project.cdl(&["resume"]).status.code(), Some(0));
    assert_eq!(project.read("deployed.bin"), "v1\n");
    let record = project.latest_record();
    assert_eq!(record["jobs"]["ship"]["reason"], "approved by alice, dave");
}

#[test]
fn auto_approve_records_no_person() {
    let project = Project::new(TEAM_RELEASE);
    let out = project.run(&["--auto-approve", "--as", "mallory"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let record = project.latest_record();
    let ship = &record["jobs"]["ship"];
    assert_eq!(ship["decisions"][0]["by"], "auto-approved");
    // The operator is kept as who started the run, never as who approved.
    assert!(!ship.to_string().contains("mallory"), "{ship}");
    assert_eq!(
        ship["reason"],
        "auto-approved (--auto-approve): no person approved"
    );
}

#[test]
fn approve_ahead_by_a_non_approver_does_not_suggest_claiming_another_name() {
    let project = Project::new(TEAM_RELEASE);
    let out = project.run(&["--approve", "ship", "--as", "eve"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("`eve` is not an approver of `ship`"),
        "{stderr}"
    );
    assert!(!stderr.contains("--as"), "{stderr}");
    assert!(!project.path().join("deployed.bin").exists());
}

#[test]
fn auto_approve_is_refused_for_a_protected_gate_when_approvals_are_signed() {
    let project = Project::new(&TEAM_RELEASE.replace(
        "pipeline release {",
        "pipeline release {\n    allowed_signers = \"allowed_signers\"",
    ));
    std::fs::write(project.path().join("allowed_signers"), "").unwrap();
    let out = project.run(&["--auto-approve"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stdout));
    assert!(
        text(&out.stderr).contains("--auto-approve may not decide `ship`: it guards `prod`"),
        "{}",
        text(&out.stderr)
    );
    assert!(!project.path().join("deployed.bin").exists());
}

// ------------------------------------------------------------------------ signed approvals

/// A throw-away ed25519 key pair `NAME` (private) and `NAME.pub` in the project folder.
fn keygen(project: &Project, name: &str) -> String {
    let status = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", name, "-f"])
        .arg(project.path().join(name))
        .status()
        .expect("ssh-keygen runs");
    assert!(status.success());
    project.read(&format!("{name}.pub")).trim().to_string()
}

const SIGNED_RELEASE: &str = r#"pipeline release {
    allowed_signers = "allowed_signers"
    environment staging { url = "https://staging.example" }
    environment prod {
        url = "https://prod.example"
        requires approval
        requires promotion from staging
    }
    stage build { artifact app { run = "echo v1 > app.bin"; outputs = ["app.bin"] } }
    stage staging { deploy app to staging { run = "cp \"$CDL_ARTIFACT_APP/app.bin\" staging.bin" } }
    stage approve { gate ship { approvers = ["alice", "bob"] } }
    stage deploy { deploy app to prod { run = "cp \"$CDL_ARTIFACT_APP/app.bin\" deployed.bin" } }
}"#;

fn signed_project() -> Project {
    let project = Project::new(SIGNED_RELEASE);
    let alice = keygen(&project, "alice");
    keygen(&project, "mallory");
    std::fs::write(
        project.path().join("allowed_signers"),
        format!("alice {alice}\n"),
    )
    .unwrap();
    project
}

#[test]
fn a_signed_approval_counts_only_for_the_principal_whose_key_signed_it() {
    let project = signed_project();
    let out = project.run(&[]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));

    // mallory signs as alice: refused, nothing recorded.
    let forged = project.cdl(&["approve", "ship", "--as", "alice", "--key", "mallory"]);
    assert_eq!(forged.status.code(), Some(2), "{}", text(&forged.stdout));
    assert!(
        text(&forged.stderr).contains("does not verify"),
        "{}",
        text(&forged.stderr)
    );
    // bob is an approver, but has no key in allowed_signers.
    let unlisted = project.cdl(&["approve", "ship", "--as", "bob", "--key", "mallory"]);
    assert_eq!(unlisted.status.code(), Some(2));
    assert!(
        project.latest_record()["jobs"]["ship"]["decisions"]
            .as_array()
            .unwrap()
            .is_empty()
    );

    let good = project.cdl(&[
        "approve",
        "ship",
        "--as",
        "alice",
        "--key",
        "alice",
        "--comment",
        "release notes read",
    ]);
    assert_eq!(good.status.code(), Some(0), "{}", text(&good.stderr));
    let resumed = project.cdl(&["resume"]);
    assert_eq!(resumed.status.code(), Some(0), "{}", text(&resumed.stderr));
    assert_eq!(project.read("deployed.bin"), "v1\n");
    assert_eq!(project.latest_record()["identities"], "signed");
    let id = project.latest_record()["id"].as_str().unwrap().to_string();
    let report = project.read(&format!(".cdl/runs/{id}/report.html"));
    assert!(report.contains("Identities are <b>signed</b>"), "{report}");

    // An auditor re-checks everything; the stored message verifies with ssh-keygen by hand.
    let verified = project.cdl(&["verify"]);
    let trail = text(&verified.stdout);
    assert_eq!(verified.status.code(), Some(0), "{trail}");
    assert!(trail.contains("approved by alice at"), "{trail}");
    assert!(trail.contains("signature good, key SHA256:"), "{trail}");
    assert!(trail.contains("verified: no problem found"), "{trail}");
    let message = project.read(&format!(".cdl/runs/{id}/approvals/ship.1.msg"));
    assert!(message.starts_with("cdl-approval/v1\nrun "), "{message}");
    for line in [
        "gate ship opened ",
        "artifact app sha256:",
        "decision approve\n",
        "principal alice\n",
        "comment \"release notes read\"\n",
    ] {
        assert!(message.contains(line), "{line} missing from {message}");
    }

    // Tampering with the signed message, or revoking alice's key, fails verification.
    let path = project
        .path()
        .join(format!(".cdl/runs/{id}/approvals/ship.1.msg"));
    std::fs::write(&path, message.replace("release notes read", "whatever")).unwrap();
    let tampered = project.cdl(&["verify", &id]);
    assert_eq!(tampered.status.code(), Some(1));
    assert!(text(&tampered.stdout).contains("does not match the record"));
    std::fs::write(&path, &message).unwrap();
    assert_eq!(project.cdl(&["verify", &id]).status.code(), Some(0));
    std::fs::write(project.path().join("allowed_signers"), "").unwrap();
    let revoked = project.cdl(&["verify", &id]);
    assert_eq!(revoked.status.code(), Some(1), "{}", text(&revoked.stdout));
    assert!(text(&revoked.stdout).contains("does not verify"));
}

#[test]
fn approving_ahead_is_refused_when_approvals_are_signed() {
    let project = signed_project();
    let out = project.run(&["--approve", "ship", "--as", "alice"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("must be signed"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn without_allowed_signers_the_audit_says_identities_were_asserted() {
    let project = Project::new(TEAM_RELEASE);
    assert_eq!(project.run(&[]).status.code(), Some(3));
    project.cdl(&["approve", "ship", "--as", "alice"]);
    project.cdl(&["approve", "ship", "--as", "bob"]);
    assert_eq!(project.cdl(&["resume"]).status.code(), Some(0));
    assert_eq!(project.latest_record()["identities"], "asserted");
    let verified = project.cdl(&["verify"]);
    let trail = text(&verified.stdout);
    assert_eq!(verified.status.code(), Some(0), "{trail}");
    assert!(
        trail.contains("identities: asserted with --as, not proved"),
        "{trail}"
    );
    assert!(
        trail.contains("approved by alice at") && trail.contains("(asserted)"),
        "{trail}"
    );
}

#[test]
fn one_key_listed_for_two_principals_approves_once() {
    let project = Project::new(&SIGNED_RELEASE.replace(
        "approvers = [\"alice\", \"bob\"] }",
        "approvers = [\"alice\", \"bob\"]; required = 2 }",
    ));
    let alice = keygen(&project, "alice");
    std::fs::write(
        project.path().join("allowed_signers"),
        format!("alice,bob {alice}\n"),
    )
    .unwrap();
    assert_eq!(project.run(&[]).status.code(), Some(3));
    let first = project.cdl(&["approve", "ship", "--as", "alice", "--key", "alice"]);
    assert_eq!(first.status.code(), Some(0), "{}", text(&first.stderr));
    let second = project.cdl(&["approve", "ship", "--as", "bob", "--key", "alice"]);
    assert_eq!(second.status.code(), Some(2), "{}", text(&second.stdout));
    assert!(
        text(&second.stderr).contains("one key decides once"),
        "{}",
        text(&second.stderr)
    );
}

#[test]
fn a_plan_with_a_repeated_job_id_is_refused_on_resume() {
    let project = Project::new(TEAM_RELEASE);
    assert_eq!(project.run(&[]).status.code(), Some(3));
    let id = project.latest_record()["id"].as_str().unwrap().to_string();
    let path = project.path().join(format!(".cdl/runs/{id}/plan.json"));
    let mut plan: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    plan["jobs"][1]["id"] = plan["jobs"][0]["id"].clone();
    std::fs::write(&path, serde_json::to_string(&plan).unwrap()).unwrap();
    let resumed = project.cdl(&["resume", &id]);
    assert_eq!(resumed.status.code(), Some(2), "{}", text(&resumed.stdout));
    let stderr = text(&resumed.stderr);
    assert!(
        stderr.contains("plan.json: two jobs have the id `app`"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}
