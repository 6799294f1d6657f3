//! Groovy for a Jenkinsfile: string literals that Groovy never interpolates, and a tree of
//! lines and blocks printed with consistent indentation. Every piece of text from the
//! pipeline file reaches the Jenkinsfile through [`string`] or [`multiline`].

/// A single-quoted Groovy string literal, which Groovy does not interpolate: `\` and `'`
/// are escaped, and so are line breaks and other control characters.
pub fn string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('\'');
    for c in text.chars() {
        escape(c, &mut out);
    }
    out.push('\'');
    out
}

/// A triple-single-quoted literal for a script of several lines, which keeps its lines as
/// they are; the first line break (after `'''\`) is not part of the value.
pub fn multiline(text: &str) -> String {
    let mut out = String::from("'''\\\n");
    for c in text.chars() {
        if c == '\n' {
            out.push('\n');
        } else {
            escape(c, &mut out);
        }
    }
    out.push_str("'''");
    out
}

fn escape(c: char, out: &mut String) {
    match c {
        '\\' => out.push_str("\\\\"),
        '\'' => out.push_str("\\'"),
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        c if c.is_control() || c == '\u{2028}' || c == '\u{2029}' => {
            for unit in c.encode_utf16(&mut [0; 2]) {
                out.push_str(&format!("\\u{unit:04x}"));
            }
        }
        c => out.push(c),
    }
}

/// A piece of a Jenkinsfile: a line, `head {` … `}` around more pieces, or a step called
/// with a list of strings, one a line, and a block: `name([` … `]) {` … `}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    Line(String),
    Block(String, Vec<Node>),
    ListBlock(String, Vec<String>, Vec<Node>),
}

impl Node {
    pub fn line(text: impl Into<String>) -> Node {
        Node::Line(text.into())
    }

    pub fn block(head: impl Into<String>, body: Vec<Node>) -> Node {
        Node::Block(head.into(), body)
    }

    /// `name([items as string literals]) { body }`.
    pub fn list_block(name: impl Into<String>, items: Vec<String>, body: Vec<Node>) -> Node {
        Node::ListBlock(name.into(), items, body)
    }
}

/// The nodes, indented by four spaces a level. A line may hold a [`multiline`] literal,
/// whose later lines are printed as they are: indenting them would change the value.
pub fn render(nodes: &[Node]) -> String {
    let mut out = String::new();
    for node in nodes {
        render_node(node, 0, &mut out);
    }
    out
}

fn render_node(node: &Node, depth: usize, out: &mut String) {
    let indent = "    ".repeat(depth);
    match node {
        Node::Line(text) => {
            out.push_str(&indent);
            out.push_str(text);
            out.push('\n');
        }
        Node::Block(head, body) => {
            out.push_str(&indent);
            out.push_str(head);
            out.push_str(" {\n");
            for child in body {
                render_node(child, depth + 1, out);
            }
            out.push_str(&indent);
            out.push_str("}\n");
        }
        Node::ListBlock(name, items, body) => {
            out.push_str(&format!("{indent}{name}([\n"));
            for item in items {
                out.push_str(&format!("{indent}    {},\n", string(item)));
            }
            out.push_str(&format!("{indent}]) {{\n"));
            for child in body {
                render_node(child, depth + 1, out);
            }
            out.push_str(&indent);
            out.push_str("}\n");
        }
    }
}

