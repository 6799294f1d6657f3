//! `cache NAME { key = [...]  paths = [...]  policy = ... }` of a job (language v2 §9): every
//! path and key file inside the working folder, a name that makes `CDL_CACHE_<NAME>_HIT`, each
//! name once per job, and one set of paths per name across the pipeline's jobs.

use std::collections::BTreeSet;

use super::Context;
use super::attributes::{Attributes, CACHE};
use super::outputs::inside_workdir;
use crate::codes::Code;
use crate::diagnostic::{Diagnostic, Sink};
use crate::model::cache::{Cache, Policy, hit_variable, is_variable_name};
use crate::span::Span;
use crate::syntax::ast::{self, ExprKind};

pub const KEY_DOC: &str = "Files or globs whose paths and contents make the cache's key (absent: one constant key). A glob that matches nothing yet is fine: jobs make files.";
pub const PATHS_DOC: &str = "Paths or globs, relative to the working folder, restored before the job's first step and saved after it succeeds.";
pub const POLICY_DOC: &str = "`pull_push` (default: restore, save when the key is new), `pull` (restore, never save) or `push` (save after every success, never restore).";

/// A job's cache as checked, with where it was written.
#[derive(Debug, Clone)]
pub struct Declared {
    pub cache: Cache,
    /// The cache's name as written.
    pub name_span: Span,
    /// The `paths` value (the block when `paths` is missing).
    pub paths_span: Span,
}

/// Reads a job's `cache` blocks (in order), reporting misuse.
pub fn read(body: &[ast::BodyItem], job: &str, sink: &mut Sink) -> Vec<Declared> {
    let mut declared: Vec<Declared> = Vec::new();
    for item in body {
        let ast::BodyItem::Cache(block) = item else {
            continue;
        };
        let name = &block.name.name;
        if let Some(first) = declared.iter().find(|d| d.cache.name == *name) {
            sink.push(
                Diagnostic::new(
                    Code::DuplicateAttribute,
                    block.name.span,
                    format!("`{job}` declares the cache `{name}` twice"),
                )
                .label("declared again here")
                .related(first.name_span, "first declared here")
                .help("put every path of the cache in one `cache` block, or give the second cache another name"),
            );
            continue;
        }
        if !is_variable_name(name) {
            let fixed: String = name
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
                .collect();
            sink.push(
                Diagnostic::new(
                    Code::CacheNameNotVariable,
                    block.name.span,
                    format!("the cache name `{name}` cannot make an environment variable name"),
                )
                .label(format!("`{}` is not a variable name", hit_variable(name)))
                .help(format!(
                    "jobs get `CDL_CACHE_<NAME>_HIT`; use letters, digits and `_`: `cache {fixed} {{ … }}`"
                )),
            );
        } else if let Some(other) = declared
            .iter()
            .find(|d| d.cache.hit_variable() == hit_variable(name))
        {
            sink.push(
                Diagnostic::new(
                    Code::CacheNameNotVariable,
                    block.name.span,
                    format!(
                        "the caches `{}` and `{name}` of `{job}` both set `{}`",
                        other.cache.name,
                        hit_variable(name)
                    ),
                )
                .label("the same variable once upper-cased")
                .related(other.name_span, "the other cache")
                .help("give the caches names that differ in more than letter case"),
            );
            continue;
        }
        let label = format!("the cache `{name}` of `{job}`");
        let attrs = Attributes::read(CACHE, &label, &block.attributes, sink);
        attrs.require(CACHE, &label, block.name.span, sink, &[]);
        for attribute in &block.attributes {
            match attribute.name.name.as_str() {
                "paths" => paths_inside(&attribute.value, "cache path", sink),
                "key" => paths_inside(&attribute.value, "cache key file", sink),
                _ => {}
            }
        }
        let cache = Cache {
            name: name.clone(),
            key: attrs.strings("key"),
            paths: attrs.strings("paths"),
            policy: attrs
                .word("policy")
                .and_then(|w| Policy::from_word(&w))
                .unwrap_or_default(),
        };
        if cache.key.is_empty() && cache.policy == Policy::PullPush && !cache.paths.is_empty() {
            sink.push(
                Diagnostic::new(
                    Code::CacheNeverRefreshed,
                    block.name.span,
                    format!("the cache `{name}` has no `key`: saved once, then never refreshed"),
                )
                .label("one constant key")
                .help("give it the files its contents follow from (`key = [\"Cargo.lock\"]`), or `policy = push` to save it after every success"),
            );
        }
        declared.push(Declared {
            paths_span: attrs.value_span("paths").unwrap_or(block.span),
            name_span: block.name.span,
            cache,
        });
    }
    declared
}

