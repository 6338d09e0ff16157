//! The kinds of document the controller manages, one module each, registered here once.
//!
//! A kind's module holds its [`Resource`](crate::engine::Resource): its observed objects, its
//! batched observation of one (account, region), its pure plan into typed edits, readiness, the
//! AWS facts in status, and its port of the [`Cloud`] (what the AWS side implements for it).
//!
//! Adding a kind adds its module and one line in each of the three lists below: [`for_kind!`],
//! [`Cloud`] and [`Observation`].

pub mod binding;
pub mod endpoints;
pub mod express;
pub mod namespace;
pub mod peering;
pub mod share;

use std::collections::{BTreeMap, BTreeSet};

use crate::engine::{Objects, Scope};
use crate::model::Kind;
use crate::observed::{ObservedEndpoint, ObservedExpressService, ObservedNamespace, ObservedShare};
use crate::status::ErrorInfo;

/// Evaluates `$body` with `$R` standing for the [`Resource`](crate::engine::Resource) of
/// `$kind`: the engine's one way from a kind to its code.
macro_rules! for_kind {
    ($kind:expr, $R:ident => $body:expr) => {
        match $kind {
            $crate::model::Kind::CloudMapNamespace => {
                type $R = $crate::kinds::namespace::Namespaces;
                $body
            }
            $crate::model::Kind::NamespaceShare => {
                type $R = $crate::kinds::share::Shares;
                $body
            }
            $crate::model::Kind::VpcEndpointSet => {
                type $R = $crate::kinds::endpoints::EndpointSets;
                $body
            }
            $crate::model::Kind::ExpressService => {
                type $R = $crate::kinds::express::ExpressServices;
                $body
            }
            $crate::model::Kind::VpcPeering => {
                type $R = $crate::kinds::peering::Peerings;
                $body
            }
            $crate::model::Kind::ServiceConnectBinding => {
                type $R = $crate::kinds::binding::Bindings;
                $body
            }
        }
    };
}
pub(crate) use for_kind;

/// The cloud as the engine needs it: each kind's port. The AWS side implements every port; a
/// test double may too.
pub trait Cloud:
    namespace::NamespaceCloud
    + share::ShareCloud
    + endpoints::EndpointCloud
    + express::ExpressCloud
    + peering::PeeringCloud
    + binding::BindingCloud
    + Send
    + Sync
    + 'static
{
}

impl<T> Cloud for T where
    T: namespace::NamespaceCloud
        + share::ShareCloud
        + endpoints::EndpointCloud
        + express::ExpressCloud
        + peering::PeeringCloud
        + binding::BindingCloud
        + Send
        + Sync
        + 'static
{
}

/// Live state of every observed scope.
#[derive(Debug, Clone, Default)]
pub struct Observation {
    pub namespaces: Objects<ObservedNamespace>,
    pub shares: Objects<ObservedShare>,
    /// VPC endpoints tagged by this controller, and unowned look-alikes of sets that miss some.
    pub endpoints: Objects<ObservedEndpoint>,
    /// Express services (ECS-managed services) of the clusters the documents name.
    pub express: Objects<ObservedExpressService>,
    /// VPC peering connections tagged by this controller, as their requesters see them.
    pub peerings: Objects<peering::ObservedPeering>,
    /// The route tables and VPCs that peering documents name, by the scope they live in.
    pub networks: BTreeMap<Scope, peering::Network>,
    /// The ECS services that bindings name or this controller claimed for one.
    pub bindings: Objects<binding::ObservedBoundService>,
    /// ARNs of the namespaces that other accounts share with the scope's account, as seen from
    /// it; absent where the controller cannot look (no role for that account).
    pub visible: BTreeMap<Scope, BTreeSet<String>>,
    /// Observations that failed: nothing is planned for those scopes and kinds.
    pub failed: BTreeMap<(Scope, Kind), ErrorInfo>,
}

impl Observation {
    /// An empty observation for the controller named `controller` (whose objects it indexes).
    pub fn new(controller: &str) -> Observation {
        Observation {
            namespaces: Objects::new(controller),
            shares: Objects::new(controller),
            endpoints: Objects::new(controller),
            express: Objects::new(controller),
            peerings: Objects::new(controller),
            networks: BTreeMap::new(),
            bindings: Objects::new(controller),
            visible: BTreeMap::new(),
            failed: BTreeMap::new(),
        }
    }

    /// Why `kind` could not be observed in `scope`, if it could not.
    pub fn failure(&self, scope: &Scope, kind: Kind) -> Option<&ErrorInfo> {
        self.failed.get(&(scope.clone(), kind))
    }
}
