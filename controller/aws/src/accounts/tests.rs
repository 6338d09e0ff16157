use aws_config::BehaviorVersion;
use aws_types::SdkConfig;
use ecs_topology_core::config::{AccountConfig, ControllerConfig};

use super::Accounts;

const SECRET: &str = "Xq7-shared-secret";

fn config() -> ControllerConfig {
    let mut config = ControllerConfig::default();
    config.accounts.insert(
        "server".into(),
        AccountConfig {
            id: "111111111111".into(),
            role_arn: Some("arn:aws:iam::111111111111:role/ecs-topology-target".into()),
            external_id: Some(SECRET.into()),
            session_name: None,
        },
    );
    config
}

#[tokio::test]
async fn the_external_id_never_shows_in_debug_output_of_the_accounts_or_their_sessions() {
    let base = SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .build();
    let accounts = Accounts::new(base, &config());
    // Building the account's clients sets up its assumed-role session (without calling STS yet).
    let clients = accounts.clients("server", "eu-west-1").await.unwrap();
    let config = accounts.sdk_config("server", "eu-west-1").await.unwrap();
    for shown in [
        format!("{accounts:?}"),
        format!("{accounts:#?}"),
        format!("{clients:?}"),
        format!("{config:?}"),
    ] {
        assert!(!shown.contains(SECRET), "{shown}");
    }
    assert!(format!("{accounts:?}").contains("ExternalId(<redacted>)"));
}
