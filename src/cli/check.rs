//! `cdl check FILE… [--format human|json|sarif]`

use std::path::PathBuf;

use cdl::compile::Compilation;
use cdl::render;

#[derive(clap::Args)]
#[command(
    about = "Parse and type-check pipeline files; report every problem found",
    after_help = "Examples:\n  cdl check examples/webshop.cdl\n  cdl check --format sarif pipelines/*.cdl > cdl.sarif"
)]
pub struct Args {
    /// Pipeline files to check.
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// How to print diagnostics.
    #[arg(long, value_enum, default_value = "human")]
    format: Format,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum Format {
    Human,
    Json,
    Sarif,
}

pub fn run(args: Args) -> u8 {
    let mut compilations: Vec<Compilation> = Vec::new();
    let mut unreadable = false;
    for file in &args.files {
        match super::compile(file) {
            Some(c) => compilations.push(c),
            None => unreadable = true,
        }
    }
    match args.format {
        Format::Human => {
            for compilation in &compilations {
                super::print_diagnostics(compilation);
            }
            let all: Vec<_> = compilations
                .iter()
                .flat_map(|c| c.diagnostics.clone())
                .collect();
            let files = compilations.len();
            let counted = render::human::summary(&all).unwrap_or_else(|| "no problems".into());
            eprintln!(
                "checked {files} file{}: {counted}",
                if files == 1 { "" } else { "s" }
            );
        }
        Format::Json => {
            for compilation in &compilations {
                super::output(&render::json::render(
                    &compilation.diagnostics,
                    &compilation.sources,
                ));
            }
        }
        Format::Sarif => {
            let parts: Vec<_> = compilations
                .iter()
                .map(|c| (&c.sources, c.diagnostics.as_slice()))
                .collect();
            super::output(&render::sarif::render(&parts));
        }
    }
    if unreadable || compilations.iter().any(Compilation::has_errors) {
        super::USAGE
    } else {
        super::SUCCESS
    }
}
