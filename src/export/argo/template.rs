//! Argo's template tags, modelled: what Argo makes of a string of a manifest.
//!
//! Argo runs every string of a template through `template.Replace` (argo-workflows,
//! `util/template/replace.go`, on valyala/fasttemplate with the tags `{{` and `}}`): the text
//! between `{{` and the next `}}`, trimmed, is a variable (`workflow.name`,
//! `inputs.parameters.x` …) replaced by its value, or, starting with `=`, an expr-lang
//! expression replaced by its result (`{{=…}}`, docs "Variables" → "Expression"). A `{{`
//! without a closing `}}` fails the workflow ("cannot find end tag"). An unresolved simple tag
//! is kept or rejected depending on the field; either way the text is not literal.

/// What Argo makes of `text`: each tag replaced by `«tag»` (its value, which cdl does not
/// know), `Err` for an unterminated tag.
#[cfg(test)]
pub fn substitute(text: &str) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = text;
    while let Some(open) = rest.find("{{") {
        out.push_str(&rest[..open]);
        let after = &rest[open + 2..];
        let close = after
            .find("}}")
            .ok_or_else(|| format!("cannot find end tag in {text:?}"))?;
        out.push_str(&format!("«{}»", after[..close].trim()));
        rest = &after[close + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

/// An expr-lang string literal (`'…'` with `\\`, `\'` and `\uXXXX` escapes) read back: the
/// model of how the expression in a `{{=…}}` tag reads the literals cdl writes.
#[cfg(test)]
pub fn expr_string(literal: &str) -> Option<String> {
    let inner = literal.strip_prefix('\'')?.strip_suffix('\'')?;
    let mut out = String::new();
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next()? {
                '\\' => out.push('\\'),
                '\'' => out.push('\''),
                'u' => {
                    let hex: String = chars.by_ref().take(4).collect();
                    out.push(char::from_u32(u32::from_str_radix(&hex, 16).ok()?)?);
                }
                _ => return None,
            },
            '\'' => return None,
            c => out.push(c),
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::export::kubernetes::{self, expansion::hostile};
    use proptest::prelude::*;

    #[test]
    fn the_model_substitutes_as_argo_does() {
        assert_eq!(
            substitute("a {{ workflow.name }} b").unwrap(),
            "a «workflow.name» b"
        );
        assert_eq!(substitute("{{=1+1}}").unwrap(), "«=1+1»");
        assert!(substitute("{{ open").is_err());
        assert_eq!(substitute("} } { {").unwrap(), "} } { {");
        assert_eq!(expr_string("'a\\u007d\\'\\\\'").unwrap(), "a}'\\");
    }

    proptest! {
        /// Commands, variables, matrix and condition values reach the container exactly.
        #[test]
        fn container_env_carries_text_exactly(text in hostile()) {
            prop_assert_eq!(
                kubernetes::through_container(super::super::DIALECT, substitute, &text),
                Ok(text)
            );
        }

        /// A gate's message is shown with no tag left in it.
        #[test]
        fn messages_hold_no_tag(text in hostile()) {
            let shown = kubernetes::defuse(&text, "{{");
            prop_assert_eq!(substitute(&shown), Ok(shown.clone()));
            prop_assert_eq!(shown.replace(' ', ""), text.replace(' ', ""));
        }

        /// A string of a condition stays one expr literal inside its `{{=…}}` tag.
        #[test]
        fn condition_literals_stay_inside_their_tag(text in hostile()) {
            let literal = super::super::expression::literal(&text);
            let tag = format!("{{{{=x == {literal}}}}}");
            prop_assert_eq!(substitute(&tag), Ok(format!("«=x == {literal}»")));
            prop_assert_eq!(expr_string(&literal), Some(text));
        }
    }
}
