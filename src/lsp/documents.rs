//! The open documents: their text as the editor has it, and the analysis of the last text
//! that parsed (symbols and completion keep working while the user types a syntax error).

use lsp_types::{TextDocumentContentChangeEvent, Uri};

use super::analysis::Analysis;
use super::position::Lines;

pub struct Document {
    pub text: String,
    pub version: i32,
    /// The analysis of `text`, whether it parsed or not (its diagnostics are the current ones).
    pub current: Analysis,
    /// The analysis of the last text that parsed, when `text` does not.
    stale_good: Option<Analysis>,
}

impl Document {
    pub fn open(uri: &Uri, text: String, version: i32) -> Document {
        let current = Analysis::new(uri, &text);
        Document {
            text,
            version,
            current,
            stale_good: None,
        }
    }

    /// Applies the editor's changes (whole text or ranges) and analyses the result. Returns the
    /// analysis it replaced: freeing it takes time, better spent after publishing diagnostics.
    #[must_use]
    pub fn change(
        &mut self,
        uri: &Uri,
        changes: Vec<TextDocumentContentChangeEvent>,
        version: i32,
    ) -> Option<Analysis> {
        for change in changes {
            match change.range {
                Some(range) => {
                    let lines = Lines::new(&self.text);
                    let start = lines.offset(range.start);
                    let end = lines.offset(range.end).max(start);
                    self.text.replace_range(start..end, &change.text);
                }
                None => self.text = change.text,
            }
        }
        self.version = version;
        self.reanalyse(uri)
    }

    /// Analyses the text again (after an edit, or when an imported file was saved); returns
    /// the analysis no longer needed.
    #[must_use]
    pub fn reanalyse(&mut self, uri: &Uri) -> Option<Analysis> {
        let next = Analysis::new(uri, &self.text);
        let previous = std::mem::replace(&mut self.current, next);
        if self.current.parsed() {
            self.stale_good.take();
            Some(previous)
        } else if previous.parsed() {
            self.stale_good.replace(previous)
        } else {
            Some(previous)
        }
    }

    /// The analysis of the last text that parsed, if any text did.
    pub fn good(&self) -> Option<&Analysis> {
        if self.current.parsed() {
            Some(&self.current)
        } else {
            self.stale_good.as_ref()
        }
    }
}
