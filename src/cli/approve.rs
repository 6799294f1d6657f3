//! `cdl approve GATE` and `cdl reject GATE`: record a decision on a waiting gate.

use std::path::PathBuf;

use cdl::run::{self, record::Store};

#[derive(clap::Args)]
#[command(
    after_help = "Examples:\n  cdl approve approve_release\n  cdl approve approve_release --run 20261126-101502 --as alice --comment \"checked the changelog\"\n  cdl reject approve_release --comment \"load test too slow\""
)]
pub struct Args {
    /// The gate.
    gate: String,
    /// The run (default: the latest run waiting on this gate).
    #[arg(long)]
    run: Option<String>,
    /// Who decides (default: the user name); must be one of the gate's approvers.
    #[arg(long = "as", value_name = "WHO")]
    identity: Option<String>,
    /// Kept in the run record with the decision.
    #[arg(long)]
    comment: Option<String>,
    /// The SSH key that signs the decision when the pipeline sets `allowed_signers` (default:
    /// git's `user.signingkey`, else ~/.ssh/id_ed25519; a public key works with an agent).
    #[arg(long, value_name = "PATH")]
    key: Option<PathBuf>,
    /// Where runs are kept (default: `.cdl` in the current folder).
    #[arg(long, default_value = ".cdl")]
    state_dir: PathBuf,
}

pub fn run(args: Args, approve: bool) -> u8 {
    let store = Store::new(args.state_dir);
    let identity = args.identity.unwrap_or_else(run::user_name);
    match run::decide(
        &store,
        &args.gate,
        args.run.as_deref(),
        &identity,
        args.comment,
        approve,
        args.key.as_deref(),
    ) {
        Ok(message) => {
            // The decision is on disk (run.json written, flushed and renamed, its folder
            // flushed) before this reports it.
            super::output(&format!("{message}\n"));
            cdl::failpoint!("decision-reported");
            super::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            super::USAGE
        }
    }
}
