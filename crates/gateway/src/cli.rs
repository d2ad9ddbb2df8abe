//! The gateway's command line, declared once with clap: the binary parses
//! it, [`crate::Config::from_args`] builds a server's settings from it, and
//! the packages' manual pages and shell completions are rendered from it
//! (`write-manuals`, hidden, run at package time).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use clap::{Args, CommandFactory, Parser, Subcommand};
use ring::rand::SystemRandom;

use crate::config::Config;
use crate::error::GatewayError;
use crate::staff::{self, Role};

/// `strongroom-gateway [FLAGS]` runs the gateway; its subcommands
/// administer a data folder or database without starting a server.
#[derive(Debug, Parser)]
#[command(
    name = "strongroom-gateway",
    version,
    about = "Strongroom's reference bank gateway: OAuth authorization server, messaging API, \
             bank integration API and demo bank",
    long_about = "Strongroom's reference bank gateway: the OAuth authorization server the \
                  desktop app links with, the messaging API that delivers alerts signed by \
                  the bank, the bank integration API, the agent console and, with --demo, a \
                  demo bank.\n\nRuns until SIGTERM or SIGINT. When ready it prints exactly \
                  one line on stdout (`strongroom-gateway ready issuer=... ca=... \
                  api_key_file=... listen=... admin=...`); its logs go to stderr as JSON lines.",
    args_conflicts_with_subcommands = true,
    args_override_self = true
)]
pub struct GatewayArgs {
    /// An administration command instead of the server.
    #[command(subcommand)]
    pub command: Option<AdminCommand>,
    /// The server's settings.
    #[command(flatten)]
    pub serve: ServeArgs,
}

