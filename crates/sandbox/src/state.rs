//! The sandbox's shared state: data, limits, faults, counters and the
//! delivery log, each behind its own lock so that, say, a delivery being
//! logged never waits on a chatbot listing.
//!
//! Locks are `std` mutexes held only for short, non-async sections.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use crate::clock::SandboxClock;
use crate::config::SandboxConfig;
use crate::delivery::DeliveryLog;
use crate::faults::FaultQueue;
use crate::keys::{KeyEntry, KeyTable};
use crate::limiter::SlidingWindow;
use crate::prng::SplitMix64;
use crate::quota::UsageBook;
use crate::seed;
use crate::stats::SandboxStats;
use crate::workspace::Workspace;

/// A delivery that gets no answer within this time has failed.
const DELIVERY_TIMEOUT: Duration = Duration::from_secs(10);

/// Every workspace, and the stream new ids and secrets are drawn from.
#[derive(Debug)]
pub struct World {
    /// Workspaces, indexed like [`KeyTable`].
    pub workspaces: Vec<Workspace>,
    /// Ids and secrets of things created at run time; seeded, so a test that
    /// creates the same things in the same order gets the same ids.
    pub ids: SplitMix64,
}

impl World {
    /// Fresh seeded data for every key.
    pub fn seeded(config: &SandboxConfig, keys: &KeyTable) -> Self {
        Self {
            workspaces: keys
                .entries()
                .iter()
                .map(|e| seed::workspace(config, &e.key))
                .collect(),
            ids: SplitMix64::new(config.seed ^ 0x7765_6268_6f6f_6b73),
        }
    }

    /// Workspace `ws`.
    pub fn workspace(&self, ws: usize) -> Option<&Workspace> {
        self.workspaces.get(ws)
    }

    /// Workspace `ws`, to change.
    pub fn workspace_mut(&mut self, ws: usize) -> Option<&mut Workspace> {
        self.workspaces.get_mut(ws)
    }
}

/// Everything the handlers share.
#[derive(Debug)]
pub struct SandboxState {
    /// What the sandbox was started with.
    pub config: SandboxConfig,
    /// Accepted keys and their plans.
    pub keys: KeyTable,
    /// Chatbots, responses and webhooks.
    pub world: Mutex<World>,
    /// Per-key sliding windows.
    pub limiter: Mutex<SlidingWindow>,
    /// Monthly call counts.
    pub usage: Mutex<UsageBook>,
    /// Armed faults.
    pub faults: Mutex<FaultQueue>,
    /// Counters of `/api/v1` answers.
    pub stats: Mutex<SandboxStats>,
    /// Webhook delivery attempts.
    pub deliveries: Mutex<DeliveryLog>,
    /// The client webhooks are delivered with.
    pub http: reqwest::Client,
    /// The sandbox's clock (movable by tests).
    pub clock: SandboxClock,
}

impl SandboxState {
    /// State for `config`, seeded, with its start-up faults armed.
    pub fn new(config: SandboxConfig) -> Arc<Self> {
        let keys = KeyTable::new(&config.extra_keys);
        let mut faults = FaultQueue::default();
        for spec in &config.faults {
            faults.arm(*spec);
        }
        let http = reqwest::Client::builder()
            .timeout(DELIVERY_TIMEOUT)
            .user_agent(conferbot::protocol::webhooks::USER_AGENT)
            .build()
            .unwrap_or_default();
        Arc::new(Self {
            world: Mutex::new(World::seeded(&config, &keys)),
            limiter: Mutex::new(SlidingWindow::new(config.rate)),
            usage: Mutex::new(UsageBook::default()),
            faults: Mutex::new(faults),
            stats: Mutex::new(SandboxStats::default()),
            deliveries: Mutex::new(DeliveryLog::default()),
            http,
            keys,
            config,
            clock: SandboxClock::default(),
        })
    }

    /// The key and plan of workspace `ws`.
    pub fn key_entry(&self, ws: usize) -> Option<&KeyEntry> {
        self.keys.entry(ws)
    }

    /// Back to the state just after start, minus the start-up faults: fresh
    /// data, no webhooks, usage, windows, faults, counters or delivery log,
    /// and the clock back on the wall clock.
    pub fn reset(&self) {
        self.clock.set_offset(0);
        *lock(&self.world) = World::seeded(&self.config, &self.keys);
        lock(&self.limiter).clear();
        lock(&self.usage).clear();
        lock(&self.faults).clear();
        *lock(&self.stats) = SandboxStats::default();
        lock(&self.deliveries).clear();
    }
}

/// Locks `mutex`, carrying on after a panic elsewhere: every section under
/// these locks leaves the data consistent, so poisoning carries no meaning.
pub fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
