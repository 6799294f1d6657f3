//! The `cdl` command line: a thin clap front end over the library.

mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
