//! A job's matrix `include` and `exclude` entries (language v2 §7): read, checked against the
//! axes, and expanded once here so that every mistake GitHub's rules would hide (an exclude
//! naming no axis, an entry that changes nothing, no combination left, two equal instances)
//! is a diagnostic at the entry that causes it.

use indexmap::IndexMap;

use crate::codes::Code;
use crate::diagnostic::{Diagnostic, Sink};
use crate::model::matrix::{Matrix, Values, instance_id};
use crate::span::Span;
use crate::syntax::ast::{self, ExprKind, MatrixEntryKind};

/// The matrix attribute that limits how many instances run at once (not an axis).
pub const MAX_PARALLEL: &str = "max_parallel";

/// The doc of `max_parallel`.
pub const MAX_PARALLEL_DOC: &str = "At most this many instances of the matrix run at once (GitHub's `strategy.max-parallel`); the others wait.";

/// Reads `max_parallel = N` (a whole number from 1) among a matrix block's attributes.
pub fn max_parallel(written: &[&ast::Attribute], sink: &mut Sink) -> Option<u32> {
    let mut out = None;
    for (i, attribute) in written.iter().enumerate() {
        if i > 0 {
            sink.push(
                Diagnostic::new(
                    Code::DuplicateAttribute,
                    attribute.name.span,
                    "`max_parallel` is set twice",
                )
                .label("set again here")
                .related(written[0].name.span, "first set here")
                .help("keep one `max_parallel`"),
            );
            continue;
        }
        match attribute.value.kind {
            ast::ExprKind::Integer(n) if (1..=256).contains(&n) => out = Some(n as u32),
            ast::ExprKind::Invalid => {}
            _ => sink.push(
                Diagnostic::new(
                    Code::AttributeType,
                    attribute.value.span,
                    format!(
                        "`max_parallel` expects a whole number from 1 to 256, found {}",
                        attribute.value.kind.describe()
                    ),
                )
                .label("not a number of instances")
                .help("write how many instances may run at once: `max_parallel = 4`"),
            ),
        }
    }
    out
}

/// Reads a matrix block's `include`/`exclude` entries and checks the whole matrix of `job`
/// (its `axes` already read). Entries with errors are left out; the spans are those of the
/// `include` words kept, by index.
pub fn entries(
    block: &ast::MatrixBlock,
    axes: &IndexMap<String, Vec<String>>,
    job: &str,
    sink: &mut Sink,
) -> (Matrix, Vec<Span>) {
    for axis in &block.axes {
        if matches!(axis.name.name.as_str(), "include" | "exclude") {
            sink.push(
                Diagnostic::new(
                    Code::MatrixEntryAsAxis,
                    axis.name.span,
                    format!("`{}` is a block in a cdl matrix, not an axis", axis.name.name),
                )
                .label("written as an axis")
                .help(format!(
                    "write one block per entry: `{} {{ os = \"windows-latest\"  rust = \"nightly\" }}`",
                    axis.name.name
                )),
            );
        }
    }
    let mut matrix = Matrix {
        axes: axes.clone(),
        ..Matrix::default()
    };
    let mut include_spans = Vec::new();
    let mut exclude_spans = Vec::new();
    for entry in &block.entries {
        let Some(values) = read_entry(entry, axes, sink) else {
            continue;
        };
        match entry.kind {
            MatrixEntryKind::Include => {
                matrix.includes.push(values);
                include_spans.push(entry.keyword);
            }
            MatrixEntryKind::Exclude => {
                matrix.excludes.push(values);
                exclude_spans.push(entry.keyword);
            }
        }
    }
    if matrix.is_empty() {
        return (matrix, include_spans);
    }
    let expansion = matrix.expand();
    for (index, removed) in expansion.excluded.iter().enumerate() {
        if *removed == 0 {
            sink.push(
                Diagnostic::new(
                    Code::MatrixEntryNoEffect,
                    exclude_spans[index],
                    "this exclude matches no combination of the matrix",
                )
                .label("removes nothing")
                .help("check its values against the axes' values, or remove it"),
            );
        }
    }
    for (index, extended) in expansion.extended.iter().enumerate() {
        let created = expansion
            .instances
            .iter()
            .any(|i| i.created_by == Some(index));
        if *extended == 0 && !created {
            sink.push(
                Diagnostic::new(
                    Code::MatrixEntryNoEffect,
                    include_spans[index],
                    "this include changes nothing",
                )
                .label("adds no key and no combination")
                .help(
                    "an include matching existing combinations only adds its keys that are not axes; \
                     add such a key, or remove the include",
                ),
            );
        }
    }
    if expansion.instances.is_empty() {
        let keyword = block.span.with_end(block.span.start + 6);
        sink.push(
            Diagnostic::new(
                Code::EmptyMatrix,
                keyword,
                format!("every combination of the matrix of `{job}` is excluded"),
            )
            .label("no instance left")
            .help("remove an exclude, or add an `include { … }` for the combination to run"),
        );
    }
    let mut seen: IndexMap<String, Option<usize>> = IndexMap::new();
    for instance in &expansion.instances {
        let id = instance_id(job, &matrix.id_values(&instance.values));
        match seen.get(&id) {
            Some(first) => {
                let at = instance
                    .created_by
                    .map_or(block.span, |index| include_spans[index]);
                let mut diagnostic = Diagnostic::new(
                    Code::DuplicateMatrixInstance,
                    at,
                    format!("this include adds the instance `{id}` a second time"),
                )
                .label("same values again")
                .help(if matrix.axes.is_empty() {
                    "give each include of a matrix without axes different values".to_string()
                } else {
                    "instances are named by their axis values: give the include a value of an axis \
                     no other instance has, or merge the two includes"
                        .to_string()
                });
                if let Some(first) = first {
                    diagnostic = diagnostic.related(include_spans[*first], "first added here");
                }
                sink.push(diagnostic);
            }
            None => {
                seen.insert(id, instance.created_by);
            }
        }
    }
    (matrix, include_spans)
}

