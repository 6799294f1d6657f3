//! `cdl init [FILE]`: writes a commented starter pipeline; asks which environments and test
//! kinds to include only on a terminal.

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;

#[derive(clap::Args)]
#[command(
    about = "Write a commented starter pipeline that checks clean and runs",
    after_help = "Examples:\n  cdl init                 # writes pipeline.cdl\n  cdl init deploy/app.cdl\n  cdl init --yes           # no questions, even on a terminal"
)]
pub struct Args {
    /// Where to write it (never over an existing file).
    #[arg(default_value = "pipeline.cdl")]
    file: PathBuf,
    /// Ask nothing: use the defaults (staging and production; unit, integration and smoke).
    #[arg(long)]
    yes: bool,
}

pub fn run(args: Args) -> u8 {
    if args.file.exists() {
        eprintln!(
            "error: {} already exists; cdl init never overwrites a file",
            args.file.display()
        );
        return super::USAGE;
    }
    let interactive =
        !args.yes && std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
    let mut environments = vec!["staging".to_string(), "production".to_string()];
    let mut kinds = vec![
        "unit".to_string(),
        "integration".to_string(),
        "smoke".to_string(),
    ];
    if interactive {
        environments = ask("environments, in promotion order", &environments);
        kinds = ask(
            "test kinds (unit, integration, ui, load, api, smoke, security, e2e)",
            &kinds,
        );
    }
    let name = args
        .file
        .file_stem()
        .and_then(|s| s.to_str())
        .filter(|s| {
            s.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        })
        .unwrap_or("app")
        .to_string();
    let text = cdl::init::starter(&name, &environments, &kinds);
    if let Some(parent) = args.file.parent().filter(|p| !p.as_os_str().is_empty())
        && let Err(e) = std::fs::create_dir_all(parent)
    {
        eprintln!("error: cannot create {}: {e}", parent.display());
        return super::USAGE;
    }
    let written = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&args.file)
        .and_then(|mut f| f.write_all(text.as_bytes()));
    match written {
        Ok(()) => {
            eprintln!(
                "wrote {}; try `cdl plan {}` and `cdl run {}`",
                args.file.display(),
                args.file.display(),
                args.file.display()
            );
            super::SUCCESS
        }
        Err(e) => {
            eprintln!("error: cannot write {}: {e}", args.file.display());
            super::USAGE
        }
    }
}

fn ask(question: &str, defaults: &[String]) -> Vec<String> {
    eprint!("{question} [{}]: ", defaults.join(", "));
    let _ = std::io::stderr().flush();
    let mut line = String::new();
    let _ = std::io::stdin().lock().read_line(&mut line);
    let answer: Vec<String> = line
        .split([',', ' '])
        .map(str::trim)
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect();
    if answer.is_empty() {
        defaults.to_vec()
    } else {
        answer
    }
}
