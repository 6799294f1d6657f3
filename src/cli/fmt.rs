//! `cdl fmt FILE… [--check]`

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use cdl::source::{SourceFile, Sources};

#[derive(clap::Args)]
#[command(
    about = "Format pipeline files in the one canonical layout, keeping every comment",
    after_help = "A file with a syntax error is reported and left as it is. `-` formats standard \
input to standard output.\n\nExamples:\n  cdl fmt pipeline.cdl\n  cdl fmt --check *.cdl   \
# exit 1 when a file would change"
)]
pub struct Args {
    /// Pipeline files to format in place.
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// Change nothing: name the files that would change, and exit 1 when there are any.
    #[arg(long)]
    check: bool,
}

enum Outcome {
    Unchanged,
    Changed,
    Failed,
}

pub fn run(args: Args) -> u8 {
    let (mut changed, mut failed, mut unchanged) = (0, 0, 0);
    for file in &args.files {
        match format_file(file, args.check) {
            Outcome::Unchanged => unchanged += 1,
            Outcome::Changed => changed += 1,
            Outcome::Failed => failed += 1,
        }
    }
    let stdin_only = args.files.iter().all(|f| f.as_os_str() == "-");
    if !stdin_only {
        let plural = |n: usize| if n == 1 { "" } else { "s" };
        let verb = if args.check {
            "would be reformatted"
        } else {
            "reformatted"
        };
        let mut summary = format!(
            "{changed} file{} {verb}, {unchanged} unchanged",
            plural(changed)
        );
        if failed > 0 {
            summary.push_str(&format!(", {failed} not formatted (errors above)"));
        }
        eprintln!("{summary}");
    }
    if failed > 0 {
        super::USAGE
    } else if args.check && changed > 0 {
        super::FAILURE
    } else {
        super::SUCCESS
    }
}

fn format_file(path: &Path, check: bool) -> Outcome {
    let from_stdin = path.as_os_str() == "-";
    let read = if from_stdin {
        let mut text = String::new();
        std::io::stdin().read_to_string(&mut text).map(|_| text)
    } else {
        std::fs::read_to_string(path)
    };
    let text = match read {
        Ok(text) => text,
        Err(err) => {
            eprintln!("error: cannot read {}: {err}", path.display());
            return Outcome::Failed;
        }
    };
    let mut sources = Sources::default();
    let name = if from_stdin {
        "<stdin>".to_string()
    } else {
        path.display().to_string()
    };
    let id = sources.add(SourceFile::new(name, None, text.clone()));
    let formatted = match cdl::fmt::format(id, &text) {
        Ok(formatted) => formatted,
        Err(error) => {
            let style = cdl::render::human::Style::for_stderr();
            eprintln!("{}", cdl::render::human::render(&error, &sources, style));
            return Outcome::Failed;
        }
    };
    if from_stdin {
        super::output(&formatted);
        return if formatted == text {
            Outcome::Unchanged
        } else {
            Outcome::Changed
        };
    }
    if formatted == text {
        return Outcome::Unchanged;
    }
    if check {
        println!("would reformat {}", path.display());
        return Outcome::Changed;
    }
    match write(path, &formatted) {
        Ok(()) => Outcome::Changed,
        Err(err) => {
            eprintln!("error: cannot write {}: {err}", path.display());
            Outcome::Failed
        }
    }
}

/// Replaces the file at once (a crash leaves the old or the new text), keeping its permissions.
fn write(path: &Path, text: &str) -> std::io::Result<()> {
    let folder = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let permissions = std::fs::metadata(path)?.permissions();
    let mut file = tempfile::NamedTempFile::new_in(folder)?;
    file.write_all(text.as_bytes())?;
    file.as_file().set_permissions(permissions)?;
    file.as_file().sync_all()?;
    file.persist(path).map_err(|e| e.error)?;
    Ok(())
}
