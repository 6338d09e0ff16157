//! Cloud Map (`servicediscovery`) as the emulator serves it to the Rust SDK: idempotent namespace
//! creation, duplicate names, filtered and paged listings, operations that take time, updates,
//! deletion rules and tags.

use std::time::{Duration, Instant};

use aws_sdk_servicediscovery as sd;
use aws_sdk_servicediscovery::operation::create_http_namespace::CreateHttpNamespaceError;
use aws_sdk_servicediscovery::operation::delete_namespace::DeleteNamespaceError;
use aws_sdk_servicediscovery::types::{
    FilterCondition, NamespaceFilter, NamespaceFilterName, NamespaceType, OperationStatus,
    OperationTargetType, Tag,
};
use ecs_topology_testkit::{Pages, emulator, sent_pages};
use serde_json::json;

use crate::{assert_fails_with_status, code_and_status};

const REGION: &str = "ap-northeast-1";

pub(crate) async fn cloud_map(account: &str) -> sd::Client {
    sd::Client::new(&emulator().sdk_config(account, REGION).await)
}

fn tag(key: &str, value: &str) -> Tag {
    Tag::builder()
        .key(key)
        .value(value)
        .build()
        .unwrap_or_else(|e| panic!("tag: {e}"))
}

fn filter(name: NamespaceFilterName, condition: FilterCondition, value: &str) -> NamespaceFilter {
    NamespaceFilter::builder()
        .name(name)
        .condition(condition)
        .values(value)
        .build()
        .unwrap_or_else(|e| panic!("filter: {e}"))
}

/// Creates an HTTP namespace and returns (operation id, namespace id).
pub(crate) async fn create_namespace(client: &sd::Client, name: &str) -> (String, String) {
    let op = create_with(client, name, |call| call).await;
    let id = namespace_of(client, &op).await;
    (op, id)
}

/// Creates the HTTP namespace `name`; returns its ARN, as `ListNamespaces` answers it.
pub(crate) async fn create_namespace_arn(client: &sd::Client, name: &str) -> String {
    create_with(client, name, |call| call).await;
    client
        .list_namespaces()
        .send()
        .await
        .unwrap_or_else(|e| panic!("list namespaces: {e:?}"))
        .namespaces()
        .iter()
        .find(|n| n.name() == Some(name))
        .and_then(|n| n.arn().map(str::to_owned))
        .unwrap_or_else(|| panic!("no namespace {name}"))
}

type CreateNamespace =
    sd::operation::create_http_namespace::builders::CreateHttpNamespaceFluentBuilder;

/// The operation id `CreateHttpNamespace` of `name`, as `change` changes the call, answers.
async fn create_with(
    client: &sd::Client,
    name: &str,
    change: impl FnOnce(CreateNamespace) -> CreateNamespace,
) -> String {
    change(client.create_http_namespace().name(name))
        .send()
        .await
        .unwrap_or_else(|e| panic!("create {name}: {e:?}"))
        .operation_id
        .unwrap_or_else(|| panic!("create {name}: no OperationId"))
}

/// The error `CreateHttpNamespace` of `name` with the creator request id `token` fails with (`why`
/// says why it must fail).
async fn create_error(
    client: &sd::Client,
    name: &str,
    token: &str,
    why: &str,
) -> sd::error::SdkError<CreateHttpNamespaceError> {
    client
        .create_http_namespace()
        .name(name)
        .creator_request_id(token)
        .send()
        .await
        .expect_err(why)
}

/// The namespace `GetNamespace` answers for `id` (an id or an ARN).
async fn get(client: &sd::Client, id: &str) -> sd::types::Namespace {
    client
        .get_namespace()
        .id(id)
        .send()
        .await
        .unwrap_or_else(|e| panic!("get {id}: {e:?}"))
        .namespace
        .unwrap_or_else(|| panic!("get {id}: no Namespace"))
}

async fn operation(client: &sd::Client, op: &str) -> sd::types::Operation {
    client
        .get_operation()
        .operation_id(op)
        .send()
        .await
        .unwrap_or_else(|e| panic!("get operation {op}: {e:?}"))
        .operation
        .unwrap_or_else(|| panic!("get operation {op}: no Operation"))
}

