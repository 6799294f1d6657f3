//! `changed("glob")` as GitLab `rules: changes:` (language v2 §9, i14b). A job's effective
//! condition is put in disjunctive normal form; each term becomes one rule, its comparisons
//! the `if:` and its one `changed()` the `changes:` (rules of one `if:` merge their globs:
//! `changes` holds when any of them matches). GitLab's own base is the design's: a push
//! compares with the commit before it, a merge request pipeline with its target branch, and
//! on a new branch, a tag, a schedule or a manual (`web`) pipeline `changes` always holds.
//!
//! Not exact, so left to the caller (W0200, everything changed): a negated `changed()`, two
//! of them in one term, a glob with `$` (GitLab expands variables in `changes`), a class
//! with `+`, a `**` glued to the text before it, or more than [`MAX_TERMS`] terms.

use crate::model::glob::{Token, tokens};
use crate::plan::{CompareOp, Condition, Variable};

pub const MAX_TERMS: usize = 32;

/// One rule: the comparisons that must all hold, and the globs of which one must match a
/// changed file (empty: no `changes:`).
#[derive(Debug, Clone, PartialEq)]
pub struct Term {
    pub when: Vec<Condition>,
    pub changes: Vec<String>,
}

/// The condition's rules, or `None` when they cannot be exact; `Some` only when it reads
/// `changed()`.
pub fn terms(condition: &Condition) -> Option<Vec<Term>> {
    if !crate::export::changed::reads(condition) {
        return None;
    }
    let terms = dnf(condition, false)?;
    // Merge the globs of terms with the same comparisons; a term without `changes:` absorbs
    // the others of its comparisons.
    let mut merged: Vec<Term> = Vec::new();
    for term in terms {
        match merged.iter_mut().find(|m| m.when == term.when) {
            Some(m) if m.changes.is_empty() => {}
            Some(m) if term.changes.is_empty() => m.changes.clear(),
            Some(m) => {
                for glob in term.changes {
                    if !m.changes.contains(&glob) {
                        m.changes.push(glob);
                    }
                }
            }
            None => merged.push(term),
        }
    }
    for term in &mut merged {
        let globs: Option<Vec<String>> = term.changes.iter().map(|g| glob(g)).collect();
        term.changes = globs?;
    }
    Some(merged)
}

fn dnf(condition: &Condition, negated: bool) -> Option<Vec<Term>> {
    let one = |when: Vec<Condition>, changes: Vec<String>| Some(vec![Term { when, changes }]);
    let terms = match condition {
        Condition::Const(value) if *value != negated => one(Vec::new(), Vec::new())?,
        Condition::Const(_) => Vec::new(),
        Condition::Not(inner) => dnf(inner, !negated)?,
        Condition::Compare {
            variable: Variable::Changed,
            op,
            value,
        } => {
            if (*op == CompareOp::NotEqual) != negated {
                return None;
            }
            one(Vec::new(), vec![value.clone()])?
        }
        Condition::Compare { .. } if negated => one(
            vec![Condition::Not(Box::new(condition.clone()))],
            Vec::new(),
        )?,
        Condition::Compare { .. } => one(vec![condition.clone()], Vec::new())?,
        Condition::And(items) if !negated => product(items, negated)?,
        Condition::Or(items) if negated => product(items, negated)?,
        Condition::And(items) | Condition::Or(items) => {
            let mut all = Vec::new();
            for item in items {
                all.extend(dnf(item, negated)?);
            }
            all
        }
    };
    (terms.len() <= MAX_TERMS).then_some(terms)
}

/// The terms of a conjunction: every combination of one term of each item.
fn product(items: &[Condition], negated: bool) -> Option<Vec<Term>> {
    let mut terms = vec![Term {
        when: Vec::new(),
        changes: Vec::new(),
    }];
    for item in items {
        let next = dnf(item, negated)?;
        let mut combined = Vec::new();
        for a in &terms {
            for b in &next {
                let mut changes = a.changes.clone();
                changes.extend(b.changes.iter().cloned());
                changes.dedup();
                if changes.len() > 1 {
                    // `changes` holds when any glob matches: not two that must both.
                    return None;
                }
                let mut when = a.when.clone();
                when.extend(b.when.iter().cloned());
                combined.push(Term { when, changes });
            }
        }
        if combined.len() > MAX_TERMS {
            return None;
        }
        terms = combined;
    }
    Some(terms)
}

