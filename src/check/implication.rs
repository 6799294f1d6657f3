//! Proving `premises ⇒ conclusion` for conditions, by a truth table over their comparisons.
//!
//! Conjuncts of the conclusion written literally in a premise are discharged first. Each
//! remaining distinct comparison (`branch == "main"`, `tag matches "v*"` …) is a proposition;
//! rows that cannot happen are skipped: a variable has one value, a value is inside or outside
//! a glob, and `prefix*` / `*suffix` globs include or exclude each other. Other relations
//! between two globs of one variable are unknown and treated as independent, which keeps the
//! proof sound but may miss facts. Beyond [`MAX_ATOMS`] comparisons the implication is
//! reported unproved.

use super::condition::{Condition, Variable, glob_matches};
use crate::model::glob::{self, Token};
use crate::syntax::ast::CompareOp;

pub const MAX_ATOMS: usize = 16;

/// One comparison, with `!=` folded into a negated `==` and a glob without `*` or `?` folded
/// into `==` (it matches exactly one text).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Atom {
    pub variable: Variable,
    pub matches: bool,
    pub value: String,
}

impl std::fmt::Display for Atom {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (&self.variable, self.matches) {
            (Variable::Event, _) => write!(f, "event == {}", self.value),
            (Variable::Changed, _) => write!(f, "changed({:?})", self.value),
            (v, true) => write!(f, "{} matches {:?}", v.as_str(), self.value),
            (v, false) => write!(f, "{} == {:?}", v.as_str(), self.value),
        }
    }
}

/// An assignment under which every premise holds and the conclusion does not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Counterexample {
    /// The comparisons that decide it, each true or false. A comparison that follows from a
    /// true `==` of the same variable is left out.
    pub assignment: Vec<(Atom, bool)>,
    /// True when two of its comparisons read the same variable in a way the checker cannot
    /// relate (globs other than `prefix*` and `*suffix`): the assignment treats them as
    /// independent and may not be realisable.
    pub independent: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Proof {
    Proved,
    Refuted(Counterexample),
    /// Too many comparisons to enumerate, even after discharging shared conjuncts.
    Unproved {
        comparisons: usize,
    },
}

pub fn implies(premises: &[&Condition], conclusion: &Condition) -> Proof {
    let mut facts: Vec<&Condition> = Vec::new();
    premises.iter().for_each(|p| conjuncts(p, &mut facts));
    let mut goals: Vec<&Condition> = Vec::new();
    conjuncts(conclusion, &mut goals);
    goals.retain(|g| !matches!(g, Condition::Const(true)) && !facts.contains(g));
    if goals.is_empty() {
        return Proof::Proved;
    }
    let goal = match goals.as_slice() {
        [one] => (*one).clone(),
        many => Condition::And(many.iter().map(|g| (*g).clone()).collect()),
    };
    // Facts that share no variable with the goal, directly or through other facts, cannot
    // decide it (unless they contradict each other, and then the deploy never runs): prove
    // without them, so that a large unrelated conjunct does not exhaust the truth table.
    let mut variables = variables(&goal);
    let mut relevant: Vec<&Condition> = Vec::new();
    let mut rest: Vec<&Condition> = facts;
    loop {
        let (joined, apart): (Vec<&Condition>, Vec<&Condition>) = rest
            .into_iter()
            .partition(|f| variables_overlap(f, &variables));
        rest = apart;
        if joined.is_empty() {
            break;
        }
        for fact in joined {
            for variable in self::variables(fact) {
                if !variables.contains(&variable) {
                    variables.push(variable);
                }
            }
            relevant.push(fact);
        }
    }
    truth_table(&relevant, &goal)
}

/// Whether some run satisfies the condition, as far as the checker can tell (`true` when
/// unknown: too many comparisons or globs it cannot relate).
pub fn satisfiable(condition: &Condition) -> bool {
    !matches!(
        truth_table(&[condition], &Condition::Const(false)),
        Proof::Proved
    )
}

