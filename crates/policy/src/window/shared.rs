//! The caller's side of the shared window (`window.lua` in Redis, for every
//! replica): how long a waiter sleeps between asks, and how long its place
//! lasts without one.
//!
//! The script runs the same rules as [`super::Window`]: each call grants the
//! free slots to whoever's turn it is, and tells the caller whether it was
//! admitted (a granted turn is taken at its owner's next call), when it is
//! likely admitted, and when a slot could next be granted to anyone.

use std::time::Duration;

/// Longest sleep between two asks of the shared window (well under its lease).
pub const MAX_NAP: Duration = Duration::from_secs(2);
/// Shortest sleep between two asks.
pub const MIN_NAP: Duration = Duration::from_millis(5);
/// A waiter of the shared window that does not renew its lease within this
/// long leaves the queue (its replica died); a turn granted to it is given
/// back.
pub const LEASE: Duration = Duration::from_secs(10);

/// How long a waiter of the shared window sleeps before asking again, told
/// that a slot could next be granted in `wake`: exactly that, within
/// [`MIN_NAP`]..[`MAX_NAP`] and never past `budget_left`.
pub fn shared_nap(wake: Duration, budget_left: Duration) -> Duration {
    wake.clamp(MIN_NAP, MAX_NAP).min(budget_left)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn naps_are_exact_and_bounded() {
        let ms = Duration::from_millis;
        assert_eq!(shared_nap(ms(300), ms(10_000)), ms(300));
        assert_eq!(shared_nap(ms(0), ms(10_000)), MIN_NAP);
        assert_eq!(shared_nap(ms(60_000), ms(10_000)), MAX_NAP);
        assert_eq!(shared_nap(ms(300), ms(100)), ms(100));
    }
}
