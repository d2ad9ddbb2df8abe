//! The admin listener (`--admin-listen`): Prometheus metrics and health
//! checks for the bank's operations team, in plain HTTP on an address of
//! their choosing (loopback, or a management network), apart from the
//! customers' TLS port so that nothing on the public side reaches it.
//!
//! - `GET /metrics`: [`crate::metrics`], OpenMetrics text.
//! - `GET /healthz`: the process is alive (its runtime answers).
//! - `GET /readyz`: it can serve: the database answers with every
//!   migration applied, the alert signing key is loaded, and it is not
//!   shutting down. 503 with the failing checks named otherwise, so a load
//!   balancer sends customers elsewhere.
//! - `GET /bench/stages`: with `--bench` only, per-alert stage times for
//!   `cargo xtask bench delivery` ([`crate::stages`]); 404 otherwise.

use std::net::SocketAddr;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tokio::task::JoinHandle;

use crate::error::GatewayError;
use crate::metrics::{OPENMETRICS, metrics};
use crate::state::Shared;

/// What the readiness check found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Readiness {
    /// The database answered, with this gateway's schema version.
    pub database: bool,
    /// The alert signing key is loaded.
    pub keys: bool,
    /// The gateway is not shutting down.
    pub serving: bool,
}

impl Readiness {
    /// Whether every check passed.
    pub fn ready(&self) -> bool {
        self.database && self.keys && self.serving
    }
}

/// Runs the readiness checks on a running gateway, from outside it
/// (systemd's watchdog).
#[derive(Debug, Clone)]
pub struct ReadinessProbe(pub(crate) Shared);

impl ReadinessProbe {
    /// Runs the checks.
    pub async fn check(&self) -> Readiness {
        readiness(&self.0).await
    }
}

/// Runs the readiness checks.
pub async fn readiness(state: &Shared) -> Readiness {
    let database = match state.db.schema_is_current().await {
        Ok(current) => current,
        Err(e) => {
            tracing::warn!(error = %e, "readiness: the database does not answer");
            false
        }
    };
    Readiness {
        database,
        keys: !state.signing().current.kid().is_empty(),
        serving: !*state.shutdown.borrow(),
    }
}

async fn metrics_text(State(state): State<Shared>) -> Response {
    let m = metrics();
    m.streams_open
        .set(i64::try_from(state.hub.open_streams()).unwrap_or(i64::MAX));
    m.connections_open
        .set(i64::try_from(state.connections.open()).unwrap_or(i64::MAX));
    m.connections_max
        .set(i64::try_from(state.connections.max()).unwrap_or(i64::MAX));
    ([(header::CONTENT_TYPE, OPENMETRICS)], m.render()).into_response()
}

async fn healthz() -> &'static str {
    "alive\n"
}

async fn readyz(State(state): State<Shared>) -> Response {
    let r = readiness(&state).await;
    let word = |ok: bool| if ok { "ok" } else { "failing" };
    let body = serde_json::json!({
        "ready": r.ready(),
        "database": word(r.database),
        "keys": word(r.keys),
        "serving": word(r.serving),
    });
    let status = if r.ready() {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, axum::Json(body)).into_response()
}

/// `GET /bench/stages`: the per-alert stage times kept since the last call
/// (and then forgotten; the first call starts the recording), for the
/// delivery benchmark; 404 unless the gateway runs with `--bench`.
async fn bench_stages(State(state): State<Shared>) -> Response {
    match &state.stages {
        Some(stages) => axum::Json(stages.take()).into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

/// Binds `addr` and serves the admin routes until the gateway shuts down;
/// the address actually bound.
///
/// # Errors
/// [`GatewayError::Io`] if the address cannot be bound.
pub async fn start(
    state: Shared,
    addr: SocketAddr,
) -> Result<(SocketAddr, JoinHandle<()>), GatewayError> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| GatewayError::io(format!("listening on {addr} (--admin-listen)"), e))?;
    let bound = listener
        .local_addr()
        .map_err(|e| GatewayError::io("reading the admin address", e))?;
    let mut shutdown = state.shutdown.clone();
    let app = Router::new()
        .route("/metrics", get(metrics_text))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/bench/stages", get(bench_stages))
        .with_state(state);
    let task = tokio::spawn(async move {
        let stopped = async move {
            let _ = shutdown.wait_for(|stop| *stop).await;
        };
        if let Err(e) = axum::serve(listener, app)
            .with_graceful_shutdown(stopped)
            .await
        {
            tracing::error!(error = %e, "the admin listener stopped");
        }
    });
    Ok((bound, task))
}
