//! IAM policy documents (endpoint policies) compared by meaning, as IAM reads them, not as text.
//!
//! AWS hands a policy back reformatted: statements and list entries in another order, a
//! one-element list as a plain string, `"*"` as `{"AWS": "*"}`. Compared as strings, such a
//! policy would drift on every pass; [`normalise_policy`] brings a document to one canonical form
//! so that two documents with the same meaning compare equal.
//!
//! # Guarantees
//! - [`policies_equal`] is `normalise_policy(a) == normalise_policy(b)`, and normalising is
//!   idempotent.
//! - Equal are only documents IAM gives the same meaning:
//!   - formatting, whitespace and object key order are irrelevant; a document given as a JSON
//!     string is parsed first;
//!   - `Statement` as one object is a one-element list; statement order and repeated identical
//!     statements are irrelevant;
//!   - in `Action`, `NotAction`, `Resource`, `NotResource`, the principal lists and condition
//!     values, a single value is a one-element list, and order and repeats are irrelevant;
//!   - action names are case-insensitive (`s3:GetObject` is `S3:getobject`), as are condition
//!     key names (`aws:SourceVpc` is `AWS:SourceVPC`); a condition value given as a JSON boolean
//!     or number is the same as its text (`true` is `"true"`);
//!   - `Principal: "*"` is `{"AWS": "*"}`, and an account id in an `AWS` principal is that
//!     account's root (`123456789012` is `arn:aws:iam::123456789012:root`);
//!   - an absent `Version` is `2008-10-17`, IAM's default.
//! - Everything else counts: element names are case-sensitive (`statement` is not `Statement`),
//!   `Sid`, `Effect`, resource ARNs, condition operators and condition values keep their case,
//!   and `2008-10-17` differs from `2012-10-17` (the versions read policy variables differently).
//! - No policy on an endpoint means AWS's default full-access policy,
//!   [`default_endpoint_policy`], which is what AWS reports for such an endpoint
//!   ([`endpoint_policies_equal`]).

use std::collections::BTreeMap;
use std::sync::{Arc, LazyLock};

use serde_json::{Value, json};

/// The version IAM assumes when a policy names none.
const DEFAULT_VERSION: &str = "2008-10-17";

/// The policy document a value stands for: a string is parsed as JSON (and kept as the string
/// when it is not JSON); anything else is the document itself.
pub fn policy_document(v: &Value) -> Value {
    match v {
        Value::String(s) => serde_json::from_str(s).unwrap_or_else(|_| v.clone()),
        other => other.clone(),
    }
}

/// AWS's default endpoint policy, full access for everyone through the endpoint: what an endpoint
/// created without a policy reports.
pub fn default_endpoint_policy() -> Value {
    json!({
        "Version": "2008-10-17",
        "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}]
    })
}

/// A parsed endpoint policy as an observation keeps it: AWS's default document (which most
/// endpoints have) is one shared value instead of a copy per endpoint.
pub fn observed_endpoint_policy(policy: Value) -> Arc<Value> {
    static DEFAULT: LazyLock<Arc<Value>> = LazyLock::new(|| Arc::new(default_endpoint_policy()));
    if policy == **DEFAULT {
        DEFAULT.clone()
    } else {
        Arc::new(policy)
    }
}

/// Whether two policy documents mean the same to IAM (see the module's rules).
pub fn policies_equal(a: &Value, b: &Value) -> bool {
    // Equal documents are equal policies; only different ones need normalising (planning
    // compares every endpoint's policy on every pass).
    a == b || normalise_policy(a) == normalise_policy(b)
}

/// Whether an endpoint's policy is the one wanted; `None` on either side is AWS's default policy.
pub fn endpoint_policies_equal(desired: Option<&Value>, observed: Option<&Value>) -> bool {
    static DEFAULT: LazyLock<Value> = LazyLock::new(default_endpoint_policy);
    policies_equal(desired.unwrap_or(&DEFAULT), observed.unwrap_or(&DEFAULT))
}

