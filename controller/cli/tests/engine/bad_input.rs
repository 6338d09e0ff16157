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
    w.write("a.yaml", &namespace_doc("apples", "server", "", "Apples"));
    w.write("b.yaml", &namespace_doc("pears", "server", "", "Pears"));
    assert_eq!(w.apply().0, 0);

    // b.yaml is saved as Latin-1 by an editor; a.yaml is removed; a new document arrives.
    std::fs::write(
        w.docs().join("b.yaml"),
        namespace_bytes("pears", b"Poires \xe0 l'eau"),
    )
    .unwrap();
    w.remove("a.yaml");
    w.write("c.yaml", &namespace_doc("plums", "server", "", "Plums"));
    let before = w.calls().await;
    let (code, out) = w.apply();
    assert_eq!(code, 1, "an unreadable file fails the run: {out}");
    assert!(
        out.contains(
            "b.yaml: error: is not UTF-8 text: invalid byte 0xE0 at line 9, column 23 (save it as UTF-8)"
        ),
        "{out}"
    );
    assert!(out.contains("CloudMapNamespace/plums: created"), "{out}");
    // The set is incomplete: the removed apples document is not pruned, pears is left alone.
    let names: Vec<String> = w.namespaces(&w.server).await.into_keys().collect();
    assert_eq!(
        names,
        ["apples.internal", "pears.internal", "plums.internal"]
    );
    let made = w.calls().await.since(&before);
    assert_eq!(made.count(&w.server, "DeleteNamespace"), 0);
}

#[tokio::test]
async fn a_file_over_the_size_limit_is_reported_unread_and_nothing_is_pruned() {
    let w = World::new();
    w.write_config("source: {maxFileBytes: 2048}\n");
    w.write("a.yaml", &namespace_doc("apples", "server", "", "Apples"));
    w.write("b.yaml", &namespace_doc("pears", "server", "", "Pears"));
    assert_eq!(w.apply().0, 0);

    // b.yaml grows past the limit; a.yaml is removed; a new document arrives.
    let long = "a description repeated far beyond need ".repeat(60);
    w.write("b.yaml", &namespace_doc("pears", "server", "", &long));
    let size = std::fs::metadata(w.docs().join("b.yaml")).unwrap().len();
    assert!(size > 2048);
    w.remove("a.yaml");
    w.write("c.yaml", &namespace_doc("plums", "server", "", "Plums"));
    let (code, out) = w.apply();
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains(&format!(
            "b.yaml: error: is {size} bytes, more than the 2048 a document file may have (source.maxFileBytes)"
        )),
        "{out}"
    );
    assert!(out.contains("CloudMapNamespace/plums: created"), "{out}");
    let names: Vec<String> = w.namespaces(&w.server).await.into_keys().collect();
    assert_eq!(
        names,
        ["apples.internal", "pears.internal", "plums.internal"]
    );
}
