//! Tekton's variable substitution, modelled: what Tekton makes of a string of a manifest.
//!
//! When it creates a TaskRun, Tekton replaces `$(params.x)`, `$(params["x"])`,
//! `$(params['x'])`, `$(context.taskRun.name)`, `$(tasks.t.results.r)`,
//! `$(workspaces.w.path)`, `$(results.r.path)`, `$(steps.…)` … in the fields that take
//! variables (tektoncd/pipeline `pkg/substitution/substitution.go` and
//! `pkg/reconciler/taskrun/resources/apply.go`; docs "Variable substitution supported by
//! Tasks and Pipelines"): step `script`, `env[].value`, `command`, `args`, `image`,
//! `workingDir`, pipeline task `params` (a custom task's too, such as an ApprovalTask's
//! `approvers`) and `when` expressions' `input` and `values`. There is no escape for `$(`.
//! The kubelet then expands what reaches `env[].value` ([`crate::export::kubernetes`]).

/// What Tekton makes of `text`: each reference `$(prefix.…)` or `$(prefix[…])` up to its
/// `)` replaced by `«reference»` (its value, which cdl does not know).
#[cfg(test)]
pub fn substitute(text: &str) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = text;
    while let Some(open) = rest.find("$(") {
        out.push_str(&rest[..open]);
        let after = &rest[open + 2..];
        let name = after
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
            .unwrap_or(after.len());
        let reference = (name > 0 && after[name..].starts_with(['.', '[']))
            .then(|| after.find(')'))
            .flatten();
        match reference {
            Some(close) => {
                out.push_str(&format!("«{}»", &after[..close]));
                rest = &after[close + 1..];
            }
            None => {
                out.push_str("$(");
                rest = after;
            }
        }
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::export::kubernetes::{self, expansion::hostile};
    use proptest::prelude::*;

    #[test]
    fn the_model_substitutes_as_tekton_does() {
        assert_eq!(
            substitute("a $(params.x) $(context.taskRun.name)").unwrap(),
            "a «params.x» «context.taskRun.name»"
        );
        assert_eq!(substitute("$(params[\"x\"])").unwrap(), "«params[\"x\"]»");
        assert_eq!(
            substitute("$(date) $((1 + 2)) $HOME").unwrap(),
            "$(date) $((1 + 2)) $HOME"
        );
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

        /// A gate's message is shown with nothing Tekton would substitute.
        #[test]
        fn messages_hold_no_reference(text in hostile()) {
            let shown = kubernetes::defuse(&text, "$(");
            prop_assert_eq!(substitute(&shown), Ok(shown.clone()));
            prop_assert!(!super::super::substitutes(&shown));
        }

        /// What the export writes in a `when` value or as an approver is never substituted.
        #[test]
        fn when_values_and_approvers_are_literal_or_left_out(text in hostile()) {
            if !super::super::substitutes(&text) {
                prop_assert_eq!(substitute(&text), Ok(text));
            }
        }
    }
}
