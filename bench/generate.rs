//! Generates a pipeline of about `jobs` jobs for benchmarks: stages of 50 jobs with builds,
//! tests, deploys to three environments with requirements, gates and `after` chains.
//! Used by `benches/check_plan.rs`; `cargo bench --bench check_plan -- --emit N` prints one.

use std::fmt::Write;

pub const JOBS_PER_STAGE: usize = 50;

pub fn pipeline(jobs: usize) -> String {
    let stages = jobs.div_ceil(JOBS_PER_STAGE).max(2);
    let mut out = String::new();
    out.push_str("/// Generated for benchmarks.\npipeline generated {\n");
    out.push_str("  on push { branches = [\"main\"] }\n  secret TOKEN\n");
    out.push_str("  environment dev { url = \"https://dev.example\" }\n");
    out.push_str("  environment staging {\n    url = \"https://staging.example\"\n    requires tests [integration]\n    requires promotion from dev\n  }\n");
    out.push_str("  environment production {\n    url = \"https://example.com\"\n    concurrency = 1\n    requires approval\n    requires tests [integration, ui]\n    requires promotion from staging\n  }\n");
    let mut written = 0;
    for stage in 0..stages {
        let _ = writeln!(out, "  stage s{stage} {{");
        let mut lines: Vec<String> = Vec::new();
        if stage == 0 {
            lines.push("artifact app { run = \"make\"; outputs = [\"app\"] }".into());
        } else {
            match stage % 4 {
                1 => {
                    lines.push(format!("deploy app to dev as dev{stage} {{ run = \"deploy\"; secrets = [TOKEN] }}"));
                    lines.push(format!("test integration it{stage} on dev {{ run = \"it\" }}"));
                }
                2 => {
                    lines.push(format!("deploy app to staging as stg{stage} {{ run = \"deploy\"; when = branch == \"main\" }}"));
                    lines.push(format!("test ui ui{stage} on staging {{ run = \"ui\"; when = branch == \"main\" }}"));
                }
                3 => lines.push(format!("gate g{stage} {{ approvers = [\"ops\"]; timeout = 1d; when = branch == \"main\" }}")),
                _ => lines.push(
                    format!("deploy app to production as prod{stage} {{ run = \"deploy\"; when = branch == \"main\" && event == push }}"),
                ),
            }
        }
        let mut last_unit: Option<String> = None;
        while lines.len() < JOBS_PER_STAGE && written + lines.len() < jobs {
            let i = lines.len();
            let line = if i.is_multiple_of(5) {
                last_unit = Some(format!("u{stage}_{i}"));
                format!("test unit u{stage}_{i} {{ run = \"cargo test\"; timeout = 10m }}")
            } else if let (1, Some(unit)) = (i % 5, &last_unit) {
                format!("job j{stage}_{i} {{ run = \"step\"; after = [{unit}] }}")
            } else {
                format!("job j{stage}_{i} {{ run = [\"a\", \"b\"]; retries = 1 }}")
            };
            lines.push(line);
        }
        written += lines.len();
        for line in lines {
            let _ = writeln!(out, "    {line}");
        }
        out.push_str("  }\n");
    }
    out.push_str("}\n");
    out
}

/// The same shape as [`pipeline`], every job taking from templates (v2 §3): chains, `from A,
/// B`, env merged by key, steps, list attributes, and a matrix from a template on every tenth
/// job (two instances each), so that about `jobs` jobs are declared and 10 % more planned.
pub fn templated(jobs: usize) -> String {
    let header = "/// Generated for benchmarks: templates.
template base {
  image = \"rust:1.89\"
  env { CARGO_TERM_COLOR = \"always\"; RUST_BACKTRACE = \"1\" }
  step setup { run = \"rustc --version\" }
}
template slow from base { timeout = 30m; retries = 1; env { RUST_BACKTRACE = \"full\" } }
template linux { runner = \"ubuntu-24.04\"; env { OS = \"linux\" }; step setup { run = \"uname -a\" } }
template with_token { secrets = [TOKEN] }
template matrixed from slow { matrix { rust = [\"stable\", \"beta\"] } }
";
    let plain = pipeline(jobs);
    let mut out = String::from(header);
    for line in plain.lines() {
        let trimmed = line.trim_start();
        let indent = &line[..line.len() - trimmed.len()];
        let Some(open) = trimmed.find(" {") else {
            out.push_str(line);
            out.push('\n');
            continue;
        };
        let (head, body) = trimmed.split_at(open);
        let from = if head.starts_with("test unit ") {
            Some("base")
        } else if head.starts_with("deploy ") {
            Some("with_token, linux")
        } else if head.starts_with("artifact ") {
            Some("slow, linux")
        } else if let Some(name) = head.strip_prefix("job ") {
            // `job jS_I`: every tenth a matrix, the others a chain and a second template.
            let index: usize = name
                .rsplit('_')
                .next()
                .and_then(|i| i.parse().ok())
                .unwrap_or(0);
            Some(if index % 10 == 2 {
                "matrixed"
            } else {
                "slow, linux"
            })
        } else {
            None
        };
        match from {
            Some(from) => {
                let body = body.replacen("; retries = 1", "", 1);
                let _ = writeln!(out, "{indent}{head} from {from}{body}");
            }
            None => {
                out.push_str(line);
                out.push('\n');
            }
        }
    }
    out
}