async fn namespace_of(client: &sd::Client, op: &str) -> String {
    operation(client, op)
        .await
        .targets()
        .and_then(|t| t.get(&OperationTargetType::Namespace))
        .cloned()
        .unwrap_or_else(|| panic!("operation {op} names no namespace"))
}

/// `TagResource` of `arn` with the tags `pairs`, not yet sent.
fn tagging(
    client: &sd::Client,
    arn: &str,
    pairs: &[(&str, &str)],
) -> sd::operation::tag_resource::builders::TagResourceFluentBuilder {
    let tags = pairs.iter().map(|(key, value)| tag(key, value)).collect();
    client.tag_resource().resource_arn(arn).set_tags(Some(tags))
}

/// Removes the tags `keys` from `arn`.
async fn untag(client: &sd::Client, arn: &str, keys: &[&str]) {
    let keys = keys.iter().map(|k| (*k).to_owned()).collect();
    client
        .untag_resource()
        .resource_arn(arn)
        .set_tag_keys(Some(keys))
        .send()
        .await
        .unwrap_or_else(|e| panic!("untag {arn}: {e:?}"));
}

/// The tags of `arn`, as (key, value) in order.
async fn namespace_tags(client: &sd::Client, arn: &str) -> Vec<(String, String)> {
    let listed = client
        .list_tags_for_resource()
        .resource_arn(arn)
        .send()
        .await;
    let mut tags: Vec<(String, String)> = listed
        .unwrap_or_else(|e| panic!("list tags of {arn}: {e:?}"))
        .tags()
        .iter()
        .map(|t| (t.key().to_owned(), t.value().to_owned()))
        .collect();
    tags.sort();
    tags
}

async fn names(client: &sd::Client, filters: Vec<NamespaceFilter>) -> Vec<String> {
    name_pages(client, Some(filters), None).await.items()
}

/// The names of the namespaces `ListNamespaces` answers with `filters`, page by page of `max`
/// (the service's default when `None`).
async fn name_pages(
    client: &sd::Client,
    filters: Option<Vec<NamespaceFilter>>,
    max: Option<i32>,
) -> Pages<String> {
    sent_pages(
        "list namespaces",
        |token| {
            client
                .list_namespaces()
                .set_filters(filters.clone())
                .set_max_results(max)
                .set_next_token(token)
                .send()
        },
        |page| {
            let names = page
                .namespaces()
                .iter()
                .filter_map(|n| n.name().map(str::to_owned));
            (names.collect(), page.next_token)
        },
    )
    .await
}

#[tokio::test]
async fn creating_a_namespace_twice_with_the_same_creator_request_id_creates_one() {
    let account = emulator().new_account();
    let client = cloud_map(&account).await;
    let mut operations = Vec::new();
    for _ in 0..2 {
        operations.push(
            create_with(&client, "orders", |call| {
                call.creator_request_id("orders-rev-1")
            })
            .await,
        );
    }
    assert_eq!(operations[0], operations[1]);
    assert!(!operations[0].is_empty());
    assert_eq!(names(&client, vec![]).await, ["orders"]);
}

#[tokio::test]
async fn reusing_a_creator_request_id_for_another_name_is_a_duplicate_request() {
    let account = emulator().new_account();
    let client = cloud_map(&account).await;
    let first = create_with(&client, "orders", |call| call.creator_request_id("token-1")).await;
    let err = create_error(
        &client,
        "payments",
        "token-1",
        "a reused token for another name must fail",
    )
    .await;
    assert_eq!(code_and_status(&err), ("DuplicateRequest".to_owned(), 409));
    match err.into_service_error() {
        CreateHttpNamespaceError::DuplicateRequest(e) => {
            assert_eq!(e.duplicate_operation_id(), Some(first.as_str()));
        }
        other => panic!("expected DuplicateRequest, got {other:?}"),
    }
    assert_eq!(names(&client, vec![]).await, ["orders"]);
}

