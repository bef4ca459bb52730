//! A JSON object read with its members in order and their values as raw
//! text, so that a patch changes the one value it means and writes the rest
//! back as the upstream sent it (serde_json's own map would sort the keys,
//! and re-encoding every number and string could change their text).

use std::fmt;

use serde::de::{MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::value::RawValue;

/// A JSON object: its members in order, each value as its raw JSON text.
#[derive(Debug)]
pub(crate) struct RawObject(Vec<(String, Box<RawValue>)>);

impl RawObject {
    /// Parses `text` as one object; `None` for anything else.
    pub(crate) fn parse(text: &str) -> Option<Self> {
        serde_json::from_str(text).ok()
    }

    /// The raw value of member `name`.
    pub(crate) fn get(&self, name: &str) -> Option<&RawValue> {
        self.0
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_ref())
    }

    /// Member `name` as a string, when it is one.
    pub(crate) fn get_str(&self, name: &str) -> Option<String> {
        self.get(name)
            .and_then(|raw| serde_json::from_str::<String>(raw.get()).ok())
    }

    /// Replaces the value of member `name` (which must be there) with `value`.
    pub(crate) fn set(&mut self, name: &str, value: Box<RawValue>) -> Option<()> {
        let slot = self.0.iter_mut().find(|(key, _)| key == name)?;
        slot.1 = value;
        Some(())
    }

    /// The object as compact JSON text.
    pub(crate) fn to_raw(&self) -> Option<Box<RawValue>> {
        serde_json::to_string(self)
            .ok()
            .and_then(|text| RawValue::from_string(text).ok())
    }
}

impl<'de> Deserialize<'de> for RawObject {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Members;
        impl<'de> Visitor<'de> for Members {
            type Value = RawObject;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<RawObject, M::Error> {
                let mut members = Vec::with_capacity(map.size_hint().unwrap_or(8));
                while let Some(member) = map.next_entry::<String, Box<RawValue>>()? {
                    members.push(member);
                }
                Ok(RawObject(members))
            }
        }
        deserializer.deserialize_map(Members)
    }
}

impl Serialize for RawObject {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (key, value) in &self.0 {
            map.serialize_entry(key, value)?;
        }
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_keep_their_order_and_text() {
        let text = r#"{"z":1,"a":{"b":[1.50,"x"]},"m":"é\n"}"#;
        let mut object = RawObject::parse(text).unwrap();
        assert_eq!(object.get("a").unwrap().get(), r#"{"b":[1.50,"x"]}"#);
        assert_eq!(object.get_str("m").as_deref(), Some("é\n"));
        assert_eq!(object.to_raw().unwrap().get(), text);
        object
            .set("z", RawValue::from_string("2".into()).unwrap())
            .unwrap();
        assert_eq!(
            object.to_raw().unwrap().get(),
            r#"{"z":2,"a":{"b":[1.50,"x"]},"m":"é\n"}"#
        );
        assert!(object
            .set("nope", RawValue::from_string("1".into()).unwrap())
            .is_none());
        assert!(RawObject::parse("[1]").is_none());
    }
}
