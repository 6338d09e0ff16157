//! RAM resource shares of namespaces: batched observation and changes.
//!
//! Observation per account and region: every page of `GetResourceShares` (the shares the account
//! owns, with tags), every page of principal and resource associations, and one filtered
//! `GetResourceShares` pass per permission the documents ask for, which tells the permission of
//! every share at once. A share holds namespaces only, so it has exactly one permission.

use std::collections::{BTreeSet, HashMap};

use aws_sdk_ram::types::{
    ResourceOwner, ResourceShareAssociationStatus, ResourceShareAssociationType,
    ResourceShareStatus, Tag,
};
use ecs_topology_core::engine::Change;
use ecs_topology_core::kinds::share::{ShareField, Shares};
use ecs_topology_core::observed::ObservedShare;
use ecs_topology_core::plan::{Edit, TagEdits, Verb, string_set};

use crate::call::{Aws, AwsError};
use crate::tagging::tag_map;
use crate::{ApiFamily, ErrorClass};

/// Every share the account owns in the region (not deleted), with associations, tags and which
/// of `permissions` each uses.
pub async fn observe(
    aws: Aws<'_>,
    permissions: &BTreeSet<String>,
) -> Result<Vec<ObservedShare>, AwsError> {
    let mut shares: Vec<ObservedShare> =
        shares_page_by_page(aws, None).await?.into_iter().collect();
    if shares.is_empty() {
        return Ok(shares);
    }
    let principals = associations(aws, ResourceShareAssociationType::Principal).await?;
    let resources = associations(aws, ResourceShareAssociationType::Resource).await?;
    let mut using: HashMap<String, BTreeSet<String>> = HashMap::new();
    for permission in permissions {
        for share in shares_page_by_page(aws, Some(permission)).await? {
            using
                .entry(share.arn)
                .or_default()
                .insert(permission.clone());
        }
    }
    for share in &mut shares {
        share.principals = principals
            .get(&share.arn)
            .cloned()
            .unwrap_or_default()
            .into();
        share.resources = resources
            .get(&share.arn)
            .cloned()
            .unwrap_or_default()
            .into();
        share.permissions = using.remove(&share.arn).unwrap_or_default().into();
    }
    Ok(shares)
}

async fn shares_page_by_page(
    aws: Aws<'_>,
    permission: Option<&String>,
) -> Result<Vec<ObservedShare>, AwsError> {
    let ram = &aws.clients.ram;
    let mut out = Vec::new();
    aws.pages(
        "GetResourceShares",
        ApiFamily::Ram,
        |token| {
            ram.get_resource_shares()
                .resource_owner(ResourceOwner::SelfValue)
                .set_permission_arn(permission.cloned())
                .max_results(500)
                .set_next_token(token)
                .send()
        },
        |reply| {
            for share in reply.resource_shares() {
                if matches!(
                    share.status(),
                    Some(ResourceShareStatus::Deleted | ResourceShareStatus::Deleting)
                ) {
                    continue;
                }
                let Some(arn) = share.resource_share_arn() else {
                    continue;
                };
                out.push(ObservedShare {
                    arn: arn.to_owned(),
                    name: share.name().unwrap_or_default().to_owned(),
                    tags: tag_map(share.tags().iter().map(|t| (t.key(), t.value()))),
                    allow_external_principals: share.allow_external_principals().unwrap_or(false),
                    resources: ecs_topology_core::compact::Ids::new(),
                    principals: ecs_topology_core::compact::Ids::new(),
                    permissions: ecs_topology_core::compact::Ids::new(),
                });
            }
            reply.next_token
        },
    )
    .await?;
    Ok(out)
}

