//! Target-native steps (language v2 §5) in the exports: which steps of a job a target runs
//! in its own way (an action, an orb command, a plugin), the portable segments between them
//! that the step runner (`steps.rs`) keeps cdl's rules in, the W0200 of a step no form of
//! which reaches a target, and the one function per target that writes a `with` value.

use super::Lossy;
use crate::model::native::WithValue;
use crate::plan::{Job, Part as ValuePart, Reference, Step};

/// A run of a job's steps: portable steps the step runner runs in one target step, or one
/// step the target runs natively.
#[derive(Debug)]
pub enum Part {
    Portable(Vec<Step>),
    Native(Box<Step>),
}

/// The W0200 of a step that has native forms, none for this target, and no `run`.
fn no_fallback(job: &Job, step: &Step) -> Lossy {
    Lossy::at(
        job,
        format!(
            "the step `{}` of `{}` has no form for this target and no `run`",
            step.name, job.id
        ),
        "the step is left out of the job; add `run = \"…\"` to the step for the targets without a native form",
    )
}

/// The W0200 of a step with a native form for this target and a `when`, which only the step
/// runner tests: the step's `run` is used instead (or nothing, when it has none).
fn conditional_native(job: &Job, step: &Step) -> Lossy {
    Lossy::at(
        job,
        format!(
            "the step `{}` of `{}` has a `when`, which cdl tests in its step runner, not in this target's native step",
            step.name, job.id
        ),
        "its native form is not used here: the runner tests the condition and runs the step's `run`",
    )
}

/// v2 §2: a step whose `env` holds composed values runs in the step runner, which computes them.
fn composed_native(job: &Job, step: &Step) -> Lossy {
    Lossy::at(
        job,
        format!(
            "the step `{}` of `{}` has composed `env` values, which cdl computes in its step runner, not in this target's native step",
            step.name, job.id
        ),
        "its native form is not used here: the runner computes the values and runs the step's `run`",
    )
}

/// The job's steps a target without native forms runs (each with its `run`), and the W0200
/// of each step left out.
pub fn portable(job: &Job) -> (Vec<Step>, Vec<Lossy>) {
    let mut lossy = Vec::new();
    let steps = job
        .all_steps()
        .into_iter()
        .filter(|step| {
            let keep = step.fallback().is_some();
            if !keep {
                lossy.push(no_fallback(job, step));
            }
            keep
        })
        .collect();
    (steps, lossy)
}

/// The job's steps as parts: `native` says whether the target runs a step in its own way,
/// `tests_when` whether it can test a step's `when` around its native step (GitHub: a step
/// that evaluates it, and an `if:`). Steps that have neither form are left out with a W0200.
pub fn parts(
    job: &Job,
    native: impl Fn(&Step) -> bool,
    tests_when: bool,
) -> (Vec<Part>, Vec<Lossy>) {
    let mut parts: Vec<Part> = Vec::new();
    let mut lossy = Vec::new();
    for step in job.all_steps() {
        // A step condition is tested by the step runner (export/steps.rs); a target that
        // cannot test it around its own step runs the step's `run` there, and its native
        // form is reported unused.
        let conditional = step.when.is_some() && !tests_when;
        if native(&step) && conditional {
            lossy.push(conditional_native(job, &step));
        } else if native(&step) && !step.env_values.is_empty() {
            lossy.push(composed_native(job, &step));
        }
        if native(&step) && !conditional && step.env_values.is_empty() {
            parts.push(Part::Native(Box::new(step)));
        } else if step.fallback().is_none() {
            lossy.push(no_fallback(job, &step));
        } else if let Some(Part::Portable(run)) = parts.last_mut() {
            run.push(step);
        } else {
            parts.push(Part::Portable(vec![step]));
        }
    }
    (parts, lossy)
}

/// A `with` value in a GitHub `with:` map, which GitHub evaluates: literal text written so
/// that it evaluates to itself (`github/expressions.rs`), each reference as the expression
/// `reference` gives (`${{ secrets.TOKEN }}`, `${{ needs.meta.outputs.version }}` …).
pub fn github_with(value: &WithValue, reference: &dyn Fn(&Reference) -> String) -> String {
    match value {
        WithValue::Literal(text) => super::github::literal_text(text),
        WithValue::Value(parts) => merged(parts)
            .iter()
            .map(|part| match part {
                ValuePart::Text(text) => super::github::literal_text(text),
                ValuePart::Ref(r) => reference(r),
            })
            .collect(),
    }
}

