//! Path globs (`changed("…")`, trigger `paths`): cdl's glob (see [`super::glob`]) over a file
//! path relative to the repository root, except that `*`, `?` and a class never match `/`,
//! and `**` matches any run of characters, `/` included; `**/` also matches nothing, so
//! `**/x.md` matches `x.md` and `docs/**/x.md` matches `docs/x.md` (GitHub's and GitLab's
//! rule).

use super::glob::{Token, tokens};

/// One piece of a path glob.
#[derive(Debug, Clone, PartialEq)]
enum Piece {
    Literal(Vec<char>),
    /// `*`: a run of characters without `/`.
    Star,
    /// `**`: any run of characters.
    Any,
    /// `**/`: nothing, or a run of characters ending with `/`.
    Folders,
    One,
    Class(super::glob::Class),
}

fn pieces(glob: &str) -> Vec<Piece> {
    let mut pieces = Vec::new();
    // `**` is a `*` written twice, which `tokens` reads as one: find them in the text.
    let mut rest = glob;
    while !rest.is_empty() {
        let (part, double) = match rest.find("**") {
            Some(at) => (&rest[..at], true),
            None => (rest, false),
        };
        for token in tokens(part) {
            pieces.push(match token {
                Token::Literal(text) => Piece::Literal(text.chars().collect()),
                Token::Star => Piece::Star,
                Token::One => Piece::One,
                Token::Class(class) => Piece::Class(class),
            });
        }
        if !double {
            break;
        }
        rest = rest[part.len()..].trim_start_matches('*');
        if let Some(after) = rest.strip_prefix('/') {
            pieces.push(Piece::Folders);
            rest = after;
        } else {
            pieces.push(Piece::Any);
        }
    }
    pieces
}

/// Whether the path glob matches the whole of `path`.
pub fn matches(glob: &str, path: &str) -> bool {
    let pieces = pieces(glob);
    let text: Vec<char> = path.chars().collect();
    let n = text.len();
    let mut memo: Vec<Option<bool>> = vec![None; (pieces.len() + 1) * (n + 1)];
    fn rest(p: &[Piece], text: &[char], t: usize, i: usize, memo: &mut [Option<bool>]) -> bool {
        let n = text.len();
        if let Some(known) = memo[t * (n + 1) + i] {
            return known;
        }
        let result = match p.get(t) {
            None => i == n,
            Some(Piece::Any) => (i..=n).any(|j| rest(p, text, t + 1, j, memo)),
            Some(Piece::Folders) => {
                rest(p, text, t + 1, i, memo)
                    || (i..n).any(|j| text[j] == '/' && rest(p, text, t + 1, j + 1, memo))
            }
            Some(Piece::Star) => {
                let stop = text[i..]
                    .iter()
                    .position(|&c| c == '/')
                    .map_or(n, |k| i + k);
                (i..=stop).any(|j| rest(p, text, t + 1, j, memo))
            }
            Some(Piece::One) => i < n && text[i] != '/' && rest(p, text, t + 1, i + 1, memo),
            Some(Piece::Literal(run)) => {
                text[i..].starts_with(run) && rest(p, text, t + 1, i + run.len(), memo)
            }
            Some(Piece::Class(class)) => {
                let mut j = i;
                let mut any = false;
                while j < n && text[j] != '/' && class.contains(text[j]) && !any {
                    j += 1;
                    any = rest(p, text, t + 1, j, memo);
                    if !class.repeat {
                        break;
                    }
                }
                any
            }
        };
        memo[t * (n + 1) + i] = Some(result);
        result
    }
    rest(&pieces, &text, 0, 0, &mut memo)
}

/// Whether some path of `paths` matches the glob.
pub fn any_matches<'a>(glob: &str, paths: impl IntoIterator<Item = &'a String>) -> bool {
    paths.into_iter().any(|p| matches(glob, p))
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn star_stops_at_a_slash_and_double_star_crosses_it() {
        assert!(matches("src/*", "src/main.rs"));
        assert!(!matches("src/*", "src/a/main.rs"));
        assert!(matches("src/**", "src/a/main.rs"));
        assert!(matches("src/**", "src/main.rs"));
        assert!(matches("**", "a/b/c"));
        assert!(matches("*.md", "README.md"));
        assert!(!matches("*.md", "docs/x.md"));
        assert!(matches("**/*.md", "docs/x.md"));
        assert!(matches("**/*.md", "x.md"));
        assert!(matches("docs/**/x.md", "docs/x.md"));
        assert!(matches("docs/**/x.md", "docs/a/b/x.md"));
        assert!(!matches("docs/**/x.md", "docsx.md"));
        assert!(matches("a/**b", "a/x/yb"));
        assert!(!matches("src/?", "src//"));
        assert!(matches("src/[a-c]?.rs", "src/bz.rs"));
        assert!(!matches("src/[!a-c].rs", "src/b.rs"));
        assert!(!matches("src[!a]x", "src/x"));
        assert!(matches("my docs/é*.txt", "my docs/été.txt"));
        assert!(matches("***", "a/b"));
    }
}
