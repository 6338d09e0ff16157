//! Carrying out a peering plan across its two accounts.
//!
//! # Guarantees
//! - A create first looks for a connection of this document (by its key tag, in any live state)
//!   and takes it: `CreateVpcPeeringConnection` has no client token, so a crash between the
//!   request and its record never makes a second connection. The request carries the owner and
//!   key tags in `TagSpecifications`.
//! - Acceptance and the accepter's DNS option are sent with the accepter account's clients, in
//!   its region; the requester's option, the connection's tags, its deletion and everything of
//!   the requester's route tables with the requester's.
//! - Tags change before anything else, so a connection taken over is the document's before it
//!   is touched. A connection waiting for its acceptance is accepted, then waited on until it is
//!   `active` (at most [`ACTIVE_TIMEOUT`]); DNS options and routes follow only once it is. A
//!   connection still provisioning after that is left for the next reconcile, which waits.
//! - A deletion removes, on both sides, only the routes that target this connection, then the
//!   connection; a connection already gone counts as deleted.
//! - The result is the connection as it now is and every route table the change touched.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use aws_sdk_ec2::types::{PeeringConnectionOptionsRequest, ResourceType, Tag, TagSpecification};
use ecs_topology_core::engine::{Change, Scope};
use ecs_topology_core::kinds::peering::{
    NewPeering, ObservedPeering, ObservedRouteTable, PeeringApplied, PeeringField, PeeringLife,
    Peerings, RouteTarget, Side,
};
use ecs_topology_core::model::{KEY_TAG, OWNER_TAG};
use ecs_topology_core::plan::{TagEdits, Verb};
use serde_json::Value;

use super::observe::{describe, filter, observed, route_tables};
use crate::call::{Aws, AwsError};
use crate::{ApiFamily, ErrorClass};

/// How long a new or accepted connection is waited on until it is active.
pub(super) const ACTIVE_TIMEOUT: Duration = Duration::from_secs(120);

/// The longest pause between two looks.
const MAX_PAUSE: Duration = Duration::from_secs(10);

/// The states a connection may still become active from, or is (what a create never repeats).
const LIVE_STATES: [&str; 4] = [
    "initiating-request",
    "pending-acceptance",
    "provisioning",
    "active",
];

pub(super) async fn carry_out(
    requester: Aws<'_>,
    accepter: Aws<'_>,
    change: &Change<'_, Peerings>,
) -> Result<PeeringApplied, AwsError> {
    if change.verb == Verb::Delete {
        return delete(requester, accepter, change).await;
    }
    let aws_of = |side: Side| match side {
        Side::Requester => requester,
        Side::Accepter => accepter,
    };
    let new = change.edits.iter().find_map(|e| match &e.field {
        PeeringField::Connection { create: Some(new) } => Some(new.as_ref()),
        _ => None,
    });
    let mut connection = match (change.subject.first(), new) {
        (Some(c), _) => c.clone(),
        (None, Some(new)) => create(requester, change, new).await?,
        (None, None) => {
            return Err(AwsError::local(
                "CreateVpcPeeringConnection",
                ErrorClass::Other,
                "a peering change without a connection to act on",
            ));
        }
    };
    let tags = TagEdits::of(change.edits);
    crate::ec2::retag(requester, &connection.id, &tags).await?;
    connection.tags = tags.applied_to(&connection.tags);

    if connection.life() == PeeringLife::Initiating {
        connection = wait(requester, &connection.id, |c| {
            c.life() != PeeringLife::Initiating
        })
        .await?
        .unwrap_or(connection);
    }
    if connection.life() == PeeringLife::Pending {
        accept(accepter, &connection.id).await?;
        connection = wait(requester, &connection.id, |c| {
            c.life() != PeeringLife::Provisioning && c.life() != PeeringLife::Pending
        })
        .await?
        .unwrap_or(connection);
    }
    if connection.life() == PeeringLife::Provisioning {
        connection = wait(requester, &connection.id, |c| {
            c.life() != PeeringLife::Provisioning
        })
        .await?
        .unwrap_or(connection);
    }
    if connection.life() != PeeringLife::Active {
        return Ok(PeeringApplied {
            connection: Some(connection),
            route_tables: Vec::new(),
        });
    }

    let mut options_changed = false;
    for edit in change.edits {
        if let PeeringField::DnsResolution { side, .. } = &edit.field {
            let enable = edit.to == Some(Value::Bool(true));
            dns(aws_of(*side), &connection.id, *side, enable).await?;
            options_changed = true;
        }
    }
    let mut touched: BTreeMap<(Side, Scope), BTreeSet<String>> = BTreeMap::new();
    for edit in change.edits {
        if let PeeringField::Route {
            side,
            scope,
            route_table,
            destination,
            replace,
        } = &edit.field
        {
            route(
                aws_of(*side),
                route_table,
                destination,
                &connection.id,
                *replace,
            )
            .await?;
            touched
                .entry((*side, scope.clone()))
                .or_default()
                .insert(route_table.clone());
        }
    }
    if options_changed {
        connection = by_id(requester, &connection.id)
            .await?
            .unwrap_or(connection);
    }
    let mut tables = Vec::new();
    for ((side, scope), ids) in touched {
        let found = route_tables(aws_of(side), vec![filter("route-table-id", ids)]).await?;
        tables.extend(found.into_iter().map(|t| (scope.clone(), t)));
    }
    Ok(PeeringApplied {
        connection: Some(connection),
        route_tables: tables,
    })
}

