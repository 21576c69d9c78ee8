//! HTML escaping: the one function every text from a host goes through, so file contents,
//! command output and host names are shown as text and never become markup.

use std::fmt::Write;

/// Appends `text` to `out` with `&`, `<`, `>`, `"` and `'` escaped: safe in element
/// content and in quoted attribute values alike. Control bytes other than tab and newline
/// are shown as `\xNN` so they cannot hide text.
pub fn push(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\t' | '\n' => out.push(c),
            c if c.is_control() => {
                let _ = write!(out, "\\x{:02x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
}

/// `text` escaped as [`push`] does, as a new string.
pub fn text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    push(&mut out, text);
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn markup_becomes_text() {
        assert_eq!(
            super::text("<script>alert('x')</script></details>&\"\x1b[31m"),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&lt;/details&gt;&amp;&quot;\\x1b[31m"
        );
    }
}
