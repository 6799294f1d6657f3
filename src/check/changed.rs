//! `changed("glob", …)` in a condition (language v2 §9, i14b): each argument a path-glob
//! string (E0337 otherwise, E0229 for a glob that matches no path), typed into one
//! `changed matches "glob"` comparison per glob, joined by `||` (some changed file matches
//! some glob).

use crate::codes::Code;
use crate::diagnostic::{Diagnostic, Sink};
use crate::model::condition::{Condition, Variable};
use crate::span::Span;
use crate::syntax::ast::{CompareOp, Expr, ExprKind};

pub const DOC: &str = "`changed(\"GLOB\", …)`: true when a file changed since the run's base matches one of the path globs (`*` stops at `/`, `**` crosses it). A tag, a schedule, a manual run and a new branch count everything as changed.";

/// Types `changed(args)` written at `span`.
pub fn changed(args: &[Expr], span: Span, sink: &mut Sink) -> Option<Condition> {
    if args.is_empty() {
        sink.push(
            Diagnostic::new(
                Code::ChangedArgument,
                span,
                "`changed()` names no path glob",
            )
            .label("no glob")
            .help("name the files that matter: `changed(\"src/**\", \"Cargo.lock\")`"),
        );
        return None;
    }
    let mut globs = Vec::new();
    let mut ok = true;
    for arg in args {
        match &arg.kind {
            ExprKind::String(glob) => match problem(glob) {
                Some((problem, help)) => {
                    ok = false;
                    sink.push(
                        Diagnostic::new(
                            Code::InvalidPathGlob,
                            arg.span,
                            format!("`{glob}` {problem}"),
                        )
                        .label("not a path glob")
                        .help(help),
                    );
                }
                None => globs.push(glob.clone()),
            },
            ExprKind::Invalid => ok = false,
            other => {
                ok = false;
                sink.push(
                    Diagnostic::new(
                        Code::ChangedArgument,
                        arg.span,
                        format!(
                            "`changed` takes path-glob strings, not {}",
                            other.describe()
                        ),
                    )
                    .label("expected a string")
                    .help("quote the glob: `changed(\"docs/**\")`"),
                );
            }
        }
    }
    if !ok {
        return None;
    }
    let mut atoms: Vec<Condition> = Vec::new();
    for glob in globs {
        let atom = Condition::Compare {
            variable: Variable::Changed,
            op: CompareOp::Matches,
            value: glob,
        };
        if !atoms.contains(&atom) {
            atoms.push(atom);
        }
    }
    Some(match atoms.len() {
        1 => atoms.remove(0),
        _ => Condition::Or(atoms),
    })
}

/// Why a path glob matches no path, with the fix: the trigger filters' rules, and a class
/// that does not parse.
fn problem(glob: &str) -> Option<(&'static str, String)> {
    if let Some(found) = super::platform::path_glob_problem(glob) {
        return Some(found);
    }
    if let Err(error) = crate::model::glob::parse(glob) {
        return Some((
            "has a class that does not parse",
            format!("fix {error}: a class is `[abc]`, `[a-z]` or `[!a-z]`"),
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::span::FileId;

    fn string(text: &str) -> Expr {
        Expr {
            kind: ExprKind::String(text.into()),
            span: Span::new(FileId(0), 0, 1),
        }
    }

    #[test]
    fn globs_become_one_comparison_each_joined_by_or() {
        let mut sink = Sink::default();
        let span = Span::new(FileId(0), 0, 1);
        let one = changed(&[string("src/**")], span, &mut sink).unwrap();
        assert_eq!(one.to_string(), "changed(\"src/**\")");
        let two = changed(&[string("a"), string("b"), string("a")], span, &mut sink).unwrap();
        assert_eq!(two.to_string(), "changed(\"a\") || changed(\"b\")");
        assert_eq!(sink.iter().count(), 0);
        assert!(changed(&[], span, &mut sink).is_none());
        assert!(changed(&[string("./x")], span, &mut sink).is_none());
        assert!(changed(&[string("a[")], span, &mut sink).is_none());
        let codes: Vec<&str> = sink.iter().map(|d| d.code.as_str()).collect();
        assert_eq!(codes, ["E0337", "E0229", "E0229"]);
    }
}