#[tokio::test]
async fn creating_a_namespace_with_a_taken_name_fails_with_namespace_already_exists() {
    let account = emulator().new_account();
    let client = cloud_map(&account).await;
    create_with(&client, "orders", |call| call.creator_request_id("first")).await;
    let existing = client
        .list_namespaces()
        .send()
        .await
        .unwrap_or_else(|e| panic!("list: {e:?}"))
        .namespaces()[0]
        .id()
        .unwrap_or_default()
        .to_owned();
    let err = create_error(&client, "orders", "second", "a taken name must fail").await;
    assert_eq!(
        code_and_status(&err),
        ("NamespaceAlreadyExists".to_owned(), 400)
    );
    match err.into_service_error() {
        CreateHttpNamespaceError::NamespaceAlreadyExists(e) => {
            assert_eq!(e.creator_request_id(), Some("first"));
            assert_eq!(e.namespace_id(), Some(existing.as_str()));
        }
        other => panic!("expected NamespaceAlreadyExists, got {other:?}"),
    }
}

#[tokio::test]
async fn the_same_name_in_another_account_or_region_is_not_taken() {
    let account = emulator().new_account();
    let other = emulator().new_account();
    create_namespace(&cloud_map(&account).await, "orders").await;
    create_namespace(&cloud_map(&other).await, "orders").await;
    let elsewhere = sd::Client::new(&emulator().sdk_config(&account, "eu-west-1").await);
    create_namespace(&elsewhere, "orders").await;
}

