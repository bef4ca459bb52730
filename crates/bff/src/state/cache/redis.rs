//! The GET cache and its coalescing, shared by every replica.
//!
//! A read first asks Redis (`begin.lua`) in one atomic step: a fresh answer
//! is a hit; a stale one is served at once, and the first asker anywhere
//! after the revalidation interval (a marker `SET NX PX interval`) also
//! refreshes it in the background; otherwise the first asker anywhere takes
//! a lock (`SET NX PX`) and leads, and everyone else follows. The leader
//! calls the upstream, stores a success for its lifetime (`PX`), releases
//! the lock and publishes the answer (`finish.lua`); followers, listening
//! through the replica's subscriber, take it from the message, and re-ask
//! with backoff in case it was missed or the leader died (its lock expires,
//! and a follower leads). So identical reads in flight anywhere make one
//! upstream call, and one key is revalidated once per interval by all.
//!
//! A change bumps the generation of the operations it touches and marks
//! their answers stale (`invalidate.lua` for writes; deliveries patch them in
//! `publish.lua`, see `crate::state::events`): a read that began before it
//! does not store its answer, and followers that asked after it do not take
//! it. A marked answer is read again by the next asker, and served (marked
//! stale) when the upstream must not be called or the call fails.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::Arc;
use std::time::Duration;

use conferbot_policy::cache_table::{falls_back, is_success, Freshness};
use conferbot_policy::headers::CacheStatus;
use conferbot_policy::invalidation::Invalidation;
use conferbot_policy::quota::Spend;
use conferbot_policy::shared_state::changes::touched_key;
use conferbot_policy::shared_state::wire::{DoneMessage, WireAnswer};
use conferbot_policy::shared_state::{keys, scripts};
use conferbot_policy::{cache_key, BffError, Target};
use redis::{Script, Value};
use tokio::sync::broadcast::error::RecvError;
use tokio::time::Instant;

use crate::answer::{Served, UpstreamAnswer};
use crate::redis_state::RedisState;

/// First and longest wait between two asks of a follower.
const FIRST_BACKOFF: Duration = Duration::from_millis(20);
const MAX_BACKOFF: Duration = Duration::from_millis(500);

/// The shared cache.
#[derive(Debug)]
pub(crate) struct RedisCache {
    state: Arc<RedisState>,
    freshness: Freshness,
    lock_ttl: Duration,
    begin: Script,
    finish: Script,
    invalidate: Script,
}

enum Begin {
    Hit(UpstreamAnswer, u64),
    Stale {
        answer: UpstreamAnswer,
        age_ms: u64,
        refresh: bool,
        generation: i64,
    },
    Lead {
        generation: i64,
        fallback: Option<(UpstreamAnswer, u64)>,
    },
    Wait(i64),
}

impl RedisCache {
    /// Answers are kept as `freshness` says (a zero `fresh`: coalescing
    /// only); a leader's lock lasts `lock_ttl` (its longest queue wait plus
    /// upstream call), after which a follower takes over if the leader went
    /// away.
    pub(crate) fn new(state: Arc<RedisState>, freshness: Freshness, lock_ttl: Duration) -> Self {
        Self {
            state,
            freshness,
            lock_ttl,
            begin: Script::new(scripts::BEGIN),
            finish: Script::new(scripts::FINISH),
            invalidate: Script::new(scripts::INVALIDATE),
        }
    }

    /// How long answers are fresh, in ms.
    pub(crate) fn fresh_ms(&self) -> u64 {
        millis(self.freshness.fresh)
    }

