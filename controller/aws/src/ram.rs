//! RAM resource shares of namespaces: batched observation and changes.
//!
//! Observation per account and region: every page of `GetResourceShares` (the shares the account
//! owns, with tags), every page of principal and resource associations, and one filtered
//! `GetResourceShares` pass per permission the documents ask for, which tells the permission of
//! every share at once. A share holds namespaces only, so it has exactly one permission.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use aws_sdk_ram::types::{
    ResourceOwner, ResourceShareAssociationStatus, ResourceShareAssociationType,
    ResourceShareStatus, Tag,
};
use ecs_topology_core::engine::ShareChange;
use ecs_topology_core::observed::{ObservedShare, permission_base_arn};
use ecs_topology_core::plan::Verb;

use crate::call::{Aws, AwsError};
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
        share.principals = principals.get(&share.arn).cloned().unwrap_or_default();
        share.resources = resources.get(&share.arn).cloned().unwrap_or_default();
        share.permissions = using.remove(&share.arn).unwrap_or_default();
    }
    Ok(shares)
}

async fn shares_page_by_page(
    aws: Aws<'_>,
    permission: Option<&String>,
) -> Result<Vec<ObservedShare>, AwsError> {
    let ram = &aws.clients.ram;
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let reply = aws
            .call("GetResourceShares", ApiFamily::Ram, || {
                ram.get_resource_shares()
                    .resource_owner(ResourceOwner::SelfValue)
                    .set_permission_arn(permission.cloned())
                    .max_results(500)
                    .set_next_token(token.clone())
                    .send()
            })
            .await?;
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
                tags: share
                    .tags()
                    .iter()
                    .filter_map(|t| {
                        Some((
                            t.key()?.to_owned(),
                            t.value().unwrap_or_default().to_owned(),
                        ))
                    })
                    .collect(),
                allow_external_principals: share.allow_external_principals().unwrap_or(false),
                resources: BTreeSet::new(),
                principals: BTreeSet::new(),
                permissions: BTreeSet::new(),
            });
        }
        token = reply.next_token.filter(|t| !t.is_empty());
        if token.is_none() {
            return Ok(out);
        }
    }
}

/// Associated (or associating) principals or resources, by share ARN.
async fn associations(
    aws: Aws<'_>,
    kind: ResourceShareAssociationType,
) -> Result<HashMap<String, BTreeSet<String>>, AwsError> {
    let ram = &aws.clients.ram;
    let mut out: HashMap<String, BTreeSet<String>> = HashMap::new();
    let mut token: Option<String> = None;
    loop {
        let reply = aws
            .call("GetResourceShareAssociations", ApiFamily::Ram, || {
                ram.get_resource_share_associations()
                    .association_type(kind.clone())
                    .max_results(500)
                    .set_next_token(token.clone())
                    .send()
            })
            .await?;
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
            if let (Some(share), Some(entity)) = (a.resource_share_arn(), a.associated_entity()) {
                out.entry(share.to_owned())
                    .or_default()
                    .insert(entity.to_owned());
            }
        }
        token = reply.next_token.filter(|t| !t.is_empty());
        if token.is_none() {
            return Ok(out);
        }
    }
}

fn ram_tags(tags: &BTreeMap<String, String>) -> Vec<Tag> {
    tags.iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect()
}

