//! AWS RAM as the emulator serves it to the Rust SDK: sharing Cloud Map namespaces with the
//! managed Cloud Map permission, associations, permissions, tags, filtered and paged listings,
//! idempotency, and what a consumer account sees of a shared namespace.

use aws_sdk_ram as ram;
use aws_sdk_ram::operation::associate_resource_share_permission::builders::AssociateResourceSharePermissionFluentBuilder as AssociatePermission;
use aws_sdk_ram::operation::create_resource_share::CreateResourceShareError;
use aws_sdk_ram::operation::disassociate_resource_share_permission::builders::DisassociateResourceSharePermissionFluentBuilder as DisassociatePermission;
use aws_sdk_ram::types::{
    ResourceOwner, ResourceShareAssociationStatus, ResourceShareAssociationType,
    ResourceSharePermissionSummary, ResourceShareStatus, Tag, TagFilter,
};
use aws_sdk_servicediscovery::types::{FilterCondition, NamespaceFilter, NamespaceFilterName};
use ecs_topology_testkit::{emulator, sent_pages};
use serde_json::json;

use crate::cloudmap::{cloud_map, create_namespace};
use crate::{assert_fails_with, assert_fails_with_status, code_and_status};

const REGION: &str = "ap-northeast-1";
const CLOUD_MAP_PERMISSION: &str =
    "arn:aws:ram::aws:permission/AWSRAMPermissionCloudMapECSFullPermission";

async fn ram_client(account: &str) -> ram::Client {
    ram::Client::new(&emulator().sdk_config(account, REGION).await)
}

fn tag(key: &str, value: &str) -> Tag {
    Tag::builder().key(key).value(value).build()
}

/// A fresh account with one HTTP namespace; returns (account, namespace id, namespace ARN).
async fn owner_with_namespace(name: &str) -> (String, String, String) {
    let account = emulator().new_account();
    let (_, id) = create_namespace(&cloud_map(&account).await, name).await;
    let arn = format!("arn:aws:servicediscovery:{REGION}:{account}:namespace/{id}");
    (account, id, arn)
}

/// An owner's namespace `orders` shared as `orders-share` with a fresh consumer account.
struct Shared {
    owner: String,
    /// The namespace's id.
    id: String,
    namespace_arn: String,
    consumer: String,
    /// The owner's RAM client.
    client: ram::Client,
    share_arn: String,
}

async fn orders_shared() -> Shared {
    let (owner, id, namespace_arn) = owner_with_namespace("orders").await;
    let consumer = emulator().new_account();
    let client = ram_client(&owner).await;
    let share_arn = share(&client, "orders-share", &namespace_arn, &[&consumer]).await;
    Shared {
        owner,
        id,
        namespace_arn,
        consumer,
        client,
        share_arn,
    }
}

/// Shares `namespace_arn` with `principals` the way the controller does; returns the share ARN.
pub(crate) async fn share(
    client: &ram::Client,
    name: &str,
    namespace_arn: &str,
    principals: &[&str],
) -> String {
    created_share(client, name, |call| {
        call.resource_arns(namespace_arn)
            .set_principals(Some(principals.iter().map(|p| (*p).to_owned()).collect()))
            .permission_arns(CLOUD_MAP_PERMISSION)
            .allow_external_principals(false)
    })
    .await
}

type CreateShare =
    ram::operation::create_resource_share::builders::CreateResourceShareFluentBuilder;

/// The ARN of the share `CreateResourceShare` of `name`, as `change` changes the call, creates.
async fn created_share(
    client: &ram::Client,
    name: &str,
    change: impl FnOnce(CreateShare) -> CreateShare,
) -> String {
    change(client.create_resource_share().name(name))
        .send()
        .await
        .unwrap_or_else(|e| panic!("create share {name}: {e:?}"))
        .resource_share
        .and_then(|s| s.resource_share_arn)
        .unwrap_or_else(|| panic!("create share {name}: no ARN"))
}

/// `GetResourceShares` of the shares `client`'s account owns, not yet sent.
fn own_shares(client: &ram::Client) -> GetShares {
    client
        .get_resource_shares()
        .resource_owner(ResourceOwner::SelfValue)
}

