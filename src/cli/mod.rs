//! Argument parsing and dispatch; one file per subcommand. Exit codes (all commands):
//! 0 success, 1 the pipeline or a job failed, 2 bad usage or a file that does not compile,
//! 3 a run waits for an approval, 128 + N stopped by signal N (130 Ctrl-C, 143 SIGTERM).

mod approve;
mod check;
mod completions;
mod explain;
mod export;
mod fmt;
mod graph;
mod init;
mod lsp;
mod plan;
mod resume;
mod run;
mod runs;
mod verify;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "cdl",
    version,
    about = "The continuous delivery language: check, plan and run pipeline files"
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

// Parsed once per process: the size of the largest variant (`run`'s options) costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand)]
enum Command {
    Check(check::Args),
    Plan(plan::Args),
    Explain(explain::Args),
    Fmt(fmt::Args),
    Lsp(lsp::Args),
    Graph(graph::Args),
    Init(init::Args),
    Completions(completions::Args),
    Manpage(completions::ManArgs),
    Run(Box<run::Args>),
    /// Approve a gate a run waits on.
    Approve(approve::Args),
    /// Reject a gate a run waits on.
    Reject(approve::Args),
    Resume(resume::Args),
    Runs(runs::RunsArgs),
    Status(runs::StatusArgs),
    Logs(runs::LogsArgs),
    Verify(verify::Args),
    Export(export::Args),
}

pub const SUCCESS: u8 = 0;
pub const FAILURE: u8 = 1;
pub const USAGE: u8 = 2;
pub const PAUSED: u8 = 3;

pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            let _ = err.print();
            return ExitCode::from(if err.use_stderr() { USAGE } else { SUCCESS });
        }
    };
    let code = match cli.command {
        Command::Check(args) => check::run(args),
        Command::Plan(args) => plan::run(args),
        Command::Explain(args) => explain::run(args),
        Command::Fmt(args) => fmt::run(args),
        Command::Lsp(args) => lsp::run(args),
        Command::Graph(args) => graph::run(args),
        Command::Init(args) => init::run(args),
        Command::Completions(args) => completions::completions(args),
        Command::Manpage(args) => completions::manpage(args),
        Command::Run(args) => run::run(*args),
        Command::Approve(args) => approve::run(args, true),
        Command::Reject(args) => approve::run(args, false),
        Command::Resume(args) => resume::run(args),
        Command::Runs(args) => runs::runs(args),
        Command::Status(args) => runs::status(args),
        Command::Logs(args) => runs::logs(args),
        Command::Verify(args) => verify::run(args),
        Command::Export(args) => export::run(args),
    };
    ExitCode::from(code)
}

/// SIGINT, SIGTERM and SIGHUP (a closed terminal) no longer stop `cdl` at once: they set the
/// returned number, and the run has its jobs' supervisors stop them and records itself as
/// cancelled (exit 130, 143, 129).
pub fn signals() -> std::sync::Arc<std::sync::atomic::AtomicUsize> {
    let signal = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    for number in [
        signal_hook::consts::SIGINT,
        signal_hook::consts::SIGTERM,
        signal_hook::consts::SIGHUP,
    ] {
        let _ = signal_hook::flag::register_usize(number, signal.clone(), number as usize);
    }
    signal
}

/// Prints only the errors of a compilation (commands that act on a file stay quiet about
/// warnings, which `cdl check` shows).
pub fn print_errors(compilation: &cdl::compile::Compilation) {
    let style = cdl::render::human::Style::for_stderr();
    for diagnostic in compilation.diagnostics.iter().filter(|d| d.is_error()) {
        eprintln!(
            "{}",
            cdl::render::human::render(diagnostic, &compilation.sources, style)
        );
    }
}

/// Prints the human rendering of a compilation's diagnostics to stderr.
pub fn print_diagnostics(compilation: &cdl::compile::Compilation) {
    let style = cdl::render::human::Style::for_stderr();
    for diagnostic in &compilation.diagnostics {
        eprintln!(
            "{}",
            cdl::render::human::render(diagnostic, &compilation.sources, style)
        );
    }
}

/// Writes command output to stdout. A closed pipe (`cdl plan | head`) ends the command
/// quietly, as it does for other Unix tools.
pub fn output(text: &str) {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    if let Err(err) = stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        if err.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(i32::from(SUCCESS));
        }
        eprintln!("error: cannot write the output: {err}");
        std::process::exit(i32::from(USAGE));
    }
}

/// The plan of a pipeline file; `None` after printing why there is none (an unreadable file,
/// errors, no pipeline).
pub fn plan_of(path: &std::path::Path) -> Option<cdl::plan::Plan> {
    let mut compilation = compile(path)?;
    compilation.require_pipeline();
    print_errors(&compilation);
    cdl::plan::build(&compilation)
}

/// Compiles a file, or prints why it cannot be read.
pub fn compile(path: &std::path::Path) -> Option<cdl::compile::Compilation> {
    match cdl::compile::compile_path(path) {
        Ok(compilation) => Some(compilation),
        Err(err) => {
            eprintln!("error: cannot read {}: {err}", path.display());
            None
        }
    }
}
