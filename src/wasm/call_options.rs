//! `RequestOptions` of one call, over the client's defaults.

use wasm_bindgen::JsCast;
use web_sys::AbortSignal;

use crate::error::Error;
use crate::retry::RetryPolicy;

use super::config::{ClientConfig, MAX_RETRIES, MAX_TIMEOUT_MS};
use super::fields::{type_name, Fields};

/// How one call behaves: its signal, its per-attempt timeout, its retries.
#[derive(Debug, Clone)]
pub(crate) struct CallOptions {
    /// The caller's signal: aborting it ends the call with kind `aborted`.
    pub signal: Option<AbortSignal>,
    /// Time each attempt may take.
    pub timeout_ms: u32,
    /// When and after how long to retry.
    pub retry: RetryPolicy,
    /// The caller's `onRetry` (the call's own, else the client's), told by
    /// the JS call loop (`send` in `js/calls.js`) before each wait.
    pub on_retry: Option<js_sys::Function>,
    /// The caller's `onQuota` (the call's own, else the client's), told by
    /// the JS call loop what each answer's quota headers say.
    pub on_quota: Option<js_sys::Function>,
}

impl CallOptions {
    /// Reads `RequestOptions` (`undefined` means the client's defaults).
    pub(crate) fn read(
        options: &wasm_bindgen::JsValue,
        config: &ClientConfig,
    ) -> Result<Self, Error> {
        let fields = Fields::of(options, "request options")?;
        let signal = match fields.value("signal") {
            None => None,
            Some(value) => Some(value.dyn_into::<AbortSignal>().map_err(|other| {
                Error::invalid_request(format!(
                    "request options.signal must be an AbortSignal, got {}",
                    type_name(&other)
                ))
            })?),
        };
        let retry = match fields.integer("maxRetries", 0, MAX_RETRIES)? {
            Some(n) => config.retry.with_max_retries(n),
            None => config.retry,
        };
        Ok(Self {
            signal,
            timeout_ms: fields
                .integer("timeoutMs", 1, MAX_TIMEOUT_MS)?
                .unwrap_or(config.timeout_ms),
            retry,
            on_retry: fields
                .function("onRetry")?
                .or_else(|| config.on_retry.clone()),
            on_quota: fields
                .function("onQuota")?
                .or_else(|| config.on_quota.clone()),
        })
    }
}
