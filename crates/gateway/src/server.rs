//! Starting and stopping the gateway: data directory, TLS, database, keys,
//! the router and its limits.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use ring::rand::SystemRandom;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use crate::config::Config;
use crate::console;
use crate::crypto::random_token;
use crate::db::{Database, Db};
use crate::error::{GatewayError, PROBLEM_JSON, Problem};
use crate::hub::Hub;
use crate::limits::{NonceIssuer, RateLimiter, ReplayCache, SignInLimiter};
use crate::page_tokens::PageTokens;
use crate::state::{AppState, Shared, client_ip};
use crate::tls::{
    ensure_demo_certificates, install_ring_provider, server_config, write_private_file,
};
use crate::{api, bank, demo, oauth, stream, web};

/// The largest request body accepted, in bytes (protocol section 3).
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// The bank API key's file name in the data directory.
pub const BANK_API_KEY_FILE: &str = "bank-api-key";

/// A gateway that is accepting connections.
#[derive(Debug)]
pub struct RunningGateway {
    /// The issuer URL.
    pub issuer: String,
    /// The address actually bound.
    pub local_addr: SocketAddr,
    /// The demo CA certificate, when the gateway made its own.
    pub ca_file: Option<PathBuf>,
    /// Where the bank API key was written.
    pub api_key_file: PathBuf,
    /// Where metrics and health checks are served (`--admin-listen`).
    pub admin_addr: Option<SocketAddr>,
    state: Shared,
    handle: axum_server::Handle,
    shutdown: watch::Sender<bool>,
    server: JoinHandle<std::io::Result<()>>,
    admin: Option<JoinHandle<()>>,
    demo: Option<JoinHandle<()>>,
}

impl RunningGateway {
    /// The one line printed on stdout when ready; tests parse it.
    pub fn ready_line(&self) -> String {
        format!(
            "strongroom-gateway ready issuer={} ca={} api_key_file={} listen={} admin={}",
            self.issuer,
            self.ca_file
                .as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_else(|| "-".into()),
            self.api_key_file.display(),
            self.local_addr,
            self.admin_addr
                .map_or_else(|| "-".to_owned(), |a| a.to_string())
        )
    }

    /// How many devices have a stream open now.
    pub fn open_streams(&self) -> usize {
        self.state.hub.open_streams()
    }

    /// How many DPoP proof ids the replay cache holds now.
    pub fn remembered_proofs(&self) -> usize {
        self.state.replay.len()
    }

    /// The readiness checks `/readyz` runs, to run from elsewhere
    /// (systemd's watchdog).
    pub fn readiness_probe(&self) -> crate::admin::ReadinessProbe {
        crate::admin::ReadinessProbe(Arc::clone(&self.state))
    }

    /// Stops gracefully: streams are closed with 1001, requests in flight
    /// get up to five seconds, then the database writer drains and stops.
    pub async fn shutdown(self) {
        let _ = self.shutdown.send(true);
        self.handle.graceful_shutdown(Some(Duration::from_secs(5)));
        let _ = self.server.await;
        if let Some(admin) = self.admin {
            let _ = admin.await;
        }
        if let Some(demo) = self.demo {
            demo.abort();
            let _ = demo.await;
        }
        let db = Arc::clone(&self.state.db);
        drop(self.state);
        let _ = tokio::task::spawn_blocking(move || db.close()).await;
    }
}

fn create_private_dir(dir: &Path) -> Result<(), GatewayError> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder
        .create(dir)
        .map_err(|e| GatewayError::io(format!("creating {}", dir.display()), e))?;
    // An existing directory keeps whatever mode it had: make it private
    // too, or refuse to start (the database holds the signing keys).
    set_mode(dir, 0o700)
}

/// Sets `path`'s permission bits (Unix; elsewhere nothing to do).
fn set_mode(path: &Path, mode: u32) -> Result<(), GatewayError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).map_err(|e| {
            GatewayError::io(
                format!(
                    "making {} private (mode {mode:o}); fix its owner or permissions",
                    path.display()
                ),
                e,
            )
        })?;
    }
    #[cfg(not(unix))]
    let _ = (path, mode);
    Ok(())
}

