//! The SDK clients of one account and region.

use aws_types::SdkConfig;

use crate::budget::BudgetInterceptor;

/// Every SDK client the controller uses in one account and region; cheap to clone (each client
/// is a handle on shared state).
///
/// Each client reports its attempts to the rate budget of the
/// [`ApiBudgets::call`](crate::budget::ApiBudgets::call) it runs in.
#[derive(Debug, Clone)]
pub struct Clients {
    /// The 12-digit account id.
    pub account_id: String,
    pub region: String,
    pub cloudmap: aws_sdk_servicediscovery::Client,
    pub ram: aws_sdk_ram::Client,
    pub ec2: aws_sdk_ec2::Client,
    pub ecs: aws_sdk_ecs::Client,
    pub sts: aws_sdk_sts::Client,
    /// Path-style addressing when an endpoint URL is set (an emulator or a private endpoint).
    pub s3: aws_sdk_s3::Client,
    pub dynamodb: aws_sdk_dynamodb::Client,
    /// The Resource Groups Tagging API.
    pub tagging: aws_sdk_resourcegroupstagging::Client,
    pub sqs: aws_sdk_sqs::Client,
}

macro_rules! client {
    ($sdk:ident, $config:expr) => {
        $sdk::Client::from_conf(
            $sdk::config::Builder::from($config)
                .interceptor(BudgetInterceptor)
                .build(),
        )
    };
}

impl Clients {
    /// Clients built from `config`, which reaches `account_id` in `region`.
    pub fn new(config: &SdkConfig, account_id: &str, region: &str) -> Self {
        let s3 = aws_sdk_s3::config::Builder::from(config)
            .force_path_style(config.endpoint_url().is_some())
            .interceptor(BudgetInterceptor)
            .build();
        Self {
            account_id: account_id.to_owned(),
            region: region.to_owned(),
            cloudmap: client!(aws_sdk_servicediscovery, config),
            ram: client!(aws_sdk_ram, config),
            ec2: client!(aws_sdk_ec2, config),
            ecs: client!(aws_sdk_ecs, config),
            sts: client!(aws_sdk_sts, config),
            s3: aws_sdk_s3::Client::from_conf(s3),
            dynamodb: client!(aws_sdk_dynamodb, config),
            tagging: client!(aws_sdk_resourcegroupstagging, config),
            sqs: client!(aws_sdk_sqs, config),
        }
    }
}
