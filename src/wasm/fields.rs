//! Reading fields of JS option objects, with errors that name the field, the
//! type it must have and the type it had.
//!
//! Absent fields (`undefined` or `null`) are `None`: callers pass
//! `{ limit: undefined }` as often as `{}`.

use js_sys::{Object, Reflect};
use wasm_bindgen::{JsCast, JsValue};

use crate::error::Error;
use crate::text;

/// The fields of one JS object argument; `what` names it in errors (`"options"`).
pub(crate) struct Fields<'a> {
    object: Option<&'a JsValue>,
    what: &'static str,
}

impl<'a> Fields<'a> {
    /// Reads `value`, which must be an object, `undefined` or `null` (no fields).
    pub(crate) fn of(value: &'a JsValue, what: &'static str) -> Result<Self, Error> {
        if value.is_undefined() || value.is_null() {
            return Ok(Self { object: None, what });
        }
        if !value.is_object() || js_sys::Array::is_array(value) {
            return Err(Error::invalid_request(format!(
                "{what} must be an object, got {}",
                type_name(value)
            )));
        }
        Ok(Self {
            object: Some(value),
            what,
        })
    }

    /// The raw field, `None` when absent.
    pub(crate) fn value(&self, name: &str) -> Option<JsValue> {
        let object = self.object?;
        let value = Reflect::get(object, &JsValue::from_str(name)).ok()?;
        (!value.is_undefined() && !value.is_null()).then_some(value)
    }

    /// A string field.
    pub(crate) fn string(&self, name: &str) -> Result<Option<String>, Error> {
        self.value(name)
            .map(|v| {
                v.as_string()
                    .ok_or_else(|| self.wrong(name, "a string", &v))
            })
            .transpose()
    }

    /// A boolean field.
    pub(crate) fn boolean(&self, name: &str) -> Result<Option<bool>, Error> {
        self.value(name)
            .map(|v| v.as_bool().ok_or_else(|| self.wrong(name, "a boolean", &v)))
            .transpose()
    }

    /// A number field (any number: range checks belong to the caller).
    pub(crate) fn number(&self, name: &str) -> Result<Option<f64>, Error> {
        self.value(name)
            .map(|v| v.as_f64().ok_or_else(|| self.wrong(name, "a number", &v)))
            .transpose()
    }

    /// A function field (a callback such as `onRetry`).
    pub(crate) fn function(&self, name: &str) -> Result<Option<js_sys::Function>, Error> {
        self.value(name)
            .map(|v| {
                v.dyn_into::<js_sys::Function>()
                    .map_err(|other| self.wrong(name, "a function", &other))
            })
            .transpose()
    }

    /// An integer field within `min..=max`.
    pub(crate) fn integer(&self, name: &str, min: u32, max: u32) -> Result<Option<u32>, Error> {
        let Some(n) = self.number(name)? else {
            return Ok(None);
        };
        if n.fract() == 0.0 && n >= f64::from(min) && n <= f64::from(max) {
            return Ok(Some(n as u32));
        }
        Err(Error::invalid_request(format!(
            "{}.{name} must be an integer from {min} to {max}, got {}",
            self.what,
            text::number(n)
        )))
    }

    /// A `Record<string, string>` field, as name/value pairs.
    pub(crate) fn string_record(&self, name: &str) -> Result<Vec<(String, String)>, Error> {
        let Some(record) = self.value(name) else {
            return Ok(Vec::new());
        };
        let must = "an object of string values";
        if !record.is_object() || js_sys::Array::is_array(&record) {
            return Err(self.wrong(name, must, &record));
        }
        let mut pairs = Vec::new();
        for entry in Object::entries(record.unchecked_ref::<Object>()).iter() {
            let entry: js_sys::Array = entry.unchecked_into();
            match (entry.get(0).as_string(), entry.get(1).as_string()) {
                (Some(key), Some(value)) => pairs.push((key, value)),
                _ => return Err(self.wrong(name, must, &entry.get(1))),
            }
        }
        Ok(pairs)
    }

    fn wrong(&self, name: &str, must: &str, got: &JsValue) -> Error {
        Error::invalid_request(format!(
            "{}.{name} must be {must}, got {}",
            self.what,
            type_name(got)
        ))
    }
}

/// What a JS value is, for messages: `typeof`, with `null` and arrays told apart.
pub(crate) fn type_name(value: &JsValue) -> String {
    if value.is_null() {
        "null".to_owned()
    } else if js_sys::Array::is_array(value) {
        "an array".to_owned()
    } else {
        value.js_typeof().as_string().unwrap_or_default()
    }
}