#[tokio::test]
async fn a_namespace_is_read_by_id_or_arn_with_its_owner_and_creator_request_id() {
    let account = emulator().new_account();
    let client = cloud_map(&account).await;
    let op = create_with(&client, "orders", |call| {
        call.description("Service Connect namespace")
            .creator_request_id("orders-rev-1")
    })
    .await;
    let id = namespace_of(&client, &op).await;
    let by_id = get(&client, &id).await;
    let arn = by_id.arn().unwrap_or_default().to_owned();
    assert_eq!(
        arn,
        format!("arn:aws:servicediscovery:{REGION}:{account}:namespace/{id}")
    );
    assert_eq!(by_id.name(), Some("orders"));
    assert_eq!(by_id.r#type(), Some(&NamespaceType::Http));
    assert_eq!(by_id.description(), Some("Service Connect namespace"));
    assert_eq!(by_id.resource_owner(), Some(account.as_str()));
    assert_eq!(by_id.creator_request_id(), Some("orders-rev-1"));
    assert_eq!(by_id.service_count(), Some(0));
    assert_eq!(
        by_id
            .properties()
            .and_then(|p| p.http_properties())
            .and_then(|h| h.http_name()),
        Some("orders")
    );
    let by_arn = get(&client, &arn).await;
    assert_eq!(by_arn, by_id);

    assert_fails_with_status(
        client
            .get_namespace()
            .id("ns-doesnotexist0000000")
            .send()
            .await,
        "NamespaceNotFound",
        404,
        "an unknown id must fail",
    );
}

#[tokio::test]
async fn listing_namespaces_filters_by_type_name_and_http_name() {
    let account = emulator().new_account();
    let client = cloud_map(&account).await;
    for name in ["orders", "orders-eu", "payments"] {
        create_namespace(&client, name).await;
    }
    use FilterCondition::{BeginsWith, Eq};
    use NamespaceFilterName::{HttpName, Name, Type};
    assert_eq!(
        names(&client, vec![filter(Name, Eq, "orders")]).await,
        ["orders"]
    );
    assert_eq!(
        names(&client, vec![filter(Name, BeginsWith, "orders")]).await,
        ["orders", "orders-eu"]
    );
    assert_eq!(
        names(&client, vec![filter(HttpName, Eq, "payments")]).await,
        ["payments"]
    );
    assert_eq!(
        names(&client, vec![filter(Type, Eq, "HTTP")]).await.len(),
        3
    );
    assert!(
        names(&client, vec![filter(Type, Eq, "DNS_PRIVATE")])
            .await
            .is_empty()
    );
    assert_eq!(
        names(
            &client,
            vec![
                filter(Type, Eq, "HTTP"),
                filter(HttpName, BeginsWith, "pay")
            ]
        )
        .await,
        ["payments"]
    );
}

#[tokio::test]
async fn listing_namespaces_with_a_filter_the_reference_does_not_allow_is_invalid_input() {
    let account = emulator().new_account();
    let client = cloud_map(&account).await;
    let not_allowed = [
        filter(
            NamespaceFilterName::ResourceOwner,
            FilterCondition::BeginsWith,
            "SELF",
        ),
        filter(
            NamespaceFilterName::ResourceOwner,
            FilterCondition::Eq,
            "SOMEONE",
        ),
        filter(NamespaceFilterName::Name, FilterCondition::In, "orders"),
        filter(NamespaceFilterName::Type, FilterCondition::Between, "HTTP"),
    ];
    for f in not_allowed {
        assert_fails_with_status(
            client.list_namespaces().filters(f.clone()).send().await,
            "InvalidInput",
            400,
            &format!("the filter must be rejected ({f:?})"),
        );
    }
}

#[tokio::test]
async fn listing_namespaces_pages_with_max_results_and_next_token() {
    let account = emulator().new_account();
    let client = cloud_map(&account).await;
    for i in 0..5 {
        create_namespace(&client, &format!("ns-{i}")).await;
    }
    let first = client
        .list_namespaces()
        .max_results(2)
        .send()
        .await
        .unwrap_or_else(|e| panic!("page 1: {e:?}"));
    assert_eq!(first.namespaces().len(), 2);
    let token = first
        .next_token()
        .unwrap_or_else(|| panic!("page 1 has no NextToken"));
    let second = client
        .list_namespaces()
        .max_results(2)
        .next_token(token)
        .send()
        .await
        .unwrap_or_else(|e| panic!("page 2: {e:?}"));
    assert_eq!(second.namespaces().len(), 2);
    assert_ne!(first.namespaces()[0].id(), second.namespaces()[0].id());

    let pages = name_pages(&client, None, Some(2)).await;
    assert_eq!(pages.pages.len(), 3);
    let mut all = pages.items();
    all.sort();
    assert_eq!(all, ["ns-0", "ns-1", "ns-2", "ns-3", "ns-4"]);

    assert_fails_with_status(
        client
            .list_namespaces()
            .next_token("not-a-token")
            .send()
            .await,
        "InvalidInput",
        400,
        "a bogus token must fail",
    );
}

#[tokio::test]
async fn listing_namespaces_returns_at_most_one_hundred_by_default() {
    let account = emulator().new_account();
    let client = cloud_map(&account).await;
    for i in 0..101 {
        create_namespace(&client, &format!("ns-{i:03}")).await;
    }
    let first = client
        .list_namespaces()
        .send()
        .await
        .unwrap_or_else(|e| panic!("list: {e:?}"));
    assert_eq!(first.namespaces().len(), 100);
    let rest = client
        .list_namespaces()
        .next_token(first.next_token().unwrap_or_else(|| panic!("no NextToken")))
        .send()
        .await
        .unwrap_or_else(|e| panic!("list: {e:?}"));
    assert_eq!(rest.namespaces().len(), 1);
    assert_eq!(rest.next_token(), None);
}

#[tokio::test]
async fn a_filtered_listing_takes_max_results_namespaces_before_filtering_them() {
    let account = emulator().new_account();
    let client = cloud_map(&account).await;
    for name in ["alpha", "beta", "gamma"] {
        create_namespace(&client, name).await;
    }
    let wanted = filter(NamespaceFilterName::Name, FilterCondition::Eq, "gamma");
    let first = client
        .list_namespaces()
        .max_results(1)
        .filters(wanted.clone())
        .send()
        .await
        .unwrap_or_else(|e| panic!("page 1: {e:?}"));
    assert!(first.namespaces().is_empty());
    assert!(first.next_token().is_some(), "an empty page still leads on");

    let found = name_pages(&client, Some(vec![wanted]), Some(1)).await;
    assert_eq!(found.items(), ["gamma"]);
}

#[tokio::test]
async fn operations_succeed_at_once_without_a_configured_delay() {
    let account = emulator().new_account();
    let client = cloud_map(&account).await;
    let (op, id) = create_namespace(&client, "orders").await;
    let op = operation(&client, &op).await;
    assert_eq!(op.status(), Some(&OperationStatus::Success));
    assert_eq!(op.owner_account(), Some(account.as_str()));
    assert_eq!(
        op.r#type(),
        Some(&sd::types::OperationType::CreateNamespace)
    );
    client
        .get_namespace()
        .id(&id)
        .send()
        .await
        .unwrap_or_else(|e| panic!("get: {e:?}"));
}

#[tokio::test]
async fn a_namespace_appears_only_when_its_create_operation_succeeds_after_the_delay() {
    let account = emulator().new_account();
    emulator()
        .set_settings(&[&account], json!({"servicediscovery.operation_delay": 3}))
        .await;
    let client = cloud_map(&account).await;
    let started = Instant::now();
    let op = create_with(&client, "orders", |call| call).await;
    let id = namespace_of(&client, &op).await;
    let mut seen: Vec<OperationStatus> = Vec::new();
    loop {
        // Look before asking for the status: a namespace seen before its operation succeeded
        // would be seen here with a status other than SUCCESS.
        let visible = client.get_namespace().id(&id).send().await.is_ok();
        let listed = !names(&client, vec![]).await.is_empty();
        let status = operation(&client, &op)
            .await
            .status()
            .cloned()
            .unwrap_or_else(|| panic!("no Status"));
        if status == OperationStatus::Success {
            let visible = client.get_namespace().id(&id).send().await.is_ok();
            let listed = !names(&client, vec![]).await.is_empty();
            assert!(visible && listed, "a succeeded create shows the namespace");
            break;
        }
        assert!(
            !visible && !listed,
            "{status:?}: the namespace must not show yet"
        );
        if seen.last() != Some(&status) {
            seen.push(status);
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "never succeeded: {seen:?}"
        );
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
    assert_eq!(seen, [OperationStatus::Submitted, OperationStatus::Pending]);
    assert!(started.elapsed() >= Duration::from_millis(2900));
}

#[tokio::test]
async fn updating_an_http_namespace_changes_its_description_and_answers_an_operation_id() {
    let account = emulator().new_account();
    let client = cloud_map(&account).await;
    let (_, id) = create_namespace(&client, "orders").await;
    let change = sd::types::HttpNamespaceChange::builder()
        .description("v2")
        .build()
        .unwrap_or_else(|e| panic!("change: {e}"));
    let mut operations = Vec::new();
    for _ in 0..2 {
        let reply = client
            .update_http_namespace()
            .id(&id)
            .updater_request_id("update-v2")
            .namespace(change.clone())
            .send()
            .await
            .unwrap_or_else(|e| panic!("update: {e:?}"));
        operations.push(
            reply
                .operation_id
                .unwrap_or_else(|| panic!("no OperationId")),
        );
    }
    assert_eq!(
        operations[0], operations[1],
        "the same UpdaterRequestId is one update"
    );
    let op = operation(&client, &operations[0]).await;
    assert_eq!(
        op.r#type(),
        Some(&sd::types::OperationType::UpdateNamespace)
    );
    let ns = get(&client, &id).await;
    assert_eq!(ns.description(), Some("v2"));
}

#[tokio::test]
async fn deleting_a_namespace_that_still_has_services_fails_with_resource_in_use() {
    let account = emulator().new_account();
    let client = cloud_map(&account).await;
    let (_, id) = create_namespace(&client, "orders").await;
    let service = client
        .create_service()
        .name("api")
        .namespace_id(&id)
        .send()
        .await
        .unwrap_or_else(|e| panic!("create service: {e:?}"))
        .service
        .unwrap_or_else(|| panic!("no Service"));
    let err = client
        .delete_namespace()
        .id(&id)
        .send()
        .await
        .expect_err("a namespace with services cannot go");
    assert_eq!(code_and_status(&err), ("ResourceInUse".to_owned(), 409));
    assert!(matches!(
        err.into_service_error(),
        DeleteNamespaceError::ResourceInUse(_)
    ));
    let ns = get(&client, &id).await;
    assert_eq!(ns.service_count(), Some(1));

    client
        .delete_service()
        .id(service.id().unwrap_or_default())
        .send()
        .await
        .unwrap_or_else(|e| panic!("delete service: {e:?}"));
    client
        .delete_namespace()
        .id(&id)
        .send()
        .await
        .unwrap_or_else(|e| panic!("delete: {e:?}"));
    assert!(names(&client, vec![]).await.is_empty());
}

#[tokio::test]
async fn a_namespace_being_deleted_stays_listed_until_its_operation_succeeds() {
    let account = emulator().new_account();
    let client = cloud_map(&account).await;
    let (_, id) = create_namespace(&client, "orders").await;
    emulator()
        .set_settings(
            &[&account],
            json!({"servicediscovery.operation_delay": 1.5}),
        )
        .await;
    let op = client
        .delete_namespace()
        .id(&id)
        .send()
        .await
        .unwrap_or_else(|e| panic!("delete: {e:?}"))
        .operation_id
        .unwrap_or_default();
    assert_eq!(names(&client, vec![]).await, ["orders"]);
    let err = client
        .delete_namespace()
        .id(&id)
        .send()
        .await
        .expect_err("a second delete while the first runs must fail");
    assert_eq!(code_and_status(&err), ("DuplicateRequest".to_owned(), 409));
    match err.into_service_error() {
        DeleteNamespaceError::DuplicateRequest(e) => {
            assert_eq!(e.duplicate_operation_id(), Some(op.as_str()));
        }
        other => panic!("expected DuplicateRequest, got {other:?}"),
    }
    tokio::time::sleep(Duration::from_millis(1700)).await;
    assert_eq!(
        operation(&client, &op).await.status(),
        Some(&OperationStatus::Success)
    );
    assert!(names(&client, vec![]).await.is_empty());
    assert_fails_with_status(
        client.get_namespace().id(&id).send().await,
        "NamespaceNotFound",
        404,
        "a deleted namespace is gone",
    );
}

#[tokio::test]
async fn namespace_tags_are_kept_changed_and_listed() {
    let account = emulator().new_account();
    let client = cloud_map(&account).await;
    let op = create_with(&client, "orders", |call| {
        call.tags(tag("ecs-topology.dev/owner", "controller"))
            .tags(tag("env", "prod"))
    })
    .await;
    let id = namespace_of(&client, &op).await;
    let arn = format!("arn:aws:servicediscovery:{REGION}:{account}:namespace/{id}");

    assert_eq!(
        namespace_tags(&client, &arn).await,
        [
            ("ecs-topology.dev/owner".to_owned(), "controller".to_owned()),
            ("env".to_owned(), "prod".to_owned())
        ]
    );
    tagging(&client, &arn, &[("env", "staging"), ("team", "payments")])
        .send()
        .await
        .unwrap_or_else(|e| panic!("tag: {e:?}"));
    untag(&client, &arn, &["ecs-topology.dev/owner"]).await;
    assert_eq!(
        namespace_tags(&client, &arn).await,
        [
            ("env".to_owned(), "staging".to_owned()),
            ("team".to_owned(), "payments".to_owned())
        ]
    );
}

#[tokio::test]
async fn tagging_an_unknown_namespace_fails_with_resource_not_found() {
    let account = emulator().new_account();
    let client = cloud_map(&account).await;
    let arn = format!("arn:aws:servicediscovery:{REGION}:{account}:namespace/ns-missing0000000000");
    assert_fails_with_status(
        tagging(&client, &arn, &[("env", "prod")]).send().await,
        "ResourceNotFoundException",
        404,
        "an unknown resource cannot be tagged",
    );
    assert_fails_with_status(
        client
            .list_tags_for_resource()
            .resource_arn(&arn)
            .send()
            .await,
        "ResourceNotFoundException",
        404,
        "an unknown resource has no tags",
    );
}
