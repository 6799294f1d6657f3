//! `Bool<A>`: the boolean form every target's condition is built in. A target supplies its
//! atoms (what it can compare) and a [`Syntax`] (how it writes them, `and`, `or`, `not` and
//! grouping); simplifying, negation normal form, evaluation and parenthesising are here.

/// A boolean expression over atoms `A`.
#[derive(Debug, Clone, PartialEq)]
pub enum Bool<A> {
    Const(bool),
    Atom(A),
    Not(Box<Bool<A>>),
    And(Vec<Bool<A>>),
    Or(Vec<Bool<A>>),
}

impl<A: Clone + PartialEq> Bool<A> {
    /// The negation, folding constants and double negations.
    pub fn negate(self) -> Bool<A> {
        match self {
            Bool::Const(value) => Bool::Const(!value),
            Bool::Not(inner) => *inner,
            other => Bool::Not(Box::new(other)),
        }
    }

    /// `all` of the parts (`any` of them when `negate`): the shape of a conjunction whose
    /// parts were negated already.
    pub fn all(parts: Vec<Bool<A>>, negate: bool) -> Bool<A> {
        if negate {
            Bool::Or(parts)
        } else {
            Bool::And(parts)
        }
    }

    /// `any` of the parts (`all` of them when `negate`).
    pub fn any(parts: Vec<Bool<A>>, negate: bool) -> Bool<A> {
        Bool::all(parts, !negate)
    }

    /// Negation normal form: every `Not` pushed down to an atom, where `negate_atom` says
    /// the atom's negation (an atom that has none returns `Bool::Not(atom)`).
    pub fn nnf(self, negate_atom: &impl Fn(A) -> Bool<A>) -> Bool<A> {
        self.nnf_in(false, negate_atom)
    }

    fn nnf_in(self, negated: bool, negate_atom: &impl Fn(A) -> Bool<A>) -> Bool<A> {
        match self {
            Bool::Const(value) => Bool::Const(value != negated),
            Bool::Atom(atom) if negated => negate_atom(atom),
            Bool::Atom(atom) => Bool::Atom(atom),
            Bool::Not(inner) => inner.nnf_in(!negated, negate_atom),
            Bool::And(items) => Bool::all(
                items
                    .into_iter()
                    .map(|b| b.nnf_in(negated, negate_atom))
                    .collect(),
                negated,
            ),
            Bool::Or(items) => Bool::any(
                items
                    .into_iter()
                    .map(|b| b.nnf_in(negated, negate_atom))
                    .collect(),
                negated,
            ),
        }
    }

    /// Flattens nested `and`/`or`, folds constants and double negations, drops repeated
    /// operands and absorbed ones (`a || (a && b)` is `a`).
    pub fn simplify(self) -> Bool<A> {
        match self {
            Bool::Not(inner) => inner.simplify().negate(),
            Bool::And(items) => combine(items, true),
            Bool::Or(items) => combine(items, false),
            other => other,
        }
    }

    #[cfg(test)]
    /// The value, given each atom's.
    pub fn evaluate(&self, atom: &impl Fn(&A) -> bool) -> bool {
        match self {
            Bool::Const(value) => *value,
            Bool::Atom(a) => atom(a),
            Bool::Not(inner) => !inner.evaluate(atom),
            Bool::And(items) => items.iter().all(|b| b.evaluate(atom)),
            Bool::Or(items) => items.iter().any(|b| b.evaluate(atom)),
        }
    }

    /// The same expression with every atom replaced by an expression.
    pub fn map<B>(self, f: &mut impl FnMut(A) -> Bool<B>) -> Bool<B> {
        match self {
            Bool::Const(value) => Bool::Const(value),
            Bool::Atom(a) => f(a),
            Bool::Not(inner) => Bool::Not(Box::new(inner.map(f))),
            Bool::And(items) => Bool::And(items.into_iter().map(|b| b.map(f)).collect()),
            Bool::Or(items) => Bool::Or(items.into_iter().map(|b| b.map(f)).collect()),
        }
    }
}

/// `and` (`all`) or `or` of simplified operands.
fn combine<A: Clone + PartialEq>(items: Vec<Bool<A>>, all: bool) -> Bool<A> {
    let mut operands: Vec<Bool<A>> = Vec::new();
    for item in items.into_iter().map(Bool::simplify) {
        let flattened = match item {
            Bool::Const(value) if value == all => continue,
            Bool::Const(value) => return Bool::Const(value),
            Bool::And(inner) if all => inner,
            Bool::Or(inner) if !all => inner,
            other => vec![other],
        };
        for operand in flattened {
            if !operands.contains(&operand) {
                operands.push(operand);
            }
        }
    }
    absorb(&mut operands, all);
    match operands.len() {
        0 => Bool::Const(all),
        1 => operands.pop().expect("one operand"),
        _ => Bool::all(operands, !all),
    }
}

