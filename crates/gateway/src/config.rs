//! How the gateway was asked to run: its settings and their defaults
//! (`crate::settings` reads them from the command line and files).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// How the gateway was asked to run.
#[derive(Debug, Clone)]
pub struct Config {
    /// Run the demo bank: seeded customers, a local CA, synthetic transactions.
    pub demo: bool,
    /// Where the database, keys and certificates live.
    pub data_dir: PathBuf,
    /// `--database postgres://...`: keep everything in PostgreSQL, which
    /// several gateway processes can share, instead of the SQLite file in
    /// the data folder. The folder still holds the TLS files and the bank
    /// API key.
    pub database: Option<crate::db::Database>,
    /// `--broker redis://...`: the gateways sharing a PostgreSQL database
    /// announce their commits through this Redis stream instead of
    /// PostgreSQL's NOTIFY (see `docs/scale.md`).
    pub broker: Option<crate::db::Broker>,
    /// The address to listen on (port 0 picks a free port).
    pub listen: SocketAddr,
    /// `--admin-listen`: where metrics and health checks are served
    /// ([`crate::admin`]); none by default.
    pub admin_listen: Option<SocketAddr>,
    /// `--log-level`: the log filter (`info` by default); see
    /// [`crate::logging::init`].
    pub log_level: String,
    /// The issuer URL; `https://<bound address>` when absent.
    pub public_url: Option<String>,
    /// `--proxy-protocol-from`: the proxies whose connections carry a
    /// PROXY protocol v2 header naming the client (none by default).
    pub proxy_protocol_from: crate::proxy_protocol::TrustedProxies,
    /// `--max-connections`: the most client connections held at once;
    /// `None` derives it from the open-file limit
    /// ([`crate::connections::default_max`]).
    pub max_connections: Option<usize>,
    /// The server certificate chain (PEM); required without `--demo`.
    pub cert: Option<PathBuf>,
    /// The server private key (PEM); required without `--demo`.
    pub key: Option<PathBuf>,
    /// Synthetic transactions per second in demo mode (0: none).
    pub demo_rate: f64,
    /// Seconds after a customer's first device links until the scripted
    /// fraud check (0: none).
    pub demo_fraud_after: f64,
    /// Access token lifetime, seconds.
    pub access_token_ttl: u64,
    /// Requests per second per client IP (OAuth, web page) or per device
    /// (messaging API); bursts of twice that are allowed.
    pub rate_limit: f64,
    /// Enables the load-test-only enrolment endpoint (demo only).
    pub bench: bool,
    /// The bank's display name on the consent page and in the metadata.
    pub bank_name: String,
    /// `--authorization-server`: the bank's own OAuth authorization server,
    /// beside which the gateway is a protected resource (RFC 9728); `None`
    /// runs the built-in one.
    pub bank_as: Option<BankAuthorizationServer>,
    /// Extra CA certificates (PEM) to trust for the bank's Shared Signals
    /// receivers (push delivery of events to the bank).
    pub event_receivers_ca: Option<PathBuf>,
    /// `--signals-transmitter`: the bank's Shared Signals transmitter,
    /// whose CAEP events about customers the gateway receives.
    pub signals: Option<SignalsConfig>,
    /// `--staff-sso-issuer`: staff sign in to the console through the
    /// bank's identity provider (OpenID Connect).
    pub staff_sso: Option<StaffSsoConfig>,
    /// How often an open stream is pinged (30 s; not a command-line option,
    /// tests shorten it).
    pub stream_ping_interval: Duration,
    /// A stream whose device sent nothing (no frame, no pong) for this long
    /// is closed (90 s; not a command-line option, tests shorten it).
    pub stream_idle_timeout: Duration,
}

/// The bank's own authorization server, as the gateway was told of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BankAuthorizationServer {
    /// Its issuer identifier (RFC 8414), https, no trailing slash.
    pub issuer: String,
    /// The gateway's resource identifier (RFC 8707 and RFC 9728): the
    /// audience its access tokens must name; the public URL when absent.
    pub resource: Option<String>,
    /// The file with the gateway's own client credentials for token
    /// introspection (RFC 7662), readable only by the service.
    pub introspection_credentials: Option<PathBuf>,
    /// Extra CA certificates (PEM) to trust for that server, for pilots.
    pub ca: Option<PathBuf>,
    /// The claim that names the customer (`sub` unless configured), mapped
    /// to the customer's `idp_subject`.
    pub subject_claim: String,
}

/// Staff sign-in through the bank's identity provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffSsoConfig {
    /// The IdP's issuer (OpenID Connect Discovery).
    pub issuer: String,
    /// The console's client credentials there (JSON `client_id`,
    /// `client_secret`), readable only by the service.
    pub client_credentials: PathBuf,
    /// Extra CA certificates (PEM) to trust for the IdP.
    pub ca: Option<PathBuf>,
    /// The group whose members are agents.
    pub staff_group: String,
    /// The group whose members are admins.
    pub admin_group: String,
    /// The ID token claim that lists a person's groups.
    pub groups_claim: String,
}

/// The bank's Shared Signals transmitter (SSF 1.0).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignalsConfig {
    /// Its issuer; its configuration is at
    /// `<issuer>/.well-known/ssf-configuration`.
    pub transmitter: String,
    /// Extra CA certificates (PEM) to trust for it.
    pub ca: Option<PathBuf>,
}

/// `$XDG_DATA_HOME/strongroom-gateway`, else `~/.local/share/strongroom-gateway`.
pub fn default_data_dir() -> PathBuf {
    let base = std::env::var_os("XDG_DATA_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")))
        .unwrap_or_else(|| PathBuf::from("."));
    base.join("strongroom-gateway")
}

impl Default for Config {
    fn default() -> Self {
        Config {
            demo: false,
            data_dir: default_data_dir(),
            database: None,
            broker: None,
            listen: SocketAddr::from(([127, 0, 0, 1], 8443)),
            public_url: None,
            admin_listen: None,
            log_level: "info".into(),
            proxy_protocol_from: crate::proxy_protocol::TrustedProxies::default(),
            max_connections: None,
            cert: None,
            key: None,
            demo_rate: 0.5,
            demo_fraud_after: 15.0,
            access_token_ttl: 900,
            rate_limit: 20.0,
            bench: false,
            bank_name: "Demo Bank".into(),
            bank_as: None,
            signals: None,
            event_receivers_ca: None,
            staff_sso: None,
            stream_ping_interval: Duration::from_secs(30),
            stream_idle_timeout: Duration::from_secs(90),
        }
    }
}
