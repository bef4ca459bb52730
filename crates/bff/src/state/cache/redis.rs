//! The GET cache and its coalescing, shared by every replica.
//!
//! A read first asks Redis (`begin.lua`) in one atomic step: a cached answer
//! is a hit; otherwise the first asker anywhere takes a lock (`SET NX PX`) and
//! leads, and everyone else follows. The leader calls the upstream, stores a
//! success with the TTL (`PX`), releases the lock and publishes the answer
//! (`finish.lua`); followers, listening through the replica's subscriber,
//! take it from the message, and re-ask with backoff in case it was missed
//! or the leader died (its lock expires, and a follower leads). So identical
//! reads in flight anywhere make one upstream call.
//!
//! A change bumps a generation counter and drops the stale keys
//! (`invalidate.lua`); a leader that started before it does not store its
//! answer, and followers that asked after it do not take it.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::Arc;
use std::time::Duration;

use conferbot_policy::cache_table::is_success;
use conferbot_policy::headers::CacheStatus;
use conferbot_policy::invalidation::Invalidation;
use conferbot_policy::shared_state::wire::{DoneMessage, WireAnswer};
use conferbot_policy::shared_state::{keys, scripts};
use conferbot_policy::{cache_key, BffError, Target};
use redis::Script;
use tokio::sync::broadcast::error::RecvError;
use tokio::time::Instant;

use crate::answer::{Fetched, UpstreamAnswer};
use crate::redis_state::RedisState;

/// First and longest wait between two asks of a follower.
const FIRST_BACKOFF: Duration = Duration::from_millis(20);
const MAX_BACKOFF: Duration = Duration::from_millis(500);

/// The shared cache.
#[derive(Debug)]
pub(crate) struct RedisCache {
    state: Arc<RedisState>,
    ttl: Duration,
    lock_ttl: Duration,
    begin: Script,
    finish: Script,
    invalidate: Script,
}

enum Begin {
    Hit(UpstreamAnswer),
    Lead(i64),
    Wait(i64),
}

impl RedisCache {
    /// Answers are kept for `ttl` (zero: coalescing only); a leader's lock
    /// lasts `lock_ttl` (its longest queue wait plus upstream call), after
    /// which a follower takes over if the leader went away.
    pub(crate) fn new(state: Arc<RedisState>, ttl: Duration, lock_ttl: Duration) -> Self {
        Self {
            state,
            ttl,
            lock_ttl,
            begin: Script::new(scripts::BEGIN),
            finish: Script::new(scripts::FINISH),
            invalidate: Script::new(scripts::INVALIDATE),
        }
    }

    /// The answer for `target`: cached, a leader's elsewhere, or `fetch`ed here.
    pub(crate) async fn get_or_fetch<F, Fut>(&self, target: &Target, fetch: F) -> Fetched
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<UpstreamAnswer, BffError>>,
    {
        let key = cache_key(target);
        let token = lock_token();
        // Listen before asking, so that an answer published in between is not missed.
        let mut done = self.state.done.subscribe();
        let deadline = Instant::now() + self.lock_ttl + Duration::from_secs(2);
        let mut backoff = FIRST_BACKOFF;
        loop {
            let generation = match self.begin(&key, &token).await {
                Err(()) => return (Err(BffError::SharedStateUnavailable), CacheStatus::Miss),
                Ok(Begin::Hit(answer)) => return (Ok(answer), CacheStatus::Hit),
                Ok(Begin::Lead(generation)) => {
                    let result = fetch().await;
                    self.finish(target, &key, &token, generation, &result).await;
                    return (result, CacheStatus::Miss);
                }
                Ok(Begin::Wait(generation)) => generation,
            };
            let wake = Instant::now() + backoff;
            loop {
                match tokio::time::timeout_at(wake, done.recv()).await {
                    Ok(Ok(finished)) if finished.key == key && finished.gen >= generation => {
                        if let Some(answer) = UpstreamAnswer::from_wire(finished.answer.clone()) {
                            return (Ok(answer), CacheStatus::Coalesced);
                        }
                    }
                    Ok(Ok(_)) => continue,
                    Ok(Err(RecvError::Lagged(_))) | Err(_) => break,
                    Ok(Err(RecvError::Closed)) => {
                        tokio::time::sleep_until(wake).await;
                        break;
                    }
                }
            }
            if Instant::now() > deadline {
                return (Err(BffError::SharedStateUnavailable), CacheStatus::Miss);
            }
            backoff = (backoff * 2).min(MAX_BACKOFF);
        }
    }