/// E0341: every job that declares a cache name declares the same paths (a cache is shared by
/// name, so two sets of paths would restore one job's files into another's places).
pub fn check(cx: &Context, sink: &mut Sink) {
    let mut first: Vec<&Declared> = Vec::new();
    for job in &cx.pipeline.jobs {
        for declared in &job.caches {
            let Some(earlier) = first.iter().find(|d| d.cache.name == declared.cache.name) else {
                first.push(declared);
                continue;
            };
            if path_set(&earlier.cache) == path_set(&declared.cache) {
                continue;
            }
            sink.push(
                Diagnostic::new(
                    Code::CachePathsDisagree,
                    declared.paths_span,
                    format!(
                        "the cache `{}` is declared with other paths than before",
                        declared.cache.name
                    ),
                )
                .label(format!("`{}` here", declared.cache.paths.join("`, `")))
                .related(
                    earlier.paths_span,
                    format!("`{}` here", earlier.cache.paths.join("`, `")),
                )
                .help("a cache name is shared by every job that declares it: give both the same `paths` (a template holds them once), or give one cache another name"),
            );
        }
    }
}

fn path_set(cache: &Cache) -> BTreeSet<&str> {
    cache
        .paths
        .iter()
        .map(|p| p.trim_start_matches("./").trim_end_matches('/'))
        .collect()
}

/// E0339 for each string of `value` (one or a list) that leaves the working folder.
fn paths_inside(value: &ast::Expr, what: &str, sink: &mut Sink) {
    let entries: Vec<&ast::Expr> = match &value.kind {
        ExprKind::List(items) => items.iter().collect(),
        _ => vec![value],
    };
    for entry in entries {
        let ExprKind::String(path) = &entry.kind else {
            continue;
        };
        if inside_workdir(path) && !path.starts_with('~') {
            continue;
        }
        let label = if path.is_empty() {
            "an empty path"
        } else if path.starts_with('/') {
            "an absolute path"
        } else if path.starts_with('~') {
            "a home-folder path"
        } else {
            "climbs out with `..`"
        };
        sink.push(
            Diagnostic::new(
                Code::CacheOutsideWorkdir,
                entry.span,
                format!("the {what} `{path}` is outside the working folder"),
            )
            .label(label)
            .help("caches hold files of the working folder (GitLab caches nothing else); point the tool there and name the path relative to it: `env { CARGO_HOME = \".cargo\" }` and `paths = [\".cargo/registry\"]`"),
        );
    }
}

#[cfg(test)]
mod tests {
    use crate::codes::Code;

    fn codes(text: &str) -> Vec<Code> {
        let compilation = crate::compile::compile_text("p.cdl", None, text.into());
        compilation.diagnostics.iter().map(|d| d.code).collect()
    }

    fn job(caches: &str) -> String {
        format!("pipeline p {{ stage s {{ job a {{ run = \"x\" {caches} }} }} }}")
    }

