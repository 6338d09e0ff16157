//! Bad input next to good: a file that cannot be read is reported like any invalid document, the
//! other documents still converge, and nothing is pruned while it is there.

use crate::world::*;

/// `namespace_doc(name, "server", "", description)` with `raw` (any bytes) as its description.
fn namespace_bytes(name: &str, raw: &[u8]) -> Vec<u8> {
    let text = namespace_doc(name, "server", "", "DESCRIPTION");
    let (before, after) = text.split_once("DESCRIPTION").unwrap();
    [before.as_bytes(), raw, after.as_bytes()].concat()
}

#[tokio::test]
async fn a_file_that_is_not_utf8_is_reported_and_the_other_documents_still_converge() {
    let w = World::new();
    let (out, calls) = spoil_pears_and_apply(&w, || {
        // b.yaml is saved as Latin-1 by an editor; a.yaml is removed.
        std::fs::write(
            w.docs().join("b.yaml"),
            namespace_bytes("pears", b"Poires \xe0 l'eau"),
        )
        .unwrap();
        w.remove("a.yaml");
    })
    .await;
    assert_has(
        &out,
        "b.yaml: error: is not UTF-8 text: invalid byte 0xE0 at line 9, column 23 (save it as UTF-8)",
    );
    assert_eq!(calls.count(&w.server, "DeleteNamespace"), 0);
}

#[tokio::test]
async fn a_file_over_the_size_limit_is_reported_unread_and_nothing_is_pruned() {
    let w = World::new();
    w.write_config("source: {maxFileBytes: 2048}\n");
    let (out, _) = spoil_pears_and_apply(&w, || {
        // b.yaml grows past the limit; a.yaml is removed.
        let long = "a description repeated far beyond need ".repeat(60);
        w.write("b.yaml", &namespace_doc("pears", "server", "", &long));
        w.remove("a.yaml");
    })
    .await;
    let size = std::fs::metadata(w.docs().join("b.yaml")).unwrap().len();
    assert!(size > 2048);
    assert_has(
        &out,
        &format!(
            "b.yaml: error: is {size} bytes, more than the 2048 a document file may have (source.maxFileBytes)"
        ),
    );
}
