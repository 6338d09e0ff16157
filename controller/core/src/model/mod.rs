//! The documents an operator writes: five kinds under `ecs-topology.dev/v1alpha1`.
//!
//! A document is `apiVersion`, `kind`, `metadata` and a kind-specific `spec`. The typed forms
//! here are what the rest of the controller plans with; [`crate::load`] turns files into them and
//! [`crate::validate`] checks them.

mod binding;
mod endpoints;
mod express;
mod metadata;
mod namespace;
mod peering;
mod share;
mod units;

use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize, de::DeserializeOwned};

pub use binding::{
    ClientAlias, NO_TAGS, SERVICE_CONNECT_TAG, ServiceConnectBindingSpec, ServiceConnectService,
    namespace_arn_parts,
};
pub use endpoints::{GatewayService, VpcEndpointSetSpec};
pub use express::{
    AwsLogs, Container, CpuArchitecture, EnvVar, ExpressServiceSpec, Network, Scaling,
    ScalingMetric, SecretRef, cluster_name,
};
pub use metadata::{
    ADOPT_ANNOTATION, ANNOTATION_PREFIX, DELETION_POLICY_ANNOTATION, DeletionPolicy, Metadata,
    Policies, SUSPEND_ANNOTATION,
};
pub use namespace::CloudMapNamespaceSpec;
pub use peering::{PeeringSide, VpcPeeringSpec};
pub use share::{CLOUD_MAP_ECS_PERMISSION, NamespaceShareSpec};
pub use units::Units;

/// The API group of every document kind.
pub const GROUP: &str = "ecs-topology.dev";
/// The one served version.
pub const VERSION: &str = "v1alpha1";
/// `GROUP/VERSION`, the only accepted `apiVersion`.
pub const API_VERSION: &str = "ecs-topology.dev/v1alpha1";
/// Tag key naming the controller that owns an AWS object (its configured name).
pub const OWNER_TAG: &str = "ecs-topology.dev/owner";
/// Tag key naming the document (`Kind/name`) an AWS object belongs to.
pub const KEY_TAG: &str = "ecs-topology.dev/key";

/// The kinds of document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Kind {
    CloudMapNamespace,
    NamespaceShare,
    VpcEndpointSet,
    ExpressService,
    VpcPeering,
    ServiceConnectBinding,
}

impl Kind {
    /// Every kind, in dependency order (a share needs its namespace).
    pub const ALL: [Kind; 6] = [
        Kind::CloudMapNamespace,
        Kind::NamespaceShare,
        Kind::VpcEndpointSet,
        Kind::ExpressService,
        Kind::VpcPeering,
        Kind::ServiceConnectBinding,
    ];

