//! Proving `premises ⇒ conclusion` for conditions, by a truth table over their comparisons.
//!
//! Each distinct comparison (`branch == "main"`, `tag matches "v*"` …) is an independent
//! proposition, so the proof is sound but may miss facts that relate two comparisons. Beyond
//! [`MAX_ATOMS`] comparisons the implication is reported unproved.

use super::condition::{Condition, Variable};
use crate::syntax::ast::CompareOp;

pub const MAX_ATOMS: usize = 16;

/// One comparison, with `!=` folded into a negated `==`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Atom {
    pub variable: Variable,
    pub matches: bool,
    pub value: String,
}

impl std::fmt::Display for Atom {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.variable, self.matches) {
            (Variable::Event, _) => write!(f, "event == {}", self.value),
            (v, true) => write!(f, "{} matches {:?}", v.as_str(), self.value),
            (v, false) => write!(f, "{} == {:?}", v.as_str(), self.value),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Proof {
    Proved,
    /// An assignment of the comparisons under which every premise holds and the conclusion
    /// does not.
    Refuted(Vec<(Atom, bool)>),
    /// Too many comparisons to enumerate.
    Unproved,
}

pub fn implies(premises: &[&Condition], conclusion: &Condition) -> Proof {
    if matches!(conclusion, Condition::Const(true)) || premises.contains(&conclusion) {
        return Proof::Proved;
    }
    if let Condition::And(parts) = conclusion
        && parts.iter().all(|p| premises.contains(&p))
    {
        return Proof::Proved;
    }
    let mut atoms: Vec<Atom> = Vec::new();
    for condition in premises.iter().copied().chain([conclusion]) {
        collect(condition, &mut atoms);
    }
    if atoms.len() > MAX_ATOMS {
        return Proof::Unproved;
    }
    for bits in 0u32..(1u32 << atoms.len()) {
        if !possible(&atoms, bits) {
            continue;
        }
        let value = |atom: &Atom| bits & (1 << index(&atoms, atom)) != 0;
        if premises.iter().all(|p| eval(p, &value)) && !eval(conclusion, &value) {
            return Proof::Refuted(
                atoms
                    .iter()
                    .enumerate()
                    .map(|(i, a)| (a.clone(), bits & (1 << i) != 0))
                    .collect(),
            );
        }
    }
    Proof::Proved
}

/// Whether an assignment can happen at all: a variable equals at most one value, so two
/// `==` comparisons of the same variable with different values are never both true.
fn possible(atoms: &[Atom], bits: u32) -> bool {
    let mut equal: Vec<&Atom> = Vec::new();
    for (i, atom) in atoms.iter().enumerate() {
        if bits & (1 << i) != 0 && !atom.matches {
            if equal.iter().any(|other| other.variable == atom.variable) {
                return false;
            }
            equal.push(atom);
        }
    }
    true
}

fn atom_of(variable: Variable, op: CompareOp, value: &str) -> (Atom, bool) {
    let atom = Atom {
        variable,
        matches: op == CompareOp::Matches,
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
            let (atom, _) = atom_of(*variable, *op, value);
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
            let (atom, negated) = atom_of(*variable, *op, v);
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
            Proof::Refuted(assignment) => assert!(!assignment[0].1),
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
        let conclusion = cmp(Variable::Tag, CompareOp::Equal, "x");
        assert_eq!(implies(&[&premise], &conclusion), Proof::Unproved);
    }
}