/// The files in the data directory that hold secrets: the database (alert
/// signing keys, token hashes) with its WAL and shared memory, the bank API
/// key and the demo server key.
const PRIVATE_FILES: &[&str] = &[
    "gateway.db",
    "gateway.db-wal",
    "gateway.db-shm",
    BANK_API_KEY_FILE,
    crate::tls::DEMO_SERVER_KEY_FILE,
];

/// Makes every secret file that exists in the data directory 0600. The
/// database is created 0600 before SQLite opens it, so its WAL and shared
/// memory (which SQLite creates with the database's mode) are too.
fn make_files_private(data_dir: &Path) -> Result<(), GatewayError> {
    let db = data_dir.join("gateway.db");
    if !db.exists() {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(false);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        options
            .open(&db)
            .map_err(|e| GatewayError::io(format!("creating {}", db.display()), e))?;
    }
    for name in PRIVATE_FILES {
        let path = data_dir.join(name);
        if path.exists() {
            set_mode(&path, 0o600)?;
        }
    }
    Ok(())
}

/// The `initial` bank API key ([`bank::clients`]): made on first run (or,
/// on SQLite, when its file is gone and the key was not revoked), written
/// to `<data-dir>/bank-api-key` (0600); only its SHA-256 is stored.
///
/// Storing it is one write job, and writes are serialised across the
/// gateways of a database, so gateways started at the same moment on one
/// PostgreSQL make one key: the first stores it, the others find keys
/// there. The key file then exists only in that gateway's data directory;
/// a gateway of a shared database never replaces the key because its own
/// directory lacks the file.
async fn initial_bank_key(
    db: &Arc<Db>,
    data_dir: &Path,
    rng: &SystemRandom,
) -> Result<(), GatewayError> {
    use bank::clients::{Initial, initial_key};
    let file = data_dir.join(BANK_API_KEY_FILE);
    let replace = !file.exists() && !db.is_shared();
    let key = format!("srk_{}", random_token(rng));
    // Written aside first: once its hash is stored, a key that no file
    // holds would lock the bank out.
    let pending = data_dir.join(format!("{BANK_API_KEY_FILE}.new"));
    write_private_file(&pending, format!("{key}\n").as_bytes())?;
    let stored = db
        .write_exclusive(move |c| initial_key(c, &key, replace))
        .await;
    let outcome = match &stored {
        Ok(Initial::Stored) => std::fs::rename(&pending, &file)
            .map_err(|e| GatewayError::io(format!("writing {}", file.display()), e)),
        _ => std::fs::remove_file(&pending)
            .map_err(|e| GatewayError::io(format!("removing {}", pending.display()), e)),
    };
    let stored = stored?;
    outcome?;
    if stored == Initial::Kept && !file.exists() {
        tracing::warn!(
            "no bank API key file here: the keys were made by another gateway sharing this \
             database, or the initial key was revoked; add one with `strongroom-gateway api-key add`"
        );
    }
    Ok(())
}

/// Rewrites error responses that are not already JSON or HTML (axum's own
/// rejections: unknown route, wrong method, body too large, bad
/// extractors) as RFC 9457 problems, keeping the status.
async fn problems_for_plain_errors(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if content_type.starts_with("application/json")
        || content_type.starts_with(PROBLEM_JSON)
        || content_type.starts_with("text/html")
    {
        return response;
    }
    let (code, detail) = match status {
        StatusCode::NOT_FOUND => ("not_found", "no such resource"),
        StatusCode::METHOD_NOT_ALLOWED => ("method_not_allowed", "this method is not allowed here"),
        StatusCode::PAYLOAD_TOO_LARGE => ("too_large", "request bodies are at most 64 KiB"),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ("unsupported_media_type", "wrong content type"),
        StatusCode::UNPROCESSABLE_ENTITY => {
            ("invalid_body", "the body is not what this endpoint takes")
        }
        s if s.is_server_error() => ("internal", "the gateway could not complete the request"),
        _ => ("bad_request", "the request is malformed"),
    };
    let allow = response.headers().get(header::ALLOW).cloned();
    let mut problem = Problem::new(status, code, detail).into_response();
    if let Some(allow) = allow {
        problem.headers_mut().insert(header::ALLOW, allow);
    }
    problem
}

