//! The name a job goes by: the one written after its form, or the one its form gives it
//! (`test KIND` is named after the kind, `deploy ARTIFACT to ENV` is `deploy_ARTIFACT_ENV`).
//! The checker, hover, completion and rename all name jobs here.

use crate::syntax::ast;

/// The name of a job declaration.
pub fn of(job: &ast::JobDecl) -> String {
    match &job.form {
        ast::JobForm::Artifact { name }
        | ast::JobForm::Gate { name }
        | ast::JobForm::Job { name } => name.name.clone(),
        ast::JobForm::Test { kind, name, .. } => name.as_ref().unwrap_or(kind).name.clone(),
        ast::JobForm::Deploy {
            artifact,
            environment,
            name,
        } => name.as_ref().map_or_else(
            || deploy(&artifact.name, &environment.name),
            |n| n.name.clone(),
        ),
    }
}

/// The generated name of `deploy ARTIFACT to ENVIRONMENT` without `as`.
pub fn deploy(artifact: &str, environment: &str) -> String {
    format!("deploy_{artifact}_{environment}")
}

#[cfg(test)]
mod tests {
    use crate::compile::compile_text;

    #[test]
    fn each_form_names_its_job() {
        let text = r#"pipeline p {
  environment staging {}
  stage s {
    artifact app { run = "a" }
    test unit { run = "t" }
    test unit fast { run = "t" }
    deploy app to staging { run = "d" }
    deploy app to staging as ship { run = "d" }
    gate ok { approvers = ["a"] }
    job lint { run = "l" }
  }
}"#;
        let compilation = compile_text("t.cdl", None, text.to_string());
        let tree = compilation.root_file().expect("parses");
        let crate::syntax::ast::TopItem::Pipeline(pipeline) = &tree.items[0] else {
            panic!("a pipeline");
        };
        let names: Vec<String> = pipeline
            .items
            .iter()
            .filter_map(|item| match item {
                crate::syntax::ast::PipelineItem::Stage(stage) => Some(stage),
                _ => None,
            })
            .flat_map(|stage| stage.jobs.iter().map(super::of))
            .collect();
        assert_eq!(
            names,
            [
                "app",
                "unit",
                "fast",
                "deploy_app_staging",
                "ship",
                "ok",
                "lint"
            ]
        );
    }
}
