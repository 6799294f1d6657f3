//! Branch and tag globs hold only characters a git ref can hold (`git check-ref-format`):
//! no space or control character, none of `~ ^ : \ [`. cdl has no character classes, so a
//! `[` would be literal, and a target's filter (GitHub's) would read it as a class or
//! refuse it; such a glob never matches a branch or tag anyway.

use crate::codes::Code;
use crate::diagnostic::{Diagnostic, Sink};
use crate::span::Span;

/// The first character of `glob` that no branch or tag name can hold.
pub fn forbidden_character(glob: &str) -> Option<char> {
    glob.chars()
        .find(|&c| c.is_ascii_control() || matches!(c, ' ' | '~' | '^' | ':' | '\\' | '['))
}

/// Reports E0306 when `glob`, a glob of `what` ("branch" or "tag") written at `span`, holds
/// a character no ref can hold.
pub fn check(glob: &str, what: &str, span: Span, sink: &mut Sink) {
    let Some(c) = forbidden_character(glob) else {
        return;
    };
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
        .help("git refs cannot hold spaces, control characters or any of `~ ^ : \\ [`; cdl globs have `*` and `?` only, so write the name without the character"),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_characters_git_refuses_are_found() {
        assert_eq!(forbidden_character("[0-9]*"), Some('['));
        assert_eq!(forbidden_character("release/a b"), Some(' '));
        assert_eq!(forbidden_character("a\tb"), Some('\t'));
        for c in ['~', '^', ':', '\\'] {
            assert_eq!(forbidden_character(&format!("v{c}1")), Some(c));
        }
        assert_eq!(forbidden_character("release/*-rc?$x{y}(z)<<a>>]"), None);
    }
}
