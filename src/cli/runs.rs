//! `cdl runs`, `cdl status [RUN]`, `cdl logs RUN JOB`: what ran, what waits, a job's output.

use std::path::PathBuf;

use cdl::run::{self, record::Store};

#[derive(clap::Args)]
#[command(
    about = "List the runs kept in the state folder",
    after_help = "Example:\n  cdl runs"
)]
pub struct RunsArgs {
    /// Where runs are kept (default: `.cdl` in the current folder).
    #[arg(long, default_value = ".cdl")]
    state_dir: PathBuf,
}

#[derive(clap::Args)]
#[command(
    about = "Show a run: each job's result, and what the unfinished ones wait for",
    after_help = "Examples:\n  cdl status\n  cdl status 20261126-101502"
)]
pub struct StatusArgs {
    /// The run id (default: the latest).
    run: Option<String>,
    #[arg(long, default_value = ".cdl")]
    state_dir: PathBuf,
}

#[derive(clap::Args)]
#[command(
    about = "Print a job's output from a run",
    after_help = "Example:\n  cdl logs 20261126-101502 deploy_app_staging"
)]
pub struct LogsArgs {
    /// The run id.
    run: String,
    /// The job id.
    job: String,
    #[arg(long, default_value = ".cdl")]
    state_dir: PathBuf,
}

pub fn runs(args: RunsArgs) -> u8 {
    super::output(&run::list(&Store::new(args.state_dir)));
    super::SUCCESS
}

pub fn status(args: StatusArgs) -> u8 {
    match run::find_run(&Store::new(args.state_dir), args.run.as_deref()) {
        Ok(record) => {
            super::output(&run::status(&record));
            super::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            super::USAGE
        }
    }
}

pub fn logs(args: LogsArgs) -> u8 {
    let store = Store::new(args.state_dir);
    let record = match store.load(&args.run) {
        Ok(record) => record,
        Err(e) => {
            eprintln!("error: {e}");
            return super::USAGE;
        }
    };
    if !record.jobs.contains_key(&args.job) {
        let jobs: Vec<&str> = record.jobs.keys().map(String::as_str).collect();
        eprintln!(
            "error: run {} has no job `{}`; its jobs are {}",
            args.run,
            args.job,
            jobs.join(", ")
        );
        return super::USAGE;
    }
    let path = store.log_path(&args.run, &args.job);
    match std::fs::read_to_string(&path) {
        Ok(text) => {
            super::output(&text);
            // v2 reports (i13h): what the job kept, after its log.
            super::output(&run::reports::logs_footer(&store, &args.run, &args.job));
            super::SUCCESS
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            eprintln!("{}", run::no_log(&record, &args.job));
            super::SUCCESS
        }
        Err(e) => {
            eprintln!("error: cannot read {}: {e}", path.display());
            super::FAILURE
        }
    }
}