/// Carries out a share plan; returns the share as it now is (`None` once deleted).
pub async fn apply(
    aws: Aws<'_>,
    change: &ShareChange<'_>,
) -> Result<Option<ObservedShare>, AwsError> {
    let desired = change.desired;
    match (change.plan.verb, change.observed, desired) {
        (Verb::Create, _, Some(want)) => {
            let Some(namespace) = want.namespace_arn.clone() else {
                return Err(AwsError::local(
                    "CreateResourceShare",
                    ErrorClass::Other,
                    "the namespace has no ARN yet",
                ));
            };
            let ram = &aws.clients.ram;
            let tags = ram_tags(&change.tags);
            let principals: Vec<String> = want.principals.iter().cloned().collect();
            let reply = aws
                .call("CreateResourceShare", ApiFamily::Ram, || {
                    ram.create_resource_share()
                        .name(&change.plan.key.name)
                        .resource_arns(&namespace)
                        .set_principals(Some(principals.clone()))
                        .permission_arns(&want.permission_arn)
                        .set_tags(Some(tags.clone()))
                        .allow_external_principals(false)
                        .client_token(&change.token)
                        .send()
                })
                .await?;
            let arn = reply
                .resource_share
                .and_then(|s| s.resource_share_arn)
                .ok_or_else(|| {
                    AwsError::local(
                        "CreateResourceShare",
                        ErrorClass::Other,
                        "no share in the reply",
                    )
                })?;
            Ok(Some(ObservedShare {
                arn,
                name: change.plan.key.name.clone(),
                tags: change.tags.clone(),
                allow_external_principals: false,
                resources: BTreeSet::from([namespace]),
                principals: want.principals.clone(),
                permissions: BTreeSet::from([want.permission_arn.clone()]),
            }))
        }
        (Verb::Update | Verb::Adopt, Some(share), Some(want)) => {
            update(aws, share, want, &change.tags).await.map(Some)
        }
        (Verb::Delete, Some(share), _) => {
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
        (verb, _, _) => Err(AwsError::local(
            "apply",
            ErrorClass::Other,
            format!("nothing to do for a {verb:?} plan without its share"),
        )),
    }
}

async fn update(
    aws: Aws<'_>,
    share: &ObservedShare,
    want: &ecs_topology_core::plan::DesiredShare<'_>,
    tags: &BTreeMap<String, String>,
) -> Result<ObservedShare, AwsError> {
    let ram = &aws.clients.ram;
    let arn = share.arn.as_str();
    let resources: BTreeSet<String> = want.namespace_arn.iter().cloned().collect();
    let add_resources: Vec<String> = resources.difference(&share.resources).cloned().collect();
    let add_principals: Vec<String> = want
        .principals
        .difference(&share.principals)
        .cloned()
        .collect();
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
    let drop_resources: Vec<String> = share.resources.difference(&resources).cloned().collect();
    let drop_principals: Vec<String> = share
        .principals
        .difference(&want.principals)
        .cloned()
        .collect();
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
    let has_permission = share
        .permissions
        .iter()
        .any(|p| permission_base_arn(p) == want.permission_arn);
    if !has_permission || share.permissions.len() != 1 {
        aws.call("AssociateResourceSharePermission", ApiFamily::Ram, || {
            ram.associate_resource_share_permission()
                .resource_share_arn(arn)
                .permission_arn(&want.permission_arn)
                .replace(true)
                .send()
        })
        .await?;
    }
    if share.allow_external_principals {
        aws.call("UpdateResourceShare", ApiFamily::Ram, || {
            ram.update_resource_share()
                .resource_share_arn(arn)
                .allow_external_principals(false)
                .send()
        })
        .await?;
    }
    let set: BTreeMap<String, String> = tags
        .iter()
        .filter(|(k, v)| share.tags.get(*k) != Some(*v))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    if !set.is_empty() {
        let list = ram_tags(&set);
        aws.call("TagResource", ApiFamily::Ram, || {
            ram.tag_resource()
                .resource_share_arn(arn)
                .set_tags(Some(list.clone()))
                .send()
        })
        .await?;
    }
    let removed: Vec<String> = share
        .tags
        .keys()
        .filter(|k| !tags.contains_key(*k) && !k.starts_with("aws:"))
        .cloned()
        .collect();
    if !removed.is_empty() {
        aws.call("UntagResource", ApiFamily::Ram, || {
            ram.untag_resource()
                .resource_share_arn(arn)
                .set_tag_keys(Some(removed.clone()))
                .send()
        })
        .await?;
    }
    Ok(ObservedShare {
        arn: share.arn.clone(),
        name: share.name.clone(),
        tags: tags.clone(),
        allow_external_principals: false,
        resources,
        principals: want.principals.clone(),
        permissions: BTreeSet::from([want.permission_arn.clone()]),
    })
}