/// The path glob as GitLab's `changes` reads it (Ruby's `File.fnmatch` with `FNM_PATHNAME`,
/// `FNM_DOTMATCH` and `FNM_EXTGLOB`): `**` only as a whole folder level (`**/`), so a `**`
/// ending the glob or glued to the text after it is `**/*`; `{` and `}` escaped.
pub fn glob(glob: &str) -> Option<String> {
    if glob.contains('$') {
        return None;
    }
    let mut out = String::new();
    let mut rest = glob;
    while !rest.is_empty() {
        let (part, double) = match rest.find("**") {
            Some(at) => (&rest[..at], true),
            None => (rest, false),
        };
        if tokens(part)
            .iter()
            .any(|t| matches!(t, Token::Class(c) if c.repeat))
        {
            return None;
        }
        out.push_str(&rebuild(part));
        if !double {
            break;
        }
        // `**` must start a folder level: at the start, or after `/`.
        if !(out.is_empty() || out.ends_with('/')) {
            return None;
        }
        rest = rest[part.len()..].trim_start_matches('*');
        match rest.strip_prefix('/') {
            Some(after) => {
                out.push_str("**/");
                rest = after;
            }
            None => out.push_str("**/*"),
        }
    }
    Some(out)
}

/// A part of a glob without `**`, as fnmatch reads it: literal text escaped, `*`, `?` and
/// classes (`[!…]` is fnmatch's negation too) as written.
fn rebuild(part: &str) -> String {
    let mut out = String::new();
    for token in tokens(part) {
        match token {
            Token::Literal(text) => {
                for c in text.chars() {
                    if "{}*?[]\\".contains(c) {
                        out.push('\\');
                    }
                    out.push(c);
                }
            }
            Token::Star => out.push('*'),
            Token::One => out.push('?'),
            Token::Class(class) => {
                out.push('[');
                if class.negated {
                    out.push('!');
                }
                for (lo, hi) in class.ranges {
                    if lo == hi {
                        out.push(lo);
                    } else {
                        out.push_str(&format!("{lo}-{hi}"));
                    }
                }
                out.push(']');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::export::oracle::{self, compare};

    #[test]
    fn globs_in_gitlabs_spelling() {
        assert_eq!(glob("src/**").as_deref(), Some("src/**/*"));
        assert_eq!(glob("**/*.md").as_deref(), Some("**/*.md"));
        assert_eq!(glob("**.md").as_deref(), Some("**/*.md"));
        assert_eq!(glob("a/**b/c").as_deref(), Some("a/**/*b/c"));
        assert_eq!(glob("docs/**/x.md").as_deref(), Some("docs/**/x.md"));
        assert_eq!(glob("[!s]*.{yml}").as_deref(), Some("[!s]*.\\{yml\\}"));
        assert_eq!(glob("a b/#c: d").as_deref(), Some("a b/#c: d"));
        assert_eq!(glob("$HOME/x"), None);
        assert_eq!(glob("v[0-9]+.txt"), None);
        assert_eq!(glob("src**"), None);
    }

    /// The rules hold exactly when cdl's condition does, on every oracle run, with GitLab's
    /// `changes` read as cdl's path globs (the translation of each glob is tested above).
    #[test]
    fn rules_agree_with_cdl_where_they_are_exact() {
        let mut exact = 0;
        for condition in oracle::conditions() {
            let Some(dnf_terms) = dnf(&condition, false) else {
                continue;
            };
            if !crate::export::changed::reads(&condition) {
                continue;
            }
            exact += 1;
            for run in oracle::runs() {
                let holds = dnf_terms.iter().any(|t| {
                    t.when.iter().all(|c| c.evaluate(&run))
                        && (t.changes.is_empty()
                            || t.changes.iter().any(|g| run.changed_matches(g)))
                });
                assert_eq!(holds, condition.evaluate(&run), "{condition} on {run:?}");
            }
            assert!(
                terms(&condition).is_some()
                    || condition.to_string().contains('$')
                    || condition.to_string().contains(']'),
                "{condition}"
            );
        }
        assert!(exact > 10, "{exact}");
        let negated = Condition::Not(Box::new(compare(
            Variable::Changed,
            CompareOp::Matches,
            "a",
        )));
        assert_eq!(terms(&negated), None);
        let both = Condition::And(vec![
            compare(Variable::Changed, CompareOp::Matches, "a"),
            compare(Variable::Changed, CompareOp::Matches, "b"),
        ]);
        assert_eq!(terms(&both), None);
    }
}
