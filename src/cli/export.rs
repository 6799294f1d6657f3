//! `cdl export --target T FILE [-o PATH] [--settings PATH] [--deny-lossy]`, and
//! `cdl export --target all FILE [-o DIR]`

use std::path::{Path, PathBuf};

use cdl::export::{FileRole, Target};

#[derive(clap::Args)]
#[command(
    about = "Export the pipeline to another CI system: GitHub Actions, GitLab CI, Argo \
Workflows, Tekton, CircleCI, Buildkite or Jenkins",
    after_help = "Anything the target cannot express exactly is a W0200 warning (an error with \
--deny-lossy). Gates become protected environments, which a CI file cannot set up: their \
approvers go to a settings file beside the CI file, named after it (.github/workflows/\
shop.environments.json beside shop.yml, .gitlab-ci.environments.json beside .gitlab-ci.yml); \
--settings PATH writes it elsewhere.\n\n\
Examples:\n  cdl export --target github examples/webshop.cdl\n  \
cdl export --target gitlab examples/hello.cdl -o - | less\n  \
cdl export --target gitlab --deny-lossy pipeline.cdl -o ci/.gitlab-ci.yml\n  \
cdl export --target all examples/webshop.cdl -o exported/"
)]
pub struct Args {
    /// The CI system to export to; `all` writes every target, each at its default path
    /// under the folder given with `-o` (default: the current directory).
    #[arg(long, short = 't', value_parser = clap::builder::PossibleValuesParser::new(
        Target::ALL.iter().map(|t| t.name()).chain([ALL])
    ))]
    target: String,
    /// The pipeline file.
    file: PathBuf,
    /// Where to write the CI file; `-` writes it to standard output. Default:
    /// `.github/workflows/PIPELINE.yml` (github), `.gitlab-ci.yml` (gitlab),
    /// `.argo/PIPELINE.yaml` (argo), `.tekton/PIPELINE.yaml` (tekton),
    /// `.circleci/config.yml` (circleci), `.buildkite/pipeline.yml` (buildkite), `Jenkinsfile`
    /// (jenkins), in the current directory. With `--target all`: the folder they go under.
    #[arg(short = 'o', long = "output")]
    output: Option<PathBuf>,
    /// Where to write the settings file (the gates' protected environments). Default: beside
    /// the CI file (not the pipeline file), named after it: `NAME.environments.json` for a CI
    /// file `NAME.yml`.
    #[arg(long)]
    settings: Option<PathBuf>,
    /// Make a construct the target cannot express exactly an error (exit 2, nothing written).
    #[arg(long)]
    deny_lossy: bool,
    /// Argo Workflows: write a reusable `WorkflowTemplate` instead of a `Workflow`.
    #[arg(long)]
    template: bool,
}

/// The `--target` that exports to every target.
const ALL: &str = "all";

pub fn run(args: Args) -> u8 {
    if args.target == ALL {
        return run_all(args);
    }
    let target = Target::parse(&args.target).expect("clap checked the target");
    if args.template && target != Target::Argo {
        eprintln!("error: --template applies to --target argo only");
        return super::USAGE;
    }
    let options = cdl::export::Options {
        template: args.template,
    };
    let Some(mut compilation) = super::compile(&inside_current_dir(&args.file)) else {
        return super::USAGE;
    };
    compilation.require_pipeline();
    super::print_diagnostics(&compilation);
    let Some(plan) = cdl::plan::build(&compilation) else {
        return super::USAGE;
    };
    let export = target.exporter().export_with(&plan, options);
    let diagnostics: Vec<_> = export
        .lossy
        .iter()
        .map(|l| l.to_diagnostic(&compilation.sources, compilation.root, args.deny_lossy))
        .collect();
    let style = cdl::render::human::Style::for_stderr();
    for diagnostic in &diagnostics {
        eprintln!(
            "{}",
            cdl::render::human::render(diagnostic, &compilation.sources, style)
        );
    }
    if args.deny_lossy && !diagnostics.is_empty() {
        eprintln!(
            "error: not exported: {} construct{} cannot be expressed exactly on {} (--deny-lossy)",
            diagnostics.len(),
            if diagnostics.len() == 1 { "" } else { "s" },
            target.name()
        );
        return super::USAGE;
    }
    let stdout = Path::new("-");
    let mut pipeline_path: Option<PathBuf> = None;
    for file in &export.files {
        let path = match file.role {
            FileRole::Pipeline => args.output.clone().unwrap_or_else(|| file.path.clone()),
            FileRole::Settings => match (&args.settings, &pipeline_path) {
                (Some(path), _) => path.clone(),
                (None, Some(pipeline)) if pipeline == stdout => {
                    eprintln!(
                        "note: the settings file (the gates' protected environments) was not written; give --settings PATH to write it"
                    );
                    continue;
                }
                (None, Some(pipeline)) => cdl::export::settings_path(pipeline),
                (None, None) => file.path.clone(),
            },
        };
        if file.role == FileRole::Pipeline {
            pipeline_path = Some(path.clone());
        }
        if path == stdout {
            super::output(&file.content);
            continue;
        }
        if let Err(err) = write(&path, &file.content) {
            eprintln!("error: cannot write {}: {err}", path.display());
            return super::USAGE;
        }
        match file.role {
            FileRole::Pipeline => eprintln!("wrote {}", path.display()),
            FileRole::Settings => eprintln!(
                "wrote {}: the gates' protected environments, to set up in {}'s settings (docs/export.md)",
                path.display(),
                target.name()
            ),
        }
    }
    if let Some(summary) = cdl::render::human::summary(&diagnostics) {
        eprintln!("exported to {} with {summary}", target.name());
    }
    super::SUCCESS
}

