//! The replica's one pub/sub connection, and the health pinger.
//!
//! Followers waiting for another replica's upstream call, and SSE streams
//! waiting for events, all listen to local broadcast channels fed from here,
//! so a replica holds two Redis connections however many browsers it serves.
//! When the connection drops, it is re-established with backoff and the SSE
//! streams are told to resync from the event log (they may have missed some).

use std::sync::Arc;
use std::time::Duration;

use conferbot_policy::event_log::BusMessage;
use conferbot_policy::shared_state::wire::{DoneMessage, WireEvent};
use futures_util::StreamExt;
use redis::aio::ConnectionManager;
use tokio::sync::broadcast;

use super::Health;

/// How often Redis is pinged for `/healthz` and the gauge.
const PING_EVERY: Duration = Duration::from_secs(1);
/// First wait before reconnecting the subscriber; doubles up to the max.
const MIN_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(2);
/// Longest a (re)connection attempt may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// The channels a replica listens to.
#[derive(Debug, Clone)]
pub(crate) struct Channels {
    /// New events of the log.
    pub(crate) events: String,
    /// Finished leader calls.
    pub(crate) done: String,
}

/// Subscribes, dispatches, and reconnects for as long as the replica runs.
pub(crate) async fn run(
    client: redis::Client,
    channels: Channels,
    live: broadcast::Sender<BusMessage>,
    done: broadcast::Sender<Arc<DoneMessage>>,
    health: Arc<Health>,
) {
    let mut backoff = MIN_BACKOFF;
    loop {
        match subscribe(&client, &channels).await {
            Ok(pubsub) => {
                backoff = MIN_BACKOFF;
                health.set_pubsub(true);
                // Whatever was published while we were away is in the log.
                let _ = live.send(BusMessage::Resync);
                let mut messages = pubsub.into_on_message();
                while let Some(message) = messages.next().await {
                    let payload = message.get_payload_bytes();
                    if message.get_channel_name() == channels.events {
                        if let Some(event) = WireEvent::decode(payload) {
                            let _ = live.send(BusMessage::Event(event));
                        }
                    } else if let Some(finished) = DoneMessage::decode(payload) {
                        let _ = done.send(finished);
                    }
                }
                tracing::warn!("redis pub/sub connection lost; reconnecting");
                health.set_pubsub(false);
            }
            Err(err) => {
                tracing::debug!(error = %err, "redis pub/sub connection failed");
                health.set_pubsub(false);
            }
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

async fn subscribe(
    client: &redis::Client,
    channels: &Channels,
) -> Result<redis::aio::PubSub, String> {
    let connect = async {
        let mut pubsub = client.get_async_pubsub().await?;
        pubsub.subscribe(&channels.events).await?;
        pubsub.subscribe(&channels.done).await?;
        Ok::<_, redis::RedisError>(pubsub)
    };
    match tokio::time::timeout(CONNECT_TIMEOUT, connect).await {
        Ok(Ok(pubsub)) => Ok(pubsub),
        Ok(Err(err)) => Err(err.to_string()),
        Err(_) => Err("timed out".to_owned()),
    }
}

/// Pings Redis every second and records whether it answered.
pub(crate) async fn ping(mut conn: ConnectionManager, health: Arc<Health>) {
    loop {
        let pong = tokio::time::timeout(
            CONNECT_TIMEOUT,
            redis::cmd("PING").query_async::<String>(&mut conn),
        )
        .await;
        health.set_commands(matches!(pong, Ok(Ok(_))));
        tokio::time::sleep(PING_EVERY).await;
    }
}
