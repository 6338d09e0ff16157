//! Carrying out an endpoint-set plan (sorted into calls by [`super::work`]).
//!
//! # Guarantees
//! - Deletions (replacements included) go first, in one `DeleteVpcEndpoints` call; an endpoint
//!   already gone counts as deleted. A replacement in the same VPC is created once the endpoint
//!   it replaces is gone, so that the two never claim the same private DNS name.
//! - `ecs-agent`, `ecs-telemetry` and `ecs` are created in that order, each once the previous
//!   create returned, as AWS needs when container instances exist. The other creates and the
//!   changes in place run beside them, at most [`IN_FLIGHT`] at once, and every call draws on the
//!   rate budget of its family.
//! - A create carries a `ClientToken` derived from the change's token, the service and the
//!   endpoint it replaces, so a retry after a crash returns the endpoint made first. When that
//!   endpoint has been deleted since, the next token of a fixed sequence is used.
//! - Tags change before anything else of an endpoint, so an endpoint taken over is the set's
//!   before its fields are touched.
//! - New and changed endpoints are waited on while `pending` (at most
//!   [`SETTLE_TIMEOUT`](super::settle::SETTLE_TIMEOUT)); the result is every endpoint of the set
//!   as it now is, still `pending` ones included.
//! - A failed deletion stops the change before anything is created; otherwise every create and
//!   change in place is attempted, and the first failure is returned.

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_ec2::types::{ResourceType, Tag, TagSpecification, VpcEndpointType};
use ecs_topology_core::engine::{Change, digest};
use ecs_topology_core::kinds::endpoints::{EndpointAttribute, EndpointField, EndpointSets};
use ecs_topology_core::observed::{EndpointType, ObservedEndpoint};
use ecs_topology_core::plan::{Edit, TagEdits, string_set};
use futures::stream::{self, StreamExt};
use serde_json::Value;

use super::observe::observed;
use super::settle::{settle, wait_gone};
use super::work::{Create, Job, Update, Work, compact, gone};
use crate::call::{Aws, AwsError};
use crate::{ApiFamily, ErrorClass, FromAws};

/// Endpoint changes in flight at once in one set (EC2 takes about four at a time).
const IN_FLIGHT: usize = 4;

pub(super) async fn carry_out(
    aws: Aws<'_>,
    change: &Change<'_, EndpointSets>,
) -> Result<Vec<ObservedEndpoint>, AwsError> {
    let work = Work::read(change)?;
    delete(aws, &work.deletes).await?;
    let replaced_here: BTreeSet<String> = work
        .creates
        .iter()
        .filter(|c| c.replaced_vpc == Some(c.endpoint.vpc_id.as_str()))
        .filter_map(|c| c.replaces.map(str::to_owned))
        .collect();
    wait_gone(aws, &replaced_here).await?;

    let jobs: Vec<_> = work
        .jobs()
        .into_iter()
        .map(|job| run(aws, change, job))
        .collect();
    let results: Vec<Result<Vec<Touched>, AwsError>> = stream::iter(jobs)
        .buffer_unordered(IN_FLIGHT)
        .collect()
        .await;
    let mut touched: BTreeMap<String, Option<ObservedEndpoint>> = BTreeMap::new();
    let mut failure = None;
    for result in results {
        match result {
            Ok(list) => touched.extend(list),
            Err(e) => {
                failure.get_or_insert(e);
            }
        }
    }
    if let Some(e) = failure {
        return Err(e);
    }
    let deleted: BTreeSet<&str> = work.deletes.iter().map(String::as_str).collect();
    let untouched: Vec<&ObservedEndpoint> = change
        .subject
        .iter()
        .filter(|ep| {
            !gone(ep) && !deleted.contains(ep.id.as_str()) && !touched.contains_key(&ep.id)
        })
        .collect();
    // Endpoints of the set still pending from an earlier change are waited on as well.
    for ep in &untouched {
        if ep.state == "pending" {
            touched.insert(ep.id.clone(), None);
        }
    }
    let now = settle(aws, touched).await?;
    let mut after: Vec<ObservedEndpoint> = untouched
        .into_iter()
        .filter(|ep| !now.contains_key(&ep.id))
        .cloned()
        .collect();
    after.extend(now.into_values().filter(|ep| ep.state != "deleted"));
    Ok(after)
}

