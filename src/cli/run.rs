//! `cdl run FILE [options]`: run the plan on this machine.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use cdl::run::record::{Store, default_state_dir};
use cdl::run::{self, Options, Outcome};

#[derive(clap::Args)]
#[command(
    about = "Run a pipeline on this machine: jobs in order, approvals, crash-safe state",
    after_help = "Examples:\n  cdl run examples/hello.cdl\n  cdl run examples/hello.cdl --approve ship\n  cdl run pipeline.cdl --branch main --only deploy_app_staging --dry-run\n\nExit codes: 0 success, 1 a job failed, 2 bad usage or a file that does not compile,\n3 waiting for an approval (see `cdl approve` and `cdl resume`), 130 Ctrl-C, 143 SIGTERM."
)]
pub struct Args {
    /// The pipeline file.
    file: PathBuf,
    /// How many jobs run at once (default: the number of CPUs).
    #[arg(long, short = 'j')]
    jobs: Option<usize>,
    /// Stop everything at the first failure.
    #[arg(long)]
    fail_fast: bool,
    /// Approve this gate ahead (repeatable).
    #[arg(long, value_name = "GATE")]
    approve: Vec<String>,
    /// Approve every gate: continuous deployment.
    #[arg(long)]
    auto_approve: bool,
    /// Who approves at this terminal (default: the user name).
    #[arg(long = "as", value_name = "WHO")]
    identity: Option<String>,
    /// Secret values, one `NAME=value` per line (dotenv); the environment is read too.
    #[arg(long, value_name = "FILE")]
    secrets_file: Option<PathBuf>,
    /// Where steps run (default: the pipeline file's folder).
    #[arg(long)]
    workdir: Option<PathBuf>,
    /// Where runs are kept (default: `.cdl` beside the pipeline file).
    #[arg(long)]
    state_dir: Option<PathBuf>,
    /// The branch conditions see (default: the current git branch).
    #[arg(long)]
    branch: Option<String>,
    /// The tag conditions see (default: a tag on the current git commit).
    #[arg(long)]
    tag: Option<String>,
    /// The event conditions see: push, pull_request, tag, schedule, manual (default: push).
    #[arg(long)]
    event: Option<String>,
    /// The commit id jobs see as `CDL_SHA` (default: git's `HEAD`).
    #[arg(long)]
    sha: Option<String>,
    /// The target branch of the pull request, as `CDL_PR_TARGET` (default: empty).
    #[arg(long, value_name = "BRANCH")]
    pr_target: Option<String>,
    /// A value of one of the pipeline's inputs, `NAME=VALUE` (repeatable); checked against
    /// its type and choices. Jobs get it as `CDL_INPUT_<NAME>`.
    #[arg(long = "input", value_name = "NAME=VALUE")]
    inputs: Vec<String>,
    /// A value of one of the pipeline's vars, `NAME=VALUE` (repeatable); without it a var is
    /// read from the environment, else its default.
    #[arg(long = "var", value_name = "NAME=VALUE")]
    vars: Vec<String>,
    /// Run only this job and the jobs it needs.
    #[arg(long, value_name = "JOB")]
    only: Option<String>,
    /// Print what would run, in order, with the commands; run nothing.
    #[arg(long)]
    dry_run: bool,
    /// Write the results as JUnit XML (one testcase per job, grouped by stage).
    #[arg(long, value_name = "FILE")]
    junit: Option<PathBuf>,
    /// The OIDC token the jobs with `oidc` get as `CDL_OIDC_TOKEN` (masked like a secret).
    #[arg(long, value_name = "FILE")]
    oidc_token_file: Option<PathBuf>,
    /// Start this `start = manual` job, otherwise skipped (repeatable).
    #[arg(long, value_name = "JOB")]
    start: Vec<String>,
    /// What `changed()` compares with: the files of `git diff REF...HEAD` changed (default:
    /// `HEAD~1` on a push, the target branch on a pull request, everything otherwise).
    #[arg(long, value_name = "REF")]
    base: Option<String>,
}

