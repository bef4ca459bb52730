//! Finding the BFF's secrets (the API key, the webhook secret) in an upstream
//! answer, in every spelling a client could turn back into them.
//!
//! A scan of the raw bytes is not enough: JSON lets a server write `/` as
//! `\/` (PHP's encoder does) and any character as `\uXXXX`, and the browser's
//! `JSON.parse` gives the secret back in clear. So an answer is checked as a
//! client will read it. A secret counts as found when it occurs:
//! - in the raw bytes, as it is, hex-encoded (lower or upper case) or
//!   base64-encoded (standard or URL-safe alphabet, at any alignment);
//! - in any JSON string of the answer (object keys too), once its escapes are
//!   decoded: as it is, hex, base64, or percent-decoded (an echoed URL);
//! - in a JSON document written inside such a string (`"{\"key\":…}"`, which
//!   a client may parse in turn), to [`MAX_NESTING`] levels.
//!
//! Not checked, and not claimed: a secret split over several strings, or
//! changed in case, or in encodings beyond these (HTML entities, rot13…).
//! The cost is one SIMD multi-needle search for all spellings at once over
//! the raw answer, and per decoded string only for strings that had escapes
//! or a `%`.

use std::fmt;

#[cfg(not(target_arch = "wasm32"))]
use aho_corasick::{AhoCorasick, MatchKind};
use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};
use base64::Engine;
use memchr::memmem::Finder;
use serde::de::{DeserializeSeed, MapAccess, SeqAccess, Visitor};

/// Levels of JSON-inside-a-JSON-string that are parsed and scanned too.
pub const MAX_NESTING: u8 = 3;
/// Derived spellings (hex, base64) shorter than this are not searched: a
/// tiny secret's would match ordinary text by chance. Real keys and secrets
/// are far longer.
const MIN_DERIVED_NEEDLE: usize = 12;

/// Every spelling of one secret that is searched for as bytes.
fn spellings(secret: &[u8]) -> Vec<Vec<u8>> {
    let mut derived = vec![
        hex(secret, b"0123456789abcdef"),
        hex(secret, b"0123456789ABCDEF"),
    ];
    for offset in 0..3 {
        for engine in [&STANDARD_NO_PAD, &URL_SAFE_NO_PAD] {
            derived.extend(base64_interior(engine, secret, offset));
        }
    }
    derived.retain(|needle| needle.len() >= MIN_DERIVED_NEEDLE);
    let mut needles = vec![secret.to_vec()];
    needles.append(&mut derived);
    needles
}

/// Every spelling of every secret, searched for at once.
///
/// One Aho-Corasick automaton with leftmost-first matching, which is what
/// lets it run its SIMD prefilter (Teddy, up to 64 needles) rather than its
/// byte-at-a-time DFA; measured with callgrind over a 1,849-byte page of 10
/// chatbots: 2.4k instructions for the API key's 6 spellings, 2.5k with a
/// webhook secret's too, against 5.5k and 11.2k for one `memmem` search per
/// spelling. Should the automaton not build (it always does for a few
/// dozen short needles), one `memmem` search per spelling does the same job;
/// in wasm (the npm server half) it always does, which keeps aho-corasick's
/// ~80 KiB out of that module.
#[derive(Clone)]
enum Needles {
    #[cfg(not(target_arch = "wasm32"))]
    Automaton(AhoCorasick),
    OneByOne(Vec<Finder<'static>>),
}

impl Needles {
    fn of(mut needles: Vec<Vec<u8>>) -> Self {
        needles.sort();
        needles.dedup();
        #[cfg(not(target_arch = "wasm32"))]
        if let Ok(automaton) = AhoCorasick::builder()
            .match_kind(MatchKind::LeftmostFirst)
            .build(&needles)
        {
            return Self::Automaton(automaton);
        }
        Self::OneByOne(
            needles
                .iter()
                .map(|needle| Finder::new(needle).into_owned())
                .collect(),
        )
    }

    fn occur_in(&self, haystack: &[u8]) -> bool {
        match self {
            #[cfg(not(target_arch = "wasm32"))]
            Self::Automaton(automaton) => automaton.is_match(haystack),
            Self::OneByOne(finders) => finders.iter().any(|f| f.find(haystack).is_some()),
        }
    }
}

/// The part of base64(`offset` bytes, then `secret`, then anything) that
/// depends on `secret` alone: the encodings of the secret wherever it sits in
/// a longer base64 text whose start is `offset` bytes before it (mod 3).
fn base64_interior(
    engine: &base64::engine::GeneralPurpose,
    secret: &[u8],
    offset: usize,
) -> Option<Vec<u8>> {
    let mut padded = vec![0_u8; offset];
    padded.extend_from_slice(secret);
    let encoded = engine.encode(&padded);
    // Characters that mix prefix bits with the secret's: 0, 2 or 3.
    let skip = [0, 2, 3].get(offset).copied()?;
    // A partial last group ends with a character that mixes in padding bits.
    let drop = usize::from(padded.len() % 3 != 0);
    let needle = encoded
        .as_bytes()
        .get(skip..encoded.len().checked_sub(drop)?)?;
    Some(needle.to_vec())
}

fn hex(bytes: &[u8], digits: &[u8; 16]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len() * 2);
    // A nibble is below 16, so every lookup finds its digit.
    for nibble in bytes.iter().flat_map(|byte| [byte >> 4, byte & 0x0f]) {
        out.extend(digits.get(usize::from(nibble)));
    }
    out
}

