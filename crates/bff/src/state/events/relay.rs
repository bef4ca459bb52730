//! The fan-out's last hop on each connection worker
//! (`crate::connection::workers`): one relay per worker receives the bus's
//! messages and passes them on to the streams of that worker, so that an
//! event crosses threads once per worker, not once per stream.
//!
//! Why: a stream woken from another thread is handed to its worker's queue
//! and its event loop is woken with a system call; 10,000 streams meant
//! 10,000 of those per event, and the frame cache's one lock was taken by
//! every worker's streams at once (it has a slot per worker now). Measured
//! on one 2-core machine (`cargo xtask bench --no-build --only sse,sse10k`,
//! release BFF, four workers): with every stream subscribed to the bus
//! itself, 135k events/s delivered (§8) and a fan-out p99 of 100 ms at
//! 10,000 streams (§13); with the relays, 214k events/s and 79 ms. (Before
//! the workers, tokio's work-stealing threads: 262k events/s and 93 ms.)
//!
//! A relay that falls behind the bus (`Lagged`) tells its streams to
//! resync from the log, as a stream behind the bus itself would.

use std::cell::RefCell;

use conferbot_policy::event_log::BusMessage;
use tokio::sync::broadcast::{self, error::RecvError};

/// What this worker's relay serves: the bus it listens to (by address, for
/// a thread that outlives one BFF in tests) and its own fan-out.
struct Relay {
    bus: usize,
    local: broadcast::Sender<BusMessage>,
}

thread_local! {
    static RELAY: RefCell<Option<Relay>> = const { RefCell::new(None) };
}

/// A receiver of `bus`'s messages through this worker's relay, started on
/// first use; `None` off the workers (then subscribe to the bus itself).
pub(super) fn subscribe(
    bus: &broadcast::Sender<BusMessage>,
    capacity: usize,
) -> Option<broadcast::Receiver<BusMessage>> {
    crate::connection::workers::current()?;
    let id = std::ptr::from_ref(bus) as usize;
    RELAY.with(|relay| {
        let mut relay = relay.try_borrow_mut().ok()?;
        if let Some(running) = relay.as_ref().filter(|r| r.bus == id) {
            return Some(running.local.subscribe());
        }
        let (local, rx) = broadcast::channel(capacity);
        tokio::spawn(run(bus.subscribe(), local.clone()));
        *relay = Some(Relay { bus: id, local });
        Some(rx)
    })
}

/// Passes `from`'s messages on to `to` until the bus closes.
async fn run(mut from: broadcast::Receiver<BusMessage>, to: broadcast::Sender<BusMessage>) {
    loop {
        let message = match from.recv().await {
            Ok(message) => message,
            Err(RecvError::Lagged(_)) => BusMessage::Resync,
            Err(RecvError::Closed) => return,
        };
        // No stream on this worker right now: nothing to tell.
        let _ = to.send(message);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use conferbot_policy::event_log::LiveEvent;

    use super::*;
    use crate::connection::workers::Workers;

    fn event(id: u64) -> BusMessage {
        BusMessage::Event(Arc::new(LiveEvent {
            id,
            event: "response.created".to_owned(),
            data: "{}".to_owned(),
        }))
    }

    fn id(message: BusMessage) -> Option<u64> {
        match message {
            BusMessage::Event(event) => Some(event.id),
            BusMessage::Resync => None,
        }
    }

    #[tokio::test]
    async fn off_the_workers_streams_subscribe_to_the_bus_itself() {
        let (bus, _) = broadcast::channel(4);
        assert!(subscribe(&bus, 4).is_none());
    }

    #[tokio::test]
    async fn a_workers_streams_share_one_relay_and_a_lagging_relay_says_resync() {
        let workers = Workers::start(1).unwrap();
        let (bus, _) = broadcast::channel::<BusMessage>(4);
        let on_worker = bus.clone();
        let heard = workers
            .handle(0)
            .unwrap()
            .spawn(async move {
                // The relay's own fan-out holds eight: room for all it says.
                let mut first = subscribe(&on_worker, 8).unwrap();
                let mut second = subscribe(&on_worker, 8).unwrap();
                // One relay: the bus has one receiver for both streams.
                assert_eq!(on_worker.receiver_count(), 1);
                on_worker.send(event(1)).unwrap();
                let one = (
                    id(first.recv().await.unwrap()),
                    id(second.recv().await.unwrap()),
                );
                // Six at once, before the relay runs: it is two behind the
                // bus's four, and tells its streams to resync, then relays
                // what the bus still holds.
                for n in 2..=7 {
                    on_worker.send(event(n)).unwrap();
                }
                let mut after = Vec::new();
                for _ in 0..5 {
                    after.push(id(first.recv().await.unwrap()));
                }
                (one, after)
            })
            .await
            .unwrap();
        assert_eq!(heard.0, (Some(1), Some(1)));
        assert_eq!(heard.1, vec![None, Some(4), Some(5), Some(6), Some(7)]);
    }
}
