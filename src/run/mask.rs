//! Masking on the byte stream: every secret value is replaced by `***` wherever it occurs in a
//! job's output, across line breaks and across the chunks the output arrives in, with memory
//! bounded by the longest secret (a carry buffer) plus one chunk.

use aho_corasick::{AhoCorasick, MatchKind};

/// What a secret becomes.
pub const MASK: &[u8] = b"***";

/// Lines of a multi-line secret shorter than this are not masked on their own (a line `}` of a
/// JSON key would mask every brace in the output).
const MIN_LINE: usize = 8;

/// The patterns masked for these secret values: each value, the value without its trailing
/// line break, and each line of 8 bytes or more of a multi-line value.
pub fn patterns<'a>(values: impl IntoIterator<Item = &'a str>) -> Vec<Vec<u8>> {
    let mut out: Vec<Vec<u8>> = Vec::new();
    for value in values {
        let trimmed = value.trim_end_matches(['\r', '\n']);
        for candidate in [value, trimmed] {
            if !candidate.is_empty() {
                out.push(candidate.as_bytes().to_vec());
            }
        }
        if trimmed.contains('\n') {
            for line in trimmed.split('\n') {
                let line = line.trim_end_matches('\r');
                if line.len() >= MIN_LINE {
                    out.push(line.as_bytes().to_vec());
                }
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

/// A streaming masker: feed it bytes as they come, it emits them masked, holding back only
/// what could still be the start of a secret.
pub struct Masker {
    automaton: Option<AhoCorasick>,
    /// The longest pattern's length minus one: what may be held back.
    keep: usize,
    carry: Vec<u8>,
}

impl Masker {
    pub fn new(patterns: &[Vec<u8>]) -> Masker {
        let automaton = if patterns.is_empty() {
            None
        } else {
            AhoCorasick::builder()
                .match_kind(MatchKind::LeftmostLongest)
                .build(patterns)
                .ok()
        };
        let keep = patterns.iter().map(Vec::len).max().unwrap_or(1) - 1;
        Masker {
            automaton,
            keep,
            carry: Vec::new(),
        }
    }

    /// Adds `bytes`; what is certain is passed to `out`, masked.
    pub fn feed(&mut self, bytes: &[u8], out: &mut dyn FnMut(&[u8])) {
        if self.automaton.is_none() {
            out(bytes);
            return;
        }
        self.carry.extend_from_slice(bytes);
        self.emit(false, out);
    }

    /// The end of the stream: everything held back is passed on, masked.
    pub fn finish(&mut self, out: &mut dyn FnMut(&[u8])) {
        self.emit(true, out);
    }

    fn emit(&mut self, last: bool, out: &mut dyn FnMut(&[u8])) {
        let Some(automaton) = &self.automaton else {
            out(&self.carry);
            self.carry.clear();
            return;
        };
        let len = self.carry.len();
        // A match starting before `limit` lies wholly in the buffer, whatever comes next: its
        // leftmost-longest choice is final. Bytes before `limit` that no match covers are
        // final too.
        let limit = if last {
            len
        } else {
            len.saturating_sub(self.keep)
        };
        let mut done = 0;
        for found in automaton.find_iter(&self.carry) {
            if found.start() >= limit {
                break;
            }
            out(&self.carry[done..found.start()]);
            out(MASK);
            done = found.end();
        }
        let cut = limit.max(done);
        if cut > done {
            out(&self.carry[done..cut]);
        }
        self.carry.drain(..cut);
    }
}

/// Masks a whole text at once.
pub fn mask_bytes(patterns: &[Vec<u8>], text: &[u8]) -> Vec<u8> {
    let mut masker = Masker::new(patterns);
    let mut out = Vec::with_capacity(text.len());
    masker.feed(text, &mut |b| out.extend_from_slice(b));
    masker.finish(&mut |b| out.extend_from_slice(b));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn pats(values: &[&str]) -> Vec<Vec<u8>> {
        patterns(values.iter().copied())
    }

    /// The model: at each position, the longest secret starting there is masked, leftmost first.
    fn model(patterns: &[Vec<u8>], text: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut i = 0;
        while i < text.len() {
            let best = patterns
                .iter()
                .filter(|p| text[i..].starts_with(p))
                .map(Vec::len)
                .max();
            match best {
                Some(n) => {
                    out.extend_from_slice(MASK);
                    i += n;
                }
                None => {
                    out.push(text[i]);
                    i += 1;
                }
            }
        }
        out
    }

    fn chunked(patterns: &[Vec<u8>], text: &[u8], cuts: &[usize]) -> Vec<u8> {
        let mut masker = Masker::new(patterns);
        let mut out = Vec::new();
        let mut at = 0;
        for &cut in cuts {
            let cut = cut.min(text.len()).max(at);
            masker.feed(&text[at..cut], &mut |b| out.extend_from_slice(b));
            at = cut;
        }
        masker.feed(&text[at..], &mut |b| out.extend_from_slice(b));
        masker.finish(&mut |b| out.extend_from_slice(b));
        out
    }

    #[test]
    fn longest_wins_and_the_rest_is_not_printed() {
        let p = pats(&["abc", "abcdef"]);
        assert_eq!(mask_bytes(&p, b"x abcdef y abc"), b"x *** y ***");
    }

    #[test]
    fn a_secret_across_lines_and_one_ending_in_a_newline() {
        let p = pats(&["line-one\nline-two", "tail-secret\n"]);
        let text = b"a line-one\nline-two b\ntail-secret\nc tail-secret d\nline-two\n";
        let out = mask_bytes(&p, text);
        let out = String::from_utf8(out).unwrap();
        assert!(
            !out.contains("line-one") && !out.contains("line-two"),
            "{out}"
        );
        assert!(!out.contains("tail-secret"), "{out}");
    }

    #[test]
    fn byte_by_byte_is_the_same_as_at_once() {
        let p = pats(&["s3cr3t", "s3cr3t-longer"]);
        let text = b"..s3cr3t-longer..s3cr3t-lon..s3cr3t";
        let cuts: Vec<usize> = (0..text.len()).collect();
        assert_eq!(chunked(&p, text, &cuts), model(&p, text));
    }

    proptest! {
        #[test]
        fn any_chunking_masks_like_the_model(
            secrets in proptest::collection::vec("[ab\n]{1,6}", 1..4),
            text in proptest::collection::vec(prop_oneof![Just(b'a'), Just(b'b'), Just(b'\n'), Just(b'c')], 0..80),
            cuts in proptest::collection::vec(0usize..80, 0..10),
        ) {
            let mut p: Vec<Vec<u8>> = secrets.iter().map(|s| s.as_bytes().to_vec()).collect();
            p.sort();
            p.dedup();
            let mut cuts = cuts;
            cuts.sort();
            prop_assert_eq!(chunked(&p, &text, &cuts), model(&p, &text));
        }
    }
}