/// `parts` with each run of adjacent texts joined into one: escaping texts one by one would let
/// two of them meet into the target's syntax (`"$" + "{{"` is GitHub's `${{`, `"<" + "<"`
/// CircleCI's `<<`).
fn merged(parts: &[ValuePart]) -> Vec<ValuePart> {
    let mut out: Vec<ValuePart> = Vec::new();
    for part in parts {
        match (out.last_mut(), part) {
            (Some(ValuePart::Text(last)), ValuePart::Text(text)) => last.push_str(text),
            _ => out.push(part.clone()),
        }
    }
    out
}

/// A `with` value as an orb command's parameter: `<<` escaped (`circleci/parameters.rs`),
/// `sha` and `tag` as the pipeline values the job's `CDL_SHA` and `CDL_TAG` come from
/// (`CIRCLE_SHA1` is `pipeline.git.revision`, `CIRCLE_TAG` is `pipeline.git.tag`, empty
/// without a tag). `None` for a value that reads any other reference, which a parameter,
/// fixed before the job runs, cannot compute ([`unexpressed`] reports it).
pub fn circleci_with(value: &WithValue) -> Option<String> {
    match value {
        WithValue::Literal(text) => Some(super::circleci::literal_text(text)),
        WithValue::Value(parts) => {
            let parts = merged(parts);
            // A text ending in `<` before a pipeline value would meet its `<<`.
            let meets = parts.windows(2).any(|w| {
                matches!(&w[0], ValuePart::Text(t) if t.ends_with('<'))
                    && matches!(w[1], ValuePart::Ref(_))
            });
            if meets {
                return None;
            }
            parts
                .iter()
                .map(|part| match part {
                    ValuePart::Text(text) => Some(super::circleci::literal_text(text)),
                    ValuePart::Ref(Reference::Sha) => Some("<< pipeline.git.revision >>".into()),
                    ValuePart::Ref(Reference::Tag) => Some("<< pipeline.git.tag >>".into()),
                    ValuePart::Ref(_) => None,
                })
                .collect()
        }
    }
}

/// A `with` value in a plugin's settings, as text: `buildkite.rs` spells it for the upload's
/// interpolation with every other string of the pipeline (`$` doubled); `None` when no spelling
/// brings it through exactly (`buildkite/interpolation.rs`), which the caller reports. A value
/// that reads a reference is not a setting ([`expressible`] leaves such a step out).
pub fn buildkite_with(value: &WithValue) -> Option<String> {
    match value {
        WithValue::Literal(text) => super::buildkite::literal_text(text).map(|_| text.clone()),
        WithValue::Value(_) => None,
    }
}

/// Whether every `with` value of a plugin is literal: Buildkite's plugin settings are fixed
/// when the pipeline is uploaded, before the job's run context, secrets and values exist.
pub fn expressible(with: &crate::model::native::With) -> bool {
    with.values().all(|v| matches!(v, WithValue::Literal(_)))
}

/// Whether CircleCI can write every `with` value of an orb command ([`circleci_with`]).
pub fn circleci_expressible(with: &crate::model::native::With) -> bool {
    with.values().all(|v| circleci_with(v).is_some())
}

/// The W0200 of each native step of `job` for `target` (`circleci`, `buildkite`) that is not
/// used because a `with` value reads a reference the target cannot put there.
pub fn unexpressed(job: &Job, target: &str) -> Vec<Lossy> {
    let why = match target {
        "circleci" => {
            "CircleCI's orb parameters are fixed before the job runs and read only `sha` and `tag` (as pipeline values)"
        }
        _ => {
            "Buildkite's plugin settings are fixed when the pipeline is uploaded, before the job runs, and read no reference"
        }
    };
    let mut lossy = Vec::new();
    for step in &job.step_blocks {
        let with = match target {
            "circleci" => step.native.circleci.as_ref().map(|f| &f.with),
            _ => step.native.buildkite.as_ref().map(|f| &f.with),
        };
        let Some(with) = with else { continue };
        let read: Vec<String> = with
            .iter()
            .filter_map(|(name, value)| match value {
                WithValue::Value(parts)
                    if target != "circleci" || circleci_with(value).is_none() =>
                {
                    Some(format!("`{name} = {}`", super::value::written(parts)))
                }
                _ => None,
            })
            .collect();
        if read.is_empty() {
            continue;
        }
        lossy.push(Lossy::at(
            job,
            format!(
                "the step `{}` of `{}` sets {}: {why}",
                step.name,
                job.id,
                read.join(", ")
            ),
            if step.fallback().is_some() {
                "the native form is not used here: the step's `run` runs in its place"
            } else {
                "the native form is not used here, and the step, which has no `run`, is left out"
            },
        ));
    }
    lossy
}

