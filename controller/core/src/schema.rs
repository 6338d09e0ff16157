//! The schemas of the document kinds, generated from the Rust types: for each kind a
//! `CustomResourceDefinition` (apiextensions.k8s.io/v1, a structural openAPIV3Schema) and a
//! plain JSON Schema (draft 2020-12), so that documents can be authored with kustomize,
//! validated by standard JSON-Schema tools and completed by editors.
//!
//! # Guarantees
//! The output is a pure function of the types: regenerating writes the same bytes.

use schemars::generate::SchemaSettings;
use schemars::{JsonSchema, Schema};
use serde_json::{Map, Value, json};

use crate::engine::Registered;
use crate::kinds::for_kind;
use crate::model::{API_VERSION, GROUP, Kind, Metadata, Spec, VERSION};

/// One generated file: its name inside the schema directory, and its contents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaFile {
    pub name: String,
    pub contents: String,
}

/// Every schema file, in a fixed order.
pub fn render_all() -> Vec<SchemaFile> {
    Kind::ALL
        .into_iter()
        .flat_map(|kind| for_kind!(kind, R => render::<<R as Registered>::Spec>()))
        .collect()
}

fn render<S: Spec>() -> [SchemaFile; 2] {
    let kind = S::KIND;
    let schema = serde_json::to_string_pretty(&json_schema::<S>()).unwrap_or_default() + "\n";
    let crd = serde_json::to_string_pretty(&crd::<S>()).unwrap_or_default() + "\n";
    [
        SchemaFile {
            name: format!("{}.crd.json", kind.plural()),
            contents: crd,
        },
        SchemaFile {
            name: format!("{}.schema.json", kind.plural()),
            contents: schema,
        },
    ]
}

/// The plain JSON Schema of a document of kind `S`.
pub fn json_schema<S: Spec>() -> Value {
    let mut generator = SchemaSettings::draft2020_12().into_generator();
    let metadata = generator.subschema_for::<Metadata>();
    let spec = generator.subschema_for::<S>();
    let defs = generator.take_definitions(true);
    let kind = S::KIND;
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": format!("https://{GROUP}/schemas/{VERSION}/{}.schema.json", kind.plural()),
        "title": kind.as_str(),
        "description": S::DESCRIPTION,
        "type": "object",
        "required": ["apiVersion", "kind", "metadata", "spec"],
        "additionalProperties": false,
        "properties": {
            "apiVersion": {"const": API_VERSION},
            "kind": {"const": kind.as_str()},
            "metadata": metadata,
            "spec": spec,
            "status": {"description": "Written by the controller; ignored in a document.", "type": "object"}
        },
        "$defs": defs,
    })
}

/// The `CustomResourceDefinition` of kind `S`.
pub fn crd<S: Spec>() -> Value {
    let kind = S::KIND;
    let mut spec = inline_schema::<S>();
    structural(&mut spec);
    let ready = ".status.conditions[?(@.type==\"Ready\")].status";
    json!({
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": format!("{}.{GROUP}", kind.plural())},
        "spec": {
            "group": GROUP,
            "names": {
                "kind": kind.as_str(),
                "listKind": format!("{}List", kind.as_str()),
                "plural": kind.plural(),
                "singular": kind.as_str().to_ascii_lowercase(),
                "shortNames": kind.short_names(),
                "categories": ["ecs-topology"],
            },
            "scope": "Cluster",
            "versions": [{
                "name": VERSION,
                "served": true,
                "storage": true,
                "subresources": {"status": {}},
                "additionalPrinterColumns": [
                    {"name": "Account", "type": "string", "jsonPath": ".spec.account"},
                    {"name": "Region", "type": "string", "jsonPath": ".spec.region"},
                    {"name": "Ready", "type": "string", "jsonPath": ready},
                    {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
                ],
                "schema": {"openAPIV3Schema": {
                    "description": S::DESCRIPTION,
                    "type": "object",
                    "required": ["spec"],
                    "properties": {
                        "apiVersion": {"type": "string"},
                        "kind": {"type": "string"},
                        "metadata": {"type": "object"},
                        "spec": spec,
                        "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": true},
                    },
                }},
            }],
        },
    })
}