/// The conjuncts of a condition, `&&` flattened at every depth.
fn conjuncts<'a>(condition: &'a Condition, out: &mut Vec<&'a Condition>) {
    match condition {
        Condition::And(items) => items.iter().for_each(|c| conjuncts(c, out)),
        other => out.push(other),
    }
}

fn variables(condition: &Condition) -> Vec<Variable> {
    let mut atoms = Vec::new();
    collect(condition, &mut atoms);
    let mut variables: Vec<Variable> = Vec::new();
    for atom in atoms {
        if !variables.contains(&atom.variable) {
            variables.push(atom.variable);
        }
    }
    variables
}

fn variables_overlap(condition: &Condition, variables: &[Variable]) -> bool {
    self::variables(condition)
        .iter()
        .any(|v| variables.contains(v))
}

fn truth_table(facts: &[&Condition], goal: &Condition) -> Proof {
    let mut atoms: Vec<Atom> = Vec::new();
    for condition in facts.iter().copied().chain([goal]) {
        collect(condition, &mut atoms);
    }
    if atoms.len() > MAX_ATOMS {
        return Proof::Unproved {
            comparisons: atoms.len(),
        };
    }
    let relations = Relations::between(&atoms);
    for bits in 0u32..(1u32 << atoms.len()) {
        if !relations.possible(bits) {
            continue;
        }
        let value = |atom: &Atom| bits & (1 << index(&atoms, atom)) != 0;
        if facts.iter().all(|p| eval(p, &value)) && !eval(goal, &value) {
            return Proof::Refuted(relations.counterexample(&atoms, bits));
        }
    }
    Proof::Proved
}

/// What is known about pairs of comparisons of one variable.
struct Relations {
    /// `(a, b)`: whenever `a` holds, `b` holds.
    inclusions: Vec<(usize, usize)>,
    /// `(a, b)`: never both hold.
    exclusions: Vec<(usize, usize)>,
    /// `(a, b)`: related in a way the checker does not model.
    unknown: Vec<(usize, usize)>,
    /// Comparisons true on every run (`matches "*"`).
    always: Vec<usize>,
}

impl Relations {
    fn between(atoms: &[Atom]) -> Relations {
        let mut relations = Relations {
            inclusions: Vec::new(),
            exclusions: Vec::new(),
            unknown: Vec::new(),
            always: Vec::new(),
        };
        for (i, a) in atoms.iter().enumerate() {
            // v2 i14b: `changed()` atoms are unknown propositions: any of them may be false
            // (nothing changed) or true, whatever the others say (the text relations of
            // globs do not hold for sets of paths). Related ones are marked independent.
            if a.variable == Variable::Changed {
                for (j, b) in atoms.iter().enumerate().skip(i + 1) {
                    if b.variable == Variable::Changed {
                        relations.unknown.push((i, j));
                    }
                }
                continue;
            }
            if matches!(shape(a), Shape::Any) {
                relations.always.push(i);
            }
            for (j, b) in atoms.iter().enumerate().skip(i + 1) {
                if a.variable != b.variable {
                    continue;
                }
                let (ab, ba) = (includes(a, b), includes(b, a));
                if ab {
                    relations.inclusions.push((i, j));
                }
                if ba {
                    relations.inclusions.push((j, i));
                }
                if disjoint(a, b) {
                    relations.exclusions.push((i, j));
                } else if !ab && !ba && !overlap_known(a, b) {
                    relations.unknown.push((i, j));
                }
            }
        }
        relations
    }

    fn possible(&self, bits: u32) -> bool {
        let on = |i: usize| bits & (1 << i) != 0;
        self.always.iter().all(|&a| on(a))
            && self.inclusions.iter().all(|&(a, b)| !on(a) || on(b))
            && self.exclusions.iter().all(|&(a, b)| !(on(a) && on(b)))
    }

