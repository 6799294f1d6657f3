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
    // At least one piece: an empty image is an error of the checker (`image = none`).
    proptest::collection::vec(proptest::sample::select(HOSTILE_PIECES), 1..12)
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

/// A plan with `text` in every place of a job that exporters write text to: the pipeline's
/// and a job's `env` (`X`, `Y`), the job's command, image, runner and matrix value (axis
/// `v`), an environment's `url`, a gate's message and approver. `None` when the checker
/// refuses the text somewhere.
#[cfg(test)]
pub fn plan_with_text(text: &str) -> Option<crate::plan::Plan> {
    let s = crate::syntax::literal::quote(text);
    // An approver is a person's name: the checker refuses an empty one, control characters
    // (they could forge lines of a signed approval) and an unknown `@team`, so the approver
    // place gets a name made of the rest.
    let approver =
        crate::syntax::literal::quote(&format!("p{}", text.replace(char::is_control, "_")));
    let source = format!(
        "pipeline p {{
  default_branch = {s}
  env {{ X = {s} }}
  environment production {{ url = {s} }}
  stage a {{
    artifact app {{ run = \"true\"; outputs = [\"o\"] }}
    job unit {{ run = {s}; image = {s}; runner = {s}; env {{ Y = {s} }}; matrix {{ v = [{s}] }} }}
  }}
  stage b {{ gate g {{ approvers = [{approver}]; message = {s} }} }}
  stage c {{ deploy app to production {{ run = \"true\" }} }}
}}
"
    );
    let compilation = crate::compile::compile_text("p.cdl", None, source);
    if compilation.diagnostics.iter().any(|d| d.is_error()) {
        return None;
    }
    crate::plan::build(&compilation)
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
    fn hostile_text_reaches_the_plan_unchanged() {
        let text = "a\"b\\c\nd\t${{ x }} << y >> $$ é";
        let plan = plan_with_text(text).expect("the checker accepts the text");
        assert_eq!(plan.env["X"], text);
        let unit = plan.jobs.iter().find(|j| j.id.starts_with("unit")).unwrap();
        assert_eq!(unit.steps, vec![text.to_string()]);
        assert_eq!(unit.image.as_deref(), Some(text));
    }

    /// The exporters' property tests skip text the checker refuses: most must get through.
    #[test]
    fn most_hostile_text_reaches_a_plan() {
        use proptest::strategy::{Strategy, ValueTree};
        let mut runner = proptest::test_runner::TestRunner::deterministic();
        let strategy = hostile_text();
        let planned = (0..200)
            .filter(|_| {
                let text = strategy.new_tree(&mut runner).unwrap().current();
                let planned = plan_with_text(&text).is_some();
                if !planned && std::env::var_os("CDL_DEBUG_REFUSED").is_some() {
                    eprintln!("refused: {text:?}");
                }
                planned
            })
            .count();
        assert!(planned >= 190, "only {planned} of 200 texts were planned");
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