/// One entry's `key = value` pairs; `None` when it has errors (reported).
fn read_entry(
    entry: &ast::MatrixEntry,
    axes: &IndexMap<String, Vec<String>>,
    sink: &mut Sink,
) -> Option<Values> {
    let word = entry.kind.as_str();
    if entry.values.is_empty() {
        sink.push(
            Diagnostic::new(
                Code::EmptyMatrixEntry,
                entry.keyword,
                format!("this {word} has no keys"),
            )
            .label(format!("empty {word}"))
            .help(match entry.kind {
                MatrixEntryKind::Include => "write the values it adds: `include { os = \"macos-14\"  runner = \"macos-14\" }`",
                MatrixEntryKind::Exclude => "write the axis values it removes: `exclude { os = \"windows-latest\" }`",
            }),
        );
        return None;
    }
    let mut values = Values::new();
    let mut spans: IndexMap<String, Span> = IndexMap::new();
    let mut ok = true;
    for attribute in &entry.values {
        let name = &attribute.name;
        if let Some(first) = spans.get(&name.name) {
            sink.push(
                Diagnostic::new(
                    Code::DuplicateAttribute,
                    name.span,
                    format!("`{}` is set twice in this {word}", name.name),
                )
                .label("set again here")
                .related(*first, "first set here")
                .help("give each key one value; write another entry for another value"),
            );
            ok = false;
            continue;
        }
        spans.insert(name.name.clone(), name.span);
        if entry.kind == MatrixEntryKind::Exclude && !axes.contains_key(&name.name) {
            let known: Vec<String> = axes.keys().map(|k| format!("`{k}`")).collect();
            sink.push(
                Diagnostic::new(
                    Code::UnknownMatrixKey,
                    name.span,
                    format!("this exclude names `{}`, which is not an axis", name.name),
                )
                .label("not an axis of the matrix")
                .help(if known.is_empty() {
                    "a matrix without axes has nothing to exclude; remove the exclude".to_string()
                } else {
                    format!("an exclude names axes only: {}", known.join(", "))
                }),
            );
            ok = false;
            continue;
        }
        let value = match &attribute.value.kind {
            ExprKind::String(s) => s.clone(),
            ExprKind::Integer(n) => n.to_string(),
            ExprKind::Bool(b) => b.to_string(),
            ExprKind::Invalid => {
                ok = false;
                continue;
            }
            other => {
                sink.push(
                    Diagnostic::new(
                        Code::AttributeType,
                        attribute.value.span,
                        format!(
                            "a matrix {word} value must be a string, an integer or a boolean, found {}",
                            other.describe()
                        ),
                    )
                    .label("not a matrix value")
                    .help(format!("write `{} = \"value\"`: one value per key", name.name)),
                );
                ok = false;
                continue;
            }
        };
        values.insert(name.name.clone(), value);
    }
    ok.then_some(values)
}

