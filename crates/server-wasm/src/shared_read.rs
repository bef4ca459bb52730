//! One read through the shared cache, as `conferbot-bff`'s Redis cache makes
//! it: `begin.lua` says whether the answer is held (fresh, or stale with
//! maybe the one refresh of the interval for this request to run), or this
//! request leads (a lock, with what was held as a fallback), or waits for
//! the leader elsewhere; `finish.lua` stores a success for its lifetime
//! (unless a change touched the operation since), unlocks and hands the
//! answer to the followers. Every key, argument and reading of a reply is
//! here; the Redis store (`pkg-template/server/redis-store.js`) only runs
//! the scripts and waits.

use conferbot::Operation;
use conferbot_policy::cache_key;
use conferbot_policy::cache_table::{falls_back, is_success};
use conferbot_policy::quota::Spend;
use conferbot_policy::shared_state::wire::{DoneMessage, WireAnswer};
use conferbot_policy::shared_state::{keys, lock_ttl, prefix};
use wasm_bindgen::prelude::*;

use crate::answer::{Held, Outcome};
use crate::policy::{millis, Policy};
use crate::step::Step;

/// What `begin.lua` answered.
#[derive(Debug, Clone)]
enum Begun {
    /// Not asked yet, or unreadable (another version wrote it): wait.
    Wait(i64),
    Hit(Held),
    Stale {
        held: Held,
        refresh: bool,
        generation: i64,
    },
    Lead {
        generation: i64,
        fallback: Option<Held>,
    },
}

/// One read through the shared cache.
#[wasm_bindgen]
#[derive(Debug, Clone)]
pub struct SharedRead {
    key: String,
    operation: Operation,
    prefix: String,
    token: String,
    spend: Spend,
    fresh_ms: u64,
    lifetime_ms: u64,
    lock_ttl_ms: u64,
    begun: Begun,
}

#[wasm_bindgen]
impl Policy {
    /// The shared read of `step`'s target at `wall` (Unix ms), spending as
    /// the shared month allows; `token` names this leader's lock.
    #[wasm_bindgen(js_name = sharedRead)]
    pub fn shared_read(&self, step: &Step, token: String, wall: f64) -> Option<SharedRead> {
        let target = step.target.as_ref()?;
        let freshness = self.settings.freshness();
        let fresh_ms = duration_ms(freshness.fresh);
        Some(SharedRead {
            key: cache_key(target),
            operation: target.operation,
            prefix: prefix(&self.key),
            token,
            spend: self.spend(0, millis(wall)),
            fresh_ms,
            lifetime_ms: fresh_ms.saturating_add(duration_ms(freshness.stale)),
            lock_ttl_ms: duration_ms(lock_ttl(&self.settings)),
            begun: Begun::Wait(0),
        })
    }
}

#[wasm_bindgen]
impl SharedRead {
    /// The read's cache key, as finished reads name it.
    #[wasm_bindgen(getter)]
    pub fn key(&self) -> String {
        self.key.clone()
    }

    /// `begin.lua`'s keys: the held answer, the lock, the operation's
    /// generation, the revalidation marker.
    #[wasm_bindgen(js_name = beginKeys)]
    pub fn begin_keys(&self) -> Vec<String> {
        vec![
            self.name(&keys::cache(&self.key)),
            self.name(&keys::lock(&self.key)),
            self.name(&keys::generation(self.operation)),
            self.name(&keys::check(&self.key)),
        ]
    }

    /// `begin.lua`'s arguments: the token, the lock's ttl, the freshness,
    /// the revalidation interval, whether the upstream may be called, the
    /// re-read interval of a changed answer.
    #[wasm_bindgen(js_name = beginArgs)]
    pub fn begin_args(&self) -> Vec<String> {
        let interval = self.spend.interval_ms.max(self.fresh_ms).max(1);
        vec![
            self.token.clone(),
            self.lock_ttl_ms.to_string(),
            self.fresh_ms.to_string(),
            interval.to_string(),
            u8::from(self.spend.may_call).to_string(),
            self.spend.reread_ms.to_string(),
        ]
    }

    /// Reads `begin.lua`'s reply (each field as text): `hit`, `stale`,
    /// `lead` or `wait`.
    pub fn begun(&mut self, reply: Vec<String>) -> String {
        self.begun = read_begin(&reply).unwrap_or(Begun::Wait(0));
        match &self.begun {
            Begun::Hit(_) => "hit",
            Begun::Stale { .. } => "stale",
            Begun::Lead { .. } => "lead",
            Begun::Wait(_) => "wait",
        }
        .to_owned()
    }

    /// The held answer of a `hit` or `stale` reply.
    #[wasm_bindgen(getter)]
    pub fn held(&self) -> Option<Held> {
        match &self.begun {
            Begun::Hit(held) | Begun::Stale { held, .. } => Some(held.clone()),
            _ => None,
        }
    }

    /// Whether this request refreshes the stale answer (in the background).
    #[wasm_bindgen(getter)]
    pub fn refresh(&self) -> bool {
        matches!(self.begun, Begun::Stale { refresh: true, .. })
    }

