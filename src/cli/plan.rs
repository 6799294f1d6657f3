//! `cdl plan FILE [--format text|json] [--branch B] [--tag T] [--event E]`

use std::path::PathBuf;

use cdl::check::condition::{EVENTS, RunContext};

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
    if let Some(event) = &args.event
        && !EVENTS.contains(&event.as_str())
    {
        eprintln!(
            "error: `--event {event}` is not an event; events are {}",
            EVENTS.join(", ")
        );
        return super::USAGE;
    }
    let Some(mut compilation) = super::compile(&args.file) else {
        return super::USAGE;
    };
    compilation.require_pipeline();
    super::print_diagnostics(&compilation);
    let Some(plan) = cdl::plan::build(&compilation) else {
        return super::USAGE;
    };
    match args.format {
        Format::Json => super::output(&format!("{}\n", plan.to_json())),
        Format::Text => {
            let store =
                cdl::run::record::Store::new(cdl::run::record::default_state_dir(&args.file));
            let estimates = cdl::run::estimates(&store);
            let estimates = (!estimates.is_empty()).then_some(&estimates);
            super::output(&cdl::plan::text::render(&plan, estimates));
            if args.branch.is_some() || args.tag.is_some() || args.event.is_some() {
                let context = RunContext {
                    branch: args.branch.clone(),
                    tag: args.tag.clone(),
                    event: args.event.clone().unwrap_or_else(|| "push".into()),
                    ..RunContext::default()
                };
                let skipped = plan.skipped(&context);
                if skipped.is_empty() {
                    super::output("for this run: every job runs\n");
                } else {
                    super::output(&format!("for this run, skipped: {}\n", skipped.join(", ")));
                }
            }
        }
    }
    super::SUCCESS
}
