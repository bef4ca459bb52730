//! Serde for enums that keep values they do not know.
//!
//! A closed serde enum fails the whole decode on a value added upstream later;
//! these enums map known names to variants and keep anything else as text.

/// Implements `Serialize`/`Deserialize` as a string for an enum with an
/// `Other(String)` variant, using its `as_str` and `from_name` methods.
macro_rules! open_enum_serde {
    ($ty:ty) => {
        impl serde::Serialize for $ty {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let raw = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
                Ok(Self::from_name(&raw))
            }
        }

        impl std::fmt::Display for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

pub(crate) use open_enum_serde;
