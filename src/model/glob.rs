//! cdl globs, read once for every stage: `*` any run of characters (`/` included), `?` one
//! character, `[abc]`, `[a-z]` and `[!a-z]` one character of (or not of) a class, `+` right
//! after a class's `]` one or more of it; everything else is literal, and a glob matches the
//! whole value. The checker reports a malformed class (E0306); elsewhere a glob that does not
//! parse is read with its `[` literal, as cdl read it before classes.

/// One piece of a glob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Token {
    Literal(String),
    /// `*`: any run of characters, `/` included.
    Star,
    /// `?`: exactly one character.
    One,
    /// `[…]` or `[!…]`, with `+` after it when `repeat`.
    Class(Class),
}

/// A character class: the characters of `ranges` (or all others when `negated`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Class {
    pub negated: bool,
    /// Inclusive ranges; a single character `c` is `(c, c)`.
    pub ranges: Vec<(char, char)>,
    /// `[…]+`: one or more characters of the class.
    pub repeat: bool,
}

impl Class {
    pub fn contains(&self, c: char) -> bool {
        self.ranges.iter().any(|&(lo, hi)| lo <= c && c <= hi) != self.negated
    }
}

/// Why a glob does not parse; `at` is the byte offset of the class's `[`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GlobError {
    Unclosed { at: usize },
    Empty { at: usize },
    Reversed { at: usize, from: char, to: char },
}

impl std::fmt::Display for GlobError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            GlobError::Unclosed { .. } => write!(f, "a `[` that no `]` closes"),
            GlobError::Empty { .. } => write!(f, "an empty class `[]`"),
            GlobError::Reversed { from, to, .. } => {
                write!(f, "the range `{from}-{to}`, which runs backwards")
            }
        }
    }
}

/// The glob's tokens; consecutive `*` are one.
pub fn parse(glob: &str) -> Result<Vec<Token>, GlobError> {
    let mut tokens: Vec<Token> = Vec::new();
    let mut chars = glob.char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        match c {
            '*' if tokens.last() == Some(&Token::Star) => {}
            '*' => tokens.push(Token::Star),
            '?' => tokens.push(Token::One),
            '[' => {
                let negated = chars.next_if(|&(_, c)| c == '!').is_some();
                let mut items: Vec<char> = Vec::new();
                loop {
                    match chars.next() {
                        None => return Err(GlobError::Unclosed { at }),
                        Some((_, ']')) => break,
                        Some((_, '[')) => return Err(GlobError::Unclosed { at }),
                        Some((_, c)) => items.push(c),
                    }
                }
                if items.is_empty() {
                    return Err(GlobError::Empty { at });
                }
                let mut ranges = Vec::new();
                let mut i = 0;
                while i < items.len() {
                    // `a-z`; a `-` first or last is itself.
                    if i + 2 < items.len() && items[i + 1] == '-' {
                        let (from, to) = (items[i], items[i + 2]);
                        if from > to {
                            return Err(GlobError::Reversed { at, from, to });
                        }
                        ranges.push((from, to));
                        i += 3;
                    } else {
                        ranges.push((items[i], items[i]));
                        i += 1;
                    }
                }
                let repeat = chars.next_if(|&(_, c)| c == '+').is_some();
                tokens.push(Token::Class(Class {
                    negated,
                    ranges,
                    repeat,
                }));
            }
            c => match tokens.last_mut() {
                Some(Token::Literal(text)) => text.push(c),
                _ => tokens.push(Token::Literal(c.to_string())),
            },
        }
    }
    Ok(tokens)
}

/// The glob's tokens, with `[` literal when it does not parse (see the module comment).
pub fn tokens(glob: &str) -> Vec<Token> {
    parse(glob).unwrap_or_else(|_| {
        let mut tokens = Vec::new();
        for (index, part) in glob.split('[').enumerate() {
            if index > 0 {
                push_literal(&mut tokens, "[");
            }
            for token in parse(part).unwrap_or_else(|_| vec![Token::Literal(part.into())]) {
                match token {
                    Token::Literal(text) => push_literal(&mut tokens, &text),
                    other => tokens.push(other),
                }
            }
        }
        tokens
    })
}

