//! Text a plugin wrote, made safe to show: a plugin's name, description,
//! error message or stderr reaches an operator's terminal and the run
//! history, so control characters (terminal escape sequences among them)
//! are shown as escapes, never sent raw, and long text is clipped.

use std::borrow::Cow;

/// `text` with every control character but `\n` and `\t` written as an
/// escape (`\u{1b}`), so printing it cannot move the cursor, recolour or
/// retitle a terminal.
pub fn printable(text: &str) -> Cow<'_, str> {
    escaped_where(text, |c| c.is_control() && c != '\n' && c != '\t')
}

/// [`printable`] on one line: newlines and tabs escaped too.
pub fn printable_line(text: &str) -> Cow<'_, str> {
    escaped_where(text, char::is_control)
}

fn escaped_where(text: &str, unsafe_char: impl Fn(char) -> bool) -> Cow<'_, str> {
    if !text.chars().any(&unsafe_char) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if unsafe_char(c) {
            out.extend(c.escape_unicode());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// The first `max` bytes of `text` on a character boundary, with how much
/// was left out said at the end.
pub fn clipped(text: &str, max: usize) -> Cow<'_, str> {
    if text.len() <= max {
        return Cow::Borrowed(text);
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    Cow::Owned(format!("{}… ({} more bytes)", &text[..end], text.len() - end))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_sequences_are_shown_not_sent() {
        assert_eq!(printable("plain 中文\n"), "plain 中文\n");
        assert_eq!(printable("\u{1b}[2J\u{1b}]0;owned\u{7}"), "\\u{1b}[2J\\u{1b}]0;owned\\u{7}");
        assert_eq!(printable("c1 \u{9b}31m"), "c1 \\u{9b}31m");
        assert_eq!(printable_line("a\nb\tc"), "a\\u{a}b\\u{9}c");
    }

    #[test]
    fn long_text_is_clipped_on_a_character_boundary() {
        assert_eq!(clipped("short", 10), "short");
        assert_eq!(clipped("会员会员", 4), "会… (9 more bytes)");
    }
}