/// Associated (or associating) principals or resources, by share ARN.
async fn associations(
    aws: Aws<'_>,
    kind: ResourceShareAssociationType,
) -> Result<HashMap<String, BTreeSet<String>>, AwsError> {
    let ram = &aws.clients.ram;
    let mut out: HashMap<String, BTreeSet<String>> = HashMap::new();
    aws.pages(
        "GetResourceShareAssociations",
        ApiFamily::Ram,
        |token| {
            ram.get_resource_share_associations()
                .association_type(kind.clone())
                .max_results(500)
                .set_next_token(token)
                .send()
        },
        |reply| {
            for a in reply.resource_share_associations() {
                if !matches!(
                    a.status(),
                    Some(
                        ResourceShareAssociationStatus::Associated
                            | ResourceShareAssociationStatus::Associating
                    )
                ) {
                    continue;
                }
                if let (Some(share), Some(entity)) = (a.resource_share_arn(), a.associated_entity())
                {
                    out.entry(share.to_owned())
                        .or_default()
                        .insert(entity.to_owned());
                }
            }
            reply.next_token
        },
    )
    .await?;
    Ok(out)
}

fn ram_tags(tags: &ecs_topology_core::compact::Tags) -> Vec<Tag> {
    tags.iter()
        .map(|(k, v)| Tag::builder().key(k.as_str()).value(v.as_str()).build())
        .collect()
}

/// The edit of `field`, if the plan changes it.
fn edit_of<'e>(edits: &'e [Edit<ShareField>], field: &ShareField) -> Option<&'e Edit<ShareField>> {
    edits.iter().find(|e| e.field == *field)
}

/// The values to add and to remove to go from an edit's `from` list to its `to` list.
fn difference(edit: Option<&Edit<ShareField>>) -> (Vec<String>, Vec<String>) {
    let Some(edit) = edit else {
        return (Vec::new(), Vec::new());
    };
    let (from, to) = (string_set(edit.from.as_ref()), string_set(edit.to.as_ref()));
    (
        to.difference(&from).cloned().collect(),
        from.difference(&to).cloned().collect(),
    )
}

/// Carries out a share change; returns the share as it now is (`None` once deleted).
pub async fn apply(
    aws: Aws<'_>,
    change: &Change<'_, Shares>,
) -> Result<Option<ObservedShare>, AwsError> {
    match (change.verb, change.subject.first()) {
        (Verb::Create, _) => create(aws, change).await.map(Some),
        (Verb::Update | Verb::Adopt, Some(share)) => {
            update(aws, share, change.edits).await.map(Some)
        }
        (Verb::Delete, Some(share)) => {
            let ram = &aws.clients.ram;
            match aws
                .call("DeleteResourceShare", ApiFamily::Ram, || {
                    ram.delete_resource_share()
                        .resource_share_arn(&share.arn)
                        .send()
                })
                .await
            {
                Ok(_) => Ok(None),
                Err(e) if e.is_code("UnknownResourceException") => Ok(None),
                Err(e) => Err(e),
            }
        }
        (verb, _) => Err(AwsError::local(
            "apply",
            ErrorClass::Other,
            format!("nothing to do for a {verb:?} plan without its share"),
        )),
    }
}

/// Creates the share with the namespace, principals and permission the plan's edits name.
async fn create(aws: Aws<'_>, change: &Change<'_, Shares>) -> Result<ObservedShare, AwsError> {
    let to =
        |field: ShareField| string_set(edit_of(change.edits, &field).and_then(|e| e.to.as_ref()));
    let resources = to(ShareField::Resources);
    let principals = to(ShareField::Principals);
    let permissions = to(ShareField::Permissions);
    let Some(namespace) = resources.first().cloned() else {
        return Err(AwsError::local(
            "CreateResourceShare",
            ErrorClass::Other,
            "the namespace has no ARN yet",
        ));
    };
    let Some(permission) = permissions.first().cloned() else {
        return Err(AwsError::local(
            "CreateResourceShare",
            ErrorClass::Other,
            "the plan names no permission",
        ));
    };
    let ram = &aws.clients.ram;
    let tags = ram_tags(&change.tags);
    let principal_list: Vec<String> = principals.iter().cloned().collect();
    // RAM remembers a token for a while after its share is deleted and answers with that
    // deleted share: then the next token of the sequence makes a new one.
    let mut arn = None;
    for generation in 0..4 {
        let token = if generation == 0 {
            change.token.clone()
        } else {
            format!("{}-{generation}", change.token)
        };
        let reply = aws
            .call("CreateResourceShare", ApiFamily::Ram, || {
                ram.create_resource_share()
                    .name(&change.key.name)
                    .resource_arns(&namespace)
                    .set_principals(Some(principal_list.clone()))
                    .permission_arns(&permission)
                    .set_tags(Some(tags.clone()))
                    .allow_external_principals(false)
                    .client_token(&token)
                    .send()
            })
            .await?;
        let Some(share) = reply.resource_share else {
            break;
        };
        let gone = matches!(
            share.status(),
            Some(ResourceShareStatus::Deleted | ResourceShareStatus::Deleting)
        );
        if !gone {
            arn = share.resource_share_arn;
            break;
        }
    }
    let arn = arn.ok_or_else(|| {
        AwsError::local(
            "CreateResourceShare",
            ErrorClass::Other,
            "no live share in the reply",
        )
    })?;
    Ok(ObservedShare {
        arn,
        name: change.key.name.clone(),
        tags: change.tags.clone(),
        allow_external_principals: false,
        resources: ecs_topology_core::compact::Ids::from([namespace]),
        principals: principals.into(),
        permissions: ecs_topology_core::compact::Ids::from([permission]),
    })
}

