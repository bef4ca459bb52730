//! Answers into JS values: the JSON body is decoded into the core's typed
//! wire types first (a wrong shape is a `decode` error, not a surprise later),
//! then handed to JS as plain objects.

use serde::de::DeserializeOwned;
use serde::Serialize;
use wasm_bindgen::JsValue;

use crate::error::Error;
use crate::types::{DataEnvelope, Page};

/// `value` as plain JS data: objects for structs and maps, `null` for `None`.
///
/// Written as JSON and read back by the engine's native `JSON.parse`: much
/// less wasm than building each object through the JS boundary.
pub(crate) fn to_js<T: Serialize + ?Sized>(value: &T) -> Result<JsValue, Error> {
    let text = serde_json::to_string(value).map_err(|e| Error::decode(e.to_string()))?;
    js_sys::JSON::parse(&text).map_err(|_| Error::decode("JSON.parse refused serde_json's output"))
}

/// The typed value of a JSON body.
pub(crate) fn parse<T: DeserializeOwned>(body: &str) -> Result<T, Error> {
    // from_slice, like the core's error-body parser: one reader type, one
    // copy of the parser in the wasm.
    serde_json::from_slice(body.as_bytes()).map_err(|e| {
        Error::decode(format!(
            "the answer is not the documented JSON ({e}); it starts with {:?}",
            body.chars().take(60).collect::<String>()
        ))
    })
}

/// `{"data": T}` → `T` as JS.
pub(crate) fn data<T: DeserializeOwned + Serialize>(body: &str) -> Result<JsValue, Error> {
    to_js(&parse::<DataEnvelope<T>>(body)?.data)
}

/// A list page: its items as a JS array, and its shape (item count and
/// totals, without the items) for the paginator.
pub(crate) fn page<T: DeserializeOwned + Serialize>(
    body: &str,
) -> Result<(JsValue, Page<()>), Error> {
    let page = parse::<Page<T>>(body)?;
    let items = to_js(&page.data)?;
    let shape = Page {
        data: vec![(); page.data.len()],
        total: page.total,
        page: page.page,
        total_pages: page.total_pages,
    };
    Ok((items, shape))
}
