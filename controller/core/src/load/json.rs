//! JSON document files, read strictly: a key repeated within one object is found and named with
//! its path, where `serde_json::Value` would silently keep the last value. (YAML refuses a
//! repeated key itself.)

use serde::de::{self, DeserializeSeed, Deserializer as _, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

/// A key named more than once in one object of a document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RepeatedKey {
    /// The field path of the key in its document, such as `spec.tags.env`.
    pub path: String,
    pub key: String,
}

/// The documents of a JSON file (the elements of a top-level array, else the one value), each
/// with the keys repeated within its objects. The values keep the last of a repeated key's
/// values, so that the rest of the document can still be checked.
///
/// # Errors
/// Text that is not one JSON value.
pub(crate) fn documents(text: &str) -> Result<Vec<(Value, Vec<RepeatedKey>)>, serde_json::Error> {
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let documents = deserializer.deserialize_any(File)?;
    deserializer.end()?;
    Ok(documents)
}

/// The whole file: an array of documents, or one.
struct File;

impl<'de> Visitor<'de> for File {
    type Value = Vec<(Value, Vec<RepeatedKey>)>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON document or an array of documents")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut items: A) -> Result<Self::Value, A::Error> {
        let mut documents = Vec::new();
        loop {
            let mut repeated = Vec::new();
            let seed = Node {
                path: String::new(),
                repeated: &mut repeated,
            };
            match items.next_element_seed(seed)? {
                Some(value) => documents.push((value, repeated)),
                None => return Ok(documents),
            }
        }
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        let mut repeated = Vec::new();
        let value = Node {
            path: String::new(),
            repeated: &mut repeated,
        }
        .visit_map(map)?;
        Ok(vec![(value, repeated)])
    }

    // A scalar is one document (which then fails to load as not a mapping).
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
        Ok(vec![(Value::Bool(v), Vec::new())])
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(vec![(Value::from(v), Vec::new())])
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(vec![(Value::from(v), Vec::new())])
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        Ok(vec![(Value::from(v), Vec::new())])
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(vec![(Value::from(v), Vec::new())])
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(vec![(Value::Null, Vec::new())])
    }
}

/// One value at `path` of a document; repeated keys below it go to `repeated`.
struct Node<'a> {
    path: String,
    repeated: &'a mut Vec<RepeatedKey>,
}

impl<'de> DeserializeSeed<'de> for Node<'_> {
    type Value = Value;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Node<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut items: A) -> Result<Value, A::Error> {
        let mut out = Vec::new();
        loop {
            let seed = Node {
                path: format!("{}[{}]", self.path, out.len()),
                repeated: &mut *self.repeated,
            };
            match items.next_element_seed(seed)? {
                Some(value) => out.push(value),
                None => return Ok(Value::Array(out)),
            }
        }
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let path = if self.path.is_empty() {
                key.clone()
            } else {
                format!("{}.{key}", self.path)
            };
            let value = map.next_value_seed(Node {
                path: path.clone(),
                repeated: &mut *self.repeated,
            })?;
            if out.insert(key.clone(), value).is_some() {
                self.repeated.push(RepeatedKey { path, key });
            }
        }
        Ok(Value::Object(out))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn repeated(path: &str, key: &str) -> RepeatedKey {
        RepeatedKey {
            path: path.into(),
            key: key.into(),
        }
    }

    #[test]
    fn a_file_without_repeated_keys_reads_as_serde_json_reads_it() {
        let text = r#"{"a": [1, -2, 3.5, "x", null, true, {"b": {}}], "c": {"d": "e"}}"#;
        let documents = documents(text).unwrap();
        assert_eq!(
            documents,
            [(serde_json::from_str::<Value>(text).unwrap(), Vec::new())]
        );
    }

    #[test]
    fn every_repeated_key_is_found_with_its_path_in_its_document() {
        let text =
            r#"[{"a": 1}, {"a": {"b": 1, "b": 2}, "l": [{"c": 1, "c": 1}]}, {"a": 1, "a": 2}]"#;
        let documents = documents(text).unwrap();
        let found: Vec<_> = documents.iter().map(|(_, r)| r.clone()).collect();
        assert_eq!(
            found,
            [
                vec![],
                vec![repeated("a.b", "b"), repeated("l[0].c", "c")],
                vec![repeated("a", "a")],
            ]
        );
        // The last value stands, as in serde_json.
        assert_eq!(documents[1].0["a"], json!({"b": 2}));
    }

    #[test]
    fn text_after_the_value_is_not_valid_json() {
        assert!(documents(r#"{"a": 1} {"b": 2}"#).is_err());
        assert!(documents("").is_err());
    }
}
