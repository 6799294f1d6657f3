//! `textDocument/semanticTokens/full` and `/full/delta`: every token of the document coloured
//! by what it is, so an editor without cdl's TextMate grammar colours it too. Names (pipelines,
//! kinds, environments, stages, jobs, secrets, teams, attributes, condition variables, events)
//! come from the analysis, declarations marked; keywords, strings, numbers, comments and
//! operators from the syntax's lexer. A delta is the changed middle of the last result.

use lsp_types::{
    SemanticToken, SemanticTokenModifier, SemanticTokenType, SemanticTokens, SemanticTokensDelta,
    SemanticTokensDeltaParams, SemanticTokensEdit, SemanticTokensFullDeltaResult,
    SemanticTokensLegend, SemanticTokensParams, SemanticTokensResult,
};

use crate::lsp::Server;
use crate::lsp::documents::Document;
use crate::lsp::names::{Role, Symbol, What};
use crate::lsp::position::Lines;
use crate::syntax::lexer::{self, TokenKind};

/// The token types, in legend order (a token's type is its index here).
pub const TYPES: &[SemanticTokenType] = &[
    SemanticTokenType::KEYWORD,
    SemanticTokenType::STRING,
    SemanticTokenType::NUMBER,
    SemanticTokenType::COMMENT,
    SemanticTokenType::OPERATOR,
    SemanticTokenType::CLASS,     // a pipeline
    SemanticTokenType::TYPE,      // a kind
    SemanticTokenType::ENUM,      // an environment
    SemanticTokenType::NAMESPACE, // a stage
    SemanticTokenType::FUNCTION,  // a job, gate or artifact
    SemanticTokenType::VARIABLE,  // a secret; a condition variable (defaultLibrary)
    SemanticTokenType::STRUCT,    // a team
    SemanticTokenType::PROPERTY,  // an attribute
    SemanticTokenType::EVENT,     // an event
];

pub const MODIFIERS: &[SemanticTokenModifier] = &[
    SemanticTokenModifier::DECLARATION,
    SemanticTokenModifier::DOCUMENTATION,
    SemanticTokenModifier::DEFAULT_LIBRARY,
    SemanticTokenModifier::READONLY,
];

const DECLARATION: u32 = 1;
const DOCUMENTATION: u32 = 2;
const DEFAULT_LIBRARY: u32 = 4;
const READONLY: u32 = 8;

/// Keywords where the grammar has them (a name that happens to be one is coloured as a name).
const KEYWORDS: &[&str] = &[
    "import",
    "kind",
    "pipeline",
    "on",
    "env",
    "secret",
    "environment",
    "requires",
    "approval",
    "tests",
    "promotion",
    "from",
    "stage",
    "artifact",
    "test",
    "deploy",
    "to",
    "as",
    "gate",
    "job",
    "matrix",
    // v2 i13g: matrix entries
    "include",
    "exclude",
    "team",
    "template",
    "matches",
    "true",
    "false",
];

pub fn legend() -> SemanticTokensLegend {
    SemanticTokensLegend {
        token_types: TYPES.to_vec(),
        token_modifiers: MODIFIERS.to_vec(),
    }
}

fn type_index(ty: SemanticTokenType) -> u32 {
    TYPES.iter().position(|t| *t == ty).expect("in the legend") as u32
}

pub fn full(
    server: &Server,
    params: SemanticTokensParams,
) -> Result<Option<SemanticTokensResult>, String> {
    let uri = params.text_document.uri;
    let document = server.document(&uri)?;
    let data = tokens(document);
    let result_id = server.remember_tokens(&uri, data.clone());
    Ok(Some(SemanticTokensResult::Tokens(SemanticTokens {
        result_id: Some(result_id),
        data,
    })))
}

pub fn full_delta(
    server: &Server,
    params: SemanticTokensDeltaParams,
) -> Result<Option<SemanticTokensFullDeltaResult>, String> {
    let uri = params.text_document.uri;
    let document = server.document(&uri)?;
    let data = tokens(document);
    let previous = server.previous_tokens(&uri, &params.previous_result_id);
    let result_id = server.remember_tokens(&uri, data.clone());
    Ok(Some(match previous {
        Some(previous) => SemanticTokensFullDeltaResult::TokensDelta(SemanticTokensDelta {
            result_id: Some(result_id),
            edits: delta(&previous, &data),
        }),
        None => SemanticTokensFullDeltaResult::Tokens(SemanticTokens {
            result_id: Some(result_id),
            data,
        }),
    }))
}

