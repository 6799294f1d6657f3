//! Reading and writing literals: string escapes, `"""` blocks, durations.

/// Unescapes the inside of a `"…"` string. On an invalid escape, returns its byte offset
/// within `raw` and length.
pub fn unescape(raw: &str) -> Result<String, (usize, usize)> {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some((_, '"')) => out.push('"'),
            Some((_, '\\')) => out.push('\\'),
            Some((_, 'n')) => out.push('\n'),
            Some((_, 't')) => out.push('\t'),
            Some((_, 'r')) => out.push('\r'),
            Some((_, 'u')) => {
                let rest = &raw[at + 2..];
                let close = rest.find('}');
                let value = rest
                    .strip_prefix('{')
                    .and(close)
                    .and_then(|close| u32::from_str_radix(&rest[1..close], 16).ok())
                    .and_then(char::from_u32);
                match (value, close) {
                    (Some(ch), Some(close)) => {
                        out.push(ch);
                        for _ in 0..=close {
                            chars.next();
                        }
                    }
                    _ => return Err((at, 2 + close.map_or(0, |c| c + 1))),
                }
            }
            Some((_, other)) => return Err((at, 1 + other.len_utf8())),
            None => return Err((at, 1)),
        }
    }
    Ok(out)
}

/// Writes `text` as a `"…"` string literal, the inverse of [`unescape`].
pub fn quote(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Removes the indentation common to every non-blank line of a `"""` block, the line break
/// right after the opening quotes, and the last line when it holds only white space.
pub fn dedent(text: &str) -> String {
    let text = text
        .strip_prefix("\r\n")
        .or_else(|| text.strip_prefix('\n'))
        .unwrap_or(text);
    let mut lines: Vec<&str> = text.split('\n').collect();
    if lines.len() > 1 && lines.last().is_some_and(|l| l.trim().is_empty()) {
        lines.pop();
    }
    let indent = lines
        .iter()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start_matches([' ', '\t']).len())
        .min()
        .unwrap_or(0);
    lines
        .iter()
        .map(|l| l.get(indent..).unwrap_or("").trim_end_matches('\r'))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Seconds in a duration literal such as `1h30m`. `None` on overflow.
pub fn duration_seconds(text: &str) -> Option<u64> {
    let mut total: u64 = 0;
    let mut number: u64 = 0;
    for c in text.chars() {
        if let Some(digit) = c.to_digit(10) {
            number = number.checked_mul(10)?.checked_add(u64::from(digit))?;
            continue;
        }
        let unit = match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86400,
            _ => return None,
        };
        total = total.checked_add(number.checked_mul(unit)?)?;
        number = 0;
    }
    Some(total)
}

/// Writes seconds the way a user would: `1h30m`, `45s`, `2d`.
pub fn format_duration(mut seconds: u64) -> String {
    if seconds == 0 {
        return "0s".to_string();
    }
    let mut out = String::new();
    for (unit, size) in [("d", 86400), ("h", 3600), ("m", 60), ("s", 1)] {
        if seconds >= size {
            out.push_str(&format!("{}{unit}", seconds / size));
            seconds %= size;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes() {
        assert_eq!(unescape(r#"a\"b\\c\nd\u{e9}"#).unwrap(), "a\"b\\c\nd\u{e9}");
        assert_eq!(unescape(r"x\qy"), Err((1, 2)));
        assert_eq!(unescape(r"\u{zz}"), Err((0, 6)));
    }

    #[test]
    fn dedents_triple_strings() {
        assert_eq!(dedent("\n    a\n      b\n    "), "a\n  b");
        assert_eq!(dedent("one line"), "one line");
    }

    #[test]
    fn durations() {
        assert_eq!(duration_seconds("1h30m"), Some(5400));
        assert_eq!(duration_seconds("2d"), Some(172_800));
        assert_eq!(duration_seconds("99999999999999999999d"), None);
        assert_eq!(format_duration(5400), "1h30m");
        assert_eq!(format_duration(45), "45s");
    }
}
