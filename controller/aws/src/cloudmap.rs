//! Cloud Map HTTP namespaces: batched observation, idempotent changes, visibility from consumers.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::Duration;

use aws_sdk_servicediscovery::types::{
    FilterCondition, HttpNamespaceChange, NamespaceFilter, NamespaceFilterName, NamespaceType,
    OperationStatus, OperationTargetType, Tag,
};
use ecs_topology_core::engine::{Change, digest};
use ecs_topology_core::kinds::namespace::{NamespaceField, NamespaceScan, Namespaces};
use ecs_topology_core::observed::{ObservedNamespace, normalise_text};
use ecs_topology_core::plan::{Edit, TagEdits, Verb};

use crate::call::{Aws, AwsError};
use crate::{ApiFamily, ErrorClass};

/// How long a Cloud Map operation may take before the change is reported as failed (AWS takes
/// about 40 s; a later pass picks the same operation up again through its idempotency token).
const OPERATION_TIMEOUT: Duration = Duration::from_secs(300);

fn filter(name: NamespaceFilterName, value: &str) -> Result<NamespaceFilter, AwsError> {
    NamespaceFilter::builder()
        .name(name)
        .values(value)
        .condition(FilterCondition::Eq)
        .build()
        .map_err(|e| AwsError::local("ListNamespaces", ErrorClass::Validation, e.to_string()))
}

/// Every HTTP namespace the caller sees in the region, 100 a page: those it owns and those other
/// accounts share with it (an unfiltered owner listing returns both; the ARN tells them apart).
async fn list(aws: Aws<'_>) -> Result<Vec<ObservedNamespace>, AwsError> {
    let cm = &aws.clients.cloudmap;
    let filters = vec![filter(
        NamespaceFilterName::Type,
        NamespaceType::Http.as_str(),
    )?];
    let mut out = Vec::new();
    aws.pages(
        "ListNamespaces",
        ApiFamily::CloudMap,
        |token| {
            cm.list_namespaces()
                .set_filters(Some(filters.clone()))
                .max_results(100)
                .set_next_token(token)
                .send()
        },
        |reply| {
            for ns in reply.namespaces() {
                let (Some(id), Some(arn), Some(name)) = (ns.id(), ns.arn(), ns.name()) else {
                    continue;
                };
                out.push(ObservedNamespace {
                    id: id.to_owned(),
                    arn: arn.to_owned(),
                    name: name.to_owned(),
                    description: normalise_text(ns.description()),
                    tags: ecs_topology_core::compact::Tags::new(),
                });
            }
            reply.next_token
        },
    )
    .await?;
    Ok(out)
}

/// The account field of an ARN (`arn:partition:service:region:account:resource`).
fn arn_account(arn: &str) -> Option<&str> {
    arn.split(':').nth(4)
}

/// Every HTTP namespace `account` owns in the region, with its tags, and the ARNs of those shared
/// with it: one paginated `ListNamespaces` pass and, when the account owns any, one paginated
/// `tag:GetResources` pass — never a call per namespace.
pub async fn observe(aws: Aws<'_>, account: &str) -> Result<NamespaceScan, AwsError> {
    let (mut owned, shared): (Vec<_>, Vec<_>) = list(aws)
        .await?
        .into_iter()
        .partition(|ns| arn_account(&ns.arn) == Some(account));
    let shared = shared.into_iter().map(|ns| ns.arn).collect();
    if !owned.is_empty() {
        let mut tags = namespace_tags(aws).await?;
        for ns in &mut owned {
            ns.tags = tags.remove(&ns.arn).unwrap_or_default().into();
        }
    }
    Ok(NamespaceScan { owned, shared })
}

async fn namespace_tags(
    aws: Aws<'_>,
) -> Result<HashMap<String, BTreeMap<String, String>>, AwsError> {
    Ok(
        crate::tagging::tagged(aws, "servicediscovery:namespace", &[])
            .await?
            .into_iter()
            .collect(),
    )
}

