//! Branch and tag globs hold only characters a git ref can hold (`git check-ref-format`):
//! no space or control character, none of `~ ^ : \`; and their classes (`[a-z]`, `[!a-z]`,
//! `[…]+`) are well formed: closed, not empty, no range running backwards. Either fault is
//! E0306, so that no target is handed a pattern it would refuse or read otherwise.

use crate::codes::Code;
use crate::diagnostic::{Diagnostic, Sink};
use crate::model::glob::{self, GlobError};
use crate::span::Span;

/// The first character of `glob` that no branch or tag name can hold.
pub fn forbidden_character(glob: &str) -> Option<char> {
    glob.chars()
        .find(|&c| c.is_ascii_control() || matches!(c, ' ' | '~' | '^' | ':' | '\\'))
}

/// Reports E0306 when `glob`, a glob of `what` ("branch" or "tag") written at `span`, holds
/// a character no ref can hold or a malformed class.
pub fn check(glob: &str, what: &str, span: Span, sink: &mut Sink) {
    if let Some(c) = forbidden_character(glob) {
        let shown = match c {
            ' ' => "a space".to_string(),
            c if c.is_ascii_control() => format!("the control character {:?}", c),
            c => format!("`{c}`"),
        };
        sink.push(
            Diagnostic::new(
                Code::InvalidRefGlob,
                span,
                format!("the {what} pattern {glob:?} holds {shown}, which no {what} name can hold"),
            )
            .label(format!("no {what} matches this"))
            .help("git refs cannot hold spaces, control characters or any of `~ ^ : \\`; write the name without the character"),
        );
        return;
    }
    if let Err(error) = glob::parse(glob) {
        let help = match error {
            GlobError::Unclosed { .. } => {
                "a class is `[abc]`, `[a-z]` or `[!a-z]`, closed by `]`; a `[` cannot be in a class"
            }
            GlobError::Empty { .. } => "a class holds at least one character: `[abc]`, `[a-z]`",
            GlobError::Reversed { .. } => "write a range low to high: `[a-z]`, `[0-9]`",
        };
        sink.push(
            Diagnostic::new(
                Code::InvalidRefGlob,
                span,
                format!("the {what} pattern {glob:?} holds {error}"),
            )
            .label("malformed class")
            .help(help),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_characters_git_refuses_are_found() {
        assert_eq!(forbidden_character("[0-9]*"), None);
        assert_eq!(forbidden_character("release/a b"), Some(' '));
        assert_eq!(forbidden_character("a\tb"), Some('\t'));
        for c in ['~', '^', ':', '\\'] {
            assert_eq!(forbidden_character(&format!("v{c}1")), Some(c));
        }
        assert_eq!(forbidden_character("release/*-rc?$x{y}(z)<<a>>]"), None);
    }

    fn codes(glob: &str) -> usize {
        let mut sink = Sink::default();
        check(glob, "tag", Span::default(), &mut sink);
        sink.error_count()
    }

    #[test]
    fn malformed_classes_are_errors_and_good_ones_are_not() {
        for good in [
            "v[0-9]+.[0-9]+.[0-9]+",
            "[abc]",
            "[!a-z]*",
            "[-a]",
            "a+b",
            "x]",
        ] {
            assert_eq!(codes(good), 0, "{good}");
        }
        for bad in ["v[0-9", "v[]", "[!]", "[z-a]", "[a[b]", "[ ]", "[^a]"] {
            assert_eq!(codes(bad), 1, "{bad}");
        }
    }
}
