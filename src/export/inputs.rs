//! Inputs and vars on a target that cannot give them at run time (v2 §2, i13d): every input
//! (and, where the system keeps no settings, every var) is its default. The plan is rewritten
//! before the target sees it: each job gets `CDL_INPUT_<NAME>` (and the vars) as literal
//! variables, and each condition's comparison of one is decided with the default, exactly as
//! `cdl run` decides it when the run gives no value. Each such input or var is a W0200.

use std::borrow::Cow;
use std::collections::BTreeMap;

use super::Lossy;
use crate::model::inputs::input_variable;
use crate::plan::{Condition, Plan, RunContext, Variable};

/// Which of them the target cannot give at run time.
#[derive(Debug, Clone, Copy)]
pub struct Fixed {
    pub inputs: bool,
    pub vars: bool,
    /// `defined(secret.X)` cannot be evaluated: taken as set.
    pub secrets: bool,
    /// No default branch: `branch == default_branch` is `branch == "main"`.
    pub default_branch: bool,
}

#[cfg(test)]
impl Fixed {
    pub const INPUTS: Fixed = Fixed {
        inputs: true,
        vars: false,
        secrets: false,
        default_branch: false,
    };
}

/// `plan` with the inputs and/or vars fixed to their defaults, and the losses to report.
pub fn fixed<'p>(plan: &'p Plan, system: &str, which: Fixed) -> (Cow<'p, Plan>, Vec<Lossy>) {
    let inputs = which.inputs && !plan.inputs.is_empty();
    let vars = which.vars && !plan.vars.is_empty();
    let reads = |test: &dyn Fn(&Variable) -> bool| {
        plan.jobs
            .iter()
            .any(|j| j.condition.as_ref().is_some_and(|c| reads(c, test)))
    };
    let secrets = which.secrets && reads(&|v| matches!(v, Variable::Secret(_)));
    let default_branch = which.default_branch && reads(&|v| *v == Variable::OnDefaultBranch);
    if !inputs && !vars && !secrets && !default_branch {
        return (Cow::Borrowed(plan), Vec::new());
    }
    let mut lossy = Vec::new();
    let mut values: BTreeMap<String, String> = BTreeMap::new();
    let mut context = RunContext::default();
    if inputs {
        for input in &plan.inputs {
            let value = input.default.clone().unwrap_or_default();
            context.inputs.insert(input.name.clone(), value.clone());
            values.insert(input_variable(&input.name), value);
        }
        let names: Vec<&str> = plan.inputs.iter().map(|i| i.name.as_str()).collect();
        lossy.push(Lossy::pipeline(
            format!(
                "{system} cannot start a run with the inputs {} given",
                names.join(", ")
            ),
            "every job gets each input's default, and conditions compare the default (as `cdl run` without `--input`)",
        ));
    }
    if vars {
        for var in &plan.vars {
            if let Some(default) = &var.default {
                context.vars.insert(var.name.clone(), default.clone());
                values.insert(var.name.clone(), default.clone());
            }
        }
        let names: Vec<&str> = plan.vars.iter().map(|v| v.name.as_str()).collect();
        lossy.push(Lossy::pipeline(
            format!(
                "{system} keeps no settings that the vars {} could be read from",
                names.join(", ")
            ),
            "every job gets each var's default (unset without one), and conditions compare it",
        ));
    }
    if secrets {
        lossy.push(Lossy::pipeline(
            format!("{system} cannot tell whether a secret is set when it decides what runs"),
            "`defined(secret.NAME)` is taken to hold",
        ));
        context.secrets = plan.secrets.iter().cloned().collect();
    }
    if default_branch {
        lossy.push(Lossy::pipeline(
            format!("{system} has no default branch for `branch == default_branch`"),
            "it compares with `main`; set `default_branch = \"…\"` on the pipeline to give every target the same value",
        ));
    }
    let which = Fixed {
        inputs,
        vars,
        secrets,
        default_branch,
    };
    let mut plan = plan.clone();
    for job in &mut plan.jobs {
        // An empty value is left unset (`$NAME` reads the same; Jenkins drops empty ones).
        for (name, value) in values.iter().filter(|(_, v)| !v.is_empty()) {
            job.env.entry(name.clone()).or_insert_with(|| value.clone());
        }
        if let Some(condition) = job.condition.take() {
            job.condition = Some(decide(condition, &context, which));
        }
    }
    (Cow::Owned(plan), lossy)
}

/// The condition with each comparison of a fixed input or var replaced by its value.
fn decide(condition: Condition, context: &RunContext, which: Fixed) -> Condition {
    let again = |c: Condition| decide(c, context, which);
    match condition {
        Condition::Compare {
            variable: Variable::Input(_),
            ..
        } if which.inputs => Condition::Const(condition.evaluate(context)),
        Condition::Compare {
            variable: Variable::Var(_),
            ..
        } if which.vars => Condition::Const(condition.evaluate(context)),
        Condition::Compare {
            variable: Variable::Secret(_),
            ..
        } if which.secrets => Condition::Const(condition.evaluate(context)),
        Condition::Compare {
            variable: Variable::OnDefaultBranch,
            op,
            value,
        } if which.default_branch => {
            let on_main = Condition::Compare {
                variable: Variable::Branch,
                op: crate::plan::CompareOp::Equal,
                value: "main".into(),
            };
            match crate::model::condition::boolean_cases(op, &value) {
                (true, true) => Condition::Const(true),
                (false, false) => Condition::Const(false),
                (true, false) => on_main,
                (false, true) => Condition::Not(Box::new(on_main)),
            }
        }
        Condition::And(items) => Condition::And(items.into_iter().map(again).collect()),
        Condition::Or(items) => Condition::Or(items.into_iter().map(again).collect()),
        Condition::Not(inner) => Condition::Not(Box::new(again(*inner))),
        other => other,
    }
}

/// Whether the condition compares a variable that passes `test`.
pub fn reads(condition: &Condition, test: &dyn Fn(&Variable) -> bool) -> bool {
    match condition {
        Condition::Compare { variable, .. } => test(variable),
        Condition::And(items) | Condition::Or(items) => items.iter().any(|c| reads(c, test)),
        Condition::Not(inner) => reads(inner, test),
        Condition::Const(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inputs_take_their_defaults_in_env_and_conditions() {
        let text = r#"pipeline p {
          input target { type = choice  choices = ["a", "b"]  default = "b" }
          var FLAG { default = "1" }
          stage s {
            job j { run = "true"  when = input.target == "b" && var.FLAG == "1" && branch == "main" }
          } }"#;
        let compilation = crate::compile::compile_text("p.cdl", None, text.into());
        assert!(!compilation.has_errors(), "{:?}", compilation.diagnostics);
        let plan = crate::plan::build(&compilation).unwrap();
        let (fixed_plan, lossy) = fixed(&plan, "Test CI", Fixed::INPUTS);
        assert_eq!(lossy.len(), 1);
        let job = &fixed_plan.jobs[0];
        assert_eq!(job.env["CDL_INPUT_TARGET"], "b");
        assert!(!job.env.contains_key("FLAG"));
        let shown = job.condition.as_ref().unwrap().to_string();
        assert!(shown.starts_with("true && var.FLAG"), "{shown}");
        let (both, lossy) = fixed(
            &plan,
            "Test CI",
            Fixed {
                vars: true,
                ..Fixed::INPUTS
            },
        );
        assert_eq!(lossy.len(), 2);
        assert_eq!(both.jobs[0].env["FLAG"], "1");
    }
}