/// The document's live connection if there is one (a request whose record was lost), else a new
/// request.
async fn create(
    aws: Aws<'_>,
    change: &Change<'_, Peerings>,
    new: &NewPeering,
) -> Result<ObservedPeering, AwsError> {
    let mine = describe(
        aws,
        vec![
            filter(&format!("tag:{KEY_TAG}"), [change.key.to_string()]),
            filter(&format!("tag:{OWNER_TAG}"), [change.controller]),
            filter("status-code", LIVE_STATES),
        ],
    )
    .await?;
    if let Some(found) = mine
        .into_iter()
        .find(|c| c.requester.vpc_id == new.requester_vpc && c.accepter.vpc_id == new.accepter_vpc)
    {
        return Ok(found);
    }
    let tags: Vec<Tag> = new
        .tags
        .iter()
        .map(|(k, v)| Tag::builder().key(k.as_str()).value(v.as_str()).build())
        .collect();
    let ec2 = &aws.clients.ec2;
    let reply = aws
        .call("CreateVpcPeeringConnection", ApiFamily::Ec2Mutate, || {
            ec2.create_vpc_peering_connection()
                .vpc_id(&new.requester_vpc)
                .peer_vpc_id(&new.accepter_vpc)
                .peer_owner_id(&new.accepter.account)
                .peer_region(&new.accepter.region)
                .tag_specifications(
                    TagSpecification::builder()
                        .resource_type(ResourceType::VpcPeeringConnection)
                        .set_tags(Some(tags.clone()))
                        .build(),
                )
                .send()
        })
        .await?;
    reply
        .vpc_peering_connection()
        .and_then(observed)
        .ok_or_else(|| {
            AwsError::local(
                "CreateVpcPeeringConnection",
                ErrorClass::Other,
                "the reply names no connection",
            )
        })
}

async fn accept(aws: Aws<'_>, id: &str) -> Result<(), AwsError> {
    let ec2 = &aws.clients.ec2;
    aws.call("AcceptVpcPeeringConnection", ApiFamily::Ec2Mutate, || {
        ec2.accept_vpc_peering_connection()
            .vpc_peering_connection_id(id)
            .send()
    })
    .await?;
    Ok(())
}

/// Sets one side's DNS resolution option, from that side's account.
async fn dns(aws: Aws<'_>, id: &str, side: Side, enable: bool) -> Result<(), AwsError> {
    let options = PeeringConnectionOptionsRequest::builder()
        .allow_dns_resolution_from_remote_vpc(enable)
        .build();
    let ec2 = &aws.clients.ec2;
    aws.call(
        "ModifyVpcPeeringConnectionOptions",
        ApiFamily::Ec2Mutate,
        || {
            let call = ec2
                .modify_vpc_peering_connection_options()
                .vpc_peering_connection_id(id);
            match side {
                Side::Requester => call.requester_peering_connection_options(options.clone()),
                Side::Accepter => call.accepter_peering_connection_options(options.clone()),
            }
            .send()
        },
    )
    .await?;
    Ok(())
}

