//! The graph and policy checks run on a resolved pipeline. Adding a check: one file here,
//! one line in [`RULES`], one fixture in `tests/fixtures/err`.

mod empty_stage;
mod environment_url;
mod gates;
mod kind_environment;
mod requirements;
mod requirements_after_failure;
mod shell_state;
mod test_needs_deploy;
mod unused;

use super::Context;
use crate::diagnostic::Sink;

pub type Rule = fn(&Context, &mut Sink);

pub const RULES: &[Rule] = &[
    kind_environment::check,
    test_needs_deploy::check,
    requirements::check,
    gates::check,
    unused::check,
    empty_stage::check,
    environment_url::check,
    shell_state::check,
    super::values::check,
    super::values::check_reads,
    super::value::check,
    super::cache::check,
    super::review::check,
    super::pages::check,
    super::entrypoint::check,
];
