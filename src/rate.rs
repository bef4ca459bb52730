//! The rate syntax shared by the BFF and the sandbox (`--rate 60/60s`), and
//! the duration syntax of their other flags (`10s`, `500ms`, `2m`).

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

/// `N` requests per sliding `window`, written `N/window` (`60/60s`, `20/2s`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateSpec {
    /// Requests allowed per window (at least 1).
    pub max: u32,
    /// The sliding window (longer than zero).
    pub window: Duration,
}

impl RateSpec {
    /// The upstream's documented limit: 60 requests per minute per key.
    pub const UPSTREAM: RateSpec = RateSpec {
        max: crate::protocol::api::REQUESTS_PER_MINUTE,
        window: Duration::from_secs(60),
    };
}

impl Default for RateSpec {
    fn default() -> Self {
        Self::UPSTREAM
    }
}

/// Why a rate or a duration flag was refused; each says what was given.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RateError {
    /// Not `N/window`.
    #[error("rate must look like 60/60s (requests/window), got {0:?}")]
    RateSyntax(String),
    /// No request, or an empty window.
    #[error("rate must allow at least 1 request per non-empty window, got {0:?}")]
    EmptyRate(String),
    /// Not digits with a unit.
    #[error("duration must look like 10s, 500ms or 2m, got {0:?}")]
    DurationSyntax(String),
    /// A unit other than ms, s, m, h.
    #[error("duration unit must be ms, s, m or h, got {0:?}")]
    DurationUnit(String),
    /// More milliseconds than a `u64` holds.
    #[error("duration {0:?} is too long")]
    DurationTooLong(String),
}

impl FromStr for RateSpec {
    type Err = RateError;

    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        let usage = || RateError::RateSyntax(raw.to_owned());
        let (max, window) = raw.split_once('/').ok_or_else(usage)?;
        let max: u32 = max.trim().parse().map_err(|_| usage())?;
        let window = parse_duration(window).map_err(|_| usage())?;
        if max == 0 || window.is_zero() {
            return Err(RateError::EmptyRate(raw.to_owned()));
        }
        Ok(Self { max, window })
    }
}

impl fmt::Display for RateSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.max, format_duration(self.window))
    }
}

/// Parses `500ms`, `10s`, `2m`, `1h`, or a bare number of seconds.
pub fn parse_duration(raw: &str) -> Result<Duration, RateError> {
    let raw = raw.trim();
    let split = raw.find(|c: char| !c.is_ascii_digit()).unwrap_or(raw.len());
    let (digits, unit) = raw.split_at(split);
    let n: u64 = digits
        .parse()
        .map_err(|_| RateError::DurationSyntax(raw.to_owned()))?;
    let millis = match unit {
        "ms" => Some(n),
        "" | "s" => n.checked_mul(1_000),
        "m" => n.checked_mul(60_000),
        "h" => n.checked_mul(3_600_000),
        _ => return Err(RateError::DurationUnit(raw.to_owned())),
    };
    millis
        .map(Duration::from_millis)
        .ok_or_else(|| RateError::DurationTooLong(raw.to_owned()))
}

/// Writes a duration the way [`parse_duration`] reads it.
pub fn format_duration(d: Duration) -> String {
    let ms = d.as_millis();
    if ms % 1_000 == 0 {
        format!("{}s", ms / 1_000)
    } else {
        format!("{ms}ms")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_rates() {
        assert_eq!("60/60s".parse::<RateSpec>().unwrap(), RateSpec::UPSTREAM);
        assert_eq!(
            "20/2s".parse::<RateSpec>().unwrap(),
            RateSpec {
                max: 20,
                window: Duration::from_secs(2)
            }
        );
        assert_eq!(
            "5/250ms".parse::<RateSpec>().unwrap().window,
            Duration::from_millis(250)
        );
        assert_eq!("100/1m".parse::<RateSpec>().unwrap().to_string(), "100/60s");
        for bad in [
            "", "60", "60/", "/60s", "0/60s", "60/0s", "x/1s", "60/1y", "-1/1s",
        ] {
            assert!(bad.parse::<RateSpec>().is_err(), "{bad}");
        }
    }

    #[test]
    fn parses_durations() {
        assert_eq!(parse_duration("10s").unwrap(), Duration::from_secs(10));
        assert_eq!(parse_duration("7").unwrap(), Duration::from_secs(7));
        assert_eq!(parse_duration("0").unwrap(), Duration::ZERO);
        assert_eq!(parse_duration("2m").unwrap(), Duration::from_secs(120));
        assert!(parse_duration("1.5s").is_err());
        assert!(parse_duration("99999999999999999999h").is_err());
    }
}
