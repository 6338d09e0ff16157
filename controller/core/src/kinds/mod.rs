//! The kinds of document the controller manages, one module each, registered here once.
//!
//! A kind's module holds its [`Resource`](crate::engine::Resource): its observed objects, its
//! batched observation of one (account, region), its pure plan into typed edits, readiness, the
//! AWS facts in status, and its port of the [`Cloud`] (what the AWS side implements for it).
//!
//! Adding a kind adds its modules (its spec in [`crate::model`], its `Resource` here, its port's
//! implementation on the AWS side) and one line in the [`registry!`] below, which makes the
//! [`Kind`] and [`Document`] enums, the [`Cloud`], the [`Observation`]'s field and the engine's
//! dispatch ([`for_kind!`]) from it.

pub mod binding;
pub mod endpoints;
pub mod express;
pub mod namespace;
pub mod peering;
pub mod share;

use std::collections::{BTreeMap, BTreeSet};

use crate::engine::{Objects, Scope};
use crate::model::{Manifest, Metadata, Spec};
use crate::observed::{ObservedEndpoint, ObservedExpressService, ObservedNamespace, ObservedShare};
use crate::status::ErrorInfo;

/// Declares the kinds, once: from one line a kind, it makes the [`Kind`] and [`Document`]
/// enums, the [`Cloud`] (every kind's port), the per-kind fields of the [`Observation`], each
/// kind's [`Registered`](crate::engine::Registered) plumbing and [`for_kind!`], the engine's one
/// way from a kind to its code.
///
/// A line reads `Kind(Spec) => module::Resource + Port, field: ObservedObject;`. `$d` is a `$`,
/// for the macro this one writes.
macro_rules! registry {
    ($d:tt $(
        $(#[$meta:meta])*
        $kind:ident($spec:ty) => $module:ident::$resource:ident + $port:ident,
        $(#[$field_meta:meta])* $field:ident: $object:ty;
    )*) => {
        /// The kinds of document, in dependency order (a share needs its namespace).
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize,
            serde::Deserialize,
        )]
        pub enum Kind {
            $($(#[$meta])* $kind,)*
        }

        impl Kind {
            /// Every kind, in dependency order.
            pub const ALL: [Kind; [$(stringify!($kind)),*].len()] = [$(Kind::$kind),*];

            pub fn as_str(self) -> &'static str {
                match self {
                    $(Kind::$kind => stringify!($kind),)*
                }
            }

            /// The lower-case plural used by the CustomResourceDefinition.
            pub fn plural(self) -> &'static str {
                match self {
                    $(Kind::$kind => <$spec as Spec>::PLURAL,)*
                }
            }

            /// Short names for `kubectl get`.
            pub fn short_names(self) -> &'static [&'static str] {
                match self {
                    $(Kind::$kind => <$spec as Spec>::SHORT_NAMES,)*
                }
            }
        }

        /// A document of any kind.
        #[derive(Debug, Clone, PartialEq, serde::Serialize)]
        #[serde(untagged)]
        pub enum Document {
            $($kind(Box<Manifest<$spec>>),)*
        }

        impl Document {
            pub fn kind(&self) -> Kind {
                match self {
                    $(Document::$kind(_) => Kind::$kind,)*
                }
            }

            pub fn metadata(&self) -> &Metadata {
                match self {
                    $(Document::$kind(m) => &m.metadata,)*
                }
            }

            /// The account (alias or 12-digit id) the document's object lives in.
            pub fn account(&self) -> &str {
                match self {
                    $(Document::$kind(m) => m.spec.account(),)*
                }
            }

            /// The region the document's object lives in.
            pub fn region(&self) -> &str {
                match self {
                    $(Document::$kind(m) => m.spec.region(),)*
                }
            }
        }

        /// Evaluates `$body` with `$R` standing for the [`Resource`](crate::engine::Resource)
        /// of `$kind`.
        macro_rules! for_kind {
            ($d k:expr, $d R:ident => $d body:expr) => {
                match $d k {
                    $($crate::model::Kind::$kind => {
                        type $d R = $crate::kinds::$module::$resource;
                        $d body
                    })*
                }
            };
        }

        /// The cloud as the engine needs it: each kind's port. The AWS side implements every
        /// port; a test double may too.
        pub trait Cloud: $($module::$port +)* Send + Sync + 'static {}

        impl<T> Cloud for T where T: $($module::$port +)* Send + Sync + 'static {}

        /// Live state of every observed scope.
        #[derive(Debug, Clone, Default)]
        pub struct Observation {
            $($(#[$field_meta])* pub $field: Objects<$object>,)*
            /// The route tables and VPCs that peering documents name, by the scope they live in.
            pub networks: BTreeMap<Scope, peering::Network>,
            /// ARNs of the namespaces that other accounts share with the scope's account, as
            /// seen from it; absent where the controller cannot look (no role for that account).
            pub visible: BTreeMap<Scope, BTreeSet<String>>,
            /// Observations that failed: nothing is planned for those scopes and kinds.
            pub failed: BTreeMap<(Scope, Kind), ErrorInfo>,
        }

        impl Observation {
            /// An empty observation for the controller named `controller` (whose objects it
            /// indexes).
            pub fn new(controller: &str) -> Observation {
                Observation {
                    $($field: Objects::new(controller),)*
                    networks: BTreeMap::new(),
                    visible: BTreeMap::new(),
                    failed: BTreeMap::new(),
                }
            }
        }

        $(impl $crate::engine::Registered for $module::$resource {
            const KIND: Kind = Kind::$kind;
            type Spec = $spec;
            type Object = $object;

            fn spec(document: &Document) -> Option<&$spec> {
                match document {
                    Document::$kind(m) => Some(&m.spec),
                    _ => None,
                }
            }

            fn document(manifest: Manifest<$spec>) -> Document {
                Document::$kind(Box::new(manifest))
            }

            fn objects(observation: &Observation) -> &Objects<$object> {
                &observation.$field
            }

            fn objects_mut(observation: &mut Observation) -> &mut Objects<$object> {
                &mut observation.$field
            }
        })*
    };
}

registry! { $
    /// A Cloud Map HTTP namespace.
    CloudMapNamespace(crate::model::CloudMapNamespaceSpec) => namespace::Namespaces + NamespaceCloud,
        namespaces: ObservedNamespace;
    /// A RAM share of a namespace with other accounts.
    NamespaceShare(crate::model::NamespaceShareSpec) => share::Shares + ShareCloud,
        shares: ObservedShare;
    /// The VPC endpoints of one VPC.
    VpcEndpointSet(crate::model::VpcEndpointSetSpec) => endpoints::EndpointSets + EndpointCloud,
        /// VPC endpoints tagged by this controller, and unowned look-alikes of sets that miss
        /// some.
        endpoints: ObservedEndpoint;
    /// An ECS Express Mode service.
    ExpressService(crate::model::ExpressServiceSpec) => express::ExpressServices + ExpressCloud,
        /// Express services (ECS-managed services) of the clusters the documents name.
        express: ObservedExpressService;
    /// A VPC peering connection with its routes.
    VpcPeering(crate::model::VpcPeeringSpec) => peering::Peerings + PeeringCloud,
        /// VPC peering connections tagged by this controller, as their requesters see them.
        peerings: peering::ObservedPeering;
    /// The Service Connect configuration of an existing ECS service.
    ServiceConnectBinding(crate::model::ServiceConnectBindingSpec) => binding::Bindings + BindingCloud,
        /// The ECS services that bindings name or this controller claimed for one.
        bindings: binding::ObservedBoundService;
}
pub(crate) use for_kind;

impl Observation {
    /// Why `kind` could not be observed in `scope`, if it could not.
    pub fn failure(&self, scope: &Scope, kind: Kind) -> Option<&ErrorInfo> {
        self.failed.get(&(scope.clone(), kind))
    }
}
