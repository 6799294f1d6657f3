//! A job's matrix (language v2 §7): its axes, `exclude` and `include` entries, and their
//! expansion into instances with GitHub's rules, so that `cdl run`, the plan and every export
//! see the same instances. Invariant: the instances of a checked matrix have distinct ids.
//!
//! GitHub's rules, in the order it applies them:
//! 1. the product of the axes (the first axis varies slowest);
//! 2. every `exclude` removes the combinations that match all of its keys;
//! 3. every `include` is compared with the combinations left by 1–2 (never with one an
//!    earlier include created): where all of its keys that are axes equal the combination's
//!    values, its other keys are added to it (overwriting what an earlier include added —
//!    original values are never overwritten, added values can be); when it matches none, it is
//!    one new combination of its own. A matrix without axes is its includes, one instance each.

use indexmap::IndexMap;

/// One instance's values: key → value, axes first (in written order), then keys added by
/// includes (in the order they were first added).
pub type Values = IndexMap<String, String>;

/// A matrix as written: axes with their values, then `exclude` and `include` entries in order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Matrix {
    pub axes: IndexMap<String, Vec<String>>,
    pub excludes: Vec<Values>,
    pub includes: Vec<Values>,
}

/// One combination of a matrix.
#[derive(Debug, Clone, PartialEq)]
pub struct Instance {
    pub values: Values,
    /// The include that created it (`None`: a combination of the axes).
    pub created_by: Option<usize>,
    /// The includes that added keys to it, in order.
    pub extended_by: Vec<usize>,
}

/// The instances, and what each entry did (for the checker's warnings).
#[derive(Debug, Clone, PartialEq)]
pub struct Expansion {
    pub instances: Vec<Instance>,
    /// Per exclude: how many combinations it removed.
    pub excluded: Vec<usize>,
    /// Per include: how many combinations it extended (0: it created one, or changed nothing).
    pub extended: Vec<usize>,
}

impl Matrix {
    pub fn is_empty(&self) -> bool {
        self.axes.is_empty() && self.includes.is_empty()
    }

    /// Every key some instance has: the axes, then the include keys, in written order.
    pub fn keys(&self) -> Vec<String> {
        let mut keys: Vec<String> = self.axes.keys().cloned().collect();
        for include in &self.includes {
            for key in include.keys() {
                if !keys.contains(key) {
                    keys.push(key.clone());
                }
            }
        }
        keys
    }

    /// The instances, by GitHub's rules (see the module's comment). An empty matrix has one
    /// instance without values (the job itself).
    pub fn expand(&self) -> Expansion {
        let mut combinations: Vec<Values> = vec![Values::new()];
        for (axis, values) in &self.axes {
            combinations = combinations
                .into_iter()
                .flat_map(|partial| {
                    values.iter().map(move |value| {
                        let mut next = partial.clone();
                        next.insert(axis.clone(), value.clone());
                        next
                    })
                })
                .collect();
        }
        if self.axes.is_empty() && !self.includes.is_empty() {
            combinations.clear();
        }
        let mut excluded = vec![0; self.excludes.len()];
        combinations.retain(|combination| {
            let mut keep = true;
            for (index, exclude) in self.excludes.iter().enumerate() {
                if matches(combination, exclude) {
                    excluded[index] += 1;
                    keep = false;
                }
            }
            keep
        });
        let mut instances: Vec<Instance> = combinations
            .into_iter()
            .map(|values| Instance {
                values,
                created_by: None,
                extended_by: Vec::new(),
            })
            .collect();
        let original = instances.len();
        let mut extended = vec![0; self.includes.len()];
        for (index, include) in self.includes.iter().enumerate() {
            let axis_part: Values = include
                .iter()
                .filter(|(k, _)| self.axes.contains_key(*k))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            let mut matched = false;
            for instance in &mut instances[..original] {
                if !matches(&instance.values, &axis_part) {
                    continue;
                }
                matched = true;
                let mut changed = false;
                for (key, value) in include {
                    if self.axes.contains_key(key) {
                        continue;
                    }
                    if instance.values.get(key) != Some(value) {
                        changed = true;
                    }
                    instance.values.insert(key.clone(), value.clone());
                }
                if changed {
                    extended[index] += 1;
                }
                instance.extended_by.push(index);
            }
            if !matched {
                // Axes first, in the axes' order, then the include's other keys.
                let mut values = Values::new();
                for axis in self.axes.keys() {
                    if let Some(value) = include.get(axis) {
                        values.insert(axis.clone(), value.clone());
                    }
                }
                for (key, value) in include {
                    if !values.contains_key(key) {
                        values.insert(key.clone(), value.clone());
                    }
                }
                instances.push(Instance {
                    values,
                    created_by: Some(index),
                    extended_by: Vec::new(),
                });
            }
        }
        Expansion {
            instances,
            excluded,
            extended,
        }
    }