async fn route(
    aws: Aws<'_>,
    table: &str,
    destination: &str,
    id: &str,
    replace: bool,
) -> Result<(), AwsError> {
    let ec2 = &aws.clients.ec2;
    if replace {
        aws.call("ReplaceRoute", ApiFamily::Ec2Mutate, || {
            ec2.replace_route()
                .route_table_id(table)
                .destination_cidr_block(destination)
                .vpc_peering_connection_id(id)
                .send()
        })
        .await?;
    } else {
        aws.call("CreateRoute", ApiFamily::Ec2Mutate, || {
            ec2.create_route()
                .route_table_id(table)
                .destination_cidr_block(destination)
                .vpc_peering_connection_id(id)
                .send()
        })
        .await?;
    }
    Ok(())
}

/// Removes the routes that target the subject connection on both sides, then the connection.
async fn delete(
    requester: Aws<'_>,
    accepter: Aws<'_>,
    change: &Change<'_, Peerings>,
) -> Result<PeeringApplied, AwsError> {
    let mut tables = Vec::new();
    for c in change.subject {
        let mut sides = vec![(requester, change.scope.clone())];
        let other = Scope::new(c.accepter.account.clone(), c.accepter.region.clone());
        if other != *change.scope {
            sides.push((accepter, other));
        }
        for (aws, scope) in sides {
            let found = route_tables(
                aws,
                vec![filter("route.vpc-peering-connection-id", [c.id.as_str()])],
            )
            .await?;
            let mut ids = BTreeSet::new();
            for table in &found {
                for (destination, r) in &table.routes {
                    if r.target == RouteTarget::Peering(c.id.clone()) {
                        delete_route(aws, &table.id, destination).await?;
                        ids.insert(table.id.clone());
                    }
                }
            }
            if !ids.is_empty() {
                let now = route_tables(aws, vec![filter("route-table-id", ids)]).await?;
                tables.extend(
                    now.into_iter()
                        .map(|t: ObservedRouteTable| (scope.clone(), t)),
                );
            }
        }
        let ec2 = &requester.clients.ec2;
        let deleted = requester
            .call("DeleteVpcPeeringConnection", ApiFamily::Ec2Mutate, || {
                ec2.delete_vpc_peering_connection()
                    .vpc_peering_connection_id(&c.id)
                    .send()
            })
            .await;
        match deleted {
            Ok(_) => {}
            // Already gone (deleted by hand, or ended).
            Err(e)
                if e.is_code("InvalidVpcPeeringConnectionID.NotFound")
                    || e.is_code("InvalidStateTransition") => {}
            Err(e) => return Err(e),
        }
    }
    Ok(PeeringApplied {
        connection: None,
        route_tables: tables,
    })
}

async fn delete_route(aws: Aws<'_>, table: &str, destination: &str) -> Result<(), AwsError> {
    let ec2 = &aws.clients.ec2;
    let deleted = aws
        .call("DeleteRoute", ApiFamily::Ec2Mutate, || {
            ec2.delete_route()
                .route_table_id(table)
                .destination_cidr_block(destination)
                .send()
        })
        .await;
    match deleted {
        Err(e) if !e.is_code("InvalidRoute.NotFound") => Err(e),
        _ => Ok(()),
    }
}

/// The connection as its requester now sees it (`None` when AWS no longer lists it).
async fn by_id(aws: Aws<'_>, id: &str) -> Result<Option<ObservedPeering>, AwsError> {
    let found = describe(aws, vec![filter("vpc-peering-connection-id", [id])]).await?;
    Ok(found.into_iter().find(|c| c.id == id))
}

/// Looks at the connection until `done` holds of it, at most [`ACTIVE_TIMEOUT`]; the last look.
async fn wait(
    aws: Aws<'_>,
    id: &str,
    done: impl Fn(&ObservedPeering) -> bool,
) -> Result<Option<ObservedPeering>, AwsError> {
    let started = tokio::time::Instant::now();
    let mut pause = Duration::from_millis(200);
    loop {
        let now = by_id(aws, id).await?;
        if now.as_ref().is_none_or(&done) || started.elapsed() >= ACTIVE_TIMEOUT {
            return Ok(now);
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 3 / 2).min(MAX_PAUSE);
    }
}
