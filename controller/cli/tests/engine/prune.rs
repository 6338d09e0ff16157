use crate::world::*;

#[tokio::test]
async fn a_removed_document_is_pruned_or_retained_by_its_policy() {
    let w = World::new();
    w.write(
        "kept.yaml",
        &namespace_doc("kept", "server", RETAIN, "Kept"),
    );
    w.write("gone.yaml", &namespace_doc("gone", "server", "", "Gone"));
    w.write("stays.yaml", &namespace_doc("stays", "server", "", "Stays"));
    w.write("share.yaml", &share_doc("gone-to-client", "gone", "client"));
    w.apply_exits(0);

    w.remove("kept.yaml");
    w.remove("gone.yaml");
    w.remove("share.yaml");
    let plan = w.plan_exits(2);
    assert_has(&plan, "delete CloudMapNamespace/gone");
    assert_has(&plan, "delete NamespaceShare/gone-to-client");
    assert!(!plan.contains("delete CloudMapNamespace/kept"), "{plan}");

    w.apply_exits(0);
    let names: Vec<String> = w.namespaces(&w.server).await.into_keys().collect();
    assert_eq!(names, ["kept.internal", "stays.internal"]);
    assert!(w.shared_with(&w.client).await.is_empty());
}

#[tokio::test]
async fn an_empty_source_prunes_nothing_and_says_why() {
    let w = World::new();
    w.write("a.yaml", &namespace_doc("alpha", "server", "", "A"));
    w.apply_exits(0);
    w.remove("a.yaml");
    let before = w.calls().await;
    let (code, out) = w.apply();
    assert_ne!(code, 0, "{out}");
    assert_has(&out, "prune held back: the source lists no documents");
    assert_eq!(w.calls().await.since(&before).mutating(&w.server), 0);
    assert!(w.namespaces(&w.server).await.contains_key("alpha.internal"));
}

#[tokio::test]
async fn an_invalid_document_next_to_valid_ones_is_reported_and_nothing_of_it_is_deleted() {
    let w = World::new();
    let (out, _) = spoil_pears_and_apply(&w, || {
        // The pears document breaks (a misspelt field).
        let misspelt =
            namespace_doc("pears", "server", "", "Pears").replace("description:", "descripton:");
        w.write("b.yaml", &misspelt);
    })
    .await;
    assert_has(
        &out,
        "b.yaml (document 1) spec.descripton: error: unknown field",
    );
}

#[tokio::test]
async fn a_swapped_prefix_of_new_documents_does_not_let_the_owned_objects_be_pruned() {
    let w = World::new();
    for name in ["one", "two", "three", "four"] {
        w.write(
            &format!("{name}.yaml"),
            &namespace_doc(name, "server", "", name),
        );
    }
    w.apply_exits(0);
    // The source now shows another team's prefix: many new names, none of the four.
    for name in ["one", "two", "three", "four"] {
        w.remove(&format!("{name}.yaml"));
    }
    for n in 0..20 {
        w.write(
            &format!("other-{n}.yaml"),
            &namespace_doc(&format!("other-{n}"), "server", "", "Other"),
        );
    }
    let plan = w.plan_exits(2);
    assert!(!plan.contains("delete CloudMapNamespace/"), "{plan}");
    assert_has(
        &plan,
        "blocked CloudMapNamespace/one: the document was removed, but pruning is held back: \
             the documents of 4 of the 4 objects the controller owns disappeared at once",
    );
}

#[tokio::test]
async fn deletions_beyond_the_hourly_budget_wait_and_say_why() {
    let w = World::new();
    w.write_config("prune: {alwaysAllow: 5, maxDeletionsPerHour: 1}\n");
    for name in ["one", "two", "three"] {
        w.write(
            &format!("{name}.yaml"),
            &namespace_doc(name, "server", "", name),
        );
    }
    w.write("stays.yaml", &namespace_doc("stays", "server", "", "Stays"));
    w.apply_exits(0);
    for name in ["one", "two", "three"] {
        w.remove(&format!("{name}.yaml"));
    }
    let (code, out) = w.apply();
    assert_ne!(code, 0, "two deletions are held back: {out}");
    let deleted = out.lines().filter(|l| l.ends_with(": deleted")).count();
    let held = out
        .lines()
        .filter(|l| {
            l.contains("the deletion budget of 1 per hour (prune.maxDeletionsPerHour) is used up")
        })
        .count();
    assert_eq!((deleted, held), (1, 2), "{out}");
    assert_eq!(w.namespaces(&w.server).await.len(), 3);
}
