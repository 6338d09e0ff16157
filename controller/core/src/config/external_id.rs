//! The ExternalId of an account: the shared secret its role's trust policy asks for, so that only
//! this controller (not another tenant of the same task role's account) can assume the role.
//!
//! # Guarantees
//!
//! - It is never shown: `Debug` prints `ExternalId(<redacted>)`, there is no `Display`, and a
//!   config whose `externalId` is not a string is refused without echoing the value. The only
//!   way to the text is [`ExternalId::expose`], for the one call that sends it (`sts:AssumeRole`).
//! - It serialises as the plain string, so a config written back reads the same.

use std::fmt;

use schemars::JsonSchema;
use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize};

/// An account's ExternalId; see the module docs.
#[derive(Clone, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(transparent)]
pub struct ExternalId(String);

impl ExternalId {
    pub fn new(id: impl Into<String>) -> ExternalId {
        ExternalId(id.into())
    }

    /// The secret itself, to send to `sts:AssumeRole` and nowhere else.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ExternalId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ExternalId(<redacted>)")
    }
}

impl From<&str> for ExternalId {
    fn from(id: &str) -> ExternalId {
        ExternalId::new(id)
    }
}

impl From<String> for ExternalId {
    fn from(id: String) -> ExternalId {
        ExternalId(id)
    }
}

impl<'de> Deserialize<'de> for ExternalId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<ExternalId, D::Error> {
        deserializer.deserialize_any(Text)
    }
}

/// Takes a string and nothing else, and never repeats what it was given.
struct Text;

impl Text {
    fn refuse<E: de::Error>() -> E {
        E::custom("an externalId must be a string (quote it in YAML); the value is not shown")
    }
}

impl<'de> Visitor<'de> for Text {
    type Value = ExternalId;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<ExternalId, E> {
        Ok(ExternalId::new(v))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<ExternalId, E> {
        Ok(ExternalId(v))
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<ExternalId, E> {
        Err(Self::refuse())
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<ExternalId, E> {
        Err(Self::refuse())
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<ExternalId, E> {
        Err(Self::refuse())
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<ExternalId, E> {
        Err(Self::refuse())
    }

    fn visit_unit<E: de::Error>(self) -> Result<ExternalId, E> {
        Err(Self::refuse())
    }

    fn visit_seq<A: de::SeqAccess<'de>>(self, _: A) -> Result<ExternalId, A::Error> {
        Err(Self::refuse())
    }

    fn visit_map<A: de::MapAccess<'de>>(self, _: A) -> Result<ExternalId, A::Error> {
        Err(Self::refuse())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_secret() {
        let id = ExternalId::from("s3cr3t-external-id");
        assert_eq!(format!("{id:?}"), "ExternalId(<redacted>)");
        assert_eq!(format!("{:?}", Some(&id)), "Some(ExternalId(<redacted>))");
        assert_eq!(id.expose(), "s3cr3t-external-id");
    }

    #[test]
    fn it_reads_and_writes_as_a_plain_string() {
        let id: ExternalId = serde_json::from_value(serde_json::json!("abc")).unwrap();
        assert_eq!(id.expose(), "abc");
        assert_eq!(serde_json::to_value(&id).unwrap(), serde_json::json!("abc"));
    }

    #[test]
    fn a_value_that_is_not_a_string_is_refused_without_being_repeated() {
        for value in [
            serde_json::json!(987654321),
            serde_json::json!(12.5),
            serde_json::json!(true),
            serde_json::json!(["987654321"]),
            serde_json::json!({"id": "987654321"}),
        ] {
            let err = serde_json::from_value::<ExternalId>(value.clone()).unwrap_err();
            let message = err.to_string();
            assert!(message.contains("must be a string"), "{message}");
            for secret in ["987654321", "12.5", "true"] {
                assert!(!message.contains(secret), "{value}: {message}");
            }
        }
    }
}