/// The step a Buildkite job runs as a plugin: the job's only step, when it has a
/// `buildkite { }` form (plugins apply to a whole command step).
pub fn buildkite_only(job: &Job) -> Option<Step> {
    let mut steps = job.all_steps();
    (steps.len() == 1
        && steps[0]
            .native
            .buildkite
            .as_ref()
            .is_some_and(|p| expressible(&p.with))
        && steps[0].when.is_none()
        && steps[0].env_values.is_empty())
    .then(|| steps.remove(0))
}

/// Where a runner part passes what its steps wrote to `$CDL_ENV` and `$CDL_PATH` on to the
/// later steps of the target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Carry {
    /// `$GITHUB_ENV` and `$GITHUB_PATH`.
    Github,
    /// `export` lines in `$BASH_ENV`, which CircleCI's steps source.
    Circleci,
}

/// The first step of a runner part: the values earlier parts wrote (`$CDL_VALUES_AT`) are put
/// back in `$CDL_VALUES`, and the step fails when an earlier part did (`CDL_PRIOR_STATUS`), so
/// that the part runs only its `runs = always|on_failure` steps then.
const PROLOGUE: &str = r#"if [ -n "${CDL_VALUES_AT:-}" ] && [ -f "$CDL_VALUES_AT" ]; then cat "$CDL_VALUES_AT" >> "$CDL_VALUES"; fi
exit "${CDL_PRIOR_STATUS:-0}"
"#;

/// The last step of a GitHub runner part: the `NAME=VALUE` lines of `$CDL_ENV` to
/// `$GITHUB_ENV`, the folders of `$CDL_PATH` to `$GITHUB_PATH` (both put the last written
/// first, as cdl does), and `$CDL_VALUES` kept for the next part.
const EPILOGUE_GITHUB: &str = r#"if [ -n "${CDL_VALUES_AT:-}" ]; then cp "$CDL_VALUES" "$CDL_VALUES_AT"; fi
grep -E '^[A-Za-z_][A-Za-z0-9_]*=' "$CDL_ENV" >> "$GITHUB_ENV" || true
grep -v '^$' "$CDL_PATH" >> "$GITHUB_PATH" || true
"#;

/// The last step of a CircleCI runner part: `$CDL_ENV` and `$CDL_PATH` as `export` lines in
/// `$BASH_ENV` (each value single-quoted), and `$CDL_VALUES` kept for the next part.
const EPILOGUE_CIRCLECI: &str = r#"if [ -n "${CDL_VALUES_AT:-}" ]; then cp "$CDL_VALUES" "$CDL_VALUES_AT"; fi
sed -n "/^[A-Za-z_][A-Za-z0-9_]*=/{s/'/'\\\\''/g;s/=/='/;s/^/export /;s/\$/'/;p;}" "$CDL_ENV" >> "$BASH_ENV"
sed -n "/./{s/'/'\\\\''/g;s/^/export PATH='/;s/\$/':\"\$PATH\"/;p;}" "$CDL_PATH" >> "$BASH_ENV"
"#;

fn helper(name: &str, title: &str, script: &str) -> Step {
    Step {
        name: name.into(),
        display_name: Some(title.into()),
        run: script.into(),
        shell: None,
        env: Default::default(),
        secrets: Vec::new(),
        timeout_seconds: None,
        allow_failure: false,
        runs: crate::plan::Runs::Always,
        when: None,
        native: Default::default(),
        env_values: Default::default(),
    }
}

/// The steps the step runner runs for a part between native steps: `run` between a first
/// step that takes up where the earlier parts ended and a last one that passes what the part
/// wrote on to the target's later steps (both `runs = always`).
pub fn part_steps(run: &[Step], carry: Carry) -> Vec<Step> {
    let mut steps = vec![helper(
        "cdl-earlier-parts",
        "cdl: the steps before",
        PROLOGUE,
    )];
    steps.extend(run.iter().cloned());
    steps.push(helper(
        "cdl-pass-on",
        "cdl: pass $CDL_ENV, $CDL_PATH and $CDL_VALUES on",
        match carry {
            Carry::Github => EPILOGUE_GITHUB,
            Carry::Circleci => EPILOGUE_CIRCLECI,
        },
    ));
    steps
}