/// How the server runs. Each setting except `--config` may also be given in
/// a configuration file; the command line wins over the file.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Read settings from FILE first: one `name = value` per line, `name` a
    /// flag without its dashes (`listen = 0.0.0.0:8443`, `demo = true`)
    #[arg(long, value_name = "FILE")]
    pub config: Vec<PathBuf>,
    /// Run the demo bank: seeded customers, a local CA, synthetic transactions
    #[arg(long)]
    pub demo: bool,
    /// Where the database, keys and certificates live [default:
    /// $XDG_DATA_HOME/strongroom-gateway]
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Keep everything in PostgreSQL, which several gateways can share,
    /// instead of SQLite in the data folder: loopback or a Unix socket, or
    /// another host with `?sslmode=verify-full&sslrootcert=CA.pem` (TLS,
    /// certificate and host name verified)
    #[arg(long, value_name = "postgres://...")]
    pub database: Option<String>,
    /// With --database: announce each commit to the other gateways through
    /// this Redis server's stream instead of PostgreSQL's NOTIFY (loopback
    /// or a Unix socket, or another host with `rediss://` and optionally
    /// `?sslrootcert=CA.pem`)
    #[arg(long, value_name = "redis://...")]
    pub broker: Option<String>,
    /// The address to listen on (port 0 picks a free port)
    #[arg(long, value_name = "ADDR", default_value_t = Config::default().listen)]
    pub listen: SocketAddr,
    /// Serve Prometheus metrics (/metrics) and health checks (/healthz,
    /// /readyz) over plain HTTP on this address (loopback or a management
    /// network; port 0 picks one)
    #[arg(long, value_name = "ADDR")]
    pub admin_listen: Option<SocketAddr>,
    /// What to log (JSON lines on stderr): a level (error, warn, info,
    /// debug: one line per request) or tracing directives
    #[arg(long, value_name = "FILTER", default_value_t = Config::default().log_level)]
    pub log_level: String,
    /// The issuer URL (https, no query or fragment) [default: https://<bound address>]
    #[arg(long, value_name = "URL")]
    pub public_url: Option<String>,
    /// The load balancers in front of the gateway (addresses or CIDR
    /// blocks, comma-separated): their connections must start with a PROXY
    /// protocol v2 header naming the client, whose address the rate limits
    /// and the audit log then use
    #[arg(long, value_name = "CIDRS")]
    pub proxy_protocol_from: Option<String>,
    /// The most client connections held open at once (device streams and
    /// requests); over it a new connection is closed before TLS [default:
    /// the open-file limit less 1,024 kept for the database and files]
    #[arg(long, value_name = "N")]
    pub max_connections: Option<usize>,
    /// The server certificate chain (PEM); required without --demo
    #[arg(long, value_name = "PEM")]
    pub cert: Option<PathBuf>,
    /// The server private key (PEM); required without --demo
    #[arg(long, value_name = "PEM")]
    pub key: Option<PathBuf>,
    /// Synthetic transactions per second in demo mode (0: none)
    #[arg(long, value_name = "TX_PER_S", allow_negative_numbers = true,
          value_parser = non_negative, default_value_t = Config::default().demo_rate)]
    pub demo_rate: f64,
    /// Seconds after a customer's first device links until the scripted
    /// fraud check (0: none)
    #[arg(long, value_name = "SECS", allow_negative_numbers = true,
          value_parser = non_negative, default_value_t = Config::default().demo_fraud_after)]
    pub demo_fraud_after: f64,
    /// Access token lifetime, at least 1 second
    #[arg(long, value_name = "SECS", allow_negative_numbers = true,
          value_parser = non_negative, default_value_t = Config::default().access_token_ttl as f64)]
    pub access_token_ttl: f64,
    /// Requests per second per client IP (OAuth, web page) or per device
    /// (messaging API), above 0; bursts of twice that are allowed
    #[arg(long, value_name = "PER_S", allow_negative_numbers = true,
          value_parser = non_negative, default_value_t = Config::default().rate_limit)]
    pub rate_limit: f64,
    /// The bank's display name on the consent page and in the metadata
    #[arg(long, value_name = "NAME", default_value_t = Config::default().bank_name)]
    pub bank_name: String,
    /// Enable the load-test-only enrolment endpoint (needs --demo)
    #[arg(long)]
    pub bench: bool,
    /// The bank's own OAuth authorization server (its issuer, https): the
    /// gateway becomes a protected resource beside it and accepts its
    /// access tokens instead of running the built-in server
    #[arg(long, value_name = "ISSUER")]
    pub authorization_server: Option<String>,
    /// The gateway's resource identifier, the audience the bank's access
    /// tokens must name [default: the public URL]
    #[arg(long, value_name = "URL", requires = "authorization_server")]
    pub resource: Option<String>,
    /// A JSON file {"client_id", "client_secret"}, readable only by the
    /// service: the gateway's credentials for token introspection (RFC 7662)
    #[arg(long, value_name = "FILE", requires = "authorization_server")]
    pub introspection_credentials: Option<PathBuf>,
    /// Extra CA certificates (PEM) to trust for the authorization server
    #[arg(long, value_name = "PEM", requires = "authorization_server")]
    pub authorization_server_ca: Option<PathBuf>,
    /// The access-token claim that names the customer (mapped to the
    /// customer's idp_subject)
    #[arg(long, value_name = "CLAIM", default_value = "sub")]
    pub subject_claim: String,
    /// The bank's Shared Signals transmitter (its issuer, https): its CAEP
    /// session-revoked and credential-change events about customers are
    /// received at /ssf/events (push, RFC 8935)
    #[arg(long, value_name = "ISSUER", requires = "authorization_server")]
    pub signals_transmitter: Option<String>,
    /// Extra CA certificates (PEM) to trust for the signals transmitter
    #[arg(long, value_name = "PEM", requires = "signals_transmitter")]
    pub signals_transmitter_ca: Option<PathBuf>,
    /// Extra CA certificates (PEM) to trust for the bank's Shared Signals
    /// receivers, which the gateway pushes events to (RFC 8935)
    #[arg(long, value_name = "PEM")]
    pub event_receivers_ca: Option<PathBuf>,
    /// Staff sign in to the console through the bank's identity provider
    /// (its OpenID issuer, https) instead of with local accounts
    #[arg(long, value_name = "ISSUER", requires = "staff_sso_client")]
    pub staff_sso_issuer: Option<String>,
    /// A JSON file {"client_id", "client_secret"}, readable only by the
    /// service: the console's client at the identity provider
    #[arg(long, value_name = "FILE", requires = "staff_sso_issuer")]
    pub staff_sso_client: Option<PathBuf>,
    /// Extra CA certificates (PEM) to trust for the identity provider
    #[arg(long, value_name = "PEM", requires = "staff_sso_issuer")]
    pub staff_sso_ca: Option<PathBuf>,
    /// The group (in the groups claim) whose members are agents
    #[arg(long, value_name = "GROUP", default_value = "strongroom-staff")]
    pub staff_group: String,
    /// The group whose members are admins
    #[arg(long, value_name = "GROUP", default_value = "strongroom-admin")]
    pub admin_group: String,
    /// The ID token claim that lists a person's groups
    #[arg(long, value_name = "CLAIM", default_value = "groups")]
    pub groups_claim: String,
}