    fn counterexample(&self, atoms: &[Atom], bits: u32) -> Counterexample {
        let on = |i: usize| bits & (1 << i) != 0;
        let decided_by_equality = |i: usize| {
            atoms.iter().enumerate().any(|(j, other)| {
                j != i && on(j) && !other.matches && other.variable == atoms[i].variable
            })
        };
        Counterexample {
            assignment: atoms
                .iter()
                .enumerate()
                .filter(|(i, _)| !decided_by_equality(*i))
                .map(|(i, a)| (a.clone(), on(i)))
                .collect(),
            independent: self
                .unknown
                .iter()
                .any(|&(a, b)| !decided_by_equality(a) && !decided_by_equality(b)),
        }
    }
}

/// A glob's shape when the checker can reason about it.
enum Shape<'a> {
    Exact(&'a str),
    Prefix(&'a str),
    Suffix(&'a str),
    Any,
    Other,
}

fn shape(atom: &Atom) -> Shape<'_> {
    let value = atom.value.as_str();
    if !atom.matches {
        return Shape::Exact(value);
    }
    match glob::tokens(value).as_slice() {
        [Token::Star] => Shape::Any,
        [Token::Literal(_), Token::Star] => Shape::Prefix(lead(value)),
        [Token::Star, Token::Literal(_)] => Shape::Suffix(trail(value)),
        _ => Shape::Other,
    }
}

/// The literal text every value a glob matches starts with (empty for an exact value: the
/// shapes handle those).
fn lead(glob: &str) -> &str {
    let end = glob.find(['*', '?', '[']).unwrap_or(glob.len());
    if glob::is_literal(glob) {
        ""
    } else {
        &glob[..end]
    }
}

/// The literal text every value a glob matches ends with: the part after its last
/// metacharacter (`*`, `?`, or a class's `]` or `]+`).
fn trail(glob: &str) -> &str {
    if glob::is_literal(glob) {
        return "";
    }
    match glob::tokens(glob).last() {
        Some(Token::Literal(text)) => &glob[glob.len() - text.len()..],
        _ => "",
    }
}

/// Whether every value satisfying `a` satisfies `b` (only when certain): prefix and suffix
/// literal analysis, so `v1.*` and `v[0-9]+.x*` are both inside `v*`.
fn includes(a: &Atom, b: &Atom) -> bool {
    match (shape(a), shape(b)) {
        (_, Shape::Any) => true,
        (Shape::Exact(x), Shape::Exact(y)) => x == y,
        (Shape::Exact(x), _) => glob_matches(&b.value, x),
        (_, Shape::Prefix(y)) => lead(&a.value).starts_with(y),
        (_, Shape::Suffix(y)) => trail(&a.value).ends_with(y),
        _ => a == b,
    }
}

/// Whether no value satisfies both (only when certain): an exact value outside the other, or
/// literal prefixes (or suffixes) that disagree.
fn disjoint(a: &Atom, b: &Atom) -> bool {
    match (shape(a), shape(b)) {
        (Shape::Exact(x), Shape::Exact(y)) => x != y,
        (Shape::Exact(x), _) => !glob_matches(&b.value, x),
        (_, Shape::Exact(y)) => !glob_matches(&a.value, y),
        _ => {
            let (x, y) = (lead(&a.value), lead(&b.value));
            let (p, q) = (trail(&a.value), trail(&b.value));
            (!x.starts_with(y) && !y.starts_with(x)) || (!p.ends_with(q) && !q.ends_with(p))
        }
    }
}

/// Whether two globs that neither include nor exclude each other are known to be free: each
/// can hold with or without the other (`prefix*` and `*suffix`: `prefix…suffix`, `prefix`…).
fn overlap_known(a: &Atom, b: &Atom) -> bool {
    matches!(
        (shape(a), shape(b)),
        (Shape::Prefix(_), Shape::Suffix(_)) | (Shape::Suffix(_), Shape::Prefix(_))
    )
}

fn atom_of(variable: Variable, op: CompareOp, value: &str) -> (Atom, bool) {
    // v2 i14b: `changed("glob")` reads a set of files, not one text: never an equality.
    let glob =
        variable == Variable::Changed || (op == CompareOp::Matches && !glob::is_literal(value));
    let atom = Atom {
        variable,
        matches: glob,
        value: value.to_string(),
    };
    (atom, op == CompareOp::NotEqual)
}

fn collect(condition: &Condition, atoms: &mut Vec<Atom>) {
    match condition {
        Condition::Const(_) => {}
        Condition::Compare {
            variable,
            op,
            value,
        } => {
            let (atom, _) = atom_of(variable.clone(), *op, value);
            if !atoms.contains(&atom) {
                atoms.push(atom);
            }
        }
        Condition::And(items) | Condition::Or(items) => {
            items.iter().for_each(|c| collect(c, atoms))
        }
        Condition::Not(inner) => collect(inner, atoms),
    }
}

fn index(atoms: &[Atom], atom: &Atom) -> usize {
    atoms.iter().position(|a| a == atom).expect("collected")
}

fn eval(condition: &Condition, value: &impl Fn(&Atom) -> bool) -> bool {
    match condition {
        Condition::Const(b) => *b,
        Condition::Compare {
            variable,
            op,
            value: v,
        } => {
            let (atom, negated) = atom_of(variable.clone(), *op, v);
            value(&atom) != negated
        }
        Condition::And(items) => items.iter().all(|c| eval(c, value)),
        Condition::Or(items) => items.iter().any(|c| eval(c, value)),
        Condition::Not(inner) => !eval(inner, value),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmp(variable: Variable, op: CompareOp, value: &str) -> Condition {
        Condition::Compare {
            variable,
            op,
            value: value.into(),
        }
    }

    /// v2 i14b: `changed()` can be false whatever its glob, and globs of it are unrelated.
    #[test]
    fn changed_is_an_unknown_atom() {
        let changed = |g: &str| cmp(Variable::Changed, CompareOp::Matches, g);
        let main = cmp(Variable::Branch, CompareOp::Equal, "main");
        let guarded = Condition::And(vec![main.clone(), changed("**")]);
        // A premise with `changed()` still gives its other conjuncts.
        assert_eq!(implies(&[&guarded], &main), Proof::Proved);
        // `changed("**")` and `changed("*")` may be false: nothing changed.
        assert!(matches!(
            implies(&[&main], &changed("**")),
            Proof::Refuted(_)
        ));
        assert!(matches!(
            implies(&[&main], &changed("*")),
            Proof::Refuted(_)
        ));
        // Two literal paths are not exclusive (both files may change) …
        let both = Condition::And(vec![changed("a"), changed("b")]);
        assert!(satisfiable(&both));
        // … and nothing is assumed between globs.
        let refuted = implies(&[&changed("src/a")], &changed("src/*"));
        let Proof::Refuted(counterexample) = refuted else {
            panic!("{refuted:?}")
        };
        assert!(counterexample.independent);
        assert_eq!(implies(&[&changed("x")], &changed("x")), Proof::Proved);
        let either = Condition::Or(vec![main.clone(), changed("x")]);
        assert!(matches!(implies(&[&either], &main), Proof::Refuted(_)));
    }

    #[test]
    fn equal_conditions_imply_each_other() {
        let main = cmp(Variable::Branch, CompareOp::Equal, "main");
        assert_eq!(implies(&[&main], &main), Proof::Proved);
    }

    #[test]
    fn stronger_premise_implies_weaker_conclusion() {
        let main = cmp(Variable::Branch, CompareOp::Equal, "main");
        let push = cmp(Variable::Event, CompareOp::Equal, "push");
        let both = Condition::And(vec![main.clone(), push.clone()]);
        assert_eq!(implies(&[&both], &main), Proof::Proved);
        let either = Condition::Or(vec![main.clone(), push]);
        assert_eq!(implies(&[&main], &either), Proof::Proved);
    }

    #[test]
    fn no_premise_does_not_imply_a_condition() {
        let main = cmp(Variable::Branch, CompareOp::Equal, "main");
        match implies(&[], &main) {
            Proof::Refuted(counterexample) => assert!(!counterexample.assignment[0].1),
            other => panic!("expected a counterexample, got {other:?}"),
        }
    }

    #[test]
    fn not_equal_is_the_negation_of_equal() {
        let main = cmp(Variable::Branch, CompareOp::Equal, "main");
        let not_main = cmp(Variable::Branch, CompareOp::NotEqual, "main");
        let negated = Condition::Not(Box::new(main.clone()));
        assert_eq!(implies(&[&not_main], &negated), Proof::Proved);
        assert!(matches!(implies(&[&not_main], &main), Proof::Refuted(_)));
    }

    #[test]
    fn a_variable_has_one_value() {
        let tag = cmp(Variable::Event, CompareOp::Equal, "tag");
        let not_push = cmp(Variable::Event, CompareOp::NotEqual, "push");
        assert_eq!(implies(&[&tag], &not_push), Proof::Proved);
    }

    #[test]
    fn too_many_atoms_is_unproved() {
        let many: Vec<Condition> = (0..17)
            .map(|i| cmp(Variable::Branch, CompareOp::Equal, &format!("b{i}")))
            .collect();
        let premise = Condition::Or(many);
        let conclusion = cmp(Variable::Branch, CompareOp::Matches, "x*");
        assert_eq!(
            implies(&[&premise], &conclusion),
            Proof::Unproved { comparisons: 18 }
        );
    }

    fn branches(n: usize) -> Condition {
        Condition::Or(
            (0..n)
                .map(|i| cmp(Variable::Branch, CompareOp::Equal, &format!("b{i}")))
                .collect(),
        )
    }

    #[test]
    fn a_literally_shared_conjunct_is_discharged_before_the_truth_table() {
        let push = cmp(Variable::Event, CompareOp::Equal, "push");
        let deploy = Condition::And(vec![branches(17), push.clone()]);
        assert_eq!(implies(&[&deploy], &branches(17)), Proof::Proved);
        // The rest of the guard's condition reads another variable than the large conjunct.
        let guard = Condition::And(vec![
            branches(17),
            cmp(Variable::Event, CompareOp::NotEqual, "tag"),
        ]);
        assert_eq!(implies(&[&deploy], &guard), Proof::Proved);
        let wrong = Condition::And(vec![
            branches(17),
            cmp(Variable::Event, CompareOp::Equal, "tag"),
        ]);
        assert!(matches!(implies(&[&deploy], &wrong), Proof::Refuted(_)));
    }

    #[test]
    fn a_glob_without_metacharacters_is_equality() {
        let matches_main = cmp(Variable::Branch, CompareOp::Matches, "main");
        let main = cmp(Variable::Branch, CompareOp::Equal, "main");
        assert_eq!(implies(&[&matches_main], &main), Proof::Proved);
        assert_eq!(implies(&[&main], &matches_main), Proof::Proved);
    }

    #[test]
    fn prefix_and_suffix_globs_include_and_exclude_each_other() {
        let v1 = cmp(Variable::Tag, CompareOp::Matches, "v1.*");
        let v = cmp(Variable::Tag, CompareOp::Matches, "v*");
        assert_eq!(implies(&[&v1], &v), Proof::Proved);
        assert!(matches!(implies(&[&v], &v1), Proof::Refuted(_)));
        let release = cmp(Variable::Branch, CompareOp::Matches, "release/*");
        let not_main = cmp(Variable::Branch, CompareOp::NotEqual, "main");
        assert_eq!(implies(&[&release], &not_main), Proof::Proved);
        let hotfix = cmp(Variable::Branch, CompareOp::Matches, "hotfix/*");
        let not_hotfix = Condition::Not(Box::new(hotfix));
        assert_eq!(implies(&[&release], &not_hotfix), Proof::Proved);
        let rc = cmp(Variable::Tag, CompareOp::Matches, "*-rc");
        let rc1 = cmp(Variable::Tag, CompareOp::Matches, "*-rc1");
        assert_eq!(
            implies(&[&rc1], &Condition::Not(Box::new(rc))),
            Proof::Proved
        );
        let exact = cmp(Variable::Tag, CompareOp::Equal, "v1.2");
        assert_eq!(implies(&[&exact], &v1), Proof::Proved);
    }

    #[test]
    fn globs_with_classes_imply_by_their_literal_prefix_and_suffix() {
        let semver = cmp(Variable::Tag, CompareOp::Matches, "v[0-9]+.[0-9]+.[0-9]+");
        let v = cmp(Variable::Tag, CompareOp::Matches, "v*");
        assert_eq!(implies(&[&semver], &v), Proof::Proved);
        assert!(!matches!(implies(&[&v], &semver), Proof::Proved));
        let release = cmp(Variable::Tag, CompareOp::Matches, "release-*");
        assert_eq!(
            implies(&[&semver], &Condition::Not(Box::new(release))),
            Proof::Proved
        );
        let rc = cmp(Variable::Tag, CompareOp::Matches, "[0-9]*-rc");
        let suffix = cmp(Variable::Tag, CompareOp::Matches, "*rc");
        assert_eq!(implies(&[&rc], &suffix), Proof::Proved);
        // A class is not a literal: `v[12]` does not imply `v1`.
        let one_or_two = cmp(Variable::Tag, CompareOp::Matches, "v[12]");
        let one = cmp(Variable::Tag, CompareOp::Equal, "v1");
        assert!(!matches!(implies(&[&one_or_two], &one), Proof::Proved));
        let exact = cmp(Variable::Tag, CompareOp::Equal, "v2");
        assert_eq!(implies(&[&exact], &one_or_two), Proof::Proved);
    }

    #[test]
    fn counterexamples_are_consistent() {
        // `tag matches "v*"` true and `tag == ""` true cannot both hold.
        let v = cmp(Variable::Tag, CompareOp::Matches, "v*");
        let empty = cmp(Variable::Tag, CompareOp::Equal, "");
        let conclusion = Condition::Or(vec![
            empty.clone(),
            cmp(Variable::Branch, CompareOp::Equal, "main"),
        ]);
        let Proof::Refuted(counterexample) = implies(&[&v], &conclusion) else {
            panic!("expected a counterexample")
        };
        assert!(!counterexample.independent);
        let value = |text: &str| {
            counterexample
                .assignment
                .iter()
                .find(|(a, _)| a.value == text)
                .map(|(_, b)| *b)
        };
        assert_eq!(value("v*"), Some(true));
        assert_eq!(value(""), Some(false));
    }

    #[test]
    fn unrelated_globs_are_flagged_as_independent() {
        let a = cmp(Variable::Branch, CompareOp::Matches, "a*b*");
        let b = cmp(Variable::Branch, CompareOp::Matches, "*c?");
        let Proof::Refuted(counterexample) = implies(&[&a], &b) else {
            panic!("expected a counterexample")
        };
        assert!(counterexample.independent);
    }

    /// Every refutation is a real assignment: checked against actual values of the variable.
    #[test]
    fn refutations_agree_with_evaluation_on_concrete_values() {
        use crate::check::condition::RunContext;
        let values = [
            "",
            "main",
            "v1",
            "v1.2",
            "v2",
            "release/1",
            "x-rc",
            "x-rc1",
            "v",
        ];
        let atoms: Vec<Condition> = [
            "main",
            "v*",
            "v1.*",
            "release/*",
            "*-rc",
            "*rc1",
            "v1.2",
            "",
        ]
        .iter()
        .flat_map(|v| {
            [CompareOp::Equal, CompareOp::NotEqual, CompareOp::Matches]
                .map(|op| cmp(Variable::Branch, op, v))
        })
        .collect();
        for premise in &atoms {
            for conclusion in &atoms {
                let proof = implies(&[premise], conclusion);
                let holds_everywhere = values.iter().all(|v| {
                    let context = RunContext {
                        branch: Some(v.to_string()),
                        tag: None,
                        event: "push".into(),
                        ..RunContext::default()
                    };
                    !premise.evaluate(&context) || conclusion.evaluate(&context)
                });
                if proof == Proof::Proved {
                    assert!(holds_everywhere, "unsound: {premise} ⇒ {conclusion}");
                }
            }
        }
    }

    /// A model check: random conditions over comparisons of `branch` and `tag`, judged
    /// against every run of a finite universe rich enough to witness each relation. A proof
    /// must hold on every run; a counterexample not flagged `independent` must happen on one.
    #[test]
    fn proofs_and_counterexamples_agree_with_a_model() {
        use crate::check::condition::RunContext;
        let literals = [
            "main",
            "v*",
            "v1.*",
            "release/*",
            "*-rc",
            "v1.2",
            "",
            "*",
            "v[0-9]+.*",
            "[!v]*-rc",
            "v1.[0-9]",
        ];
        let mut universe: Vec<String> = ["zzz", "v1.5", "v12.3-rc", "a-rc", "v2.x", "v1.x"]
            .map(String::from)
            .to_vec();
        universe.extend(["v[0-9]+.*", "[!v]*-rc", "v1.[0-9]"].map(String::from));
        for literal in literals.iter().filter(|l| !l.contains('[')) {
            let bare = literal.replace('*', "");
            for v in [
                literal.to_string(),
                bare.clone(),
                format!("{bare}x"),
                format!("x{bare}"),
                format!("{bare}-rc"),
            ] {
                if !universe.contains(&v) {
                    universe.push(v);
                }
            }
        }
        let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
        let mut next = move |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n as u64) as usize
        };
        fn random(
            depth: usize,
            next: &mut impl FnMut(usize) -> usize,
            literals: &[&str],
        ) -> Condition {
            let variable = [Variable::Branch, Variable::Tag][next(2)].clone();
            let op = [CompareOp::Equal, CompareOp::NotEqual, CompareOp::Matches][next(3)];
            let leaf = cmp(variable, op, literals[next(literals.len())]);
            if depth == 0 {
                return leaf;
            }
            match next(4) {
                0 => Condition::And(vec![
                    random(depth - 1, next, literals),
                    random(depth - 1, next, literals),
                ]),
                1 => Condition::Or(vec![
                    random(depth - 1, next, literals),
                    random(depth - 1, next, literals),
                ]),
                2 => Condition::Not(Box::new(random(depth - 1, next, literals))),
                _ => leaf,
            }
        }
        let contexts: Vec<RunContext> = universe
            .iter()
            .flat_map(|b| {
                universe.iter().map(move |t| RunContext {
                    branch: Some(b.clone()),
                    tag: Some(t.clone()),
                    event: "push".into(),
                    ..RunContext::default()
                })
            })
            .collect();
        let (mut proved, mut refuted) = (0, 0);
        for _ in 0..1500 {
            let premise = random(2, &mut next, &literals);
            let conclusion = random(2, &mut next, &literals);
            match implies(&[&premise], &conclusion) {
                Proof::Proved => {
                    proved += 1;
                    for context in &contexts {
                        assert!(
                            !premise.evaluate(context) || conclusion.evaluate(context),
                            "unsound: {premise} ⇒ {conclusion} fails on {context:?}"
                        );
                    }
                }
                Proof::Refuted(counterexample) => {
                    refuted += 1;
                    if counterexample.independent {
                        continue;
                    }
                    let witnessed = contexts.iter().any(|context| {
                        counterexample.assignment.iter().all(|(atom, value)| {
                            let comparison = cmp(
                                atom.variable.clone(),
                                if atom.matches {
                                    CompareOp::Matches
                                } else {
                                    CompareOp::Equal
                                },
                                &atom.value,
                            );
                            comparison.evaluate(context) == *value
                        })
                    });
                    assert!(
                        witnessed,
                        "{premise} ⇒ {conclusion}: no run has {:?}",
                        counterexample.assignment
                    );
                }
                Proof::Unproved { .. } => {}
            }
        }
        assert!(
            proved > 100 && refuted > 100,
            "{proved} proved, {refuted} refuted"
        );
    }
}