    /// The values an instance's id is built from: its axes (a matrix of includes only: every
    /// key).
    pub fn id_values(&self, values: &Values) -> Values {
        if self.axes.is_empty() {
            return values.clone();
        }
        values
            .iter()
            .filter(|(k, _)| self.axes.contains_key(*k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }
}

/// Whether `values` holds every key of `entry` with the same value.
fn matches(values: &Values, entry: &Values) -> bool {
    entry.iter().all(|(k, v)| values.get(k) == Some(v))
}

/// `NAME[key=value,…]`. A value that is empty or holds `,` `=` `[` `]` `"` `\\`, white space
/// or a control character is quoted with Rust's string escapes (`unit[os="linux,arch=arm"]`),
/// so that two instances never share an id.
pub fn instance_id(name: &str, values: &Values) -> String {
    let parts: Vec<String> = values
        .iter()
        .map(|(key, value)| {
            if needs_quotes(value) {
                format!("{key}={value:?}")
            } else {
                format!("{key}={value}")
            }
        })
        .collect();
    format!("{name}[{}]", parts.join(","))
}

/// Whether an instance id quotes `value`.
pub fn needs_quotes(value: &str) -> bool {
    value.is_empty()
        || value.chars().any(|c| {
            matches!(c, ',' | '=' | '[' | ']' | '"' | '\\') || c.is_whitespace() || c.is_control()
        })
}

/// The name of an instance's folder under a matrix artifact: its id values joined with `-`,
/// each made file-name safe (`[A-Za-z0-9._]` kept, anything else `_`).
pub fn folder_name(values: &Values) -> String {
    values
        .values()
        .map(|value| {
            let safe: String = value
                .chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || c == '.' || c == '_' {
                        c
                    } else {
                        '_'
                    }
                })
                .collect();
            if safe.is_empty() || safe.chars().all(|c| c == '.') {
                format!("_{safe}")
            } else {
                safe
            }
        })
        .collect::<Vec<_>>()
        .join("-")
}

/// The longest folder name [`folder_names`] makes before it adds a suffix (a file name may
/// hold 255 bytes; this leaves room for the suffix and for a CI system's artifact prefix).
const MAX_FOLDER: usize = 120;

