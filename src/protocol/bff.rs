//! What the BFF adds on its side of the wire, shared by the client (which
//! sends and reads these) and both servers (`conferbot-bff` and the npm
//! server half), so that the three cannot drift apart.
//!
//! The quota headers are this project's own model (the upstream documents
//! none): every answer under the mount says what the BFF knows of the
//! per-minute window and of the month, so that pages, errors and the usage
//! widget can show it without spending a call.

/// Where the BFF serves the API to pages (same origin): the browser client's
/// default base URL, and the BFF's mount point.
pub const BFF_MOUNT: &str = "/api/conferbot";
/// Where the BFF serves its live events (Server-Sent Events), under its
/// mount: `GET /api/conferbot/events`. Not an upstream endpoint.
pub const EVENTS_PATH: &str = "/events";
/// Where the BFF receives webhook deliveries by default, under its mount.
pub const WEBHOOK_RECEIVER_PATH: &str = "/webhooks/incoming";
/// The `event:` of the BFF's notice that some events were missed for good;
/// its `data:` is `{"reason": "..."}`.
pub const RESYNC_EVENT: &str = "resync";
/// The header every write (POST, DELETE) sends so that the BFF can tell its own
/// pages from cross-site forms, which cannot set custom headers; value `1`.
pub const CSRF_HEADER: &str = "x-conferbot-csrf";

/// The header that names one request across client, BFF and upstream logs:
/// the client reads it into `ConferbotError.requestId`; a server that sets or
/// forwards one should use this name.
pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// How an answer was served: `hit`, `miss`, `coalesced` or `stale`.
pub const CACHE_HEADER: &str = "x-cache";
/// Standard `Age`: seconds since the answer was fetched from the upstream.
pub const AGE_HEADER: &str = "age";

/// Calls the per-minute window allows (`60`).
pub const MINUTE_LIMIT_HEADER: &str = "x-quota-minute-limit";
/// Calls left in the per-minute window right now.
pub const MINUTE_REMAINING_HEADER: &str = "x-quota-minute-remaining";
/// Seconds until the per-minute window has room again (0 when it has now).
pub const MINUTE_RESET_HEADER: &str = "x-quota-minute-reset";
/// The month's call limit (`unlimited` for Enterprise), once known from `getUsage`.
pub const MONTH_LIMIT_HEADER: &str = "x-quota-month-limit";
/// Calls used this month, as the BFF last learnt and counted them.
pub const MONTH_USED_HEADER: &str = "x-quota-month-used";
/// Calls left this month (`unlimited` for Enterprise).
pub const MONTH_REMAINING_HEADER: &str = "x-quota-month-remaining";
/// When the month turns, ISO 8601 UTC (`2025-02-01T00:00:00.000Z`).
pub const MONTH_RESET_HEADER: &str = "x-quota-month-reset";
/// Milliseconds the request waited in the BFF's queue for the rate window
/// (absent when it did not wait).
pub const QUEUED_MS_HEADER: &str = "x-quota-queued-ms";

/// Every quota header, for CORS `expose-headers` and header allowlists.
pub const QUOTA_HEADERS: [&str; 8] = [
    MINUTE_LIMIT_HEADER,
    MINUTE_REMAINING_HEADER,
    MINUTE_RESET_HEADER,
    MONTH_LIMIT_HEADER,
    MONTH_USED_HEADER,
    MONTH_REMAINING_HEADER,
    MONTH_RESET_HEADER,
    QUEUED_MS_HEADER,
];
