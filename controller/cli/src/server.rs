//! The controller's HTTP server: `/metrics`, `/healthz`, `/readyz` and `/status`.
//!
//! - `/metrics`: every family of [`Metrics`] in the Prometheus text format.
//! - `/healthz`: 200 while every background task registered with [`Health`] is alive (beating
//!   within its staleness limit, or still running), 503 naming the others. The ECS container
//!   health check probes it (through `ecs-topology healthcheck`): a wedged or dead task gets the
//!   container replaced.
//! - `/readyz`: 200 once every source has loaded completely once and, when a lease is
//!   configured, the lease state is known; 503 with the reasons before.
//! - `/status`: every document with its state, conditions, drifted fields and last error, as
//!   JSON.
//! - `/` and `/ui`: the topology page (see [`ui`]), with `/topology` and `/plan/KIND/NAME`.
//!
//! # Guarantees
//! The server stops accepting connections when its shutdown token is cancelled and returns once
//! the requests in flight are answered. No handler panics or blocks on the daemon's work, and the
//! daemon's work never waits on a handler: `/status` holds the statuses' lock only to copy the
//! records out, and serialises them after releasing it.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::SystemTime;

use anyhow::Context;
use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, serve as axum_serve};
use ecs_topology_core::model::Key;
use ecs_topology_core::status::{ConditionStatus, ConditionType, DocumentStatus};
use ecs_topology_core::status_store::StatusRecord;
use serde::Serialize;
use serde_json::json;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use crate::metrics::{Metrics, oldest_unsynced};

pub mod health;
pub mod ui;

pub use health::Health;

/// Every document's status, as the daemon last computed it.
pub type Statuses = Arc<RwLock<BTreeMap<Key, Arc<StatusRecord>>>>;

/// What the handlers read; cheap to clone.
#[derive(Debug, Clone)]
pub struct ServerState {
    /// The controller's name, as in its config.
    pub controller: String,
    pub metrics: Arc<Metrics>,
    pub health: Arc<Health>,
    pub statuses: Statuses,
    /// Whether this replica leads (always true without a lease).
    pub leading: watch::Receiver<bool>,
    /// The running controller, for the topology page; `None` serves an empty topology.
    pub inspector: Option<ui::Inspector>,
}

/// A bound server, not yet serving: [`local_addr`](Self::local_addr) tells the port when bound
/// to port 0.
#[derive(Debug)]
pub struct Server {
    listener: TcpListener,
}

impl Server {
    /// Binds `addr`.
    ///
    /// # Errors
    ///
    /// The address cannot be bound (in use, not local, not permitted).
    pub async fn bind(addr: SocketAddr) -> anyhow::Result<Server> {
        let listener = TcpListener::bind(addr)
            .await
            .with_context(|| format!("cannot listen on {addr}"))?;
        Ok(Server { listener })
    }

    /// # Errors
    ///
    /// The socket's address cannot be read.
    #[cfg(test)]
    pub fn local_addr(&self) -> anyhow::Result<SocketAddr> {
        Ok(self.listener.local_addr()?)
    }

    /// Serves until `shutdown` is cancelled and the requests in flight are answered.
    ///
    /// # Errors
    ///
    /// The listener failed.
    pub async fn run(self, state: ServerState, shutdown: CancellationToken) -> anyhow::Result<()> {
        axum_serve(self.listener, router(state))
            .with_graceful_shutdown(shutdown.cancelled_owned())
            .await
            .context("the HTTP server failed")
    }
}

/// Binds `addr` and serves until `shutdown` is cancelled.
///
/// # Errors
///
/// As [`Server::bind`] and [`Server::run`].
pub async fn serve(
    addr: SocketAddr,
    state: ServerState,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    Server::bind(addr).await?.run(state, shutdown).await
}

/// The routes, for serving or for testing in process.
pub fn router(state: ServerState) -> Router {
    Router::new()
        .route("/metrics", get(metrics))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/status", get(status))
        .route("/", get(ui::index))
        .route("/ui", get(ui::index))
        .route("/ui/app.js", get(ui::script))
        .route("/ui/style.css", get(ui::style))
        .route("/topology", get(ui::topology))
        .route("/plan/{kind}/{name}", get(ui::plan))
        .with_state(state)
}

fn read(statuses: &Statuses) -> std::sync::RwLockReadGuard<'_, BTreeMap<Key, Arc<StatusRecord>>> {
    statuses.read().unwrap_or_else(PoisonError::into_inner)
}

async fn metrics(State(state): State<ServerState>) -> Response {
    let age = oldest_unsynced(
        read(&state.statuses).values().map(|r| &**r),
        SystemTime::now(),
    );
    state.metrics.set_oldest_unsynced(age);
    state.metrics.set_leader(*state.leading.borrow());
    match state.metrics.encode() {
        Ok(text) => ([(header::CONTENT_TYPE, Metrics::CONTENT_TYPE)], text).into_response(),
        Err(e) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("cannot encode the metrics: {e}\n"),
        )
            .into_response(),
    }
}

