//! Loading a document set: files (from a directory, or fetched by a source) into typed documents
//! and precise findings.
//!
//! # Guarantees
//! - Every problem is reported, never only the first: each file and each document is read on its
//!   own, and within a document every unknown field is reported.
//! - A document that does not load is not lost from view: when its `Kind/name` can be read it is
//!   listed in [`DocumentSet::rejected`], and a file whose documents cannot be told apart at all is
//!   listed in [`DocumentSet::unreadable_files`], so that nothing is pruned because of it.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::config::CONFIG_FILE_NAME;
use crate::finding::Finding;
use crate::model::{API_VERSION, Document, Key, Kind, Manifest, Metadata, Spec};

/// The name of the ignore file read at the root of a document directory.
pub const IGNORE_FILE_NAME: &str = ".ecs-topology-ignore";

/// A file of a document set, as fetched: its name (path or object key) and text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceFile {
    pub name: String,
    pub text: String,
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

/// Why a directory could not be read at all.
#[derive(Debug, thiserror::Error)]
#[error("cannot read {path}")]
pub struct ReadError {
    pub path: String,
    #[source]
    pub source: std::io::Error,
}

/// Whether a file name is one a document set is read from.
pub fn is_document_file(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower.ends_with(".yaml") || lower.ends_with(".yml") || lower.ends_with(".json")
}

/// Reads every `.yaml`, `.yml` and `.json` file under `root` (or `root` itself when it is a
/// file), in path order. Skips hidden entries, the controller config file, and what the root's
/// `.ecs-topology-ignore` lists (one pattern a line, `#` comments; a pattern with no `/` matches a
/// name at any depth, one ending in `/` only directories; `*` matches within a name).
pub fn read_dir_files(root: &Path) -> Result<Vec<SourceFile>, ReadError> {
    let err = |path: &Path, source| ReadError {
        path: path.display().to_string(),
        source,
    };
    let meta = std::fs::metadata(root).map_err(|e| err(root, e))?;
    if meta.is_file() {
        let text = std::fs::read_to_string(root).map_err(|e| err(root, e))?;
        return Ok(vec![SourceFile {
            name: root.display().to_string(),
            text,
        }]);
    }
    let ignore = match std::fs::read_to_string(root.join(IGNORE_FILE_NAME)) {
        Ok(text) => IgnoreList::parse(&text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => IgnoreList::default(),
        Err(e) => return Err(err(&root.join(IGNORE_FILE_NAME), e)),
    };
    let mut paths = Vec::new();
    walk(root, root, &ignore, &mut paths).map_err(|(p, e)| err(&p, e))?;
    paths.sort();
    paths
        .into_iter()
        .map(|path| {
            let text = std::fs::read_to_string(&path).map_err(|e| err(&path, e))?;
            Ok(SourceFile {
                name: path.display().to_string(),
                text,
            })
        })
        .collect()
}

fn walk(
    root: &Path,
    dir: &Path,
    ignore: &IgnoreList,
    out: &mut Vec<PathBuf>,
) -> Result<(), (PathBuf, std::io::Error)> {
    let entries = std::fs::read_dir(dir).map_err(|e| (dir.to_owned(), e))?;
    for entry in entries {
        let entry = entry.map_err(|e| (dir.to_owned(), e))?;
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue;
        }
        let relative = path
            .strip_prefix(root)
            .unwrap_or(&path)
            .to_string_lossy()
            .replace('\\', "/");
        let is_dir = entry.file_type().map_err(|e| (path.clone(), e))?.is_dir();
        if ignore.matches(&relative, is_dir) {
            continue;
        }
        if is_dir {
            walk(root, &path, ignore, out)?;
        } else if is_document_file(&name) && name != CONFIG_FILE_NAME {
            out.push(path);
        }
    }
    Ok(())
}

/// The patterns of an ignore file.
#[derive(Debug, Clone, Default)]
struct IgnoreList {
    patterns: Vec<(String, bool)>,
}

impl IgnoreList {
    fn parse(text: &str) -> IgnoreList {
        let patterns = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(|l| {
                let dir_only = l.ends_with('/');
                (l.trim_matches('/').to_owned(), dir_only)
            })
            .collect();
        IgnoreList { patterns }
    }

