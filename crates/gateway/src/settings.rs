//! Reads the server's settings: the command line's flags (declared in
//! [`crate::cli`]) and `--config` files, checked and turned into a
//! [`Config`]. Kept apart from `config` so that the settings' type depends
//! on no parser.

use crate::cli::{ServeArgs, serve_args};
use crate::config::Config;
use crate::error::GatewayError;

/// The settings with a value a configuration file may hold (each is the
/// command-line flag of the same name).
const FILE_SETTINGS: &[&str] = &[
    "data-dir",
    "database",
    "broker",
    "listen",
    "admin-listen",
    "log-level",
    "public-url",
    "proxy-protocol-from",
    "cert",
    "key",
    "demo-rate",
    "demo-fraud-after",
    "access-token-ttl",
    "rate-limit",
    "bank-name",
    "authorization-server",
    "resource",
    "introspection-credentials",
    "authorization-server-ca",
    "subject-claim",
    "signals-transmitter",
    "signals-transmitter-ca",
    "event-receivers-ca",
    "staff-sso-issuer",
    "staff-sso-client",
    "staff-sso-ca",
    "staff-group",
    "admin-group",
    "groups-claim",
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

impl Config {
    /// Parses the arguments (without the program name) as the gateway's
    /// command line (`crate::cli`). `--flag value` and `--flag=value` are
    /// both accepted; the settings of each `--config FILE` come first, so a
    /// flag given on the command line wins.
    ///
    /// # Errors
    /// [`GatewayError::Config`] naming the problem.
    pub fn from_args<I: IntoIterator<Item = String>>(args: I) -> Result<Config, GatewayError> {
        let args: Vec<String> = args.into_iter().collect();
        let given = serve_args(args.iter().cloned())?;
        if given.config.is_empty() {
            return Config::from_serve_args(given);
        }
        let mut from_file = Vec::new();
        for file in &given.config {
            from_file.extend(config_file_args(file)?);
        }
        // The same flags again after the files' (a later flag wins); the
        // files named are not read twice.
        let mut all = serve_args(from_file.into_iter().chain(args))?;
        all.config.clear();
        Config::from_serve_args(all)
    }

    /// Checks parsed flags and turns them into a configuration.
    ///
    /// # Errors
    /// [`GatewayError::Config`] naming the problem.
    pub fn from_serve_args(args: ServeArgs) -> Result<Config, GatewayError> {
        let mut config = Config {
            demo: args.demo,
            bench: args.bench,
            listen: args.listen,
            admin_listen: args.admin_listen,
            log_level: args.log_level,
            cert: args.cert,
            key: args.key,
            demo_rate: args.demo_rate,
            demo_fraud_after: args.demo_fraud_after,
            ..Config::default()
        };
        if let Some(dir) = args.data_dir {
            config.data_dir = dir;
        }
        if let Some(url) = args.database {
            config.database = Some(crate::db::Database::parse_url(&url)?);
        }
        if let Some(url) = args.broker {
            if config.database.is_none() {
                return Err(GatewayError::Config(
                    "--broker needs --database postgres://... (with SQLite one gateway \
                     process owns the data and has no one to tell)"
                        .into(),
                ));
            }
            config.broker = Some(crate::db::Broker::parse_url(&url)?);
        }
        if let Some(url) = args.public_url {
            config.public_url = Some(https_url("--public-url", &url)?);
        }
        if let Some(list) = args.proxy_protocol_from {
            config.proxy_protocol_from = crate::proxy_protocol::TrustedProxies::parse(&list)?;
        }
        if args.max_connections == Some(0) {
            return Err(GatewayError::Config(
                "--max-connections must be at least 1".into(),
            ));
        }
        config.max_connections = args.max_connections;
        if args.access_token_ttl < 1.0 {
            return Err(GatewayError::Config(
                "--access-token-ttl must be at least 1".into(),
            ));
        }
        config.access_token_ttl = args.access_token_ttl as u64;
        if args.rate_limit <= 0.0 {
            return Err(GatewayError::Config("--rate-limit must be above 0".into()));
        }
        config.rate_limit = args.rate_limit;
        if let Some(c) = strongroom_core::text::first_spoofing_char(&args.bank_name) {
            return Err(GatewayError::Config(format!(
                "--bank-name may not hold U+{:04X} (a bidirectional or invisible format character)",
                c as u32
            )));
        }
        config.bank_name = args.bank_name;
        if let Some(issuer) = args.authorization_server {
            let issuer = issuer_url("--authorization-server", &issuer)?;
            let resource = args
                .resource
                .map(|r| https_url("--resource", &r))
                .transpose()?;
            if args.subject_claim.is_empty() {
                return Err(GatewayError::Config("--subject-claim is empty".into()));
            }
            config.bank_as = Some(crate::config::BankAuthorizationServer {
                issuer,
                resource,
                introspection_credentials: args.introspection_credentials,
                ca: args.authorization_server_ca,
                subject_claim: args.subject_claim,
            });
        }
        // A configuration file is not checked by the command line's
        // `requires`: a half-given setting must not quietly fall back to
        // less (local passwords, no signals).
        if args.staff_sso_issuer.is_some() != args.staff_sso_client.is_some() {
            return Err(GatewayError::Config(
                "staff-sso-issuer and staff-sso-client go together".into(),
            ));
        }
        if args.signals_transmitter.is_some() && config.bank_as.is_none() {
            return Err(GatewayError::Config(
                "signals-transmitter needs authorization-server (the subjects are its)".into(),
            ));
        }
        if let (Some(issuer), Some(client)) = (args.staff_sso_issuer, args.staff_sso_client) {
            config.staff_sso = Some(crate::config::StaffSsoConfig {
                issuer: issuer_url("--staff-sso-issuer", &issuer)?,
                client_credentials: client,
                ca: args.staff_sso_ca,
                staff_group: args.staff_group,
                admin_group: args.admin_group,
                groups_claim: args.groups_claim,
            });
        }
        if let Some(transmitter) = args.signals_transmitter {
            config.signals = Some(crate::config::SignalsConfig {
                transmitter: issuer_url("--signals-transmitter", &transmitter)?,
                ca: args.signals_transmitter_ca,
            });
        }
        config.event_receivers_ca = args.event_receivers_ca;
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

/// An issuer identifier exactly as given (a trailing slash included: it is
/// part of the identifier, RFC 8414 section 3.3 and OpenID Connect
/// Discovery section 4.3 compare them exactly), if it is https with no
/// query or fragment.
fn issuer_url(flag: &str, url: &str) -> Result<String, GatewayError> {
    https_url(flag, url)?;
    Ok(url.to_owned())
}

/// `url` without a trailing slash, if it is https with no query or fragment.
fn https_url(flag: &str, url: &str) -> Result<String, GatewayError> {
    let trimmed = url.trim_end_matches('/').to_owned();
    if !trimmed.starts_with("https://") || trimmed.contains(['?', '#']) || trimmed.len() <= 8 {
        return Err(GatewayError::Config(format!(
            "{flag} must be an https URL without query or fragment"
        )));
    }
    Ok(trimmed)
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
        let tls = "postgres://gw@db.example:5432/bank?sslmode=verify-full&sslrootcert=/etc/ca.pem";
        assert!(
            matches!(
                parse(&["--demo", "--database", tls]).unwrap().database,
                Some(crate::db::Database::Postgres(_))
            ),
            "another host over verified TLS"
        );
        for weaker in ["require", "verify-ca", "prefer"] {
            let url = format!("postgres://gw@db.example/bank?sslmode={weaker}");
            assert!(
                parse(&["--demo", "--database", &url]).is_err(),
                "sslmode={weaker} would not check the host name"
            );
        }
        assert!(
            parse(&[
                "--demo",
                "--database",
                "postgres://gw@127.0.0.1/b?sslrootcert=/ca.pem"
            ])
            .is_err(),
            "a CA without TLS is a mistake, said"
        );
        assert!(parse(&["--demo", "--database", "/var/lib/x.db"]).is_err());
        // A broker only means something to gateways sharing PostgreSQL,
        // and carries alerts: never in the clear to another host.
        assert!(parse(&["--demo", "--broker", "redis://127.0.0.1:6379"]).is_err());
        let pg = ["--demo", "--database", "postgres://gw@127.0.0.1:5432/bank"];
        assert!(
            parse(&[&pg[..], &["--broker", "redis://127.0.0.1:6379"]].concat())
                .unwrap()
                .broker
                .is_some()
        );
        assert!(parse(&[&pg[..], &["--broker", "redis://broker.example:6379"]].concat()).is_err());
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
        // Beside the bank's own authorization server, from the file alone
        // (the packaged service reads only its file).
        std::fs::write(
            &file,
            "demo = true\nauthorization-server = https://idp.bank.example/realms/retail/\n\
             introspection-credentials = /etc/strongroom-gateway/introspection.json\n\
             signals-transmitter = https://idp.bank.example/ssf\n",
        )
        .unwrap();
        let c = parse(&["--config", &path]).unwrap();
        let bank_as = c.bank_as.expect("the bank's authorization server");
        assert_eq!(
            bank_as.issuer, "https://idp.bank.example/realms/retail/",
            "an issuer is kept exactly, its trailing slash too"
        );
        assert_eq!(bank_as.subject_claim, "sub");
        assert!(bank_as.introspection_credentials.is_some());
        assert_eq!(
            c.signals.map(|s| s.transmitter).as_deref(),
            Some("https://idp.bank.example/ssf")
        );

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
