//! The values conditions are evaluated with: `--branch`, `--tag`, `--event`, by default the
//! current git branch and tag and the event `push`.

use std::path::Path;
use std::process::Command;

use crate::plan::RunContext;

pub fn detect(
    dir: &Path,
    branch: Option<String>,
    tag: Option<String>,
    event: Option<String>,
) -> RunContext {
    let git = |args: &[&str]| -> Option<String> {
        let output = Command::new("git")
            .args(args)
            .current_dir(dir)
            .output()
            .ok()?;
        let text = String::from_utf8(output.stdout).ok()?.trim().to_string();
        (output.status.success() && !text.is_empty() && text != "HEAD").then_some(text)
    };
    let branch = branch.or_else(|| git(&["rev-parse", "--abbrev-ref", "HEAD"]));
    let tag = tag.or_else(|| git(&["describe", "--tags", "--exact-match"]));
    RunContext {
        branch,
        tag,
        event: event.unwrap_or_else(|| "push".to_string()),
    }
}
