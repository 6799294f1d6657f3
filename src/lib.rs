//! cdl, the continuous delivery language: parse, check, plan.
//!
//! Data flows one way: `syntax` (text → AST) → `check` (names, types, graph rules) →
//! `plan` (the DAG every consumer reads) → render / run / export.

extern crate alloc;

pub mod check;
pub mod codes;
pub mod compile;
pub mod diagnostic;
pub mod export;
pub mod fmt;
pub mod graph;
pub mod init;
pub mod lsp;
pub mod model;
pub mod plan;
pub mod render;
pub mod run;
pub mod source;
pub mod span;
pub mod syntax;
pub mod xml;
