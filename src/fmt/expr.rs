//! Values: literals as written, lists (wrapped when long), conditions with the parentheses
//! the author wrote, and `"""` blocks re-indented under their attribute.

use super::{Formatter, WIDTH, width};
use crate::syntax::ast::{Expr, ExprKind, ValuePart};
use crate::syntax::literal;

impl Formatter<'_> {
    /// Writes a value that starts at `column` of a line indented `level` times.
    pub(super) fn value(&mut self, expr: &Expr, level: usize, column: usize) {
        match &expr.kind {
            ExprKind::List(items) if !self.parenthesized(expr) => {
                self.list(expr, items, level, column);
            }
            ExprKind::String(_) | ExprKind::Invalid if self.is_triple(expr) => {
                self.triple(expr, level);
            }
            ExprKind::And(..) | ExprKind::Or(..) => self.condition(expr, level, column),
            _ => {
                let flat = self.expr_flat(expr);
                self.out.push_str(&flat);
            }
        }
    }

    /// The value on one line (a `"""` block keeps its own lines).
    pub(super) fn expr_flat(&self, expr: &Expr) -> String {
        let text = match &expr.kind {
            ExprKind::List(items) => {
                let items: Vec<String> = items.iter().map(|i| self.expr_flat(i)).collect();
                format!("[{}]", items.join(", "))
            }
            ExprKind::Compare { op, left, right } => format!(
                "{} {} {}",
                self.expr_flat(left),
                op.as_str(),
                self.expr_flat(right)
            ),
            ExprKind::And(left, right) => {
                format!("{} && {}", self.expr_flat(left), self.expr_flat(right))
            }
            ExprKind::Or(left, right) => {
                format!("{} || {}", self.expr_flat(left), self.expr_flat(right))
            }
            ExprKind::Not(operand) => format!("!{}", self.expr_flat(operand)),
            ExprKind::Defined(name) => format!("defined({name})"),
            // v2 i14b
            ExprKind::Changed(globs) => {
                let globs: Vec<String> = globs.iter().map(|g| self.expr_flat(g)).collect();
                format!("changed({})", globs.join(", "))
            }
            // v2 i13j: each literal as written, each reference by its name.
            ExprKind::Value(value) => value
                .parts
                .iter()
                .map(|part| match part {
                    ValuePart::Literal { span, .. } => self.text[span.range()].trim().to_string(),
                    ValuePart::Reference { name, .. } => name.clone(),
                    ValuePart::Other(expr) => self.expr_flat(expr),
                })
                .collect::<Vec<_>>()
                .join(" + "),
            ExprKind::String(_)
            | ExprKind::Integer(_)
            | ExprKind::Duration(_)
            | ExprKind::Bool(_)
            | ExprKind::Ident(_)
            | ExprKind::Invalid => return self.literal(expr),
        };
        if self.parenthesized(expr) {
            format!("({text})")
        } else {
            text
        }
    }

    /// A literal as written, with one pair of the parentheses around it kept.
    fn literal(&self, expr: &Expr) -> String {
        let mut text = self.text[expr.span.range()].trim();
        let mut parenthesized = false;
        while let Some(inner) = text.strip_prefix('(').and_then(|t| t.strip_suffix(')')) {
            text = inner.trim();
            parenthesized = true;
        }
        if parenthesized {
            format!("({text})")
        } else {
            text.to_string()
        }
    }

    /// Whether the source wrapped this expression in parentheses: the lowering keeps their
    /// span but not the parentheses themselves.
    fn parenthesized(&self, expr: &Expr) -> bool {
        if self.text.as_bytes().get(expr.span.start as usize) != Some(&b'(') {
            return false;
        }
        match &expr.kind {
            ExprKind::Compare { left, .. } | ExprKind::And(left, _) | ExprKind::Or(left, _) => {
                expr.span.start < left.span.start
            }
            _ => true,
        }
    }

    fn is_triple(&self, expr: &Expr) -> bool {
        self.text[expr.span.range()].starts_with("\"\"\"")
    }

    /// `[a, b]` when it fits and holds no comment; otherwise one element per line.
    fn list(&mut self, expr: &Expr, items: &[Expr], level: usize, column: usize) {
        let (open, end) = (expr.span.start as usize, expr.span.end as usize);
        let flat = self.expr_flat(expr);
        if self.comments_in(open, end) == 0
            && !flat.contains('\n')
            && column + width(&flat) <= WIDTH
        {
            self.out.push_str(&flat);
            return;
        }
        if items.is_empty() && self.comments_in(open, end) == 0 {
            self.out.push_str("[]");
            return;
        }
        self.out.push('[');
        let mut from = open + 1;
        for k in 0..=items.len() {
            let to = items.get(k).map_or(end - 1, |i| i.span.start as usize);
            let gap = self.gap(from, to);
            self.trailing(&gap.trailing);
            self.out.push('\n');
            self.gap_lines(&gap.lines, level + 1, k == 0, k == items.len());
            if let Some(item) = items.get(k) {
                self.indent(level + 1);
                self.value(item, level + 1, (level + 1) * 2);
                self.out.push(',');
                from = item.span.end as usize;
            }
        }
        self.indent(level);
        self.out.push(']');
    }

    /// A condition on one line, or, when too long, broken before each `||` (or `&&`) of its
    /// outermost chain.
    fn condition(&mut self, expr: &Expr, level: usize, column: usize) {
        let flat = self.expr_flat(expr);
        if column + width(&flat) <= WIDTH || self.parenthesized(expr) {
            self.out.push_str(&flat);
            return;
        }
        let (operator, mut operands) = match &expr.kind {
            ExprKind::Or(..) => ("||", Vec::new()),
            _ => ("&&", Vec::new()),
        };
        self.chain(expr, operator, true, &mut operands);
        for (k, operand) in operands.iter().enumerate() {
            if k > 0 {
                self.out.push('\n');
                self.indent(level + 2);
                self.out.push_str(operator);
                self.out.push(' ');
            }
            let text = self.expr_flat(operand);
            self.out.push_str(&text);
        }
    }

    /// The operands of the chain of `operator` at the top of `expr` (not into parentheses).
    fn chain<'e>(&self, expr: &'e Expr, operator: &str, root: bool, operands: &mut Vec<&'e Expr>) {
        let same = match &expr.kind {
            ExprKind::Or(left, right) if operator == "||" => Some((left, right)),
            ExprKind::And(left, right) if operator == "&&" => Some((left, right)),
            _ => None,
        };
        match same {
            Some((left, right)) if root || !self.parenthesized(expr) => {
                self.chain(left, operator, false, operands);
                self.chain(right, operator, false, operands);
            }
            _ => operands.push(expr),
        }
    }

    /// A `"""` block whose text starts on the line after the quotes and whose closing quotes
    /// stand on their own line: its lines are re-indented one level under the line it starts
    /// on, when that provably leaves its value unchanged. Any other is printed as written.
    fn triple(&mut self, expr: &Expr, level: usize) {
        let raw = &self.text[expr.span.range()];
        let inner = &raw[3..raw.len() - 3];
        match reindent(inner, level + 1) {
            Some(lines) if same_value(inner, &lines) => {
                self.out.push_str("\"\"\"");
                self.out.push_str(&lines);
                self.out.push_str("\"\"\"");
            }
            _ => self.out.push_str(raw),
        }
    }
}

fn reindent(inner: &str, level: usize) -> Option<String> {
    let body = inner.strip_prefix('\n')?;
    if inner.contains('\r') {
        return None;
    }
    let mut lines: Vec<&str> = body.split('\n').collect();
    let closing = lines.pop()?;
    if lines.is_empty() || !closing.trim().is_empty() {
        return None;
    }
    let common = lines
        .iter()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start_matches([' ', '\t']).len())
        .min()
        .unwrap_or(0);
    let pad = super::INDENT.repeat(level);
    let mut out = String::from("\n");
    for line in lines {
        if let Some(rest) = line.get(common..).filter(|rest| !rest.is_empty()) {
            out.push_str(&pad);
            out.push_str(rest);
        }
        out.push('\n');
    }
    out.push_str(&pad);
    Some(out)
}

fn same_value(old: &str, new: &str) -> bool {
    let value = |raw: &str| literal::unescape(raw).map(|s| literal::dedent(&s)).ok();
    value(old).is_some() && value(old) == value(new)
}
