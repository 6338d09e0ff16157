//! Predicates for the shapes of AWS identifiers and names.

use std::sync::LazyLock;

use regex_lite::Regex;

fn re(pattern: &str) -> Regex {
    // The patterns are constants of this file, covered by its tests.
    #[allow(clippy::expect_used)]
    Regex::new(pattern).expect("a valid pattern")
}

static DNS_LABEL: LazyLock<Regex> = LazyLock::new(|| re(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$"));
static ACCOUNT_ID: LazyLock<Regex> = LazyLock::new(|| re(r"^[0-9]{12}$"));
static REGION: LazyLock<Regex> =
    LazyLock::new(|| re(r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-[0-9]{1,2}$"));
static ROLE_ARN: LazyLock<Regex> = LazyLock::new(|| {
    re(r"^arn:aws(-cn|-us-gov|-iso|-iso-b)?:iam::[0-9]{12}:role/[A-Za-z0-9+=,.@_/-]{1,512}$")
});
static ORG_ARN: LazyLock<Regex> = LazyLock::new(|| {
    re(r"^arn:aws(-cn|-us-gov)?:organizations::[0-9]{12}:organization/o-[a-z0-9]{10,32}$")
});
static OU_ARN: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"^arn:aws(-cn|-us-gov)?:organizations::[0-9]{12}:ou/o-[a-z0-9]{10,32}/ou-[a-z0-9]{4,32}-[a-z0-9]{8,32}$",
    )
});
static HTTP_NAMESPACE_NAME: LazyLock<Regex> = LazyLock::new(|| re(r"^[!-~]{1,1024}$"));
static ECS_NAME: LazyLock<Regex> = LazyLock::new(|| re(r"^[A-Za-z0-9_-]{1,255}$"));
static CLUSTER_ARN: LazyLock<Regex> =
    LazyLock::new(|| re(r"^arn:aws[a-z-]*:ecs:[a-z0-9-]+:[0-9]{12}:cluster/[A-Za-z0-9_-]{1,255}$"));

pub fn is_dns_label(s: &str) -> bool {
    DNS_LABEL.is_match(s)
}

pub fn is_account_id(s: &str) -> bool {
    ACCOUNT_ID.is_match(s)
}

pub fn is_region(s: &str) -> bool {
    REGION.is_match(s)
}

pub fn is_role_arn(s: &str) -> bool {
    ROLE_ARN.is_match(s)
}

pub fn is_organization_arn(s: &str) -> bool {
    ORG_ARN.is_match(s)
}

pub fn is_ou_arn(s: &str) -> bool {
    OU_ARN.is_match(s)
}

pub fn is_http_namespace_name(s: &str) -> bool {
    HTTP_NAMESPACE_NAME.is_match(s)
}

pub fn is_ecs_name(s: &str) -> bool {
    ECS_NAME.is_match(s)
}

pub fn is_cluster(s: &str) -> bool {
    ECS_NAME.is_match(s) || CLUSTER_ARN.is_match(s)
}

/// `prefix-` followed by 8 or 17 hex digits, as EC2 ids are.
pub fn is_ec2_id(prefix: &str, s: &str) -> bool {
    s.strip_prefix(prefix)
        .and_then(|rest| rest.strip_prefix('-'))
        .is_some_and(|hex| {
            (hex.len() == 8 || hex.len() == 17)
                && hex
                    .bytes()
                    .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        })
}

/// The Fargate CPU and memory pairs (memory in MiB).
pub fn is_fargate_pair(cpu: u32, memory: u32) -> bool {
    let gib = |n: u32| n * 1024;
    match cpu {
        256 => matches!(memory, 512 | 1024 | 2048),
        512 => (gib(1)..=gib(4)).contains(&memory) && memory.is_multiple_of(1024),
        1024 => (gib(2)..=gib(8)).contains(&memory) && memory.is_multiple_of(1024),
        2048 => (gib(4)..=gib(16)).contains(&memory) && memory.is_multiple_of(1024),
        4096 => (gib(8)..=gib(30)).contains(&memory) && memory.is_multiple_of(1024),
        8192 => (gib(16)..=gib(60)).contains(&memory) && memory.is_multiple_of(gib(4)),
        16384 => (gib(32)..=gib(120)).contains(&memory) && memory.is_multiple_of(gib(8)),
        _ => false,
    }
}

/// The Fargate CPU values.
pub const FARGATE_CPUS: [u32; 7] = [256, 512, 1024, 2048, 4096, 8192, 16384];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_must_be_dns_labels() {
        assert!(is_dns_label("payments-ns"));
        assert!(is_dns_label("a"));
        assert!(!is_dns_label("Payments"));
        assert!(!is_dns_label("-a"));
        assert!(!is_dns_label("a_b"));
        assert!(!is_dns_label(&"a".repeat(64)));
    }

    #[test]
    fn regions_are_recognised_by_shape() {
        for ok in [
            "ap-northeast-1",
            "us-gov-west-1",
            "eu-central-2",
            "us-isob-east-1",
        ] {
            assert!(is_region(ok), "{ok}");
        }
        for bad in ["tokyo", "ap-northeast", "AP-NORTHEAST-1", "ap-northeast-1a"] {
            assert!(!is_region(bad), "{bad}");
        }
    }

    #[test]
    fn principals_may_be_organizations_or_units() {
        assert!(is_organization_arn(
            "arn:aws:organizations::111111111111:organization/o-abcdefghij"
        ));
        assert!(is_ou_arn(
            "arn:aws:organizations::111111111111:ou/o-abcdefghij/ou-ab12-abcdefgh"
        ));
        assert!(!is_ou_arn(
            "arn:aws:organizations::111111111111:organization/o-abcdefghij"
        ));
    }

    #[test]
    fn role_arns_are_iam_role_arns() {
        assert!(is_role_arn(
            "arn:aws:iam::111111111111:role/ecsTaskExecutionRole"
        ));
        assert!(is_role_arn("arn:aws:iam::111111111111:role/service-role/x"));
        assert!(!is_role_arn("arn:aws:iam::111111111111:user/bob"));
        assert!(!is_role_arn("ecsTaskExecutionRole"));
    }

    #[test]
    fn ec2_ids_have_their_prefix_and_8_or_17_hex_digits() {
        assert!(is_ec2_id("vpc", "vpc-0a1b2c3d"));
        assert!(is_ec2_id("subnet", "subnet-0123456789abcdef0"));
        assert!(!is_ec2_id("vpc", "subnet-0a1b2c3d"));
        assert!(!is_ec2_id("vpc", "vpc-xyz"));
    }

    #[test]
    fn fargate_pairs_follow_the_published_table() {
        assert!(is_fargate_pair(256, 512));
        assert!(!is_fargate_pair(256, 4096));
        assert!(is_fargate_pair(1024, 3072));
        assert!(is_fargate_pair(8192, 20480));
        assert!(!is_fargate_pair(8192, 18432));
        assert!(!is_fargate_pair(300, 1024));
    }
}
