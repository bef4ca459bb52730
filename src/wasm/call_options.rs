//! `RequestOptions` of one call, over the client's defaults.

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::AbortSignal;

use crate::error::Error;
use crate::retry::RetryPolicy;

use super::config::{ClientConfig, MAX_RETRIES, MAX_TIMEOUT_MS};
use super::fields::{type_name, Fields};
use super::js_error;

#[wasm_bindgen(module = "/src/wasm/js/attempt.js")]
extern "C" {
    /// See `js/attempt.js`: calls `hook({attempt, waitMs, error})`, swallowing what it throws.
    #[wasm_bindgen(js_name = notifyRetry)]
    fn notify_retry(hook: &js_sys::Function, attempt: u32, wait_ms: f64, error: JsValue);
}

/// How one call behaves: its signal, its per-attempt timeout, its retries.
#[derive(Debug, Clone)]
pub(crate) struct CallOptions {
    /// The caller's signal: aborting it ends the call with kind `aborted`.
    pub signal: Option<AbortSignal>,
    /// Time each attempt may take.
    pub timeout_ms: u32,
    /// When and after how long to retry.
    pub retry: RetryPolicy,
    /// The caller's `onRetry` (the call's own, else the client's).
    pub on_retry: Option<js_sys::Function>,
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
        })
    }

    /// Tells `onRetry`, if there is one, that attempt number `attempt` (the
    /// first request is 1) failed with `error` and that the next one follows
    /// after `wait_ms`. Called before the wait, so that a caller can show it.
    pub(crate) fn before_retry(&self, attempt: u32, wait_ms: u64, error: &Error) {
        if let Some(hook) = &self.on_retry {
            notify_retry(hook, attempt, wait_ms as f64, js_error::to_js(error));
        }
    }

    /// Whether the caller's signal has fired.
    pub(crate) fn aborted(&self) -> bool {
        self.signal.as_ref().is_some_and(AbortSignal::aborted)
    }
}
