//! The reader of the BFF's quota headers in `src/wasm/js/wire.js`
//! (`quotaOf`), written from the header names of [`crate::protocol::bff`],
//! so that the client reads exactly what the servers write
//! (`conferbot_policy::quota_headers`).
//!
//! What it reads is the package's `Quota` (`types.d.ts`): the minute always
//! when the answer has quota headers, the month once the server has learned
//! it (absent before), `null` for `unlimited`, and how long the request
//! waited in the server's queue for the rate window (0 when it did not). An
//! answer without them (the API itself, a server of another make) reads as
//! `null`; a value that is not what the servers write reads as `null` too,
//! never as a number it does not say.

use crate::protocol::bff::{
    MINUTE_LIMIT_HEADER, MINUTE_REMAINING_HEADER, MINUTE_RESET_HEADER, MONTH_LIMIT_HEADER,
    MONTH_REMAINING_HEADER, MONTH_RESET_HEADER, MONTH_USED_HEADER, QUEUED_MS_HEADER,
};

/// The JS text of `quotaOf(headers)` and the two readers it uses.
pub(super) fn quota_reader() -> String {
    format!(
        r#"
// The quota headers (`conferbot::protocol::bff`), as `Quota` (types.d.ts).
const WHOLE = /^[0-9]{{1,15}}$/;
const whole = (v) => (v !== null && WHOLE.test(v) ? Number(v) : null);
const callsOrUnlimited = (v) => (v === "unlimited" ? null : whole(v));
/** What an answer's quota headers say, or `null` when it has none (`headers` a `Headers` or `null`). */
export function quotaOf(headers) {{
  const minuteLimit = headers?.get("{MINUTE_LIMIT_HEADER}") ?? null;
  if (minuteLimit === null) return null;
  const used = headers.get("{MONTH_USED_HEADER}");
  return {{
    minute: {{
      limit: whole(minuteLimit),
      remaining: whole(headers.get("{MINUTE_REMAINING_HEADER}")),
      reset: whole(headers.get("{MINUTE_RESET_HEADER}")),
    }},
    month: used === null ? null : {{
      limit: callsOrUnlimited(headers.get("{MONTH_LIMIT_HEADER}")),
      used: whole(used),
      remaining: callsOrUnlimited(headers.get("{MONTH_REMAINING_HEADER}")),
      reset: headers.get("{MONTH_RESET_HEADER}"),
    }},
    queuedMs: whole(headers.get("{QUEUED_MS_HEADER}")) ?? 0,
  }};
}}
"#
    )
}