/// A number of seconds or a rate: finite and not negative.
fn non_negative(value: &str) -> Result<f64, String> {
    value
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite() && *v >= 0.0)
        .ok_or_else(|| format!("needs a number >= 0, not {value:?}"))
}

/// The commands that administer a gateway's data without serving it.
#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Manage the agent console's staff accounts
    #[command(subcommand)]
    Staff(StaffCommand),
    /// Manage a demo bank's data
    #[command(subcommand)]
    Demo(DemoCommand),
    /// Manage the bank's API keys: named, scoped, revocable
    #[command(subcommand, name = "api-key")]
    ApiKey(ApiKeyCommand),
}

/// Which database an administration command works on.
#[derive(Debug, Args)]
pub struct DatabaseChoice {
    /// The data folder whose gateway.db to use [default:
    /// $XDG_DATA_HOME/strongroom-gateway]
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// A PostgreSQL database instead (wins over --data-dir)
    #[arg(long, value_name = "URL")]
    pub database: Option<String>,
}

impl DatabaseChoice {
    fn open(&self) -> Result<crate::db::AdminConnection, GatewayError> {
        let database = match &self.database {
            Some(url) => crate::db::Database::parse_url(url)?,
            None => crate::db::Database::Sqlite(
                self.data_dir
                    .clone()
                    .unwrap_or_else(crate::config::default_data_dir)
                    .join("gateway.db"),
            ),
        };
        crate::db::open_for_admin(&database)
    }
}

/// `strongroom-gateway staff ...`.
#[derive(Debug, Subcommand)]
pub enum StaffCommand {
    /// Add a staff account; its password is read from stdin (one line)
    Add {
        /// What they sign in with
        #[arg(long, value_name = "NAME")]
        username: String,
        /// What customers and the audit log see [default: the username]
        #[arg(long, value_name = "DISPLAY NAME")]
        name: Option<String>,
        /// agent (answers customers, sends alerts) or admin (also manages
        /// staff and pilot flags)
        #[arg(long, value_name = "agent|admin")]
        role: String,
        /// Which database to work on.
        #[command(flatten)]
        database: DatabaseChoice,
    },
    /// List the staff accounts: username, role, name, and `disabled` if so
    List {
        /// Which database to work on.
        #[command(flatten)]
        database: DatabaseChoice,
    },
    /// Disable an account and end its sessions; it stays in the audit log
    Disable {
        /// The account to disable
        #[arg(long, value_name = "NAME")]
        username: String,
        /// Which database to work on.
        #[command(flatten)]
        database: DatabaseChoice,
    },
}

/// `strongroom-gateway api-key ...`: how a bank rotates a key is add a new
/// one, move its system over, revoke the old one.
#[derive(Debug, Subcommand)]
pub enum ApiKeyCommand {
    /// Add a key and print it (the only time it is shown)
    Add {
        /// What the key is for, as listed and as it appears in logs
        #[arg(long, value_name = "NAME")]
        name: String,
        /// What it may do, repeated or comma-separated: customers, alerts,
        /// chat, answers, flags, keys, events
        #[arg(long, value_name = "SCOPE", value_delimiter = ',', required = true)]
        scope: Vec<String>,
        /// Which database to work on.
        #[command(flatten)]
        database: DatabaseChoice,
    },
    /// List the keys: name, scopes, and `revoked` if so
    List {
        /// Which database to work on.
        #[command(flatten)]
        database: DatabaseChoice,
    },
    /// Revoke a key: its next request is refused by every gateway, and its
    /// event streams are disabled
    Revoke {
        /// The key to revoke
        #[arg(long, value_name = "NAME")]
        name: String,
        /// Which database to work on.
        #[command(flatten)]
        database: DatabaseChoice,
    },
}

/// `strongroom-gateway demo ...`.
#[derive(Debug, Subcommand)]
pub enum DemoCommand {
    /// Remove the demo bank's customers and staff (with their devices and
    /// history), so that the data can serve without --demo
    Remove {
        /// Which database to work on.
        #[command(flatten)]
        database: DatabaseChoice,
    },
}