/// Absorption: in `a || (a && b)` the second operand adds nothing, as does the second of
/// `a && (a || b)`.
fn absorb<A: Clone + PartialEq>(operands: &mut Vec<Bool<A>>, all: bool) {
    let parts = |b: &Bool<A>| -> Vec<Bool<A>> {
        match (b, all) {
            (Bool::Or(items), true) | (Bool::And(items), false) => items.clone(),
            (other, _) => vec![other.clone()],
        }
    };
    let mut index = 0;
    while index < operands.len() {
        let own = parts(&operands[index]);
        let redundant = operands.iter().enumerate().any(|(other, b)| {
            other != index && {
                let smaller = parts(b);
                smaller.len() < own.len() && smaller.iter().all(|p| own.contains(p))
            }
        });
        if redundant {
            operands.remove(index);
        } else {
            index += 1;
        }
    }
}

/// How a target writes an expression. Binding strength: `or` 1 < `and` 2 < `not` 3; an atom
/// binds as [`Syntax::atom_binds`] says (3 unless it needs parentheses under a `not`). A
/// nested `and`/`or` is always grouped, for the reader.
pub trait Syntax<A> {
    fn atom(&self, atom: &A) -> String;
    fn constant(&self, value: bool) -> String {
        value.to_string()
    }
    /// The separator of a conjunction.
    fn and(&self) -> &'static str {
        " && "
    }
    /// The separator of a disjunction.
    fn or(&self) -> &'static str {
        " || "
    }
    /// `operand` negated; the operand is grouped already where it needs to be.
    fn not(&self, operand: String) -> String {
        format!("!{operand}")
    }
    /// An expression in the target's grouping, `(…)`.
    fn group(&self, text: String) -> String {
        format!("({text})")
    }
    fn atom_binds(&self, _atom: &A) -> u8 {
        3
    }
}

/// The expression as `syntax` writes it.
pub fn render<A>(expr: &Bool<A>, syntax: &impl Syntax<A>) -> String {
    render_at(expr, syntax, 0)
}

/// `level`: 0 at the top, 1 in an `or`, 2 in an `and`, 3 under a `not`.
fn render_at<A>(expr: &Bool<A>, syntax: &impl Syntax<A>, level: u8) -> String {
    let joined = |items: &[Bool<A>], separator: &str, own: u8| {
        let text = items
            .iter()
            .map(|b| render_at(b, syntax, own))
            .collect::<Vec<_>>()
            .join(separator);
        if level > 0 { syntax.group(text) } else { text }
    };
    match expr {
        Bool::Const(value) => syntax.constant(*value),
        Bool::Atom(atom) if syntax.atom_binds(atom) < level => syntax.group(syntax.atom(atom)),
        Bool::Atom(atom) => syntax.atom(atom),
        Bool::Not(inner) => syntax.not(render_at(inner, syntax, 3)),
        Bool::And(items) => joined(items, syntax.and(), 2),
        Bool::Or(items) => joined(items, syntax.or(), 1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type B = Bool<&'static str>;

    struct Plain;
    impl Syntax<&'static str> for Plain {
        fn atom(&self, atom: &&'static str) -> String {
            atom.to_string()
        }
        fn atom_binds(&self, atom: &&'static str) -> u8 {
            if atom.contains(' ') { 2 } else { 3 }
        }
    }

    fn a(name: &'static str) -> B {
        Bool::Atom(name)
    }

    #[test]
    fn simplifies_constants_repeats_and_absorbed_operands() {
        let x = Bool::And(vec![Bool::Const(true), a("x"), Bool::And(vec![a("x")])]);
        assert_eq!(x.simplify(), a("x"));
        assert_eq!(
            Bool::Or(vec![a("x"), Bool::Const(true)]).simplify(),
            Bool::Const(true)
        );
        assert_eq!(a("x").negate().negate(), a("x"));
        assert_eq!(B::And(vec![]).simplify(), Bool::Const(true));
        let absorbed = Bool::Or(vec![a("a"), Bool::And(vec![a("a"), a("b")])]);
        assert_eq!(absorbed.simplify(), a("a"));
    }

    #[test]
    fn negation_normal_form_pushes_not_to_the_atoms() {
        let e = Bool::Not(Box::new(Bool::And(vec![
            a("a"),
            Bool::Not(Box::new(a("b"))),
        ])));
        let nnf = e
            .clone()
            .nnf(&|atom| Bool::Atom(if atom == "a" { "A" } else { "B" }));
        assert_eq!(nnf, Bool::Or(vec![a("A"), a("b")]));
        for (va, vb) in [(false, false), (false, true), (true, false), (true, true)] {
            let value = |atom: &&str| match *atom {
                "a" => va,
                "A" => !va,
                "b" => vb,
                _ => !vb,
            };
            assert_eq!(e.evaluate(&value), nnf.evaluate(&value));
        }
    }

    #[test]
    fn renders_with_the_targets_precedence() {
        let e = Bool::Or(vec![
            Bool::And(vec![a("a"), a("b")]),
            Bool::Not(Box::new(a("x == y"))),
            Bool::Not(Box::new(Bool::Or(vec![a("c"), a("d")]))),
        ]);
        assert_eq!(render(&e, &Plain), "(a && b) || !(x == y) || !(c || d)");
        assert_eq!(
            render(&Bool::And(vec![a("x == y"), a("z")]), &Plain),
            "x == y && z"
        );
    }
}
