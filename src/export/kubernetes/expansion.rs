//! Kubernetes' own expansion of a container's `env[].value`, `command` and `args`, modelled,
//! and the encoder that keeps text literal through it.
//!
//! The kubelet rewrites those strings with `expansion.Expand` (kubernetes,
//! `third_party/forked/golang/expansion/expand.go`; documented in "Define dependent
//! environment variables" and the `EnvVar.value` API reference): `$(NAME)` becomes the value
//! of a variable defined earlier in the list (or of a service variable) and is left as it is
//! when there is none; `$$` becomes `$`; a `$` before anything else, or at the end, is kept.
//! Argo and Tekton substitute their own variables first, then the kubelet expands.

#[cfg(test)]
use std::collections::HashMap;

/// What the kubelet makes of `text`, with `defined` the variables it may refer to. Byte by
/// byte, as the Go code: a lone `$` before a multi-byte character copies its first byte as a
/// character of its own (`string(input[0])`), mangling it.
#[cfg(test)]
pub fn expand(text: &str, defined: &HashMap<String, String>) -> String {
    let bytes = text.as_bytes();
    let mut out: Vec<u8> = Vec::new();
    let mut checkpoint = 0;
    let mut cursor = 0;
    while cursor < bytes.len() {
        if bytes[cursor] == b'$' && cursor + 1 < bytes.len() {
            out.extend_from_slice(&bytes[checkpoint..cursor]);
            let rest = &bytes[cursor + 1..];
            let advance = match rest[0] {
                b'$' => {
                    out.push(b'$');
                    1
                }
                b'(' => match rest.iter().position(|b| *b == b')') {
                    Some(close) => {
                        let name = String::from_utf8_lossy(&rest[1..close]).into_owned();
                        match defined.get(&name) {
                            Some(value) => out.extend_from_slice(value.as_bytes()),
                            None => out.extend_from_slice(format!("$({name})").as_bytes()),
                        }
                        close + 1
                    }
                    None => {
                        out.extend_from_slice(b"$(");
                        1
                    }
                },
                other => {
                    out.push(b'$');
                    out.extend_from_slice(char::from(other).to_string().as_bytes());
                    1
                }
            };
            cursor += advance;
            checkpoint = cursor + 1;
        }
        cursor += 1;
    }
    out.extend_from_slice(&bytes[checkpoint.min(bytes.len())..]);
    String::from_utf8_lossy(&out).into_owned()
}

/// `text` spelled so that the kubelet gives it back exactly: every `$` doubled.
pub fn literal(text: &str) -> String {
    text.replace('$', "$$")
}

/// Random text rich in what CI systems evaluate: `$ \ { } ( ) < > ' " % @ # :`, line
/// breaks, and `$(`, `{{`, `$$`, `\$`, `${`, `<<`, `{{=`.
#[cfg(test)]
pub fn hostile() -> impl proptest::strategy::Strategy<Value = String> {
    use proptest::prelude::*;
    {
        let piece = prop_oneof![
            Just("$".to_string()),
            Just("\\".to_string()),
            Just("$(".to_string()),
            Just("$(HOME)".to_string()),
            Just("{{".to_string()),
            Just("$$".to_string()),
            Just("\\$".to_string()),
            Just("${".to_string()),
            Just("é".to_string()),
            Just("<<".to_string()),
            Just("{{=".to_string()),
            Just("}}".to_string()),
            Just("$(params.x)".to_string()),
            Just("$(context.taskRun.name)".to_string()),
            Just("{{workflow.name}}".to_string()),
            proptest::sample::select(vec![
                '{', '}', '(', ')', '<', '>', '\'', '"', '%', '@', '#', ':', '\n', ' ', 'a', 'Z',
                '.', '[', ']',
            ])
            .prop_map(String::from),
        ];
        proptest::collection::vec(piece, 0..24).prop_map(|pieces| pieces.concat())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn defined() -> HashMap<String, String> {
        [("CDL_PIPELINE", "pipeline-name"), ("HOME", "/root")]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    /// Cases of kubernetes' `expand_test.go`.
    #[test]
    fn the_model_expands_as_the_kubelet_does() {
        let d = defined();
        assert_eq!(expand("$(HOME)/x", &d), "/root/x");
        assert_eq!(expand("$(NOPE)", &d), "$(NOPE)");
        assert_eq!(expand("$$(HOME)", &d), "$(HOME)");
        assert_eq!(expand("$$$(HOME)", &d), "$/root");
        assert_eq!(expand("pid=$$", &d), "pid=$");
        assert_eq!(expand("$HOME $ $", &d), "$HOME $ $");
        assert_eq!(expand("$(HOME", &d), "$(HOME");
        assert_eq!(expand("é$(HOME)é", &d), "é/rooté");
        assert_ne!(expand("$é", &d), "$é");
    }

    /// Issue 10: `echo "pid=$$" '$(CDL_PIPELINE)'` ran as `echo "pid=$" 'pipeline-name'`.
    #[test]
    fn kubernetes_dollars_are_doubled() {
        let text = "echo \"pid=$$\" '$(CDL_PIPELINE)'";
        assert_eq!(expand(&literal(text), &defined()), text);
    }

    proptest! {
        #[test]
        fn literal_text_comes_back_exactly(text in hostile()) {
            prop_assert_eq!(expand(&literal(&text), &defined()), text);
        }
    }
}
