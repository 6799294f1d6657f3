//! What hover and completion say about the words of the language itself: keywords, the
//! variables of conditions, and events.

/// Each keyword with a one-paragraph explanation.
pub const KEYWORDS: &[(&str, &str)] = &[
    (
        "import",
        "`import \"PATH\"` loads the kinds of another file; `\"std/prelude\"` is the standard library (always loaded).",
    ),
    (
        "kind",
        "`kind NAME { … }` declares a type of test: whether its tests run against a deployed environment (`environment`), and their default `timeout` and `retries`.",
    ),
    (
        "pipeline",
        "`pipeline NAME { … }` — the one pipeline of a file: triggers, `env`, secrets, environments and stages.",
    ),
    (
        "on",
        "In a pipeline, `on EVENT { … }` starts a run on `push`, `pull_request`, `tag`, `schedule` or `manual`. After a test's kind, `on ENV` names the environment it tests.",
    ),
    (
        "env",
        "`env { NAME = value … }` — variables given to the jobs (of the pipeline, of an environment's deploys and tests, or of one job).",
    ),
    (
        "secret",
        "`secret NAME` declares a secret; only the jobs that list it in `secrets = [...]` receive it.",
    ),
    (
        "environment",
        "`environment NAME { … }` — a deployment target with a `url`, optional `concurrency`, and the `requires` lines proved before every deploy to it. In a job, `environment { name = \"review/\" + branch  url = …  stop = JOB }` is a review environment the job makes per branch, with no policy; JOB (started by hand) tears it down.",
    ),
    (
        "requires",
        "`requires approval`, `requires tests [KIND, …]` or `requires promotion from ENV`: what must guard every deploy to this environment, proved by `cdl check`.",
    ),
    (
        "approval",
        "`requires approval`: a gate must guard every deploy to this environment.",
    ),
    (
        "tests",
        "`requires tests [KIND, …]`: for each kind, a test of that kind must guard every deploy to this environment.",
    ),
    (
        "promotion",
        "`requires promotion from ENV`: a deploy of the same artifact to ENV must guard every deploy here.",
    ),
    (
        "from",
        "`requires promotion from ENV` names the environment the artifact is promoted from; `job NAME from T, U { … }` (and every job head, and a template's) names the templates merged into it, left to right, the job's own attributes last.",
    ),
    (
        "stage",
        "`stage NAME { jobs }` — stages run in the order written; every job of a stage waits for all jobs of the earlier stages.",
    ),
    (
        "artifact",
        "`artifact NAME { run = …; outputs = [...] }` builds the artifact once per run; deploys and `uses` get the same files.",
    ),
    (
        "test",
        "`test KIND [NAME] [on ENV] { … }` — a test of a declared kind, named after the kind unless given a name.",
    ),
    (
        "deploy",
        "`deploy ARTIFACT to ENV [as NAME] { … }` deploys the artifact's files to the environment; named `deploy_ARTIFACT_ENV` unless given a name.",
    ),
    (
        "to",
        "`deploy ARTIFACT to ENV` names the environment deployed to.",
    ),
    (
        "as",
        "`deploy ARTIFACT to ENV as NAME` gives the deploy a name of its own.",
    ),
    (
        "gate",
        "`gate NAME { approvers = [...] }` waits until `required` people from `approvers` approve; a timeout rejects it.",
    ),
    (
        "job",
        "`job NAME { run = … }` — any other job: lint, docs, notifications.",
    ),
    (
        "matrix",
        "`matrix { AXIS = [values] … }` runs the job once per combination of values.",
    ),
    // v2 i13e: templates
    (
        "template",
        "`template NAME [from A, B] { … }` — attributes and blocks that jobs take with `from NAME`: later templates win, the job's own win over all; `env` merges by key, `secrets`/`after`/`uses` concatenate, steps come first.",
    ),
    // v2 i13g
    (
        "include",
        "`include { KEY = VALUE … }` in a `matrix`: adds its keys to the combinations whose axes hold its axis values, else adds one instance (GitHub's rules).",
    ),
    (
        "exclude",
        "`exclude { AXIS = VALUE … }` in a `matrix`: removes every combination holding all of its values (applied before the includes).",
    ),
    (
        "matches",
        "`VARIABLE matches \"GLOB\"`: the whole value matches the glob (`*` any run of characters, `?` one character).",
    ),
    // v2 i14e: target-native steps
    (
        "github",
        "`github { uses = \"owner/repo@<commit> # vX\"  with { … } }` in a step: the GitHub export runs the action in the step's place; other targets and `cdl run` run the step's `run`.",
    ),
    (
        "circleci",
        "`circleci { orb = \"alias: ns/orb@version\"  command = \"alias/command\"  with { … } }` in a step: the CircleCI export runs the orb command in the step's place.",
    ),
    (
        "buildkite",
        "`buildkite { plugin = \"name#vX.Y.Z\"  with { … } }` in a step: the Buildkite export runs the plugin when the step is its job's only step.",
    ),
    (
        "with",
        "`with { name = \"value\" … }` in a native block: the action's inputs, the orb command's parameters or the plugin's settings (free-form names). A value may read references (`password = secret.TOKEN`, `tags = \"app:\" + sha`): GitHub writes them as expressions; CircleCI and Buildkite run the step's `run` then.",
    ),
    ("true", "The boolean true (a condition that always holds)."),
    ("false", "The boolean false (a condition that never holds)."),
];

pub fn keyword(word: &str) -> Option<&'static str> {
    KEYWORDS.iter().find(|(k, _)| *k == word).map(|(_, d)| *d)
}

/// The variables a condition reads.
pub const VARIABLES: &[(&str, &str)] = &[
    (
        "branch",
        "The branch of the run, a string (empty when the run has none). Compare with `==`, `!=` or `matches \"GLOB\"`.",
    ),
    (
        "tag",
        "The tag of the run, a string (empty when the run has none). Compare with `==`, `!=` or `matches \"GLOB\"`.",
    ),
    (
        "event",
        "What started the run: `push`, `pull_request`, `tag`, `schedule` or `manual`. Compare with `==` or `!=`.",
    ),
    // v2 i13d
    (
        "repository",
        "The repository, `owner/name`. Compare with `==`, `!=` or `matches \"GLOB\"`.",
    ),
    (
        "default_branch",
        "The repository's default branch: `branch == default_branch` (or `!=`).",
    ),
    (
        "input",
        "`input.NAME`: a value the run was started with (an `input` declaration of the pipeline).",
    ),
    (
        "var",
        "`var.NAME`: a value of the CI system's settings (a `var` declaration of the pipeline).",
    ),
    (
        "defined",
        "`defined(secret.NAME)` or `defined(var.NAME)`: set and not empty.",
    ),
    // v2 i14b
    ("changed", crate::check::changed::DOC),
];

pub fn variable(name: &str) -> Option<&'static str> {
    VARIABLES.iter().find(|(v, _)| *v == name).map(|(_, d)| *d)
}

/// The events that start a run.
pub const EVENTS: &[(&str, &str)] = &[
    ("push", "A push to a branch (`branches` globs filter them)."),
    (
        "pull_request",
        "A pull request (`branches` globs filter its target branch).",
    ),
    ("tag", "A pushed tag (`pattern` glob filters it)."),
    ("schedule", "A scheduled run (`cron`, five fields, UTC)."),
    ("manual", "A run started by hand."),
];

pub fn event(name: &str) -> Option<&'static str> {
    EVENTS.iter().find(|(e, _)| *e == name).map(|(_, d)| *d)
}