/// RFC 9728 section 5.1: a 401 from the messaging API names, in its
/// `WWW-Authenticate` challenge, where the gateway's resource metadata is,
/// so that a client can find the authorization server to ask.
async fn name_resource_metadata(
    State(state): State<Shared>,
    request: Request,
    next: Next,
) -> Response {
    let mut response = next.run(request).await;
    let challenge = response
        .headers()
        .get(header::WWW_AUTHENTICATE)
        .and_then(|v| v.to_str().ok())
        .filter(|c| c.starts_with("DPoP"))
        .map(|c| {
            format!(
                "{c}, resource_metadata=\"{}\"",
                state.url("/.well-known/oauth-protected-resource")
            )
        });
    if let Some(value) = challenge.and_then(|c| HeaderValue::from_str(&c).ok()) {
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, value);
    }
    response
}

/// Token bucket per client address (IPv6 by /64) for the OAuth endpoints, the web page and the
/// messaging API (`--rate-limit` per second, bursts of twice that).
async fn limit_by_ip(State(state): State<Shared>, request: Request, next: Next) -> Response {
    let ip = crate::limits::source_key(client_ip(&request));
    match state.limiter.take(&format!("ip:{ip}")).await {
        Ok(Ok(())) => next.run(request).await,
        Ok(Err(wait)) => Problem::too_many(wait).into_response(),
        Err(e) => Problem::from(e).into_response(),
    }
}

async fn not_found() -> Response {
    Problem::not_found("no such resource").into_response()
}

