//! Counters of what the sandbox answered under `/api/v1`, so tests and
//! benchmarks can check how many calls actually reached the "upstream"
//! (the BFF's cache and coalescing are measured by them).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// What `/api/v1` has seen since start or the last reset (`GET /sandbox/stats`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SandboxStats {
    /// Every request under `/api/v1` that reached the sandbox, whatever its fate.
    pub api_calls: u64,
    /// Answers by status code (`{"200": 12, "429": 3}` on the wire).
    pub by_status: BTreeMap<u16, u64>,
    /// `429` answers sent (per-minute and monthly alike).
    pub rate_limited: u64,
    /// Connections closed without an answer by the `drop` fault.
    #[serde(default)]
    pub dropped: u64,
    /// Connections accepted (admin routes' too), so tests can see a client
    /// reuse its connections.
    #[serde(default)]
    pub connections: u64,
    /// Requests by the operation their path names (`{"listChatbots": 3}`),
    /// whatever their fate, so a benchmark can tell which reads reached it.
    #[serde(default)]
    pub by_operation: BTreeMap<String, u64>,
}

impl SandboxStats {
    /// Counts a request that arrived.
    pub(crate) fn record_call(&mut self) {
        self.api_calls = self.api_calls.saturating_add(1);
    }

    /// Counts an answer with `status`.
    pub(crate) fn record_status(&mut self, status: u16) {
        let n = self.by_status.entry(status).or_default();
        *n = n.saturating_add(1);
        if status == 429 {
            self.rate_limited = self.rate_limited.saturating_add(1);
        }
    }

    /// Counts a request for `operation`.
    pub(crate) fn record_operation(&mut self, operation: &str) {
        let n = self.by_operation.entry(operation.to_owned()).or_default();
        *n = n.saturating_add(1);
    }

    /// Counts a connection accepted.
    pub(crate) fn record_connection(&mut self) {
        self.connections = self.connections.saturating_add(1);
    }

    /// Counts a connection dropped on purpose.
    pub(crate) fn record_drop(&mut self) {
        self.dropped = self.dropped.saturating_add(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_keys_are_strings_on_the_wire() {
        let mut stats = SandboxStats::default();
        stats.record_call();
        stats.record_status(429);
        stats.record_status(200);
        stats.record_operation("getUsage");
        let json = serde_json::to_value(&stats).unwrap();
        assert_eq!(json["byOperation"]["getUsage"], 1);
        assert_eq!(json["byStatus"]["429"], 1);
        assert_eq!(json["rateLimited"], 1);
        let back: SandboxStats = serde_json::from_value(json).unwrap();
        assert_eq!(back, stats);
    }
}
