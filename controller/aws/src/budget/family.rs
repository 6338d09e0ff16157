//! API families: the groups of operations that share one AWS throttling bucket, with AWS's
//! published rates.

use std::borrow::Cow;
use std::collections::HashMap;

use ecs_topology_core::ratelimit::BucketSeed;

/// The (burst, refill per second) of a family whose rate AWS does not publish: the EC2 and ECS
/// default for mutating actions, the most conservative published bucket of a control plane.
pub const UNPUBLISHED: (u32, f64) = (50, 5.0);

/// A group of operations sharing one AWS throttling bucket per account and region.
///
/// The [name](ApiFamily::name) keys `rateBudgets` in the controller config.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ApiFamily {
    /// One EC2 `Describe*` API, e.g. `Ec2Describe("DescribeVpcEndpoints")`: each has its own
    /// bucket. `ec2:<Operation>`; `ec2:describe` overrides them all.
    Ec2Describe(&'static str),
    /// EC2 mutating actions without a bucket of their own. `ec2:mutate`.
    Ec2Mutate,
    /// `CreateVpcEndpoint`, `ModifyVpcEndpoint`, `DeleteVpcEndpoints`. `ec2:vpc-endpoint-mutate`.
    Ec2VpcEndpointMutate,
    /// ECS service reads: `ListServices`, `DescribeServices` and other reads. `ecs:read`.
    EcsRead,
    /// ECS service changes: `Create/Update/DeleteService` and other writes. `ecs:mutate`.
    EcsMutate,
    /// ECS `ListTagsForResource`, `TagResource`, `UntagResource`. `ecs:tags`.
    EcsTags,
    /// ECS Express Gateway service operations. `ecs:express`.
    EcsExpress,
    /// Cloud Map (`servicediscovery`). `cloudmap`.
    CloudMap,
    /// AWS RAM. `ram`.
    Ram,
    /// STS calls made through the budget (`GetCallerIdentity`). `sts`.
    Sts,
    /// S3 (document sources). `s3`.
    S3,
    /// DynamoDB (document sources, status, lease). `dynamodb`.
    DynamoDb,
    /// The Resource Groups Tagging API. `tagging`.
    Tagging,
    /// SQS (the queue of change events). `sqs`.
    Sqs,
}

impl ApiFamily {
    /// The names of the families (`ec2:<DescribeApi>` stands for each EC2 describe API).
    pub const NAMES: &[&str] = &[
        "ec2:<DescribeApi>",
        "ec2:describe",
        "ec2:mutate",
        "ec2:vpc-endpoint-mutate",
        "ecs:read",
        "ecs:mutate",
        "ecs:tags",
        "ecs:express",
        "cloudmap",
        "ram",
        "sts",
        "s3",
        "dynamodb",
        "tagging",
        "sqs",
    ];

    /// Every family but the EC2 describe APIs (a family each).
    pub const FIXED: [ApiFamily; 13] = [
        ApiFamily::Ec2Mutate,
        ApiFamily::Ec2VpcEndpointMutate,
        ApiFamily::EcsRead,
        ApiFamily::EcsMutate,
        ApiFamily::EcsTags,
        ApiFamily::EcsExpress,
        ApiFamily::CloudMap,
        ApiFamily::Ram,
        ApiFamily::Sts,
        ApiFamily::S3,
        ApiFamily::DynamoDb,
        ApiFamily::Tagging,
        ApiFamily::Sqs,
    ];

    /// The family's name in `rateBudgets`.
    pub fn name(&self) -> Cow<'static, str> {
        Cow::Borrowed(match self {
            ApiFamily::Ec2Describe(operation) => return Cow::Owned(format!("ec2:{operation}")),
            ApiFamily::Ec2Mutate => "ec2:mutate",
            ApiFamily::Ec2VpcEndpointMutate => "ec2:vpc-endpoint-mutate",
            ApiFamily::EcsRead => "ecs:read",
            ApiFamily::EcsMutate => "ecs:mutate",
            ApiFamily::EcsTags => "ecs:tags",
            ApiFamily::EcsExpress => "ecs:express",
            ApiFamily::CloudMap => "cloudmap",
            // A family that is a whole service is named as its service.
            ApiFamily::Ram
            | ApiFamily::Sts
            | ApiFamily::S3
            | ApiFamily::DynamoDb
            | ApiFamily::Tagging
            | ApiFamily::Sqs => self.service(),
        })
    }

    /// Whether `name` names a family (or, `ec2:describe`, all EC2 describe APIs).
    pub fn is_name(name: &str) -> bool {
        ApiFamily::NAMES[1..].contains(&name)
            || name.strip_prefix("ec2:Describe").is_some_and(|rest| {
                !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_alphanumeric())
            })
    }

    /// The service the family's operations belong to (a bounded metric label).
    pub fn service(&self) -> &'static str {
        match self {
            ApiFamily::Ec2Describe(_) | ApiFamily::Ec2Mutate | ApiFamily::Ec2VpcEndpointMutate => {
                "ec2"
            }
            ApiFamily::EcsRead
            | ApiFamily::EcsMutate
            | ApiFamily::EcsTags
            | ApiFamily::EcsExpress => "ecs",
            ApiFamily::CloudMap => "servicediscovery",
            ApiFamily::Ram => "ram",
            ApiFamily::Sts => "sts",
            ApiFamily::S3 => "s3",
            ApiFamily::DynamoDb => "dynamodb",
            ApiFamily::Tagging => "tagging",
            ApiFamily::Sqs => "sqs",
        }
    }

    /// AWS's published (burst, refill per second) of the family, per account and region;
    /// `None` where AWS publishes none (then [`UNPUBLISHED`] applies).
    ///
    /// S3 publishes 3,500 writes and 5,500 reads a second per prefix: the lower is used.
    /// DynamoDB's request rate is bounded by table capacity, not by a published request rate:
    /// 1,000 a second keeps a document source from monopolising an on-demand table.
    pub fn published(&self) -> Option<(u32, f64)> {
        match self {
            ApiFamily::Ec2Describe(_) | ApiFamily::EcsRead => Some((100, 20.0)),
            ApiFamily::Ec2Mutate | ApiFamily::EcsMutate => Some((50, 5.0)),
            ApiFamily::Ec2VpcEndpointMutate => Some((4, 0.3)),
            ApiFamily::EcsTags => Some((50, 20.0)),
            ApiFamily::S3 => Some((3500, 3500.0)),
            ApiFamily::DynamoDb => Some((1000, 1000.0)),
            ApiFamily::EcsExpress
            | ApiFamily::CloudMap
            | ApiFamily::Ram
            | ApiFamily::Sts
            | ApiFamily::Tagging
            | ApiFamily::Sqs => None,
        }
    }

    /// The family's bucket: an override by its name (for an EC2 describe API, else by
    /// `ec2:describe`), else the published rate, else `unpublished`.
    pub(super) fn seed(
        &self,
        overrides: &HashMap<String, BucketSeed>,
        unpublished: BucketSeed,
    ) -> BucketSeed {
        let name = self.name();
        let overridden = overrides.get(name.as_ref()).or_else(|| match self {
            ApiFamily::Ec2Describe(_) => overrides.get("ec2:describe"),
            _ => None,
        });
        overridden.copied().unwrap_or_else(|| {
            self.published()
                .and_then(|(burst, per_second)| BucketSeed::new(burst, per_second).ok())
                .unwrap_or(unpublished)
        })
    }
}
