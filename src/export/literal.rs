//! Keeping pipeline text literal: each target has, per place it writes text to, a model of
//! how the target evaluates a string there ([`Evaluate`]) and one encoder ([`Encode`]); a
//! property test ([`assert_place_keeps_text`]) proves that evaluating what the encoder writes
//! gives back the text. An encoder returns `None` when the place cannot carry the text
//! literally: the exporter then moves the text into a place the target does not evaluate,
//! or reports W0200, and never writes the text raw.

#[cfg(test)]
/// How a target evaluates a string written at one place: the text the target ends up
/// using, or why the model cannot tell (an expression or a reference it would resolve).
pub type Evaluate = fn(&str) -> Result<String, String>;

#[cfg(test)]
/// How an exporter writes text at one place; `None` when the place cannot carry it.
pub type Encode = fn(&str) -> Option<String>;

#[cfg(test)]
/// One place of a target: its name, its encoder and the model of its evaluation.
#[derive(Clone, Copy)]
pub struct Place {
    pub name: &'static str,
    pub encode: Encode,
    pub evaluate: Evaluate,
}

#[cfg(test)]
impl Place {
    /// Whether the place keeps `text` literally: the encoded text evaluates back to it.
    /// `Ok(false)` when the encoder declines; `Err` says how the model disagrees.
    pub fn keeps(&self, text: &str) -> Result<bool, String> {
        let Some(encoded) = (self.encode)(text) else {
            return Ok(false);
        };
        match (self.evaluate)(&encoded) {
            Ok(value) if value == text => Ok(true),
            Ok(value) => Err(format!(
                "{}: {text:?} was written {encoded:?}, which evaluates to {value:?}",
                self.name
            )),
            Err(why) => Err(format!(
                "{}: {text:?} was written {encoded:?}, which the target evaluates: {why}",
                self.name
            )),
        }
    }
}

/// The characters and runs that targets give a meaning to: variables, expressions,
/// parameters, quotes, escapes and line breaks. A random mix of them finds the text an
/// encoder lets through.
#[cfg(test)]
pub const HOSTILE_PIECES: &[&str] = &[
    "$",
    "\\",
    "{",
    "}",
    "(",
    ")",
    "<",
    ">",
    "'",
    "\"",
    "%",
    "@",
    "#",
    ":",
    "\n",
    "${{",
    "}}",
    "<<",
    ">>",
    "$$",
    "\\$",
    "${",
    "$(",
    "{{",
    "`",
    "*",
    "?",
    "[",
    "]",
    "!",
    " ",
    "\t",
    "a",
    "HOME",
    "CI_JOB_NAME",
    "github.actor",
    "pipeline.id",
    "params.x",
    "env.X",
    "-",
    ":-",
    "/",
    "''",
    "é",
    "\r",
    "\\\\",
];

/// A proptest strategy: strings made of [`HOSTILE_PIECES`].
#[cfg(test)]
pub fn hostile_text() -> impl proptest::strategy::Strategy<Value = String> {
    use proptest::prelude::*;
    proptest::collection::vec(proptest::sample::select(HOSTILE_PIECES), 0..12)
        .prop_map(|pieces| pieces.concat())
}

/// Asserts that every place keeps `text` literally or declines it.
#[cfg(test)]
pub fn assert_place_keeps_text(places: &[Place], text: &str) {
    for place in places {
        if let Err(message) = place.keeps(text) {
            panic!("{message}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn identity(text: &str) -> Result<String, String> {
        Ok(text.to_string())
    }

    fn doubles_dollars(text: &str) -> Result<String, String> {
        Ok(text.replace("$$", "$"))
    }

    #[test]
    fn a_place_that_changes_the_text_is_caught() {
        let raw = Place {
            name: "raw",
            encode: |t| Some(t.to_string()),
            evaluate: doubles_dollars,
        };
        assert!(raw.keeps("pid=$$").is_err());
        assert_eq!(raw.keeps("plain"), Ok(true));
        let declines = Place {
            name: "declines",
            encode: |_| None,
            evaluate: identity,
        };
        assert_eq!(declines.keeps("$$"), Ok(false));
    }
}
