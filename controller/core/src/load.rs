//! Loading a document set: files (from a directory, or fetched by a source) into typed documents
//! and precise findings.
//!
//! # Guarantees
//! - Every problem is reported, never only the first: each file and each document is read on its
//!   own, and within a document every unknown field is reported.
//! - A document that does not load is not lost from view: when its `Kind/name` can be read it is
//!   listed in [`DocumentSet::rejected`], and a file whose documents cannot be told apart at all is
//!   listed in [`DocumentSet::unreadable_files`], so that nothing is pruned because of it.
//! - A file that is not UTF-8 text, or larger than `source.maxFileBytes`, is such a file: it is
//!   reported with the other findings and the other files load as usual. A file over the limit is
//!   never read into memory.
//! - A key repeated within a JSON object is an error naming the key and its path, as it is in
//!   YAML; it is never silently resolved to the last value.

mod dir;
mod json;

pub use dir::{ReadError, is_document_file, read_dir_files};

use json::RepeatedKey;

use std::collections::BTreeSet;
use std::fmt;

use serde_json::Value;

use crate::engine::Registered;
use crate::finding::Finding;
use crate::kinds::for_kind;
use crate::model::{API_VERSION, Document, Key, Kind, Manifest, Metadata, Spec};

/// The name of the ignore file read at the root of a document directory.
pub const IGNORE_FILE_NAME: &str = ".ecs-topology-ignore";

/// A file of a document set, as fetched: its name (path or object key) and text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceFile {
    pub name: String,
    /// The file's text; empty when [`SourceFile::unreadable`] says why there is none.
    pub text: String,
    /// Why the file could not be taken as text, when so. Loading reports it, and marks the file
    /// unreadable: its documents are unknown, so nothing is pruned while it is there.
    pub unreadable: Option<Unreadable>,
}

impl SourceFile {
    /// A file of `text`.
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> SourceFile {
        SourceFile {
            name: name.into(),
            text: text.into(),
            unreadable: None,
        }
    }

    /// A file that could not be taken as text, and why.
    pub fn unreadable(name: impl Into<String>, why: Unreadable) -> SourceFile {
        SourceFile {
            name: name.into(),
            text: String::new(),
            unreadable: Some(why),
        }
    }

    /// The file of `bytes`: its text when they are UTF-8 and at most `max_bytes` long, else why
    /// not.
    pub fn from_bytes(name: impl Into<String>, bytes: Vec<u8>, max_bytes: u64) -> SourceFile {
        let size = u64::try_from(bytes.len()).unwrap_or(u64::MAX);
        if size > max_bytes {
            return SourceFile::unreadable(name, Unreadable::too_large(size, max_bytes));
        }
        match String::from_utf8(bytes) {
            Ok(text) => SourceFile::new(name, text),
            Err(e) => {
                let why = Unreadable::not_utf8(e.as_bytes(), e.utf8_error().valid_up_to());
                SourceFile::unreadable(name, why)
            }
        }
    }
}

/// Why a file of a document set has no text to load.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unreadable {
    /// Its bytes are not UTF-8: the first byte that does not start a character, and where it is
    /// (1-based line, and column in characters).
    NotUtf8 {
        byte: u8,
        line: usize,
        column: usize,
    },
    /// It is `size` bytes, more than the `limit` of `source.maxFileBytes`; it was not read.
    TooLarge { size: u64, limit: u64 },
}

impl Unreadable {
    /// Over the size limit.
    pub fn too_large(size: u64, limit: u64) -> Unreadable {
        Unreadable::TooLarge { size, limit }
    }

    /// Not UTF-8: `bytes` are valid up to `valid_up_to`.
    pub fn not_utf8(bytes: &[u8], valid_up_to: usize) -> Unreadable {
        let valid = std::str::from_utf8(&bytes[..valid_up_to]).unwrap_or_default();
        let line_start = valid.rfind('\n').map_or(0, |i| i + 1);
        Unreadable::NotUtf8 {
            byte: bytes.get(valid_up_to).copied().unwrap_or_default(),
            line: valid.matches('\n').count() + 1,
            column: valid[line_start..].chars().count() + 1,
        }
    }
}

