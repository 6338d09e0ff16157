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

pub use crate::kinds::{Document, Kind};

impl Kind {
    /// The kind's place in [`Kind::ALL`] (dependency order).
    pub fn rank(self) -> usize {
        Kind::ALL
            .iter()
            .position(|k| *k == self)
            .unwrap_or(Kind::ALL.len())
    }

    pub fn parse(s: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == s)
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
    /// The lower-case plural used by the CustomResourceDefinition.
    const PLURAL: &'static str;
    /// Short names for `kubectl get`.
    const SHORT_NAMES: &'static [&'static str];
    /// What a document of the kind is, for the schemas.
    const DESCRIPTION: &'static str;
    /// The account (alias or 12-digit id) the object lives in.
    fn account(&self) -> &str;
    /// The region the object lives in.
    fn region(&self) -> &str;
}

/// A document of one kind, as written.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Manifest<S> {
    /// Always [`API_VERSION`] (the loader accepts no other): borrowed, not a copy per document.
    pub api_version: std::borrow::Cow<'static, str>,
    pub kind: Kind,
    pub metadata: Metadata,
    pub spec: S,
}

impl Document {
    pub fn key(&self) -> Key {
        Key::new(self.kind(), self.metadata().name.clone())
    }
}
