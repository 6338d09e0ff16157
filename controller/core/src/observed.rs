//! Live AWS state as observers report it: plain data, normalised where AWS is inconsistent.

use std::collections::BTreeMap;

use serde::Serialize;

pub use crate::compact::{Ids, Tags};
use crate::model::{KEY_TAG, Key, OWNER_TAG};

/// A Cloud Map HTTP namespace as listed (with its tags, read in batch).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ObservedNamespace {
    pub id: String,
    pub arn: String,
    pub name: String,
    /// `None` when AWS returns no description or an empty one.
    pub description: Option<String>,
    pub tags: crate::compact::Tags,
}

/// A RAM resource share owned by the account, with its associations.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ObservedShare {
    pub arn: String,
    pub name: String,
    pub tags: crate::compact::Tags,
    pub allow_external_principals: bool,
    /// ARNs of the associated resources (ASSOCIATED or ASSOCIATING).
    pub resources: crate::compact::Ids,
    /// Associated principals: account ids or Organization / OU ARNs.
    pub principals: crate::compact::Ids,
    /// ARNs of the permissions, without version suffixes.
    pub permissions: crate::compact::Ids,
}

/// Who owns an AWS object, by its tags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ownership {
    /// Tagged by this controller for this document.
    Ours,
    /// Tagged by this controller for another document.
    OtherDocument(Key),
    /// Tagged by another controller (its name).
    OtherController(String),
    /// No ownership tag.
    Unowned,
}

fn shared_value<S: serde::Serializer>(
    v: &Option<std::sync::Arc<serde_json::Value>>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    v.as_deref().serialize(serializer)
}

/// An observed object that carries tags (ownership is read from them).
pub trait Tagged {
    fn tags(&self) -> &Tags;
}

macro_rules! tagged {
    ($($t:ty),*) => {$(
        impl Tagged for $t {
            fn tags(&self) -> &crate::compact::Tags {
                &self.tags
            }
        }
    )*};
}

tagged!(
    ObservedNamespace,
    ObservedShare,
    ObservedEndpoint,
    ObservedExpressService
);

/// The key tag's value of an object this controller owns (`None` for anyone else's).
pub fn owned_key_tag<'a>(tags: &'a Tags, controller: &str) -> Option<&'a str> {
    if tags.get(OWNER_TAG).map(|v| v.as_str()) != Some(controller) {
        return None;
    }
    tags.get(KEY_TAG).map(|v| v.as_str())
}

/// The observed objects of one kind in one scope as a plan looks at them: all of them (to find
/// look-alikes by name) and, when the pass has indexed them, the positions of the few that carry
/// the document's key in their tags (where the document's own objects are).
#[derive(Debug)]
pub struct Seen<'a, T> {
    all: &'a [T],
    keyed: Option<&'a [usize]>,
}

impl<T> Clone for Seen<'_, T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for Seen<'_, T> {}

impl<'a, T> Seen<'a, T> {
    /// `keyed` must hold, in ascending order, the positions in `all` of every object whose key
    /// tag is the document's and whose owner tag is this controller's.
    pub fn indexed(all: &'a [T], keyed: &'a [usize]) -> Self {
        Seen {
            all,
            keyed: Some(keyed),
        }
    }

    /// Every object of the scope.
    pub fn all(&self) -> &'a [T] {
        self.all
    }

    /// The objects that may be the document's own, in observed order: the indexed ones, or
    /// every object when there is no index. Ownership is still to be checked.
    pub fn candidates(self) -> impl Iterator<Item = &'a T> + 'a {
        let all = self.all;
        let (keyed, rest): (&'a [usize], &'a [T]) = match self.keyed {
            Some(keyed) => (keyed, &[]),
            None => (&[], all),
        };
        keyed
            .iter()
            .filter_map(move |i| all.get(*i))
            .chain(rest.iter())
    }
}

