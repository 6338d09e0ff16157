use aws_sdk_ram::types::ResourceShareStatus;

use crate::world::*;

#[tokio::test]
async fn drift_made_by_another_client_is_planned_field_by_field_and_corrected() {
    let (w, id, arn) = namespace_applied("billing", "Billing", true).await;

    // Another client changes the description, removes a tag and disassociates the principal.
    let cm = w.cloud_map(&w.server).await;
    let change = aws_sdk_servicediscovery::types::HttpNamespaceChange::builder()
        .description("changed by hand")
        .build()
        .unwrap();
    let op = cm
        .update_http_namespace()
        .id(&id)
        .namespace(change)
        .send()
        .await
        .unwrap();
    assert!(op.operation_id().is_some());
    w.untag_namespace(&arn, "team").await;
    let ram = w.ram(&w.server).await;
    let shares = ram
        .get_resource_shares()
        .resource_owner(aws_sdk_ram::types::ResourceOwner::SelfValue)
        .send()
        .await
        .unwrap();
    let share = shares
        .resource_shares()
        .iter()
        .find(|s| s.status() == Some(&ResourceShareStatus::Active))
        .unwrap()
        .resource_share_arn()
        .unwrap()
        .to_owned();
    ram.disassociate_resource_share()
        .resource_share_arn(&share)
        .principals(&w.client)
        .send()
        .await
        .unwrap();

    let plan = w.plan_exits(2);
    assert_has(&plan, "update CloudMapNamespace/billing");
    assert_has(&plan, "~ description: \"changed by hand\" -> \"Billing\"");
    assert_has(&plan, "+ tags.team: \"payments\"");
    assert_has(&plan, "update NamespaceShare/billing-to-client");
    assert_has(&plan, &format!("+ principals: [\"{}\"]", w.client));
    let ns_plan = w.planned("CloudMapNamespace", "billing");
    assert_eq!(ns_plan["verb"], "update");
    assert_eq!(change_paths(&ns_plan).len(), 2);

    w.apply_exits(0);
    // Corrected.
    w.plan_exits(0);
    assert_eq!(w.shared_with(&w.client).await, vec![arn]);
}

#[tokio::test]
async fn a_deleted_namespace_is_recreated_and_reshared() {
    let (w, id, old_arn) = namespace_applied("ledger", "Ledger", true).await;
    w.cloud_map(&w.server)
        .await
        .delete_namespace()
        .id(&id)
        .send()
        .await
        .unwrap();

    let plan = w.plan_exits(2);
    assert_has(&plan, "create CloudMapNamespace/ledger");
    w.apply_exits(0);
    let (_, arn) = w.namespaces(&w.server).await["ledger.internal"].clone();
    assert_ne!(arn, old_arn);
    assert_eq!(w.shared_with(&w.client).await, vec![arn]);
}

#[tokio::test]
async fn a_suspended_document_reports_its_drift_and_changes_nothing() {
    let (w, _, arn) = namespace_applied("paused", "Paused", false).await;
    w.untag_namespace(&arn, "team").await;
    w.write(
        "ns.yaml",
        &namespace_doc("paused", "server", SUSPEND, "Paused"),
    );
    let plan = w.plan_exits(2);
    assert_has(&plan, "suspended CloudMapNamespace/paused");
    assert_has(&plan, "+ tags.team");
    let before = w.calls().await;
    let (_, out) = w.apply();
    assert_eq!(
        w.calls().await.since(&before).mutating(&w.server),
        0,
        "{out}"
    );
    let status = w.status("CloudMapNamespace/paused");
    assert_eq!(condition(&status, "Synced")["reason"], "Suspended");
    assert_eq!(condition(&status, "Drifted")["status"], "True");
    assert_eq!(
        status["status"]["driftedFields"],
        serde_json::json!(["tags.team"])
    );
}

#[tokio::test]
async fn tags_other_automation_adds_are_left_alone_and_are_not_drift() {
    let (w, _, arn) = namespace_applied("ledger", "Ledger", false).await;
    let cm = w.cloud_map(&w.server).await;
    let tags = || async {
        let reply = cm
            .list_tags_for_resource()
            .resource_arn(&arn)
            .send()
            .await
            .unwrap();
        reply
            .tags()
            .iter()
            .map(|t| (t.key().to_owned(), t.value().to_owned()))
            .collect::<std::collections::BTreeMap<_, _>>()
    };
    // Cost allocation adds its own tag by hand.
    cm.tag_resource()
        .resource_arn(&arn)
        .tags(
            aws_sdk_servicediscovery::types::Tag::builder()
                .key("cost-center")
                .value("42")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    // Another's tag is not drift.
    w.plan_exits(0);
    for _ in 0..2 {
        w.apply_exits(0);
    }
    assert_eq!(
        tags().await.get("cost-center").map(String::as_str),
        Some("42")
    );

    // A tag dropped from the document is removed; the other's stays.
    w.write(
        "ns.yaml",
        &namespace_doc("ledger", "server", "", "Ledger").replace("  tags: {team: payments}\n", ""),
    );
    w.apply_exits(0);
    let now = tags().await;
    assert!(!now.contains_key("team"), "{now:?}");
    assert_eq!(now.get("cost-center").map(String::as_str), Some("42"));
}