/// v2 i13k: the folders of a matrix artifact's instances, in order: each [`folder_name`]
/// (shortened to 120 bytes), and where two would be the same — compared without case, as
/// macOS and Windows compare file names — the later one gets `-2`, `-3`… (a suffix no other
/// instance's name has). Every name is non-empty, holds only `[A-Za-z0-9._-]`, is not `.` or
/// `..`, and no two are equal ignoring case.
pub fn folder_names(instances: &[Values]) -> Vec<String> {
    let bases: Vec<String> = instances
        .iter()
        .map(|values| {
            let mut name = folder_name(values);
            name.truncate(MAX_FOLDER);
            if name.is_empty() || name.chars().all(|c| c == '.') {
                name.insert(0, '_');
            }
            name
        })
        .collect();
    let all: std::collections::HashSet<String> =
        bases.iter().map(|b| b.to_ascii_lowercase()).collect();
    let mut taken = std::collections::HashSet::new();
    bases
        .into_iter()
        .map(|base| {
            let mut name = base.clone();
            let mut n = 2;
            while taken.contains(&name.to_ascii_lowercase())
                || (n > 2 && all.contains(&name.to_ascii_lowercase()))
            {
                name = format!("{base}-{n}");
                n += 1;
            }
            taken.insert(name.to_ascii_lowercase());
            name
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(pairs: &[(&str, &str)]) -> Values {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    /// GitHub's documented example ("Expanding or adding matrix configurations").
    #[test]
    fn github_documented_example() {
        let matrix = Matrix {
            axes: [
                ("fruit".to_string(), vec!["apple".into(), "pear".into()]),
                ("animal".to_string(), vec!["cat".into(), "dog".into()]),
            ]
            .into_iter()
            .collect(),
            excludes: vec![],
            includes: vec![
                values(&[("color", "green")]),
                values(&[("color", "pink"), ("animal", "cat")]),
                values(&[("fruit", "apple"), ("shape", "circle")]),
                values(&[("fruit", "banana")]),
                values(&[("fruit", "banana"), ("animal", "cat")]),
            ],
        };
        let got: Vec<Values> = matrix
            .expand()
            .instances
            .into_iter()
            .map(|i| i.values)
            .collect();
        let want = vec![
            values(&[
                ("fruit", "apple"),
                ("animal", "cat"),
                ("color", "pink"),
                ("shape", "circle"),
            ]),
            values(&[
                ("fruit", "apple"),
                ("animal", "dog"),
                ("color", "green"),
                ("shape", "circle"),
            ]),
            values(&[("fruit", "pear"), ("animal", "cat"), ("color", "pink")]),
            values(&[("fruit", "pear"), ("animal", "dog"), ("color", "green")]),
            values(&[("fruit", "banana")]),
            values(&[("fruit", "banana"), ("animal", "cat")]),
        ];
        assert_eq!(got, want);
    }

    #[test]
    fn excludes_come_before_includes() {
        let matrix = Matrix {
            axes: [
                ("os".to_string(), vec!["linux".into(), "windows".into()]),
                ("rust".to_string(), vec!["stable".into(), "nightly".into()]),
            ]
            .into_iter()
            .collect(),
            excludes: vec![values(&[("os", "windows"), ("rust", "nightly")])],
            includes: vec![values(&[
                ("os", "windows"),
                ("rust", "nightly"),
                ("x", "1"),
            ])],
        };
        let expansion = matrix.expand();
        assert_eq!(expansion.excluded, vec![1]);
        assert_eq!(expansion.instances.len(), 4);
        assert_eq!(expansion.instances[3].created_by, Some(0));
        assert_eq!(expansion.instances[3].values["x"], "1");
    }

    #[test]
    fn include_only_matrix_is_its_includes() {
        let matrix = Matrix {
            axes: IndexMap::new(),
            excludes: vec![],
            includes: vec![values(&[("a", "1")]), values(&[("a", "1"), ("b", "2")])],
        };
        let expansion = matrix.expand();
        assert_eq!(expansion.instances.len(), 2);
        assert_eq!(
            instance_id("j", &matrix.id_values(&expansion.instances[1].values)),
            "j[a=1,b=2]"
        );
    }

    #[test]
    fn folder_names_are_file_name_safe() {
        assert_eq!(
            folder_name(&values(&[("t", "x86_64-linux"), ("r", "a/b")])),
            "x86_64_linux-a_b"
        );
        assert_eq!(folder_name(&values(&[("t", "..")])), "_..");
        assert_eq!(folder_name(&values(&[("t", "")])), "_");
    }

    #[test]
    fn folder_names_are_unique_ignoring_case() {
        let list = [
            values(&[("t", "a/b")]),
            values(&[("t", "a_b")]),
            values(&[("t", "a_b-2")]),
            values(&[("t", "A_B")]),
        ];
        // `-` in a value is made `_`: only a suffix (or the join of two axes) holds `-`.
        assert_eq!(folder_names(&list), ["a_b", "a_b-2", "a_b_2", "A_B-3"]);
        let two_axes = [
            values(&[("t", "a/b"), ("u", "2")]),
            values(&[("t", "a_b"), ("u", "2")]),
            values(&[("t", "a_b")]),
            values(&[("t", "a/b")]),
        ];
        assert_eq!(
            folder_names(&two_axes),
            ["a_b-2", "a_b-2-2", "a_b", "a_b-3"]
        );
    }
}
