//! When to reconnect a live event stream, pure: the wasm client's `events()`
//! asks after every dropped stream and failed connection.
//!
//! - A stream that was open and ended (the BFF restarted, a proxy cut it) is
//!   reopened after the server's `retry:` delay, like `EventSource` does.
//! - Failed connections (network errors, `429`, `5xx`) back off
//!   exponentially from that delay, with jitter, up to [`MAX_RECONNECT_MS`],
//!   and never sooner than a `Retry-After` the server sent.

/// The delay when the server has not sent `retry:` (`EventSource` browsers use about 3 s).
pub const DEFAULT_RETRY_MS: u64 = 3_000;
/// The longest wait between connection attempts.
pub const MAX_RECONNECT_MS: u64 = 30_000;

/// The reconnection state of one stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reconnect {
    retry_ms: u64,
    failures: u32,
    retry_after_ms: u64,
}

impl Default for Reconnect {
    fn default() -> Self {
        Self {
            retry_ms: DEFAULT_RETRY_MS,
            failures: 0,
            retry_after_ms: 0,
        }
    }
}

impl Reconnect {
    /// Takes the server's `retry:` delay, capped at [`MAX_RECONNECT_MS`].
    pub fn set_retry_ms(&mut self, ms: u64) {
        self.retry_ms = ms.min(MAX_RECONNECT_MS);
    }

    /// A connection opened: failures are forgotten.
    pub fn connected(&mut self) {
        self.failures = 0;
        self.retry_after_ms = 0;
    }

    /// A connection attempt failed; `retry_after` is the server's
    /// `Retry-After` in seconds, when it sent one.
    pub fn failed(&mut self, retry_after: Option<u64>) {
        self.failures = self.failures.saturating_add(1);
        self.retry_after_ms = retry_after.map_or(0, |secs| secs.saturating_mul(1_000));
    }

    /// Connection attempts failed in a row since the last open stream.
    pub fn failures(&self) -> u32 {
        self.failures
    }

    /// How long to wait before the next attempt; `random_unit` in `[0, 1)`
    /// draws the jitter (passing it in keeps this pure).
    pub fn delay_ms(&self, random_unit: f64) -> u64 {
        if self.failures == 0 {
            return self.retry_ms;
        }
        let ceiling = self
            .retry_ms
            .max(1)
            .saturating_mul(1 << (self.failures - 1).min(20))
            .min(MAX_RECONNECT_MS);
        let unit = if random_unit.is_finite() {
            random_unit.clamp(0.0, 1.0)
        } else {
            0.0
        };
        // Half the ceiling, plus up to another half: never a burst at zero.
        let jittered = (ceiling as f64 * (0.5 + unit / 2.0)) as u64;
        jittered.max(self.retry_after_ms.min(MAX_RECONNECT_MS))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dropped_stream_reopens_after_the_servers_retry() {
        let mut r = Reconnect::default();
        assert_eq!(r.delay_ms(0.9), DEFAULT_RETRY_MS);
        r.set_retry_ms(250);
        assert_eq!(r.delay_ms(0.9), 250);
        r.set_retry_ms(10 * 60 * 1_000);
        assert_eq!(r.delay_ms(0.0), MAX_RECONNECT_MS);
    }

    #[test]
    fn failed_connections_back_off_with_jitter_up_to_the_cap() {
        let mut r = Reconnect::default();
        r.set_retry_ms(1_000);
        let mut ceilings = vec![];
        for _ in 0..8 {
            r.failed(None);
            let (low, high) = (r.delay_ms(0.0), r.delay_ms(0.999_999));
            assert!(low * 2 <= high + 1 && low > 0, "{low}..{high}");
            ceilings.push(r.delay_ms(1.0));
        }
        assert_eq!(
            ceilings,
            [1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000, 30_000]
        );
        assert_eq!(r.failures(), 8);
        r.connected();
        assert_eq!((r.failures(), r.delay_ms(0.5)), (0, 1_000));
    }

    #[test]
    fn retry_after_is_a_floor() {
        let mut r = Reconnect::default();
        r.set_retry_ms(100);
        r.failed(Some(5));
        assert_eq!(r.delay_ms(0.0), 5_000);
        r.failed(Some(3_600));
        assert_eq!(r.delay_ms(0.0), MAX_RECONNECT_MS);
        r.failed(None);
        assert!(r.delay_ms(0.0) < 5_000);
    }
}
