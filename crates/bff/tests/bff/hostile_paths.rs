//! Path and SSRF tricks: refused on the raw path, never forwarded. The
//! requests are data (`tests/cases/hostile-requests.json`), shared with the
//! npm server half's tests, which send each one to its handler too.

use serde_json::Value;

use crate::support::{raw_get, Harness};

/// The shared cases: `{rows: [{method, target, status}], wellFormed}`.
const CASES: &str = include_str!("../../../../tests/cases/hostile-requests.json");

fn case(row: &Value) -> (String, Vec<u8>, u16) {
    let text = |name: &str| {
        row[name]
            .as_str()
            .unwrap_or_else(|| panic!("{name} in {row}"))
    };
    let status = row["status"].as_u64().and_then(|s| u16::try_from(s).ok());
    (
        text("method").to_owned(),
        text("target").as_bytes().to_vec(),
        status.unwrap_or_else(|| panic!("status in {row}")),
    )
}

#[tokio::test]
async fn hostile_paths_are_refused_and_never_reach_the_upstream() {
    let h = Harness::start().await;
    let cases: Value = serde_json::from_str(CASES).unwrap();
    let raw_rows: Vec<(String, Vec<u8>, u16)> =
        cases["rows"].as_array().unwrap().iter().map(case).collect();

    let mut failures = Vec::new();
    for (method, path, expected) in &raw_rows {
        let (status, answer) = raw_get(h.addr, method, path).await;
        if status != *expected {
            failures.push(format!(
                "{method} {} → {status}, expected {expected}\n{answer}",
                String::from_utf8_lossy(path)
            ));
        }
        if status == 405 {
            assert!(
                answer.to_ascii_lowercase().contains("\r\nallow: "),
                "{answer}"
            );
        }
        // Our own refusals are in the API's format (hyper's own 400 for an
        // unparseable request line is not, and need not be).
        if answer.contains("application/json") {
            assert!(answer.contains("{\"error\":"), "{answer}");
        }
    }
    assert!(
        failures.is_empty(),
        "{} rows failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    println!("hostile paths tried: {}", raw_rows.len());
    assert!(raw_rows.len() >= 40, "{}", raw_rows.len());
    assert_eq!(
        h.stats().api_calls,
        0,
        "a hostile request reached the upstream"
    );

    // The same paths, when well-formed, do reach it: the test can see a call.
    let (method, path, expected) = case(&cases["wellFormed"]);
    let (status, _) = raw_get(h.addr, &method, &path).await;
    assert_eq!(status, expected);
    assert_eq!(h.stats().api_calls, 1);
    h.shutdown().await;
}