/// The places under `path` where `value` holds a list and the schema wants a mapping, each with
/// its path. serde reads a struct from a list positionally (`metadata: [payments]` would load as
/// `metadata: {name: payments}`), which no document may rely on; the loader refuses them.
/// `schema` is the inline schema of [`shape`].
pub(crate) fn lists_for_mappings(schema: &Value, value: &Value, path: &str, out: &mut Vec<String>) {
    match value {
        Value::Array(_) if wants_mapping(schema) => out.push(path.to_owned()),
        Value::Array(items) => {
            for item_schema in parts(schema).filter_map(|s| s.get("items")) {
                for (i, item) in items.iter().enumerate() {
                    lists_for_mappings(item_schema, item, &format!("{path}[{i}]"), out);
                }
            }
        }
        Value::Object(fields) => {
            for (key, field) in fields {
                let below = format!("{path}.{key}");
                for part in parts(schema) {
                    let sub = part
                        .get("properties")
                        .and_then(|p| p.get(key))
                        .or_else(|| part.get("additionalProperties").filter(|a| a.is_object()));
                    if let Some(sub) = sub {
                        lists_for_mappings(sub, field, &below, out);
                    }
                }
            }
        }
        _ => {}
    }
}

/// The schema itself and the alternatives it combines (`allOf`, and `anyOf`/`oneOf` where only
/// one alternative is not `null`: an optional field).
fn parts(schema: &Value) -> impl Iterator<Item = &Value> {
    let all = schema.get("allOf").and_then(Value::as_array);
    let one = ["anyOf", "oneOf"]
        .iter()
        .filter_map(|k| schema.get(*k).and_then(Value::as_array))
        .filter_map(|alts| {
            let mut real = alts
                .iter()
                .filter(|a| a.get("type") != Some(&json!("null")));
            match (real.next(), real.next()) {
                (Some(only), None) => Some(only),
                _ => None,
            }
        });
    std::iter::once(schema)
        .chain(all.into_iter().flatten())
        .chain(one)
}

/// Whether the schema takes only a mapping here.
fn wants_mapping(schema: &Value) -> bool {
    parts(schema).any(|s| {
        s.get("type") == Some(&json!("object"))
            || (s.get("type").is_none() && s.get("properties").is_some())
    })
}

/// The inline schema of a kind's spec, or of `metadata` for `None`; generated once.
pub(crate) fn shape(kind: Option<Kind>) -> &'static Value {
    static SHAPES: std::sync::OnceLock<Vec<(Option<Kind>, Value)>> = std::sync::OnceLock::new();
    let shapes = SHAPES.get_or_init(|| {
        Kind::ALL
            .iter()
            .map(|k| {
                (
                    Some(*k),
                    for_kind!(*k, R => inline_schema::<<R as Registered>::Spec>()),
                )
            })
            .chain([(None, inline_schema::<Metadata>())])
            .collect()
    });
    shapes
        .iter()
        .find(|(k, _)| *k == kind)
        .map(|(_, s)| s)
        .unwrap_or(&Value::Null)
}

fn inline_schema<T: JsonSchema>() -> Value {
    let mut settings = SchemaSettings::openapi3();
    settings.inline_subschemas = true;
    settings.meta_schema = None;
    let schema: Schema = settings.into_generator().root_schema_for::<T>();
    schema.to_value()
}