    /// The answer for `target`: held, a leader's elsewhere, or `fetch`ed
    /// here, spending as `spend` allows.
    pub(crate) async fn get_or_fetch<F, Fut>(
        self: &Arc<Self>,
        target: &Target,
        spend: Spend,
        fetch: F,
    ) -> Served
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<UpstreamAnswer, BffError>> + Send + 'static,
    {
        let key = cache_key(target);
        let token = lock_token();
        // Listen before asking, so that an answer published in between is not missed.
        let mut done = self.state.done.subscribe();
        let deadline = Instant::now() + self.lock_ttl + Duration::from_secs(2);
        let mut backoff = FIRST_BACKOFF;
        loop {
            let generation = match self.begin(target, &key, &token, spend).await {
                Err(()) => return Served::fetched(Err(BffError::SharedStateUnavailable)),
                Ok(Begin::Hit(answer, age_ms)) => {
                    return Served::held(Arc::new(answer), CacheStatus::Hit, age_ms)
                }
                Ok(Begin::Stale {
                    answer,
                    age_ms,
                    refresh,
                    generation,
                }) => {
                    if refresh {
                        let call = fetch();
                        let cache = Arc::clone(self);
                        let (target, key) = (target.clone(), key.clone());
                        tokio::spawn(async move {
                            let result = call.await;
                            cache
                                .finish(&target, &key, "", generation, spend, &result)
                                .await;
                        });
                    }
                    return Served::held(Arc::new(answer), CacheStatus::Stale, age_ms);
                }
                Ok(Begin::Lead {
                    generation,
                    fallback,
                }) => {
                    let result = fetch().await;
                    self.finish(target, &key, &token, generation, spend, &result)
                        .await;
                    let failed = match &result {
                        Ok(answer) => (!answer.is_success()).then(|| answer.status.as_u16()),
                        Err(err) => Some(err.status()),
                    };
                    if let (Some(status), Some((held, age_ms))) = (failed, fallback) {
                        if falls_back(status) {
                            return Served::held(Arc::new(held), CacheStatus::Stale, age_ms);
                        }
                    }
                    return Served::fetched(result);
                }
                Ok(Begin::Wait(generation)) => generation,
            };
            let wake = Instant::now() + backoff;
            loop {
                match tokio::time::timeout_at(wake, done.recv()).await {
                    Ok(Ok(finished)) if finished.key == key && finished.gen >= generation => {
                        if let Some(answer) = UpstreamAnswer::from_wire(finished.answer.clone()) {
                            return Served {
                                outcome: Ok(Arc::new(answer)),
                                cache: CacheStatus::Coalesced,
                                age_ms: None,
                            };
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
                return Served::fetched(Err(BffError::SharedStateUnavailable));
            }
            backoff = (backoff * 2).min(MAX_BACKOFF);
        }
    }

    /// Marks what a write made stale, on every replica's behalf.
    pub(crate) async fn invalidate(&self, change: &Invalidation) -> Result<(), ()> {
        if change.is_empty() {
            return Ok(());
        }
        let mut invocation = self.invalidate.prepare_invoke();
        for (operation, prefix) in change.key_prefixes() {
            invocation.key(self.state.key(&keys::index(operation)));
            invocation.key(self.state.key(&keys::generation(operation)));
            invocation.arg(prefix);
        }
        invocation.arg(self.state.key(""));
        let mut conn = self.state.conn();
        let result = invocation.invoke_async::<i64>(&mut conn).await;
        self.state.track(result).map(|_| ()).map_err(|_| ())
    }

    /// The held answers `change` may touch: (cache key, `answer` field), for
    /// the policy to compute what it does to them. The generations of the
    /// touched operations are bumped first, so that a read finishing after
    /// this does not store an answer that may predate the change (one that
    /// finished before is read here, and patched or marked).
    pub(crate) async fn read_touched(
        &self,
        change: &Invalidation,
    ) -> Result<Vec<(String, String)>, ()> {
        let prefix = self.state.key("");
        let mut members = redis::pipe();
        for (operation, _) in change.key_prefixes() {
            members
                .incr(self.state.key(&keys::generation(operation)), 1)
                .ignore();
            members.smembers(self.state.key(&keys::index(operation)));
        }
        let mut conn = self.state.conn();
        let sets = members.query_async::<Vec<Vec<String>>>(&mut conn).await;
        let sets = self.state.track(sets).map_err(|_| ())?;
        let keys: Vec<String> = sets
            .iter()
            .flatten()
            .filter_map(|member| touched_key(change, &prefix, member).map(str::to_owned))
            .collect();
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let mut answers = redis::pipe();
        for key in &keys {
            answers.hget(self.state.key(&keys::cache(key)), "answer");
        }
        let read = answers.query_async::<Vec<Option<String>>>(&mut conn).await;
        let read = self.state.track(read).map_err(|_| ())?;
        Ok(keys
            .into_iter()
            .zip(read)
            .filter_map(|(key, answer)| Some((key, answer?)))
            .collect())
    }

    async fn begin(
        &self,
        target: &Target,
        key: &str,
        token: &str,
        spend: Spend,
    ) -> Result<Begin, ()> {
        let mut conn = self.state.conn();
        let result = self
            .begin
            .key(self.state.key(&keys::cache(key)))
            .key(self.state.key(&keys::lock(key)))
            .key(self.state.key(&keys::generation(target.operation)))
            .key(self.state.key(&keys::check(key)))
            .arg(token)
            .arg(millis(self.lock_ttl))
            .arg(self.fresh_ms())
            .arg(spend.interval_ms.max(self.fresh_ms()).max(1))
            .arg(u8::from(spend.may_call))
            .arg(spend.reread_ms)
            .invoke_async::<Vec<Value>>(&mut conn)
            .await;
        let reply = self.state.track(result).map_err(|_| ())?;
        Ok(decode_begin(&reply).unwrap_or(Begin::Wait(0)))
    }

    /// Stores (unless a change touched the operation since `generation`),
    /// unlocks `token` ('' for a refresh, which nobody follows) and
    /// publishes; a failure only costs the followers a few asks more, so it
    /// is logged, not returned.
    async fn finish(
        &self,
        target: &Target,
        key: &str,
        token: &str,
        generation: i64,
        spend: Spend,
        result: &Result<UpstreamAnswer, BffError>,
    ) {
        let answer = match result {
            Ok(answer) => answer.to_wire(),
            Err(err) => UpstreamAnswer::from_error(err).to_wire(),
        };
        // Only successes are kept; the others still go to the followers.
        let keep = is_success(answer.status) && !self.freshness.fresh.is_zero();
        let lifetime = if keep {
            self.freshness.fresh.saturating_add(self.freshness.stale)
        } else {
            Duration::ZERO
        };
        // The upstream says the read is gone (a 404): so is what is held.
        let drop = !is_success(answer.status) && !falls_back(answer.status) && result.is_ok();
        let message = if token.is_empty() {
            String::new()
        } else {
            DoneMessage {
                key: key.to_owned(),
                gen: generation,
                answer: answer.clone(),
            }
            .encode()
        };
        let mut conn = self.state.conn();
        let outcome = self
            .finish
            .key(self.state.key(&keys::cache(key)))
            .key(self.state.key(&keys::lock(key)))
            .key(self.state.key(&keys::generation(target.operation)))
            .key(self.state.key(&keys::index(target.operation)))
            .key(self.state.key(&keys::check(key)))
            .arg(token)
            .arg(generation)
            .arg(millis(lifetime))
            .arg(answer.encode())
            .arg(self.state.key(keys::DONE_CHANNEL))
            .arg(message)
            .arg(u8::from(drop))
            .arg(spend.interval_ms.min(millis(lifetime)))
            .invoke_async::<i64>(&mut conn)
            .await;
        if let Err(err) = self.state.track(outcome) {
            tracing::warn!(error = %err, key, "could not share a finished read");
        }
    }
}

/// `begin.lua`'s reply.
fn decode_begin(reply: &[Value]) -> Option<Begin> {
    let text = |i: usize| -> Option<String> {
        match reply.get(i)? {
            Value::BulkString(bytes) => Some(String::from_utf8_lossy(bytes).into_owned()),
            Value::SimpleString(s) => Some(s.clone()),
            Value::Int(n) => Some(n.to_string()),
            _ => None,
        }
    };
    let number = |i: usize| -> Option<i64> { text(i)?.parse().ok() };
    let answer = |i: usize| -> Option<UpstreamAnswer> {
        WireAnswer::decode(text(i)?.as_bytes()).and_then(UpstreamAnswer::from_wire)
    };
    let age = |i: usize| number(i).map_or(0, |n| u64::try_from(n).unwrap_or(0));
    Some(match text(0)?.as_str() {
        // Unreadable (another version wrote it): lead if possible.
        "hit" => Begin::Hit(answer(1)?, age(2)),
        "stale" => Begin::Stale {
            answer: answer(1)?,
            age_ms: age(2),
            refresh: number(3) == Some(1),
            generation: number(4).unwrap_or(0),
        },
        "lead" => Begin::Lead {
            generation: number(1).unwrap_or(0),
            fallback: answer(2).map(|held| (held, age(3))),
        },
        _ => Begin::Wait(number(1).unwrap_or(0)),
    })
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