    /// The kind's place in [`Kind::ALL`] (dependency order).
    pub fn rank(self) -> usize {
        Kind::ALL
            .iter()
            .position(|k| *k == self)
            .unwrap_or(Kind::ALL.len())
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::CloudMapNamespace => "CloudMapNamespace",
            Kind::NamespaceShare => "NamespaceShare",
            Kind::VpcEndpointSet => "VpcEndpointSet",
            Kind::ExpressService => "ExpressService",
            Kind::VpcPeering => "VpcPeering",
            Kind::ServiceConnectBinding => "ServiceConnectBinding",
        }
    }

    pub fn parse(s: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// The lower-case plural used by the CustomResourceDefinition.
    pub fn plural(self) -> &'static str {
        match self {
            Kind::CloudMapNamespace => "cloudmapnamespaces",
            Kind::NamespaceShare => "namespaceshares",
            Kind::VpcEndpointSet => "vpcendpointsets",
            Kind::ExpressService => "expressservices",
            Kind::VpcPeering => "vpcpeerings",
            Kind::ServiceConnectBinding => "serviceconnectbindings",
        }
    }

    /// Short names for `kubectl get`.
    pub fn short_names(self) -> &'static [&'static str] {
        match self {
            Kind::CloudMapNamespace => &["cmns"],
            Kind::NamespaceShare => &["nsshare"],
            Kind::VpcEndpointSet => &["vpces"],
            Kind::ExpressService => &["xsvc"],
            Kind::VpcPeering => &["pcx"],
            Kind::ServiceConnectBinding => &["scb"],
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The identity of a document and the work-queue key: `Kind/name`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Key {
    pub kind: Kind,
    pub name: String,
}

impl Key {
    /// Orders keys by kind in dependency order, then by name — the order a pass works in.
    pub fn dependency_order(a: &Key, b: &Key) -> std::cmp::Ordering {
        (a.kind.rank(), a).cmp(&(b.kind.rank(), b))
    }

    pub fn new(kind: Kind, name: impl Into<String>) -> Key {
        Key {
            kind,
            name: name.into(),
        }
    }

    /// Parses `Kind/name`, the form of the key tag.
    pub fn parse(s: &str) -> Option<Key> {
        let (kind, name) = s.split_once('/')?;
        Some(Key::new(Kind::parse(kind)?, name))
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.kind, self.name)
    }
}

/// A kind's spec type, tying the Rust type to its kind for loading and schema generation.
pub trait Spec: Serialize + DeserializeOwned + JsonSchema + Clone + fmt::Debug {
    const KIND: Kind;
    /// The account (alias or 12-digit id) the object lives in.
    fn account(&self) -> &str;
    /// The region the object lives in.
    fn region(&self) -> &str;
}

/// A document of one kind, as written.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Manifest<S> {
    pub api_version: String,
    pub kind: Kind,
    pub metadata: Metadata,
    pub spec: S,
}

/// A document of any kind.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Document {
    CloudMapNamespace(Manifest<CloudMapNamespaceSpec>),
    NamespaceShare(Manifest<NamespaceShareSpec>),
    VpcEndpointSet(Manifest<VpcEndpointSetSpec>),
    ExpressService(Box<Manifest<ExpressServiceSpec>>),
    VpcPeering(Manifest<VpcPeeringSpec>),
    ServiceConnectBinding(Manifest<ServiceConnectBindingSpec>),
}

impl Document {
    pub fn kind(&self) -> Kind {
        match self {
            Document::CloudMapNamespace(_) => Kind::CloudMapNamespace,
            Document::NamespaceShare(_) => Kind::NamespaceShare,
            Document::VpcEndpointSet(_) => Kind::VpcEndpointSet,
            Document::ExpressService(_) => Kind::ExpressService,
            Document::VpcPeering(_) => Kind::VpcPeering,
            Document::ServiceConnectBinding(_) => Kind::ServiceConnectBinding,
        }
    }

    pub fn metadata(&self) -> &Metadata {
        match self {
            Document::CloudMapNamespace(m) => &m.metadata,
            Document::NamespaceShare(m) => &m.metadata,
            Document::VpcEndpointSet(m) => &m.metadata,
            Document::ExpressService(m) => &m.metadata,
            Document::VpcPeering(m) => &m.metadata,
            Document::ServiceConnectBinding(m) => &m.metadata,
        }
    }

    pub fn key(&self) -> Key {
        Key::new(self.kind(), self.metadata().name.clone())
    }

    pub fn account(&self) -> &str {
        match self {
            Document::CloudMapNamespace(m) => m.spec.account(),
            Document::NamespaceShare(m) => m.spec.account(),
            Document::VpcEndpointSet(m) => m.spec.account(),
            Document::ExpressService(m) => m.spec.account(),
            Document::VpcPeering(m) => m.spec.account(),
            Document::ServiceConnectBinding(m) => m.spec.account(),
        }
    }

    pub fn region(&self) -> &str {
        match self {
            Document::CloudMapNamespace(m) => m.spec.region(),
            Document::NamespaceShare(m) => m.spec.region(),
            Document::VpcEndpointSet(m) => m.spec.region(),
            Document::ExpressService(m) => m.spec.region(),
            Document::VpcPeering(m) => m.spec.region(),
            Document::ServiceConnectBinding(m) => m.spec.region(),
        }
    }
}
