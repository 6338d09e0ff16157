use std::time::Duration;

use ecs_topology_core::model::Kind;
use ecs_topology_core::plan::{DocumentPlan, FieldChange, Verb};
use ecs_topology_core::status::{ErrorClass, ErrorInfo};
use serde_json::Value;

use super::*;
use crate::commands::healthcheck::{Reply, get};

/// A server on a free loopback port, with what the test drives it through.
struct Running {
    addr: SocketAddr,
    health: Arc<Health>,
    statuses: Statuses,
    shutdown: CancellationToken,
    task: tokio::task::JoinHandle<anyhow::Result<()>>,
    _leading: watch::Sender<bool>,
}

async fn start() -> Running {
    let health = Arc::new(Health::new());
    let statuses = Statuses::default();
    let (leading_tx, leading) = watch::channel(true);
    let state = ServerState {
        controller: "ecs-topology-test".into(),
        metrics: Arc::new(Metrics::new().unwrap()),
        health: health.clone(),
        statuses: statuses.clone(),
        leading,
        inspector: None,
    };
    let server = Server::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .unwrap();
    let addr = server.local_addr().unwrap();
    assert_ne!(addr.port(), 0);
    let shutdown = CancellationToken::new();
    let task = tokio::spawn(server.run(state, shutdown.clone()));
    Running {
        addr,
        health,
        statuses,
        shutdown,
        task,
        _leading: leading_tx,
    }
}

impl Running {
    async fn get(&self, path: &str) -> Reply {
        let url = format!("http://{}{path}", self.addr);
        tokio::task::spawn_blocking(move || get(&url, Duration::from_secs(10)))
            .await
            .unwrap()
            .unwrap()
    }

    async fn json(&self, path: &str) -> (u16, Value) {
        let reply = self.get(path).await;
        (reply.status, serde_json::from_str(&reply.body).unwrap())
    }
}

#[tokio::test]
async fn healthz_is_503_naming_a_task_that_stopped_beating() {
    let server = start().await;
    assert_eq!(server.json("/healthz").await.0, 503);
    let runner = server.health.register("runner", Duration::from_secs(3600));
    runner.beat();
    assert_eq!(
        server.json("/healthz").await,
        (200, json!({"healthy": true}))
    );

    // A limit of zero: stale as soon as any time has passed since its last beat.
    server.health.register("observer", Duration::ZERO);
    tokio::time::sleep(Duration::from_millis(5)).await;
    let (code, body) = server.json("/healthz").await;
    assert_eq!(code, 503);
    let reasons = body["reasons"].as_array().unwrap();
    assert_eq!(reasons.len(), 1, "{body}");
    assert!(
        reasons[0].as_str().unwrap().contains("`observer`"),
        "{body}"
    );

    server
        .health
        .register("observer", Duration::from_secs(3600));
    assert_eq!(server.json("/healthz").await.0, 200);
}

#[tokio::test]
async fn readyz_is_503_until_every_source_loaded_and_the_lease_state_is_known() {
    let server = start().await;
    let (code, body) = server.json("/readyz").await;
    assert_eq!((code, &body["ready"]), (503, &json!(false)));

    server.health.expect_source("s3://desired/prod/");
    server.health.expect_source("dynamodb://documents");
    server.health.expect_lease();
    server.health.source_loaded("s3://desired/prod/");
    let (code, body) = server.json("/readyz").await;
    assert_eq!(code, 503);
    assert_eq!(
        body["reasons"],
        json!([
            "source dynamodb://documents has not loaded completely yet",
            "lease state not known yet"
        ])
    );

    server.health.source_loaded("dynamodb://documents");
    server.health.lease_known();
    assert_eq!(server.json("/readyz").await, (200, json!({"ready": true})));
}

