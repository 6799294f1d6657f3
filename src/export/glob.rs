//! cdl globs (`crate::model::glob`: `*`, `?`, classes `[a-z]`, `[!a-z]`, `[…]+`) in each
//! target's pattern dialect: one translator to an anchored regular expression, whose
//! dialects differ only in how a character is written and whether the pattern is `/…/`,
//! and GitHub's branch and tag filters.

pub use crate::model::glob::{Class, Token, matches_empty, tokens};

/// A regular-expression flavour, and the place the pattern is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// Go's `regexp` (RE2 syntax), as Argo's expr `matches` reads it: `^…$`.
    Re2,
    /// `java.util.regex`, as Jenkins' `REGEXP` comparator reads it: `^…$`.
    Java,
    /// GitLab's `=~` (RE2), `/^…$/`. GitLab before 18.5 expanded variables inside patterns
    /// (see `gitlab::expansion`), so every character that is not plain is written `\x{…}`.
    GitLab,
    /// Buildkite's `=~`, `/^…$/`. A `$` is written `\x{24}`: the pipeline upload reads `\$`
    /// as an escaped `$` (see `buildkite::interpolation`), which would leave an anchor.
    Buildkite,
}

impl Dialect {
    fn delimited(self) -> bool {
        matches!(self, Dialect::GitLab | Dialect::Buildkite)
    }

    /// Writes `c` so that it matches itself, inside a class (`in_class`) or outside.
    fn literal(self, c: char, in_class: bool, out: &mut String) {
        let hex = |out: &mut String| out.push_str(&format!("\\x{{{:x}}}", c as u32));
        if c.is_ascii_alphanumeric() {
            out.push(c);
            return;
        }
        match self {
            Dialect::GitLab => {
                let plain = matches!(c, ' ' | '_' | ',' | ':' | '@' | '#' | '=' | '~')
                    || (c == '-' && !in_class);
                if plain {
                    out.push(c);
                } else if c == '/' || c == '.' {
                    out.push('\\');
                    out.push(c);
                } else {
                    hex(out);
                }
            }
            _ if c.is_control() => hex(out),
            Dialect::Buildkite if c == '$' => hex(out),
            _ if c.is_ascii_punctuation() => {
                let quotes = self != Dialect::Java && "/\"'".contains(c);
                let special = quotes || "\\.+*?()|[]{}^$-".contains(c);
                if special && (in_class || c != '-') {
                    out.push('\\');
                }
                out.push(c);
            }
            _ => out.push(c),
        }
    }

    /// Writes the class `[…]`, `[^…]`, with `+` after it when it repeats.
    fn class(self, class: &Class, out: &mut String) {
        out.push('[');
        if class.negated {
            out.push('^');
        }
        for &(lo, hi) in &class.ranges {
            self.literal(lo, true, out);
            if hi != lo {
                out.push('-');
                self.literal(hi, true, out);
            }
        }
        out.push(']');
        if class.repeat {
            out.push('+');
        }
    }
}

/// The glob as an anchored regular expression of `dialect` that matches exactly what the
/// glob matches.
pub fn regex(glob: &str, dialect: Dialect) -> String {
    let mut out = String::from(if dialect.delimited() { "/^" } else { "^" });
    for token in tokens(glob) {
        match token {
            Token::Star => out.push_str(".*"),
            Token::One => out.push('.'),
            Token::Literal(text) => text
                .chars()
                .for_each(|c| dialect.literal(c, false, &mut out)),
            Token::Class(class) => dialect.class(&class, &mut out),
        }
    }
    out.push_str(if dialect.delimited() { "$/" } else { "$" });
    out
}

/// A regular expression of `dialect` that matches exactly `text`.
pub fn literal_regex(text: &str, dialect: Dialect) -> String {
    let mut out = String::from(if dialect.delimited() { "/^" } else { "^" });
    text.chars()
        .for_each(|c| dialect.literal(c, false, &mut out));
    out.push_str(if dialect.delimited() { "$/" } else { "$" });
    out
}

/// A GitHub Actions branch or tag filter, and whether it matches exactly the same names.
/// GitHub's `*` stops at `/` (so cdl's `*` is `**`); it has classes `[…]` and `+` after
/// one, but no one-character wildcard and no negated class: `?` and `[!…]` become `**`,
/// which matches more. A class is written only when it holds letters, digits, `.`, `_` and
/// `/` (no escape is documented inside one); another widens the same way.
pub fn github_filter(glob: &str) -> (String, bool) {
    let mut out = String::new();
    let mut exact = true;
    let plain = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '/');
    for token in tokens(glob) {
        match token {
            Token::Star if out.ends_with("**") => {}
            Token::Star => out.push_str("**"),
            Token::Class(class)
                if !class.negated
                    && class.ranges.iter().all(|&(lo, hi)| plain(lo) && plain(hi)) =>
            {
                out.push('[');
                for (lo, hi) in class.ranges {
                    out.push(lo);
                    if hi != lo {
                        out.push('-');
                        out.push(hi);
                    }
                }
                out.push(']');
                if class.repeat {
                    out.push('+');
                }
            }
            Token::One | Token::Class(_) => {
                exact = false;
                if !out.ends_with("**") {
                    out.push_str("**");
                }
            }
            Token::Literal(text) => {
                for c in text.chars() {
                    let leading_bang = c == '!' && out.is_empty();
                    if matches!(c, '+' | '[' | ']' | '\\' | '?') || leading_bang {
                        out.push('\\');
                    }
                    out.push(c);
                }
            }
        }
    }
    (out, exact)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn github_filters_widen_star_and_escape_specials() {
        assert_eq!(github_filter("release/*"), ("release/**".into(), true));
        assert_eq!(github_filter("main"), ("main".into(), true));
        assert_eq!(github_filter("!a+b]1"), ("\\!a\\+b\\]1".into(), true));
        assert_eq!(github_filter("v?.*"), ("v**.**".into(), false));
        assert_eq!(
            github_filter("v[0-9]+.[0-9]+.[0-9]+"),
            ("v[0-9]+.[0-9]+.[0-9]+".into(), true)
        );
        assert_eq!(github_filter("v[!0-9]*"), ("v**".into(), false));
        assert_eq!(github_filter("v[-a]"), ("v**".into(), false));
    }

    #[test]
    fn regexes_are_anchored_and_escaped_per_dialect() {
        assert_eq!(regex("release/*", Dialect::GitLab), "/^release\\/.*$/");
        assert_eq!(regex("v?.*", Dialect::GitLab), "/^v.\\..*$/");
        assert_eq!(regex("a**b", Dialect::GitLab), "/^a.*b$/");
        assert_eq!(regex("a$b", Dialect::GitLab), "/^a\\x{24}b$/");
        assert_eq!(regex("a$b", Dialect::Buildkite), "/^a\\x{24}b$/");
        assert_eq!(regex("release/?.x", Dialect::Re2), "^release\\/.\\.x$");
        assert_eq!(regex("v1.*", Dialect::Java), "^v1\\..*$");
        assert_eq!(
            regex("v[0-9]+.[!a-z-]", Dialect::Java),
            "^v[0-9]+\\.[^a-z\\-]$"
        );
        assert_eq!(
            regex("v[0-9]+.[!a-z-]", Dialect::GitLab),
            "/^v[0-9]+\\.[^a-z\\x{2d}]$/"
        );
    }

    #[test]
    fn only_stars_match_the_empty_string() {
        assert!(matches_empty("*"));
        assert!(matches_empty(""));
        assert!(!matches_empty("?"));
    }
}
