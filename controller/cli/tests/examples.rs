//! The example document sets: the valid ones validate cleanly and conform to the published JSON
//! Schemas (checked by an independent validator); each invalid one produces exactly the findings
//! written in its header; the committed schemas are what `schema` generates.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn ecs_topology(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_ecs-topology"))
        .args(args)
        .current_dir(root())
        .output()
        .expect("the binary runs")
}

/// Runs the binary and asserts that it exits with `code`; `why` heads the message when not.
fn ecs_topology_exits(args: &[&str], code: i32, why: &str) -> std::process::Output {
    let output = ecs_topology(args);
    assert_eq!(
        output.status.code(),
        Some(code),
        "{why}{}",
        String::from_utf8_lossy(&output.stdout)
    );
    output
}

fn findings(output: &std::process::Output) -> Vec<serde_json::Value> {
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("a JSON report");
    report["findings"].as_array().cloned().unwrap_or_default()
}

/// A finding as `validate` prints it after the file name.
fn rendered(f: &serde_json::Value) -> String {
    let mut s = String::new();
    if let Some(n) = f["document"].as_u64() {
        s += &format!("(document {n}) ");
    }
    if let Some(path) = f["path"].as_str().filter(|p| !p.is_empty()) {
        s += &format!("{path}: ");
    }
    s + &format!(
        "{}: {}",
        f["severity"].as_str().unwrap(),
        f["message"].as_str().unwrap()
    )
}

#[test]
fn the_example_topologies_are_valid_without_a_single_warning() {
    let output = ecs_topology_exits(&["validate", "examples/", "--output", "json"], 0, "");
    assert_eq!(findings(&output), Vec::<serde_json::Value>::new());
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["documents"], 8);
    assert_eq!(report["config"], "examples/ecs-topology.config.yaml");
}

#[test]
fn every_invalid_example_reports_exactly_its_expected_findings() {
    let dir = root().join("examples/invalid");
    let mut expected = BTreeSet::new();
    let mut files = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        // A YAML case holds its expectations; a JSON one, without comments, has them next to it.
        let expectations = match path.extension().and_then(|e| e.to_str()) {
            Some("yaml") => path.clone(),
            Some("json") => path.with_extension("json.expect"),
            _ => continue,
        };
        files += 1;
        let name = format!(
            "examples/invalid/{}",
            path.file_name().unwrap().to_string_lossy()
        );
        // Lossy: one case is deliberately not UTF-8 (its expectations are).
        let text = String::from_utf8_lossy(&std::fs::read(&expectations).unwrap()).into_owned();
        for line in text.lines() {
            if let Some(finding) = line.strip_prefix("# expect: ") {
                expected.insert((name.clone(), finding.to_owned()));
            }
        }
    }
    assert!(files >= 20, "one case per rule");
    let args = ["validate", "examples/invalid/", "--output", "json"];
    let output = ecs_topology_exits(&args, 1, "");
    let actual: BTreeSet<_> = findings(&output)
        .iter()
        .map(|f| (f["file"].as_str().unwrap().to_owned(), rendered(f)))
        .collect();
    let missing: Vec<_> = expected.difference(&actual).collect();
    let unexpected: Vec<_> = actual.difference(&expected).collect();
    assert!(
        missing.is_empty() && unexpected.is_empty(),
        "missing: {missing:#?}\nunexpected: {unexpected:#?}"
    );
}

#[test]
fn the_text_report_names_file_document_path_and_reason() {
    let args = [
        "validate",
        "examples/invalid/share-principals-invalid.yaml",
        "--config",
        "examples/ecs-topology.config.yaml",
    ];
    let output = ecs_topology_exits(&args, 1, "");
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(
        text.contains(
            "examples/invalid/share-principals-invalid.yaml (document 2) spec.principals[2]: \
             error: is the owner account"
        ),
        "{text}"
    );
    assert!(
        text.ends_with("invalid: 4 errors, 0 warnings in 2 documents of 1 file\n"),
        "{text}"
    );
}

#[test]
fn the_committed_schemas_are_what_schema_generates() {
    ecs_topology_exits(
        &["schema", "--check", "--out", "crds"],
        0,
        "crds/ is stale; run `cargo run -p ecs-topology -- schema --out crds`:\n",
    );
}

#[test]
fn the_valid_examples_conform_to_the_json_schemas_by_an_independent_validator() {
    let setup = Command::new(root().join("tests/setup-venv"))
        .arg(root().join("tests/tools"))
        .status()
        .expect("tests/setup-venv runs");
    assert!(setup.success(), "installing the checkers failed");
    let checker = root().join("tests/tools/.venv/bin/check-jsonschema");

    // Every document of the examples, one JSON file each, grouped by kind.
    let scratch =
        std::env::temp_dir().join(format!("ecs-topology-examples-{}", std::process::id()));
    std::fs::create_dir_all(&scratch).unwrap();
    let mut by_kind: BTreeMap<String, Vec<PathBuf>> = BTreeMap::new();
    for dir in ["service-connect", "private-vpc", "express"] {
        for entry in std::fs::read_dir(root().join("examples").join(dir)).unwrap() {
            let path = entry.unwrap().path();
            let text = std::fs::read_to_string(&path).unwrap();
            let docs: Vec<serde_json::Value> = serde_saphyr::from_multiple(&text).unwrap();
            for (i, doc) in docs.into_iter().enumerate() {
                let kind = doc["kind"].as_str().unwrap().to_ascii_lowercase();
                let stem = path.file_stem().unwrap().to_string_lossy();
                let out = scratch.join(format!("{dir}-{stem}-{i}.json"));
                std::fs::write(&out, serde_json::to_vec(&doc).unwrap()).unwrap();
                by_kind.entry(kind).or_default().push(out);
            }
        }
    }
    assert_eq!(
        by_kind.len(),
        ecs_topology_core::model::Kind::ALL.len(),
        "the examples cover every kind"
    );
    for (kind, docs) in &by_kind {
        let schema = root().join(format!("crds/{kind}s.schema.json"));
        let output = Command::new(&checker)
            .arg("--schemafile")
            .arg(&schema)
            .args(docs)
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{kind}: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    // The schema is not vacuous: a document with an unknown field fails it.
    let bad = scratch.join("bad.json");
    let mut doc: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&by_kind["namespaceshare"][0]).unwrap()).unwrap();
    doc["spec"]["principal"] = serde_json::json!("222222222222");
    std::fs::write(&bad, serde_json::to_vec(&doc).unwrap()).unwrap();
    let output = Command::new(&checker)
        .arg("--schemafile")
        .arg(root().join("crds/namespaceshares.schema.json"))
        .arg(&bad)
        .output()
        .unwrap();
    assert!(
        !output.status.success(),
        "an unknown field must fail the JSON Schema"
    );
    std::fs::remove_dir_all(&scratch).ok();
}