/// Whether a step has a form for the target.
pub fn has_github(step: &Step) -> bool {
    step.native.github.is_some()
}

/// Whether a step has an orb command CircleCI can run: one whose `with` values are literal.
pub fn has_circleci(step: &Step) -> bool {
    step.native
        .circleci
        .as_ref()
        .is_some_and(|o| circleci_expressible(&o.with))
}

/// Whether any step of the job has a native form.
pub fn any(job: &Job, has: impl Fn(&Step) -> bool) -> bool {
    job.step_blocks.iter().any(has)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::export::github::expressions;
    use proptest::prelude::*;

    fn reference() -> impl Strategy<Value = Reference> {
        prop_oneof![
            Just(Reference::Sha),
            Just(Reference::Branch),
            Just(Reference::Repository),
            Just(Reference::Workspace),
            Just(Reference::Input("note".into())),
            Just(Reference::Var("FLAG".into())),
            Just(Reference::Value {
                job: "meta".into(),
                name: "version".into()
            }),
            Just(Reference::Secret("TOKEN".into())),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// GitHub evaluates a `with` value (by the model of `github/expressions.rs`) to the
        /// value `cdl run` computes when each reference's expression stands for its variable:
        /// whatever the literal parts hold, they stay literal.
        #[test]
        fn a_github_with_value_evaluates_to_its_parts(
            parts in proptest::collection::vec(
                prop_oneof![
                    crate::export::literal::hostile_text().prop_map(ValuePart::Text),
                    reference().prop_map(ValuePart::Ref),
                ],
                1..6,
            ),
        ) {
            // Each reference as a string-literal expression of its variable's name.
            let expression = |r: &Reference| format!("${{{{ '<{}>' }}}}", r.variable());
            let rendered = github_with(&WithValue::Value(parts.clone()), &expression);
            let expected = crate::model::value::compute(&parts, |v| Some(format!("<{v}>")));
            prop_assert_eq!(expressions::evaluate(&rendered), Ok(expected));
        }

        /// A literal `with` value evaluates to itself.
        #[test]
        fn a_github_literal_evaluates_to_itself(text in crate::export::literal::hostile_text()) {
            let rendered = github_with(&WithValue::Literal(text.clone()), &|_| unreachable!());
            prop_assert_eq!(expressions::evaluate(&rendered), Ok(text));
        }
    }

    #[test]
    fn orb_parameters_read_sha_and_tag_as_pipeline_values() {
        let value = WithValue::Value(vec![
            ValuePart::Text("<< x >>:".into()),
            ValuePart::Ref(Reference::Sha),
            ValuePart::Text("-".into()),
            ValuePart::Ref(Reference::Tag),
        ]);
        assert_eq!(
            circleci_with(&value).as_deref(),
            Some("\\<< x >>:<< pipeline.git.revision >>-<< pipeline.git.tag >>")
        );
        let branch = WithValue::Value(vec![ValuePart::Ref(Reference::Branch)]);
        assert_eq!(circleci_with(&branch), None);
    }

    /// Texts that meet into the target's syntax once written side by side (found by the
    /// property test above: `"$" + "{{"`).
    #[test]
    fn adjacent_texts_are_escaped_as_one() {
        let text = |t: &str| ValuePart::Text(t.into());
        let dollar = WithValue::Value(vec![text("$"), text("{{"), text(" x }}")]);
        assert_eq!(
            expressions::evaluate(&github_with(&dollar, &|_| unreachable!())),
            Ok("${{ x }}".to_string())
        );
        let angle = WithValue::Value(vec![text("<"), text("< x >>")]);
        assert_eq!(circleci_with(&angle).as_deref(), Some("\\<< x >>"));
        let before_value = WithValue::Value(vec![text("a<"), ValuePart::Ref(Reference::Sha)]);
        assert_eq!(circleci_with(&before_value), None);
    }

    #[test]
    fn orb_parameters_and_plugin_settings_take_literals_only() {
        let secret = WithValue::Value(vec![ValuePart::Ref(Reference::Secret("T".into()))]);
        assert_eq!(circleci_with(&secret), None);
        assert_eq!(buildkite_with(&secret), None);
        let with = crate::model::native::With::from([
            ("a".to_string(), WithValue::Literal("x".into())),
            ("b".to_string(), secret),
        ]);
        assert!(!expressible(&with));
        assert!(expressible(&crate::model::native::With::from([(
            "a".to_string(),
            WithValue::Literal("<< x >>".into())
        )])));
    }
}
