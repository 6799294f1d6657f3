//! Source text to syntax tree: the pest grammar, lowering, and readable syntax errors.

pub mod ast;
mod error;
pub mod lexer;
mod limits;
pub mod literal;
mod lower;
mod misplaced;
pub mod parser;

use pest::Parser as _;

use crate::diagnostic::Diagnostic;
use crate::span::FileId;
use parser::{CdlParser, Rule};

/// A parsed file, or the syntax error that stopped it; `diagnostics` holds literal
/// problems found while lowering (bad escapes, malformed numbers).
pub struct Parsed {
    pub file: Option<ast::File>,
    pub diagnostics: Vec<Diagnostic>,
}

pub fn parse(file: FileId, text: &str) -> Parsed {
    if let Some(diagnostic) = limits::check(file, text) {
        return Parsed {
            file: None,
            diagnostics: vec![diagnostic],
        };
    }
    match CdlParser::parse(Rule::file, text) {
        Ok(mut pairs) => {
            let mut lowerer = lower::Lowerer {
                file,
                diagnostics: Vec::new(),
                pending_doc: Vec::new(),
            };
            let tree = lowerer.file(pairs.next().expect("the file rule"));
            Parsed {
                file: Some(tree),
                diagnostics: lowerer.diagnostics,
            }
        }
        Err(err) => Parsed {
            file: None,
            diagnostics: vec![error::syntax_error(file, text, &err)],
        },
    }
}