impl<'a, T: Tagged> Seen<'a, T> {
    /// The document's own objects: those whose owner tag is `controller`'s and whose key tag is
    /// `key`.
    pub fn ours<'c>(self, controller: &'c str, key: &'c Key) -> impl Iterator<Item = &'a T> + 'c
    where
        'a: 'c,
    {
        self.candidates()
            .filter(move |o| ownership(o.tags(), controller, key) == Ownership::Ours)
    }
}

impl<'a, T> From<&'a [T]> for Seen<'a, T> {
    fn from(all: &'a [T]) -> Self {
        Seen { all, keyed: None }
    }
}

impl<'a, T> From<&'a Vec<T>> for Seen<'a, T> {
    fn from(all: &'a Vec<T>) -> Self {
        Seen { all, keyed: None }
    }
}

impl<'a, T, const N: usize> From<&'a [T; N]> for Seen<'a, T> {
    fn from(all: &'a [T; N]) -> Self {
        Seen { all, keyed: None }
    }
}

/// Reads ownership from tags: `controller` is this controller's configured name.
pub fn ownership(tags: &Tags, controller: &str, key: &Key) -> Ownership {
    match tags.get(OWNER_TAG) {
        None => Ownership::Unowned,
        Some(owner) if owner != controller => Ownership::OtherController(owner.to_string()),
        Some(_) => match tags.get(KEY_TAG) {
            // The common case, compared without allocating: planning calls this for every
            // observed object of a scope.
            Some(tag) if is_key(tag, key) => Ownership::Ours,
            Some(tag) => match Key::parse(tag) {
                Some(k) => Ownership::OtherDocument(k),
                None => Ownership::Unowned,
            },
            None => Ownership::Unowned,
        },
    }
}

/// Whether a key tag's value is `key` (`Kind/name`).
fn is_key(tag: &str, key: &Key) -> bool {
    tag.strip_prefix(key.kind.as_str())
        .and_then(|rest| rest.strip_prefix('/'))
        == Some(key.name.as_str())
}

/// The tags an operator wrote, without the controller's own and AWS's reserved ones.
pub fn user_tags(tags: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    tags.iter()
        .filter(|(k, _)| !k.starts_with(crate::model::ANNOTATION_PREFIX) && !k.starts_with("aws:"))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// Trims surrounding whitespace and treats empty as absent, as Cloud Map and RAM store text.
pub fn normalise_text(s: Option<&str>) -> Option<String> {
    s.map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// Removes a `/version` suffix from a RAM permission ARN
/// (`arn:aws:ram::aws:permission/NAME/v2` becomes `arn:aws:ram::aws:permission/NAME`).
pub fn permission_base_arn(arn: &str) -> &str {
    match arn.rsplit_once('/') {
        Some((base, v))
            if v.starts_with('v')
                && v[1..].chars().all(|c| c.is_ascii_digit())
                && base.contains("permission/") =>
        {
            base
        }
        _ => arn,
    }
}

/// The ARN of a RAM permission given by name or ARN.
pub fn permission_arn(name_or_arn: &str) -> String {
    if name_or_arn.starts_with("arn:") {
        permission_base_arn(name_or_arn).to_owned()
    } else {
        format!("arn:aws:ram::aws:permission/{name_or_arn}")
    }
}

/// The type of a VPC endpoint; endpoints of other types are not reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum EndpointType {
    /// An elastic network interface per subnet, reached by (private) DNS.
    Interface,
    /// Routes in route tables (`s3`, `dynamodb`).
    Gateway,
}

impl EndpointType {
    /// The name AWS uses (`Interface`, `Gateway`).
    pub fn as_str(self) -> &'static str {
        match self {
            EndpointType::Interface => "Interface",
            EndpointType::Gateway => "Gateway",
        }
    }
}