/// `--target all`: every registered target, each file at its default path under the folder
/// of `-o`. With `--deny-lossy`, a construct any target cannot express writes nothing.
fn run_all(args: Args) -> u8 {
    if args.settings.is_some() {
        eprintln!(
            "error: --settings names one file; with --target all each settings file is written beside its CI file"
        );
        return super::USAGE;
    }
    if args.output.as_deref() == Some(Path::new("-")) {
        eprintln!("error: --target all writes several files: give -o a folder, not -");
        return super::USAGE;
    }
    let options = cdl::export::Options {
        template: args.template,
    };
    let Some(mut compilation) = super::compile(&inside_current_dir(&args.file)) else {
        return super::USAGE;
    };
    compilation.require_pipeline();
    super::print_diagnostics(&compilation);
    let Some(plan) = cdl::plan::build(&compilation) else {
        return super::USAGE;
    };
    let style = cdl::render::human::Style::for_stderr();
    let mut exports = Vec::new();
    let mut lossy = 0;
    for target in Target::ALL {
        let export = target.exporter().export_with(&plan, options);
        let diagnostics: Vec<_> = export
            .lossy
            .iter()
            .map(|l| l.to_diagnostic(&compilation.sources, compilation.root, args.deny_lossy))
            .collect();
        for diagnostic in &diagnostics {
            eprintln!(
                "{}",
                cdl::render::human::render(diagnostic, &compilation.sources, style)
            );
        }
        if let Some(summary) = cdl::render::human::summary(&diagnostics) {
            eprintln!("{}: {summary}", target.name());
        }
        lossy += diagnostics.len();
        exports.push((*target, export));
    }
    if args.deny_lossy && lossy > 0 {
        eprintln!(
            "error: not exported: {lossy} construct{} cannot be expressed exactly on every target (--deny-lossy)",
            if lossy == 1 { "" } else { "s" }
        );
        return super::USAGE;
    }
    for (target, export) in &exports {
        for file in &export.files {
            let path = match &args.output {
                Some(folder) => folder.join(&file.path),
                None => file.path.clone(),
            };
            if let Err(err) = write(&path, &file.content) {
                eprintln!("error: cannot write {}: {err}", path.display());
                return super::USAGE;
            }
            match file.role {
                FileRole::Pipeline => eprintln!("wrote {} ({})", path.display(), target.name()),
                FileRole::Settings => eprintln!(
                    "wrote {}: the gates' protected environments, to set up in {}'s settings (docs/export.md)",
                    path.display(),
                    target.name()
                ),
            }
        }
    }
    super::SUCCESS
}

/// The pipeline file relative to the current directory when an absolute path leads inside it
/// (scripts pass absolute paths): the exports read the file's folder in the repository from the
/// path as written (`export::working_directory`). Any other path is kept as it is.
fn inside_current_dir(file: &Path) -> PathBuf {
    if !file.is_absolute() {
        return file.to_path_buf();
    }
    let Ok(current) = std::env::current_dir() else {
        return file.to_path_buf();
    };
    if let Ok(inside) = file.strip_prefix(&current) {
        return inside.to_path_buf();
    }
    // the same folders reached through symbolic links
    match (current.canonicalize(), file.canonicalize()) {
        (Ok(current), Ok(real)) => real
            .strip_prefix(&current)
            .map_or_else(|_| file.to_path_buf(), Path::to_path_buf),
        _ => file.to_path_buf(),
    }
}

fn write(path: &Path, content: &str) -> std::io::Result<()> {
    if let Some(parent) = path.parent()
        && !parent.as_os_str().is_empty()
    {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(path, content)
}
