//! Exports a plan to another CI system's configuration. Exporters read only the plan; anything
//! a target cannot express exactly is reported as a `Lossy` finding, never silently dropped.
//!
//! Adding a target is one file implementing [`Exporter`] and one arm in [`Target::exporter`].

mod after_failure;
mod argo;
mod buildkite;
mod cache;
mod changed;
mod circleci;
mod condition;
mod context;
mod github;
mod gitlab;
mod glob;
mod inputs;
mod jenkins;
mod jobs;
mod kubernetes;
mod literal;
mod native;
// v2 i13k: matrix artifacts
mod matrix_artifacts;
// v2: a matrix's `max_parallel` where a target has no limit
mod matrix_limit;
// v2: a job's published static site
#[cfg(test)]
mod oracle;
mod pages;
// v2: an image's `entrypoint` where a target cannot set it
mod entrypoint;
mod platform;
mod reports;
mod review;
mod services;
mod settings;
mod shell;
mod steps;
mod tekton;
mod trigger;
// v2 i13j: composed values
mod value;
mod values;

use std::path::{Path, PathBuf};

use crate::codes::Code;
use crate::diagnostic::{Diagnostic, Severity};
use crate::plan::{Plan, SourceSpan};
use crate::source::Sources;
use crate::span::{FileId, Span};

/// One CI system a plan can be exported to.
pub trait Exporter {
    /// The name given to `--target`.
    fn name(&self) -> &'static str;
    /// Where the pipeline file goes when no `-o` is given, relative to the current directory.
    fn default_path(&self, plan: &Plan) -> PathBuf;
    /// The files to write (the pipeline file first) and what could not be expressed exactly.
    fn export(&self, plan: &Plan) -> Export;
    /// `export` with the options of `cdl export`; a target that takes none ignores them.
    fn export_with(&self, plan: &Plan, options: Options) -> Export {
        let _ = options;
        self.export(plan)
    }
}

/// Options of `cdl export` that only some targets read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Options {
    /// Argo Workflows: a reusable `WorkflowTemplate` instead of a `Workflow` (`--template`).
    pub template: bool,
}

/// The registry of targets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Github,
    Gitlab,
    Argo,
    Tekton,
    Circleci,
    Buildkite,
    Jenkins,
}

impl Target {
    pub const ALL: &'static [Target] = &[
        Target::Github,
        Target::Gitlab,
        Target::Argo,
        Target::Tekton,
        Target::Circleci,
        Target::Buildkite,
        Target::Jenkins,
    ];

    pub fn exporter(self) -> &'static dyn Exporter {
        match self {
            Target::Github => &github::GitHub,
            Target::Gitlab => &gitlab::GitLab,
            Target::Argo => &argo::Argo,
            Target::Tekton => &tekton::Tekton,
            Target::Circleci => &circleci::CircleCi,
            Target::Buildkite => &buildkite::Buildkite,
            Target::Jenkins => &jenkins::Jenkins,
        }
    }

    pub fn name(self) -> &'static str {
        self.exporter().name()
    }

    pub fn parse(name: &str) -> Option<Target> {
        Target::ALL.iter().copied().find(|t| t.name() == name)
    }
}

/// The result of an export.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Export {
    /// The pipeline file first, then a settings file when the target needs one.
    pub files: Vec<OutputFile>,
    pub lossy: Vec<Lossy>,
}

