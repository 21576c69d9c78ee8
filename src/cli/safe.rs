//! Text from hosts shown on a terminal: control bytes escaped, so a file's content (or a
//! package manager's message) can never move the cursor, recolour or erase what vmup shows
//! (a guest could otherwise hide diff lines). JSON needs none of this: serde escapes them.

use std::borrow::Cow;

/// `text` with every control character but newline and tab shown as an escape (`\x1b`,
/// `\r`, `\x7f`, `\u{9b}`): reports are made of lines, and nothing else in them may act on
/// the terminal. Plain text comes back unchanged and uncopied.
pub fn safe(text: &str) -> Cow<'_, str> {
    if !text
        .chars()
        .any(|c| c.is_control() && c != '\t' && c != '\n')
    {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\t' | '\n' => out.push(c),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x80 && c.is_control() => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c if c.is_control() => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_sequences_are_shown_not_obeyed() {
        assert_eq!(safe("plain\ttext\n"), "plain\ttext\n");
        assert_eq!(
            safe("+hidden\x1b[2K\x1b[1A\rok\u{9b}\x7f"),
            "+hidden\\x1b[2K\\x1b[1A\\rok\\u{9b}\\x7f"
        );
    }
}
