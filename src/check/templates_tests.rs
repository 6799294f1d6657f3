//! The merge rules of templates: order, later wins, no duplicates — by example and against a
//! model of the rules on random chains of templates.

use proptest::prelude::*;

use crate::check::model::Job;
use crate::compile::{Compilation, compile_text};

fn compile(text: &str) -> Compilation {
    compile_text("t.cdl", None, text.to_string())
}

fn job<'a>(compilation: &'a Compilation, name: &str) -> &'a Job {
    let pipeline = compilation
        .checked
        .as_ref()
        .and_then(|c| c.pipeline.as_ref())
        .expect("a checked pipeline");
    pipeline
        .jobs
        .iter()
        .find(|j| j.name == name)
        .unwrap_or_else(|| panic!("no job `{name}`"))
}

fn codes(compilation: &Compilation) -> Vec<&'static str> {
    compilation
        .diagnostics
        .iter()
        .map(|d| d.code.as_str())
        .collect()
}

const SECRETS: &str = "secret A\n  secret B\n  secret C\n  secret D\n";

#[test]
fn later_templates_win_and_the_job_wins_over_all() {
    let c = compile(
        r#"template a { timeout = 10m  runner = "a"  image = "a" }
template b { timeout = 20m  runner = "b" }
pipeline p {
  stage s { job j from a, b { runner = "j"  run = "x" } }
}"#,
    );
    assert!(codes(&c).is_empty(), "{:?}", c.diagnostics);
    let j = job(&c, "j");
    assert_eq!(j.timeout, Some(1200));
    assert_eq!(j.runner.as_deref(), Some("j"));
    assert_eq!(j.image.as_deref(), Some("a"));
}

#[test]
fn lists_concatenate_in_order_without_duplicates() {
    let c = compile(&format!(
        r#"template a {{ secrets = [B, A] }}
template b from a {{ secrets = [C, A] }}
pipeline p {{
  {SECRETS}
  stage s {{ job j from b {{ secrets = [D, B]  run = "x" }} }}
}}"#
    ));
    let names: Vec<&str> = job(&c, "j")
        .secrets
        .iter()
        .map(|s| s.name.as_str())
        .collect();
    assert_eq!(names, ["B", "A", "C", "D"]);
}

#[test]
fn env_merges_by_key_and_steps_go_templates_first_a_same_named_one_replacing() {
    let c = compile(
        r#"template a {
  env { X = "a"; Y = "a" }
  step setup { run = "a-setup" }
  step lint { run = "a-lint" }
}
template b {
  env { Y = "b"; Z = "b" }
  step setup { run = "b-setup" }
}
pipeline p {
  stage s {
    job j from a, b {
      env { Z = "j" }
      step lint { run = "j-lint" }
      step build { run = "j-build" }
      run = "j-run"
    }
  }
}"#,
    );
    assert!(codes(&c).is_empty(), "{:?}", c.diagnostics);
    let j = job(&c, "j");
    let env: Vec<(&str, &str)> = j
        .env
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    assert_eq!(env, [("X", "a"), ("Y", "b"), ("Z", "j")]);
    let steps: Vec<(&str, &str)> = j
        .steps
        .iter()
        .map(|s| (s.name.as_str(), s.run.as_str()))
        .collect();
    assert_eq!(
        steps,
        [
            ("setup", "b-setup"),
            ("lint", "j-lint"),
            ("build", "j-build")
        ]
    );
    assert_eq!(j.run, ["j-run"]);
}

#[test]
fn a_template_is_below_the_job_and_above_the_kind_default() {
    let c = compile(
        r#"template slow { timeout = 45m }
pipeline p {
  stage s {
    test unit from slow { run = "x" }
    test unit u2 { run = "y" }
    test unit u3 from slow { run = "z"  timeout = 5m }
  }
}"#,
    );
    assert!(codes(&c).is_empty(), "{:?}", c.diagnostics);
    let plan = crate::plan::build(&c).expect("a plan");
    let timeouts: Vec<Option<u64>> = plan.jobs.iter().map(|j| j.timeout_seconds).collect();
    assert_eq!(timeouts, [Some(2700), Some(900), Some(300)]);
}

