//! What the two Kubernetes exports (Argo Workflows and Tekton) share: object names, the
//! default images, the parameters a run is started with, where secrets come from, and the
//! script a job's container runs.
//!
//! Both systems substitute their own variables in every string of a manifest (`{{…}}` in
//! Argo, `$(…)` in Tekton). Text of the pipeline file that they would read that way reaches
//! the container base64-encoded and is decoded by the script, so that commands and values
//! arrive exactly as written. Only identifiers are ever written into a script. The kubelet
//! then expands `$(NAME)` and `$$` in every `env[].value` ([`expansion`]): every `$` of the
//! pipeline file's text there is written `$$`.

pub(super) mod expansion;

use std::collections::{HashMap, HashSet};

use indexmap::IndexMap;
use serde::Serialize;

use super::jobs::{self, Unit};
use super::{Lossy, shell};
use crate::plan::TriggerEvent;
use crate::plan::{Job, Plan};

/// The image of a job that names none, and whose pipeline names none: Debian with the usual
/// build tools (`make`, a C compiler, `git`, `curl`), the closest to a hosted CI runner.
pub const DEFAULT_IMAGE: &str = "docker.io/library/buildpack-deps:bookworm";
/// A small image with `git`, for Tekton's checkout step.
pub const GIT_IMAGE: &str = "docker.io/library/buildpack-deps:bookworm-scm";
/// A small image with a POSIX shell, for the steps the export adds (conditions, approvals).
pub const UTILITY_IMAGE: &str = "docker.io/library/busybox:1.36";

/// Kubernetes names of objects and of the names inside them (DNS-1123 labels).
pub const MAX_NAME: usize = 63;

/// The parameters every run is started with, with their default values and meaning.
pub const RUN_PARAMETERS: [(&str, Option<&str>, &str); 5] = [
    (
        "repo",
        None,
        "URL of the Git repository whose revision the jobs run on",
    ),
    (
        "revision",
        Some(""),
        "commit, branch or tag to check out; empty: the repository's default branch",
    ),
    (
        "branch",
        Some(""),
        "the run's branch, as `branch` compares it (a pull request's source branch); empty when none",
    ),
    (
        "tag",
        Some(""),
        "the run's tag, as `tag` compares it; empty when none",
    ),
    (
        "event",
        Some("manual"),
        "what started the run: push, pull_request, tag, schedule or manual",
    ),
];

