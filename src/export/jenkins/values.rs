//! Values between jobs on Jenkins (v2 §4 "Passing values", i13m). The step runner checks what
//! the job wrote to `$CDL_VALUES` (an undeclared name fails it, as in `cdl run`) and writes
//! each declared value to a file of its own (`CDL_OUT_TARGET=files`) in `.cdl/values/<JOB>`;
//! right after it, in the same stage and folder, `readFile` stores each file's text in
//! `env['CDL_OUT_VALUE_<JOB>_<NAME>']`. A job that waits for the writer gets
//! `CDL_VALUE_<JOB>_<NAME>` from it in a `withEnv` whose entries are Groovy expressions over
//! `env`: the value is data, never part of a Groovy string literal or of code. A job that
//! does not wait for the writer does not get the variable, as in `cdl run`; a writer that was
//! skipped stored nothing, and its readers get the empty value.

use super::groovy::{self, Node};
use crate::export::values::variable_prefix;
use crate::model::values::VALUE_PREFIX;
use crate::plan::{Job, Plan};

/// The folder, relative to the job's, that the runner writes `job`'s values to.
pub fn folder(job: &Job) -> String {
    format!(".cdl/values/{}", variable_prefix(job).trim_end_matches('_'))
}

/// The build variable that keeps a value between stages (`CDL_OUT_`, never `CDL_VALUE_`).
fn stored(variable: &str) -> String {
    format!(
        "CDL_OUT_VALUE_{}",
        variable.strip_prefix(VALUE_PREFIX).unwrap_or(variable)
    )
}

/// The step runner's variables of a job that writes values.
pub fn writer_env(job: &Job) -> Vec<(String, String)> {
    if job.values.is_empty() {
        return Vec::new();
    }
    vec![
        ("CDL_OUT_TARGET".into(), "files".into()),
        ("CDL_OUT_FILE".into(), folder(job)),
    ]
}

/// The `script` that stores the values after the runner passed, or `None` without values.
pub fn store(job: &Job) -> Option<Node> {
    if job.values.is_empty() {
        return None;
    }
    let folder = folder(job);
    let lines = job
        .values
        .iter()
        .map(|name| {
            let variable = crate::model::values::value_variable(&job.name, name);
            Node::line(format!(
                "env[{}] = readFile(file: {}, encoding: 'UTF-8')",
                groovy::string(&stored(&variable)),
                groovy::string(&format!("{folder}/{name}"))
            ))
        })
        .collect();
    Some(Node::block("script", lines))
}

/// The head of the `withEnv` that gives a job the values it reads, or `None`.
pub fn reader_head(plan: &Plan, job: &Job) -> Option<String> {
    let entries: Vec<String> = plan
        .values_read(job)
        .into_iter()
        .map(|read| {
            format!(
                "{} + (env[{}] ?: '')",
                groovy::string(&format!("{}=", read.variable)),
                groovy::string(&stored(&read.variable))
            )
        })
        .collect();
    (!entries.is_empty()).then(|| format!("withEnv([{}])", entries.join(", ")))
}

#[cfg(test)]
mod tests {
    //! The runner is run for real (`sh`) in the folder the Jenkinsfile names; `readFile` is
    //! the file's text, `env` a map, and the reader's entries are evaluated as Groovy does:
    //! a literal, `+`, and `?:` over the map.
    use std::collections::HashMap;
    use std::process::Command;

    use proptest::prelude::*;

    use super::*;

    fn plan() -> Plan {
        let text = include_str!("../../../tests/fixtures/ok/hostile_values.cdl");
        let compilation = crate::compile::compile_text("v.cdl", None, text.to_string());
        crate::plan::build(&compilation).expect("the fixture plans")
    }

    /// `'…'` at the start of `text`, and the rest.
    fn take_literal(text: &str) -> (String, &str) {
        let bytes = text.as_bytes();
        assert_eq!(bytes[0], b'\'');
        let mut end = 1;
        while bytes[end] != b'\'' {
            end += if bytes[end] == b'\\' { 2 } else { 1 };
        }
        (groovy::evaluate(&text[..=end]).unwrap(), &text[end + 1..])
    }

    fn check(value: &str) {
        let plan = plan();
        let (source, sink) = (plan.job("source").unwrap(), plan.job("sink").unwrap());
        let dir = tempfile::tempdir().unwrap();
        let mut command = Command::new("sh");
        command
            .arg("-c")
            .arg(crate::export::steps::STEP_RUNNER)
            .current_dir(dir.path())
            .env("CDL_STEP_COUNT", "1")
            .env("CDL_STEP_1_NAME", "one")
            .env(
                "CDL_STEP_1",
                "printf 'text=%s\\n' \"$HOSTILE\" >> \"$CDL_VALUES\"",
            )
            .env("HOSTILE", value)
            .env("CDL_OUT_NAMES", source.values.join(" "));
        for (k, v) in writer_env(source) {
            command.env(k, v);
        }
        assert!(command.output().unwrap().status.success());
        // The writer's `script`: each line stores one file's text.
        let mut env: HashMap<String, String> = HashMap::new();
        let Some(Node::Block(head, lines)) = store(source) else {
            panic!("no store")
        };
        assert_eq!(head, "script");
        for line in lines {
            let Node::Line(line) = line else { panic!() };
            let (key, rest) = take_literal(line.strip_prefix("env[").unwrap());
            let (file, rest) = take_literal(rest.strip_prefix("] = readFile(file: ").unwrap());
            assert_eq!(rest, ", encoding: 'UTF-8')");
            env.insert(key, std::fs::read_to_string(dir.path().join(file)).unwrap());
        }
        // The reader's entries, `'NAME=' + (env['KEY'] ?: '')`.
        let head = reader_head(&plan, sink).unwrap();
        let mut rest = head.strip_prefix("withEnv([").unwrap();
        let mut got = HashMap::new();
        while !rest.starts_with("])") {
            let (assignment, after) = take_literal(rest.trim_start_matches(", "));
            let (key, after) = take_literal(after.strip_prefix(" + (env[").unwrap());
            rest = after.strip_prefix("] ?: '')").unwrap();
            let (name, _) = assignment.split_once('=').unwrap();
            got.insert(name.to_string(), env.get(&key).cloned().unwrap_or_default());
        }
        let declared: Vec<String> = source.values.clone();
        let expected =
            crate::model::values::read_values(&format!("text={value}\n"), &declared).unwrap();
        assert_eq!(got["CDL_VALUE_SOURCE_TEXT"], expected["text"]);
        assert_eq!(got["CDL_VALUE_SOURCE_EMPTY"], expected["empty"]);
        assert!(reader_head(&plan, source).is_none());
    }

    #[test]
    fn fixed_hostile_values_reach_the_readers_exactly() {
        for value in [
            "",
            " lead and trail ",
            "a=b=c",
            "' + env.PATH + '",
            "${env.X} $HOME",
        ] {
            check(value);
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]
        #[test]
        fn random_values_reach_the_readers_exactly(value in "[ -~é\\t]{0,24}") {
            check(&value);
        }
    }
}