/// Finds the BFF's secrets in answers. It holds the secrets' bytes, so it
/// never formats them.
#[derive(Clone)]
pub struct SecretScanner {
    /// `None` when there is no secret to look for.
    needles: Option<Needles>,
}

impl SecretScanner {
    /// A scanner for `secrets` (empty ones are ignored).
    pub fn new<'a>(secrets: impl IntoIterator<Item = &'a str>) -> Self {
        let needles: Vec<Vec<u8>> = secrets
            .into_iter()
            .filter(|s| !s.is_empty())
            .flat_map(|s| spellings(s.as_bytes()))
            .collect();
        Self {
            needles: (!needles.is_empty()).then(|| Needles::of(needles)),
        }
    }

    /// Whether a whole answer body holds a secret in any spelling checked
    /// (the module's list): its raw bytes, and, when it is JSON, every
    /// string as a client decodes it.
    pub fn occurs_in_answer(&self, raw: &[u8]) -> bool {
        if self.needles.is_none() {
            return false;
        }
        if self.occurs_in_bytes(raw) {
            return true;
        }
        // Decoding can change what a client sees only through an escape
        // (`\…`, which JSON inside a string needs too) or a `%`: without
        // either, every decoded string is bytes of the answer, already scanned.
        memchr::memchr2(b'\\', b'%', raw).is_some() && self.occurs_in_json(raw, MAX_NESTING)
    }

    /// Whether `bytes` hold a secret as they are (no decoding).
    pub fn occurs_in_bytes(&self, bytes: &[u8]) -> bool {
        self.needles.as_ref().is_some_and(|n| n.occur_in(bytes))
    }

    /// A decoded string: as it is, percent-decoded, and as JSON inside.
    fn occurs_in_text(&self, text: &str, depth: u8) -> bool {
        self.occurs_in_bytes(text.as_bytes()) || self.occurs_in_extras(text, depth)
    }

    /// What a string that was not escaped may still hide: percent-encoding,
    /// or JSON written inside it.
    fn occurs_in_extras(&self, text: &str, depth: u8) -> bool {
        if text.contains('%') {
            let decoded = percent_encoding::percent_decode_str(text).collect::<Vec<u8>>();
            if self.occurs_in_bytes(&decoded) {
                return true;
            }
        }
        let inner = text.trim_start();
        depth > 0
            && (inner.starts_with('{') || inner.starts_with('[') || inner.starts_with('"'))
            && self.occurs_in_json(text.as_bytes(), depth - 1)
    }

    /// Walks `raw` as JSON; `false` when it is not JSON (then nothing of it
    /// reaches a client: successes must be JSON, errors are re-written).
    fn occurs_in_json(&self, raw: &[u8], depth: u8) -> bool {
        let mut de = serde_json::Deserializer::from_slice(raw);
        Hunt {
            scanner: self,
            depth,
        }
        .deserialize(&mut de)
        .unwrap_or(false)
    }
}

impl fmt::Debug for SecretScanner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// Visits every string of a JSON document (keys and values), saying whether
/// one holds a secret, without building the document.
#[derive(Clone, Copy)]
struct Hunt<'s> {
    scanner: &'s SecretScanner,
    depth: u8,
}