/// `text` as a DNS-1123 label of at most `max` characters: lower case letters, digits and
/// `-`, starting and ending with a letter or digit.
pub fn label(text: &str, max: usize) -> String {
    let mut out = String::new();
    for c in text.chars() {
        let c = c.to_ascii_lowercase();
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    out.truncate(max);
    let out = out.trim_end_matches('-').to_string();
    if out.is_empty() { "x".into() } else { out }
}

/// Hands out unique labels: `name`, then `name-2`, `name-3` … when taken.
#[derive(Default)]
pub struct Names {
    taken: HashSet<String>,
}

impl Names {
    pub fn claim(&mut self, text: &str) -> String {
        jobs::claim_unique(&mut self.taken, &label(text, MAX_NAME), |base, n| {
            let suffix = format!("-{n}");
            let mut stem = base.to_string();
            stem.truncate(MAX_NAME - suffix.len());
            format!("{}{suffix}", stem.trim_end_matches('-'))
        })
    }
}

/// The Kubernetes Secret that holds the pipeline's secrets, one key per secret, named as in
/// the pipeline file.
pub fn secret_name(plan: &Plan) -> String {
    label(&format!("{}-secrets", plan.pipeline.name), MAX_NAME)
}

/// The ConfigMap whose keys (environment names) hold the limits of `concurrency = N > 1`.
pub fn concurrency_config_map(plan: &Plan) -> String {
    label(&format!("{}-concurrency", plan.pipeline.name), MAX_NAME)
}

/// Where the steps run: `root`, or the pipeline file's folder inside it.
/// A folder the system would read as its own variables is not used: the steps run in `root`.
pub fn working_directory(
    plan: &Plan,
    root: &str,
    dialect: Dialect,
    lossy: &mut Vec<Lossy>,
) -> String {
    match super::working_directory(plan) {
        Ok(Some(folder)) if (dialect.substitutes)(&folder) => {
            lossy.push(Lossy::pipeline(
                format!(
                    "the pipeline file's folder `{folder}` contains `{}`, which {} reads as a variable",
                    dialect.opener, dialect.system
                ),
                format!("the steps run in `{root}`, the repository's root; rename the folder"),
            ));
            root.to_string()
        }
        Ok(Some(folder)) => format!("{root}/{folder}"),
        Ok(None) => root.to_string(),
        Err(finding) => {
            lossy.push(finding);
            root.to_string()
        }
    }
}

/// One warning for the triggers, which neither system keeps in a pipeline definition.
pub fn triggers(plan: &Plan, system: &str, help: &str) -> Option<Lossy> {
    let described: Vec<String> = plan
        .triggers
        .iter()
        .filter_map(|trigger| {
            let globs = |list: &[String]| {
                if list.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", list.join(", "))
                }
            };
            Some(match trigger.event {
                TriggerEvent::Push => format!("push{}", globs(&trigger.branches)),
                TriggerEvent::PullRequest => {
                    format!("pull_request{}", globs(&trigger.branches))
                }
                TriggerEvent::Tag => {
                    let pattern: Vec<String> = trigger.pattern.iter().cloned().collect();
                    format!("tag{}", globs(&pattern))
                }
                TriggerEvent::Schedule => {
                    format!("schedule ({})", trigger.cron.as_deref().unwrap_or_default())
                }
                TriggerEvent::Manual => return None,
            })
        })
        .collect();
    if described.is_empty() {
        return None;
    }
    Some(Lossy::pipeline(
        format!(
            "{system} starts no run by itself: the trigger{} {} {} not exported",
            if described.len() == 1 { "" } else { "s" },
            described.join(", "),
            if described.len() == 1 { "is" } else { "are" },
        ),
        help,
    ))
}

/// One warning per `runner` label, at the first job that has it: Kubernetes schedules pods
/// itself.
pub fn runners(plan: &Plan, lossy: &mut Vec<Lossy>) {
    let mut seen: HashSet<&str> = HashSet::new();
    for job in &plan.jobs {
        let Some(runner) = job.runner.as_deref() else {
            continue;
        };
        if seen.insert(runner) {
            lossy.push(Lossy::at(
                job,
                format!("the runner `{runner}` has no meaning on Kubernetes, which places pods on its nodes itself"),
                "the runner is left out; give the pods a nodeSelector in the exported file if the label names a node pool",
            ));
        }
    }
}

/// The ids of the jobs `id` reaches through explicit needs, transitively.
pub fn ancestors<'p>(plan: &'p Plan, id: &str) -> HashSet<&'p str> {
    let by_id: HashMap<&str, &Job> = plan.jobs.iter().map(|j| (j.id.as_str(), j)).collect();
    let mut found: HashSet<&str> = HashSet::new();
    let mut stack: Vec<&str> = by_id
        .get(id)
        .map(|j| j.needs.iter().map(String::as_str).collect())
        .unwrap_or_default();
    while let Some(next) = stack.pop() {
        if let Some(job) = by_id.get(next)
            && found.insert(job.id.as_str())
        {
            stack.extend(job.needs.iter().map(String::as_str));
        }
    }
    found
}