fn push_literal(tokens: &mut Vec<Token>, text: &str) {
    match tokens.last_mut() {
        Some(Token::Literal(run)) => run.push_str(text),
        _ => tokens.push(Token::Literal(text.into())),
    }
}

/// Whether the glob has a metacharacter: without one it matches only its own text.
pub fn is_literal(glob: &str) -> bool {
    matches!(tokens(glob).as_slice(), [] | [Token::Literal(_)])
}

/// Whether the glob matches the empty string.
pub fn matches_empty(glob: &str) -> bool {
    tokens(glob).iter().all(|t| *t == Token::Star)
}

/// Whether the glob matches the whole of `text`.
pub fn matches(glob: &str, text: &str) -> bool {
    let tokens = tokens(glob);
    let text: Vec<char> = text.chars().collect();
    // `memo[t * (n + 1) + i]`: whether tokens[t..] match text[i..], once known.
    let n = text.len();
    let mut memo: Vec<Option<bool>> = vec![None; (tokens.len() + 1) * (n + 1)];
    fn rest(
        tokens: &[Token],
        text: &[char],
        t: usize,
        i: usize,
        memo: &mut Vec<Option<bool>>,
    ) -> bool {
        let n = text.len();
        if let Some(known) = memo[t * (n + 1) + i] {
            return known;
        }
        let result = match tokens.get(t) {
            None => i == n,
            Some(Token::Star) => (i..=n).any(|j| rest(tokens, text, t + 1, j, memo)),
            Some(Token::One) => i < n && rest(tokens, text, t + 1, i + 1, memo),
            Some(Token::Literal(run)) => {
                let run: Vec<char> = run.chars().collect();
                text[i..].starts_with(&run) && rest(tokens, text, t + 1, i + run.len(), memo)
            }
            Some(Token::Class(class)) => {
                let mut j = i;
                let mut any = false;
                while j < n && class.contains(text[j]) && !any {
                    j += 1;
                    any = rest(tokens, text, t + 1, j, memo);
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
    rest(&tokens, &text, 0, 0, &mut memo)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_match_one_character_or_one_or_more() {
        assert!(matches("v[0-9]+.[0-9]+.[0-9]+", "v1.22.333"));
        assert!(!matches("v[0-9]+.[0-9]+.[0-9]+", "v1..3"));
        assert!(!matches("v[0-9]+.[0-9]+.[0-9]+", "v1.2.3-rc"));
        assert!(matches("[abc]x", "bx"));
        assert!(!matches("[abc]x", "dx"));
        assert!(!matches("[abc]x", "abx"));
        assert!(matches("[!a-z]*", "1abc"));
        assert!(!matches("[!a-z]*", "abc"));
        assert!(!matches("[!a-z]", ""));
        assert!(matches("a+b", "a+b"));
        assert!(!matches("a+b", "aab"));
        assert!(matches("[-a]", "-"));
        assert!(matches("[a-]", "-"));
        assert!(matches("[a-c-e]", "e"));
    }

    #[test]
    fn malformed_classes_are_reported_and_read_literally_elsewhere() {
        assert_eq!(parse("v[0-9"), Err(GlobError::Unclosed { at: 1 }));
        assert_eq!(parse("v[]"), Err(GlobError::Empty { at: 1 }));
        assert_eq!(parse("[!]"), Err(GlobError::Empty { at: 0 }));
        assert_eq!(
            parse("[z-a]"),
            Err(GlobError::Reversed {
                at: 0,
                from: 'z',
                to: 'a'
            })
        );
        assert!(matches("v[0-9", "v[0-9"));
        assert!(matches("a[*", "a[xyz"));
        assert!(!matches("a[*", "axyz"));
    }

    #[test]
    fn stars_and_literals() {
        assert!(matches("release/*", "release/1.2"));
        assert!(matches("*", ""));
        assert!(matches("a?c", "abc"));
        assert!(!matches("main", "main2"));
        assert!(matches("*-rc*", "v1-rc2"));
        assert!(matches("*", "*-rc"));
        assert!(is_literal("main"));
        assert!(is_literal(""));
        assert!(!is_literal("v[0-9]"));
        assert!(matches_empty("**"));
        assert!(!matches_empty("[a]"));
    }
}