impl<'de> DeserializeSeed<'de> for Hunt<'_> {
    type Value = bool;

    fn deserialize<D: serde::Deserializer<'de>>(self, de: D) -> Result<bool, D::Error> {
        de.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Hunt<'_> {
    type Value = bool;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<bool, E> {
        Ok(false)
    }

    fn visit_i64<E>(self, _: i64) -> Result<bool, E> {
        Ok(false)
    }

    fn visit_u64<E>(self, _: u64) -> Result<bool, E> {
        Ok(false)
    }

    fn visit_f64<E>(self, _: f64) -> Result<bool, E> {
        Ok(false)
    }

    fn visit_unit<E>(self) -> Result<bool, E> {
        Ok(false)
    }

    /// A string without escapes: its bytes are the raw answer's, already
    /// scanned; only what decoding it further could reveal is left.
    fn visit_borrowed_str<E>(self, text: &'de str) -> Result<bool, E> {
        Ok(self.scanner.occurs_in_extras(text, self.depth))
    }

    /// A string that had escapes, decoded.
    fn visit_str<E>(self, text: &str) -> Result<bool, E> {
        Ok(self.scanner.occurs_in_text(text, self.depth))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<bool, A::Error> {
        let mut found = false;
        while let Some(hit) = seq.next_element_seed(self)? {
            found |= hit;
        }
        Ok(found)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<bool, A::Error> {
        let mut found = false;
        while let Some(hit) = map.next_key_seed(self)? {
            found |= hit;
            found |= map.next_value_seed(self)?;
        }
        Ok(found)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "sk/live+9f3a=Q7";

    fn scanner() -> SecretScanner {
        SecretScanner::new([KEY, "whsec_0123456789abcdef"])
    }

    /// `text` with every character written `\uXXXX`, hex digits in `case`.
    fn unicode_escaped(text: &str, upper: bool) -> String {
        text.chars()
            .map(|c| {
                let escaped = format!("\\u{:04x}", c as u32);
                if upper {
                    escaped.to_uppercase().replace("\\U", "\\u")
                } else {
                    escaped
                }
            })
            .collect()
    }

    #[test]
    fn finds_each_spelling_a_client_could_decode() {
        let s = scanner();
        let php = KEY.replace('/', "\\/");
        let mixed: String = KEY
            .chars()
            .enumerate()
            .map(|(i, c)| {
                if i % 2 == 0 {
                    format!("\\u{:04X}", c as u32)
                } else {
                    c.to_string()
                }
            })
            .collect();
        let percent: String = KEY.bytes().map(|b| format!("%{b:02X}")).collect();
        let nested = serde_json::to_string(&format!("{{\"echo\":\"{php}\"}}")).unwrap();
        let b64 = STANDARD_NO_PAD.encode(format!("x:{KEY}"));
        let b64url = URL_SAFE_NO_PAD.encode(format!("ab{KEY}yz"));
        let hexed = String::from_utf8(hex(KEY.as_bytes(), b"0123456789ABCDEF")).unwrap();
        for body in [
            format!(r#"{{"error":"bad key {KEY}"}}"#),
            format!(r#"{{"error":"Unauthorized","message":"key {php} refused"}}"#),
            format!(r#"{{"error":"{}"}}"#, unicode_escaped(KEY, false)),
            format!(r#"{{"error":"{}"}}"#, unicode_escaped(KEY, true)),
            format!(r#"{{"error":"{mixed}"}}"#),
            format!(r#"{{"data":[{{"url":"https://x.example/?k={percent}"}}]}}"#),
            format!(r#"{{"error":{nested}}}"#),
            format!(r#"{{"{php}":1}}"#),
            format!(r#"{{"auth":"Basic {b64}"}}"#),
            format!(r#"{{"token":"{b64url}"}}"#),
            format!(r#"{{"dump":"{hexed}"}}"#),
            format!("<html>{KEY}</html>"),
            r#"{"secret":"whsec\u005f0123456789abcdef"}"#.to_owned(),
        ] {
            assert!(s.occurs_in_answer(body.as_bytes()), "{body}");
        }
    }

    #[test]
    fn ordinary_answers_and_near_misses_pass() {
        let s = scanner();
        for body in [
            r#"{"data":[{"id":"64f8a2b3c1d4e5f6a7b8c9d0","name":"Sk\/live"}],"total":1}"#,
            r#"{"error":"Invalid or missing API key"}"#,
            r#"{"error":"sk\/live+9f3a=Q"}"#,
            r#"{"a":"sk/live+","b":"9f3a=Q7"}"#,
            "[1, 2.5, true, null, \"%zz\"]",
            "",
        ] {
            assert!(!s.occurs_in_answer(body.as_bytes()), "{body}");
        }
        assert!(!SecretScanner::new([""]).occurs_in_answer(b"anything"));
        assert!(!SecretScanner::new([]).occurs_in_answer(KEY.as_bytes()));
    }

    #[test]
    fn base64_needles_match_the_secret_at_every_alignment_only() {
        let secret = b"sandbox-starter-key";
        for prefix in ["", "a", "ab", "abc", "Basic user:"] {
            for suffix in ["", "x", "xy"] {
                let text = [prefix.as_bytes(), secret, suffix.as_bytes()].concat();
                let s = SecretScanner::new(["sandbox-starter-key"]);
                for engine in [&STANDARD_NO_PAD, &URL_SAFE_NO_PAD] {
                    assert!(s.occurs_in_bytes(engine.encode(&text).as_bytes()));
                }
            }
        }
        // A tiny secret gets no derived needles (they would match by chance).
        let tiny = SecretScanner::new(["k1"]);
        assert!(!tiny.occurs_in_answer(b"{\"id\":\"6b31\",\"b\":\"azE\"}"));
        assert!(tiny.occurs_in_answer(b"{\"id\":\"k1\"}"));
    }

    #[test]
    fn nesting_is_bounded_and_never_shows_the_secret() {
        let s = scanner();
        let mut body = format!("\"{}\"", KEY.replace('/', "\\/"));
        for _ in 0..MAX_NESTING + 2 {
            body = serde_json::to_string(&format!("[{body}]")).unwrap();
        }
        // Deeper than the bound: not parsed further, and not a panic.
        let _ = s.occurs_in_answer(body.as_bytes());
        assert_eq!(format!("{s:?}"), "[redacted]");
    }
}