/// The gateway's routes.
pub fn router(state: Shared) -> Router {
    // The built-in authorization server, unless the bank runs its own: then
    // the gateway is only a protected resource, and its metadata names the
    // bank's server.
    let built_in_as = if state.bank_as.is_none() {
        Router::new()
            .route(
                "/.well-known/oauth-authorization-server",
                get(oauth::metadata),
            )
            .route(
                "/oauth/device_authorization",
                post(oauth::device_authorization),
            )
            .route("/oauth/token", post(oauth::token))
            .route("/oauth/revoke", post(oauth::revoke))
            .route("/device", get(web::show).post(web::sign_in))
            .route("/device/decision", post(web::decide))
            .route("/device/style.css", get(web::style))
    } else {
        Router::new()
    };
    let public = built_in_as
        .route("/console", get(console::home))
        .route("/console/sign-in", post(console::sign_in))
        .route("/console/sign-out", post(console::sign_out))
        .route("/console/sso", get(console::sso_start))
        .route("/console/oidc/callback", get(console::sso_callback))
        .route("/console/c/{customer}", get(console::conversation))
        .route("/console/c/{customer}/reply", post(console::reply))
        .route("/console/c/{customer}/resolve", post(console::resolve))
        .route("/console/c/{customer}/alert", post(console::compose))
        .route("/console/c/{customer}/call", post(console::start_call))
        .route(
            "/console/scam-reports/{report}/handled",
            post(console::scam_report_handled),
        )
        .route(
            "/console/c/{customer}/call/{call}/renew",
            post(console::renew_call),
        )
        .route(
            "/console/c/{customer}/call/{call}/end",
            post(console::end_call),
        )
        .route("/console/c/{customer}/alerts", get(console::alerts))
        .route("/console/approvals", get(crate::approvals::page))
        .route(
            "/console/approvals/{id}",
            post(crate::approvals::decide_form),
        )
        .route("/console/flags", get(console::flags_page))
        .route("/console/flags/members", post(console::add_members))
        .route("/console/flags/set", post(console::set_flag))
        .route("/console/events", get(console::events))
        .route("/console/live.js", get(console::live_js))
        .route("/console/audit", get(console::audit_page))
        .route("/console/audit.csv", get(console::audit_csv))
        .route("/ssf/events", post(crate::signals::push))
        // The bank API's description: public, as integrators read it
        // before they hold a key.
        .route("/bank/v1/openapi.json", get(bank::openapi::get_openapi))
        .route(
            "/.well-known/ssf-configuration",
            get(crate::transmitter::streams::configuration),
        )
        .route_layer(middleware::from_fn_with_state(
            Arc::clone(&state),
            limit_by_ip,
        ));
    // The messaging API: the per-IP limit first (before any signature is
    // checked or any database read is made), then `authenticate` applies
    // the per-device limit.
    let messaging = Router::new()
        .route("/v1/stream", get(stream::upgrade))
        .route("/v1/chat", post(api::send_chat))
        .route("/v1/fraud-answers", post(api::fraud_answer))
        .route("/v1/scam-reports", post(crate::scam_reports::report))
        .route("/v1/history", get(api::history))
        .route("/v1/link", get(crate::resource::link))
        .route("/v1/unlink", post(crate::resource::unlink))
        .route_layer(middleware::from_fn_with_state(
            Arc::clone(&state),
            limit_by_ip,
        ))
        .route_layer(middleware::from_fn_with_state(
            Arc::clone(&state),
            name_resource_metadata,
        ));
    let mut bank_api = Router::new()
        .route("/bank/v1/customers", post(bank::post_customer))
        .route("/bank/v1/transactions", post(bank::post_transaction))
        .route("/bank/v1/alerts", post(bank::post_alert))
        .route("/bank/v1/signed-alerts", post(bank::post_signed_alert))
        .route("/bank/v1/chat", get(bank::get_chat).post(bank::post_chat))
        .route("/bank/v1/fraud-answers", get(bank::get_fraud_answers))
        .route(
            "/bank/v1/scam-reports",
            get(crate::scam_reports::get_scam_reports),
        )
        .route("/bank/v1/flags", post(bank::post_flags))
        .route("/bank/v1/deliveries", get(bank::get_deliveries))
        .route("/bank/v1/keys/rotate", post(bank::post_rotate))
        // The gateway as the bank's Shared Signals transmitter.
        .route(
            "/ssf/streams",
            get(crate::transmitter::streams::get)
                .post(crate::transmitter::streams::create)
                .patch(crate::transmitter::streams::update)
                .delete(crate::transmitter::streams::delete),
        )
        .route(
            "/ssf/status",
            get(crate::transmitter::streams::get_status)
                .post(crate::transmitter::streams::set_status),
        )
        .route("/ssf/verify", post(crate::transmitter::streams::verify))
        .route("/ssf/poll", post(crate::transmitter::poll::poll));
    if state.config.bench {
        bank_api = bank_api.route("/bank/v1/bench/devices", post(bank::post_bench_device));
    }
    // The key check runs first (outermost), then a retried POST is
    // answered from its Idempotency-Key before it reaches its handler.
    let bank_api = bank_api
        .route_layer(middleware::from_fn_with_state(
            Arc::clone(&state),
            bank::idempotency::idempotent_posts,
        ))
        .route_layer(middleware::from_fn_with_state(
            Arc::clone(&state),
            bank::require_bank_key,
        ));
    Router::new()
        .route(
            "/.well-known/oauth-protected-resource",
            get(crate::resource::metadata),
        )
        .route("/oauth/jwks", get(oauth::jwks))
        .route("/v1/alert-keys", get(oauth::jwks))
        .merge(public)
        .merge(messaging)
        .merge(bank_api)
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(middleware::from_fn(problems_for_plain_errors))
        .layer(middleware::from_fn(crate::logging::with_request_id))
        .with_state(state)
}

/// A gateway for a real bank must not let anyone in with a published demo
/// password: started without `--demo` on a database that still holds demo
/// accounts, it refuses to start and says how to remove them.
async fn refuse_demo_leftovers(db: &Db, database: &Database) -> Result<(), GatewayError> {
    let found = db.read(demo::leftovers).await?;
    if found.is_empty() {
        return Ok(());
    }
    let target = match database {
        Database::Sqlite(path) => match path.parent() {
            Some(dir) => format!("--data-dir {}", dir.display()),
            None => format!("--database {}", path.display()),
        },
        Database::Postgres(_) => "--database <the same URL>".into(),
    };
    Err(GatewayError::Config(format!(
        "this database holds demo accounts with published passwords ({}); a gateway without \
         --demo does not start while anyone can sign in with them. Remove them (with no \
         gateway running) with: strongroom-gateway demo remove {target}",
        found.join(", ")
    )))
}