/// The canonical form of a policy document: object keys sorted, lists that are sets sorted and
/// without repeats, singletons as lists, action names and condition keys in lower case, an absent
/// `Version` filled in. A value that is not a JSON object (or a string holding one) is returned
/// parsed but otherwise unchanged.
pub fn normalise_policy(v: &Value) -> Value {
    let Value::Object(document) = policy_document(v) else {
        return crate::digest::sorted_keys(&policy_document(v));
    };
    let mut out: BTreeMap<String, Value> = document
        .iter()
        .map(|(k, v)| {
            let v = match k.as_str() {
                "Statement" => set_of(one_or_many(v).iter().map(normalise_statement).collect()),
                _ => crate::digest::sorted_keys(v),
            };
            (k.clone(), v)
        })
        .collect();
    // IAM reads a policy without a Version as 2008-10-17; it is not 2012-10-17, which expands
    // policy variables such as ${aws:username} that 2008-10-17 takes literally.
    out.entry("Version".to_owned())
        .or_insert_with(|| Value::String(DEFAULT_VERSION.to_owned()));
    Value::Object(out.into_iter().collect())
}

fn normalise_statement(statement: &Value) -> Value {
    let Value::Object(fields) = statement else {
        return crate::digest::sorted_keys(statement);
    };
    let out: BTreeMap<String, Value> = fields
        .iter()
        .map(|(k, v)| {
            let v = match k.as_str() {
                "Action" | "NotAction" => set_of(
                    one_or_many(v)
                        .iter()
                        .map(|a| match a {
                            Value::String(s) => Value::String(s.to_lowercase()),
                            other => crate::digest::sorted_keys(other),
                        })
                        .collect(),
                ),
                "Resource" | "NotResource" => set_of(
                    one_or_many(v)
                        .iter()
                        .map(crate::digest::sorted_keys)
                        .collect(),
                ),
                "Principal" | "NotPrincipal" => normalise_principal(v),
                "Condition" => normalise_condition(v),
                _ => crate::digest::sorted_keys(v),
            };
            (k.clone(), v)
        })
        .collect();
    Value::Object(out.into_iter().collect())
}

fn normalise_principal(principal: &Value) -> Value {
    match principal {
        Value::String(s) if s == "*" => json!({"AWS": ["*"]}),
        Value::Object(kinds) => sets(kinds, str::to_owned, |kind, id| match (kind, id) {
            ("AWS", Value::String(s)) => Value::String(account_principal(s).to_owned()),
            _ => crate::digest::sorted_keys(id),
        }),
        other => crate::digest::sorted_keys(other),
    }
}

/// An account's root ARN as its bare account id, the other form IAM accepts for it.
fn account_principal(id: &str) -> &str {
    let parts: Vec<&str> = id.split(':').collect();
    match parts.as_slice() {
        ["arn", _partition, "iam", "", account, "root"]
            if account.len() == 12 && account.chars().all(|c| c.is_ascii_digit()) =>
        {
            account
        }
        _ => id,
    }
}

fn normalise_condition(condition: &Value) -> Value {
    let Value::Object(operators) = condition else {
        return crate::digest::sorted_keys(condition);
    };
    let out: BTreeMap<String, Value> = operators
        .iter()
        .map(|(operator, keys)| {
            let keys = match keys {
                Value::Object(keys) => sets(keys, str::to_lowercase, |_, v| match v {
                    Value::Bool(b) => Value::String(b.to_string()),
                    Value::Number(n) => Value::String(n.to_string()),
                    other => crate::digest::sorted_keys(other),
                }),
                other => crate::digest::sorted_keys(other),
            };
            (operator.clone(), keys)
        })
        .collect();
    Value::Object(out.into_iter().collect())
}

/// An object whose members hold one value or a list of them, as an object of sets: each member
/// named by `name`, each of its values normalised by `value` (which is told the member's name).
fn sets(
    members: &serde_json::Map<String, Value>,
    name: impl Fn(&str) -> String,
    value: impl Fn(&str, &Value) -> Value,
) -> Value {
    let out: BTreeMap<String, Value> = members
        .iter()
        .map(|(member, values)| {
            let values = one_or_many(values)
                .iter()
                .map(|v| value(member, v))
                .collect();
            (name(member), set_of(values))
        })
        .collect();
    Value::Object(out.into_iter().collect())
}

/// A list as its items, anything else as a one-element list.
fn one_or_many(v: &Value) -> Vec<Value> {
    match v {
        Value::Array(items) => items.clone(),
        other => vec![other.clone()],
    }
}

