//! Values quoted and numbers written for error messages.
//!
//! Written by hand rather than with `{:?}` and float `{}`: those pull Rust's
//! Unicode-printability tables and float-to-decimal code into the wasm module
//! (several KiB) for a few messages. The wasm build writes numbers with
//! JavaScript's own `String(n)` instead.

/// `raw` in double quotes, with `"`, `\` and control characters escaped the
/// way `{:?}` escapes them (`"a\"b\n"`).
pub fn quote(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len() + 2);
    out.push('"');
    for c in raw.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\0' => out.push_str("\\0"),
            c if c.is_control() => push_unicode_escape(&mut out, c),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A rejected value quoted for an error message, at most 40 characters of
/// it, with its length when it was longer: an error never carries an
/// unbounded (or hostile) string.
pub fn describe(raw: &str) -> String {
    const SHOWN: usize = 40;
    if raw.is_empty() {
        return "an empty string".to_owned();
    }
    let shown: String = raw.chars().take(SHOWN).collect();
    let mut described = quote(&shown);
    if shown.len() < raw.len() {
        // Leading bytes of UTF-8 are characters; `chars().count()` would do
        // the same with a kilobyte of vectorized code in the wasm.
        let characters = raw.bytes().filter(|b| (b & 0xC0) != 0x80).count();
        described.push_str(&format!("… ({characters} characters)"));
    }
    described
}

/// `\u{7f}`: lower-case hex digits without leading zeros, like `{:?}`.
fn push_unicode_escape(out: &mut String, c: char) {
    out.push_str("\\u{");
    let code = u32::from(c);
    let mut started = false;
    for shift in (0..8).rev() {
        let digit = (code >> (shift * 4)) & 0xf;
        if digit != 0 || started || shift == 0 {
            started = true;
            // A nibble is below 16, so `from_digit` always has its digit.
            out.push(char::from_digit(digit, 16).unwrap_or('0'));
        }
    }
    out.push('}');
}

/// A number as messages show it: `1.5`, `-3`, `NaN`. Natively Rust's shortest
/// round-trip form; in the wasm module JavaScript's `String(n)`, which gives
/// the same digits for every number a caller is likely to pass.
pub fn number(n: f64) -> String {
    #[cfg(target_arch = "wasm32")]
    {
        js_sys::Number::from(n)
            .to_string_with_radix(10)
            .map(String::from)
            .unwrap_or_default()
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        n.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_like_debug_for_what_messages_show() {
        for raw in [
            "",
            "plain",
            "say \"hi\"",
            "back\\slash",
            "line\nbreak\ttab\r",
            "nul\0",
            "bell\u{7}del\u{7f}c1\u{85}",
            "é ６４ ünïcödé",
        ] {
            assert_eq!(quote(raw), format!("{raw:?}"), "{raw}");
        }
    }

    #[test]
    fn numbers_read_as_written() {
        assert_eq!(number(1.5), "1.5");
        assert_eq!(number(-3.0), "-3");
        assert_eq!(number(0.0), "0");
        assert_eq!(number(f64::NAN), "NaN");
    }
}