/// A VPC endpoint as `DescribeVpcEndpoints` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ObservedEndpoint {
    /// `vpce-...`.
    pub id: String,
    pub vpc_id: String,
    /// The full service name, `com.amazonaws.REGION.SERVICE`.
    pub service_name: String,
    pub endpoint_type: EndpointType,
    /// The state in lower case as AWS sends it: `pending`, `available`, `deleting`, `deleted`,
    /// `failed`, `rejected`, ...
    pub state: String,
    /// Subnets of an interface endpoint; empty for a gateway endpoint.
    pub subnet_ids: crate::compact::Ids,
    /// Security groups of an interface endpoint; empty for a gateway endpoint.
    pub security_group_ids: crate::compact::Ids,
    /// Route tables of a gateway endpoint; empty for an interface endpoint.
    pub route_table_ids: crate::compact::Ids,
    /// Private DNS of an interface endpoint; `false` for a gateway endpoint.
    pub private_dns_enabled: bool,
    /// The endpoint policy, parsed; `None` when AWS reports none.
    /// Shared between endpoints with the same (default) policy: see
    /// [`crate::policy::observed_endpoint_policy`].
    #[serde(serialize_with = "shared_value")]
    pub policy: Option<std::sync::Arc<serde_json::Value>>,
    pub tags: crate::compact::Tags,
}

/// The status of an Express service (`status.statusCode`), read once from AWS's spelling.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum ExpressStatus {
    Active,
    /// Deleted; ECS stops its tasks and then forgets it.
    Draining,
    /// Gone.
    Inactive,
    /// A status this version does not know, or none (empty).
    Other(String),
}

impl ExpressStatus {
    /// The status ECS sent, whatever its case and surrounding space.
    pub fn parse(code: &str) -> ExpressStatus {
        let code = code.trim();
        match code.to_ascii_uppercase().as_str() {
            "ACTIVE" => ExpressStatus::Active,
            "DRAINING" => ExpressStatus::Draining,
            "INACTIVE" => ExpressStatus::Inactive,
            _ => ExpressStatus::Other(code.to_owned()),
        }
    }

    /// AWS's spelling.
    pub fn as_str(&self) -> &str {
        match self {
            ExpressStatus::Active => "ACTIVE",
            ExpressStatus::Draining => "DRAINING",
            ExpressStatus::Inactive => "INACTIVE",
            ExpressStatus::Other(code) => code,
        }
    }

    /// Whether the service still exists (anything but INACTIVE).
    pub fn exists(&self) -> bool {
        *self != ExpressStatus::Inactive
    }

    /// Whether the service is neither gone nor on its way out.
    pub fn is_live(&self) -> bool {
        !matches!(self, ExpressStatus::Inactive | ExpressStatus::Draining)
    }
}

/// An ECS Express Mode service as `DescribeExpressGatewayService` returns it, with the resources
/// ECS manages for it (read through `DescribeServiceRevisions`).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ObservedExpressService {
    pub arn: String,
    /// The cluster's ARN (a name is accepted too; planning compares clusters by name).
    pub cluster: String,
    pub service_name: String,
    /// `status.statusCode`.
    pub status: ExpressStatus,
    /// Whether a deployment is running (`currentDeployment` is present).
    pub deploying: bool,
    /// Why the most recent deployment failed, when it failed and none has succeeded since.
    pub failed_deployment: Option<String>,
    /// `updatedAt`, in seconds since the Unix epoch.
    pub updated_at: Option<i64>,
    pub infrastructure_role_arn: String,
    /// The newest configuration: during a deployment the one being rolled out (AWS lists it
    /// first), otherwise the one in service. `None` when ECS lists none.
    pub config: Option<ObservedExpressConfig>,
    pub tags: crate::compact::Tags,
    /// The resources ECS manages for the service, read-only: type (`loadBalancer`, `listener`,
    /// `listenerRule`, `targetGroup`, `securityGroup`, `certificate`, `autoScaling`, `logGroup`,
    /// `endpoint`) to ARN, id or URL; a second resource of one type is keyed `targetGroup.2`.
    /// Shown in status; never drift, never pruned, never adopted.
    pub managed: crate::compact::Tags,
    /// Ids of the security groups ECS attached itself (tagged `AmazonECSManaged=true`); never
    /// compared with a document. Any `sg-` id among `managed` counts as well.
    pub managed_security_groups: crate::compact::Ids,
}

