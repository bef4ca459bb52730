//! Answers that exporters must get right (`--tricky-answers`): text with
//! commas, double quotes, LF and CRLF line breaks, tabs, outer spaces,
//! non-ASCII and formula-like text; answer names that need quoting in a CSV
//! header; answers that some responses lack, `null`s, nested objects, arrays.
//!
//! Seeded like the plain answers, so the same seed gives the same text.

use serde_json::{json, Map, Value};

use crate::prng::SplitMix64;

/// Free text as people type it, and as CSV writers must quote it.
const MESSAGES: [&str; 12] = [
    "Hello, I'd like to know more about pricing.",
    "She said \"call me back\", then hung up",
    "First line\nsecond line",
    "Windows line break\r\nhere, too",
    "  outer spaces  ",
    "Zürich, 東京, São Paulo 🎉",
    "=SUM(A1:A2)",
    "\"fully quoted\"",
    "a,b,\"c\",\n\"d\"",
    "",
    "tab\tseparated\tvalues",
    "trailing newline\n",
];

/// Answer names that a CSV header must quote: a comma, double quotes.
const COMMENTS_KEY: &str = "Comments, if any";
const NICKNAME_KEY: &str = "Your \"nickname\"";

const NAMES: [&str; 6] = [
    "Ada",
    "O'Brien, Pat",
    "José \"Pepe\" García",
    "Zoë",
    "李雷",
    "Smith\nJr.",
];

/// The answers of one seeded response.
pub fn answers(rng: &mut SplitMix64, completed: bool) -> Map<String, Value> {
    let mut answers = Map::new();
    let name = pick(rng, &NAMES);
    answers.insert("name".to_owned(), json!(name));
    answers.insert("message".to_owned(), json!(pick(rng, &MESSAGES)));
    if completed {
        answers.insert("rating".to_owned(), json!(1 + rng.below(5)));
        answers.insert("subscribed".to_owned(), json!(rng.percent(40)));
    }
    if rng.percent(50) {
        let comment = format!("{}\n{}", pick(rng, &MESSAGES), pick(rng, &MESSAGES));
        answers.insert(COMMENTS_KEY.to_owned(), json!(comment));
    }
    if rng.percent(20) {
        answers.insert(NICKNAME_KEY.to_owned(), Value::Null);
    }
    if rng.percent(30) {
        answers.insert(
            "address".to_owned(),
            json!({"city": pick(rng, &["Zürich", "Paris, TX", "New \"York\""]), "zip": rng.below(99_999)}),
        );
    }
    if rng.percent(25) {
        answers.insert("tags".to_owned(), json!(["a,b", "c\"d", "e\nf"]));
    }
    answers
}

fn pick<'a>(rng: &mut SplitMix64, items: &[&'a str]) -> &'a str {
    rng.pick(items).copied().unwrap_or_default()
}