/// ARNs of the namespaces other accounts share with `account` in this region.
pub async fn visible(aws: Aws<'_>, account: &str) -> Result<BTreeSet<String>, AwsError> {
    Ok(list(aws)
        .await?
        .into_iter()
        .map(|ns| ns.arn)
        .filter(|arn| arn_account(arn) != Some(account))
        .collect())
}

/// Carries out a namespace change; returns the namespace as it now is (`None` once deleted).
pub async fn apply(
    aws: Aws<'_>,
    change: &Change<'_, Namespaces>,
) -> Result<Option<ObservedNamespace>, AwsError> {
    match (change.verb, change.subject.first(), change.spec) {
        (Verb::Create, _, Some(spec)) => create(aws, spec, &change.tags, &change.token)
            .await
            .map(Some),
        (Verb::Update | Verb::Adopt, Some(ns), _) => {
            update(aws, ns, change.edits, &change.token).await.map(Some)
        }
        (Verb::Delete, Some(ns), _) => delete(aws, ns).await.map(|()| None),
        (verb, _, _) => Err(AwsError::local(
            "apply",
            ErrorClass::Other,
            format!("nothing to do for a {verb:?} plan without its namespace"),
        )),
    }
}

fn tag_list(tags: &ecs_topology_core::compact::Tags) -> Result<Vec<Tag>, AwsError> {
    tags.iter()
        .map(|(k, v)| {
            Tag::builder()
                .key(k.as_str())
                .value(v.as_str())
                .build()
                .map_err(|e| AwsError::local("TagResource", ErrorClass::Validation, e.to_string()))
        })
        .collect()
}

/// Creates a namespace with an idempotency token derived from the document, so that a retry after
/// a crash returns the first operation instead of a second namespace. Cloud Map remembers a token
/// after its namespace is gone; when the token's namespace no longer exists (it was deleted by
/// hand), the next token of a fixed sequence is used, which keeps retries idempotent too.
async fn create(
    aws: Aws<'_>,
    spec: &ecs_topology_core::model::CloudMapNamespaceSpec,
    tags: &ecs_topology_core::compact::Tags,
    token: &str,
) -> Result<ObservedNamespace, AwsError> {
    let mut last = None;
    for generation in 0..4 {
        let token = if generation == 0 {
            token.to_owned()
        } else {
            format!("{token}-{generation}")
        };
        match create_with(aws, spec, tags, &token).await {
            Err(e) if e.is_code("NamespaceNotFound") => last = Some(e),
            other => return other,
        }
    }
    Err(last.unwrap_or_else(|| {
        AwsError::local("CreateHttpNamespace", ErrorClass::Other, "no namespace")
    }))
}

async fn create_with(
    aws: Aws<'_>,
    spec: &ecs_topology_core::model::CloudMapNamespaceSpec,
    tags: &ecs_topology_core::compact::Tags,
    token: &str,
) -> Result<ObservedNamespace, AwsError> {
    let cm = &aws.clients.cloudmap;
    let tag_list = tag_list(tags)?;
    let description = normalise_text(spec.description.as_deref());
    let reply = aws
        .call("CreateHttpNamespace", ApiFamily::CloudMap, || {
            cm.create_http_namespace()
                .name(&spec.name)
                .set_description(description.clone())
                .set_tags(Some(tag_list.clone()))
                .creator_request_id(token)
                .send()
        })
        .await?;
    let operation = reply.operation_id.unwrap_or_default();
    let id = wait(aws, &operation).await?;
    let ns = aws
        .call("GetNamespace", ApiFamily::CloudMap, || {
            cm.get_namespace().id(&id).send()
        })
        .await?
        .namespace
        .ok_or_else(|| {
            AwsError::local(
                "GetNamespace",
                ErrorClass::Other,
                "no namespace in the reply",
            )
        })?;
    Ok(ObservedNamespace {
        id,
        arn: ns.arn().unwrap_or_default().to_owned(),
        name: ns.name().unwrap_or_default().to_owned(),
        description: normalise_text(ns.description()),
        tags: tags.clone(),
    })
}

