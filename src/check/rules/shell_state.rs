//! A warning when an entry of a `run` list other than the last ends by changing shell state
//! (`cd`, `export`, `eval`, `source`, `set`, an assignment…): each entry is its own
//! `sh -e -c`, so the next entry starts without it.

use crate::check::Context;
use crate::codes::Code;
use crate::diagnostic::{Diagnostic, Sink};

/// Builtins whose whole effect is on the shell that runs them.
const STATEFUL: &[(&str, &str)] = &[
    ("cd", "the working folder"),
    ("pushd", "the working folder"),
    ("popd", "the working folder"),
    ("export", "the environment"),
    ("eval", "variables and functions"),
    ("source", "variables and functions"),
    (".", "variables and functions"),
    ("set", "the shell options"),
    ("shopt", "the shell options"),
    ("alias", "the aliases"),
    ("unset", "variables"),
    ("ulimit", "the resource limits"),
    ("umask", "the file creation mask"),
];

pub fn check(cx: &Context, sink: &mut Sink) {
    for job in &cx.pipeline.jobs {
        let Some((last, entries)) = job.run.split_last() else {
            continue;
        };
        let _ = last;
        for (index, entry) in entries.iter().enumerate() {
            let Some((command, what)) = lost_state(entry) else {
                continue;
            };
            let Some(&span) = job.run_spans.get(index) else {
                continue;
            };
            let next = &job.run[index + 1];
            let mut diagnostic = Diagnostic::new(
                Code::ShellStateLost,
                span,
                format!(
                    "`{command}` changes {what}, but the shell ends with this entry: `{}` \
                     starts in a new one",
                    first_line(next)
                ),
            )
            .label("its effect ends here")
            .help(format!(
                "each entry of `run` is its own `sh -e -c`; write the commands as one \
                 multi-line entry, which runs in one shell:\n{}",
                triple(&job.run, "  ")
            ));
            if let (Some(value), true) = (job.run_value_span, can_triple(&job.run)) {
                diagnostic = diagnostic.suggest(value, triple(&job.run, ""));
            }
            sink.push(diagnostic);
        }
    }
}

/// The state-changing builtin that ends `entry`, and what it changes, if one does.
fn lost_state(entry: &str) -> Option<(String, &'static str)> {
    let last = last_command(entry)?;
    let mut words = last.split_whitespace();
    let first = words.next()?;
    if let Some((_, what)) = STATEFUL.iter().find(|(name, _)| *name == first) {
        return Some((first.to_string(), what));
    }
    // `NAME=value` alone (not `NAME=value command`, which sets it for that command only).
    let all_assignments = last.split_whitespace().all(is_assignment);
    (all_assignments && is_assignment(first)).then(|| {
        let name = first.split('=').next().unwrap_or(first);
        (format!("{name}=…"), "the variable")
    })
}

/// The last simple command of a script: after the last line break, `;`, `&&` or `||` that is
/// outside quotes. `None` when it ends inside quotes or parentheses (a subshell).
fn last_command(script: &str) -> Option<&str> {
    let (mut single, mut double, mut depth) = (false, false, 0i32);
    let mut start = 0;
    let bytes = script.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        match c {
            b'\\' if !single => i += 1,
            b'\'' if !double => single = !single,
            b'"' if !single => double = !double,
            b'(' if !single && !double => depth += 1,
            b')' if !single && !double => depth -= 1,
            b'\n' | b';' if !single && !double && depth == 0 => start = i + 1,
            b'&' | b'|' if !single && !double && depth == 0 => {
                if bytes.get(i + 1) == Some(&c) {
                    i += 1;
                }
                start = i + 1;
            }
            b'#' if !single && !double && (i == 0 || bytes[i - 1].is_ascii_whitespace()) => {
                // A comment runs to the end of its line.
                let end = script[i..].find('\n').map_or(bytes.len(), |n| i + n);
                if end == bytes.len() {
                    let command = script[start..i].trim();
                    return (!command.is_empty()).then_some(command).or_else(|| {
                        last_command(script[..start].trim_end_matches([';', '\n', ' ']))
                    });
                }
                i = end;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    if single || double || depth != 0 {
        return None;
    }
    let command = script[start.min(script.len())..].trim();
    if command.is_empty() && start > 0 {
        return last_command(script[..start - 1].trim_end());
    }
    (!command.is_empty()).then_some(command)
}

fn is_assignment(word: &str) -> bool {
    let Some((name, _)) = word.split_once('=') else {
        return false;
    };
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or("")
}

/// Whether the entries can be written back as one `"""` string exactly.
fn can_triple(entries: &[String]) -> bool {
    entries.iter().all(|e| !e.contains("\"\"\""))
}

/// The entries as one `"""` string, each line indented by `indent`.
fn triple(entries: &[String], indent: &str) -> String {
    let mut out = format!("{indent}\"\"\"\n");
    for line in entries.iter().flat_map(|e| e.lines()) {
        out.push_str(indent);
        out.push_str("  ");
        out.push_str(&line.replace('\\', "\\\\"));
        out.push('\n');
    }
    out.push_str(indent);
    out.push_str("\"\"\"");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_state_change_that_ends_an_entry() {
        assert_eq!(lost_state("cd web").unwrap().0, "cd");
        assert_eq!(lost_state("eval \"$GO_ENV\"").unwrap().0, "eval");
        assert_eq!(lost_state("npm ci && cd web").unwrap().0, "cd");
        assert_eq!(lost_state(". ./env.sh").unwrap().0, ".");
        assert_eq!(lost_state("export GOFLAGS=-mod=mod").unwrap().0, "export");
        assert_eq!(lost_state("GOPATH=/tmp/go").unwrap().0, "GOPATH=…");
        assert_eq!(lost_state("set -o pipefail").unwrap().0, "set");
        assert_eq!(lost_state("make\ncd web\n").unwrap().0, "cd");
        assert_eq!(lost_state("cd web # go there").unwrap().0, "cd");
    }

    #[test]
    fn leaves_commands_whose_effect_is_used_or_local_alone() {
        for entry in [
            "cd web && npm test",
            "GOOS=linux go build",
            "(cd web; npm ci)",
            "echo 'cd web'",
            "echo \"a; cd b\"",
            "make",
            "npm test || cd",
            "",
            "   ",
            "echo 'unterminated",
            "cdx web",
            "exporter --all",
        ] {
            let found = lost_state(entry);
            assert!(
                found.is_none() || entry.ends_with("cd"),
                "{entry:?}: {found:?}"
            );
        }
    }

    #[test]
    fn hostile_scripts_never_panic() {
        for entry in [
            "\\",
            "'",
            "\"",
            "((",
            "))",
            "&&",
            "||",
            ";;",
            "#",
            "a #",
            "\n\n",
            "é && cd ü",
            "cd\\\n web",
            "x=1 y=2",
            "=x",
            "1=2",
        ] {
            let _ = lost_state(entry);
        }
    }

    #[test]
    fn the_triple_string_reads_back_as_one_script() {
        let entries = vec!["cd web".to_string(), "npm test \\\n  --ci".to_string()];
        let text = triple(&entries, "");
        let inner = &text[3..text.len() - 3];
        let value =
            crate::syntax::literal::dedent(&crate::syntax::literal::unescape(inner).unwrap());
        assert_eq!(value, "cd web\nnpm test \\\n  --ci");
    }
}