    /// Drops what `stale` names, on every replica's behalf.
    pub(crate) async fn invalidate(&self, stale: &Invalidation) -> Result<(), ()> {
        if stale.is_empty() {
            return Ok(());
        }
        let mut invocation = self.invalidate.prepare_invoke();
        invocation.key(self.state.key(keys::GENERATION));
        for (operation, prefix) in stale.key_prefixes() {
            invocation.key(self.state.key(&keys::index(operation)));
            invocation.arg(prefix);
        }
        invocation.arg(self.state.key(""));
        let mut conn = self.state.conn();
        let result = invocation.invoke_async::<i64>(&mut conn).await;
        self.state.track(result).map(|_| ()).map_err(|_| ())
    }

    async fn begin(&self, key: &str, token: &str) -> Result<Begin, ()> {
        let mut conn = self.state.conn();
        let result = self
            .begin
            .key(self.state.key(&keys::cache(key)))
            .key(self.state.key(&keys::lock(key)))
            .key(self.state.key(keys::GENERATION))
            .arg(token)
            .arg(millis(self.lock_ttl))
            .invoke_async::<(String, Vec<u8>)>(&mut conn)
            .await;
        let (kind, value) = self.state.track(result).map_err(|_| ())?;
        let generation = || String::from_utf8_lossy(&value).parse::<i64>().unwrap_or(0);
        Ok(match kind.as_str() {
            "hit" => match WireAnswer::decode(&value).and_then(UpstreamAnswer::from_wire) {
                Some(answer) => Begin::Hit(answer),
                // Unreadable (another version wrote it): lead if possible.
                None => Begin::Wait(0),
            },
            "lead" => Begin::Lead(generation()),
            _ => Begin::Wait(generation()),
        })
    }

    /// Stores, unlocks and publishes; a failure only costs the followers a
    /// few asks more, so it is logged, not returned.
    async fn finish(
        &self,
        target: &Target,
        key: &str,
        token: &str,
        generation: i64,
        result: &Result<UpstreamAnswer, BffError>,
    ) {
        let answer = match result {
            Ok(answer) => answer.to_wire(),
            Err(err) => UpstreamAnswer::from_error(err).to_wire(),
        };
        // Only successes are kept; the others still go to the followers.
        let ttl = if is_success(answer.status) {
            self.ttl
        } else {
            Duration::ZERO
        };
        let message = DoneMessage {
            key: key.to_owned(),
            gen: generation,
            answer,
        };
        let mut conn = self.state.conn();
        let outcome = self
            .finish
            .key(self.state.key(&keys::cache(key)))
            .key(self.state.key(&keys::lock(key)))
            .key(self.state.key(keys::GENERATION))
            .key(self.state.key(&keys::index(target.operation)))
            .arg(token)
            .arg(generation)
            .arg(millis(ttl))
            .arg(message.answer.encode())
            .arg(self.state.key(keys::DONE_CHANNEL))
            .arg(message.encode())
            .invoke_async::<i64>(&mut conn)
            .await;
        if let Err(err) = self.state.track(outcome) {
            tracing::warn!(error = %err, key, "could not share a finished read");
        }
    }
}

/// A token that names this leader's lock, so that only it releases it.
fn lock_token() -> String {
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u128(Instant::now().elapsed().as_nanos());
    format!("{:016x}", hasher.finish())
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}
