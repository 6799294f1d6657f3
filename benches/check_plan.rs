//! Check + plan time of generated pipelines of 1k, 10k and 100k jobs.
//!
//! `cargo bench --bench check_plan` prints the median of several runs per size and the time
//! per job, which stays flat when the work grows linearly; the last row is the 10k pipeline
//! with every job taking from templates and a tenth of them matrices (v2 §3). `-- --emit N
//! [--templated]` prints a generated pipeline instead; `-- --phases N [--templated]` times
//! each phase.

#[path = "../bench/generate.rs"]
mod generate;

use std::time::{Duration, Instant};

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(at) = args.iter().position(|a| a == "--emit") {
        let jobs = args
            .get(at + 1)
            .and_then(|n| n.parse().ok())
            .unwrap_or(1000);
        if args.iter().any(|a| a == "--templated") {
            print!("{}", generate::templated(jobs));
        } else {
            print!("{}", generate::pipeline(jobs));
        }
        return;
    }
    if args.iter().any(|a| a == "--phases") {
        let jobs = args
            .iter()
            .position(|a| a == "--phases")
            .and_then(|i| args.get(i + 1))
            .and_then(|n| n.parse().ok())
            .unwrap_or(10_000);
        let text = if args.iter().any(|a| a == "--templated") {
            generate::templated(jobs)
        } else {
            generate::pipeline(jobs)
        };
        let start = Instant::now();
        {
            use pest::Parser;
            let pairs =
                cdl::syntax::parser::CdlParser::parse(cdl::syntax::parser::Rule::file, &text)
                    .unwrap();
            println!("pest {:?}", start.elapsed());
            drop(pairs);
        }
        let start = Instant::now();
        let parsed = cdl::syntax::parse(cdl::span::FileId(0), &text);
        println!("parse {:?}", start.elapsed());
        drop(parsed);
        let start = Instant::now();
        let compilation = cdl::compile::compile_text("generated.cdl", None, text.clone());
        println!("compile {:?}", start.elapsed());
        let start = Instant::now();
        let plan = cdl::plan::build(&compilation).unwrap();
        println!("plan {:?}", start.elapsed());
        let start = Instant::now();
        let json = plan.to_json();
        println!("json {:?} {} bytes", start.elapsed(), json.len());
        return;
    }
    println!(
        "{:>8}  {:>10}  {:>12}  {:>12}  pipeline",
        "jobs", "lines", "check+plan", "per job"
    );
    // v2 i13e: the 10k pipeline again, every job taking from templates, some with matrices.
    let sizes = [
        (1_000, 21, false),
        (10_000, 11, false),
        (100_000, 5, false),
        (10_000, 11, true),
    ];
    for (jobs, runs, templated) in sizes {
        let text = if templated {
            generate::templated(jobs)
        } else {
            generate::pipeline(jobs)
        };
        let mut samples = Vec::new();
        let mut planned = 0;
        for _ in 0..runs {
            let start = Instant::now();
            let compilation = cdl::compile::compile_text("generated.cdl", None, text.clone());
            let plan = cdl::plan::build(&compilation).expect("the generated pipeline checks clean");
            samples.push(start.elapsed());
            planned = plan.jobs.len();
        }
        let time = median(samples);
        println!(
            "{planned:>8}  {:>10}  {:>10.1}ms  {:>10.2}µs  {}",
            text.lines().count(),
            time.as_secs_f64() * 1e3,
            time.as_secs_f64() * 1e6 / planned as f64,
            if templated {
                "templates, matrices"
            } else {
                "plain"
            }
        );
    }
}