#[test]
fn names_in_a_template_are_resolved_in_the_job_s_pipeline() {
    let c = compile(
        r#"template after_lint { after = [lint]  secrets = [TOKEN] }
pipeline p {
  secret TOKEN
  stage s {
    job lint { run = "l" }
    job a from after_lint { run = "a" }
    job b from after_lint { run = "b" }
  }
}"#,
    );
    assert!(codes(&c).is_empty(), "{:?}", c.diagnostics);
    let c = compile(
        r#"template after_lint { after = [lint] }
pipeline p {
  stage s {
    job a from after_lint { run = "a" }
    job b from after_lint { run = "b" }
  }
}"#,
    );
    // Reported once, at the template, though two jobs merge it.
    assert_eq!(codes(&c), ["E0200"]);
}

#[test]
fn a_cycle_an_unknown_name_and_a_misplaced_attribute_are_errors_without_a_panic() {
    let c = compile(
        r#"template a from c { timeout = 1m }
template b from a { retries = 1 }
template c from b { image = "x" }
pipeline p { stage s { job j from c, nope { run = "x" } } }"#,
    );
    let found = codes(&c);
    assert!(found.contains(&"E0215"), "{found:?}");
    assert!(found.contains(&"E0214"), "{found:?}");
    assert_eq!(found.iter().filter(|c| **c == "E0215").count(), 1);
    let c = compile(
        r#"template g { approvers = ["al"]  step s { run = "x" } }
pipeline p { stage s { job j from g { run = "x" }  gate k from g {} } }"#,
    );
    let found = codes(&c);
    assert_eq!(
        found.iter().filter(|c| **c == "E0314").count(),
        2,
        "{found:?}"
    );
}

#[test]
fn a_template_of_a_bad_value_is_reported_once_and_jobs_still_check() {
    let c = compile(
        r#"template t { timeout = "soon"  retries = 1 }
pipeline p { stage s { job a from t { run = "a" } job b from t { run = "b" } } }"#,
    );
    assert_eq!(codes(&c), ["E0300"]);
    assert_eq!(job(&c, "a").retries, Some(1));
}

#[test]
fn origins_say_which_template_set_what() {
    let c = compile(
        r#"template base { timeout = 1m  env { A = "1" } }
template top from base { env { B = "2" } step s { run = "x" } }
pipeline p { stage s { job j from top { run = "x"  timeout = 2m } } }"#,
    );
    let templates = &c.checked.as_ref().unwrap().templates;
    let from = |item: &str| -> Vec<String> {
        templates
            .origin("j", item)
            .iter()
            .map(|o| o.template.clone())
            .collect()
    };
    assert_eq!(from("env A"), ["base"]);
    assert_eq!(from("env B"), ["top"]);
    assert_eq!(from("step s"), ["top"]);
    assert!(from("timeout").is_empty(), "the job's own timeout wins");
    // A list both set: each template's part, at what that template wrote.
    let c = compile(
        r#"template a { secrets = [T] }
pipeline p { secret T secret U stage s { job j from a { run = "x"  secrets = [U] } } }"#,
    );
    let templates = &c.checked.as_ref().unwrap().templates;
    let origins = templates.origin("j", "secrets");
    assert_eq!(origins.len(), 1);
    let written = c.sources.get(origins[0].span.file).slice(origins[0].span);
    assert_eq!(written.trim_end(), "secrets = [T]");
}

// ---- the rules against a model, on random chains of templates

/// What one template or the job sets.
#[derive(Debug, Clone)]
struct Sets {
    timeout: Option<u64>,
    secrets: Option<Vec<usize>>,
    env: Vec<(usize, u8)>,
    steps: Vec<(usize, u8)>,
}

fn sets() -> impl Strategy<Value = Sets> {
    (
        proptest::option::of(1u64..5),
        proptest::option::of(proptest::collection::btree_set(0usize..4, 1..4)),
        proptest::collection::btree_map(0usize..4, 0u8..9, 0..3),
        proptest::collection::btree_map(0usize..4, 0u8..9, 0..3),
    )
        .prop_map(|(timeout, secrets, env, steps)| Sets {
            timeout,
            // Shuffled by the rotation below, so that order is tested too.
            secrets: secrets.map(|set| {
                let mut list: Vec<usize> = set.into_iter().collect();
                let by = list.len() / 2;
                list.rotate_left(by);
                list
            }),
            env: env.into_iter().collect(),
            steps: steps.into_iter().collect(),
        })
}

