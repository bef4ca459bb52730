//! The engine's parsed JSON (`JsValue`) as a [`JsonTree`], so that the core's
//! shape checker reads and completes `JSON.parse` output in place: no copy of
//! the body into wasm memory, no copy of its objects.

use js_sys::{Array, Object, Reflect};
use wasm_bindgen::prelude::*;

use crate::shape::JsonTree;

use super::fields::type_name;

#[wasm_bindgen]
extern "C" {
    /// An object of `JSON.parse` output: no getters, no setters, no proxies.
    type Plain;
    /// `object[key]`, which such an object cannot make throw; `Reflect.get`
    /// would wrap every lookup in a try/catch, a third of the decoding time.
    #[wasm_bindgen(method, structural, indexing_getter)]
    fn property(this: &Plain, key: &JsValue) -> JsValue;
    /// `object[key] = value`, likewise.
    #[wasm_bindgen(method, structural, indexing_setter)]
    fn set_property(this: &Plain, key: &JsValue, value: &JsValue);
}

impl JsonTree for JsValue {
    /// A JS string, made once per shape and answer instead of once per lookup.
    type Key = JsValue;

    fn key(name: &'static str) -> Self::Key {
        JsValue::from_str(name)
    }

    fn field(&self, key: &Self::Key) -> Option<Self> {
        if !JsValue::is_object(self) {
            return None;
        }
        let value = self.unchecked_ref::<Plain>().property(key);
        (!value.is_undefined()).then_some(value)
    }

    fn is_null(&self) -> bool {
        JsValue::is_null(self)
    }

    fn is_string(&self) -> bool {
        JsValue::is_string(self)
    }

    fn is_object(&self) -> bool {
        JsValue::is_object(self) && !Array::is_array(self)
    }

    fn number(&self) -> Option<f64> {
        self.as_f64()
    }

    fn boolean(&self) -> Option<bool> {
        self.as_bool()
    }

    fn text(&self) -> Option<String> {
        self.as_string()
    }

    fn items(&self) -> Option<Vec<Self>> {
        Array::is_array(self).then(|| self.unchecked_ref::<Array>().to_vec())
    }

    fn type_name(&self) -> String {
        type_name(self)
    }

    fn set(&mut self, key: &Self::Key, value: Self) {
        self.unchecked_ref::<Plain>().set_property(key, &value);
    }

    fn remove(&mut self, key: &Self::Key) {
        // Deleting a field of a plain object cannot fail.
        let _ = Reflect::delete_property(self.unchecked_ref::<Object>(), key);
    }

    fn put_items(&mut self, _items: Vec<Self>) {
        // The elements were checked in place: this array holds them already.
    }

    fn new_object() -> Self {
        Object::new().into()
    }

    fn from_text(text: &str) -> Self {
        JsValue::from_str(text)
    }

    fn from_count(n: u64) -> Self {
        JsValue::from_f64(n as f64)
    }

    fn from_flag(flag: bool) -> Self {
        JsValue::from_bool(flag)
    }

    fn null() -> Self {
        JsValue::NULL
    }
}