/// The plan's jobs grouped as the exports define them: the instances of a matrix job share
/// one definition when they differ only by their matrix values and neither the target nor
/// the kubelet would read any of those values (they are passed as parameters, which reach
/// `env[].value` as they are).
pub fn units(plan: &Plan, dialect: Dialect) -> Vec<Unit<'_>> {
    let mut units = Vec::new();
    for unit in jobs::units(plan, usize::MAX) {
        let escaped = unit.jobs.iter().any(|job| {
            job.matrix
                .values()
                .any(|v| (dialect.substitutes)(v) || v.contains('$'))
        });
        if unit.is_matrix() && escaped {
            units.extend(unit.jobs.into_iter().map(|job| Unit {
                jobs: vec![job],
                axes: Vec::new(),
            }));
        } else {
            units.push(unit);
        }
    }
    units
}

/// How one of the two systems reads its own variables in the strings of a manifest.
#[derive(Clone, Copy)]
pub struct Dialect {
    pub system: &'static str,
    /// How a reference to one of its variables starts, as warnings show it.
    pub opener: &'static str,
    /// Whether the system would read part of the text as one of its variables.
    pub substitutes: fn(&str) -> bool,
    /// A reference to the value of a matrix job's axis, passed as the parameter
    /// [`matrix_parameter`].
    pub matrix_value: fn(&str) -> String,
}

impl Dialect {
    /// The job's image; when the system would alter it, a warning and the default image,
    /// never the text the system would substitute in.
    pub fn image<'j>(&self, job: &'j Job, lossy: &mut Vec<Lossy>) -> &'j str {
        let image = job.image.as_deref().unwrap_or(DEFAULT_IMAGE);
        if (self.substitutes)(image) {
            lossy.push(Lossy::at(
                job,
                format!(
                    "the image `{image}` contains `{}`, which {} reads as a variable",
                    self.opener, self.system
                ),
                format!(
                    "the job runs in the default image `{DEFAULT_IMAGE}`; write the image without `{}`",
                    self.opener
                ),
            ));
            return DEFAULT_IMAGE;
        }
        image
    }
}

/// Text shown to people (a gate's message) with every opener of the system's variables
/// broken by a space (`{{` → `{ {`, `$(` → `$ (`), repeated until none is left.
pub fn defuse(text: &str, opener: &str) -> String {
    let mut out = text.to_string();
    let broken = format!("{} {}", &opener[..1], &opener[1..]);
    while out.contains(opener) {
        out = out.replace(opener, &broken);
    }
    out
}

/// The parameter that carries a matrix axis's value to the definition its instances share.
pub fn matrix_parameter(axis: &str) -> String {
    format!("matrix-{axis}")
}

/// A container's environment variable (Kubernetes `EnvVar`): a value, or a key of a Secret.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EnvVar {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value_from: Option<EnvSource>,
}