impl fmt::Display for Unreadable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Unreadable::NotUtf8 { byte, line, column } => write!(
                f,
                "is not UTF-8 text: invalid byte 0x{byte:02X} at line {line}, column {column} \
                 (save it as UTF-8)"
            ),
            Unreadable::TooLarge { size, limit } => write!(
                f,
                "is {size} bytes, more than the {limit} a document file may have \
                 (source.maxFileBytes)"
            ),
        }
    }
}

/// A document that loaded, with where it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadedDocument {
    pub file: String,
    /// 1-based position in its file.
    pub index: usize,
    pub document: Document,
}

/// The outcome of loading a set of files.
#[derive(Debug, Clone, Default)]
pub struct DocumentSet {
    /// Documents that loaded (they may still fail validation).
    pub documents: Vec<LoadedDocument>,
    /// Every problem found while loading.
    pub findings: Vec<Finding>,
    /// Keys of documents that are present but did not load.
    pub rejected: BTreeSet<Key>,
    /// Files in which documents could not be told apart (e.g. a YAML syntax error).
    pub unreadable_files: Vec<String>,
}

impl DocumentSet {
    pub fn has_errors(&self) -> bool {
        self.findings.iter().any(Finding::is_error)
    }
}

/// Loads documents from files. Each file and document is read independently.
pub fn load(files: &[SourceFile]) -> DocumentSet {
    let mut set = DocumentSet::default();
    for file in files {
        load_file(file, &mut set);
    }
    set
}

fn load_file(file: &SourceFile, set: &mut DocumentSet) {
    let unreadable = |set: &mut DocumentSet, message: String| {
        set.findings
            .push(Finding::error(&file.name, None, "", message));
        set.unreadable_files.push(file.name.clone());
    };
    if let Some(why) = &file.unreadable {
        return unreadable(set, why.to_string());
    }
    let documents = match split_documents(file) {
        Ok(documents) => documents,
        Err(message) => return unreadable(set, message),
    };
    for (i, (value, repeated)) in documents.into_iter().enumerate() {
        load_document(&file.name, i + 1, value, &repeated, set);
    }
}

/// Splits a file into document values, each with the paths of the keys repeated within one of
/// its objects: YAML streams by `---` (YAML itself refuses a repeated key); a JSON file holds one
/// document or an array of documents.
fn split_documents(file: &SourceFile) -> Result<Vec<(Value, Vec<RepeatedKey>)>, String> {
    if file.name.to_ascii_lowercase().ends_with(".json") {
        return json::documents(&file.text).map_err(|e| format!("not valid JSON: {e}"));
    }
    serde_saphyr::from_multiple_with_options::<Value>(&file.text, yaml_options())
        .map_err(|e| {
            format!(
                "not valid YAML: {}",
                one_line(&e.without_snippet().to_string())
            )
        })
        .map(|docs| {
            docs.into_iter()
                .filter(|v| !v.is_null())
                .map(|v| (v, Vec::new()))
                .collect()
        })
}

