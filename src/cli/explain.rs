//! `cdl explain CODE`: the long page of a diagnostic code.

use cdl::codes::Code;

#[derive(clap::Args)]
#[command(
    about = "Explain a diagnostic code, with a wrong and a right example",
    after_help = "Examples:\n  cdl explain E0500\n  cdl explain          # lists every code"
)]
pub struct Args {
    /// A code such as E0500; without one, every code is listed.
    code: Option<String>,
}

pub fn run(args: Args) -> u8 {
    let Some(name) = args.code else {
        for code in Code::ALL {
            super::output(&format!("{}  {}\n", code.as_str(), code.title()));
        }
        return super::SUCCESS;
    };
    match Code::parse(&name) {
        Some(code) => {
            super::output(code.explanation());
            super::SUCCESS
        }
        None => {
            eprintln!("error: `{name}` is not a cdl diagnostic code");
            eprintln!("help: `cdl explain` lists every code");
            super::USAGE
        }
    }
}
