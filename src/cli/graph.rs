//! `cdl graph FILE [--format mermaid|dot|svg]`: the job graph drawn.

use std::path::PathBuf;

#[derive(clap::Args)]
#[command(
    about = "Draw the job graph: stages, jobs, gates, deploys and their needs",
    after_help = "Examples:\n  cdl graph examples/webshop.cdl                 # Mermaid, for GitHub markdown\n  cdl graph examples/webshop.cdl --format dot | dot -Tpng -o graph.png\n  cdl graph examples/webshop.cdl --format svg > graph.svg   # no Graphviz needed"
)]
pub struct Args {
    /// The pipeline file.
    file: PathBuf,
    #[arg(long, value_enum, default_value = "mermaid")]
    format: Format,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum Format {
    Mermaid,
    Dot,
    Svg,
}

pub fn run(args: Args) -> u8 {
    let Some(plan) = super::plan_of(&args.file) else {
        return super::USAGE;
    };
    let text = match args.format {
        Format::Mermaid => cdl::graph::mermaid(&plan),
        Format::Dot => cdl::graph::dot(&plan),
        Format::Svg => cdl::graph::svg(&plan, &cdl::graph::layout(&plan), None),
    };
    super::output(&text);
    super::SUCCESS
}
