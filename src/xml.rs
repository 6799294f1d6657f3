//! XML 1.0 text escaping, shared by the SVG graph and the JUnit report.

/// Text for XML and HTML content and attributes; characters XML 1.0 forbids (terminal
/// escapes in a log, say) are dropped.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{fffe}' || c == '\u{ffff}' => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn markup_is_escaped_and_forbidden_characters_dropped() {
        assert_eq!(
            escape("<a href=\"x\">&</a>\u{1b}[31m\t\u{ffff}"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&lt;/a&gt;[31m\t"
        );
    }
}