/// An endpoint created or changed: its id, and its state when known without reading it again.
type Touched = (String, Option<ObservedEndpoint>);

async fn run(
    aws: Aws<'_>,
    change: &Change<'_, EndpointSets>,
    job: Job<'_, '_>,
) -> Result<Vec<Touched>, AwsError> {
    match job {
        Job::Create(creates) => {
            let mut out = Vec::new();
            for c in creates {
                let ep = create(aws, change, c).await?;
                out.push((ep.id.clone(), Some(ep)));
            }
            Ok(out)
        }
        Job::Update(update) => Ok(vec![modify(aws, update).await?]),
    }
}

/// The idempotency token of one endpoint's create: at most 64 characters, the same for the same
/// change, service, endpoint replaced and generation.
fn client_token(token: &str, short: &str, replaces: Option<&str>, generation: u32) -> String {
    let head: String = token.chars().take(47).collect();
    let seed = format!("{short}|{}|{generation}", replaces.unwrap_or(""));
    format!("{head}-{}", digest(&seed))
}

async fn create(
    aws: Aws<'_>,
    change: &Change<'_, EndpointSets>,
    c: &Create<'_>,
) -> Result<ObservedEndpoint, AwsError> {
    let ec2 = &aws.clients.ec2;
    let v = c.endpoint;
    let (service, vpc) = (v.service_name.as_str(), v.vpc_id.as_str());
    let interface = v.endpoint_type == EndpointType::Interface;
    let endpoint_type = if interface {
        VpcEndpointType::Interface
    } else {
        VpcEndpointType::Gateway
    };
    let policy = v.policy.as_ref().map(compact);
    let tags = TagSpecification::builder()
        .resource_type(ResourceType::VpcEndpoint)
        .set_tags(Some(
            change
                .tags
                .iter()
                .map(|(k, v)| Tag::builder().key(k.as_str()).value(v.as_str()).build())
                .collect(),
        ))
        .build();
    let list = |ids: &BTreeSet<String>| Some(ids.iter().cloned().collect::<Vec<_>>());
    let (subnets, groups, tables) = if interface {
        (list(&v.subnet_ids), list(&v.security_group_ids), None)
    } else {
        (None, None, list(&v.route_table_ids))
    };
    let private_dns = interface.then_some(v.private_dns);
    for generation in 0..4 {
        let token = client_token(&change.token, c.short, c.replaces, generation);
        let reply = aws
            .call("CreateVpcEndpoint", ApiFamily::Ec2VpcEndpointMutate, || {
                ec2.create_vpc_endpoint()
                    .vpc_id(vpc)
                    .service_name(service)
                    .vpc_endpoint_type(endpoint_type.clone())
                    .set_subnet_ids(subnets.clone())
                    .set_security_group_ids(groups.clone())
                    .set_route_table_ids(tables.clone())
                    .set_private_dns_enabled(private_dns)
                    .set_policy_document(policy.clone())
                    .tag_specifications(tags.clone())
                    .client_token(token)
                    .send()
            })
            .await?;
        let Some(mut ep) = reply.vpc_endpoint.as_ref().and_then(observed) else {
            return Err(AwsError::local(
                "CreateVpcEndpoint",
                ErrorClass::Other,
                "no endpoint in the reply",
            ));
        };
        if gone(&ep) {
            // The token's endpoint was deleted since: the next token makes a new one.
            continue;
        }
        if ep.tags.is_empty() {
            ep.tags = change.tags.clone();
        }
        return Ok(ep);
    }
    Err(AwsError::local(
        "CreateVpcEndpoint",
        ErrorClass::Conflict,
        format!(
            "every idempotency token of the `{}` endpoint names a deleted endpoint",
            c.short
        ),
    ))
}

/// The values to add and to remove to go from a change's `from` list to its `to` list.
fn difference(c: &Edit<EndpointField>) -> (Vec<String>, Vec<String>) {
    let from = string_set(c.from.as_ref());
    let to = string_set(c.to.as_ref());
    (
        to.difference(&from).cloned().collect(),
        from.difference(&to).cloned().collect(),
    )
}