impl Export {
    /// The pipeline file at `path`, the settings file beside it when the target has one for
    /// this plan ([`settings::render`]), and the losses in source order.
    pub fn assemble(
        path: PathBuf,
        content: String,
        settings: Option<String>,
        mut lossy: Vec<Lossy>,
    ) -> Export {
        let mut files = Vec::with_capacity(2);
        if let Some(content) = settings {
            files.push(OutputFile {
                role: FileRole::Settings,
                path: settings_path(&path),
                content,
            });
        }
        files.insert(
            0,
            OutputFile {
                role: FileRole::Pipeline,
                path,
                content,
            },
        );
        lossy.sort_by_key(|l| l.span.as_ref().map(|s| (s.file.clone(), s.start)));
        Export { files, lossy }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileRole {
    /// The CI configuration itself.
    Pipeline,
    /// Repository settings the configuration cannot carry (protected environments).
    Settings,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputFile {
    pub role: FileRole,
    /// The default path, relative to the current directory.
    pub path: PathBuf,
    pub content: String,
}

/// A construct the target cannot express exactly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lossy {
    /// The job concerned; `None` for pipeline-wide constructs (triggers), which the plan
    /// gives no span.
    pub span: Option<SourceSpan>,
    pub message: String,
    /// What the export does instead, or how to make the construct exact.
    pub help: String,
}

impl Lossy {
    fn at(job: &crate::plan::Job, message: impl Into<String>, help: impl Into<String>) -> Lossy {
        Lossy {
            span: Some(job.span.clone()),
            message: message.into(),
            help: help.into(),
        }
    }

    fn pipeline(message: impl Into<String>, help: impl Into<String>) -> Lossy {
        Lossy {
            span: None,
            message: message.into(),
            help: help.into(),
        }
    }

    /// The finding as a `W0200` diagnostic (an error with `deny`), pointing at the job's
    /// declaration, or at the start of `root` when it has no span.
    pub fn to_diagnostic(&self, sources: &Sources, root: FileId, deny: bool) -> Diagnostic {
        let span = self
            .span
            .as_ref()
            .and_then(|s| {
                let (file, _) = sources.iter().find(|(_, f)| f.name == s.file)?;
                Some(Span::new(file, s.start as usize, s.end as usize))
            })
            .unwrap_or_else(|| Span::new(root, 0, 0));
        let mut diagnostic = Diagnostic::new(Code::NotExpressible, span, self.message.clone())
            .label(if self.span.is_some() {
                "in this job"
            } else {
                "in this pipeline"
            })
            .help(self.help.clone());
        if deny {
            diagnostic.severity = Severity::Error;
        }
        diagnostic
    }
}

/// Where the settings file of a pipeline file goes: beside it, `NAME.environments.json`.
pub fn settings_path(pipeline_path: &Path) -> PathBuf {
    let stem = pipeline_path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    pipeline_path.with_file_name(format!("{stem}.environments.json"))
}

/// YAML through serde-saphyr, which quotes every string a YAML 1.1 reader could misread
/// (`on`, `no`, `1:30` …). Long lines stay on one line.
fn to_yaml<T: serde::Serialize>(value: &T) -> String {
    let mut options = serde_saphyr::SerializerOptions::default();
    options.folded_wrap_chars = usize::MAX;
    options.min_fold_chars = usize::MAX;
    serde_saphyr::to_string_with_options(value, options).expect("export documents serialise")
}

/// The folder the steps run in: the pipeline file's, relative to the repository root, which
/// is taken to be the current directory. `Err` when it cannot be expressed that way.
fn working_directory(plan: &Plan) -> Result<Option<String>, Lossy> {
    let file = Path::new(&plan.pipeline.file);
    let Some(parent) = file.parent() else {
        return Ok(None);
    };
    if parent.as_os_str().is_empty() || parent == Path::new(".") {
        return Ok(None);
    }
    let normal = parent.components().all(|c| {
        matches!(
            c,
            std::path::Component::Normal(_) | std::path::Component::CurDir
        )
    });
    if !normal {
        return Err(Lossy::pipeline(
            format!(
                "the pipeline file `{}` is not inside the current directory, so its folder is unknown on the CI system",
                plan.pipeline.file
            ),
            "the steps run in the repository root; run `cdl export` from the repository root with a relative path",
        ));
    }
    let path = parent
        .components()
        .filter(|c| matches!(c, std::path::Component::Normal(_)))
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/");
    Ok(Some(path))
}

/// `CDL_ARTIFACT_<NAME>` for an artifact name.
fn artifact_variable(name: &str) -> String {
    format!("CDL_ARTIFACT_{}", name.to_uppercase().replace('-', "_"))
}

/// A duration in the `1d 2h 3m 4s` form GitLab reads.
fn duration_text(seconds: u64) -> String {
    let parts = [
        (seconds / 86_400, "d"),
        (seconds % 86_400 / 3_600, "h"),
        (seconds % 3_600 / 60, "m"),
        (seconds % 60, "s"),
    ];
    let text: Vec<String> = parts
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, unit)| format!("{n}{unit}"))
        .collect();
    if text.is_empty() {
        "0s".into()
    } else {
        text.join(" ")
    }
}

/// The plans of every example and `ok` fixture, for the exporters' unit tests.
#[cfg(test)]
pub(crate) fn fixture_plans() -> Vec<crate::plan::Plan> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut plans = Vec::new();
    for folder in ["examples", "tests/fixtures/ok"] {
        let mut paths: Vec<_> = std::fs::read_dir(root.join(folder))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "cdl"))
            .collect();
        paths.sort();
        for path in paths {
            let text = std::fs::read_to_string(&path).unwrap();
            let name = format!("{folder}/{}", path.file_name().unwrap().to_string_lossy());
            let compilation = crate::compile::compile_text(&name, Some(path), text);
            plans.push(crate::plan::build(&compilation).expect("the fixture plans"));
        }
    }
    plans
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_sit_beside_the_pipeline_file() {
        assert_eq!(
            settings_path(Path::new(".github/workflows/shop.yml")),
            Path::new(".github/workflows/shop.environments.json")
        );
        assert_eq!(
            settings_path(Path::new(".gitlab-ci.yml")),
            Path::new(".gitlab-ci.environments.json")
        );
    }

    #[test]
    fn durations_read_like_gitlab_ones() {
        assert_eq!(duration_text(90), "1m 30s");
        assert_eq!(duration_text(5400), "1h 30m");
        assert_eq!(duration_text(2 * 86_400), "2d");
    }

    #[test]
    fn targets_are_found_by_name() {
        for target in Target::ALL {
            assert_eq!(Target::parse(target.name()), Some(*target));
        }
        assert_eq!(Target::parse("travis"), None);
    }
}
