//! Matrices with `include` and `exclude` (language v2 §7), through the whole compiler: random
//! matrices written as cdl text, checked and planned, against a small model of GitHub's
//! documented algorithm; random hostile values give unique instance ids that every export
//! keeps as distinct, valid job names.

use std::collections::{BTreeMap, HashSet};

use proptest::prelude::*;

use cdl::compile::compile_text;
use cdl::export::Target;

type Combination = BTreeMap<String, String>;

/// GitHub's "Using a matrix for your jobs", as documented: the product of the axes; each
/// exclude removes the combinations it partially matches; then, for each include, "the
/// key:value pairs in the object will be added to each of the matrix combinations if none of
/// the key:value pairs overwrite any of the original matrix values. If the object cannot be
/// added to any of the matrix combinations, a new matrix combination will be created instead.
/// Note that the original matrix values will not be overwritten, but added matrix values can
/// be overwritten." Without axes, each include is one combination.
fn github_model(
    axes: &[(String, Vec<String>)],
    excludes: &[Vec<(String, String)>],
    includes: &[Vec<(String, String)>],
) -> Vec<Combination> {
    let mut original: Vec<Combination> = if axes.is_empty() {
        Vec::new()
    } else {
        vec![Combination::new()]
    };
    for (axis, values) in axes {
        let mut next = Vec::new();
        for combination in &original {
            for value in values {
                let mut c = combination.clone();
                c.insert(axis.clone(), value.clone());
                next.push(c);
            }
        }
        original = next;
    }
    original.retain(|c| {
        !excludes
            .iter()
            .any(|ex| ex.iter().all(|(k, v)| c.get(k) == Some(v)))
    });
    let mut result = original.clone();
    for include in includes {
        let mut added = false;
        for (i, c) in original.iter().enumerate() {
            let overwrites_original = include
                .iter()
                .any(|(k, v)| c.get(k).is_some_and(|original| original != v));
            if !overwrites_original {
                for (k, v) in include {
                    result[i].insert(k.clone(), v.clone());
                }
                added = true;
            }
        }
        if !added {
            result.push(include.iter().cloned().collect());
        }
    }
    result
}

fn quoted(value: &str) -> String {
    format!("{value:?}")
}

fn source(
    axes: &[(String, Vec<String>)],
    excludes: &[Vec<(String, String)>],
    includes: &[Vec<(String, String)>],
) -> String {
    let mut text = String::from(
        "pipeline p {\n  stage s {\n    job j {\n      run = \"true\"\n      matrix {\n",
    );
    for (axis, values) in axes {
        let values: Vec<String> = values.iter().map(|v| quoted(v)).collect();
        text.push_str(&format!("        {axis} = [{}]\n", values.join(", ")));
    }
    let entry = |word: &str, pairs: &[(String, String)]| {
        let pairs: Vec<String> = pairs
            .iter()
            .map(|(k, v)| format!("{k} = {}", quoted(v)))
            .collect();
        format!("        {word} {{ {} }}\n", pairs.join("  "))
    };
    for exclude in excludes {
        text.push_str(&entry("exclude", exclude));
    }
    for include in includes {
        text.push_str(&entry("include", include));
    }
    text.push_str("      }\n    }\n  }\n}\n");
    text
}

fn distinct_pairs(keys: &'static [&'static str]) -> impl Strategy<Value = Vec<(String, String)>> {
    proptest::collection::btree_map(
        proptest::sample::select(keys),
        proptest::sample::select(&["x", "y", "z"][..]),
        1..=3,
    )
    .prop_map(|m| {
        m.into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    })
}

/// Axes, excludes and includes of a matrix.
type Parts = (
    Vec<(String, Vec<String>)>,
    Vec<Vec<(String, String)>>,
    Vec<Vec<(String, String)>>,
);