fn non_empty(list: Vec<String>) -> Option<Vec<String>> {
    (!list.is_empty()).then_some(list)
}

/// Changes one endpoint in place: tags first, then one `ModifyVpcEndpoint` for everything else.
async fn modify(aws: Aws<'_>, update: &Update<'_>) -> Result<Touched, AwsError> {
    let ec2 = &aws.clients.ec2;
    let ep = update.endpoint;
    let mut now = ep.clone();
    let tags = TagEdits::of(update.changes.iter().map(|(_, c)| *c));
    crate::ec2::retag(aws, &ep.id, &tags).await?;
    now.tags = tags.applied_to(&now.tags);
    let mut request = ec2.modify_vpc_endpoint().vpc_endpoint_id(&ep.id);
    let mut modified = false;
    for (field, c) in &update.changes {
        modified |= !matches!(field, EndpointAttribute::Tag(_));
        request = match field {
            EndpointAttribute::SubnetIds => {
                let (add, remove) = difference(c);
                request
                    .set_add_subnet_ids(non_empty(add))
                    .set_remove_subnet_ids(non_empty(remove))
            }
            EndpointAttribute::SecurityGroupIds => {
                let (add, remove) = difference(c);
                request
                    .set_add_security_group_ids(non_empty(add))
                    .set_remove_security_group_ids(non_empty(remove))
            }
            EndpointAttribute::RouteTableIds => {
                let (add, remove) = difference(c);
                request
                    .set_add_route_table_ids(non_empty(add))
                    .set_remove_route_table_ids(non_empty(remove))
            }
            EndpointAttribute::PrivateDns => {
                request.set_private_dns_enabled(c.to.as_ref().and_then(Value::as_bool))
            }
            // No policy wanted: back to AWS's default full-access policy.
            EndpointAttribute::Policy => match c.to.as_ref() {
                Some(policy) => request.policy_document(compact(policy)),
                None => request.reset_policy(true),
            },
            EndpointAttribute::Tag(_) => request,
        };
    }
    if !modified {
        return Ok((ep.id.clone(), Some(now)));
    }
    aws.call("ModifyVpcEndpoint", ApiFamily::Ec2VpcEndpointMutate, || {
        request.send()
    })
    .await?;
    Ok((ep.id.clone(), None))
}

/// Deletes endpoints in one call; one AWS no longer knows counts as deleted.
async fn delete(aws: Aws<'_>, ids: &[String]) -> Result<(), AwsError> {
    if ids.is_empty() {
        return Ok(());
    }
    let ec2 = &aws.clients.ec2;
    let reply = aws
        .call(
            "DeleteVpcEndpoints",
            ApiFamily::Ec2VpcEndpointMutate,
            || {
                ec2.delete_vpc_endpoints()
                    .set_vpc_endpoint_ids(Some(ids.to_vec()))
                    .send()
            },
        )
        .await?;
    let mut class = None;
    let failed: Vec<String> = reply
        .unsuccessful()
        .iter()
        .filter_map(|item| {
            let error = item.error();
            let code = error.and_then(|e| e.code());
            let item_class = ErrorClass::from_code_and_status(code, None);
            if item_class == ErrorClass::NotFound {
                return None;
            }
            class.get_or_insert(item_class);
            Some(format!(
                "{}: {}",
                item.resource_id().unwrap_or("?"),
                error.and_then(|e| e.message()).or(code).unwrap_or("failed")
            ))
        })
        .collect();
    match class {
        None => Ok(()),
        Some(class) => Err(AwsError::local(
            "DeleteVpcEndpoints",
            class,
            failed.join("; "),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_tokens_are_short_stable_and_differ_per_service_and_replacement() {
        let token = "ecs-topology-0123456789abcdef";
        let agent = client_token(token, "ecs-agent", None, 0);
        assert_eq!(agent, client_token(token, "ecs-agent", None, 0));
        assert_ne!(agent, client_token(token, "ecs", None, 0));
        assert_ne!(agent, client_token(token, "ecs-agent", Some("vpce-1"), 0));
        assert_ne!(agent, client_token(token, "ecs-agent", None, 1));
        assert!(client_token(&"x".repeat(200), "ecr.api", Some("vpce-1"), 3).len() <= 64);
    }
}
