//! cdl globs (`*` any run of characters including `/`, `?` exactly one character, everything
//! else literal, matched against the whole value) in each target's pattern dialect.

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Token {
    Literal(String),
    /// `*`: any run of characters, `/` included.
    Star,
    /// `?`: exactly one character.
    One,
}

/// The glob as literal runs and wildcards; consecutive `*` are one.
pub fn tokens(glob: &str) -> Vec<Token> {
    let mut tokens: Vec<Token> = Vec::new();
    for c in glob.chars() {
        match c {
            '*' if tokens.last() == Some(&Token::Star) => {}
            '*' => tokens.push(Token::Star),
            '?' => tokens.push(Token::One),
            c => match tokens.last_mut() {
                Some(Token::Literal(text)) => text.push(c),
                _ => tokens.push(Token::Literal(c.to_string())),
            },
        }
    }
    tokens
}

/// Whether the glob matches the empty string.
pub fn matches_empty(glob: &str) -> bool {
    glob.chars().all(|c| c == '*')
}

/// A GitHub Actions branch or tag filter, and whether it matches exactly the same names.
/// GitHub's `*` stops at `/` (so cdl's `*` is `**`) and it has no one-character wildcard:
/// `?` becomes `**`, which matches more.
pub fn github_filter(glob: &str) -> (String, bool) {
    let mut out = String::new();
    let mut exact = true;
    for token in tokens(glob) {
        match token {
            Token::Star => out.push_str("**"),
            Token::One => {
                exact = false;
                out.push_str("**");
            }
            Token::Literal(text) => {
                for c in text.chars() {
                    let leading_bang = c == '!' && out.is_empty();
                    if matches!(c, '+' | '[' | ']' | '\\') || leading_bang {
                        out.push('\\');
                    }
                    out.push(c);
                }
            }
        }
    }
    (out, exact)
}

/// An anchored RE2 regular expression written `/…/`, as GitLab's `=~` takes it.
pub fn gitlab_regex(glob: &str) -> String {
    let mut out = String::from("/^");
    for token in tokens(glob) {
        match token {
            Token::Star => out.push_str(".*"),
            Token::One => out.push('.'),
            Token::Literal(text) => regex_escape(&text, &mut out),
        }
    }
    out.push_str("$/");
    out
}

fn regex_escape(text: &str, out: &mut String) {
    for c in text.chars() {
        match c {
            '\\' | '.' | '+' | '*' | '?' | '(' | ')' | '|' | '[' | ']' | '{' | '}' | '^' | '$'
            | '/' | '"' | '\'' => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_control() => out.push_str(&format!("\\x{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn github_filters_widen_star_and_escape_specials() {
        assert_eq!(github_filter("release/*"), ("release/**".into(), true));
        assert_eq!(github_filter("main"), ("main".into(), true));
        assert_eq!(github_filter("!a+b[1]"), ("\\!a\\+b\\[1\\]".into(), true));
        assert_eq!(github_filter("v?.*"), ("v**.**".into(), false));
    }

    #[test]
    fn gitlab_regexes_are_anchored_and_escaped() {
        assert_eq!(gitlab_regex("release/*"), "/^release\\/.*$/");
        assert_eq!(gitlab_regex("v?.*"), "/^v.\\..*$/");
        assert_eq!(gitlab_regex("a**b"), "/^a.*b$/");
    }

    #[test]
    fn only_stars_match_the_empty_string() {
        assert!(matches_empty("*"));
        assert!(matches_empty(""));
        assert!(!matches_empty("?"));
    }
}