/// Changes exactly the fields of `edits`: the description, then the tags.
async fn update(
    aws: Aws<'_>,
    ns: &ObservedNamespace,
    edits: &[Edit<NamespaceField>],
    token: &str,
) -> Result<ObservedNamespace, AwsError> {
    let cm = &aws.clients.cloudmap;
    let mut after = ns.clone();
    if let Some(edit) = edits
        .iter()
        .find(|e| e.field == NamespaceField::Description)
    {
        let description = edit.to.as_ref().and_then(|v| normalise_text(v.as_str()));
        let change = HttpNamespaceChange::builder()
            .description(description.clone().unwrap_or_default())
            .build()
            .map_err(|e| {
                AwsError::local("UpdateHttpNamespace", ErrorClass::Validation, e.to_string())
            })?;
        // One token per change, so that fixing the same drift again later is a new request.
        let updater = format!(
            "ecs-topology-{}",
            digest(&format!("{token}|{:?}|{:?}", ns.description, description))
        );
        let reply = aws
            .call("UpdateHttpNamespace", ApiFamily::CloudMap, || {
                cm.update_http_namespace()
                    .id(&ns.id)
                    .updater_request_id(&updater)
                    .namespace(change.clone())
                    .send()
            })
            .await?;
        wait(aws, reply.operation_id().unwrap_or_default()).await?;
        after.description = description;
    }
    let tags = TagEdits::of(edits);
    if !tags.put.is_empty() {
        let list = tag_list(&tags.put)?;
        aws.call("TagResource", ApiFamily::CloudMap, || {
            cm.tag_resource()
                .resource_arn(&ns.arn)
                .set_tags(Some(list.clone()))
                .send()
        })
        .await?;
    }
    if !tags.remove.is_empty() {
        aws.call("UntagResource", ApiFamily::CloudMap, || {
            cm.untag_resource()
                .resource_arn(&ns.arn)
                .set_tag_keys(Some(tags.remove.clone()))
                .send()
        })
        .await?;
    }
    after.tags = tags.applied_to(&ns.tags);
    Ok(after)
}

async fn delete(aws: Aws<'_>, ns: &ObservedNamespace) -> Result<(), AwsError> {
    let cm = &aws.clients.cloudmap;
    match aws
        .call("DeleteNamespace", ApiFamily::CloudMap, || {
            cm.delete_namespace().id(&ns.id).send()
        })
        .await
    {
        Ok(reply) => wait(aws, reply.operation_id().unwrap_or_default())
            .await
            .map(|_| ()),
        Err(e) if e.is_code("NamespaceNotFound") => Ok(()),
        Err(e) => Err(e),
    }
}

/// Waits for a Cloud Map operation to succeed; returns the namespace id it names.
async fn wait(aws: Aws<'_>, operation: &str) -> Result<String, AwsError> {
    let cm = &aws.clients.cloudmap;
    let started = tokio::time::Instant::now();
    let mut pause = Duration::from_millis(200);
    loop {
        let reply = aws
            .call("GetOperation", ApiFamily::CloudMap, || {
                cm.get_operation().operation_id(operation).send()
            })
            .await?;
        let Some(op) = reply.operation else {
            return Err(AwsError::local(
                "GetOperation",
                ErrorClass::Other,
                "no operation in the reply",
            ));
        };
        match op.status() {
            Some(OperationStatus::Success) => {
                let id = op
                    .targets()
                    .and_then(|t| t.get(&OperationTargetType::Namespace))
                    .cloned()
                    .unwrap_or_default();
                return Ok(id);
            }
            Some(OperationStatus::Fail) => {
                return Err(AwsError {
                    operation: "GetOperation",
                    class: ErrorClass::Other,
                    code: op.error_code().map(str::to_owned),
                    message: format!(
                        "operation {operation} failed: {}",
                        op.error_message().unwrap_or("no reason given")
                    ),
                });
            }
            _ if started.elapsed() > OPERATION_TIMEOUT => {
                return Err(AwsError::local(
                    "GetOperation",
                    ErrorClass::Transient,
                    format!(
                        "operation {operation} still running after {}s",
                        OPERATION_TIMEOUT.as_secs()
                    ),
                ));
            }
            _ => {
                tokio::time::sleep(pause).await;
                pause = (pause * 3 / 2).min(Duration::from_secs(5));
            }
        }
    }
}
