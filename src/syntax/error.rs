//! Turns a pest error into a diagnostic that points at the real spot and names what was
//! expected in the user's words ("expected `}`"), never grammar rule names.

use pest::error::{ErrorVariant, InputLocation};

use super::parser::Rule;
use crate::codes::Code;
use crate::diagnostic::Diagnostic;
use crate::span::{FileId, Span};

pub fn syntax_error(file: FileId, text: &str, err: &pest::error::Error<Rule>) -> Diagnostic {
    let at = match err.location {
        InputLocation::Pos(at) => at,
        InputLocation::Span((start, _)) => start,
    };
    let mut expected: Vec<&str> = match &err.variant {
        ErrorVariant::ParsingError { positives, .. } => {
            positives.iter().filter_map(|r| describe(*r)).collect()
        }
        ErrorVariant::CustomError { .. } => Vec::new(),
    };
    expected.sort_unstable();
    expected.dedup();
    simplify(&mut expected);
    let (found, len) = found_at(text, at);
    let span = Span::new(file, at, at + len);
    let message = match expected.as_slice() {
        [] => format!("unexpected {found}"),
        list => format!("expected {}, found {found}", one_of(list)),
    };
    let label = match expected.as_slice() {
        [] => "not expected here".to_string(),
        [one] => format!("expected {one}"),
        _ => "unexpected here".to_string(),
    };
    Diagnostic::new(Code::Syntax, span, message)
        .label(label)
        .maybe_help(help_for(text, at, &expected))
}

/// Drops expectations that only add noise: the optional `;`, and the particular forms of a
/// value when "a value" is already listed.
fn simplify(expected: &mut Vec<&str>) {
    if expected.len() > 1 {
        expected.retain(|e| *e != "`;`");
    }
    if expected.contains(&"a value") {
        expected.retain(|e| !matches!(*e, "`(`" | "`[`" | "a string" | "a name" | "`!`"));
    }
}

