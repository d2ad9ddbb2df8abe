//! The command line.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::error::GatewayError;

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
    /// The address to listen on (port 0 picks a free port).
    pub listen: SocketAddr,
    /// The issuer URL; `https://<bound address>` when absent.
    pub public_url: Option<String>,
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
    /// How often an open stream is pinged (30 s; not a command-line option,
    /// tests shorten it).
    pub stream_ping_interval: Duration,
    /// A stream whose device sent nothing (no frame, no pong) for this long
    /// is closed (90 s; not a command-line option, tests shorten it).
    pub stream_idle_timeout: Duration,
}

/// The usage text printed for `--help` and on bad arguments.
pub const USAGE: &str = "usage: strongroom-gateway [--config FILE] [--demo] [--data-dir DIR] [--database postgres://...] [--listen ADDR] \
[--public-url URL] [--cert PEM --key PEM] [--demo-rate TX_PER_S] [--demo-fraud-after SECS] \
[--access-token-ttl SECS] [--rate-limit PER_S] [--bank-name NAME] [--bench]";

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
            listen: SocketAddr::from(([127, 0, 0, 1], 8443)),
            public_url: None,
            cert: None,
            key: None,
            demo_rate: 0.5,
            demo_fraud_after: 15.0,
            access_token_ttl: 900,
            rate_limit: 20.0,
            bench: false,
            bank_name: "Demo Bank".into(),
            stream_ping_interval: Duration::from_secs(30),
            stream_idle_timeout: Duration::from_secs(90),
        }
    }
}

/// The settings with a value a configuration file may hold (each is the
/// command-line flag of the same name).
const FILE_SETTINGS: &[&str] = &[
    "data-dir",
    "database",
    "listen",
    "public-url",
    "cert",
    "key",
    "demo-rate",
    "demo-fraud-after",
    "access-token-ttl",
    "rate-limit",
    "bank-name",
];

/// Reads a configuration file: one `name = value` per line, where `name`
/// is a command-line flag without its dashes (`listen = 0.0.0.0:8443`);
/// `demo` and `bench` take `true` or `false`. Blank lines and lines
/// starting with `#` are skipped. Returns the equivalent flags.
fn config_file_args(path: &std::path::Path) -> Result<Vec<String>, GatewayError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        GatewayError::Config(format!(
            "cannot read the configuration file {}: {e}",
            path.display()
        ))
    })?;
    let mut args = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let at = || format!("{}:{}", path.display(), n + 1);
        let Some((name, value)) = line.split_once('=') else {
            return Err(GatewayError::Config(format!(
                "{}: expected `name = value`, found {line:?}",
                at()
            )));
        };
        let (name, value) = (name.trim(), value.trim());
        match name {
            "demo" | "bench" => match value {
                "true" => args.push(format!("--{name}")),
                "false" => {}
                _ => {
                    return Err(GatewayError::Config(format!(
                        "{}: {name} is true or false, not {value:?}",
                        at()
                    )));
                }
            },
            "config" | "help" => {
                return Err(GatewayError::Config(format!(
                    "{}: {name} cannot be set in a configuration file",
                    at()
                )));
            }
            _ if FILE_SETTINGS.contains(&name) => args.push(format!("--{name}={value}")),
            _ => {
                return Err(GatewayError::Config(format!(
                    "{}: unknown setting {name:?} (known: demo, bench, {})",
                    at(),
                    FILE_SETTINGS.join(", ")
                )));
            }
        }
    }
    Ok(args)
}

fn number(flag: &str, value: &str) -> Result<f64, GatewayError> {
    value
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite() && *v >= 0.0)
        .ok_or_else(|| GatewayError::Config(format!("{flag} needs a number >= 0, not {value:?}")))
}