/// Rewrites an OpenAPI schema into a Kubernetes structural schema: no `additionalProperties`
/// beside `properties`, int-or-string and free-form values marked as Kubernetes expects,
/// formats Kubernetes does not know dropped, no titles or `$schema`.
fn structural(value: &mut Value) {
    let Value::Object(map) = value else {
        if *value == Value::Bool(true) {
            *value = json!({"x-kubernetes-preserve-unknown-fields": true});
        }
        return;
    };
    map.remove("$schema");
    map.remove("title");
    collapse_nullable(map);
    if map.contains_key("properties") {
        map.remove("additionalProperties");
    }
    if let Some(format) = map.get("format").and_then(Value::as_str).map(str::to_owned)
        && !matches!(
            format.as_str(),
            "int32" | "int64" | "float" | "double" | "byte" | "date" | "date-time" | "password"
        )
    {
        let integer = format.starts_with("uint") || format.starts_with("int");
        map.remove("format");
        if integer && format.contains("64") {
            map.insert("format".into(), json!("int64"));
        } else if integer {
            map.insert("format".into(), json!("int32"));
        }
    }
    if is_int_or_string(map) {
        let description = map.remove("description");
        let nullable = map.remove("nullable");
        map.clear();
        map.insert("x-kubernetes-int-or-string".into(), json!(true));
        if let Some(d) = description {
            map.insert("description".into(), d);
        }
        if let Some(n) = nullable {
            map.insert("nullable".into(), n);
        }
        return;
    }
    if map.is_empty() || (map.len() == 1 && map.contains_key("description")) {
        map.insert("x-kubernetes-preserve-unknown-fields".into(), json!(true));
        return;
    }
    for (key, child) in map.iter_mut() {
        match key.as_str() {
            "properties" => {
                if let Value::Object(props) = child {
                    props.values_mut().for_each(structural);
                }
            }
            "items" | "additionalProperties" => structural(child),
            "anyOf" | "oneOf" | "allOf" => {
                if let Value::Array(items) = child {
                    items.iter_mut().for_each(structural);
                }
            }
            _ => {}
        }
    }
}

/// `anyOf: [T, {nullable, enum: [null]}]` (an `Option<T>`) becomes `T` with `nullable: true`.
fn collapse_nullable(map: &mut Map<String, Value>) {
    let Some(Value::Array(any)) = map.get("anyOf") else {
        return;
    };
    let is_null = |s: &Value| s.get("enum") == Some(&json!([null]));
    if any.len() != 2 || !any.iter().any(is_null) {
        return;
    }
    let Some(Value::Object(inner)) = any.iter().find(|s| !is_null(s)).cloned() else {
        return;
    };
    map.remove("anyOf");
    for (k, v) in inner {
        map.entry(k).or_insert(v);
    }
    if let Some(Value::Array(values)) = map.get_mut("enum") {
        values.retain(|v| !v.is_null());
    }
    map.insert("nullable".into(), json!(true));
}

fn is_int_or_string(map: &Map<String, Value>) -> bool {
    let Some(Value::Array(any)) = map.get("anyOf") else {
        return false;
    };
    let types: Vec<_> = any.iter().filter_map(|s| s.get("type")?.as_str()).collect();
    types.len() == 2 && types.contains(&"integer") && types.contains(&"string")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{
        CloudMapNamespaceSpec, ExpressServiceSpec, NamespaceShareSpec, VpcEndpointSetSpec,
    };

    fn walk<'a>(v: &'a Value, out: &mut Vec<&'a Map<String, Value>>) {
        match v {
            Value::Object(m) => {
                out.push(m);
                m.values().for_each(|c| walk(c, out));
            }
            Value::Array(a) => a.iter().for_each(|c| walk(c, out)),
            _ => {}
        }
    }

    #[test]
    fn crds_are_structural_schemas() {
        for kind in [
            crd::<CloudMapNamespaceSpec>(),
            crd::<ExpressServiceSpec>(),
            crd::<VpcEndpointSetSpec>(),
        ] {
            let mut maps = Vec::new();
            walk(&kind, &mut maps);
            for m in maps {
                assert!(!(m.contains_key("properties") && m.contains_key("additionalProperties")));
                assert!(
                    !m.contains_key("$ref"),
                    "no references in a structural schema"
                );
                assert!(!m.contains_key("$schema"));
            }
        }
    }

    #[test]
    fn cpu_accepts_an_int_or_a_string_in_the_crd() {
        let crd = crd::<ExpressServiceSpec>();
        let cpu = &crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"]
            ["cpu"];
        assert_eq!(cpu["x-kubernetes-int-or-string"], json!(true), "{cpu}");
    }

    #[test]
    fn the_json_schema_rejects_unknown_spec_fields() {
        let schema = json_schema::<NamespaceShareSpec>();
        let defs = &schema["$defs"]["NamespaceShareSpec"];
        assert_eq!(defs["additionalProperties"], json!(false), "{schema}");
    }
}
