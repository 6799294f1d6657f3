//! `docs/plan.md` documents exactly the fields the plan emits: a renamed or added field fails
//! here until the document (and, for a breaking change, the schema name) follows.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::support;

/// Fields whose value is a map of user names or a condition tree: documented as one row.
const LEAVES: &[&str] = &[
    "env",
    "environments[].env",
    "jobs[].env",
    "jobs[].matrix",
    "jobs[].condition",
    "jobs[].auto_when",
    "jobs[].step_blocks[].env",
    // v2 i13l: a step's condition tree
    "jobs[].step_blocks[].when",
    // v2 i14a: a map of scope to access, or a word
    "pipeline.permissions",
    "jobs[].permissions",
    // v2 i14d: a service's container variables
    "jobs[].services[].env",
    // v2 i13j: composed values, lists of parts (maps of user names to them)
    "env_values",
    "environments[].env_values",
    "environments[].url_value",
    "jobs[].env_values",
    // v2: composed values in a step's env
    "jobs[].step_blocks[].env_values",
    "jobs[].image_value",
    "jobs[].runner_value",
    // v2 i14e: free-form input names of a native step's `with`
    "jobs[].step_blocks[].native.github.with",
    "jobs[].step_blocks[].native.circleci.with",
    "jobs[].step_blocks[].native.buildkite.with",
];

fn collect(value: &Value, path: String, out: &mut BTreeSet<String>) {
    if !path.is_empty() && !path.ends_with("[]") {
        out.insert(path.clone());
    }
    if LEAVES.contains(&path.as_str()) {
        return;
    }
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                let child_path = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                collect(child, child_path, out);
            }
        }
        // The elements of an array of objects have fields of their own; scalars do not.
        Value::Array(items) => {
            for item in items.iter().filter(|i| i.is_object()) {
                collect(item, format!("{path}[]"), out);
            }
        }
        _ => {}
    }
}

fn emitted() -> BTreeSet<String> {
    let mut fields = BTreeSet::new();
    for path in support::cdl_files("examples")
        .iter()
        .chain(&support::cdl_files("tests/fixtures/ok"))
    {
        let plan = cdl::plan::build(&support::compile(path)).unwrap();
        collect(
            &serde_json::to_value(&plan).unwrap(),
            String::new(),
            &mut fields,
        );
    }
    fields
}

fn documented() -> BTreeSet<String> {
    let text = std::fs::read_to_string(support::root().join("docs/plan.md")).unwrap();
    text.lines()
        .filter_map(|line| line.strip_prefix("| `"))
        .filter_map(|rest| rest.split('`').next())
        .map(str::to_string)
        .collect()
}

#[test]
fn plan_md_lists_every_emitted_field() {
    let emitted = emitted();
    let documented = documented();
    let missing: Vec<_> = emitted.difference(&documented).collect();
    let extra: Vec<_> = documented.difference(&emitted).collect();
    assert!(
        missing.is_empty(),
        "fields emitted but not in docs/plan.md: {missing:?}"
    );
    assert!(
        extra.is_empty(),
        "fields in docs/plan.md but never emitted: {extra:?}"
    );
}

#[test]
fn the_schema_name_is_documented() {
    let text = std::fs::read_to_string(support::root().join("docs/plan.md")).unwrap();
    assert!(text.contains(cdl::plan::SCHEMA));
}