/// The YAML parser's limits: its defaults, with aliases held to what a document set uses them
/// for (a shared block of tags, a repeated subnet list). The defaults let one 545-byte "billion
/// laughs" replay a million events, about a second of CPU per parse; a tenth of it still allows
/// 100,000 events copied from anchors per file, far beyond any topology.
fn yaml_options() -> serde_saphyr::Options {
    let mut options = serde_saphyr::Options::default();
    options.alias_limits.max_total_replayed_events = 100_000;
    if let Some(budget) = options.budget.as_mut() {
        budget.max_recorded_anchor_events = 100_000;
    }
    options
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

const TOP_LEVEL_FIELDS: [&str; 4] = ["apiVersion", "kind", "metadata", "spec"];

/// The paths that say which object a document stands for.
const IDENTITY_PATHS: [&str; 3] = ["kind", "metadata", "metadata.name"];

/// Loads one document; `repeated` are the keys repeated within one of its objects.
fn load_document(
    file: &str,
    index: usize,
    value: Value,
    repeated: &[RepeatedKey],
    set: &mut DocumentSet,
) {
    let doc = Some(index);
    for RepeatedKey { path, key } in repeated {
        set.findings.push(Finding::error(
            file,
            doc,
            path.clone(),
            format!("duplicate key `{key}` (a JSON object may name a key only once)"),
        ));
    }
    // Which of the repeated values is meant is unknown: the document is rejected, and when the
    // repeated key is its kind or name, which object it stands for is unknown too.
    let identity_known = !repeated
        .iter()
        .any(|r| IDENTITY_PATHS.contains(&r.path.as_str()));
    let Value::Object(mut map) = value else {
        set.findings.push(Finding::error(
            file,
            doc,
            "",
            format!("a document must be a mapping, not {}", type_name(&value)),
        ));
        set.unreadable_files.push(file.to_owned());
        return;
    };
    let mut ok = repeated.is_empty();
    match map.get("apiVersion") {
        Some(Value::String(v)) if v == API_VERSION => {}
        Some(Value::String(v)) => {
            ok = false;
            set.findings.push(Finding::error(
                file,
                doc,
                "apiVersion",
                format!("unknown apiVersion `{v}`; expected `{API_VERSION}`"),
            ));
        }
        Some(other) => {
            ok = false;
            set.findings.push(Finding::error(
                file,
                doc,
                "apiVersion",
                format!("must be a string, not {}", type_name(other)),
            ));
        }
        None => {
            ok = false;
            set.findings
                .push(Finding::error(file, doc, "apiVersion", "is required"));
        }
    }
    let kind = match map.get("kind") {
        Some(Value::String(k)) => match Kind::parse(k) {
            Some(kind) => Some(kind),
            None => {
                set.findings.push(Finding::error(
                    file,
                    doc,
                    "kind",
                    format!(
                        "unknown kind `{k}`; expected one of {}",
                        Kind::ALL.map(|k| k.as_str()).join(", ")
                    ),
                ));
                None
            }
        },
        Some(other) => {
            set.findings.push(Finding::error(
                file,
                doc,
                "kind",
                format!("must be a string, not {}", type_name(other)),
            ));
            None
        }
        None => {
            set.findings
                .push(Finding::error(file, doc, "kind", "is required"));
            None
        }
    };
    for field in map.keys() {
        if field == "status" {
            set.findings.push(Finding::warning(
                file,
                doc,
                "status",
                "is written by the controller and ignored in a document",
            ));
        } else if !TOP_LEVEL_FIELDS.contains(&field.as_str()) {
            ok = false;
            set.findings
                .push(Finding::error(file, doc, field.clone(), "unknown field"));
        }
    }
    let metadata = match map.remove("metadata") {
        Some(v) => deserialize::<Metadata>(file, index, "metadata", v, None, &mut set.findings),
        None => {
            set.findings
                .push(Finding::error(file, doc, "metadata", "is required"));
            None
        }
    };
    let spec = map.remove("spec");
    if spec.is_none() {
        set.findings
            .push(Finding::error(file, doc, "spec", "is required"));
    }
    let metadata = metadata.filter(|_| identity_known);
    let (Some(kind), Some(spec)) = (kind.filter(|_| identity_known), spec) else {
        reject(set, file, kind, metadata.as_ref());
        return;
    };
    let document = for_kind!(kind, R => {
        typed(file, index, metadata.clone(), spec, &mut set.findings).map(R::document)
    });
    match document {
        Some(document) if ok => set.documents.push(LoadedDocument {
            file: file.to_owned(),
            index,
            document,
        }),
        _ => reject(set, file, Some(kind), metadata.as_ref()),
    }
}

fn reject(set: &mut DocumentSet, file: &str, kind: Option<Kind>, metadata: Option<&Metadata>) {
    match (kind, metadata) {
        (Some(kind), Some(metadata)) => {
            set.rejected.insert(Key::new(kind, metadata.name.clone()));
        }
        // Which object this document stands for is unknown, so nothing may be pruned.
        _ => set.unreadable_files.push(file.to_owned()),
    }
}

fn typed<S: Spec>(
    file: &str,
    index: usize,
    metadata: Option<Metadata>,
    spec: Value,
    findings: &mut Vec<Finding>,
) -> Option<Manifest<S>> {
    let spec = deserialize::<S>(file, index, "spec", spec, Some(S::KIND), findings)?;
    Some(Manifest {
        api_version: API_VERSION.into(),
        kind: S::KIND,
        metadata: metadata?,
        spec,
    })
}

/// Deserializes `value` as `T` (the spec of `kind`, or metadata for `None`), reporting every
/// unknown field, every list where a mapping is due, and the first type error, each with its
/// field path under `prefix`. Returns `None` when anything was reported as an error.
fn deserialize<T: serde::de::DeserializeOwned>(
    file: &str,
    index: usize,
    prefix: &str,
    value: Value,
    kind: Option<Kind>,
    findings: &mut Vec<Finding>,
) -> Option<T> {
    let mut lists = Vec::new();
    crate::schema::lists_for_mappings(crate::schema::shape(kind), &value, prefix, &mut lists);
    if !lists.is_empty() {
        for path in lists {
            findings.push(Finding::error(
                file,
                Some(index),
                path,
                "must be a mapping, not a list",
            ));
        }
        return None;
    }
    let mut unknown = Vec::new();
    let mut track = serde_path_to_error::Track::new();
    let result = serde_ignored::deserialize(
        serde_path_to_error::Deserializer::new(value, &mut track),
        |path| unknown.push(ignored_path(prefix, &path)),
    );
    let before = findings.len();
    for path in unknown {
        findings.push(Finding::error(file, Some(index), path, "unknown field"));
    }
    match result {
        Ok(v) if findings.len() == before => Some(v),
        Ok(_) => None,
        Err(e) => {
            let path = join_path(prefix, &track.path().to_string());
            let (path, message) = explain(path, &e.to_string());
            findings.push(Finding::error(file, Some(index), path, message));
            None
        }
    }
}

/// Turns serde's messages into the operator's: `missing field` names the field in the path.
fn explain(path: String, message: &str) -> (String, String) {
    if let Some(rest) = message.strip_prefix("missing field `")
        && let Some(field) = rest.strip_suffix('`')
    {
        return (join_path(&path, field), "is required".to_owned());
    }
    if message.starts_with("invalid type: integer") && message.ends_with("expected a string") {
        return (
            path,
            format!("{message} (quote ids and names that look like numbers)"),
        );
    }
    (path, message.to_owned())
}

fn join_path(prefix: &str, rest: &str) -> String {
    match rest {
        "" | "." => prefix.to_owned(),
        r if r.starts_with('[') => format!("{prefix}{r}"),
        r => format!("{prefix}.{r}"),
    }
}

fn ignored_path(prefix: &str, path: &serde_ignored::Path<'_>) -> String {
    use serde_ignored::Path;
    match path {
        Path::Root => prefix.to_owned(),
        Path::Seq { parent, index } => format!("{}[{index}]", ignored_path(prefix, parent)),
        Path::Map { parent, key } => format!("{}.{key}", ignored_path(prefix, parent)),
        Path::Some { parent }
        | Path::NewtypeStruct { parent }
        | Path::NewtypeVariant { parent } => ignored_path(prefix, parent),
    }
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(name: &str, text: &str) -> SourceFile {
        SourceFile::new(name, text)
    }

    const NS: &str = "apiVersion: ecs-topology.dev/v1alpha1
kind: CloudMapNamespace
metadata: {name: a}
spec: {account: '111111111111', region: eu-west-1, name: a.local}
";

    #[test]
    fn several_documents_per_file_load_with_their_positions() {
        let text = format!("{NS}---\n{}", NS.replace("name: a}", "name: b}"));
        let set = load(&[file("ns.yaml", &text)]);
        assert!(set.findings.is_empty(), "{:?}", set.findings);
        let found: Vec<_> = set
            .documents
            .iter()
            .map(|d| (d.index, d.document.key().to_string()))
            .collect();
        assert_eq!(
            found,
            [
                (1, "CloudMapNamespace/a".to_owned()),
                (2, "CloudMapNamespace/b".to_owned())
            ]
        );
    }

    #[test]
    fn every_unknown_field_is_reported_with_its_path() {
        let text = NS.replace(
            "name: a.local}",
            "name: a.local, colour: red, tags: {}, extra: 1}",
        );
        let set = load(&[file("ns.yaml", &text)]);
        let paths: Vec<_> = set.findings.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(paths, ["spec.colour", "spec.extra"]);
        assert!(set.documents.is_empty());
        assert!(
            set.rejected
                .contains(&Key::new(Kind::CloudMapNamespace, "a"))
        );
    }

    /// Every mapping below `metadata` and `spec` of `value`, by path.
    fn mappings(value: &Value, path: &str, out: &mut Vec<String>) {
        match value {
            Value::Object(fields) => {
                if !path.is_empty() {
                    out.push(path.to_owned());
                }
                for (key, field) in fields {
                    let below = if path.is_empty() {
                        key.clone()
                    } else {
                        format!("{path}.{key}")
                    };
                    if !path.is_empty() || key == "metadata" || key == "spec" {
                        mappings(field, &below, out);
                    }
                }
            }
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    mappings(item, &format!("{path}[{i}]"), out);
                }
            }
            _ => {}
        }
    }

    /// The value at a path of [`mappings`].
    fn at<'a>(value: &'a mut Value, path: &str) -> &'a mut Value {
        path.split('.')
            .fold(value, |v, part| match part.split_once('[') {
                Some((key, index)) => {
                    let i: usize = index.trim_end_matches(']').parse().unwrap();
                    &mut v[key][i]
                }
                None => &mut v[part],
            })
    }

    #[test]
    fn a_list_where_a_mapping_is_due_is_refused_at_every_depth() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples");
        let mut tried = 0;
        for dir in ["express", "private-vpc", "service-connect"] {
            for entry in std::fs::read_dir(root.join(dir)).unwrap() {
                let path = entry.unwrap().path();
                let text = std::fs::read_to_string(&path).unwrap();
                let source = file(&path.display().to_string(), &text);
                for (document, _) in split_documents(&source).unwrap() {
                    let alone = load(&[file("one.json", &document.to_string())]);
                    assert!(alone.findings.is_empty(), "{path:?}: {:?}", alone.findings);
                    let mut paths = Vec::new();
                    mappings(&document, "", &mut paths);
                    for at_path in paths {
                        // The mapping's values in its order: what serde would read positionally.
                        let mut bent = document.clone();
                        let target = at(&mut bent, &at_path);
                        let values: Vec<Value> =
                            target.as_object().unwrap().values().cloned().collect();
                        *target = Value::Array(values);
                        let set = load(&[file("bent.json", &bent.to_string())]);
                        assert!(set.documents.is_empty(), "{path:?} {at_path}: accepted");
                        assert!(
                            set.findings.iter().any(|f| f.path == at_path
                                && f.message == "must be a mapping, not a list"),
                            "{path:?} {at_path}: {:?}",
                            set.findings
                        );
                        tried += 1;
                    }
                }
            }
        }
        assert!(tried > 30, "only {tried} mappings in the examples");
    }

    #[test]
    fn a_missing_field_is_named_in_the_path() {
        let text = NS.replace("region: eu-west-1, ", "");
        let set = load(&[file("ns.yaml", &text)]);
        assert_eq!(set.findings.len(), 1);
        assert_eq!(set.findings[0].path, "spec.region");
        assert_eq!(set.findings[0].message, "is required");
    }

    #[test]
    fn a_yaml_syntax_error_marks_the_file_unreadable() {
        let set = load(&[file("bad.yaml", "kind: [unclosed\n"), file("ns.yaml", NS)]);
        assert_eq!(set.unreadable_files, ["bad.yaml"]);
        assert_eq!(set.documents.len(), 1);
    }

    #[test]
    fn a_json_file_may_hold_an_array_of_documents() {
        let json = r#"[{"apiVersion":"ecs-topology.dev/v1alpha1","kind":"CloudMapNamespace",
          "metadata":{"name":"a"},"spec":{"account":"111111111111","region":"eu-west-1","name":"a"}}]"#;
        let set = load(&[file("ns.json", json)]);
        assert_eq!(set.documents.len(), 1, "{:?}", set.findings);
    }

    #[test]
    fn a_file_over_the_limit_is_not_read_and_one_not_utf8_is_kept_as_such() {
        let dir = std::env::temp_dir().join(format!("ecs-topology-load-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("a.yaml"), NS).unwrap();
        std::fs::write(dir.join("b.yaml"), b"description: caf\xc3\xa9\n# x\xe9\n").unwrap();
        std::fs::write(dir.join("c.yaml"), "#".repeat(200)).unwrap();
        let files = read_dir_files(&dir, 150);
        std::fs::remove_dir_all(&dir).unwrap();
        let name = |f: &str| dir.join(f).display().to_string();
        assert_eq!(
            files.unwrap(),
            [
                SourceFile::new(name("a.yaml"), NS),
                SourceFile::unreadable(
                    name("b.yaml"),
                    Unreadable::NotUtf8 {
                        byte: 0xe9,
                        line: 2,
                        column: 4
                    }
                ),
                SourceFile::unreadable(name("c.yaml"), Unreadable::too_large(200, 150)),
            ]
        );
    }

    #[test]
    fn an_unreadable_file_is_a_finding_of_the_whole_file_and_the_others_load() {
        let why = Unreadable::too_large(2_000_000, 1_048_576);
        let set = load(&[SourceFile::unreadable("big.yaml", why), file("ns.yaml", NS)]);
        assert_eq!(
            set.findings,
            [Finding::error(
                "big.yaml",
                None,
                "",
                "is 2000000 bytes, more than the 1048576 a document file may have \
                 (source.maxFileBytes)"
            )]
        );
        assert_eq!(set.unreadable_files, ["big.yaml"]);
        assert_eq!(set.documents.len(), 1);
    }

    #[test]
    fn a_key_repeated_in_a_json_object_is_an_error_naming_the_key_and_its_path() {
        let json = r#"[{"apiVersion":"ecs-topology.dev/v1alpha1","kind":"CloudMapNamespace",
          "metadata":{"name":"a"},"spec":{"account":"111111111111","region":"eu-west-1","name":"a"}},
          {"apiVersion":"ecs-topology.dev/v1alpha1","kind":"CloudMapNamespace",
          "metadata":{"name":"b"},"spec":{"account":"111111111111","region":"eu-west-1","name":"b",
          "tags":{"env":"prod","team":"x","env":"dev"}}}]"#;
        let set = load(&[file("ns.json", json)]);
        assert_eq!(
            set.findings,
            [Finding::error(
                "ns.json",
                Some(2),
                "spec.tags.env",
                "duplicate key `env` (a JSON object may name a key only once)"
            )]
        );
        let loaded: Vec<_> = set.documents.iter().map(|d| d.document.key()).collect();
        assert_eq!(loaded, [Key::new(Kind::CloudMapNamespace, "a")]);
        assert!(
            set.rejected
                .contains(&Key::new(Kind::CloudMapNamespace, "b"))
        );
        assert!(set.unreadable_files.is_empty());
    }

    #[test]
    fn a_repeated_json_key_that_names_the_document_makes_the_file_unreadable() {
        let json = r#"{"apiVersion":"ecs-topology.dev/v1alpha1","kind":"CloudMapNamespace",
          "metadata":{"name":"a","name":"b"},
          "spec":{"account":"111111111111","region":"eu-west-1","name":"a"}}"#;
        let set = load(&[file("ns.json", json)]);
        assert_eq!(set.findings.len(), 1, "{:?}", set.findings);
        assert_eq!(set.findings[0].path, "metadata.name");
        assert!(set.documents.is_empty());
        assert!(set.rejected.is_empty());
        assert_eq!(set.unreadable_files, ["ns.json"]);
    }

    #[test]
    fn ignore_patterns_match_names_and_directories() {
        let ignore =
            super::dir::IgnoreList::parse("# comment\ninvalid/\n*.draft.yaml\nsub/skip.yaml\n");
        assert!(ignore.matches("invalid", true));
        assert!(!ignore.matches("invalid", false));
        assert!(ignore.matches("a/b/x.draft.yaml", false));
        assert!(ignore.matches("sub/skip.yaml", false));
        assert!(!ignore.matches("other/skip.yaml", false));
        assert!(!ignore.matches("ns.yaml", false));
    }
}
