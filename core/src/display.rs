//! Showing untrusted text: metadata fields, target names, key labels, archive member names.
//!
//! Everything a hostile repository, request or bundle chose is shown through [`escape`], so
//! it cannot move the cursor, rewrite the terminal's title, reorder what follows it (bidi
//! overrides) or hide characters (zero-width). One helper, used for every message.

use std::borrow::Cow;
use std::fmt::Write as _;

/// Longest untrusted string shown whole; longer ones are cut with a note of their length.
pub const SHOWN_CHARS: usize = 200;

/// `text` with every character a terminal would not show as itself escaped: control
/// characters, bidi controls, zero-width and other format characters, separators other
/// than the space, combining marks, unassigned and private-use code points. A backslash
/// becomes `\\`, so an escape in the output always means an escape was made. Text longer
/// than [`SHOWN_CHARS`] characters is cut.
pub fn escape(text: &str) -> Cow<'_, str> {
    let plain = text.len() <= SHOWN_CHARS && text.chars().all(|c| c != '\\' && shown_as_is(c));
    if plain {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for (count, c) in text.chars().enumerate() {
        if count == SHOWN_CHARS {
            let _ = write!(out, "... ({} characters in all)", text.chars().count());
            break;
        }
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if shown_as_is(c) => out.push(c),
            c => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
        }
    }
    Cow::Owned(out)
}

/// True when `c` shows as itself: the standard library's own test of "printable", which
/// escapes the Unicode categories Cc, Cf, Cs, Co, Cn, Zl, Zp and Zs (but the space), and
/// grapheme extenders.
fn shown_as_is(c: char) -> bool {
    if c == ' ' {
        return true;
    }
    let mut escaped = c.escape_debug();
    match (escaped.next(), escaped.next()) {
        (Some(first), None) => first == c,
        // `escape_debug` also escapes quotes, which are shown as they are.
        _ => matches!(c, '\'' | '"'),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_is_borrowed_as_it_is() {
        for text in [
            "alice",
            "@carol",
            "npm/pkg name's \"x\".json",
            "Zoë",
            "日本語",
            "a/b-c_d.e",
        ] {
            assert!(matches!(escape(text), Cow::Borrowed(_)), "{text}");
        }
    }

    #[test]
    fn terminal_controls_bidi_and_zero_width_characters_are_escaped() {
        assert_eq!(escape("a\u{1b}[2Jb"), "a\\u{1b}[2Jb");
        assert_eq!(escape("\u{202e}lorac@"), "\\u{202e}lorac@");
        assert_eq!(escape("car\u{200b}ol"), "car\\u{200b}ol");
        assert_eq!(escape("x\u{2066}y\u{feff}"), "x\\u{2066}y\\u{feff}");
        assert_eq!(escape("a\nb\tc\rd\0"), "a\\nb\\tc\\rd\\u{0}");
        assert_eq!(escape("no\u{a0}break"), "no\\u{a0}break");
        assert_eq!(escape("e\u{301}"), "e\\u{301}");
    }

    #[test]
    fn a_backslash_is_doubled_so_an_escape_cannot_be_forged() {
        assert_eq!(escape("\\u{202e}"), "\\\\u{202e}");
    }

    #[test]
    fn long_text_is_cut_with_its_length() {
        let long = "x".repeat(10_000);
        let shown = escape(&long);
        assert!(shown.starts_with(&"x".repeat(SHOWN_CHARS)));
        assert!(shown.ends_with("... (10000 characters in all)"), "{shown}");
    }
}
