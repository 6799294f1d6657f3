//! `changed("glob")` on the targets (language v2 §9, i14b). GitHub computes the changed files
//! in its conditions job and tests them with [`path_ere`]; GitLab has `rules: changes`. On a
//! target that cannot tell which files changed when it decides what runs, the plan is
//! rewritten first: every `changed()` holds, the meaning cdl gives a run whose base is
//! unknown (everything counts as changed), and each job whose condition reads one is a W0200.

use std::borrow::Cow;

use super::Lossy;
use crate::model::glob::{Class, Token, tokens};
use crate::plan::{Condition, Plan, Variable};

/// Whether the condition reads `changed()`.
pub fn reads(condition: &Condition) -> bool {
    super::inputs::reads(condition, &|v| *v == Variable::Changed)
}

/// `plan` with every `changed()` taken to hold, and a finding per job that reads one.
pub fn everything_changed<'p>(
    plan: &'p Plan,
    system: &str,
    help: &str,
) -> (Cow<'p, Plan>, Vec<Lossy>) {
    if !plan
        .jobs
        .iter()
        .any(|j| j.condition.as_ref().is_some_and(reads))
    {
        return (Cow::Borrowed(plan), Vec::new());
    }
    let mut lossy = Vec::new();
    let mut plan = plan.clone();
    for job in &mut plan.jobs {
        let Some(condition) = job.condition.take() else {
            continue;
        };
        if reads(&condition) {
            lossy.push(Lossy::at(
                job,
                format!("{system} cannot tell which files changed when it decides whether the job runs (`changed()`)"),
                help.to_string(),
            ));
        }
        job.condition = Some(decide(condition));
    }
    (Cow::Owned(plan), lossy)
}

/// GitHub's conditions job: writes the files changed since the event's base (a push: the
/// commit before it, `github.event.before`; a pull request: its base commit) to a file named
/// by `CDL_CHANGED_FILES` in `$GITHUB_ENV`, one a line, renames as a deletion and an
/// addition. A tag, a schedule, a manual run, a new branch (the all-zero `before`) or a base
/// the history does not hold leave it unset: everything counts as changed.
pub const GITHUB_CHANGED_SCRIPT: &str = r#"base=
case "$GITHUB_EVENT_NAME" in
  push) if [ "$GITHUB_REF_TYPE" = branch ]; then base=$CDL_PUSH_BEFORE; fi ;;
  pull_request|pull_request_target) base=$CDL_PR_BASE ;;
esac
case "$base" in
  *[!0]*) ;;
  *) echo "cdl: every file counts as changed (event $GITHUB_EVENT_NAME, no base commit)"; exit 0 ;;
esac
files="$RUNNER_TEMP/cdl-changed-files"
if git -c core.quotepath=off diff --name-only --no-renames -z "$base...$GITHUB_SHA" -- > "$files.z"; then
  tr '\000' '\n' < "$files.z" > "$files"
  echo "CDL_CHANGED_FILES=$files" >> "$GITHUB_ENV"
  echo "cdl: $(wc -l < "$files") files changed since $base"
else
  echo "cdl: the base $base is not in the history: every file counts as changed"
fi
"#;

pub const EVERYTHING_HELP: &str = "every `changed()` holds, as in `cdl run` when the base is unknown (everything counts as changed); test the files in the job's commands (`git diff --name-only`) to skip its work";

/// The condition with every `changed()` holding (everything changed).
pub fn decide(condition: Condition) -> Condition {
    match condition {
        Condition::Compare {
            variable: Variable::Changed,
            op,
            ..
        } => Condition::Const(op != crate::plan::CompareOp::NotEqual),
        Condition::And(items) => Condition::And(items.into_iter().map(decide).collect()),
        Condition::Or(items) => Condition::Or(items.into_iter().map(decide).collect()),
        Condition::Not(inner) => Condition::Not(Box::new(decide(*inner))),
        other => other,
    }
}

/// A POSIX extended regular expression (for `grep -x`) matching the paths the path glob
/// matches (see [`crate::model::path_glob`]): `**/` is `(.*/)?`, `**` is `.*`, `*` is
/// `[^/]*`, `?` is `[^/]`, a class never holds `/`.
pub fn path_ere(glob: &str) -> String {
    let mut out = String::new();
    let mut rest = glob;
    while !rest.is_empty() {
        let (part, double) = match rest.find("**") {
            Some(at) => (&rest[..at], true),
            None => (rest, false),
        };
        for token in tokens(part) {
            match token {
                Token::Star => out.push_str("[^/]*"),
                Token::One => out.push_str("[^/]"),
                Token::Literal(text) => {
                    for c in text.chars() {
                        if "^.[$()|*+?{\\".contains(c) {
                            out.push('\\');
                        }
                        out.push(c);
                    }
                }
                Token::Class(class) => bracket(&class, &mut out),
            }
        }
        if !double {
            break;
        }
        rest = rest[part.len()..].trim_start_matches('*');
        if let Some(after) = rest.strip_prefix('/') {
            out.push_str("(.*/)?");
            rest = after;
        } else {
            out.push_str(".*");
        }
    }
    out
}