impl EnvVar {
    pub fn value(name: impl Into<String>, value: impl Into<String>) -> EnvVar {
        EnvVar {
            name: name.into(),
            value: Some(value.into()),
            value_from: None,
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EnvSource {
    pub secret_key_ref: KeyRef,
}

/// A key of a Secret or a ConfigMap.
#[derive(Serialize)]
pub struct KeyRef {
    pub name: String,
    pub key: String,
}

/// The run context from the run's parameters (`RUN_PARAMETERS`), which the script's own
/// variables `CDL_RUN_*` hold; the commit is the one checked out, when the image has git.
pub const fn context_sources(system: &'static str) -> super::context::Sources {
    super::context::Sources {
        system,
        event: "CDL_EVENT=${CDL_RUN_EVENT:-}",
        branch: "${CDL_RUN_BRANCH:-}",
        tag: "${CDL_RUN_TAG:-}",
        sha: "$(git rev-parse HEAD 2>/dev/null || true)",
        pr_target: None,
        default_branch: None,
        repository: r#"$(printf %s "${CDL_RUN_REPO:-}" | sed -e 's#\.git$##' -e 's#^.*[:/]\([^/:]*/[^/:]*\)$#\1#')"#,
    }
}

/// The variables of a job's container and the script it runs.
///
/// Values are written as they are unless the dialect would read them as its own variables;
/// those are passed in `CDL_BASE64_<NAME>` and decoded by the script.
pub struct Script {
    dialect: Dialect,
    /// Name → value as written in the manifest.
    pub env: IndexMap<String, String>,
    /// Variables the script decodes, in order.
    decode: Vec<String>,
    /// Lines that run after decoding and before the commands.
    setup: String,
    /// Variables whose value the target would alter and that cannot be decoded (their name is
    /// no shell variable name).
    altered: Vec<String>,
}

impl Script {
    pub fn new(dialect: Dialect) -> Script {
        Script {
            dialect,
            env: IndexMap::new(),
            decode: Vec::new(),
            setup: String::new(),
            altered: Vec::new(),
        }
    }

    /// A value the export writes itself (a reference to one of the target's variables).
    pub fn own(&mut self, name: &str, value: impl Into<String>) {
        self.env.insert(name.to_string(), value.into());
    }

    /// v2 i13m: a value the target gives at run time as base64 (`base64`, a reference in the
    /// target's syntax), decoded by the script into `name`: the kubelet's expansion of `$`
    /// never sees it.
    pub fn own_base64(&mut self, name: &str, base64: impl Into<String>) {
        self.env.insert(format!("CDL_BASE64_{name}"), base64.into());
        self.decode.push(name.to_string());
    }

    /// v2 i13m: a line of the script that runs after decoding, before the commands.
    pub fn setup_line(&mut self, line: &str) {
        self.setup.push_str(line);
        self.setup.push('\n');
    }

    /// A value from the pipeline file, which must reach the commands exactly.
    pub fn text(&mut self, name: &str, value: &str) {
        if !(self.dialect.substitutes)(value) {
            self.env.insert(name.to_string(), expansion::literal(value));
        } else if is_shell_name(name) {
            self.env
                .insert(format!("CDL_BASE64_{name}"), base64(value.as_bytes()));
            self.decode.push(name.to_string());
        } else {
            self.altered.push(name.to_string());
            self.env.insert(name.to_string(), expansion::literal(value));
        }
    }

    /// The steps as `CDL_STEP_<N>`; for a job with `step` blocks or a `shell`, the
    /// variables of the step runner (v2, export/steps.rs), which runs one attempt (the
    /// target retries the job).
    pub fn steps(&mut self, job: &Job) -> Vec<Lossy> {
        if job.has_step_blocks() {
            let (env, lossy) = super::steps::runner_env(job);
            for (name, value) in &env {
                self.text(name, value);
            }
            self.own("CDL_ATTEMPTS", "1");
            if let Some(seconds) = job.timeout_seconds {
                self.own("CDL_TIMEOUT", seconds.to_string());
            }
            return lossy;
        }
        for (i, step) in job.steps.iter().enumerate() {
            self.text(&format!("CDL_STEP_{}", i + 1), step);
        }
        Vec::new()
    }

    /// The variables of `jobs[].env` but the secrets the job receives; for a folded matrix,
    /// `CDL_JOB` and `CDL_MATRIX_*` are built from the dialect's references to the axes.
    pub fn job_variables(&mut self, unit: &Unit) {
        let job = unit.job();
        for (name, value) in unit.env(self.dialect.matrix_value) {
            if job.secrets.contains(&name) {
                continue;
            }
            let matrix_variable = name == "CDL_JOB" || name.starts_with("CDL_MATRIX_");
            if unit.is_matrix() && matrix_variable {
                self.own(&name, value);
            } else {
                self.text(&name, &value);
            }
        }
    }

    /// The container's variables: the script's, then the job's secrets from the pipeline's
    /// Secret.
    pub fn env_vars(&self, plan: &Plan, secrets: &[String]) -> Vec<EnvVar> {
        let mut vars: Vec<EnvVar> = self
            .env
            .iter()
            .map(|(name, value)| EnvVar::value(name, value))
            .collect();
        vars.extend(secrets.iter().map(|secret| EnvVar {
            name: secret.clone(),
            value: None,
            value_from: Some(EnvSource {
                secret_key_ref: KeyRef {
                    name: secret_name(plan),
                    key: secret.clone(),
                },
            }),
        }));
        vars
    }

    /// A warning for each variable whose value the system alters.
    pub fn findings(&self, job: &Job) -> Vec<Lossy> {
        let Dialect { system, opener, .. } = self.dialect;
        self.altered
            .iter()
            .map(|name| {
                Lossy::at(
                    job,
                    format!("the value of `{name}` contains `{opener}`, which {system} reads as a variable, and `{name}` is no shell variable name the export could decode it into"),
                    format!("{system} substitutes what it can in the value; rename the variable with letters, digits and `_` only"),
                )
            })
            .collect()
    }

    /// Sets `CDL_ARTIFACT_<NAME>` for each artifact the job receives, found in
    /// `$CDL_ARTIFACTS_DIR/NAME` (the caller sets `CDL_ARTIFACTS_DIR`).
    pub fn locate_inputs(&mut self, job: &Job) {
        let inputs: Vec<&String> = job
            .inputs
            .iter()
            .filter(|i| shell::is_identifier(i))
            .collect();
        if inputs.is_empty() {
            return;
        }
        self.setup.push_str(shell::LOCATE_FUNCTION);
        for input in inputs {
            self.setup.push_str(&format!(
                "{}=$(cdl_locate \"$CDL_ARTIFACTS_DIR/{input}\")\nexport {}\n",
                super::artifact_variable(input),
                super::artifact_variable(input)
            ));
        }
    }

    /// The run context (`export/context.rs`) from the run's parameters, which `parameter`
    /// references in the target's syntax (`repo`, `branch`, `tag`, `event`).
    pub fn context(
        &mut self,
        plan: &crate::plan::Plan,
        sources: &super::context::Sources,
        parameter: impl Fn(&str) -> String,
    ) {
        for name in ["repo", "branch", "tag", "event"] {
            self.own(&format!("CDL_RUN_{}", name.to_uppercase()), parameter(name));
        }
        // The file's text reaches the script through a variable, encoded where the target
        // would substitute it.
        let fixed = plan.pipeline.default_branch.as_deref().map(|branch| {
            self.text("CDL_FILE_DEFAULT_BRANCH", branch);
            "\"$CDL_FILE_DEFAULT_BRANCH\"".to_string()
        });
        self.setup
            .push_str(&super::context::script_with(sources, fixed));
        self.setup.push('\n');
    }

    /// The start of the script: decodes the encoded variables (`cdl_decode NAME` sets and
    /// exports NAME from `CDL_BASE64_NAME`, trailing line breaks kept), then sets up.
    pub fn prelude(&self) -> String {
        let mut out = String::from("set -e\n");
        if !self.decode.is_empty() {
            out.push_str(DECODE_FUNCTION);
            for name in &self.decode {
                out.push_str(&format!("cdl_decode {name}\n"));
            }
        }
        out.push_str(&self.setup);
        out
    }

    /// Lines that run `CDL_STEP_1` … in order with `sh -e -c`, stopping at the first failure
    /// with its exit status.
    pub fn commands(job: &Job) -> String {
        if job.has_step_blocks() {
            return super::steps::runner(job).into_owned();
        }
        (1..=job.steps.len())
            .map(|i| format!("sh -e -c \"$CDL_STEP_{i}\" || exit\n"))
            .collect()
    }

    /// The variables of [`shell::RETRY_LOOP`], which runs the steps up to `retries + 1` times.
    pub fn retry(&mut self, job: &Job) {
        self.own("CDL_ATTEMPTS", (job.retries + 1).to_string());
        if !job.has_step_blocks() {
            self.own("CDL_STEP_COUNT", job.steps.len().to_string());
        }
    }

    /// The variables of [`shell::COLLECT_ARTIFACT`] but `CDL_ARTIFACT_STORE` (the caller's),
    /// and the outputs it cannot match exactly.
    pub fn outputs(&mut self, job: &Job) -> Vec<Lossy> {
        let (outputs, lossy) = shell::collect_env(job);
        for (name, value) in &outputs {
            self.text(name, value);
        }
        lossy
    }
}

const DECODE_FUNCTION: &str = r#"cdl_decode() {
  value=$(printenv "CDL_BASE64_$1" | base64 -d && printf x)
  export "$1=${value%x}"
  unset "CDL_BASE64_$1"
}
"#;

/// Whether `name` can be assigned in a POSIX shell.
fn is_shell_name(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Standard base64 with padding, as `base64 -d` reads it.
pub fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// A duration as Go's `time.ParseDuration` reads it (`1h30m`, `45s`): hours at most.
pub fn go_duration(seconds: u64) -> String {
    let parts = [
        (seconds / 3_600, "h"),
        (seconds % 3_600 / 60, "m"),
        (seconds % 60, "s"),
    ];
    let text: String = parts
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, unit)| format!("{n}{unit}"))
        .collect();
    if text.is_empty() { "0s".into() } else { text }
}

// v2 i13j: composed values
impl Script {
    /// Computes the job's composed variables right after the run context (export/value.rs).
    pub fn compose(&mut self, job: &crate::plan::Job) {
        if let Some(compose) = super::value::script(job) {
            self.setup.push_str(compose);
        }
    }
}

/// What a container's script sees of `text` given to [`Script::text`] as `NAME`: the target's
/// substitution (`substitute`, the target's model) and the kubelet's expansion applied to every
/// value, and `cdl_decode` to an encoded one. `Err` when the target would reject the manifest.
#[cfg(test)]
pub fn through_container(
    dialect: Dialect,
    substitute: fn(&str) -> Result<String, String>,
    text: &str,
) -> Result<String, String> {
    let mut script = Script::new(dialect);
    script.own("EARLIER", "earlier-value");
    script.text("NAME", text);
    let mut defined = HashMap::new();
    let mut seen = None;
    for (name, value) in &script.env {
        let value = expansion::expand(&substitute(value)?, &defined);
        if name == "NAME" {
            seen = Some(value.clone());
        } else if name == "CDL_BASE64_NAME" {
            seen = Some(String::from_utf8(decode_base64(&value)).map_err(|e| e.to_string())?);
        }
        defined.insert(name.clone(), value);
    }
    seen.ok_or_else(|| "NAME is not set".into())
}

/// What the script of every container of `manifest` (any serialised part of an export) sees
/// in its variables: the target's substitution and the kubelet's expansion applied to each
/// `env[].value` in order, encoded values decoded under their own names.
#[cfg(test)]
pub fn containers_see(
    manifest: &serde_json::Value,
    substitute: fn(&str) -> Result<String, String>,
) -> Vec<HashMap<String, String>> {
    let mut seen = Vec::new();
    let mut stack = vec![manifest];
    while let Some(value) = stack.pop() {
        match value {
            serde_json::Value::Object(map) => {
                if let Some(serde_json::Value::Array(env)) = map.get("env") {
                    let mut defined: HashMap<String, String> = HashMap::new();
                    let mut decoded = HashMap::new();
                    for var in env {
                        let (Some(name), Some(text)) =
                            (var["name"].as_str(), var["value"].as_str())
                        else {
                            continue;
                        };
                        let value = expansion::expand(&substitute(text).unwrap(), &defined);
                        match name.strip_prefix("CDL_BASE64_") {
                            Some(decoded_name) => {
                                let bytes = decode_base64(&value);
                                decoded.insert(
                                    decoded_name.to_string(),
                                    String::from_utf8(bytes).unwrap(),
                                );
                            }
                            None => {
                                decoded.insert(name.to_string(), value.clone());
                            }
                        }
                        defined.insert(name.to_string(), value);
                    }
                    seen.push(decoded);
                }
                stack.extend(map.values());
            }
            serde_json::Value::Array(items) => stack.extend(items),
            _ => {}
        }
    }
    seen
}

/// Asserts that every job of `plan` that runs commands has a container whose script sees its
/// commands and variables exactly as the pipeline file wrote them.
#[cfg(test)]
pub fn assert_jobs_see_their_text(plan: &Plan, containers: &[HashMap<String, String>]) {
    for job in &plan.jobs {
        if job.steps.is_empty() {
            continue;
        }
        let container = containers
            .iter()
            .find(|c| c.get("CDL_JOB") == Some(&job.id))
            .unwrap_or_else(|| panic!("no container runs {}", job.id));
        for (i, step) in job.steps.iter().enumerate() {
            assert_eq!(container.get(&format!("CDL_STEP_{}", i + 1)), Some(step));
        }
        for (name, value) in &job.env {
            if !job.secrets.contains(name) {
                assert_eq!(container.get(name), Some(value), "{} {name}", job.id);
            }
        }
    }
}

/// `base64 -d`, for [`through_container`].
#[cfg(test)]
fn decode_base64(text: &str) -> Vec<u8> {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let digits: Vec<u32> = text
        .bytes()
        .filter(|b| *b != b'=')
        .map(|b| ALPHABET.iter().position(|a| *a == b).unwrap() as u32)
        .collect();
    let mut out = Vec::new();
    for chunk in digits.chunks(4) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, d)| n | d << (18 - 6 * i));
        for i in 0..chunk.len().saturating_sub(1) {
            out.push((n >> (16 - 8 * i)) as u8);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_dns_labels() {
        assert_eq!(
            label("unit[os=linux,rust=1.85]", 63),
            "unit-os-linux-rust-1-85"
        );
        assert_eq!(label("Deploy_App__Staging", 63), "deploy-app-staging");
        assert_eq!(label("__", 63), "x");
        assert_eq!(label("abc-def", 4), "abc");
        let mut names = Names::default();
        assert_eq!(names.claim("build"), "build");
        assert_eq!(names.claim("Build"), "build-2");
        assert_eq!(names.claim(&"a".repeat(70)).len(), 63);
        assert!(names.claim(&"a".repeat(70)).ends_with("-2"));
    }

    #[test]
    fn base64_matches_the_standard() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"{{x}}\n"), "e3t4fX0K");
    }

    #[test]
    fn go_durations_stop_at_hours() {
        assert_eq!(go_duration(2 * 86_400), "48h");
        assert_eq!(go_duration(5_400), "1h30m");
        assert_eq!(go_duration(45), "45s");
    }

    #[test]
    fn encoded_text_is_decoded_exactly() {
        let mut script = Script::new(Dialect {
            system: "Argo",
            opener: "{{",
            substitutes: |text| text.contains("{{"),
            matrix_value: |axis| axis.to_string(),
        });
        script.text("PLAIN", "a b");
        script.text("BRACES", "{{index .X 0}}\n\n");
        script.text("BAD-NAME", "{{x}}");
        assert_eq!(script.env["PLAIN"], "a b");
        assert!(script.env.contains_key("CDL_BASE64_BRACES"));
        assert_eq!(script.altered, ["BAD-NAME"]);
        let check =
            "expected=$(printf '{{index .X 0}}\\n\\nx')\n[ \"${BRACES}x\" = \"$expected\" ]";
        let text = format!("{}{check}\n", script.prelude());
        let output = std::process::Command::new("sh")
            .args(["-c", &text])
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .envs(script.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .output()
            .unwrap();
        assert!(output.status.success(), "{output:?}");
    }
}
