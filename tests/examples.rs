//! The examples read like real projects and all check clean: no error, no warning.

use crate::support;

#[test]
fn examples_check_clean() {
    let examples = support::cdl_files("examples");
    assert!(
        examples.len() >= 5,
        "the five examples of the language core"
    );
    for path in examples {
        let compilation = support::compile(&path);
        assert!(
            compilation.diagnostics.is_empty(),
            "{}:\n{}",
            path.display(),
            support::render(&compilation)
        );
        assert!(cdl::plan::build(&compilation).is_some());
    }
}

#[test]
fn webshop_plan_orders_the_release() {
    let plan = cdl::plan::build(&support::compile("examples/webshop.cdl".as_ref())).unwrap();
    let position = |id: &str| plan.jobs.iter().position(|j| j.id == id).unwrap();
    assert!(position("app") < position("deploy_app_staging"));
    assert!(position("deploy_app_staging") < position("integration"));
    assert!(position("approve_release") < position("deploy_app_production"));
    let deploy = plan.job("deploy_app_production").unwrap();
    assert_eq!(deploy.needs, ["app"]);
    assert_eq!(deploy.inputs, ["app"]);
    assert_eq!(deploy.env["CDL_ENV_URL"], "https://webshop.example");
    assert_eq!(deploy.secrets, ["DEPLOY_TOKEN"]);
    let gate = plan.job("approve_release").unwrap();
    assert_eq!(gate.timeout_seconds, Some(24 * 3600));
    assert_eq!(gate.approvers, ["@release-managers"]);
    assert_eq!(plan.teams[0].members, ["alice", "bob", "carol"]);
    assert_eq!(
        plan.critical_path,
        [
            "app",
            "deploy_app_staging",
            "integration",
            "approve_release",
            "deploy_app_production",
            "smoke"
        ]
    );
}

#[test]
fn matrix_jobs_expand_and_needs_name_every_instance() {
    let plan =
        cdl::plan::build(&support::compile("tests/fixtures/ok/matrix.cdl".as_ref())).unwrap();
    let units: Vec<&str> = plan
        .jobs
        .iter()
        .filter(|j| j.name == "unit")
        .map(|j| j.id.as_str())
        .collect();
    assert_eq!(
        units,
        [
            "unit[os=linux,rust=stable]",
            "unit[os=linux,rust=beta]",
            "unit[os=macos,rust=stable]",
            "unit[os=macos,rust=beta]"
        ]
    );
    let coverage = plan.job("coverage[shard=1]").unwrap();
    assert_eq!(coverage.needs, units);
    assert_eq!(coverage.env["CDL_MATRIX_SHARD"], "1");
}