fn body(s: &Sets) -> String {
    let mut out = String::new();
    if let Some(t) = s.timeout {
        out.push_str(&format!("  timeout = {t}m\n"));
    }
    if let Some(secrets) = &s.secrets {
        let names: Vec<String> = secrets.iter().map(|i| format!("S{i}")).collect();
        out.push_str(&format!("  secrets = [{}]\n", names.join(", ")));
    }
    if !s.env.is_empty() {
        let vars: Vec<String> = s
            .env
            .iter()
            .map(|(k, v)| format!("E{k} = \"{v}\""))
            .collect();
        out.push_str(&format!("  env {{ {} }}\n", vars.join("; ")));
    }
    for (name, run) in &s.steps {
        out.push_str(&format!("  step s{name} {{ run = \"{run}\" }}\n"));
    }
    out
}

/// The model: the merged values, by the rules of the design.
#[derive(Debug, Default, Clone, PartialEq)]
struct Merged {
    timeout: Option<u64>,
    secrets: Vec<usize>,
    env: Vec<(usize, u8)>,
    steps: Vec<(usize, u8)>,
}

fn apply(into: &mut Merged, s: &Sets) {
    if s.timeout.is_some() {
        into.timeout = s.timeout;
    }
    for secret in s.secrets.iter().flatten() {
        if !into.secrets.contains(secret) {
            into.secrets.push(*secret);
        }
    }
    for (list, new) in [(&mut into.env, &s.env), (&mut into.steps, &s.steps)] {
        for (k, v) in new {
            match list.iter_mut().find(|(key, _)| key == k) {
                Some(slot) => slot.1 = *v,
                None => list.push((*k, *v)),
            }
        }
    }
}

fn join(into: &mut Merged, other: &Merged) {
    let as_sets = Sets {
        timeout: other.timeout,
        secrets: Some(other.secrets.clone()),
        env: other.env.clone(),
        steps: other.steps.clone(),
    };
    apply(into, &as_sets);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn merging_follows_the_model(
        templates in proptest::collection::vec((sets(), proptest::collection::vec(any::<prop::sample::Index>(), 0..3)), 1..5),
        job_from in proptest::collection::vec(any::<prop::sample::Index>(), 1..4),
        own in sets(),
    ) {
        // Template i may take from templates before it only: no cycles.
        let mut text = String::new();
        let mut models: Vec<Merged> = Vec::new();
        for (i, (s, parents)) in templates.iter().enumerate() {
            let parents: Vec<usize> = if i == 0 { Vec::new() } else { parents.iter().map(|p| p.index(i)).collect() };
            let mut model = Merged::default();
            for p in &parents {
                join(&mut model, &models[*p].clone());
            }
            apply(&mut model, s);
            models.push(model);
            let from = if parents.is_empty() { String::new() } else {
                format!(" from {}", parents.iter().map(|p| format!("t{p}")).collect::<Vec<_>>().join(", "))
            };
            text.push_str(&format!("template t{i}{from} {{\n{}}}\n", body(s)));
        }
        let from: Vec<usize> = job_from.iter().map(|i| i.index(templates.len())).collect();
        let mut expected = Merged::default();
        for t in &from {
            join(&mut expected, &models[*t]);
        }
        apply(&mut expected, &own);
        text.push_str(&format!(
            "pipeline p {{\n  secret S0\n  secret S1\n  secret S2\n  secret S3\n  stage s {{\n    job j from {} {{\n{}  run = \"x\"\n}}\n    job other from {} {{ run = \"y\" }}\n  }}\n}}\n",
            from.iter().map(|t| format!("t{t}")).collect::<Vec<_>>().join(", "),
            body(&own),
            (0..templates.len()).map(|t| format!("t{t}")).collect::<Vec<_>>().join(", "),
        ));
        let c = compile(&text);
        let errors: Vec<_> = c.diagnostics.iter().filter(|d| d.is_error()).collect();
        prop_assert!(errors.is_empty(), "{text}\n{errors:?}");
        let j = job(&c, "j");
        let got = Merged {
            timeout: j.timeout.map(|t| t / 60),
            secrets: j.secrets.iter().map(|s| s.name[1..].parse().unwrap()).collect(),
            env: j.env.iter().map(|(k, v)| (k[1..].parse().unwrap(), v.parse().unwrap())).collect(),
            steps: j.steps.iter().map(|s| (s.name[1..].parse().unwrap(), s.run.parse().unwrap())).collect(),
        };
        prop_assert_eq!(got, expected, "{}", text);
    }
}