/// The attributes whose value is a bare `matrix.KEY` (v2 §7).
pub const MATRIX_VALUED: &[&str] = &["runner", "image", "timeout"];

/// `runner = matrix.KEY` (or `image`, `timeout`): the attribute, the key and where it is.
#[derive(Debug, Clone, PartialEq)]
pub struct MatrixReference {
    pub attribute: String,
    pub key: String,
    pub span: Span,
}

/// Whether an attribute is `runner`/`image`/`timeout = matrix.KEY` (checked in each job that
/// has it, merged from a template or its own).
pub fn is_reference(attribute: &ast::Attribute) -> bool {
    matches!(&attribute.value.kind, ExprKind::Ident(path)
        if MATRIX_VALUED.contains(&attribute.name.name.as_str()) && path.starts_with("matrix."))
}

/// Splits `runner`/`image`/`timeout = matrix.KEY` off a job's attributes; the rest are read
/// by the schema as before.
pub fn split_references(
    attributes: Vec<&ast::Attribute>,
) -> (Vec<MatrixReference>, Vec<&ast::Attribute>) {
    let mut references = Vec::new();
    let mut rest = Vec::new();
    for attribute in attributes {
        match &attribute.value.kind {
            ExprKind::Ident(path)
                if MATRIX_VALUED.contains(&attribute.name.name.as_str())
                    && path.starts_with("matrix.") =>
            {
                references.push(MatrixReference {
                    attribute: attribute.name.name.clone(),
                    key: path["matrix.".len()..].to_string(),
                    span: attribute.value.span,
                });
            }
            _ => rest.push(attribute),
        }
    }
    (references, rest)
}

/// Checks each reference against the job's matrix: a key no instance has is E0218, an
/// instance without it E0322 (at the include that created it), a `timeout` value that is not
/// a duration E0304.
pub fn check_references(
    references: &[MatrixReference],
    matrix: &Matrix,
    include_spans: &[Span],
    job: &str,
    sink: &mut Sink,
) {
    if references.is_empty() {
        return;
    }
    let keys = matrix.keys();
    let expansion = matrix.expand();
    for reference in references {
        if matrix.is_empty() || !keys.contains(&reference.key) {
            let known: Vec<String> = keys.iter().map(|k| format!("`matrix.{k}`")).collect();
            sink.push(
                Diagnostic::new(
                    Code::UnknownMatrixKey,
                    reference.span,
                    format!("`{job}` has no matrix key `{}`", reference.key),
                )
                .label("no instance has this key")
                .help(if known.is_empty() {
                    format!(
                        "add a `matrix {{ {} = [...] }}` to the job, or write the {} as a string",
                        reference.key, reference.attribute
                    )
                } else {
                    format!("the job's matrix keys: {}", known.join(", "))
                }),
            );
            continue;
        }
        let mut reported_axis_combination = false;
        for instance in &expansion.instances {
            let Some(value) = instance.values.get(&reference.key) else {
                let id = instance_id(job, &matrix.id_values(&instance.values));
                let at = match instance.created_by {
                    Some(index) => include_spans[index],
                    None if reported_axis_combination => continue,
                    None => {
                        reported_axis_combination = true;
                        reference.span
                    }
                };
                sink.push(
                    Diagnostic::new(
                        Code::MatrixKeyMissing,
                        at,
                        format!(
                            "the instance `{id}` has no `{}`, which `{} = matrix.{}` needs",
                            reference.key, reference.attribute, reference.key
                        ),
                    )
                    .label(format!("no `{}` here", reference.key))
                    .related(reference.span, "needed here")
                    .help(format!(
                        "give every instance a `{0}`: add `{0} = \"…\"` to this include, or an                          `include {{ {0} = \"…\" }}` that matches every combination",
                        reference.key
                    )),
                );
                continue;
            };
            if reference.attribute == "timeout"
                && crate::syntax::literal::duration_seconds(value).is_none()
            {
                sink.push(
                    Diagnostic::new(
                        Code::InvalidValue,
                        reference.span,
                        format!(
                            "the matrix value `{value}` of `{}` is not a duration",
                            reference.key
                        ),
                    )
                    .label("read as the job's timeout")
                    .help("write the matrix values as durations: `\"30m\"`, `\"1h\"`"),
                );
            }
        }
    }
}

