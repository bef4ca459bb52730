//! This month's API usage.

use std::fmt;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::plan::Plan;

/// A monthly call limit: a number, or unlimited (Enterprise).
///
/// On the wire a number is a limit; `null`, a negative number or the text
/// `"unlimited"` all mean unlimited, since the guide does not say how the
/// server writes it. Unlimited is written back as `null`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Limit {
    /// At most this many calls.
    Calls(u64),
    /// No limit.
    Unlimited,
}

impl Limit {
    /// The number of calls, or `None` when unlimited.
    pub fn calls(self) -> Option<u64> {
        match self {
            Self::Calls(n) => Some(n),
            Self::Unlimited => None,
        }
    }

    /// A limit written as a number: finite and not negative is that many
    /// calls (a fraction is cut off); negative or not finite is unlimited.
    pub fn from_number(n: f64) -> Self {
        if n.is_finite() && n >= 0.0 {
            Self::Calls(n as u64)
        } else {
            Self::Unlimited
        }
    }

    /// A limit written as text: `"unlimited"` (any case) or decimal digits;
    /// `None` for anything else.
    pub fn from_text(raw: &str) -> Option<Self> {
        if raw.eq_ignore_ascii_case("unlimited") {
            return Some(Self::Unlimited);
        }
        raw.trim().parse::<u64>().ok().map(Self::Calls)
    }
}

impl Serialize for Limit {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Calls(n) => serializer.serialize_u64(*n),
            Self::Unlimited => serializer.serialize_none(),
        }
    }
}

// A visitor rather than an untagged enum: serde's untagged enums buffer
// the value first (its `Content` machinery, several KiB of the server
// wasm), for what one call on the value's own type says.
impl<'de> Deserialize<'de> for Limit {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct LimitVisitor;
        impl Visitor<'_> for LimitVisitor {
            type Value = Limit;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a number or \"unlimited\"")
            }
            fn visit_u64<E: de::Error>(self, n: u64) -> Result<Limit, E> {
                Ok(Limit::Calls(n))
            }
            fn visit_i64<E: de::Error>(self, n: i64) -> Result<Limit, E> {
                Ok(u64::try_from(n).map_or(Limit::Unlimited, Limit::Calls))
            }
            fn visit_f64<E: de::Error>(self, f: f64) -> Result<Limit, E> {
                Ok(Limit::from_number(f))
            }
            fn visit_str<E: de::Error>(self, t: &str) -> Result<Limit, E> {
                Limit::from_text(t).ok_or_else(|| {
                    E::custom(format!(
                        "limit must be a number or \"unlimited\", got {}",
                        crate::text::quote(t)
                    ))
                })
            }
            fn visit_unit<E: de::Error>(self) -> Result<Limit, E> {
                Ok(Limit::Unlimited)
            }
            fn visit_none<E: de::Error>(self) -> Result<Limit, E> {
                Ok(Limit::Unlimited)
            }
        }
        deserializer.deserialize_any(LimitVisitor)
    }
}

fn unlimited() -> Limit {
    Limit::Unlimited
}

/// `GET /external/v1/usage` → `{"data": Usage}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Usage {
    /// The month counted, `YYYY-MM`.
    pub month: String,
    /// The workspace's plan.
    pub plan: Plan,
    /// Calls made this month.
    pub used: u64,
    /// Calls allowed this month (absent means unlimited).
    #[serde(default = "unlimited")]
    pub limit: Limit,
    /// Calls left this month (absent means unlimited).
    #[serde(default = "unlimited")]
    pub remaining: Limit,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::DataEnvelope;

    #[test]
    fn decodes_the_guides_usage_example() {
        let raw = "{\n\"data\": {\n\"month\": \"2025-01\",\n\"plan\": \"Starter\",\n\"used\": 1423,\n\"limit\": 10000,\n\"remaining\": 8577\n}\n}";
        let usage: DataEnvelope<Usage> = serde_json::from_str(raw).unwrap();
        assert_eq!(
            usage.data,
            Usage {
                month: "2025-01".into(),
                plan: Plan::Starter,
                used: 1423,
                limit: Limit::Calls(10_000),
                remaining: Limit::Calls(8_577),
            }
        );
    }

    #[test]
    fn enterprise_unlimited_in_every_spelling() {
        for limit in ["null", "-1", "\"unlimited\"", "\"Unlimited\""] {
            let raw = format!(
                r#"{{"month":"2025-01","plan":"Enterprise","used":5,"limit":{limit},"remaining":{limit}}}"#
            );
            let usage: Usage = serde_json::from_str(&raw).unwrap();
            assert_eq!(usage.limit, Limit::Unlimited, "{limit}");
            assert_eq!(usage.remaining, Limit::Unlimited, "{limit}");
        }
        let missing: Usage =
            serde_json::from_str(r#"{"month":"2025-01","plan":"Enterprise","used":5}"#)
                .expect("absent limit means unlimited");
        assert_eq!(missing.limit, Limit::Unlimited);
        let back = serde_json::to_value(&missing).unwrap();
        assert_eq!(back["limit"], serde_json::Value::Null);
    }

    #[test]
    fn rejects_a_limit_that_is_neither_number_nor_unlimited() {
        let err = serde_json::from_str::<Usage>(
            r#"{"month":"m","plan":"Pro","used":1,"limit":"lots","remaining":1}"#,
        )
        .unwrap_err();
        assert!(err.to_string().contains("limit must be a number"), "{err}");
        let odd: Usage = serde_json::from_str(
            r#"{"month":"m","plan":"Pro","used":1,"limit":" 50 ","remaining":12.9}"#,
        )
        .unwrap();
        assert_eq!(
            (odd.limit, odd.remaining),
            (Limit::Calls(50), Limit::Calls(12))
        );
        assert!(serde_json::from_str::<Usage>(
            r#"{"month":"m","plan":"Pro","used":1,"limit":[1],"remaining":1}"#
        )
        .is_err());
    }
}