/// Changes exactly what the edits say: associations, the permission, external principals, tags.
async fn update(
    aws: Aws<'_>,
    share: &ObservedShare,
    edits: &[Edit<ShareField>],
) -> Result<ObservedShare, AwsError> {
    let ram = &aws.clients.ram;
    let arn = share.arn.as_str();
    let mut after = share.clone();
    let (add_resources, drop_resources) = difference(edit_of(edits, &ShareField::Resources));
    let (add_principals, drop_principals) = difference(edit_of(edits, &ShareField::Principals));
    if !add_resources.is_empty() || !add_principals.is_empty() {
        aws.call("AssociateResourceShare", ApiFamily::Ram, || {
            ram.associate_resource_share()
                .resource_share_arn(arn)
                .set_resource_arns((!add_resources.is_empty()).then(|| add_resources.clone()))
                .set_principals((!add_principals.is_empty()).then(|| add_principals.clone()))
                .send()
        })
        .await?;
    }
    if !drop_resources.is_empty() || !drop_principals.is_empty() {
        aws.call("DisassociateResourceShare", ApiFamily::Ram, || {
            ram.disassociate_resource_share()
                .resource_share_arn(arn)
                .set_resource_arns((!drop_resources.is_empty()).then(|| drop_resources.clone()))
                .set_principals((!drop_principals.is_empty()).then(|| drop_principals.clone()))
                .send()
        })
        .await?;
    }
    after
        .resources
        .retain(|r| !drop_resources.iter().any(|d| d == r));
    after.resources.extend(add_resources);
    after
        .principals
        .retain(|p| !drop_principals.iter().any(|d| d == p));
    after.principals.extend(add_principals);
    if let Some(edit) = edit_of(edits, &ShareField::Permissions) {
        let wanted = string_set(edit.to.as_ref());
        if let Some(permission) = wanted.first() {
            aws.call("AssociateResourceSharePermission", ApiFamily::Ram, || {
                ram.associate_resource_share_permission()
                    .resource_share_arn(arn)
                    .permission_arn(permission)
                    .replace(true)
                    .send()
            })
            .await?;
        }
        after.permissions = wanted.into();
    }
    if edit_of(edits, &ShareField::AllowExternalPrincipals).is_some() {
        aws.call("UpdateResourceShare", ApiFamily::Ram, || {
            ram.update_resource_share()
                .resource_share_arn(arn)
                .allow_external_principals(false)
                .send()
        })
        .await?;
        after.allow_external_principals = false;
    }
    let tags = TagEdits::of(edits);
    if !tags.put.is_empty() {
        let list = ram_tags(&tags.put);
        aws.call("TagResource", ApiFamily::Ram, || {
            ram.tag_resource()
                .resource_share_arn(arn)
                .set_tags(Some(list.clone()))
                .send()
        })
        .await?;
    }
    if !tags.remove.is_empty() {
        aws.call("UntagResource", ApiFamily::Ram, || {
            ram.untag_resource()
                .resource_share_arn(arn)
                .set_tag_keys(Some(tags.remove.clone()))
                .send()
        })
        .await?;
    }
    after.tags = tags.applied_to(&share.tags);
    Ok(after)
}
