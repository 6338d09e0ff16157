//! What the fuzz targets run: the calls the daemon makes on untrusted text, and the guarantees
//! checked after each input. A crashing input is replayed with
//! `cargo fuzz run --sanitizer none TARGET fuzz/artifacts/TARGET/crash-…`.
//!
//! # Input format of the `documents` target
//! The bytes are a document set of one or more files. A line `#@ NAME` starts a new file named
//! `NAME` (its extension decides YAML or JSON, as in a source); bytes before the first such line
//! are a file `input.yaml`. To YAML the marker is a comment, so every example file is a seed as
//! it is, and several files can be concatenated to reach the checks across documents.

use std::sync::OnceLock;

use ecs_topology_core::config::{ControllerConfig, SourceConfig};
use ecs_topology_core::load::{self, SourceFile};
use ecs_topology_core::validate::validate;

const FILE_MARKER: &[u8] = b"#@ ";

/// The examples' controller config (accounts, regions), with the default file size limit rather
/// than the examples' deliberately small one.
pub fn examples_config() -> &'static ControllerConfig {
    static CONFIG: OnceLock<ControllerConfig> = OnceLock::new();
    CONFIG.get_or_init(|| {
        let text = include_str!("../../examples/ecs-topology.config.yaml");
        let mut config = ControllerConfig::parse("ecs-topology.config.yaml", text)
            .unwrap_or_else(|e| panic!("the examples' config must parse: {e}"));
        config.source.max_file_bytes = SourceConfig::DEFAULT_MAX_FILE_BYTES;
        config
    })
}

/// Splits fuzz input into the files of a document set (see the crate docs).
pub fn files(data: &[u8], max_file_bytes: u64) -> Vec<SourceFile> {
    let mut files = Vec::new();
    let mut name = "input.yaml".to_owned();
    let mut start = 0;
    let mut line = 0;
    while line < data.len() {
        let end = data[line..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(data.len(), |i| line + i + 1);
        if let Some(rest) = data[line..end].strip_prefix(FILE_MARKER) {
            if line > start {
                files.push(file(files.len(), &name, &data[start..line], max_file_bytes));
            }
            name = String::from_utf8_lossy(rest).trim().to_owned();
            start = end;
        }
        line = end;
    }
    if data.len() > start || files.is_empty() {
        files.push(file(files.len(), &name, &data[start..], max_file_bytes));
    }
    files
}

/// A file of the set; the position keeps names unique, as paths in a directory are.
fn file(position: usize, name: &str, bytes: &[u8], max_file_bytes: u64) -> SourceFile {
    SourceFile::from_bytes(format!("{position}/{name}"), bytes.to_vec(), max_file_bytes)
}

/// Loads and validates `files` against `config`, as the daemon's store and `validate` do, and
/// checks the guarantees of `load` and `validate` that hold for any input.
pub fn load_and_validate(files: &[SourceFile], config: &ControllerConfig) {
    let set = validate(load::load(files), config);
    for loaded in &set.documents {
        let key = loaded.document.key();
        // A document with an error is rejected, never converged.
        assert!(
            !set.rejected.contains(&key),
            "{key} is both loaded and rejected"
        );
        let errors: Vec<_> = set
            .findings
            .iter()
            .filter(|f| f.is_error() && f.file == loaded.file && f.document == Some(loaded.index))
            .collect();
        assert!(errors.is_empty(), "{key} loaded with errors: {errors:?}");
    }
    for finding in &set.findings {
        // Every finding names a file of the set, and prints.
        assert!(
            files.iter().any(|f| f.name == finding.file),
            "a finding names no file of the set: {finding:?}"
        );
        let _ = finding.to_string();
    }
}

/// The `documents` target: fuzz input as a document set, against the examples' config.
pub fn documents(data: &[u8]) {
    let config = examples_config();
    load_and_validate(&files(data, config.source.max_file_bytes), config);
}

/// The example documents that the `config` target validates against each config it parses.
fn example_files() -> &'static [SourceFile] {
    static FILES: OnceLock<Vec<SourceFile>> = OnceLock::new();
    FILES.get_or_init(|| {
        [
            (
                "namespace.yaml",
                include_str!("../../examples/service-connect/namespace.yaml"),
            ),
            (
                "share.yaml",
                include_str!("../../examples/service-connect/share.yaml"),
            ),
            (
                "peering.yaml",
                include_str!("../../examples/service-connect/peering.yaml"),
            ),
            (
                "bindings.yaml",
                include_str!("../../examples/service-connect/bindings.yaml"),
            ),
            (
                "endpoints.yaml",
                include_str!("../../examples/private-vpc/endpoints.yaml"),
            ),
            (
                "services.yaml",
                include_str!("../../examples/express/services.yaml"),
            ),
        ]
        .into_iter()
        .map(|(name, text)| SourceFile::new(name, text))
        .collect()
    })
}

/// The `config` target: fuzz input as a controller config; one that parses is then used to
/// validate the example documents.
pub fn config(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match ControllerConfig::parse("fuzz.config.yaml", text) {
        Ok(config) => load_and_validate(example_files(), &config),
        Err(e) => {
            let _ = e.to_string();
        }
    }
}