/// Deletes the share `arn` (with the client token `token`, when given): the reply.
async fn delete_share(
    client: &ram::Client,
    arn: &str,
    token: Option<&str>,
) -> ram::operation::delete_resource_share::DeleteResourceShareOutput {
    client
        .delete_resource_share()
        .set_client_token(token.map(str::to_owned))
        .resource_share_arn(arn)
        .send()
        .await
        .unwrap_or_else(|e| panic!("delete {arn}: {e:?}"))
}

/// Disassociates the resource `resource` and the principal `principal` (those given) from the
/// share `share_arn`: the reply.
async fn disassociate(
    client: &ram::Client,
    share_arn: &str,
    resource: Option<&str>,
    principal: Option<&str>,
) -> ram::operation::disassociate_resource_share::DisassociateResourceShareOutput {
    let one = |arn: Option<&str>| arn.map(|a| vec![a.to_owned()]);
    client
        .disassociate_resource_share()
        .resource_share_arn(share_arn)
        .set_resource_arns(one(resource))
        .set_principals(one(principal))
        .send()
        .await
        .unwrap_or_else(|e| panic!("disassociate from {share_arn}: {e:?}"))
}

/// `AssociateResourceSharePermission` of `permission` to the share `share_arn`, not yet sent.
fn associate_permission(
    client: &ram::Client,
    share_arn: &str,
    permission: &str,
) -> AssociatePermission {
    client
        .associate_resource_share_permission()
        .resource_share_arn(share_arn)
        .permission_arn(permission)
}

/// `DisassociateResourceSharePermission` of the Cloud Map permission from the share `share_arn`,
/// not yet sent.
fn disassociate_permission(client: &ram::Client, share_arn: &str) -> DisassociatePermission {
    client
        .disassociate_resource_share_permission()
        .resource_share_arn(share_arn)
        .permission_arn(CLOUD_MAP_PERMISSION)
}

/// Tags the share `arn` with `tags`, then removes its tags `removed`.
async fn retag(client: &ram::Client, arn: &str, tags: &[Tag], removed: &[&str]) {
    client
        .tag_resource()
        .resource_share_arn(arn)
        .set_tags(Some(tags.to_vec()))
        .send()
        .await
        .unwrap_or_else(|e| panic!("tag {arn}: {e:?}"));
    client
        .untag_resource()
        .resource_share_arn(arn)
        .set_tag_keys(Some(removed.iter().map(|k| (*k).to_owned()).collect()))
        .send()
        .await
        .unwrap_or_else(|e| panic!("untag {removed:?} of {arn}: {e:?}"));
}

/// The permissions associated with the share `share_arn`.
async fn share_permissions(
    client: &ram::Client,
    share_arn: &str,
) -> Vec<ResourceSharePermissionSummary> {
    client
        .list_resource_share_permissions()
        .resource_share_arn(share_arn)
        .send()
        .await
        .unwrap_or_else(|e| panic!("permissions of {share_arn}: {e:?}"))
        .permissions
        .unwrap_or_default()
}

fn arns_of(permissions: &[ResourceSharePermissionSummary]) -> Vec<&str> {
    permissions.iter().filter_map(|p| p.arn()).collect()
}

type GetShares = ram::operation::get_resource_shares::builders::GetResourceSharesFluentBuilder;

async fn share_names(request: GetShares) -> Vec<String> {
    let pages = sent_pages(
        "get shares",
        |token| request.clone().set_next_token(token).send(),
        |page| {
            let names = page.resource_shares().iter().filter_map(|s| s.name());
            (names.map(str::to_owned).collect(), page.next_token)
        },
    )
    .await;
    pages.items()
}