#[tokio::test]
async fn status_lists_every_document_with_conditions_drifted_fields_and_last_error() {
    let server = start().await;
    let key = Key::new(Kind::CloudMapNamespace, "payments");
    let plan = DocumentPlan::new(key.clone(), Verb::Update).with_changes(vec![FieldChange {
        path: "description".into(),
        from: Some(json!("old")),
        to: Some(json!("new")),
    }]);
    let mut status = DocumentStatus::default();
    status.record_plan(&plan, "r1", 100);
    let error = ErrorInfo::new(ErrorClass::Throttling, "rate exceeded");
    status.record_outcome(Some(Err(error)), None, 100);
    let record = StatusRecord {
        key: key.clone(),
        account: "111111111111".into(),
        region: "eu-west-1".into(),
        status,
    };
    server
        .statuses
        .write()
        .unwrap()
        .insert(key, Arc::new(record));
    server.health.expect_source("examples/");
    server.health.source_loaded("examples/");

    let (code, body) = server.json("/status").await;
    assert_eq!(code, 200);
    assert_eq!(body["controller"], "ecs-topology-test");
    assert_eq!(body["leader"], true);
    assert_eq!(body["ready"], true);
    assert_eq!(
        body["counts"],
        json!({"documents": 1, "synced": 0, "drifted": 1, "failing": 1})
    );
    let doc = &body["documents"][0];
    assert_eq!(doc["key"], "CloudMapNamespace/payments");
    assert_eq!(doc["kind"], "CloudMapNamespace");
    assert_eq!(doc["name"], "payments");
    assert_eq!(doc["account"], "111111111111");
    assert_eq!(doc["region"], "eu-west-1");
    assert_eq!(doc["observedRevision"], "r1");
    assert_eq!(doc["driftedFields"], json!(["description"]));
    assert_eq!(
        doc["lastError"],
        json!({"class": "throttling", "message": "rate exceeded"})
    );
    let conditions: Vec<(&str, &str)> = doc["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["type"].as_str().unwrap(), c["status"].as_str().unwrap()))
        .collect();
    assert_eq!(
        conditions,
        [
            ("Ready", "Unknown"),
            ("Synced", "False"),
            ("Drifted", "True")
        ]
    );
}

#[test]
fn status_is_serialised_from_a_copy_while_the_workers_can_write_statuses() {
    let statuses = Statuses::default();
    let key = Key::new(Kind::CloudMapNamespace, "payments");
    let record = StatusRecord {
        key: key.clone(),
        account: "111111111111".into(),
        region: "eu-west-1".into(),
        status: DocumentStatus::default(),
    };
    statuses
        .write()
        .unwrap()
        .insert(key.clone(), Arc::new(record));
    let (_leader, leading) = watch::channel(true);
    let state = ServerState {
        controller: "ecs-topology-test".into(),
        metrics: Arc::new(Metrics::new().unwrap()),
        health: Arc::new(Health::new()),
        statuses: statuses.clone(),
        leading,
        inspector: None,
    };

    let records = status_records(&state.statuses);
    let chunks = status_body(&state, records);
    // While the page is built and serialised, a worker writes a status without waiting.
    let mut writer = statuses
        .try_write()
        .expect("the lock is free while /status serialises");
    writer.remove(&key);
    let body: Value = serde_json::from_slice(&chunks.flatten().collect::<Vec<u8>>()).unwrap();
    drop(writer);
    assert_eq!(body["documents"][0]["key"], "CloudMapNamespace/payments");
    assert_eq!(body["counts"]["documents"], 1);
}

#[test]
fn status_is_one_json_page_whatever_the_number_of_chunks() {
    let (_leader, leading) = watch::channel(false);
    let state = ServerState {
        controller: "ecs-topology-test".into(),
        metrics: Arc::new(Metrics::new().unwrap()),
        health: Arc::new(Health::new()),
        statuses: Statuses::default(),
        leading,
        inspector: None,
    };
    for n in [0, 1, STATUS_CHUNK, STATUS_CHUNK + 1, 2 * STATUS_CHUNK + 3] {
        let records: Vec<Arc<StatusRecord>> = (0..n)
            .map(|i| {
                Arc::new(StatusRecord {
                    key: Key::new(Kind::CloudMapNamespace, format!("ns-{i:04}")),
                    account: "111111111111".into(),
                    region: "eu-west-1".into(),
                    status: DocumentStatus::default(),
                })
            })
            .collect();
        let chunks: Vec<Vec<u8>> = status_body(&state, records.clone()).collect();
        // The head, a chunk per STATUS_CHUNK documents, the end.
        assert_eq!(chunks.len(), n.div_ceil(STATUS_CHUNK) + 2, "{n} documents");
        let body: Value = serde_json::from_slice(&chunks.concat()).unwrap();
        assert_eq!(body["controller"], "ecs-topology-test");
        assert_eq!(body["leader"], false);
        assert_eq!(body["counts"]["documents"], n);
        let documents = body["documents"].as_array().unwrap();
        let expected: Vec<Value> = records
            .iter()
            .map(|r| serde_json::to_value(entry(r)).unwrap())
            .collect();
        assert_eq!(documents, &expected, "{n} documents");
    }
}

#[tokio::test]
async fn metrics_are_served_in_the_prometheus_text_format() {
    let server = start().await;
    let reply = server.get("/metrics").await;
    assert_eq!(reply.status, 200);
    assert_eq!(
        reply.content_type.as_deref(),
        Some("text/plain; version=0.0.4")
    );
    assert!(
        reply.body.contains("ecs_topology_leader 1"),
        "{}",
        reply.body
    );
    assert!(
        reply
            .body
            .contains("ecs_topology_oldest_unsynced_document_seconds 0"),
        "{}",
        reply.body
    );
    assert_eq!(server.get("/nothing-here").await.status, 404);
}

#[tokio::test]
async fn the_server_returns_once_shutdown_is_cancelled() {
    let server = start().await;
    assert_eq!(server.get("/metrics").await.status, 200);
    server.shutdown.cancel();
    let result = tokio::time::timeout(Duration::from_secs(10), server.task)
        .await
        .unwrap()
        .unwrap();
    assert!(result.is_ok(), "{result:?}");
}
