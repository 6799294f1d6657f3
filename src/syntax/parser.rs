//! The pest parser generated from `grammar/cdl.pest`.

#[derive(pest_derive::Parser)]
#[grammar = "../grammar/cdl.pest"]
pub struct CdlParser;
