//! The generated pipelines of the check + plan benchmark (`benches/check_plan.rs`) check clean
//! and plan, the templated one (v2 §3) to the same jobs as the plain one plus its matrix
//! instances, each job with what its templates gave it.

#[path = "../bench/generate.rs"]
mod generate;

fn plan(text: String) -> cdl::plan::Plan {
    let compilation = cdl::compile::compile_text("generated.cdl", None, text);
    assert!(
        compilation.diagnostics.is_empty(),
        "{:?}",
        compilation.diagnostics.first()
    );
    cdl::plan::build(&compilation).expect("a plan")
}

#[test]
fn the_generated_pipelines_check_clean_and_templates_give_every_job_their_attributes() {
    let plain = plan(generate::pipeline(500));
    let templated = plan(generate::templated(500));
    let matrix_jobs = templated
        .jobs
        .iter()
        .filter(|j| !j.matrix.is_empty())
        .count();
    assert!(matrix_jobs > 0, "some jobs are matrix instances");
    assert_eq!(templated.jobs.len(), plain.jobs.len() + matrix_jobs / 2);
    for job in templated.jobs.iter().filter(|j| j.id.starts_with('j')) {
        assert_eq!(job.retries, 1, "{}: `slow` gives retries", job.id);
        assert_eq!(job.timeout_seconds, Some(1800), "{}", job.id);
        assert_eq!(job.image.as_deref(), Some("rust:1.89"), "{}", job.id);
        assert_eq!(
            job.env.get("RUST_BACKTRACE").map(String::as_str),
            Some("full"),
            "{}",
            job.id
        );
    }
}
