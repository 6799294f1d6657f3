//! CircleCI's `<< … >>` parameters, and the encoder that keeps pipeline text out of them.
//!
//! CircleCI 2.1 reads `<< pipeline.… >>`, `<< pipeline.parameters.… >>` and
//! `<< parameters.… >>` in every string of the configuration (steps, environment, images,
//! matrix values, names) and `\<<` is a literal `<<` ("Pipeline values and parameters" and
//! "Reusable config reference", circleci.com/docs/reusing-config: "escape `<<` with `\<<`").
//! Filters and `when` expressions are expressions, where the schema refuses `<<` outright;
//! their strings are written by `filters::literal`.

#[cfg(test)]
use crate::export::literal::Place;

/// Text as a literal in a place CircleCI reads `<< … >>` in: each `<<` becomes `\<<`.
pub fn literal(text: &str) -> String {
    text.replace("<<", "\\<<")
}

/// How CircleCI reads a string of the configuration: `\<<` is `<<`; any other `<<` starts a
/// parameter, whose value is the pipeline's (an error of the model).
#[cfg(test)]
pub fn evaluate(text: &str) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = text;
    while let Some(i) = rest.find("<<") {
        if rest[..i].ends_with('\\') {
            out.push_str(&rest[..i - 1]);
            out.push_str("<<");
        } else {
            return Err(format!("`{}` is a parameter", &rest[i..]));
        }
        rest = &rest[i + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

/// A filter's or `when`'s string literal, `"…"` with `\"` and `\\`; no `<<` anywhere.
#[cfg(test)]
pub fn evaluate_expression_string(text: &str) -> Result<String, String> {
    if text.contains("<<") {
        return Err("the schema refuses `<<` in an expression".into());
    }
    let inner = text
        .strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .ok_or("not a string literal")?;
    let mut out = String::new();
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push(chars.next().ok_or("a trailing `\\`")?),
            '"' => return Err("an unescaped `\"`".into()),
            c if c.is_control() => return Err("a control character".into()),
            c => out.push(c),
        }
    }
    Ok(out)
}

#[cfg(test)]
fn encode_literal(text: &str) -> Option<String> {
    Some(literal(text))
}

#[cfg(test)]
const fn place(name: &'static str) -> Place {
    Place {
        name,
        encode: encode_literal,
        evaluate,
    }
}

/// Every place cdl writes pipeline text to in a CircleCI configuration.
#[cfg(test)]
pub const PLACES: &[Place] = &[
    place("run command"),
    place("environment"),
    place("docker image"),
    place("working_directory"),
    place("matrix parameter value"),
    place("serial-group"),
    Place {
        name: "filter or when string",
        encode: super::filters::literal,
        evaluate: evaluate_expression_string,
    },
];

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::export::literal::{assert_place_keeps_text, hostile_text};

    #[test]
    fn the_model_reads_escapes_and_rejects_parameters() {
        assert_eq!(evaluate("a \\<< b >>"), Ok("a << b >>".into()));
        assert!(evaluate("<< pipeline.id >>").is_err());
        assert_eq!(literal("echo << x >>"), "echo \\<< x >>");
        assert_eq!(evaluate(&literal("\\<<<<<")), Ok("\\<<<<<".into()));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn every_place_keeps_hostile_text(text in hostile_text()) {
            assert_place_keeps_text(PLACES, &text);
        }
    }
}