/// The value of one Groovy string literal, the whole of `literal`, as Groovy's lexer reads it
/// (Groovy language documentation, "Strings": single-quoted and triple-single-quoted strings
/// are plain `java.lang.String`s, never interpolated; escapes `\b \f \n \r \s \t \\ \' \" \$`
/// and `\uXXXX`; in a triple-quoted string a backslash at the end of a line joins it to the
/// next, and line breaks are kept). A double-quoted or triple-double-quoted literal is a
/// GString whose `$` and `${…}` are evaluated: `Err`, as is an unknown escape (a compile
/// error) or text after the closing quote.
#[cfg(test)]
pub fn evaluate(literal: &str) -> Result<String, String> {
    let (triple, body) = if let Some(rest) = literal.strip_prefix("'''") {
        (true, rest)
    } else if let Some(rest) = literal.strip_prefix('\'') {
        (false, rest)
    } else {
        return Err(format!("not a single-quoted Groovy string: {literal}"));
    };
    let mut out = String::new();
    let mut chars = body.chars().peekable();
    loop {
        let c = chars.next().ok_or("the string is not closed")?;
        match c {
            '\'' if !triple => break,
            '\'' if chars.clone().take(2).collect::<String>() == "''" => {
                chars.next();
                chars.next();
                break;
            }
            '\n' | '\r' if !triple => return Err("a line break in a single-quoted string".into()),
            '\\' => match chars.next().ok_or("an escape at the end")? {
                'b' => out.push('\u{8}'),
                'f' => out.push('\u{c}'),
                'n' => out.push('\n'),
                'r' => out.push('\r'),
                's' => out.push(' '),
                't' => out.push('\t'),
                '\\' => out.push('\\'),
                '\'' => out.push('\''),
                '"' => out.push('"'),
                '$' => out.push('$'),
                '\n' if triple => {}
                'u' => {
                    let hex: String = chars.by_ref().take(4).collect();
                    let unit = u16::from_str_radix(&hex, 16).map_err(|e| e.to_string())?;
                    // A character outside the BMP is a surrogate pair: two escapes.
                    let mut units = vec![unit];
                    if (0xD800..0xDC00).contains(&unit) {
                        let next: String = chars.by_ref().take(6).collect();
                        let low = next.strip_prefix("\\u").ok_or("a lone surrogate")?;
                        units.push(u16::from_str_radix(low, 16).map_err(|e| e.to_string())?);
                    }
                    out.push_str(&String::from_utf16(&units).map_err(|e| e.to_string())?);
                }
                other => return Err(format!("unknown escape \\{other}")),
            },
            c => out.push(c),
        }
    }
    match chars.next() {
        None => Ok(out),
        Some(_) => Err("text after the string".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Random text rich in what Groovy evaluates, and in surrogate pairs and controls.
    fn hostile() -> impl Strategy<Value = String> {
        let piece = prop_oneof![
            crate::export::kubernetes::expansion::hostile(),
            Just("'''".to_string()),
            Just("\"\"\"".to_string()),
            Just("\\u0041".to_string()),
            Just("\\\n".to_string()),
            Just("\r\n\t\u{7}\u{2028}".to_string()),
            Just("☃😀".to_string()),
        ];
        proptest::collection::vec(piece, 0..6).prop_map(|pieces| pieces.concat())
    }

    proptest! {
        #[test]
        fn strings_come_back_exactly(text in hostile()) {
            prop_assert_eq!(evaluate(&string(&text)), Ok(text));
        }

        #[test]
        fn multiline_strings_come_back_exactly(text in hostile()) {
            prop_assert_eq!(evaluate(&multiline(&text)), Ok(text));
        }
    }

    #[test]
    fn the_model_reads_as_groovy_does() {
        assert_eq!(evaluate(r"'a\'b\\c\u0041'").unwrap(), "a'b\\cA");
        assert_eq!(evaluate("'''\\\nx\\\ny\n'''").unwrap(), "xy\n");
        assert!(evaluate("\"$HOME\"").is_err());
        assert!(evaluate(r"'\q'").is_err());
        assert!(evaluate("'a' + b").is_err());
    }

    #[test]
    fn strings_are_never_interpolated_or_broken() {
        assert_eq!(string("it's"), r"'it\'s'");
        assert_eq!(string("a\\b"), r"'a\\b'");
        assert_eq!(string("$HOME ${x}"), "'$HOME ${x}'");
        assert_eq!(string("one\ntwo\ttab"), r"'one\ntwo\ttab'");
        assert_eq!(string("bell\u{7}"), r"'bell\u0007'");
        assert_eq!(string("\\u0041"), r"'\\u0041'");
        assert_eq!(string("café ☃"), "'café ☃'");
    }

    #[test]
    fn multiline_literals_keep_their_lines() {
        assert_eq!(
            multiline("a '''\nb\\c\n"),
            "'''\\\na \\'\\'\\'\nb\\\\c\n'''"
        );
    }

    #[test]
    fn blocks_are_indented() {
        let tree = vec![Node::block(
            "pipeline",
            vec![Node::line("agent none"), Node::block("stages", vec![])],
        )];
        assert_eq!(
            render(&tree),
            "pipeline {\n    agent none\n    stages {\n    }\n}\n"
        );
    }
}