    fn matches(&self, relative: &str, is_dir: bool) -> bool {
        self.patterns.iter().any(|(pattern, dir_only)| {
            if *dir_only && !is_dir {
                return false;
            }
            if pattern.contains('/') {
                glob_path(pattern, relative)
            } else {
                relative
                    .rsplit('/')
                    .next()
                    .is_some_and(|name| glob(pattern, name))
            }
        })
    }
}

fn glob_path(pattern: &str, path: &str) -> bool {
    let p: Vec<_> = pattern.split('/').collect();
    let s: Vec<_> = path.split('/').collect();
    p.len() == s.len() && p.iter().zip(&s).all(|(p, s)| glob(p, s))
}

/// `*` matches any run of characters, `?` one character.
fn glob(pattern: &str, name: &str) -> bool {
    let (p, n): (Vec<char>, Vec<char>) = (pattern.chars().collect(), name.chars().collect());
    let (mut pi, mut ni, mut star, mut mark) = (0, 0, None, 0);
    while ni < n.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == n[ni]) {
            pi += 1;
            ni += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ni;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ni = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
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
    let values = match split_documents(file) {
        Ok(values) => values,
        Err(message) => {
            set.findings
                .push(Finding::error(&file.name, None, "", message));
            set.unreadable_files.push(file.name.clone());
            return;
        }
    };
    for (i, value) in values.into_iter().enumerate() {
        load_document(&file.name, i + 1, value, set);
    }
}

/// Splits a file into document values: YAML streams by `---`; a JSON file holds one document or
/// an array of documents.
fn split_documents(file: &SourceFile) -> Result<Vec<Value>, String> {
    if file.name.to_ascii_lowercase().ends_with(".json") {
        return match serde_json::from_str::<Value>(&file.text) {
            Ok(Value::Array(items)) => Ok(items),
            Ok(value) => Ok(vec![value]),
            Err(e) => Err(format!("not valid JSON: {e}")),
        };
    }
    serde_saphyr::from_multiple::<Value>(&file.text)
        .map_err(|e| {
            format!(
                "not valid YAML: {}",
                one_line(&e.without_snippet().to_string())
            )
        })
        .map(|docs| docs.into_iter().filter(|v| !v.is_null()).collect())
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

const TOP_LEVEL_FIELDS: [&str; 4] = ["apiVersion", "kind", "metadata", "spec"];

fn load_document(file: &str, index: usize, value: Value, set: &mut DocumentSet) {
    let doc = Some(index);
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
    let mut ok = true;
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
        Some(v) => deserialize::<Metadata>(file, index, "metadata", v, &mut set.findings),
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
    let (Some(kind), Some(spec)) = (kind, spec) else {
        reject(set, file, kind, metadata.as_ref());
        return;
    };
    let document = match kind {
        Kind::CloudMapNamespace => typed(file, index, metadata.clone(), spec, &mut set.findings)
            .map(Document::CloudMapNamespace),
        Kind::NamespaceShare => typed(file, index, metadata.clone(), spec, &mut set.findings)
            .map(Document::NamespaceShare),
        Kind::VpcEndpointSet => typed(file, index, metadata.clone(), spec, &mut set.findings)
            .map(Document::VpcEndpointSet),
        Kind::ExpressService => typed(file, index, metadata.clone(), spec, &mut set.findings)
            .map(|m| Document::ExpressService(Box::new(m))),
    };
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
    let spec = deserialize::<S>(file, index, "spec", spec, findings)?;
    Some(Manifest {
        api_version: API_VERSION.to_owned(),
        kind: S::KIND,
        metadata: metadata?,
        spec,
    })
}

/// Deserializes `value` as `T`, reporting every unknown field and the first type error, each with
/// its field path under `prefix`. Returns `None` when anything was reported as an error.
fn deserialize<T: serde::de::DeserializeOwned>(
    file: &str,
    index: usize,
    prefix: &str,
    value: Value,
    findings: &mut Vec<Finding>,
) -> Option<T> {
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
        SourceFile {
            name: name.into(),
            text: text.into(),
        }
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
    fn ignore_patterns_match_names_and_directories() {
        let ignore = IgnoreList::parse("# comment\ninvalid/\n*.draft.yaml\nsub/skip.yaml\n");
        assert!(ignore.matches("invalid", true));
        assert!(!ignore.matches("invalid", false));
        assert!(ignore.matches("a/b/x.draft.yaml", false));
        assert!(ignore.matches("sub/skip.yaml", false));
        assert!(!ignore.matches("other/skip.yaml", false));
        assert!(!ignore.matches("ns.yaml", false));
    }
}