/// A list whose order and repeats do not matter, in canonical order.
fn set_of(values: Vec<Value>) -> Value {
    let sorted: BTreeMap<String, Value> = values.into_iter().map(|v| (v.to_string(), v)).collect();
    Value::Array(sorted.into_values().collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Map;

    /// A small deterministic generator (xorshift), enough to scramble documents reproducibly.
    struct Scrambler(u64);

    impl Scrambler {
        fn next(&mut self) -> u64 {
            let mut x = self.0;
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            self.0 = x;
            x
        }

        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }

        fn coin(&mut self) -> bool {
            self.next() & 1 == 1
        }

        fn shuffle<T>(&mut self, items: &mut [T]) {
            for i in (1..items.len()).rev() {
                items.swap(i, self.below(i + 1));
            }
        }

        /// A list that means the same as a set: reordered, maybe with a repeat, and a
        /// one-element list maybe as the bare value.
        fn set(&mut self, v: &Value, each: &mut dyn FnMut(&mut Self, &Value) -> Value) -> Value {
            let mut items: Vec<Value> = one_or_many(v).iter().map(|i| each(self, i)).collect();
            self.shuffle(&mut items);
            if items.len() == 1 && self.coin() {
                return items.remove(0);
            }
            if !items.is_empty() && self.below(4) == 0 {
                let again = items[self.below(items.len())].clone();
                items.push(again);
            }
            Value::Array(items)
        }

        /// An object with its keys in a random order.
        fn object(
            &mut self,
            map: &Map<String, Value>,
            each: &mut dyn FnMut(&mut Self, &str, &Value) -> Value,
        ) -> Value {
            let mut entries: Vec<(String, Value)> = map
                .iter()
                .map(|(k, v)| (k.clone(), each(self, k, v)))
                .collect();
            self.shuffle(&mut entries);
            Value::Object(entries.into_iter().collect())
        }

        fn flip_case(&mut self, s: &str) -> String {
            s.chars()
                .map(|c| {
                    if self.coin() {
                        c.to_ascii_uppercase()
                    } else {
                        c.to_ascii_lowercase()
                    }
                })
                .collect()
        }

        /// The same policy as IAM reads it, written differently.
        fn policy(&mut self, policy: &Value) -> Value {
            let Value::Object(doc) = policy else {
                return policy.clone();
            };
            let scrambled = self.object(doc, &mut |s, k, v| match k {
                "Statement" => s.set(v, &mut |s, st| s.statement(st)),
                _ => v.clone(),
            });
            match self.below(3) {
                0 => Value::String(scrambled.to_string()),
                1 => Value::String(serde_json::to_string_pretty(&scrambled).unwrap_or_default()),
                _ => scrambled,
            }
        }

        fn statement(&mut self, statement: &Value) -> Value {
            let Value::Object(fields) = statement else {
                return statement.clone();
            };
            self.object(fields, &mut |s, k, v| match k {
                "Action" | "NotAction" => s.set(v, &mut |s, a| match a {
                    Value::String(a) => Value::String(s.flip_case(a)),
                    other => other.clone(),
                }),
                "Resource" | "NotResource" => s.set(v, &mut |_, r| r.clone()),
                "Principal" | "NotPrincipal" => s.principal(v),
                "Condition" => s.condition(v),
                _ => v.clone(),
            })
        }

        fn principal(&mut self, principal: &Value) -> Value {
            match principal {
                Value::String(star) if star == "*" => match self.below(3) {
                    0 => json!({"AWS": "*"}),
                    1 => json!({"AWS": ["*"]}),
                    _ => principal.clone(),
                },
                Value::Object(kinds) => self.object(kinds, &mut |s, kind, ids| {
                    let aws = kind == "AWS";
                    s.set(ids, &mut |s, id| match id.as_str() {
                        Some(account) if aws && account.len() == 12 && s.coin() => {
                            Value::String(format!("arn:aws:iam::{account}:root"))
                        }
                        _ => id.clone(),
                    })
                }),
                other => other.clone(),
            }
        }

        fn condition(&mut self, condition: &Value) -> Value {
            let Value::Object(operators) = condition else {
                return condition.clone();
            };
            self.object(operators, &mut |s, _, keys| match keys {
                Value::Object(keys) => {
                    let mut entries: Vec<(String, Value)> = keys
                        .iter()
                        .map(|(k, v)| (s.flip_case(k), s.set(v, &mut |_, x| x.clone())))
                        .collect();
                    s.shuffle(&mut entries);
                    Value::Object(entries.into_iter().collect())
                }
                other => other.clone(),
            })
        }
    }

    fn samples() -> Vec<Value> {
        vec![
            default_endpoint_policy(),
            json!({
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Sid": "PullImages",
                        "Effect": "Allow",
                        "Principal": {"AWS": ["111111111111", "arn:aws:iam::222222222222:role/deploy"]},
                        "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:GetAuthorizationToken"],
                        "Resource": "*"
                    },
                    {
                        "Sid": "OnlyOurBuckets",
                        "Effect": "Allow",
                        "Principal": "*",
                        "Action": "s3:GetObject",
                        "Resource": ["arn:aws:s3:::prod-ap-northeast-1-starport-layer-bucket/*", "arn:aws:s3:::payments-config/*"]
                    },
                    {
                        "Effect": "Deny",
                        "Principal": "*",
                        "NotAction": ["logs:CreateLogStream", "logs:PutLogEvents"],
                        "NotResource": "arn:aws:logs:eu-west-1:111111111111:log-group:/ecs/*",
                        "Condition": {
                            "StringNotEquals": {"aws:SourceVpc": ["vpc-1", "vpc-2"], "aws:PrincipalOrgID": "o-abc"},
                            "Bool": {"aws:SecureTransport": "true"}
                        }
                    }
                ]
            }),
            json!({
                "Statement": {
                    "Effect": "Allow",
                    "Principal": {"Service": "ecs-tasks.amazonaws.com"},
                    "Action": "*",
                    "Resource": "*"
                }
            }),
        ]
    }

    #[test]
    fn aws_reformatting_never_changes_a_policys_meaning() {
        for (n, sample) in samples().iter().enumerate() {
            let mut scrambler = Scrambler(0x9E37_79B9_7F4A_7C15 ^ n as u64);
            for _ in 0..300 {
                let scrambled = scrambler.policy(sample);
                assert!(
                    policies_equal(sample, &scrambled),
                    "{sample}\nshould equal\n{scrambled}"
                );
            }
        }
    }

    #[test]
    fn normalising_twice_changes_nothing() {
        for (n, sample) in samples().iter().enumerate() {
            let mut scrambler = Scrambler(0xD1B5_4A32_D192_ED03 ^ n as u64);
            for _ in 0..100 {
                let once = normalise_policy(&scrambler.policy(sample));
                assert_eq!(normalise_policy(&once), once);
            }
        }
    }

    #[test]
    fn a_change_of_meaning_is_seen_however_the_policy_is_written() {
        let base = samples()[1].clone();
        let mut changes: Vec<Value> = Vec::new();
        let mut edit = |f: &dyn Fn(&mut Value)| {
            let mut v = base.clone();
            f(&mut v);
            changes.push(v);
        };
        edit(&|v| {
            v["Statement"][0]["Action"] = json!(["ecr:BatchGetImage", "ecr:GetAuthorizationToken"])
        });
        edit(&|v| v["Statement"][0]["Effect"] = json!("Deny"));
        edit(&|v| v["Statement"][0]["Sid"] = json!("Pull"));
        edit(&|v| {
            v["Statement"][1]["Resource"] = json!([
                "arn:aws:s3:::PAYMENTS-CONFIG/*",
                "arn:aws:s3:::prod-ap-northeast-1-starport-layer-bucket/*"
            ])
        });
        edit(&|v| v["Statement"][2]["Condition"]["Bool"]["aws:SecureTransport"] = json!("false"));
        edit(&|v| {
            v["Statement"][2]["Condition"]["StringNotEquals"]["aws:SourceVpc"] = json!("vpc-1")
        });
        edit(&|v| v["Version"] = json!("2008-10-17"));
        edit(&|v| {
            if let Some(list) = v["Statement"].as_array_mut() {
                list.pop();
            }
        });
        edit(&|v| v["Statement"][1]["Principal"] = json!({"AWS": "111111111111"}));
        let mut scrambler = Scrambler(42);
        for changed in &changes {
            for _ in 0..50 {
                let scrambled = scrambler.policy(changed);
                assert!(
                    !policies_equal(&base, &scrambled),
                    "{base}\nshould differ from\n{scrambled}"
                );
            }
        }
    }

    #[test]
    fn single_values_and_one_element_lists_are_the_same() {
        let a = json!({"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Principal": {"AWS": "111111111111"}, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*", "Condition": {"StringEquals": {"aws:SourceVpc": "vpc-1"}}}});
        let b = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": ["111111111111"]}, "Action": ["s3:GetObject"], "Resource": ["arn:aws:s3:::b/*"], "Condition": {"StringEquals": {"aws:SourceVpc": ["vpc-1"]}}}]});
        assert!(policies_equal(&a, &b));
    }

    #[test]
    fn action_names_are_case_insensitive_but_resources_are_not() {
        let a = json!({"Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}]});
        let b = json!({"Statement": [{"Effect": "Allow", "Action": "S3:getobject", "Resource": "arn:aws:s3:::b/*"}]});
        let c = json!({"Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::B/*"}]});
        assert!(policies_equal(&a, &b));
        assert!(!policies_equal(&a, &c));
    }

    #[test]
    fn everyone_is_written_as_a_star_or_as_the_aws_star() {
        let star = json!({"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}]});
        let aws_star = json!({"Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "*", "Resource": "*"}]});
        let service = json!({"Statement": [{"Effect": "Allow", "Principal": {"Service": "*"}, "Action": "*", "Resource": "*"}]});
        assert!(policies_equal(&star, &aws_star));
        assert!(!policies_equal(&star, &service));
    }

    #[test]
    fn an_account_id_and_its_root_arn_are_the_same_principal() {
        let id = json!({"Statement": [{"Effect": "Allow", "Principal": {"AWS": "111111111111"}, "Action": "*", "Resource": "*"}]});
        let root = json!({"Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111111111111:root"}, "Action": "*", "Resource": "*"}]});
        let role = json!({"Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111111111111:role/root"}, "Action": "*", "Resource": "*"}]});
        assert!(policies_equal(&id, &root));
        assert!(!policies_equal(&id, &role));
    }

    #[test]
    fn an_absent_version_is_2008_10_17_and_not_2012_10_17() {
        let statement =
            json!([{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}]);
        let absent = json!({"Statement": statement});
        let old = json!({"Version": "2008-10-17", "Statement": statement});
        let new = json!({"Version": "2012-10-17", "Statement": statement});
        assert!(policies_equal(&absent, &old));
        assert!(!policies_equal(&absent, &new));
        assert!(!policies_equal(&old, &new));
    }

    #[test]
    fn element_names_are_case_sensitive_and_sids_count() {
        let a =
            json!({"Statement": [{"Sid": "A", "Effect": "Allow", "Action": "*", "Resource": "*"}]});
        let lower =
            json!({"statement": [{"Sid": "A", "Effect": "Allow", "Action": "*", "Resource": "*"}]});
        let sid =
            json!({"Statement": [{"Sid": "a", "Effect": "Allow", "Action": "*", "Resource": "*"}]});
        let no_sid = json!({"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]});
        assert!(!policies_equal(&a, &lower));
        assert!(!policies_equal(&a, &sid));
        assert!(!policies_equal(&a, &no_sid));
    }

    #[test]
    fn condition_keys_ignore_case_and_boolean_values_equal_their_text() {
        let a = json!({"Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*", "Condition": {"Bool": {"aws:SecureTransport": false}}}]});
        let b = json!({"Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*", "Condition": {"Bool": {"AWS:securetransport": "false"}}}]});
        let operator = json!({"Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*", "Condition": {"bool": {"aws:SecureTransport": "false"}}}]});
        assert!(policies_equal(&a, &b));
        assert!(!policies_equal(&a, &operator));
    }

    #[test]
    fn a_policy_written_as_a_json_string_is_read_as_its_document() {
        let text = Value::String(
            "{\n  \"Statement\": [ {\"Resource\": \"*\", \"Action\": \"*\", \"Principal\": \"*\", \"Effect\": \"Allow\"} ],\n  \"Version\": \"2008-10-17\"\n}".into(),
        );
        assert!(policies_equal(&text, &default_endpoint_policy()));
        assert!(!policies_equal(
            &Value::String("not json".into()),
            &default_endpoint_policy()
        ));
    }

    #[test]
    fn no_endpoint_policy_is_the_aws_default_policy() {
        let default = default_endpoint_policy();
        let narrow = json!({"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "*"}]});
        assert!(endpoint_policies_equal(None, Some(&default)));
        assert!(endpoint_policies_equal(Some(&default), None));
        assert!(endpoint_policies_equal(None, None));
        assert!(!endpoint_policies_equal(None, Some(&narrow)));
        assert!(!endpoint_policies_equal(Some(&narrow), None));
    }
}