/// `a`, `a or b`, `a, b or c`.
fn one_of(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => (*one).to_string(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

/// What stands at the error position, in words, and the length of the span to underline.
fn found_at(text: &str, at: usize) -> (String, usize) {
    let rest = &text[at.min(text.len())..];
    let Some(first) = rest.chars().next() else {
        return ("the end of the file".to_string(), 0);
    };
    if first == '\n' || first == '\r' {
        return ("the end of the line".to_string(), 1);
    }
    let word: String = rest
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == '-')
        .collect();
    if word.is_empty() {
        (format!("`{first}`"), first.len_utf8())
    } else {
        (format!("`{word}`"), word.len())
    }
}

fn help_for(text: &str, at: usize, expected: &[&str]) -> Option<String> {
    let rest = &text[at.min(text.len())..];
    if rest.starts_with(':') && expected.contains(&"`=`") {
        return Some("attributes are written `name = value`".into());
    }
    if expected.contains(&"`}`") && rest.is_empty() {
        return Some("a block opened with `{` is not closed".into());
    }
    None
}

/// The user's name for what a rule would have accepted; `None` for rules that are never
/// worth naming on their own. Exhaustive, so a new rule cannot go unnamed.
fn describe(rule: Rule) -> Option<&'static str> {
    Some(match rule {
        Rule::lbrace => "`{`",
        Rule::rbrace => "`}`",
        Rule::lbracket => "`[`",
        Rule::rbracket => "`]`",
        Rule::lparen => "`(`",
        Rule::rparen => "`)`",
        Rule::assign => "`=`",
        Rule::comma => "`,`",
        Rule::semi => "`;`",
        Rule::ident | Rule::test_name | Rule::name_path => "a name",
        Rule::foreign_name | Rule::name_tail => "a name",
        // Tried after every valid item; naming it would list every keyword of the language.
        Rule::misplaced | Rule::foreign_block | Rule::foreign_block_word => return None,
        Rule::string | Rule::string_inner => "a string",
        Rule::triple_string | Rule::triple_inner => "a string",
        Rule::doc_comment | Rule::doc_text => return None,
        Rule::kw_import => "`import`",
        Rule::kw_kind => "`kind`",
        Rule::kw_pipeline => "`pipeline`",
        Rule::kw_on | Rule::test_target => "`on`",
        Rule::kw_env | Rule::env_block => "`env`",
        Rule::kw_secret | Rule::secret_decl => "`secret`",
        Rule::kw_environment | Rule::environment_decl => "`environment`",
        Rule::kw_requires | Rule::requirement => "`requires`",
        Rule::kw_approval | Rule::requires_approval => "`approval`",
        Rule::kw_tests | Rule::requires_tests => "`tests`",
        Rule::kw_promotion | Rule::requires_promotion => "`promotion`",
        Rule::kw_from => "`from`",
        Rule::kw_stage | Rule::stage_decl => "`stage`",
        Rule::kw_artifact | Rule::artifact_job => "`artifact`",
        Rule::kw_test | Rule::test_job => "`test`",
        Rule::kw_deploy | Rule::deploy_job => "`deploy`",
        Rule::kw_to => "`to`",
        Rule::kw_as | Rule::deploy_name => "`as`",
        Rule::kw_gate | Rule::gate_job => "`gate`",
        Rule::kw_job | Rule::plain_job => "`job`",
        Rule::kw_matrix | Rule::matrix_block => "`matrix`",
        Rule::kw_team | Rule::team_decl => "`team`",
        Rule::kw_step | Rule::step_block => "`step`",
        Rule::kw_template | Rule::template_decl => "`template`", // v2 i13e
        Rule::job_from => "`from`",
        Rule::kw_input => "`input`",
        Rule::kw_var => "`var`",
        Rule::parameter_decl => "`input`, `var`",
        Rule::kw_reports | Rule::reports_block => "`reports`",
        Rule::kw_service | Rule::service_block => "`service`", // v2 i14d
        Rule::kw_cache | Rule::cache_block => "`cache`",
        // An attribute-like word: "a name" already says what may stand there.
        Rule::kw_setting | Rule::setting_block => return None,
        Rule::kw_native | Rule::native_block => return None, // v2 i14e
        Rule::kw_with | Rule::with_block => "`with`",
        Rule::matrix_entry | Rule::matrix_entry_word => "`include` or `exclude`",
        Rule::trigger => "`on`",
        Rule::import => "`import`",
        Rule::kind_decl => "`kind`",
        Rule::pipeline => "`pipeline`",
        Rule::attribute => "an attribute",
        Rule::ident_list => "`[`",
        Rule::job_body | Rule::attr_block => "`{`",
        Rule::expr
        | Rule::paren
        | Rule::infix_op
        | Rule::list
        | Rule::kw_defined
        | Rule::defined_call
        | Rule::kw_changed
        | Rule::changed_call
        | Rule::boolean
        | Rule::duration
        | Rule::integer
        | Rule::malformed_number => "a value",
        Rule::or_op => "`||`",
        Rule::and_op => "`&&`",
        Rule::not_op => "`!`",
        Rule::compare_op | Rule::kw_matches => "a comparison",
        Rule::plus_op => "`+`",
        Rule::EOI => "the end of the file",
        Rule::top_item => "`import`, `kind` or `pipeline`",
        Rule::pipeline_item => "a pipeline item",
        Rule::environment_item => "`requires`, `env` or an attribute",
        Rule::job_decl => "a job",
        Rule::primary => "a value",
        Rule::file
        | Rule::WHITESPACE
        | Rule::line_comment
        | Rule::block_comment
        | Rule::ident_char => return None,
    })
}

#[cfg(test)]
mod tests {
    use crate::span::FileId;

    /// (byte offset, message) of the syntax error in `text`.
    fn error(text: &str) -> (usize, String) {
        let parsed = crate::syntax::parse(FileId(0), text);
        let d = parsed.diagnostics.first().expect("a syntax error");
        (d.primary.span.start as usize, d.message.clone())
    }

    #[test]
    fn points_at_the_missing_equals_sign() {
        let text = "pipeline p { stage a { job x { run \"a\" } } }";
        assert_eq!(error(text), (35, "expected `=`, found `\"`".to_string()));
    }

    #[test]
    fn an_unclosed_block_is_reported_at_the_end() {
        let text = "pipeline p { stage a { job x { run = \"a\" } }";
        let (at, message) = error(text);
        assert_eq!(at, text.len());
        assert!(
            message.contains("`}`") && message.ends_with("found the end of the file"),
            "{message}"
        );
    }

    #[test]
    fn a_colon_gets_help_on_how_to_write_attributes() {
        let parsed =
            crate::syntax::parse(FileId(0), "pipeline p { stage a { job x { retries: 2 } } }");
        let d = &parsed.diagnostics[0];
        assert_eq!(d.primary.span.start, 38);
        assert_eq!(
            d.help.as_deref(),
            Some("attributes are written `name = value`")
        );
    }

    #[test]
    fn a_missing_value_is_one_expectation() {
        let text = "pipeline p { stage a { job x { when = branch == } } }";
        assert_eq!(error(text), (48, "expected a value, found `}`".to_string()));
    }

    #[test]
    fn a_misspelt_requirement_lists_the_three() {
        let (at, message) = error("pipeline p { environment e { requires aproval } }");
        assert_eq!(at, 38);
        assert!(
            message.contains("`approval`, `promotion` or `tests`"),
            "{message}"
        );
    }
}