    #[test]
    fn a_good_cache_is_clean_and_a_glob_matching_nothing_is_fine() {
        let text =
            job(r#"cache cargo { key = ["Cargo.lock", "nowhere/**/*.lock"]  paths = ["target"] }"#);
        assert_eq!(codes(&text), []);
    }

    #[test]
    fn each_misuse_has_its_code() {
        for (caches, code) in [
            (
                r#"cache c { key = ["a"]  paths = ["/abs"] }"#,
                Code::CacheOutsideWorkdir,
            ),
            (
                r#"cache c { key = ["a"]  paths = ["x/../../y"] }"#,
                Code::CacheOutsideWorkdir,
            ),
            (
                r#"cache c { key = ["a"]  paths = [""] }"#,
                Code::CacheOutsideWorkdir,
            ),
            (
                r#"cache c { key = ["a"]  paths = ["~/.cargo"] }"#,
                Code::CacheOutsideWorkdir,
            ),
            (
                r#"cache c { key = ["/etc/passwd"]  paths = ["t"] }"#,
                Code::CacheOutsideWorkdir,
            ),
            (
                r#"cache my-c { key = ["a"]  paths = ["t"] }"#,
                Code::CacheNameNotVariable,
            ),
            (
                r#"cache c { key = ["a"]  paths = ["t"] } cache C { key = ["a"]  paths = ["t"] }"#,
                Code::CacheNameNotVariable,
            ),
            (
                r#"cache c { key = ["a"]  paths = ["t"] } cache c { key = ["a"]  paths = ["t"] }"#,
                Code::DuplicateAttribute,
            ),
            (r#"cache c { paths = ["t"] }"#, Code::CacheNeverRefreshed),
            (r#"cache c { key = ["a"] }"#, Code::MissingAttribute),
            (r#"cache c { key = ["a"]  paths = [] }"#, Code::EmptyList),
        ] {
            assert_eq!(codes(&job(caches)), [code], "{caches}");
        }
    }

    #[test]
    fn an_unknown_policy_names_the_nearest() {
        let text = job(r#"cache c { key = ["a"]  paths = ["t"]  policy = pul }"#);
        let compilation = crate::compile::compile_text("p.cdl", None, text);
        let d = &compilation.diagnostics[0];
        assert!(d.help.as_deref().unwrap_or("").contains("pull"), "{d:?}");
    }

    #[test]
    fn a_keyless_pull_or_push_cache_is_not_warned() {
        assert_eq!(
            codes(&job(r#"cache c { paths = ["t"]  policy = push }"#)),
            []
        );
        assert_eq!(
            codes(&job(r#"cache c { paths = ["t"]  policy = pull }"#)),
            []
        );
    }

    #[test]
    fn two_jobs_sharing_a_name_must_agree_on_paths() {
        let agree = r#"pipeline p { stage s {
            job a { run = "x"  cache c { key = ["k"]  paths = ["t", "u/"] } }
            job b { run = "x"  cache c { key = ["k"]  paths = ["./u", "t"]  policy = pull } } } }"#;
        assert_eq!(codes(agree), []);
        let differ = r#"pipeline p { stage s {
            job a { run = "x"  cache c { key = ["k"]  paths = ["t"] } }
            job b { run = "x"  cache c { key = ["k"]  paths = ["u"] } } } }"#;
        let compilation = crate::compile::compile_text("p.cdl", None, differ.into());
        let [d] = compilation.diagnostics.as_slice() else {
            panic!("{:?}", compilation.diagnostics)
        };
        assert_eq!(d.code, Code::CachePathsDisagree);
        assert_eq!(d.related.len(), 1);
    }

    #[test]
    fn templates_carry_caches_and_a_job_replaces_one_by_name() {
        let text = r#"template rust { cache cargo { key = ["Cargo.lock"]  paths = ["target"] } }
pipeline p { stage s {
  job a from rust { run = "x" }
  job b from rust { run = "x"  cache cargo { key = ["Cargo.lock"]  paths = ["target"]  policy = pull } } } }"#;
        let compilation = crate::compile::compile_text("p.cdl", None, text.into());
        assert!(
            compilation.diagnostics.is_empty(),
            "{:?}",
            compilation.diagnostics
        );
        let plan = crate::plan::build(&compilation).expect("a plan");
        let policies: Vec<_> = plan.jobs.iter().map(|j| j.caches[0].policy).collect();
        assert_eq!(
            policies,
            [
                crate::model::cache::Policy::PullPush,
                crate::model::cache::Policy::Pull
            ]
        );
    }
}
