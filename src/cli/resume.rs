//! `cdl resume [RUN]`: continue a paused or crashed run.

use std::io::IsTerminal;
use std::path::PathBuf;

use cdl::run::{self, record::Store};

#[derive(clap::Args)]
#[command(
    about = "Continue a paused or crashed run; finished jobs are not run again",
    after_help = "Examples:\n  cdl resume                      # the latest run\n  cdl resume 20261126-101502\n  cdl resume --as alice            # answer gate prompts as alice"
)]
pub struct Args {
    /// The run id (default: the latest).
    run: Option<String>,
    /// Where runs are kept (default: `.cdl` in the current folder).
    #[arg(long, default_value = ".cdl")]
    state_dir: PathBuf,
    /// Secret values, one `NAME=value` per line (dotenv).
    #[arg(long, value_name = "FILE")]
    secrets_file: Option<PathBuf>,
    /// Who answers a gate's prompt on this terminal (default: the user name — not whoever
    /// started the run); must be one of the gate's approvers.
    #[arg(long = "as", value_name = "WHO")]
    identity: Option<String>,
    /// Write the results as JUnit XML.
    #[arg(long, value_name = "FILE")]
    junit: Option<PathBuf>,
    /// The OIDC token the jobs with `oidc` that this resume runs get as `CDL_OIDC_TOKEN`
    /// (masked like a secret).
    #[arg(long, value_name = "FILE")]
    oidc_token_file: Option<PathBuf>,
}

pub fn run(args: Args) -> u8 {
    let store = Store::new(args.state_dir);
    let interactive = std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
    let signal = super::signals();
    super::run::finish(run::resume_with_oidc(
        &store,
        args.run.as_deref(),
        args.secrets_file.as_deref(),
        args.oidc_token_file.as_deref(),
        interactive,
        signal,
        args.junit.as_deref(),
        args.identity.unwrap_or_else(run::user_name),
    ))
}