impl Config {
    /// Parses the arguments (without the program name). `--flag value` and
    /// `--flag=value` are both accepted.
    ///
    /// # Errors
    /// [`GatewayError::Config`] naming the problem.
    pub fn from_args<I: IntoIterator<Item = String>>(args: I) -> Result<Config, GatewayError> {
        let args: Vec<String> = args.into_iter().collect();
        // `--config FILE` first: the file's settings come before the
        // command line's, so a flag given on the command line wins.
        let mut from_file = Vec::new();
        let mut rest = Vec::with_capacity(args.len());
        let mut given = args.into_iter();
        while let Some(arg) = given.next() {
            let file = if arg == "--config" {
                given
                    .next()
                    .ok_or_else(|| GatewayError::Config("--config needs a value".into()))?
            } else if let Some(file) = arg.strip_prefix("--config=") {
                file.to_owned()
            } else {
                rest.push(arg);
                continue;
            };
            from_file.extend(config_file_args(std::path::Path::new(&file))?);
        }
        let mut config = Config::default();
        let mut args = from_file.into_iter().chain(rest);
        while let Some(arg) = args.next() {
            let (flag, inline) = match arg.split_once('=') {
                Some((f, v)) if f.starts_with("--") => (f.to_owned(), Some(v.to_owned())),
                _ => (arg.clone(), None),
            };
            let mut value = || -> Result<String, GatewayError> {
                inline
                    .clone()
                    .or_else(|| args.next())
                    .ok_or_else(|| GatewayError::Config(format!("{flag} needs a value")))
            };
            match flag.as_str() {
                "--demo" => config.demo = true,
                "--bench" => config.bench = true,
                "--data-dir" => config.data_dir = PathBuf::from(value()?),
                "--database" => {
                    config.database = Some(crate::db::Database::parse_url(&value()?)?);
                }
                "--listen" => {
                    let v = value()?;
                    config.listen = v.parse().map_err(|_| {
                        GatewayError::Config(format!("--listen needs HOST:PORT, not {v:?}"))
                    })?;
                }
                "--public-url" => {
                    let v = value()?;
                    let trimmed = v.trim_end_matches('/').to_owned();
                    if !trimmed.starts_with("https://") || trimmed.contains(['?', '#']) {
                        return Err(GatewayError::Config(
                            "--public-url must be an https URL without query or fragment".into(),
                        ));
                    }
                    config.public_url = Some(trimmed);
                }
                "--cert" => config.cert = Some(PathBuf::from(value()?)),
                "--key" => config.key = Some(PathBuf::from(value()?)),
                "--demo-rate" => config.demo_rate = number(&flag, &value()?)?,
                "--demo-fraud-after" => config.demo_fraud_after = number(&flag, &value()?)?,
                "--access-token-ttl" => {
                    let v = number(&flag, &value()?)?;
                    if v < 1.0 {
                        return Err(GatewayError::Config(
                            "--access-token-ttl must be at least 1".into(),
                        ));
                    }
                    config.access_token_ttl = v as u64;
                }
                "--rate-limit" => {
                    let v = number(&flag, &value()?)?;
                    if v <= 0.0 {
                        return Err(GatewayError::Config("--rate-limit must be above 0".into()));
                    }
                    config.rate_limit = v;
                }
                "--bank-name" => {
                    let name = value()?;
                    if let Some(c) = strongroom_core::text::first_spoofing_char(&name) {
                        return Err(GatewayError::Config(format!(
                            "--bank-name may not hold U+{:04X} (a bidirectional or invisible format character)",
                            c as u32
                        )));
                    }
                    config.bank_name = name;
                }
                "-h" | "--help" => return Err(GatewayError::Config(USAGE.into())),
                other => {
                    return Err(GatewayError::Config(format!(
                        "unknown argument {other:?}\n{USAGE}"
                    )));
                }
            }
        }
        if config.bench && !config.demo {
            return Err(GatewayError::Config(
                "--bench is a load-test switch and needs --demo".into(),
            ));
        }
        if config.cert.is_some() != config.key.is_some() {
            return Err(GatewayError::Config("--cert and --key go together".into()));
        }
        if !config.demo && config.cert.is_none() {
            return Err(GatewayError::Config(
                "without --demo, --cert and --key are required".into(),
            ));
        }
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Config, GatewayError> {
        Config::from_args(args.iter().map(|s| s.to_string()))
    }

    #[test]
    fn arguments_parse_and_unsafe_combinations_are_refused() {
        let c = parse(&["--demo", "--listen", "127.0.0.1:0", "--demo-rate=0"]).unwrap();
        assert!(c.demo);
        assert_eq!(c.listen.port(), 0);
        assert_eq!(c.demo_rate, 0.0);
        assert_eq!(c.access_token_ttl, 900);
        assert!(parse(&[]).is_err(), "no cert without --demo");
        assert!(parse(&["--bench"]).is_err(), "--bench needs --demo");
        assert!(parse(&["--demo", "--cert", "c.pem"]).is_err());
        assert!(parse(&["--demo", "--public-url", "http://x"]).is_err());
        assert!(parse(&["--demo", "--rate-limit", "-1"]).is_err());
        assert!(parse(&["--demo", "--what"]).is_err());
        let c = parse(&["--demo", "--database", "postgres://gw@127.0.0.1:5432/bank"]).unwrap();
        assert!(matches!(c.database, Some(crate::db::Database::Postgres(_))));
        for socket in [
            "postgres://gw@%2Frun%2Fpostgresql/bank",
            "postgresql:///bank?host=/run/postgresql&user=gw",
        ] {
            let c = parse(&["--demo", "--database", socket]).unwrap();
            assert!(
                matches!(c.database, Some(crate::db::Database::Postgres(_))),
                "{socket} names a Unix socket"
            );
        }
        assert!(
            parse(&["--demo", "--database", "postgres://gw@db.example:5432/bank"]).is_err(),
            "PostgreSQL on another host would be spoken to in the clear"
        );
        assert!(parse(&["--demo", "--database", "/var/lib/x.db"]).is_err());
    }

    #[test]
    fn a_configuration_file_sets_flags_and_the_command_line_wins() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("gateway.conf");
        std::fs::write(
            &file,
            "# a comment\n\ndemo = true\nlisten = 127.0.0.1:9443\nbank-name = Bank of Tests\n\
             database = postgres://gw@127.0.0.1:5432/bank?application_name=a=b\n",
        )
        .unwrap();
        let path = file.display().to_string();
        let c = parse(&["--config", &path]).unwrap();
        assert!(c.demo);
        assert_eq!(c.listen.port(), 9443);
        assert_eq!(c.bank_name, "Bank of Tests");
        assert!(matches!(c.database, Some(crate::db::Database::Postgres(_))));
        let c = parse(&[&format!("--config={path}"), "--listen", "127.0.0.1:0"]).unwrap();
        assert_eq!(c.listen.port(), 0, "the command line overrides the file");

        for (bad, says) in [
            (
                "listen 127.0.0.1:1\n",
                "gateway.conf:1: expected `name = value`",
            ),
            ("\ndemo = yes\n", "gateway.conf:2: demo is true or false"),
            (
                "colour = blue\n",
                "gateway.conf:1: unknown setting \"colour\"",
            ),
            ("config = /etc/x\n", "cannot be set in a configuration file"),
        ] {
            std::fs::write(&file, bad).unwrap();
            let err = parse(&["--config", &path]).unwrap_err().to_string();
            assert!(err.contains(says), "{bad:?}: {err}");
        }
        let err = parse(&["--config", "/nonexistent/gateway.conf"])
            .unwrap_err()
            .to_string();
        assert!(err.contains("cannot read the configuration file"), "{err}");
    }
}