/// Whether a condition reads `matrix.KEY` anywhere.
pub fn mentions_matrix(expr: &ast::Expr) -> bool {
    match &expr.kind {
        ExprKind::Ident(name) => name.starts_with("matrix."),
        ExprKind::Compare { left, right, .. } => mentions_matrix(left) || mentions_matrix(right),
        ExprKind::And(l, r) | ExprKind::Or(l, r) => mentions_matrix(l) || mentions_matrix(r),
        ExprKind::Not(inner) => mentions_matrix(inner),
        _ => false,
    }
}

/// `when` of a job that reads `matrix.KEY` (v2 §7): typed once per instance with its values in
/// place (the key fixed per instance, so the proof sees a constant), each folded. Returns the
/// instances' conditions (`None`: always runs), in the order of `matrix.expand()`; problems
/// are reported once, at the first instance.
pub fn instance_conditions(
    when: &ast::Expr,
    matrix: &Matrix,
    job: &str,
    sink: &mut Sink,
) -> Vec<Option<crate::model::Condition>> {
    let keys = matrix.keys();
    let mut unknown = Vec::new();
    references_in(when, &mut unknown);
    let mut ok = true;
    for (name, span) in unknown {
        let key = &name["matrix.".len()..];
        if !keys.iter().any(|k| k == key) {
            let known: Vec<String> = keys.iter().map(|k| format!("`matrix.{k}`")).collect();
            sink.push(
                Diagnostic::new(
                    Code::UnknownMatrixKey,
                    span,
                    format!("`{job}` has no matrix key `{key}`"),
                )
                .label("no instance has this key")
                .help(if known.is_empty() {
                    "a condition reads `matrix.KEY` only in a job with a `matrix`".to_string()
                } else {
                    format!("the job's matrix keys: {}", known.join(", "))
                }),
            );
            ok = false;
        }
    }
    if !ok {
        return Vec::new();
    }
    let mut conditions = Vec::new();
    for (index, instance) in matrix.expand().instances.iter().enumerate() {
        let mut scratch = Sink::default();
        let substituted = substitute(
            when,
            &instance.values,
            if index == 0 { &mut *sink } else { &mut scratch },
        );
        let typed = super::condition::type_condition(
            &substituted,
            if index == 0 { &mut *sink } else { &mut scratch },
        );
        let Some(condition) = typed else {
            return Vec::new();
        };
        conditions.push(match fold(condition) {
            crate::model::Condition::Const(true) => None,
            other => Some(other),
        });
    }
    conditions
}

/// The condition under which every instance runs (the checker's proof reads it: a job counts
/// as run only when all of its instances run).
pub fn all_instances(
    conditions: &[Option<crate::model::Condition>],
) -> Option<crate::model::Condition> {
    let mut distinct: Vec<crate::model::Condition> = Vec::new();
    for condition in conditions.iter().flatten() {
        if !distinct.contains(condition) {
            distinct.push(condition.clone());
        }
    }
    match distinct.len() {
        0 => None,
        1 => distinct.pop(),
        _ => Some(fold(crate::model::Condition::And(distinct))),
    }
}

fn references_in(expr: &ast::Expr, out: &mut Vec<(String, Span)>) {
    match &expr.kind {
        ExprKind::Ident(name) if name.starts_with("matrix.") => out.push((name.clone(), expr.span)),
        ExprKind::Compare { left, right, .. } => {
            references_in(left, out);
            references_in(right, out);
        }
        ExprKind::And(l, r) | ExprKind::Or(l, r) => {
            references_in(l, out);
            references_in(r, out);
        }
        ExprKind::Not(inner) => references_in(inner, out),
        _ => {}
    }
}