async fn healthz(State(state): State<ServerState>) -> Response {
    probe("healthy", state.health.unhealthy())
}

async fn readyz(State(state): State<ServerState>) -> Response {
    probe("ready", state.health.not_ready())
}

/// A probe's answer: `{"<what>": true}` (200) when no reason stands in the way, else
/// `{"<what>": false, "reasons": [...]}` (503).
fn probe(what: &str, reasons: Vec<String>) -> Response {
    if reasons.is_empty() {
        (StatusCode::OK, Json(json!({what: true}))).into_response()
    } else {
        let body = json!({what: false, "reasons": reasons});
        (StatusCode::SERVICE_UNAVAILABLE, Json(body)).into_response()
    }
}

/// The body of `/status` before its `documents`, which follow last.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct StatusHead<'a> {
    controller: &'a str,
    leader: bool,
    ready: bool,
    counts: Counts,
}

#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
struct Counts {
    documents: usize,
    synced: usize,
    drifted: usize,
    failing: usize,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct DocumentEntry<'a> {
    /// `Kind/name`.
    key: String,
    kind: &'static str,
    name: &'a str,
    account: &'a str,
    region: &'a str,
    /// The state at a glance: `Ready`, `Waiting`, `Drifted`, `Blocked`, `Suspended`, `Failed`.
    state: &'static str,
    #[serde(flatten)]
    status: &'a DocumentStatus,
}

fn is_true(status: &DocumentStatus, kind: ConditionType) -> bool {
    status
        .condition(kind)
        .is_some_and(|c| c.status == ConditionStatus::True)
}

/// Every status record, shared out under the read lock (a reference count each, not a copy of
/// the record: at 10,000 documents a copy was 9 MB per request). The lock is released when this
/// returns, before the page is built and serialised: the workers, which take the write lock to
/// record a status, wait only for this, never for the serialisation of every document.
fn status_records(statuses: &Statuses) -> Vec<Arc<StatusRecord>> {
    read(statuses).values().cloned().collect()
}

/// Documents serialised per chunk of the `/status` body.
const STATUS_CHUNK: usize = 256;

async fn status(State(state): State<ServerState>) -> Response {
    let records = status_records(&state.statuses);
    let chunks = status_body(&state, records).map(Ok::<_, std::convert::Infallible>);
    (
        [(header::CONTENT_TYPE, "application/json")],
        Body::from_stream(futures::stream::iter(chunks)),
    )
        .into_response()
}

/// The body of `/status` for `records`, a chunk of [`STATUS_CHUNK`] documents at a time: the
/// head (controller, leader, ready, counts), then the documents. At 10,000 documents the whole
/// page is about 10 MB, which one buffer per request held at once (and the allocator kept);
/// serialising it takes no lock.
fn status_body(
    state: &ServerState,
    records: Vec<Arc<StatusRecord>>,
) -> impl Iterator<Item = Vec<u8>> + Send + 'static {
    let mut counts = Counts::default();
    for record in &records {
        let status = &record.status;
        counts.documents += 1;
        counts.synced += usize::from(is_true(status, ConditionType::Synced));
        counts.drifted += usize::from(is_true(status, ConditionType::Drifted));
        counts.failing += usize::from(status.last_error.is_some());
    }
    let head = StatusHead {
        controller: &state.controller,
        leader: *state.leading.borrow(),
        ready: state.health.not_ready().is_empty(),
        counts,
    };
    // The head object, left open for `documents`.
    let mut head = to_json(&head);
    head.pop();
    head.extend_from_slice(br#","documents":["#);
    let chunks = records.len().div_ceil(STATUS_CHUNK);
    let documents = (0..chunks).map(move |chunk| {
        let from = chunk * STATUS_CHUNK;
        let mut out = Vec::new();
        for record in &records[from..records.len().min(from + STATUS_CHUNK)] {
            // A comma before every document but the page's first.
            if from > 0 || !out.is_empty() {
                out.push(b',');
            }
            out.extend(to_json(&entry(record)));
        }
        out
    });
    std::iter::once(head)
        .chain(documents)
        .chain(std::iter::once(b"]}".to_vec()))
}

/// `record` as a document of `/status`.
fn entry(record: &StatusRecord) -> DocumentEntry<'_> {
    DocumentEntry {
        key: record.key.to_string(),
        kind: record.key.kind.as_str(),
        name: &record.key.name,
        account: &record.account,
        region: &record.region,
        state: record.status.state().as_str(),
        status: &record.status,
    }
}

/// `value` as JSON; `null`, with the error logged, for a value JSON cannot hold (none of the
/// status types: their map keys are strings).
fn to_json(value: &impl Serialize) -> Vec<u8> {
    serde_json::to_vec(value).unwrap_or_else(|e| {
        tracing::error!(error = %e, "cannot serialise a part of /status");
        b"null".to_vec()
    })
}

#[cfg(test)]
mod tests;
