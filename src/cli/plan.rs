//! `cdl plan FILE [--format text|json] [--branch B] [--tag T] [--event E]`

use std::path::PathBuf;

use cdl::check::condition::RunContext;
use cdl::codes::Code;
use cdl::diagnostic::Diagnostic;
use cdl::span::Span;

#[derive(clap::Args)]
#[command(
    about = "Print the execution plan: stages, jobs, needs, gates, environments, critical path",
    after_help = "Examples:\n  cdl plan examples/webshop.cdl\n  cdl plan examples/webshop.cdl --format json | jq '.jobs[].id'\n  cdl plan examples/library.cdl --event tag --tag v1.2.0"
)]
pub struct Args {
    /// The pipeline file.
    file: PathBuf,
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
    /// Branch the text form evaluates conditions with (marks the jobs a run would skip).
    #[arg(long)]
    branch: Option<String>,
    /// Tag the text form evaluates conditions with.
    #[arg(long)]
    tag: Option<String>,
    /// Event the text form evaluates conditions with (push, pull_request, tag, schedule, manual).
    #[arg(long)]
    event: Option<String>,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum Format {
    Text,
    Json,
}

pub fn run(args: Args) -> u8 {
    let Some(mut compilation) = super::compile(&args.file) else {
        return super::USAGE;
    };
    let has_pipeline = compilation
        .checked
        .as_ref()
        .is_some_and(|c| c.pipeline.is_some());
    if compilation.checked.is_some() && !has_pipeline {
        let span = Span::new(compilation.root, 0, 0);
        compilation.diagnostics.push(
            Diagnostic::new(Code::NoPipeline, span, "this file declares no pipeline")
                .label("nothing to plan")
                .help("a plan is made from a file with `pipeline NAME { … }`"),
        );
    }
    super::print_diagnostics(&compilation);
    let Some(plan) = cdl::plan::build(&compilation) else {
        return super::USAGE;
    };
    match args.format {
        Format::Json => println!("{}", plan.to_json()),
        Format::Text => {
            print!("{}", cdl::plan::text::render(&plan));
            if args.branch.is_some() || args.tag.is_some() || args.event.is_some() {
                let context = RunContext {
                    branch: args.branch.clone(),
                    tag: args.tag.clone(),
                    event: args.event.clone().unwrap_or_else(|| "push".into()),
                };
                let skipped: Vec<&str> = plan
                    .jobs
                    .iter()
                    .filter(|j| j.condition.as_ref().is_some_and(|c| !c.evaluate(&context)))
                    .map(|j| j.id.as_str())
                    .collect();
                if skipped.is_empty() {
                    println!("for this run: every job runs");
                } else {
                    println!(
                        "for this run, skipped by their conditions: {}",
                        skipped.join(", ")
                    );
                }
            }
        }
    }
    super::SUCCESS
}