    /// Whether a leader's finished read that began under `generation` is
    /// this one's answer (not one from before a change this read followed).
    pub fn accepts(&self, generation: f64) -> bool {
        generation as i64 >= self.generation()
    }

    /// `finish.lua`'s keys: the held answer, the lock, the operation's
    /// generation and index, the revalidation marker.
    #[wasm_bindgen(js_name = finishKeys)]
    pub fn finish_keys(&self) -> Vec<String> {
        vec![
            self.name(&keys::cache(&self.key)),
            self.name(&keys::lock(&self.key)),
            self.name(&keys::generation(self.operation)),
            self.name(&keys::index(self.operation)),
            self.name(&keys::check(&self.key)),
        ]
    }

    /// `finish.lua`'s arguments for `outcome`: a leader's (`lead`: unlock
    /// and publish for the followers) or a refresh's (nobody follows).
    #[wasm_bindgen(js_name = finishArgs)]
    pub fn finish_args(&self, outcome: &Outcome, lead: bool) -> Vec<String> {
        let answer = outcome.to_wire();
        // Only successes are kept; the others still go to the followers.
        let keep = is_success(answer.status) && self.fresh_ms > 0;
        let lifetime = if keep { self.lifetime_ms } else { 0 };
        // The upstream says the read is gone (a 404): so is what is held.
        let drop = !is_success(answer.status) && !falls_back(answer.status) && outcome.0.is_ok();
        let message = if lead {
            DoneMessage {
                key: self.key.clone(),
                gen: self.generation(),
                answer: answer.clone(),
            }
            .encode()
        } else {
            String::new()
        };
        vec![
            if lead {
                self.token.clone()
            } else {
                String::new()
            },
            self.generation().to_string(),
            lifetime.to_string(),
            answer.encode(),
            self.name(keys::DONE_CHANNEL),
            message,
            u8::from(drop).to_string(),
            self.spend.interval_ms.min(lifetime).to_string(),
        ]
    }

    /// After leading with `outcome`: what was held, served instead (marked
    /// stale) when the call failed in a way that says nothing about the data.
    #[wasm_bindgen(js_name = fallbackFor)]
    pub fn fallback_for(&self, outcome: &Outcome) -> Option<Held> {
        let Begun::Lead {
            fallback: Some(held),
            ..
        } = &self.begun
        else {
            return None;
        };
        let failed = match &outcome.0 {
            Ok(answer) => (!is_success(answer.status)).then_some(answer.status),
            Err(err) => Some(err.status()),
        };
        failed.filter(|s| falls_back(*s)).map(|_| held.clone())
    }
}

impl SharedRead {
    fn name(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }

    fn generation(&self) -> i64 {
        match &self.begun {
            Begun::Wait(generation)
            | Begun::Stale { generation, .. }
            | Begun::Lead { generation, .. } => *generation,
            Begun::Hit(_) => 0,
        }
    }
}

/// `begin.lua`'s reply: `{'hit', answer, age}`, `{'stale', answer, age,
/// refresh, generation}`, `{'lead', generation, fallback or '', its age}`,
/// `{'wait', generation}`.
fn read_begin(reply: &[String]) -> Option<Begun> {
    let text = |i: usize| reply.get(i).map(String::as_str);
    let number = |i: usize| -> Option<i64> { text(i)?.parse().ok() };
    let age = |i: usize| number(i).map_or(0, |n| u64::try_from(n).unwrap_or(0));
    let held = |i: usize| -> Option<Held> {
        let wire = WireAnswer::decode(text(i)?.as_bytes())?;
        Some(Held {
            outcome: Outcome::from_wire(wire),
            age_ms: age(i + 1),
        })
    };
    Some(match text(0)? {
        "hit" => Begun::Hit(held(1)?),
        "stale" => Begun::Stale {
            held: held(1)?,
            refresh: number(3) == Some(1),
            generation: number(4).unwrap_or(0),
        },
        "lead" => Begun::Lead {
            generation: number(1).unwrap_or(0),
            fallback: held(2),
        },
        _ => Begun::Wait(number(1).unwrap_or(0)),
    })
}

fn duration_ms(d: std::time::Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn begin_replies_are_read_as_the_bff_reads_them() {
        let answer = WireAnswer::new(200, None, b"{\"data\":[]}").encode();
        let hit = read_begin(&texts(&["hit", &answer, "1500"])).unwrap();
        assert!(matches!(hit, Begun::Hit(Held { age_ms: 1500, .. })));
        let stale = read_begin(&texts(&["stale", &answer, "9", "1", "4"])).unwrap();
        assert!(matches!(
            stale,
            Begun::Stale {
                refresh: true,
                generation: 4,
                ..
            }
        ));
        let lead = read_begin(&texts(&["lead", "3", "", "0"])).unwrap();
        assert!(matches!(
            lead,
            Begun::Lead {
                generation: 3,
                fallback: None
            }
        ));
        assert!(matches!(
            read_begin(&texts(&["wait", "2"])),
            Some(Begun::Wait(2))
        ));
        assert!(read_begin(&texts(&["hit", "garbage", "1"])).is_none());
    }
}