/// One configuration of an Express service (an entry of `activeConfigurations`), as AWS returns
/// it: cpu and memory are strings, enum values are AWS's spelling, lists are in AWS's order.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ObservedExpressConfig {
    pub service_revision_arn: String,
    pub execution_role_arn: Option<String>,
    pub task_role_arn: Option<String>,
    /// CPU units, e.g. `"1024"`.
    pub cpu: Option<String>,
    /// MiB, e.g. `"2048"`.
    pub memory: Option<String>,
    /// `X86_64` or `ARM64`.
    pub cpu_architecture: Option<String>,
    pub subnets: Vec<String>,
    /// Including the group ECS adds itself.
    pub security_groups: Vec<String>,
    pub health_check_path: Option<String>,
    pub primary_container: ObservedExpressContainer,
    /// `scalingTarget`; `None` when AWS reports none.
    pub scaling: Option<ObservedExpressScaling>,
    /// Where the service answers, read-only.
    pub ingress_paths: Vec<ObservedIngressPath>,
}

/// The primary container of an Express service configuration.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ObservedExpressContainer {
    pub image: String,
    pub port: Option<i64>,
    /// Empty when the container keeps its image's command (AWS reads that back as `[]`).
    pub command: Vec<String>,
    /// In AWS's order (sorted by name).
    pub environment: Vec<crate::model::EnvVar>,
    pub secrets: Vec<crate::model::SecretRef>,
    /// `awsLogsConfiguration`.
    pub logs: Option<crate::model::AwsLogs>,
    /// `repositoryCredentials.credentialsParameter`.
    pub repository_credentials: Option<String>,
}

/// The `scalingTarget` of an Express service configuration.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ObservedExpressScaling {
    pub min: Option<i64>,
    pub max: Option<i64>,
    /// `autoScalingMetric` as AWS spells it, e.g. `AVERAGE_CPU`.
    pub metric: Option<String>,
    /// `autoScalingTargetValue`.
    pub target: Option<f64>,
}

/// An ingress path of an Express service: how it is reached.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ObservedIngressPath {
    /// `PUBLIC` or `PRIVATE`.
    pub access_type: String,
    pub endpoint: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Kind;

    fn tags(pairs: &[(&str, &str)]) -> Tags {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn ownership_needs_both_the_controller_name_and_the_document_key() {
        let key = Key::new(Kind::CloudMapNamespace, "payments");
        let ours = tags(&[(OWNER_TAG, "ctl"), (KEY_TAG, "CloudMapNamespace/payments")]);
        assert_eq!(ownership(&ours, "ctl", &key), Ownership::Ours);
        assert_eq!(
            ownership(&ours, "other", &key),
            Ownership::OtherController("ctl".into())
        );
        let sibling = tags(&[(OWNER_TAG, "ctl"), (KEY_TAG, "CloudMapNamespace/orders")]);
        assert_eq!(
            ownership(&sibling, "ctl", &key),
            Ownership::OtherDocument(Key::new(Kind::CloudMapNamespace, "orders"))
        );
        assert_eq!(
            ownership(&tags(&[("team", "a")]), "ctl", &key),
            Ownership::Unowned
        );
    }

    #[test]
    fn permission_arns_compare_without_their_version() {
        assert_eq!(
            permission_arn(
                "arn:aws:ram::aws:permission/AWSRAMPermissionCloudMapECSFullPermission/v1"
            ),
            "arn:aws:ram::aws:permission/AWSRAMPermissionCloudMapECSFullPermission"
        );
        assert_eq!(
            permission_arn("AWSRAMPermissionCloudMapECSFullPermission"),
            "arn:aws:ram::aws:permission/AWSRAMPermissionCloudMapECSFullPermission"
        );
    }

    #[test]
    fn empty_and_padded_text_normalise_as_aws_stores_it() {
        assert_eq!(normalise_text(Some("  a b ")), Some("a b".into()));
        assert_eq!(normalise_text(Some("   ")), None);
        assert_eq!(normalise_text(None), None);
    }
}
