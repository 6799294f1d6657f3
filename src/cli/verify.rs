//! `cdl verify [RUN]`: re-check a run's approvals and digests and print its audit trail.

use std::path::PathBuf;

use cdl::run::{audit, record::Store};

#[derive(clap::Args)]
#[command(
    about = "Re-check a run's signed approvals and artifact digests, and print its audit trail",
    after_help = "Checks every decision's signature against the pipeline's allowed_signers as it is now (or --allowed-signers), that each signed message matches the record, that each gate had enough distinct approvers and no rejection, and that each deploy shipped the digests the run built (and, under `requires promotion`, that the source environment got). Exit codes: 0 all checks pass, 1 a check failed, 2 no such run.\n\nExamples:\n  cdl verify\n  cdl verify 20261126-101502 --allowed-signers ~/trust/allowed_signers"
)]
pub struct Args {
    /// The run id (default: the latest).
    run: Option<String>,
    /// The trust file to verify signatures against (default: the pipeline's allowed_signers).
    #[arg(long, value_name = "PATH")]
    allowed_signers: Option<PathBuf>,
    /// Where runs are kept (default: `.cdl` in the current folder).
    #[arg(long, default_value = ".cdl")]
    state_dir: PathBuf,
}

pub fn run(args: Args) -> u8 {
    let store = Store::new(args.state_dir);
    let Some(id) = args.run.or_else(|| store.run_ids().pop()) else {
        eprintln!("error: no runs in {}", store.runs_dir().display());
        return super::USAGE;
    };
    match audit::audit(&store, &id, args.allowed_signers.as_deref()) {
        Ok(found) => {
            let mut text = found.trail.join("\n");
            text.push('\n');
            for problem in &found.problems {
                text.push_str(&format!("problem: {problem}\n"));
            }
            text.push_str(if found.problems.is_empty() {
                "verified: no problem found\n"
            } else {
                "NOT verified\n"
            });
            super::output(&text);
            if found.problems.is_empty() {
                super::SUCCESS
            } else {
                super::FAILURE
            }
        }
        Err(e) => {
            eprintln!("error: {e}");
            super::USAGE
        }
    }
}
