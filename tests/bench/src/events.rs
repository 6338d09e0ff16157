//! The change-event path of a benchmark run, wired in the emulator as `deploy/` wires it in AWS:
//! in every target account and region, one rule per service on the default bus forwarding the
//! CloudTrail events the kinds list (`Resource::EVENTS`) to a central bus in the controller's
//! own account, whose rule feeds the events queue the daemon long-polls.

use std::collections::BTreeMap;

use aws_credential_types::provider::ProvideCredentials as _;
use ecs_topology_testkit::Emulator;
pub use ecs_topology_testkit::events::EventQueue;
use serde_json::{Value, json};

use crate::topology::Topology;

/// The region of the controller's own account: where the daemon runs, its bus and its queue.
pub const OWN_REGION: &str = "us-east-1";

/// The controller's own account, fresh for the run (its calls are the run's to count), and the
/// daemon's credentials in it.
#[derive(Debug, Clone)]
pub struct OwnAccount {
    pub id: String,
    /// `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`.
    pub env: Vec<(String, String)>,
}

impl OwnAccount {
    pub async fn new(emulator: &Emulator) -> anyhow::Result<OwnAccount> {
        let id = emulator.new_account();
        let config = emulator.sdk_config(&id, OWN_REGION).await;
        let credentials = config
            .credentials_provider()
            .ok_or_else(|| anyhow::anyhow!("no credentials for {id}"))?
            .provide_credentials()
            .await?;
        let mut env = vec![
            (
                "AWS_ACCESS_KEY_ID".to_owned(),
                credentials.access_key_id().to_owned(),
            ),
            (
                "AWS_SECRET_ACCESS_KEY".to_owned(),
                credentials.secret_access_key().to_owned(),
            ),
        ];
        if let Some(token) = credentials.session_token() {
            env.push(("AWS_SESSION_TOKEN".to_owned(), token.to_owned()));
        }
        Ok(OwnAccount { id, env })
    }
}

/// Wires, in `own`, the events queue and the central bus admitting the topology's accounts,
/// and in every target account and region one rule per service forwarding what the kinds
/// observe again for.
pub async fn wire(emulator: &Emulator, own: &OwnAccount, topology: &Topology) -> EventQueue {
    let senders: Vec<&str> = topology.accounts.iter().map(|a| a.id.as_str()).collect();
    let queue = EventQueue::create(emulator, &own.id, OWN_REGION, &senders).await;
    let patterns = patterns();
    for account in &senders {
        for region in &topology.regions {
            for (service, pattern) in &patterns {
                let name = format!("ecs-topology-{service}");
                queue
                    .forward_from(emulator, account, region, &name, pattern)
                    .await;
            }
        }
    }
    queue
}

/// The `events` line of the controller config (`debounce`: the controller's default when
/// `None`).
pub fn config_line(queue: &EventQueue, debounce: Option<&str>) -> String {
    match debounce {
        Some(d) => format!("events: {{queueUrl: '{}', debounce: {d}}}\n", queue.url),
        None => format!("events: {{queueUrl: '{}'}}\n", queue.url),
    }
}

/// One event pattern per service, as `deploy/target-account-role.yaml` writes them: the
/// mutating calls some kind observes again for.
fn patterns() -> BTreeMap<&'static str, Value> {
    let mut names: BTreeMap<&'static str, Vec<&'static str>> = BTreeMap::new();
    for (source, name) in ecs_topology_core::events::observed_events() {
        names.entry(source).or_default().push(name);
    }
    names
        .into_iter()
        .map(|(source, names)| {
            let service = source.strip_suffix(".amazonaws.com").unwrap_or(source);
            let pattern = json!({
                "detail-type": [ecs_topology_core::events::DETAIL_TYPE],
                "source": [format!("aws.{service}")],
                "detail": {"eventSource": [source], "eventName": names}
            });
            (service, pattern)
        })
        .collect()
}