/// The edits (at most one) that turn `old` into `new`: their differing middle.
pub fn delta(old: &[SemanticToken], new: &[SemanticToken]) -> Vec<SemanticTokensEdit> {
    let prefix = old.iter().zip(new).take_while(|(a, b)| a == b).count();
    let suffix = old[prefix..]
        .iter()
        .rev()
        .zip(new[prefix..].iter().rev())
        .take_while(|(a, b)| a == b)
        .count();
    let removed = old.len() - prefix - suffix;
    let inserted = &new[prefix..new.len() - suffix];
    if removed == 0 && inserted.is_empty() {
        return Vec::new();
    }
    vec![SemanticTokensEdit {
        start: 5 * prefix as u32,
        delete_count: 5 * removed as u32,
        data: Some(inserted.to_vec()),
    }]
}

/// A coloured byte range of the text.
struct Coloured {
    start: usize,
    end: usize,
    ty: u32,
    modifiers: u32,
}

/// The tokens of a document, encoded as the protocol wants (relative, UTF-16).
pub fn tokens(document: &Document) -> Vec<SemanticToken> {
    let text = &document.text;
    let analysis = &document.current;
    // Names only from an analysis of this very text (positions of an older text would lie).
    let names: Vec<(usize, usize, u32, u32)> = if analysis.parsed() {
        let root = analysis.root();
        analysis
            .names
            .occurrences
            .iter()
            .filter(|o| o.span.file == root)
            .filter_map(|o| {
                let (ty, modifiers) = name_type(&o.what)?;
                Some((o.span.start as usize, o.span.end as usize, ty, modifiers))
            })
            .collect()
    } else {
        Vec::new()
    };
    let mut coloured = Vec::new();
    for token in lexer::tokens(text) {
        let source = &text[token.span.clone()];
        let (ty, modifiers) = match token.kind {
            TokenKind::Whitespace | TokenKind::Punct(_) => continue,
            TokenKind::LineComment | TokenKind::BlockComment { .. } => {
                (SemanticTokenType::COMMENT, 0)
            }
            TokenKind::DocComment => (SemanticTokenType::COMMENT, DOCUMENTATION),
            TokenKind::String { .. } | TokenKind::TripleString { .. } => {
                (SemanticTokenType::STRING, 0)
            }
            TokenKind::Operator => (SemanticTokenType::OPERATOR, 0),
            TokenKind::Word => {
                // The name the analysis found here.
                if let Some((_, _, ty, modifiers)) = names
                    .iter()
                    .find(|(start, end, ..)| (*start, *end) == (token.span.start, token.span.end))
                {
                    coloured.push(Coloured {
                        start: token.span.start,
                        end: token.span.end,
                        ty: *ty,
                        modifiers: *modifiers,
                    });
                    continue;
                }
                if source.starts_with(|c: char| c.is_ascii_digit() || c == '-') {
                    (SemanticTokenType::NUMBER, 0)
                } else if KEYWORDS.contains(&source) {
                    (SemanticTokenType::KEYWORD, 0)
                } else {
                    continue;
                }
            }
        };
        coloured.push(Coloured {
            start: token.span.start,
            end: token.span.end,
            ty: type_index(ty),
            modifiers,
        });
    }
    encode(text, &coloured)
}

/// The type and modifiers of a name.
fn name_type(what: &What) -> Option<(u32, u32)> {
    let (ty, modifiers) = match what {
        What::Name(symbol, role) => {
            let declaration = match role {
                Role::Definition => DECLARATION,
                // A deploy's implicit name spans its whole header, a test's its kind: their
                // words are coloured as the references they also are.
                Role::Implicit(_) => return None,
                Role::Reference => 0,
            };
            let ty = match symbol {
                Symbol::Pipeline(_) => SemanticTokenType::CLASS,
                Symbol::Kind(_) => SemanticTokenType::TYPE,
                Symbol::Environment(_) => SemanticTokenType::ENUM,
                Symbol::Stage(_) => SemanticTokenType::NAMESPACE,
                Symbol::Job(_) => SemanticTokenType::FUNCTION,
                Symbol::Secret(_) => SemanticTokenType::VARIABLE,
                Symbol::Team(_) => SemanticTokenType::STRUCT,
                Symbol::Template(_) => SemanticTokenType::CLASS,
                Symbol::Input(_) | Symbol::Var(_) => SemanticTokenType::PARAMETER,
            };
            let readonly = if matches!(symbol, Symbol::Secret(_)) {
                READONLY
            } else {
                0
            };
            (ty, declaration | readonly)
        }
        What::Attribute(..) => (SemanticTokenType::PROPERTY, 0),
        What::Variable(_) => (SemanticTokenType::VARIABLE, DEFAULT_LIBRARY | READONLY),
        What::Event(_) => (SemanticTokenType::EVENT, 0),
        What::Service(_) => (SemanticTokenType::PROPERTY, DECLARATION),
    };
    Some((type_index(ty), modifiers))
}