fn matrix_parts() -> impl Strategy<Value = Parts> {
    let axes = proptest::collection::btree_map(
        proptest::sample::select(&["a", "b", "c"][..]),
        proptest::sample::subsequence(vec!["x", "y", "z"], 1..=3),
        0..=3,
    )
    .prop_map(|m| {
        m.into_iter()
            .map(|(k, v)| (k.to_string(), v.into_iter().map(String::from).collect()))
            .collect::<Vec<_>>()
    });
    axes.prop_flat_map(|axes| {
        let names: Vec<&'static str> = ["a", "b", "c"]
            .into_iter()
            .filter(|n| axes.iter().any(|(a, _)| a == n))
            .collect();
        let excludes = if names.is_empty() {
            Just(Vec::new()).boxed()
        } else {
            let names: &'static [&'static str] = Box::leak(names.into_boxed_slice());
            proptest::collection::vec(distinct_pairs(names), 0..=2).boxed()
        };
        let includes = proptest::collection::vec(distinct_pairs(&["a", "b", "c", "d", "e"]), 0..=4);
        (Just(axes), excludes, includes)
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    /// The plan's instances are GitHub's combinations, in GitHub's order, each with
    /// `CDL_MATRIX_<KEY>` for every key (empty where it lacks one); a matrix the checker
    /// refuses is one GitHub would run with no instance or two of the same name.
    #[test]
    fn expansion_follows_githubs_rules((axes, excludes, includes) in matrix_parts()) {
        prop_assume!(!axes.is_empty() || !includes.is_empty());
        let text = source(&axes, &excludes, &includes);
        let compilation = compile_text("matrix.cdl", None, text.clone());
        let model = github_model(&axes, &excludes, &includes);
        let codes: Vec<&str> = compilation.diagnostics.iter().filter(|d| d.is_error()).map(|d| d.code.as_str()).collect();
        let axis_names: Vec<&String> = axes.iter().map(|(a, _)| a).collect();
        let id_of = |c: &Combination| -> Vec<(String, String)> {
            c.iter()
                .filter(|(k, _)| axis_names.is_empty() || axis_names.contains(k))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        };
        let mut seen = HashSet::new();
        let duplicate = model.iter().any(|c| !seen.insert(id_of(c)));
        if model.is_empty() {
            prop_assert_eq!(codes, vec!["E0320"], "{}", text);
            return Ok(());
        }
        if duplicate {
            prop_assert!(codes.iter().all(|c| *c == "E0321") && !codes.is_empty(), "{}: {:?}", text, codes);
            return Ok(());
        }
        prop_assert!(codes.is_empty(), "{}: {:?}", text, codes);
        let plan = cdl::plan::build(&compilation).expect("a clean matrix plans");
        let got: Vec<Combination> = plan.jobs.iter().map(|j| j.matrix.clone().into_iter().collect()).collect();
        prop_assert_eq!(&got, &model, "{}", text);
        let keys: HashSet<&String> = model.iter().flat_map(|c| c.keys()).collect();
        for (job, combination) in plan.jobs.iter().zip(&model) {
            for key in &keys {
                let variable = format!("CDL_MATRIX_{}", key.to_uppercase());
                prop_assert_eq!(
                    job.env.get(&variable).map(String::as_str),
                    Some(combination.get(*key).map_or("", String::as_str))
                );
            }
        }
    }

    /// Hostile values never give two instances one id, and every export keeps one distinct,
    /// valid job name per instance.
    #[test]
    fn hostile_values_give_unique_ids_and_job_names(
        values in proptest::collection::btree_set("[a-z ,=\\[\\]\"\\\\$#:{}.\\-]{0,6}", 2..6),
        second in proptest::collection::btree_set("[a-z,= \\]]{1,3}", 1..3),
    ) {
        let list = |set: &std::collections::BTreeSet<String>| set.iter().map(|v| quoted(v)).collect::<Vec<_>>().join(", ");
        let text = format!(
            "pipeline p {{\n  stage s {{\n    job j {{\n      run = \"true\"\n      matrix {{\n        v = [{}]\n        w = [{}]\n      }}\n    }}\n  }}\n}}\n",
            list(&values), list(&second)
        );
        let compilation = compile_text("hostile.cdl", None, text.clone());
        prop_assert!(!compilation.has_errors(), "{}", text);
        let plan = cdl::plan::build(&compilation).unwrap();
        let ids: HashSet<&str> = plan.jobs.iter().map(|j| j.id.as_str()).collect();
        prop_assert_eq!(ids.len(), values.len() * second.len());
        for target in [Target::Github, Target::Gitlab] {
            let export = target.exporter().export(&plan);
            let names = job_keys(target, &export.files[0].content);
            let distinct: HashSet<&String> = names.iter().collect();
            prop_assert_eq!(distinct.len(), names.len(), "{}", export.files[0].content);
            for name in &names {
                prop_assert!(valid_job_name(target, name), "{:?} on {}", name, target.name());
            }
        }
        for target in Target::ALL {
            let export = target.exporter().export(&plan);
            prop_assert!(!export.files.is_empty());
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    /// A `when` reading `matrix.KEY`, folded per instance, holds on a run exactly when the
    /// condition read with the instance's values (a key it lacks as `""`) holds.
    #[test]
    fn conditions_on_matrix_keys_hold_per_instance(
        (axes, excludes, includes) in matrix_parts(),
        key in proptest::sample::select(&["a", "b", "c", "d", "e"][..]),
        value in proptest::sample::select(&["x", "y", ""][..]),
        equal in any::<bool>(),
        conjunction in any::<bool>(),
        negate in any::<bool>(),
    ) {
        prop_assume!(!axes.is_empty() || !includes.is_empty());
        let model = github_model(&axes, &excludes, &includes);
        prop_assume!(model.iter().any(|c| c.contains_key(key)));
        let op = if equal { "==" } else { "!=" };
        let join = if conjunction { "&&" } else { "||" };
        let bang = if negate { "!" } else { "" };
        let when = format!("{bang}(matrix.{key} {op} {value:?}) {join} branch == \"main\"");
        let text = source(&axes, &excludes, &includes)
            .replacen("run = \"true\"", &format!("run = \"true\"\n      when = {when}"), 1);
        let compilation = compile_text("matrix.cdl", None, text.clone());
        prop_assume!(!compilation.has_errors());
        let plan = cdl::plan::build(&compilation).expect("a clean matrix plans");
        prop_assert_eq!(plan.jobs.len(), model.len());
        for (job, combination) in plan.jobs.iter().zip(&model) {
            let actual = combination.get(key).map_or("", String::as_str);
            let compared = (actual == value) == equal;
            let atom = if negate { !compared } else { compared };
            for branch in ["main", "dev"] {
                let on_main = branch == "main";
                let want = if conjunction { atom && on_main } else { atom || on_main };
                let context = cdl::model::RunContext {
                    branch: Some(branch.to_string()),
                    tag: None,
                    event: "push".into(),
                    ..Default::default()
                };
                let got = job.condition.as_ref().is_none_or(|c| c.evaluate(&context));
                prop_assert_eq!(got, want, "{} on {}: {:?}", text, branch, job.condition);
            }
        }
    }
}

/// The job keys of a GitHub workflow (under `jobs:`) or a GitLab pipeline (top-level keys that
/// are not GitLab's own).
fn job_keys(target: Target, content: &str) -> Vec<String> {
    let mut keys = Vec::new();
    let mut in_jobs = false;
    for line in content.lines() {
        match target {
            Target::Github => {
                if line == "jobs:" {
                    in_jobs = true;
                } else if in_jobs && line.starts_with("  ") && !line.starts_with("   ") {
                    keys.push(line.trim().trim_end_matches(':').to_string());
                } else if !line.starts_with(' ') && !line.is_empty() {
                    in_jobs = false;
                }
            }
            _ => {
                if !line.starts_with(' ')
                    && !line.starts_with('#')
                    && line.ends_with(':')
                    && !matches!(line, "stages:" | "variables:" | "workflow:" | "default:")
                    && !line.starts_with('.')
                {
                    keys.push(line.trim_end_matches(':').to_string());
                }
            }
        }
    }
    keys
}

/// GitHub: `^[A-Za-z_][A-Za-z0-9_-]*$`, under 100 characters; GitLab: a plain or quoted YAML
/// key, not empty.
fn valid_job_name(target: Target, name: &str) -> bool {
    match target {
        Target::Github => {
            let mut chars = name.chars();
            name.len() < 100
                && chars
                    .next()
                    .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        }
        _ => !name.is_empty(),
    }
}

/// A matrix of includes only names its instances by every value: ripgrep's release (15 targets,
/// five keys each) gives ids GitHub refuses (100 characters or more) unless the export cuts them,
/// and the cut ones stay distinct.
#[test]
fn long_instance_ids_give_distinct_github_job_ids_under_100_characters() {
    let includes: String = (0..15)
        .map(|i| {
            format!(
                "include {{ build = \"stable-arm-musleabihf-{i}\"  os = \"ubuntu-latest\"  target = \"armv7-unknown-linux-musleabihf\"  strip = \"arm-linux-musleabihf-strip\" }}\n"
            )
        })
        .collect();
    let text = format!(
        "pipeline p {{ stage s {{ artifact archive {{ runner = matrix.os  matrix {{ {includes} }}  run = \"true\"  outputs = [\"dist/**\"] }} }} }}"
    );
    let compilation = compile_text("long.cdl", None, text);
    assert!(!compilation.has_errors());
    let plan = cdl::plan::build(&compilation).unwrap();
    let export = Target::Github.exporter().export(&plan);
    let names = job_keys(Target::Github, &export.files[0].content);
    let archives: HashSet<&String> = names.iter().filter(|n| n.starts_with("archive")).collect();
    assert_eq!(archives.len(), 15, "{names:?}");
    for name in &names {
        assert!(valid_job_name(Target::Github, name), "{name}");
    }
}

/// `runner`/`image`/`timeout = matrix.KEY` in a template is checked against the matrix of each
/// job that merges it (v2 §7 with §3): planned per instance there, E0218 in a job without the
/// key, E0304 for a matrix value that is no duration.
#[test]
fn a_templates_matrix_valued_attributes_are_read_in_the_jobs_that_merge_it() {
    let ok = compile_text(
        "t.cdl",
        None,
        r#"template per_os { runner = matrix.os  timeout = matrix.limit }
        pipeline p {
          stage s {
            test unit from per_os {
              matrix { include { os = "ubuntu-latest"  limit = "10m" }  include { os = "macos-14"  limit = "1h" } }
              run = "true"
            }
          }
        }"#
        .to_string(),
    );
    let errors: Vec<&str> = ok
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .map(|d| d.code.as_str())
        .collect();
    assert!(errors.is_empty(), "{errors:?}");
    let plan = cdl::plan::build(&ok).unwrap();
    let runners: Vec<Option<&str>> = plan.jobs.iter().map(|j| j.runner.as_deref()).collect();
    assert_eq!(runners, [Some("ubuntu-latest"), Some("macos-14")]);

    let wrong = compile_text(
        "t.cdl",
        None,
        r#"template per_os { runner = matrix.os }
        template slow { timeout = matrix.limit }
        pipeline p {
          stage s {
            job plain from per_os { run = "true" }
            job timed from slow { matrix { limit = ["soon"] }  run = "true" }
          }
        }"#
        .to_string(),
    );
    let codes: Vec<&str> = wrong
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .map(|d| d.code.as_str())
        .collect();
    assert!(codes.contains(&"E0218"), "{codes:?}");
    assert!(codes.contains(&"E0304"), "{codes:?}");
    assert!(!codes.contains(&"E0300"), "{codes:?}");
}
