//! The atom of targets whose conditions compare named fields of a run (GitLab's predefined
//! variables, Buildkite's build fields): a field is null or not, equal to a text or not,
//! matching a glob or not. A null field equals no text and matches no glob.

use super::boolean::Bool;

#[derive(Debug, Clone, PartialEq)]
pub enum FieldTest {
    /// `FIELD == null` (`null`) or `FIELD != null`.
    Null { field: String, null: bool },
    /// `FIELD == "text"` (`equal`) or `FIELD != "text"`.
    Equals {
        field: String,
        text: String,
        equal: bool,
    },
    /// `FIELD =~ /glob/` (`matching`) or `FIELD !~ /glob/`, anchored.
    Matches {
        field: String,
        glob: String,
        matching: bool,
    },
    /// `FIELD == OTHER` (`equal`) or `FIELD != OTHER`: two fields of the run (v2 i13d: the
    /// branch and the default branch). An unset field equals no other.
    Same {
        field: String,
        other: String,
        equal: bool,
    },
}

impl FieldTest {
    pub fn null(field: &str, null: bool) -> Bool<FieldTest> {
        Bool::Atom(FieldTest::Null {
            field: field.to_string(),
            null,
        })
    }

    pub fn equals(field: &str, text: &str) -> Bool<FieldTest> {
        Bool::Atom(FieldTest::Equals {
            field: field.to_string(),
            text: text.to_string(),
            equal: true,
        })
    }

    pub fn matches(field: &str, glob: &str) -> Bool<FieldTest> {
        Bool::Atom(FieldTest::Matches {
            field: field.to_string(),
            glob: glob.to_string(),
            matching: true,
        })
    }

    pub fn same(field: &str, other: &str) -> Bool<FieldTest> {
        Bool::Atom(FieldTest::Same {
            field: field.to_string(),
            other: other.to_string(),
            equal: true,
        })
    }

    /// The opposite test, for negation normal form.
    pub fn negated(self) -> Bool<FieldTest> {
        Bool::Atom(match self {
            FieldTest::Null { field, null } => FieldTest::Null { field, null: !null },
            FieldTest::Equals { field, text, equal } => FieldTest::Equals {
                field,
                text,
                equal: !equal,
            },
            FieldTest::Matches {
                field,
                glob,
                matching,
            } => FieldTest::Matches {
                field,
                glob,
                matching: !matching,
            },
            FieldTest::Same {
                field,
                other,
                equal,
            } => FieldTest::Same {
                field,
                other,
                equal: !equal,
            },
        })
    }

    /// The comparison operator the target writes: `==`/`!=`, or `=~`/`!~` for a pattern.
    pub fn operator(&self, pattern: bool) -> &'static str {
        let positive = match self {
            FieldTest::Null { null, .. } => *null,
            FieldTest::Equals { equal, .. } => *equal,
            FieldTest::Matches { matching, .. } => *matching,
            FieldTest::Same { equal, .. } => *equal,
        };
        match (pattern, positive) {
            (false, true) => "==",
            (false, false) => "!=",
            (true, true) => "=~",
            (true, false) => "!~",
        }
    }

    /// Whether the test holds when `value` reads the fields (`None`: null) and `pattern`
    /// decides a match.
    #[cfg(test)]
    pub fn holds(
        &self,
        value: impl Fn(&str) -> Option<String>,
        pattern: impl Fn(&str, &str) -> bool,
    ) -> bool {
        match self {
            FieldTest::Null { field, null } => value(field).is_none() == *null,
            FieldTest::Equals { field, text, equal } => {
                (value(field).as_deref() == Some(text)) == *equal
            }
            FieldTest::Matches {
                field,
                glob,
                matching,
            } => value(field).is_some_and(|v| pattern(glob, &v)) == *matching,
            FieldTest::Same {
                field,
                other,
                equal,
            } => {
                let (a, b) = (value(field), value(other));
                (a.is_some() && a == b) == *equal
            }
        }
    }
}
