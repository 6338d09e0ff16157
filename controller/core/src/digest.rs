//! Stable digests and the canonical JSON they are taken of: one implementation for document
//! revisions, idempotency tokens, Express spec digests and status records.

use std::collections::BTreeMap;

use serde_json::Value;

/// FNV-1a (64 bits) of `text`, as 16 hex digits: stable across builds, platforms and releases.
pub fn digest(text: &str) -> String {
    format!("{:016x}", fnv1a64(text.as_bytes()))
}

fn fnv1a64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, b| {
        (hash ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// `value` with the keys of every object sorted; lists keep their order.
pub fn sorted_keys(value: &Value) -> Value {
    match value {
        Value::Object(map) => {
            let sorted: BTreeMap<&String, Value> =
                map.iter().map(|(k, v)| (k, sorted_keys(v))).collect();
            Value::Object(sorted.into_iter().map(|(k, v)| (k.clone(), v)).collect())
        }
        Value::Array(items) => Value::Array(items.iter().map(sorted_keys).collect()),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn the_digest_is_fnv1a_of_the_text() {
        // The published FNV-1a 64 test vectors.
        assert_eq!(digest(""), "cbf29ce484222325");
        assert_eq!(digest("a"), "af63dc4c8601ec8c");
    }

    #[test]
    fn sorted_keys_make_equal_documents_print_alike() {
        let a = json!({"b": 1, "a": {"d": [2, 1], "c": null}});
        let b = json!({"a": {"c": null, "d": [2, 1]}, "b": 1});
        assert_eq!(sorted_keys(&a).to_string(), sorted_keys(&b).to_string());
        assert_ne!(
            sorted_keys(&json!({"d": [1, 2]})).to_string(),
            sorted_keys(&json!({"d": [2, 1]})).to_string()
        );
    }
}