pub fn run(args: Args) -> u8 {
    if let Some(event) = &args.event
        && !cdl::check::condition::EVENTS.contains(&event.as_str())
    {
        eprintln!(
            "error: `--event {event}` is not an event; events are {}",
            cdl::check::condition::EVENTS.join(", ")
        );
        return super::USAGE;
    }
    let Some(plan) = super::plan_of(&args.file) else {
        return super::USAGE;
    };
    let folder = args
        .file
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map_or_else(|| PathBuf::from("."), PathBuf::from);
    let workdir = args.workdir.clone().unwrap_or_else(|| folder.clone());
    let workdir = workdir.canonicalize().unwrap_or(workdir);
    let detected = run::detect_context(
        &folder,
        run::Given {
            branch: args.branch.clone(),
            tag: args.tag.clone(),
            event: args.event.clone(),
            sha: args.sha.clone(),
            pr_target: args.pr_target.clone(),
        },
        plan.pipeline.default_branch.as_deref(),
    );
    if let Some(notice) = &detected.notice {
        eprintln!("{notice}");
    }
    let mut detected = detected;
    // v2 i14b: the changed files, only when a condition reads them.
    if plan
        .jobs
        .iter()
        .any(|j| j.condition.as_ref().is_some_and(reads_changed))
    {
        let changed = run::changed::changed(
            &folder,
            args.base.as_deref(),
            &detected.context.event,
            &detected.facts.pr_target,
            &detected.facts.default_branch,
        );
        if let Some(notice) = &changed.notice {
            eprintln!("{notice}");
        }
        detected.context.changed = changed.files.clone();
        detected.facts.changed = changed.files;
    } else if args.base.is_some() {
        eprintln!("note: no condition reads `changed()`: `--base` changes nothing");
    }
    let given = run::inputs::inputs(&plan, &args.inputs).and_then(|inputs| {
        let vars = run::inputs::vars(&plan, &args.vars, |name| std::env::var(name).ok())?;
        Ok((inputs, vars))
    });
    match given {
        Ok((inputs, vars)) => {
            detected.context.inputs = inputs;
            detected.context.vars = vars;
        }
        Err(e) => {
            eprintln!("error: {e}");
            return super::USAGE;
        }
    }
    let options = Options {
        jobs: args
            .jobs
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, usize::from)),
        fail_fast: args.fail_fast,
        only: args.only.clone(),
        approve: args.approve.clone(),
        auto_approve: args.auto_approve,
        identity: args.identity.clone().unwrap_or_else(run::user_name),
        secrets_file: args.secrets_file.clone(),
        workdir,
        context: detected.context,
        facts: detected.facts,
        interactive: std::io::stdin().is_terminal() && std::io::stderr().is_terminal(),
        junit: args.junit.clone(),
        oidc_token_file: args.oidc_token_file.clone(),
        start: args.start.clone(),
    };
    if args.dry_run {
        return match run::dry_run(&plan, &options) {
            Ok(text) => {
                super::output(&text);
                super::SUCCESS
            }
            Err(e) => {
                eprintln!("error: {e}");
                super::USAGE
            }
        };
    }
    let store = Store::new(
        args.state_dir
            .clone()
            .unwrap_or_else(|| default_state_dir(&args.file)),
    );
    let signal = super::signals();
    finish(run::start(plan, &args.file, &store, options, signal))
}

/// Prints the end of a run (summary, record, what to do next) and gives its exit code.
pub fn finish(result: Result<run::Finished, run::error::RunError>) -> u8 {
    let finished = match result {
        Ok(finished) => finished,
        Err(e) => {
            // Fallible: after SIGHUP the terminal is gone, and `eprintln!` would panic.
            let _ = writeln!(std::io::stderr(), "error: {e}");
            return e.exit_code();
        }
    };
    if let Outcome::Cancelled(signal) = finished.outcome
        && signal == signal_hook::consts::SIGHUP
    {
        // The terminal is gone: the record says what happened.
        return 128 + signal as u8;
    }
    super::output(&run::summary(&finished.record));
    super::output(&run::reports_summary(&finished));
    super::output(&format!("run record: {}\n", finished.record_path.display()));
    match finished.outcome {
        Outcome::Succeeded => super::SUCCESS,
        Outcome::Failed => super::FAILURE,
        Outcome::Paused => {
            super::output(&run::paused_help(
                &finished.record,
                &finished.state_dir_option,
            ));
            super::PAUSED
        }
        Outcome::Cancelled(signal) => 128 + signal as u8,
    }
}

/// Whether the condition reads `changed()`.
fn reads_changed(condition: &cdl::plan::Condition) -> bool {
    use cdl::plan::Condition;
    match condition {
        Condition::Compare { variable, .. } => *variable == cdl::plan::Variable::Changed,
        Condition::And(items) | Condition::Or(items) => items.iter().any(reads_changed),
        Condition::Not(inner) => reads_changed(inner),
        Condition::Const(_) => false,
    }
}
