use crate::world::*;

async fn create_unowned(w: &World, name: &str) -> String {
    let cm = w.cloud_map(&w.server).await;
    let op = cm.create_http_namespace().name(name).send().await.unwrap();
    let op = cm
        .get_operation()
        .operation_id(op.operation_id().unwrap())
        .send()
        .await
        .unwrap();
    op.operation.unwrap().targets.unwrap()
        [&aws_sdk_servicediscovery::types::OperationTargetType::Namespace]
        .clone()
}

#[tokio::test]
async fn an_unowned_namespace_of_the_same_name_is_reported_and_left_alone() {
    let w = World::new();
    let id = create_unowned(&w, "shared.internal").await;
    w.write("ns.yaml", &namespace_doc("shared", "server", "", "Shared"));
    let (out, calls) = w.apply_counted(1).await;
    assert_has(&out, "CloudMapNamespace/shared: blocked");
    assert_has(&out, "not managed by ecs-topology");
    calls.assert_read_only(&w.server);
    let cm = w.cloud_map(&w.server).await;
    let ns = cm
        .get_namespace()
        .id(&id)
        .send()
        .await
        .unwrap()
        .namespace
        .unwrap();
    assert_eq!(ns.description(), None, "untouched");
}

#[tokio::test]
async fn an_unowned_namespace_is_taken_over_when_the_document_says_adopt() {
    let w = World::new();
    let id = create_unowned(&w, "legacy.internal").await;
    w.write(
        "ns.yaml",
        &namespace_doc("legacy", "server", ADOPT, "Legacy"),
    );
    let plan = w.plan_exits(2);
    assert_has(&plan, "adopt CloudMapNamespace/legacy");
    w.apply_exits(0);
    assert_eq!(
        w.namespaces(&w.server).await["legacy.internal"].0,
        id,
        "the same namespace, not a new one"
    );
    w.plan_exits(0);
}

#[tokio::test]
async fn a_namespace_owned_by_another_controller_is_never_touched() {
    let (w, _, _) = namespace_applied("theirs", "Theirs", false).await;
    // The same documents under another controller name: that controller must leave it alone.
    let other = World::same_accounts(&w, "another-controller");
    other.write(
        "ns.yaml",
        &namespace_doc("theirs", "server", ADOPT, "Changed"),
    );
    let (code, out) = other.apply();
    assert_eq!(code, 1, "{out}");
    assert_has(&out, "managed by the controller");
    let ns = w.namespaces(&w.server).await;
    assert!(ns.contains_key("theirs.internal"));
    assert_eq!(w.plan().0, 0, "still as its own controller left it");
}