/// The names of the namespaces `account` sees, with an optional RESOURCE_OWNER filter.
async fn visible_namespaces(account: &str, owner: Option<&str>) -> Vec<(String, String)> {
    let client = cloud_map(account).await;
    let mut request = client.list_namespaces();
    if let Some(owner) = owner {
        request = request.filters(
            NamespaceFilter::builder()
                .name(NamespaceFilterName::ResourceOwner)
                .condition(FilterCondition::Eq)
                .values(owner)
                .build()
                .unwrap_or_else(|e| panic!("filter: {e}")),
        );
    }
    let mut out: Vec<(String, String)> = request
        .send()
        .await
        .unwrap_or_else(|e| panic!("list namespaces: {e:?}"))
        .namespaces()
        .iter()
        .map(|n| {
            (
                n.name().unwrap_or_default().to_owned(),
                n.resource_owner().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    out.sort();
    out
}

async fn association_statuses(
    client: &ram::Client,
    share_arn: &str,
    kind: ResourceShareAssociationType,
) -> Vec<(String, ResourceShareAssociationStatus)> {
    let mut out: Vec<(String, ResourceShareAssociationStatus)> = client
        .get_resource_share_associations()
        .association_type(kind)
        .resource_share_arns(share_arn)
        .send()
        .await
        .unwrap_or_else(|e| panic!("associations: {e:?}"))
        .resource_share_associations()
        .iter()
        .map(|a| {
            (
                a.associated_entity().unwrap_or_default().to_owned(),
                a.status().cloned().unwrap_or_else(|| panic!("no status")),
            )
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

#[tokio::test]
async fn a_cloud_map_namespace_is_shared_with_the_permission_and_tags_asked_for() {
    let (owner, _, namespace_arn) = owner_with_namespace("orders").await;
    let consumer = emulator().new_account();
    let client = ram_client(&owner).await;
    let created = client
        .create_resource_share()
        .name("orders-share")
        .resource_arns(&namespace_arn)
        .principals(&consumer)
        .permission_arns(CLOUD_MAP_PERMISSION)
        .tags(tag("ecs-topology.dev/owner", "controller"))
        .allow_external_principals(false)
        .send()
        .await
        .unwrap_or_else(|e| panic!("create share: {e:?}"))
        .resource_share
        .unwrap_or_else(|| panic!("no resourceShare"));
    let share_arn = created.resource_share_arn().unwrap_or_default().to_owned();
    assert!(share_arn.starts_with(&format!("arn:aws:ram:{REGION}:{owner}:resource-share/")));
    assert_eq!(created.status(), Some(&ResourceShareStatus::Active));
    assert_eq!(created.allow_external_principals(), Some(false));
    assert_eq!(created.owning_account_id(), Some(owner.as_str()));

    let listed = own_shares(&client)
        .resource_share_arns(&share_arn)
        .send()
        .await
        .unwrap_or_else(|e| panic!("get shares: {e:?}"));
    let listed = &listed.resource_shares()[0];
    assert_eq!(listed.name(), Some("orders-share"));
    assert_eq!(
        listed
            .tags()
            .iter()
            .map(|t| (t.key(), t.value()))
            .collect::<Vec<_>>(),
        [(Some("ecs-topology.dev/owner"), Some("controller"))]
    );

    let permissions = share_permissions(&client, &share_arn).await;
    assert_eq!(arns_of(&permissions), [CLOUD_MAP_PERMISSION]);
    assert_eq!(
        permissions[0].resource_type(),
        Some("servicediscovery:Namespace")
    );

    assert_eq!(
        association_statuses(&client, &share_arn, ResourceShareAssociationType::Resource).await,
        [(namespace_arn, ResourceShareAssociationStatus::Associated)]
    );
}

#[tokio::test]
async fn the_cloud_map_ecs_permission_is_known_and_the_default_for_namespaces() {
    let (owner, _, namespace_arn) = owner_with_namespace("orders").await;
    let client = ram_client(&owner).await;
    let listed = client
        .list_permissions()
        .resource_type("servicediscovery:Namespace")
        .send()
        .await
        .unwrap_or_else(|e| panic!("list permissions: {e:?}"));
    let listed = &listed.permissions()[0];
    assert_eq!(listed.arn(), Some(CLOUD_MAP_PERMISSION));
    assert_eq!(
        listed.name(),
        Some("AWSRAMPermissionCloudMapECSFullPermission")
    );
    assert_eq!(listed.is_resource_type_default(), Some(true));
    assert_eq!(
        listed.permission_type(),
        Some(&ram::types::PermissionType::AwsManaged)
    );

    let detail = client
        .get_permission()
        .permission_arn(CLOUD_MAP_PERMISSION)
        .send()
        .await
        .unwrap_or_else(|e| panic!("get permission: {e:?}"))
        .permission
        .unwrap_or_else(|| panic!("no permission"));
    assert_eq!(detail.resource_type(), Some("servicediscovery:Namespace"));
    assert!(
        detail
            .permission()
            .unwrap_or_default()
            .contains("servicediscovery:")
    );

    let share_arn = created_share(&client, "no-permission-given", |call| {
        call.resource_arns(&namespace_arn)
    })
    .await;
    let attached = share_permissions(&client, &share_arn).await;
    assert_eq!(arns_of(&attached), [CLOUD_MAP_PERMISSION]);
}

#[tokio::test]
async fn sharing_a_namespace_that_does_not_exist_fails_with_unknown_resource() {
    let account = emulator().new_account();
    let client = ram_client(&account).await;
    let missing =
        format!("arn:aws:servicediscovery:{REGION}:{account}:namespace/ns-missing0000000000");
    let err = client
        .create_resource_share()
        .name("nothing")
        .resource_arns(&missing)
        .send()
        .await
        .expect_err("a missing namespace cannot be shared");
    assert_eq!(
        code_and_status(&err),
        ("UnknownResourceException".to_owned(), 400)
    );
    assert!(matches!(
        err.into_service_error(),
        CreateResourceShareError::UnknownResourceException(_)
    ));
    assert!(share_names(own_shares(&client)).await.is_empty());
}

#[tokio::test]
async fn creating_a_resource_share_twice_with_the_same_client_token_creates_one() {
    let (owner, _, namespace_arn) = owner_with_namespace("orders").await;
    let client = ram_client(&owner).await;
    let mut arns = Vec::new();
    for _ in 0..2 {
        let reply = client
            .create_resource_share()
            .name("orders-share")
            .resource_arns(&namespace_arn)
            .client_token("orders-share-rev-1")
            .send()
            .await
            .unwrap_or_else(|e| panic!("create share: {e:?}"));
        assert_eq!(reply.client_token(), Some("orders-share-rev-1"));
        arns.push(
            reply
                .resource_share
                .and_then(|s| s.resource_share_arn)
                .unwrap_or_default(),
        );
    }
    assert_eq!(arns[0], arns[1]);
    assert_eq!(share_names(own_shares(&client)).await, ["orders-share"]);
}

#[tokio::test]
async fn reusing_a_client_token_with_other_parameters_fails_with_idempotent_parameter_mismatch() {
    let account = emulator().new_account();
    let client = ram_client(&account).await;
    created_share(&client, "first", |call| call.client_token("token-1")).await;
    assert_fails_with_status(
        client
            .create_resource_share()
            .name("second")
            .client_token("token-1")
            .send()
            .await,
        "IdempotentParameterMismatchException",
        400,
        "a reused token with other parameters must fail",
    );
}

#[tokio::test]
async fn principals_inside_the_organization_are_associated_at_once_without_invitations() {
    let Shared {
        consumer,
        client,
        share_arn,
        ..
    } = orders_shared().await;
    assert_eq!(
        association_statuses(&client, &share_arn, ResourceShareAssociationType::Principal).await,
        [(consumer.clone(), ResourceShareAssociationStatus::Associated)]
    );
    let invitations = ram_client(&consumer)
        .await
        .get_resource_share_invitations()
        .send()
        .await
        .unwrap_or_else(|e| panic!("invitations: {e:?}"));
    assert!(invitations.resource_share_invitations().is_empty());
    let shared_with_consumer = share_names(
        ram_client(&consumer)
            .await
            .get_resource_shares()
            .resource_owner(ResourceOwner::OtherAccounts),
    )
    .await;
    assert_eq!(shared_with_consumer, ["orders-share"]);
}

#[tokio::test]
async fn resources_and_principals_are_associated_and_disassociated() {
    let (owner, _, first_arn) = owner_with_namespace("orders").await;
    let (_, second_id) = create_namespace(&cloud_map(&owner).await, "payments").await;
    let second_arn = format!("arn:aws:servicediscovery:{REGION}:{owner}:namespace/{second_id}");
    let (a, b) = (emulator().new_account(), emulator().new_account());
    let client = ram_client(&owner).await;
    let share_arn = share(&client, "shared", &first_arn, &[&a]).await;

    let added = client
        .associate_resource_share()
        .resource_share_arn(&share_arn)
        .resource_arns(&second_arn)
        .principals(&b)
        .send()
        .await
        .unwrap_or_else(|e| panic!("associate: {e:?}"));
    assert_eq!(added.resource_share_associations().len(), 2);
    let mut principals = vec![
        (a.clone(), ResourceShareAssociationStatus::Associated),
        (b.clone(), ResourceShareAssociationStatus::Associated),
    ];
    principals.sort_by(|x, y| x.0.cmp(&y.0));
    assert_eq!(
        association_statuses(&client, &share_arn, ResourceShareAssociationType::Principal).await,
        principals
    );

    let removed = disassociate(&client, &share_arn, Some(&first_arn), Some(&a)).await;
    assert_eq!(removed.resource_share_associations().len(), 2);
    let principals =
        association_statuses(&client, &share_arn, ResourceShareAssociationType::Principal).await;
    assert!(principals.contains(&(a.clone(), ResourceShareAssociationStatus::Disassociated)));
    assert!(principals.contains(&(b.clone(), ResourceShareAssociationStatus::Associated)));
    let associated_resources: Vec<String> = client
        .get_resource_share_associations()
        .association_type(ResourceShareAssociationType::Resource)
        .resource_share_arns(&share_arn)
        .association_status(ResourceShareAssociationStatus::Associated)
        .send()
        .await
        .unwrap_or_else(|e| panic!("associations: {e:?}"))
        .resource_share_associations()
        .iter()
        .filter_map(|r| r.associated_entity().map(str::to_owned))
        .collect();
    assert_eq!(associated_resources, [second_arn]);
}

#[tokio::test]
async fn a_namespace_shared_with_another_account_is_listed_there_until_disassociated() {
    let (owner, _, namespace_arn) = owner_with_namespace("orders").await;
    let consumer = emulator().new_account();
    let client = ram_client(&owner).await;
    assert!(visible_namespaces(&consumer, None).await.is_empty());
    let share_arn = share(&client, "orders-share", &namespace_arn, &[&consumer]).await;

    let seen = vec![("orders".to_owned(), owner.clone())];
    assert_eq!(visible_namespaces(&consumer, None).await, seen);
    assert_eq!(
        visible_namespaces(&consumer, Some("OTHER_ACCOUNTS")).await,
        seen
    );
    assert!(visible_namespaces(&consumer, Some("SELF")).await.is_empty());

    disassociate(&client, &share_arn, None, Some(&consumer)).await;
    assert!(visible_namespaces(&consumer, None).await.is_empty());
    assert_fails_with_status(
        cloud_map(&consumer)
            .await
            .get_namespace()
            .id(&namespace_arn)
            .send()
            .await,
        "NamespaceNotFound",
        404,
        "an unshared namespace is not found",
    );
}

#[tokio::test]
async fn a_shared_namespace_disappears_from_the_consumer_when_the_resource_is_removed() {
    let Shared {
        namespace_arn,
        consumer,
        client,
        share_arn,
        ..
    } = orders_shared().await;
    assert_eq!(visible_namespaces(&consumer, None).await.len(), 1);
    disassociate(&client, &share_arn, Some(&namespace_arn), None).await;
    assert!(visible_namespaces(&consumer, None).await.is_empty());
}

#[tokio::test]
async fn a_shared_namespace_disappears_from_the_consumer_when_the_share_is_deleted() {
    let Shared {
        consumer,
        client,
        share_arn,
        ..
    } = orders_shared().await;
    assert_eq!(visible_namespaces(&consumer, None).await.len(), 1);
    let deleted = delete_share(&client, &share_arn, None).await;
    assert_eq!(deleted.return_value(), Some(true));
    assert!(visible_namespaces(&consumer, None).await.is_empty());
    assert_eq!(
        association_statuses(&client, &share_arn, ResourceShareAssociationType::Principal).await,
        [(consumer, ResourceShareAssociationStatus::Disassociated)]
    );
}

#[tokio::test]
async fn a_shared_namespace_is_read_by_arn_from_the_consumer_and_cannot_be_changed_there() {
    let Shared {
        owner,
        id,
        namespace_arn,
        consumer,
        ..
    } = orders_shared().await;
    let client = cloud_map(&consumer).await;
    let ns = client
        .get_namespace()
        .id(&namespace_arn)
        .send()
        .await
        .unwrap_or_else(|e| panic!("get by arn: {e:?}"))
        .namespace
        .unwrap_or_else(|| panic!("no Namespace"));
    assert_eq!(ns.id(), Some(id.as_str()));
    assert_eq!(ns.resource_owner(), Some(owner.as_str()));

    assert_fails_with_status(
        client.get_namespace().id(&id).send().await,
        "NamespaceNotFound",
        404,
        "a shared namespace is read by ARN only",
    );
    assert_fails_with(
        client.delete_namespace().id(&namespace_arn).send().await,
        "AccessDeniedException",
        "a consumer cannot delete the owner's namespace",
    );
}

#[tokio::test]
async fn a_namespace_is_invisible_to_accounts_it_is_not_shared_with() {
    let Shared {
        owner,
        namespace_arn,
        ..
    } = orders_shared().await;
    let stranger = emulator().new_account();
    assert!(visible_namespaces(&stranger, None).await.is_empty());
    assert_fails_with_status(
        cloud_map(&stranger)
            .await
            .get_namespace()
            .id(&namespace_arn)
            .send()
            .await,
        "NamespaceNotFound",
        404,
        "not shared with the stranger",
    );
    assert_eq!(
        visible_namespaces(&owner, Some("SELF")).await,
        [("orders".to_owned(), owner.clone())]
    );
    assert!(
        visible_namespaces(&owner, Some("OTHER_ACCOUNTS"))
            .await
            .is_empty()
    );
}

#[tokio::test]
async fn a_resource_share_permission_is_replaced_only_when_asked_and_removed_without_resources() {
    let (owner, _, namespace_arn) = owner_with_namespace("orders").await;
    let client = ram_client(&owner).await;
    let share_arn = share(&client, "orders-share", &namespace_arn, &[]).await;

    // Associating the permission already attached is a no-op.
    let same = associate_permission(&client, &share_arn, CLOUD_MAP_PERMISSION)
        .send()
        .await
        .unwrap_or_else(|e| panic!("associate permission: {e:?}"));
    assert_eq!(same.return_value(), Some(true));

    // A namespace is still in the share: its permission cannot go.
    assert_fails_with(
        disassociate_permission(&client, &share_arn).send().await,
        "OperationNotPermittedException",
        "the permission of a shared resource type must stay",
    );

    disassociate(&client, &share_arn, Some(&namespace_arn), None).await;
    disassociate_permission(&client, &share_arn)
        .send()
        .await
        .unwrap_or_else(|e| panic!("disassociate permission: {e:?}"));
    let left = share_permissions(&client, &share_arn).await;
    assert!(left.is_empty());

    assert_fails_with(
        associate_permission(
            &client,
            &share_arn,
            "arn:aws:ram::aws:permission/AWSRAMNoSuchPermission",
        )
        .send()
        .await,
        "UnknownResourceException",
        "an unknown permission cannot be associated",
    );
    associate_permission(&client, &share_arn, CLOUD_MAP_PERMISSION)
        .send()
        .await
        .unwrap_or_else(|e| panic!("associate permission: {e:?}"));
    let back = own_shares(&client)
        .permission_arn(CLOUD_MAP_PERMISSION)
        .send()
        .await
        .unwrap_or_else(|e| panic!("get shares: {e:?}"));
    assert_eq!(back.resource_shares().len(), 1);
}

#[tokio::test]
async fn get_resource_shares_filters_by_name_tags_status_arn_and_permission() {
    let (owner, _, namespace_arn) = owner_with_namespace("orders").await;
    let client = ram_client(&owner).await;
    let mut arns = Vec::new();
    for (name, team) in [("a", "payments"), ("b", "payments"), ("c", "search")] {
        let arn = created_share(&client, name, |call| {
            call.tags(tag("team", team))
                .tags(tag("ecs-topology.dev/owner", "controller"))
        })
        .await;
        arns.push(arn);
    }
    share(&client, "d", &namespace_arn, &[]).await;
    let by_tag = |key: &str, values: &[&str]| {
        TagFilter::builder()
            .tag_key(key)
            .set_tag_values(Some(values.iter().map(|v| (*v).to_owned()).collect()))
            .build()
    };
    assert_eq!(share_names(own_shares(&client).name("b")).await, ["b"]);
    assert_eq!(
        share_names(own_shares(&client).tag_filters(by_tag("team", &["payments"]))).await,
        ["a", "b"]
    );
    assert_eq!(
        share_names(
            own_shares(&client)
                .tag_filters(by_tag("team", &["search", "payments"]))
                .tag_filters(by_tag("ecs-topology.dev/owner", &[]))
        )
        .await,
        ["a", "b", "c"]
    );
    assert_eq!(
        share_names(own_shares(&client).resource_share_arns(&arns[2])).await,
        ["c"]
    );
    assert_eq!(
        share_names(own_shares(&client).permission_arn(CLOUD_MAP_PERMISSION)).await,
        ["d"]
    );
    assert_eq!(
        share_names(own_shares(&client).resource_share_status(ResourceShareStatus::Active)).await,
        ["a", "b", "c", "d"]
    );
    assert!(
        share_names(own_shares(&client).resource_share_status(ResourceShareStatus::Deleted))
            .await
            .is_empty()
    );
}

#[tokio::test]
async fn deleted_resource_shares_are_listed_only_when_asked_for_by_status() {
    let account = emulator().new_account();
    let client = ram_client(&account).await;
    let arn = created_share(&client, "short-lived", |call| call).await;
    delete_share(&client, &arn, Some("delete-1")).await;
    // A retry with the same token answers the same.
    delete_share(&client, &arn, Some("delete-1")).await;
    assert!(share_names(own_shares(&client)).await.is_empty());
    let deleted = own_shares(&client)
        .resource_share_status(ResourceShareStatus::Deleted)
        .send()
        .await
        .unwrap_or_else(|e| panic!("get shares: {e:?}"));
    assert_eq!(deleted.resource_shares().len(), 1);
    assert_eq!(
        deleted.resource_shares()[0].status(),
        Some(&ResourceShareStatus::Deleted)
    );
}

#[tokio::test]
async fn get_resource_shares_pages_with_max_results_and_next_token() {
    let account = emulator().new_account();
    let client = ram_client(&account).await;
    for i in 0..5 {
        created_share(&client, &format!("share-{i}"), |call| call).await;
    }
    let first = own_shares(&client)
        .max_results(2)
        .send()
        .await
        .unwrap_or_else(|e| panic!("page 1: {e:?}"));
    assert_eq!(first.resource_shares().len(), 2);
    assert!(first.next_token().is_some());
    let mut all = share_names(own_shares(&client).max_results(2)).await;
    all.sort();
    assert_eq!(all, ["share-0", "share-1", "share-2", "share-3", "share-4"]);
    assert_fails_with_status(
        own_shares(&client).max_results(501).send().await,
        "InvalidParameterException",
        400,
        "more than 500 a page is not allowed",
    );
    assert_fails_with_status(
        own_shares(&client).next_token("bogus").send().await,
        "InvalidNextTokenException",
        400,
        "a bogus token must fail",
    );
}

#[tokio::test]
async fn get_resource_share_associations_pages_and_filters() {
    let (owner, _, namespace_arn) = owner_with_namespace("orders").await;
    let consumers: Vec<String> = (0..3).map(|_| emulator().new_account()).collect();
    let refs: Vec<&str> = consumers.iter().map(String::as_str).collect();
    let client = ram_client(&owner).await;
    let share_arn = share(&client, "orders-share", &namespace_arn, &refs).await;
    let pages = sent_pages(
        "page",
        |token| {
            client
                .get_resource_share_associations()
                .association_type(ResourceShareAssociationType::Principal)
                .max_results(2)
                .set_next_token(token)
                .send()
        },
        |page| {
            let associations = page.resource_share_associations().iter();
            let entities = associations.filter_map(|a| a.associated_entity());
            (entities.map(str::to_owned).collect(), page.next_token)
        },
    )
    .await;
    assert_eq!(pages.pages.len(), 2);
    let mut seen = pages.items();
    seen.sort();
    let mut expected = consumers.clone();
    expected.sort();
    assert_eq!(seen, expected);

    let one = client
        .get_resource_share_associations()
        .association_type(ResourceShareAssociationType::Principal)
        .principal(&consumers[1])
        .send()
        .await
        .unwrap_or_else(|e| panic!("by principal: {e:?}"));
    assert_eq!(one.resource_share_associations().len(), 1);
    assert_eq!(
        one.resource_share_associations()[0].resource_share_arn(),
        Some(share_arn.as_str())
    );
    let by_resource = client
        .get_resource_share_associations()
        .association_type(ResourceShareAssociationType::Resource)
        .resource_arn(&namespace_arn)
        .send()
        .await
        .unwrap_or_else(|e| panic!("by resource: {e:?}"));
    assert_eq!(by_resource.resource_share_associations().len(), 1);
    assert_fails_with(
        client
            .get_resource_share_associations()
            .association_type(ResourceShareAssociationType::Principal)
            .resource_arn(&namespace_arn)
            .send()
            .await,
        "InvalidParameterException",
        "a resource filter with PRINCIPAL associations is invalid",
    );
}

#[tokio::test]
async fn updating_a_resource_share_without_a_name_keeps_its_name() {
    let account = emulator().new_account();
    let client = ram_client(&account).await;
    let arn = created_share(&client, "keep-me", |call| {
        call.allow_external_principals(true)
    })
    .await;
    let updated = client
        .update_resource_share()
        .resource_share_arn(&arn)
        .allow_external_principals(false)
        .send()
        .await
        .unwrap_or_else(|e| panic!("update: {e:?}"))
        .resource_share
        .unwrap_or_else(|| panic!("no resourceShare"));
    assert_eq!(updated.name(), Some("keep-me"));
    assert_eq!(updated.allow_external_principals(), Some(false));
    let renamed = client
        .update_resource_share()
        .resource_share_arn(&arn)
        .name("renamed")
        .send()
        .await
        .unwrap_or_else(|e| panic!("rename: {e:?}"))
        .resource_share
        .unwrap_or_else(|| panic!("no resourceShare"));
    assert_eq!(renamed.name(), Some("renamed"));
    assert_eq!(renamed.allow_external_principals(), Some(false));
}

#[tokio::test]
async fn resource_share_tags_are_added_and_removed() {
    let account = emulator().new_account();
    let client = ram_client(&account).await;
    let arn = created_share(&client, "tagged", |call| call.tags(tag("env", "prod"))).await;
    retag(
        &client,
        &arn,
        &[tag("env", "staging"), tag("team", "payments")],
        &["team"],
    )
    .await;
    let shares = own_shares(&client)
        .send()
        .await
        .unwrap_or_else(|e| panic!("get shares: {e:?}"));
    let tags: Vec<_> = shares.resource_shares()[0]
        .tags()
        .iter()
        .map(|t| (t.key().unwrap_or_default(), t.value().unwrap_or_default()))
        .collect();
    assert_eq!(tags, [("env", "staging")]);
}

#[tokio::test]
async fn the_consumer_lists_the_shared_namespace_among_the_resources_shared_with_it() {
    let Shared {
        namespace_arn,
        consumer,
        share_arn,
        ..
    } = orders_shared().await;
    let resources = ram_client(&consumer)
        .await
        .list_resources()
        .resource_owner(ResourceOwner::OtherAccounts)
        .resource_type("servicediscovery:Namespace")
        .send()
        .await
        .unwrap_or_else(|e| panic!("list resources: {e:?}"));
    let resources: Vec<_> = resources
        .resources()
        .iter()
        .map(|r| (r.arn(), r.r#type(), r.resource_share_arn()))
        .collect();
    assert_eq!(
        resources,
        [(
            Some(namespace_arn.as_str()),
            Some("servicediscovery:Namespace"),
            Some(share_arn.as_str())
        )]
    );
}

#[tokio::test]
async fn sharing_with_the_organization_reaches_its_member_accounts_only() {
    let (owner, _, namespace_arn) = owner_with_namespace("orders").await;
    let (member, outsider) = (emulator().new_account(), emulator().new_account());
    emulator()
        .set_settings(&[&owner], json!({"ram.organization_accounts": [member]}))
        .await;
    let organization = format!("arn:aws:organizations::{owner}:organization/o-exampleorg1");
    let share_arn = share(
        &ram_client(&owner).await,
        "org-share",
        &namespace_arn,
        &[&organization],
    )
    .await;
    assert_eq!(
        visible_namespaces(&member, Some("OTHER_ACCOUNTS")).await,
        [("orders".to_owned(), owner.clone())]
    );
    assert!(visible_namespaces(&outsider, None).await.is_empty());
    assert_eq!(
        association_statuses(
            &ram_client(&owner).await,
            &share_arn,
            ResourceShareAssociationType::Principal
        )
        .await,
        [(organization, ResourceShareAssociationStatus::Associated)]
    );
}