/// The whole command line as documented: what the manual pages and
/// completions describe.
pub fn command() -> clap::Command {
    GatewayArgs::command()
}

/// The name of the packaging command.
pub const WRITE_MANUALS: &str = "write-manuals";

/// [`command`] and, hidden and left out of the manuals and completions,
/// `write-manuals DIR`, which the packaging runs to render them.
pub fn command_with_packaging() -> clap::Command {
    command().subcommand(
        clap::Command::new(WRITE_MANUALS)
            .hide(true)
            .about("Write the manual pages and shell completions into DIR (packaging)")
            .arg(
                clap::Arg::new("dir")
                    .required(true)
                    .value_parser(clap::value_parser!(PathBuf)),
            ),
    )
}

/// Parses `args` (without the program name) as `strongroom-gateway`'s.
/// Usage errors and `--help` come back as [`GatewayError::Config`] with
/// clap's text.
fn parse(args: impl IntoIterator<Item = String>) -> Result<GatewayArgs, GatewayError> {
    GatewayArgs::try_parse_from(std::iter::once("strongroom-gateway".to_owned()).chain(args))
        .map_err(|e| GatewayError::Config(e.render().to_string().trim_end().to_owned()))
}

/// Parses the server's flags (without the program name).
///
/// # Errors
/// [`GatewayError::Config`] for a usage error or a subcommand.
pub fn serve_args(args: impl IntoIterator<Item = String>) -> Result<ServeArgs, GatewayError> {
    match parse(args)? {
        GatewayArgs {
            command: None,
            serve,
        } => Ok(serve),
        GatewayArgs { .. } => Err(GatewayError::Config(
            "an administration command is not a server setting".into(),
        )),
    }
}

/// Runs `strongroom-gateway staff ...` (the arguments after `staff`) on
/// the database in the data folder, reading a new password from `stdin`.
/// Returns what to print.
///
/// # Errors
/// [`GatewayError::Config`] for bad arguments (with the usage),
/// [`GatewayError::Invalid`] for a refused account, and storage errors.
pub fn staff_command(
    args: &[String],
    stdin: &mut dyn std::io::BufRead,
) -> Result<String, GatewayError> {
    let args = std::iter::once("staff".to_owned()).chain(args.iter().cloned());
    match parse(args)?.command {
        Some(AdminCommand::Staff(command)) => run_staff(command, stdin),
        _ => Err(GatewayError::Config("expected a staff command".into())),
    }
}

/// Runs a parsed staff command; see [`staff_command`].
///
/// # Errors
/// As [`staff_command`].
pub fn run_staff(
    command: StaffCommand,
    stdin: &mut dyn std::io::BufRead,
) -> Result<String, GatewayError> {
    match command {
        StaffCommand::Add {
            username,
            name,
            role,
            database,
        } => {
            let role = Role::parse(&role)?;
            let mut admin = database.open()?;
            let name = name.unwrap_or_else(|| username.clone());
            let mut line = String::new();
            stdin
                .read_line(&mut line)
                .map_err(|e| GatewayError::io("reading the password from stdin", e))?;
            let password = line.trim_end_matches(['\r', '\n']);
            let member = staff::add(
                &admin.connection(),
                &SystemRandom::new(),
                None,
                &username,
                &name,
                role,
                password,
            )?;
            Ok(format!(
                "added {} ({}, {})",
                member.username,
                member.display_name,
                member.role.as_str()
            ))
        }
        StaffCommand::List { database } => Ok(staff::list(&database.open()?.connection())?
            .iter()
            .map(|m| {
                format!(
                    "{}\t{}\t{}{}",
                    m.username,
                    m.role.as_str(),
                    m.display_name,
                    if m.disabled_at.is_some() {
                        "\tdisabled"
                    } else {
                        ""
                    }
                )
            })
            .collect::<Vec<_>>()
            .join("\n")),
        StaffCommand::Disable { username, database } => {
            staff::disable(&database.open()?.connection(), None, &username)?;
            Ok(format!("disabled {username}; its sessions are over"))
        }
    }
}

/// Runs `strongroom-gateway api-key ...` (the arguments after `api-key`).
/// Returns what to print: for `add`, the new key alone on its line.
///
/// # Errors
/// A usage error, a refused name or scope, or a storage failure.
pub fn api_key_command(args: &[String]) -> Result<String, GatewayError> {
    let args = std::iter::once("api-key".to_owned()).chain(args.iter().cloned());
    match parse(args)?.command {
        Some(AdminCommand::ApiKey(command)) => run_api_key(command),
        _ => Err(GatewayError::Config("expected an api-key command".into())),
    }
}

