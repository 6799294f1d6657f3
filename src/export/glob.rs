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

/// Whether a translated pattern matches `text`, as an RE2-like engine (the `regex` crate)
/// reads it: the model of every dialect's evaluation in the tests.
#[cfg(test)]
pub fn regex_matches(pattern: &str, text: &str) -> bool {
    let inner = pattern
        .strip_prefix('/')
        .and_then(|p| p.strip_suffix('/'))
        .unwrap_or(pattern);
    regex::Regex::new(inner)
        .unwrap_or_else(|e| panic!("{pattern} is not a regular expression: {e}"))
        .is_match(text)
}

/// GitHub's filter-pattern semantics ("Filter pattern cheat sheet", docs.github.com): `*`
/// any run without `/`, `**` any run, `?` zero or one of the preceding character, `+` one or
/// more of it, `[…]` one character of a class or range, `\` escapes, a leading `!` negates.
#[cfg(test)]
pub fn github_filter_matches(filter: &str, text: &str) -> bool {
    let (negated, filter) = match filter.strip_prefix('!') {
        Some(rest) => (true, rest),
        None => (false, filter),
    };
    let mut re = String::from("^");
    let mut chars = filter.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '*' if chars.next_if_eq(&'*').is_some() => re.push_str(".*"),
            '*' => re.push_str("[^/]*"),
            '?' => re.push('?'),
            '+' => re.push('+'),
            '[' => {
                re.push('[');
                for c in chars.by_ref() {
                    re.push(c);
                    if c == ']' {
                        break;
                    }
                }
            }
            '\\' => {
                let next = chars.next().expect("an escaped character");
                re.push_str(&regex::escape(&next.to_string()));
            }
            c => re.push_str(&regex::escape(&c.to_string())),
        }
    }
    re.push('$');
    regex::Regex::new(&re).unwrap().is_match(text) != negated
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::model::glob::matches;

    /// Globs from pieces: literal runs of ref characters (regex metacharacters among them),
    /// `*`, `?`, and classes, negated or repeated.
    fn globs() -> impl Strategy<Value = String> {
        let piece = prop_oneof![
            "[a-c0-2./_$(){}+|-]{1,3}",
            Just("*".to_string()),
            Just("?".to_string()),
            "\\[!?[a-c0-2.-]{1,3}\\]\\+?",
            Just("[a-c]".to_string()),
            Just("[0-9]+".to_string()),
        ];
        proptest::collection::vec(piece, 0..5).prop_map(|parts| parts.concat())
    }

    fn refs() -> impl Strategy<Value = String> {
        "[a-c0-2./_$(){}+|-]{0,8}"
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1500))]

        /// cdl's matcher agrees with every dialect's translation, and GitHub's filter agrees
        /// where it is exact and matches more where it is not.
        #[test]
        fn every_dialect_agrees_with_cdls_matcher(glob in globs(), text in refs()) {
            prop_assume!(crate::model::glob::parse(&glob).is_ok());
            let cdl = matches(&glob, &text);
            for dialect in [Dialect::Re2, Dialect::Java, Dialect::GitLab, Dialect::Buildkite] {
                let pattern = regex(&glob, dialect);
                prop_assert_eq!(regex_matches(&pattern, &text), cdl, "{:?}: {}", dialect, pattern);
            }
            let (filter, exact) = github_filter(&glob);
            let github = github_filter_matches(&filter, &text);
            if exact {
                prop_assert_eq!(github, cdl, "filter {}", filter);
            } else {
                prop_assert!(github || !cdl, "filter {} narrows", filter);
            }
        }
    }

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
