//! The topology page (`/`, `/ui`) and what it reads beyond `/status`: `/topology` (where each
//! document sits and what it connects to) and `/plan/KIND/NAME` (the plan a document gets now).
//!
//! The page is three files compiled into the binary (no build step, no network, nothing read from
//! disk: it works on the container's read-only filesystem). It sets every value as text, and the
//! responses forbid inline scripts and any other origin (`Content-Security-Policy`).

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use ecs_topology_core::engine::{Daemon, TopologyPage};
use ecs_topology_core::kinds::Cloud;
use ecs_topology_core::model::{Key, Kind};
use ecs_topology_core::plan::DocumentPlan;

use super::ServerState;

const INDEX: &str = include_str!("ui/index.html");
const SCRIPT: &str = include_str!("ui/app.js");
const STYLE: &str = include_str!("ui/style.css");

/// Only this origin's own files and requests; no inline script, no frames.
const POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; \
                      img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// What the page asks of the running controller.
pub trait Inspect: Send + Sync + 'static {
    fn topology(&self) -> TopologyPage;
    fn pending_plan(&self, key: &Key) -> Option<DocumentPlan>;
}

impl<C: Cloud> Inspect for Daemon<C> {
    fn topology(&self) -> TopologyPage {
        Daemon::topology(self)
    }

    fn pending_plan(&self, key: &Key) -> Option<DocumentPlan> {
        Daemon::pending_plan(self, key)
    }
}

/// A shared inspector, as [`ServerState`] holds it.
pub type Inspector = Arc<dyn Inspect>;

impl std::fmt::Debug for dyn Inspect {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Inspect")
    }
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CONTENT_SECURITY_POLICY, POLICY),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response()
}

pub async fn index() -> Response {
    asset("text/html; charset=utf-8", INDEX)
}

pub async fn script() -> Response {
    asset("text/javascript; charset=utf-8", SCRIPT)
}

pub async fn style() -> Response {
    asset("text/css; charset=utf-8", STYLE)
}

pub async fn topology(State(state): State<ServerState>) -> Response {
    match &state.inspector {
        Some(inspector) => Json(inspector.topology()).into_response(),
        None => Json(TopologyPage::default()).into_response(),
    }
}

pub async fn plan(
    State(state): State<ServerState>,
    Path((kind, name)): Path<(String, String)>,
) -> Response {
    let Some(kind) = Kind::ALL.into_iter().find(|k| k.as_str() == kind) else {
        return (StatusCode::NOT_FOUND, format!("no kind {kind}\n")).into_response();
    };
    let key = Key::new(kind, name);
    match state.inspector.as_ref().and_then(|i| i.pending_plan(&key)) {
        Some(plan) => Json(plan).into_response(),
        None => (StatusCode::NOT_FOUND, format!("no plan for {key} yet\n")).into_response(),
    }
}