/// Runs a parsed api-key command; see [`api_key_command`].
///
/// # Errors
/// As [`api_key_command`].
pub fn run_api_key(command: ApiKeyCommand) -> Result<String, GatewayError> {
    use crate::bank::clients;
    match command {
        ApiKeyCommand::Add {
            name,
            scope,
            database,
        } => {
            let scopes = scope
                .iter()
                .map(|s| clients::Scope::parse(s.trim()))
                .collect::<Result<Vec<_>, _>>()?;
            let key = clients::add(
                &database.open()?.connection(),
                &SystemRandom::new(),
                &name,
                &scopes,
            )?;
            Ok(key)
        }
        ApiKeyCommand::List { database } => Ok(clients::describe(&clients::list(
            &database.open()?.connection(),
        )?)),
        ApiKeyCommand::Revoke { name, database } => {
            clients::revoke(&database.open()?.connection(), &name)?;
            Ok(format!("revoked {name}; its next request is refused"))
        }
    }
}

/// Runs `strongroom-gateway demo ...` (the arguments after `demo`).
/// Returns what to print.
///
/// # Errors
/// A usage error, or a storage failure.
pub fn demo_command(args: &[String]) -> Result<String, GatewayError> {
    let args = std::iter::once("demo".to_owned()).chain(args.iter().cloned());
    match parse(args)?.command {
        Some(AdminCommand::Demo(command)) => run_demo(command),
        _ => Err(GatewayError::Config("expected a demo command".into())),
    }
}

/// Runs a parsed demo command; see [`demo_command`].
///
/// # Errors
/// A storage failure.
pub fn run_demo(command: DemoCommand) -> Result<String, GatewayError> {
    let DemoCommand::Remove { database } = command;
    let removed = crate::demo::remove(&database.open()?.connection())?;
    Ok(if removed.is_empty() {
        "no demo accounts found".into()
    } else {
        format!("removed the demo accounts: {}", removed.join(", "))
    })
}

/// Writes `strongroom-gateway`'s manual pages (one per command, roff) and
/// its bash, zsh and fish completions into `dir`, for the package.
///
/// # Errors
/// The folder or a file cannot be written.
pub fn write_manuals(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    clap_mangen::generate_to(command(), dir)?;
    for shell in [
        clap_complete::Shell::Bash,
        clap_complete::Shell::Zsh,
        clap_complete::Shell::Fish,
    ] {
        clap_complete::generate_to(shell, &mut command(), "strongroom-gateway", dir)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_line_is_well_formed() {
        command().debug_assert();
    }

    #[test]
    fn the_command_adds_lists_and_disables() {
        let dir = tempfile::tempdir().unwrap();
        let args = |line: &str| -> Vec<String> {
            line.split(' ')
                .map(str::to_owned)
                .chain(["--data-dir".to_owned(), dir.path().display().to_string()])
                .collect()
        };
        let added = staff_command(
            &args("add --username ana --name Ana --role admin"),
            &mut &b"correct horse battery\n"[..],
        )
        .unwrap();
        assert_eq!(added, "added ana (Ana, admin)");
        assert!(matches!(
            staff_command(
                &args("add --username bo --role agent"),
                &mut &b"short\n"[..]
            ),
            Err(GatewayError::Invalid(_))
        ));
        assert!(matches!(
            staff_command(&args("add --username bo --role boss"), &mut &b""[..]),
            Err(GatewayError::Invalid(_))
        ));
        assert!(matches!(
            staff_command(&args("remove --username ana"), &mut &b""[..]),
            Err(GatewayError::Config(_))
        ));
        assert_eq!(
            staff_command(&args("list"), &mut &b""[..]).unwrap(),
            "ana\tadmin\tAna"
        );
        staff_command(&args("disable --username ana"), &mut &b""[..]).unwrap();
        assert_eq!(
            staff_command(&args("list"), &mut &b""[..]).unwrap(),
            "ana\tadmin\tAna\tdisabled"
        );
        // The password itself is nowhere in the database.
        let db = std::fs::read(dir.path().join("gateway.db")).unwrap();
        assert!(!db.windows(21).any(|w| w == b"correct horse battery"));
    }
}