/// Relative positions in UTF-16 units, one token per line of a multi-line one.
fn encode(text: &str, coloured: &[Coloured]) -> Vec<SemanticToken> {
    let lines = Lines::new(text);
    let mut out = Vec::new();
    let (mut last_line, mut last_start) = (0u32, 0u32);
    for token in coloured {
        let mut start = token.start;
        for piece in text[token.start..token.end].split_inclusive('\n') {
            let end = start + piece.trim_end_matches(['\n', '\r']).len();
            let from = lines.position(start);
            let to = lines.position(end);
            if end > start {
                let delta_line = from.line - last_line;
                let delta_start = if delta_line == 0 {
                    from.character - last_start
                } else {
                    from.character
                };
                out.push(SemanticToken {
                    delta_line,
                    delta_start,
                    length: to.character - from.character,
                    token_type: token.ty,
                    token_modifiers_bitset: token.modifiers,
                });
                (last_line, last_start) = (from.line, from.character);
            }
            start += piece.len();
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decoded(text: &str) -> Vec<(u32, u32, String, String, u32)> {
        let uri: lsp_types::Uri = "file:///tmp/semantic.cdl".parse().unwrap();
        let document = Document::open(&uri, text.to_string(), 1);
        let lines: Vec<&str> = text.split('\n').collect();
        let (mut line, mut start) = (0, 0);
        tokens(&document)
            .into_iter()
            .map(|t| {
                if t.delta_line > 0 {
                    start = 0;
                }
                line += t.delta_line;
                start += t.delta_start;
                let units: Vec<u16> = lines[line as usize].encode_utf16().collect();
                let word = String::from_utf16(&units[start as usize..(start + t.length) as usize])
                    .unwrap();
                (
                    line,
                    start,
                    word,
                    TYPES[t.token_type as usize].as_str().to_string(),
                    t.token_modifiers_bitset,
                )
            })
            .collect()
    }

    #[test]
    fn names_keywords_and_literals_are_coloured() {
        let text = "/// The shop \u{1f680}.\npipeline shop {\n  secret TOKEN\n  environment staging {}\n  stage build {\n    artifact app { run = \"\u{e9}\"; secrets = [TOKEN]; timeout = 10m }\n    test unit { when = branch == \"main\" && event == push }\n    deploy app to staging { run = \"\"\"\n      x\n    \"\"\" }\n  }\n}\n";
        let found = decoded(text);
        let has = |word: &str, ty: &str, modifiers: u32| {
            assert!(
                found
                    .iter()
                    .any(|(_, _, w, t, m)| w == word && t == ty && *m == modifiers),
                "{word} as {ty}/{modifiers} in {found:#?}"
            );
        };
        has("/// The shop \u{1f680}.", "comment", DOCUMENTATION);
        has("pipeline", "keyword", 0);
        has("shop", "class", DECLARATION);
        has("TOKEN", "variable", DECLARATION | READONLY);
        has("TOKEN", "variable", READONLY);
        has("staging", "enum", DECLARATION);
        has("staging", "enum", 0);
        has("build", "namespace", DECLARATION);
        has("app", "function", DECLARATION);
        has("app", "function", 0);
        has("run", "property", 0);
        has("\"\u{e9}\"", "string", 0);
        has("10m", "number", 0);
        has("unit", "type", 0);
        has("branch", "variable", DEFAULT_LIBRARY | READONLY);
        has("&&", "operator", 0);
        has("push", "event", 0);
        // A multi-line string is one token per line.
        has("      x", "string", 0);
        has("    \"\"\"", "string", 0);
    }

    #[test]
    fn a_text_that_does_not_parse_still_gets_its_lexical_colours() {
        let found = decoded("pipeline p { stage s { job a { run = \"x\" \u{201c} ");
        assert!(
            found
                .iter()
                .any(|(_, _, w, t, _)| w == "pipeline" && t == "keyword")
        );
        assert!(
            found
                .iter()
                .any(|(_, _, w, t, _)| w == "\"x\"" && t == "string")
        );
    }

    #[test]
    fn a_delta_is_the_changed_middle() {
        let token = |n: u32| SemanticToken {
            delta_line: n,
            delta_start: 0,
            length: 1,
            token_type: 0,
            token_modifiers_bitset: 0,
        };
        let old = [token(1), token(2), token(3), token(4)];
        let new = [token(1), token(9), token(9), token(4)];
        let edits = delta(&old, &new);
        assert_eq!(edits.len(), 1);
        assert_eq!((edits[0].start, edits[0].delete_count), (5, 10));
        assert_eq!(edits[0].data.as_deref(), Some(&new[1..3]));
        assert!(delta(&old, &old).is_empty());
        let grown = delta(&old[..2], &old);
        assert_eq!((grown[0].start, grown[0].delete_count), (10, 0));
    }
}
