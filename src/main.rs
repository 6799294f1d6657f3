//! The `cdl` command line: a thin clap front end over the library.

mod cli;

fn main() -> std::process::ExitCode {
    // A run's keeper (started by `cdl run`, never by hand): no clap, no terminal.
    if std::env::args_os().nth(1).as_deref() == Some(cdl::run::keeper::MODE.as_ref()) {
        return cdl::run::keeper::main();
    }
    cli::main()
}