/// `expr` with each comparison of `matrix.KEY` and a literal replaced by its outcome for
/// `values` (a key the instance lacks reads as `""`, as `CDL_MATRIX_<KEY>` does).
fn substitute(expr: &ast::Expr, values: &Values, sink: &mut Sink) -> ast::Expr {
    let kind = match &expr.kind {
        ExprKind::Compare { op, left, right } => {
            let (reference, literal) = match (&left.kind, &right.kind) {
                (ExprKind::Ident(l), _) if l.starts_with("matrix.") => (l, right),
                (_, ExprKind::Ident(r)) if r.starts_with("matrix.") => (r, left),
                _ => return expr.clone(),
            };
            let actual = values
                .get(&reference["matrix.".len()..])
                .map_or("", String::as_str);
            let expected = match &literal.kind {
                ExprKind::String(s) => s.clone(),
                ExprKind::Integer(n) => n.to_string(),
                ExprKind::Bool(b) => b.to_string(),
                other => {
                    sink.push(
                        Diagnostic::new(
                            Code::ConditionType,
                            literal.span,
                            format!("`{reference}` compared with {}", other.describe()),
                        )
                        .label("expected a value")
                        .help(format!(
                            "compare it with a value: `{reference} == \"linux\"`"
                        )),
                    );
                    return ast::Expr {
                        kind: ExprKind::Invalid,
                        span: expr.span,
                    };
                }
            };
            ExprKind::Bool(match op {
                crate::model::CompareOp::Equal => actual == expected,
                crate::model::CompareOp::NotEqual => actual != expected,
                crate::model::CompareOp::Matches => {
                    crate::model::condition::glob_matches(&expected, actual)
                }
            })
        }
        ExprKind::And(l, r) => ExprKind::And(
            Box::new(substitute(l, values, sink)),
            Box::new(substitute(r, values, sink)),
        ),
        ExprKind::Or(l, r) => ExprKind::Or(
            Box::new(substitute(l, values, sink)),
            Box::new(substitute(r, values, sink)),
        ),
        ExprKind::Not(inner) => ExprKind::Not(Box::new(substitute(inner, values, sink))),
        _ => return expr.clone(),
    };
    ast::Expr {
        kind,
        span: expr.span,
    }
}

/// Folds constants: `true && c` is `c`, `false || c` is `c`, `!false` is `true`.
fn fold(condition: crate::model::Condition) -> crate::model::Condition {
    use crate::model::Condition::{And, Const, Not, Or};
    match condition {
        And(items) => {
            let mut kept = Vec::new();
            for item in items.into_iter().map(fold) {
                match item {
                    Const(true) => {}
                    Const(false) => return Const(false),
                    other => kept.push(other),
                }
            }
            match kept.len() {
                0 => Const(true),
                1 => kept.pop().expect("one"),
                _ => And(kept),
            }
        }
        Or(items) => {
            let mut kept = Vec::new();
            for item in items.into_iter().map(fold) {
                match item {
                    Const(false) => {}
                    Const(true) => return Const(true),
                    other => kept.push(other),
                }
            }
            match kept.len() {
                0 => Const(false),
                1 => kept.pop().expect("one"),
                _ => Or(kept),
            }
        }
        Not(inner) => match fold(*inner) {
            Const(value) => Const(!value),
            other => Not(Box::new(other)),
        },
        other => other,
    }
}

/// Splits a `when` that reads `matrix.KEY` off a job's attributes: it is typed per instance.
pub fn split_when(attributes: Vec<&ast::Attribute>) -> (Option<ast::Expr>, Vec<&ast::Attribute>) {
    let mut when = None;
    let mut rest = Vec::new();
    for attribute in attributes {
        if attribute.name.name == "when" && when.is_none() && mentions_matrix(&attribute.value) {
            when = Some(attribute.value.clone());
        } else {
            rest.push(attribute);
        }
    }
    (when, rest)
}