/// A class that never matches `/`: a positive one as alternatives (`(a|[c-f])`), a negated
/// one as a bracket expression that also excludes `/`.
fn bracket(class: &Class, out: &mut String) {
    let mut ranges: Vec<(char, char)> = Vec::new();
    for &(lo, hi) in &class.ranges {
        // Split a range around `/` (a positive class never matches it).
        if lo <= '/' && '/' <= hi {
            if lo < '/' {
                ranges.push((lo, '.'));
            }
            if hi > '/' {
                ranges.push(('0', hi));
            }
        } else {
            ranges.push((lo, hi));
        }
    }
    let repeat = if class.repeat { "+" } else { "" };
    if !class.negated {
        if ranges.is_empty() {
            // `[/]`: no path character.
            out.push_str("(a^)");
            return;
        }
        let alternatives: Vec<String> = ranges
            .iter()
            .map(|&(lo, hi)| {
                if lo == hi {
                    let mut literal = String::new();
                    if "^.[$()|*+?{\\".contains(lo) {
                        literal.push('\\');
                    }
                    literal.push(lo);
                    literal
                } else {
                    format!("[{lo}-{hi}]")
                }
            })
            .collect();
        out.push_str(&format!("({}){repeat}", alternatives.join("|")));
        return;
    }
    let (mut close, mut caret, mut dash) = (false, false, false);
    let mut body = String::new();
    for (lo, hi) in ranges {
        match (lo, hi) {
            (']', ']') => close = true,
            ('^', '^') => caret = true,
            ('-', '-') => dash = true,
            (lo, hi) if lo == hi => body.push(lo),
            (lo, hi) => body.push_str(&format!("{lo}-{hi}")),
        }
    }
    out.push_str("[^");
    if close {
        out.push(']');
    }
    out.push('/');
    out.push_str(&body);
    if caret {
        out.push('^');
    }
    if dash {
        out.push('-');
    }
    out.push(']');
    out.push_str(repeat);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::path_glob::matches;

    /// The ERE agrees with cdl's path glob matcher, run by the system's `grep -Ex` (the shell
    /// test of GitHub's conditions job).
    #[test]
    fn the_regular_expression_agrees_with_cdl() {
        let globs = [
            "src/**",
            "src/*",
            "**/*.md",
            "docs/**/x.md",
            "a/**b",
            "src/[a-c]?.rs",
            "src/[!a-c].rs",
            "v[0-9]+.txt",
            "my docs/é*.txt",
            "it's $(x) \"q\" #.txt",
            "*",
            "**",
            "a.b",
            "[-^]x",
            "[!]^-]x",
            "[.-0]",
        ];
        let paths = [
            "src/main.rs",
            "src/a/main.rs",
            "README.md",
            "docs/x.md",
            "docs/a/b/x.md",
            "a/x/yb",
            "src/bz.rs",
            "src/b.rs",
            "src/z.rs",
            "v12.txt",
            "v.txt",
            "my docs/été.txt",
            "it's $(x) \"q\" #.txt",
            "axb",
            "a.b",
            "-x",
            "^x",
            "^",
            "src//",
            "/",
            "0",
            "]x",
            "ax",
        ];
        let input: String = paths.iter().map(|p| format!("{p}\n")).collect();
        for glob in globs {
            let ere = path_ere(glob);
            let output = std::process::Command::new("sh")
                .args([
                    "-c",
                    "LC_ALL=C.UTF-8 grep -Ex -e \"$1\" || true",
                    "sh",
                    &ere,
                ])
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::piped())
                .spawn()
                .and_then(|mut child| {
                    use std::io::Write;
                    child.stdin.take().unwrap().write_all(input.as_bytes())?;
                    child.wait_with_output()
                })
                .unwrap();
            let found: Vec<String> = String::from_utf8(output.stdout)
                .unwrap()
                .lines()
                .map(String::from)
                .collect();
            let expected: Vec<String> = paths
                .iter()
                .filter(|p| matches(glob, p))
                .map(|p| p.to_string())
                .collect();
            assert_eq!(found, expected, "{glob} as {ere}");
        }
    }
}