/// Connections the kernel queues for `accept` (it caps this at
/// `net.core.somaxconn`). After a restart every device reconnects within a
/// few seconds (the reconnect storm); tokio's default of 1,024 drops SYNs
/// then, and each dropped one costs its device a second or more.
const LISTEN_BACKLOG: u32 = 16_384;

/// Binds `address` with [`LISTEN_BACKLOG`] (and `SO_REUSEADDR`, so a
/// restarted gateway takes its port back at once).
fn listen(address: std::net::SocketAddr) -> std::io::Result<tokio::net::TcpListener> {
    let socket = if address.is_ipv4() {
        tokio::net::TcpSocket::new_v4()?
    } else {
        tokio::net::TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    socket.bind(address)?;
    socket.listen(LISTEN_BACKLOG)
}

/// Starts the gateway: everything up to accepting connections.
///
/// # Errors
/// Any [`GatewayError`] on the way (bad certificate, unwritable data
/// directory, port in use...).
pub async fn start(config: Config) -> Result<RunningGateway, GatewayError> {
    install_ring_provider();
    // Thousands of streams need thousands of descriptors; a failure here
    // only lowers how many the gateway can hold (and its connection cap).
    let fd_limit = rlimit::increase_nofile_limit(u64::MAX)
        .or_else(|_| rlimit::getrlimit(rlimit::Resource::NOFILE).map(|(soft, _)| soft))
        .unwrap_or(1_024);
    create_private_dir(&config.data_dir)?;
    let data_dir = std::fs::canonicalize(&config.data_dir)
        .map_err(|e| GatewayError::io(format!("resolving {}", config.data_dir.display()), e))?;

    let (ca_file, cert, key) = match (&config.cert, &config.key) {
        (Some(cert), Some(key)) => (None, cert.clone(), key.clone()),
        _ => {
            let (ca, cert, key) = ensure_demo_certificates(&data_dir)?;
            (Some(ca), cert, key)
        }
    };
    let tls = server_config(&cert, &key)?;

    make_files_private(&data_dir)?;
    let database = config
        .database
        .clone()
        .unwrap_or_else(|| Database::Sqlite(data_dir.join("gateway.db")));
    let db = Arc::new(Db::open_with(&database, config.broker.as_ref()).await?);
    // Gateways started together on one database make one first key.
    let signing = db.write_exclusive(crate::keys::load_or_create).await?;
    let rng = SystemRandom::new();
    initial_bank_key(&db, &data_dir, &rng).await?;
    let dummy_password = random_token(&rng);
    let hash_rng = rng.clone();
    let dummy_password_hash = tokio::task::spawn_blocking(move || {
        crate::passwords::hash_password(&dummy_password, &hash_rng)
    })
    .await
    .map_err(|e| GatewayError::Config(e.to_string()))??;

    let listener = listen(config.listen)
        .map_err(|e| GatewayError::io(format!("listening on {}", config.listen), e))?;
    let local_addr = listener
        .local_addr()
        .map_err(|e| GatewayError::io("reading the bound address", e))?;
    let listener = listener
        .into_std()
        .map_err(|e| GatewayError::io("preparing the listener", e))?;
    let issuer = match &config.public_url {
        Some(url) => url.clone(),
        None if local_addr.ip().is_unspecified() => {
            format!("https://localhost:{}", local_addr.port())
        }
        None => format!("https://{local_addr}"),
    };

    let bank_as = config
        .bank_as
        .as_ref()
        .map(|a| crate::bank_as::BankAs::new(a, &issuer))
        .transpose()?;
    let signals = match (&config.signals, &bank_as) {
        (Some(signals), Some(bank_as)) => Some(crate::signals::Transmitter::new(
            signals,
            bank_as.resource(),
            bank_as.issuer(),
        )?),
        _ => None,
    };
    let staff_idp = config
        .staff_sso
        .as_ref()
        .map(crate::console::StaffIdp::new)
        .transpose()?;
    let (shutdown_tx, shutdown_rx) = watch::channel(false);
    let (links_tx, links_rx) = mpsc::unbounded_channel();
    // Nonces and page tokens are keyed alike on every gateway of a shared
    // database, so whichever gets the next request accepts them.
    let nonce_key = crate::cluster::shared_key(&db, &rng, "dpop-nonce").await?;
    let page_key = crate::cluster::shared_key(&db, &rng, "page-tokens").await?;
    crate::cluster::start_sweeping(Arc::clone(&db), shutdown_rx.clone());
    let state: Shared = Arc::new(AppState {
        limiter: RateLimiter::for_database(config.rate_limit, &db),
        replay: ReplayCache::for_database(&db),
        sign_ins: SignInLimiter::for_database(&db),
        pages: PageTokens::for_database(&db, page_key),
        nonces: NonceIssuer::with_key(nonce_key),
        config: config.clone(),
        issuer: issuer.clone(),
        db,
        acks: crate::db::CoalescedWrites::new(crate::acks::record_acks),
        customer_ids: crate::state::CustomerIds::default(),
        bank_keys: crate::bank::clients::LiveKeys::default(),
        customer_subjects: crate::state::CustomerSubjects::default(),
        hub: Arc::new(Hub::default()),
        connections: crate::connections::ConnectionLimit::new(
            config
                .max_connections
                .unwrap_or_else(|| crate::connections::default_max(fd_limit)),
        ),
        rng: rng.clone(),
        signing: RwLock::new(signing),
        password_checks: Arc::new(tokio::sync::Semaphore::new(
            std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get),
        )),
        links: links_tx,
        console_events: tokio::sync::broadcast::channel(256).0,
        shutdown: shutdown_rx,
        bank_as,
        signals,
        staff_idp,
        dummy_password_hash,
        stages: config
            .bench
            .then(|| Arc::new(crate::stages::StageProbe::default())),
    });

    // With PostgreSQL, other gateway processes may share the database:
    // hear what they commit, for the streams and consoles held here.
    let hub = Arc::clone(&state.hub);
    let console = state.console_events.clone();
    state.db.listen(Arc::new(move |line: &str, ours: bool| {
        hub.hear(line, &console, ours)
    }))?;

    // Events to the bank's Shared Signals receivers, pushed from the
    // outbox (the database's, shared by a cluster).
    crate::transmitter::push::start(
        Arc::clone(&state),
        crate::bank_as::http_client(config.event_receivers_ca.as_deref())?,
        state.shutdown.clone(),
    );

    if config.demo {
        demo::seed(&state).await?;
    } else {
        refuse_demo_leftovers(&state.db, &database).await?;
    }

    let (admin_addr, admin) = match config.admin_listen {
        Some(addr) => {
            let (bound, task) = crate::admin::start(Arc::clone(&state), addr).await?;
            (Some(bound), Some(task))
        }
        None => (None, None),
    };
    let handle = axum_server::Handle::new();
    let app = router(Arc::clone(&state)).into_make_service_with_connect_info::<SocketAddr>();
    // PROXY headers from the configured load balancers come before TLS.
    // Counted first, then a bounded number of handshakes at a time.
    let acceptor = crate::connections::Admission::new(crate::tls_stream::TlsAcceptor::new(
        crate::proxy_protocol::ProxyAcceptor::new(
            config.proxy_protocol_from.clone(),
            Arc::clone(&state.connections),
        ),
        tls,
    ));
    let server = tokio::spawn(
        axum_server::from_tcp(listener)
            .acceptor(acceptor)
            .handle(handle.clone())
            .serve(app),
    );
    // `serve` binds nothing (the listener is ours), but wait until it runs.
    let _ = handle.listening().await;

    let demo = config
        .demo
        .then(|| demo::spawn(Arc::clone(&state), links_rx, ca_file.clone()));

    Ok(RunningGateway {
        issuer,
        local_addr,
        ca_file,
        api_key_file: data_dir.join(BANK_API_KEY_FILE),
        admin_addr,
        state,
        handle,
        shutdown: shutdown_tx,
        server,
        admin,
        demo,
    })
}
