//! How a gateway process tells the others sharing its PostgreSQL database
//! what it committed: the lines its writes [`Connection::announce`]d, sent
//! once their batch has committed, through PostgreSQL's NOTIFY or, with
//! `--broker`, a Redis stream.
//!
//! Why after the commit and not inside it: a transaction that NOTIFYs
//! takes one lock of the whole database at its commit and keeps it until
//! the commit is flushed (PostgreSQL keeps notifications in commit order
//! that way), so every gateway's every write batch queued behind every
//! other's fsync. Sent after the commit, in a transaction of its own
//! whose commit is not waited for (`synchronous_commit` off: a
//! notification is a wake-up, the data it points at is already durable),
//! a NOTIFY holds that lock for microseconds and no data commit waits for
//! it. A Redis stream takes no lock in PostgreSQL at all, and a listener
//! that reconnects reads on from where it stopped instead of waking every
//! stream. The measurements behind the choice are in `docs/scale.md`.
//!
//! Every announcement carries an HMAC-SHA256 under a key derived from the
//! database's cluster secret, and a listener drops (and counts) one that
//! does not verify: being able to NOTIFY on the database or to write to
//! the broker is not being a gateway.
//!
//! What a sent-after-commit announcement costs: a gateway killed between a
//! commit and its announcement leaves the change unheard by the other
//! gateways' open streams until their next wake-up. The database is the
//! truth and nothing is lost (a stream reads its events from there); a
//! gateway announces `*` (wake every stream, re-read) when it starts, and
//! after any announcement it could not send, to bound that delay.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use super::postgres::AnnouncementHandler;
use crate::error::GatewayError;
use crate::sql::Connection;

/// The NOTIFY channel the gateways announce committed changes on.
pub(super) const CHANNEL: &str = "strongroom_gateway";

/// Entries the stream keeps (trimmed approximately, as Redis does it
/// cheaply): one per committed batch, so at 10,000 alerts/s in batches of
/// tens this is tens of seconds, which a listener that reconnects reads on
/// from. A listener away longer wakes every stream instead.
const STREAM_KEEPS: usize = 20_000;

/// A NOTIFY payload is at most 8000 bytes; announcements are cut into
/// payloads below that.
const MAX_PAYLOAD: usize = 7000;

/// How long a Redis command may take before the connection is dropped and
/// made again. The writer waits for it once per failure (see
/// `Publisher::retry_at`), so it is short: a healthy broker on the same
/// network answers in well under a millisecond.
const REDIS_TIMEOUT: Duration = Duration::from_secs(1);

/// How long one read waits for new entries; the listener checks whether
/// it should stop in between.
const REDIS_BLOCK_MS: u64 = 250;

/// `--broker`: the Redis server the gateways sharing one PostgreSQL
/// database announce their commits through, instead of PostgreSQL's
/// NOTIFY.
#[derive(Clone, PartialEq, Eq)]
pub struct Broker {
    url: String,
    root_cert: Option<std::path::PathBuf>,
}

/// The URL may hold the broker's password: printed as its scheme and
/// host only.
impl std::fmt::Debug for Broker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let scheme = self.url.split_once("://").map_or("?", |(s, _)| s);
        let host = host_of(&self.url).unwrap_or_default();
        write!(f, "Broker({scheme}://{host})")
    }
}

impl Broker {
    /// `--broker`'s value: `redis://HOST:PORT[/DB]` on this machine,
    /// `redis+unix:///PATH` for a Unix socket, or `rediss://HOST:PORT` for
    /// a server on another machine over TLS (its certificate and host name
    /// verified against the system's CAs, or `?sslrootcert=CA.pem`).
    ///
    /// # Errors
    /// [`GatewayError::Config`] for anything else, for plain `redis://`
    /// to another host (announcements carry alerts' bodies), or for TLS
    /// without verification (`#insecure`).
    pub fn parse_url(url: &str) -> Result<Broker, GatewayError> {
        let bad = |why: &str| GatewayError::Config(format!("--broker: {why}"));
        if url.contains('#') {
            return Err(bad(
                "a fragment (#insecure) is not accepted: the gateway always verifies the broker's certificate",
            ));
        }
        let (base, root_cert) = match url.split_once('?') {
            None => (url.to_owned(), None),
            Some((base, query)) => {
                let mut root = None;
                for part in query.split('&').filter(|p| !p.is_empty()) {
                    match part.split_once('=') {
                        Some(("sslrootcert", file)) if !file.is_empty() => {
                            root = Some(std::path::PathBuf::from(file));
                        }
                        _ => return Err(bad(&format!("unknown setting {part}"))),
                    }
                }
                (base.to_owned(), root)
            }
        };
        let scheme = base.split_once("://").map(|(s, _)| s);
        match scheme {
            Some("redis+unix") => {}
            Some("redis") => {
                let host = host_of(&base).ok_or_else(|| bad("no host in the URL"))?;
                if !super::is_loopback(&host) {
                    return Err(bad(&format!(
                        "{host} is not this machine; use rediss:// so that announcements \
                         (which carry alerts) are encrypted and the server's certificate checked"
                    )));
                }
            }
            Some("rediss") => {}
            _ => {
                return Err(bad(
                    "needs a redis://, rediss:// or redis+unix:// URL (without it the \
                     gateways announce through PostgreSQL)",
                ));
            }
        }
        if root_cert.is_some() && scheme != Some("rediss") {
            return Err(bad("sslrootcert needs rediss://"));
        }
        let broker = Broker {
            url: base,
            root_cert,
        };
        broker.client()?;
        Ok(broker)
    }

    /// A client for the broker (no connection yet).
    fn client(&self) -> Result<redis::Client, GatewayError> {
        let bad = |e: String| GatewayError::Config(format!("--broker: {e}"));
        match &self.root_cert {
            None => redis::Client::open(self.url.as_str()).map_err(|e| bad(e.to_string())),
            Some(file) => {
                let pem = std::fs::read(file)
                    .map_err(|e| bad(format!("sslrootcert {}: {e}", file.display())))?;
                redis::Client::build_with_tls(
                    self.url.as_str(),
                    redis::TlsCertificates {
                        client_tls: None,
                        root_cert: Some(pem),
                    },
                )
                .map_err(|e| bad(e.to_string()))
            }
        }
    }
}

/// The host of `scheme://[user[:password]@]host[:port][/...]`.
fn host_of(url: &str) -> Option<String> {
    let rest = url.split_once("://")?.1;
    let authority = rest.split('/').next()?;
    let host_port = authority.rsplit('@').next()?;
    let host = if host_port.starts_with('[') {
        host_port.split_inclusive(']').next()?
    } else {
        host_port.split(':').next()?
    };
    (!host.is_empty()).then(|| host.to_owned())
}

/// The writer thread's half: sends each committed batch's lines.
pub(super) struct Publisher {
    node: String,
    /// What each announcement is authenticated with.
    key: ring::hmac::Key,
    via: Via,
    /// The broker stream (see `postgres::announcement_stream`).
    stream: String,
    /// An announcement could not be sent: the next one says `*` first.
    missed: bool,
    /// After a failure, the broker is not tried again before this, nor
    /// are the writes whose announcements it holds up: a broker that is
    /// down or does not answer would otherwise stall every batch of this
    /// gateway for its timeouts. Doubles from 1 s to 30 s while it fails.
    retry_at: Option<(std::time::Instant, Duration)>,
}

enum Via {
    Notify,
    Redis {
        // Boxed: a client is a few hundred bytes (its TLS settings).
        client: Box<redis::Client>,
        connection: Option<redis::Connection>,
    },
}

impl Publisher {
    /// A publisher for `node` (this process's name in announcements);
    /// the first thing it sends is `*`, since a gateway killed before
    /// it announced its last commits may have been this one's last run.
    pub(super) fn new(
        node: &str,
        broker: Option<&Broker>,
        stream: &str,
        key: ring::hmac::Key,
    ) -> Result<Publisher, GatewayError> {
        let via = match broker {
            None => Via::Notify,
            Some(broker) => Via::Redis {
                client: Box::new(broker.client()?),
                connection: None,
            },
        };
        Ok(Publisher {
            node: node.to_owned(),
            key,
            via,
            stream: stream.to_owned(),
            missed: true,
            retry_at: None,
        })
    }

    /// Sends `lines`, which `conn`'s last transaction committed; `conn` is
    /// outside any transaction. A failure is logged and remembered (the
    /// next announcement starts with `*`): the commit stands whatever
    /// happens here.
    pub(super) fn publish(&mut self, conn: &Connection<'_>, lines: &[String]) {
        if lines.is_empty() && !self.missed {
            return;
        }
        let mut all = Vec::with_capacity(lines.len() + 1);
        if self.missed {
            all.push("*".to_owned());
        }
        all.extend_from_slice(lines);
        let waiting = self
            .retry_at
            .is_some_and(|(at, _)| std::time::Instant::now() < at);
        let sent = match &mut self.via {
            // The database just committed on this connection: no back-off.
            Via::Notify => notify(conn, &self.key, &self.node, &all),
            Via::Redis { .. } if waiting => {
                crate::metrics::metrics().announcements_unsent.inc();
                self.missed = true;
                return;
            }
            Via::Redis { client, connection } => {
                let body = all.join("\n");
                let mac = seal(&self.key, &self.node, &body);
                xadd(client, connection, &self.stream, &self.node, &body, &mac)
            }
        };
        match sent {
            Ok(()) => {
                self.missed = false;
                self.retry_at = None;
            }
            Err(e) => {
                crate::metrics::metrics().announcements_unsent.inc();
                tracing::error!(error = %e, "announcing committed changes to the other gateways");
                self.missed = true;
                let wait = self.retry_at.map_or(Duration::from_secs(1), |(_, w)| {
                    (w * 2).min(Duration::from_secs(30))
                });
                self.retry_at = Some((std::time::Instant::now() + wait, wait));
            }
        }
    }
}

/// Sends `lines` as NOTIFY payloads (`NODE MAC`, then the lines), each in a
/// transaction of its own whose commit is not waited for (see the module's
/// documentation).
fn notify(
    conn: &Connection<'_>,
    key: &ring::hmac::Key,
    node: &str,
    lines: &[String],
) -> Result<(), GatewayError> {
    for body in bodies(lines, MAX_PAYLOAD) {
        let payload = format!("{node} {}\n{body}", seal(key, node, &body));
        // One statement, so one implicit transaction: `set_config(.., true)`
        // applies to it alone.
        conn.execute(
            "SELECT set_config('synchronous_commit', 'off', true), pg_notify(?1, ?2)",
            crate::sql::params![CHANNEL, payload],
        )?;
    }
    Ok(())
}

/// `lines` cut into bodies of at most about `max` bytes (a line longer
/// than that goes alone), each line ending in a newline.
fn bodies(lines: &[String], max: usize) -> Vec<String> {
    let mut out = Vec::new();
    let mut body = String::new();
    for line in lines {
        if !body.is_empty() && body.len() + line.len() + 1 > max {
            out.push(std::mem::take(&mut body));
        }
        body.push_str(line);
        body.push('\n');
    }
    if !body.is_empty() {
        out.push(body);
    }
    out
}

/// The MAC of `node`'s announcement `body` (base64url).
fn seal(key: &ring::hmac::Key, node: &str, body: &str) -> String {
    let mut context = ring::hmac::Context::with_key(key);
    context.update(node.as_bytes());
    context.update(b"\n");
    context.update(body.as_bytes());
    strongroom_core::protocol::jose::b64_encode(context.sign().as_ref())
}

/// Whether `mac` is `node`'s MAC of `body`.
fn verified(key: &ring::hmac::Key, node: &str, body: &str, mac: &str) -> bool {
    let Ok(mac) = strongroom_core::protocol::jose::b64_decode(mac) else {
        return false;
    };
    let mut message = Vec::with_capacity(node.len() + 1 + body.len());
    message.extend_from_slice(node.as_bytes());
    message.push(b'\n');
    message.extend_from_slice(body.as_bytes());
    ring::hmac::verify(key, &message, &mac).is_ok()
}

/// A NOTIFY payload's sender and lines, if its MAC verifies; `None` (and
/// counted, and logged) otherwise.
pub(super) fn opened<'p>(key: &ring::hmac::Key, payload: &'p str) -> Option<(&'p str, &'p str)> {
    let opened = payload.split_once('\n').and_then(|(header, body)| {
        let (node, mac) = header.split_once(' ')?;
        verified(key, node, body, mac).then_some((node, body))
    });
    if opened.is_none() {
        refused();
    }
    opened
}

/// Counts and logs an announcement that did not verify.
fn refused() {
    crate::metrics::metrics().announcements_refused.inc();
    tracing::warn!("an announcement that no gateway of this database made was dropped");
}

/// Appends `body` (`node`'s lines, with their `mac`) as one entry to the
/// stream, on a connection made again once if it broke.
fn xadd(
    client: &redis::Client,
    connection: &mut Option<redis::Connection>,
    stream: &str,
    node: &str,
    body: &str,
    mac: &str,
) -> Result<(), GatewayError> {
    let mut last_error = None;
    // Twice: a kept connection may have been closed by the broker since
    // the last batch; a new one that fails is not tried again.
    for _ in 0..2 {
        if connection.is_none() {
            match connect(client) {
                Ok(c) => *connection = Some(c),
                Err(e) => return Err(e),
            }
        }
        let Some(c) = connection.as_mut() else {
            continue;
        };
        let added: redis::RedisResult<String> = redis::cmd("XADD")
            .arg(stream)
            .arg("MAXLEN")
            .arg("~")
            .arg(STREAM_KEEPS)
            .arg("*")
            .arg("n")
            .arg(node)
            .arg("l")
            .arg(body)
            .arg("m")
            .arg(mac)
            .query(c);
        match added {
            Ok(_) => return Ok(()),
            Err(e) => {
                *connection = None;
                last_error = Some(broker_error(&e));
            }
        }
    }
    Err(last_error.unwrap_or_else(|| GatewayError::Storage("the broker did not answer".into())))
}

fn broker_error(e: &redis::RedisError) -> GatewayError {
    GatewayError::Storage(format!("the broker: {e}"))
}

fn connect(client: &redis::Client) -> Result<redis::Connection, GatewayError> {
    let connection = client
        .get_connection_with_timeout(REDIS_TIMEOUT)
        .map_err(|e| broker_error(&e))?;
    connection
        .set_read_timeout(Some(REDIS_TIMEOUT))
        .and_then(|()| connection.set_write_timeout(Some(REDIS_TIMEOUT)))
        .map_err(|e| broker_error(&e))?;
    Ok(connection)
}

/// Hears the other gateways' announcements from the Redis stream until
/// `closed`: from the stream's end when it starts, then from the last
/// entry read, across reconnections. `*` when entries it had not read
/// are gone (trimmed, or a broker restarted without its data).
pub(super) fn listen_redis(
    broker: &Broker,
    stream: &str,
    key: &ring::hmac::Key,
    node: &str,
    closed: &AtomicBool,
    on_line: &AnnouncementHandler,
) {
    let client = match broker.client() {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "listening for other gateways");
            return;
        }
    };
    let mut last: Option<String> = None;
    // After a failure, wait a second before trying again, so that a broker
    // that is down or answers with errors is not asked in a tight loop.
    let mut failed = false;
    while !closed.load(Ordering::Relaxed) {
        if std::mem::take(&mut failed) {
            std::thread::sleep(Duration::from_secs(1));
        }
        let mut connection = match connect(&client) {
            Ok(c) => c,
            Err(e) => {
                tracing::error!(error = %e, "listening for other gateways");
                failed = true;
                continue;
            }
        };
        // Nothing is woken while the broker is away: this listener reads on
        // from its last entry, and what could not be sent meanwhile is
        // followed by `*` from its sender.
        let start = match &last {
            None => match newest_id(&mut connection, stream) {
                Ok(id) => id,
                Err(e) => {
                    tracing::error!(error = %broker_error(&e), "listening for other gateways");
                    failed = true;
                    continue;
                }
            },
            Some(id) => {
                // Trimming drops the oldest entries first: while the last
                // one read is there, so is everything after it. Gone (a
                // broker restarted without its data, or away too long),
                // every stream re-reads the database.
                match still_there(&mut connection, stream, id) {
                    Ok(true) => {}
                    Ok(false) => on_line("*", false),
                    Err(e) => {
                        tracing::error!(error = %broker_error(&e), "listening for other gateways");
                        failed = true;
                        continue;
                    }
                }
                id.clone()
            }
        };
        last = Some(start);
        let _ = connection
            .set_read_timeout(Some(REDIS_TIMEOUT + Duration::from_millis(REDIS_BLOCK_MS)));
        while !closed.load(Ordering::Relaxed) {
            let Some(from) = last.clone() else { break };
            let read: redis::RedisResult<Option<redis::streams::StreamReadReply>> =
                redis::cmd("XREAD")
                    .arg("COUNT")
                    .arg(512)
                    .arg("BLOCK")
                    .arg(REDIS_BLOCK_MS)
                    .arg("STREAMS")
                    .arg(stream)
                    .arg(&from)
                    .query(&mut connection);
            match read {
                Ok(reply) => {
                    for entry in reply.into_iter().flat_map(|r| r.keys).flat_map(|k| k.ids) {
                        let from_node: String = entry.get("n").unwrap_or_default();
                        let lines: String = entry.get("l").unwrap_or_default();
                        let mac: String = entry.get("m").unwrap_or_default();
                        if !verified(key, &from_node, &lines, &mac) {
                            refused();
                        } else if from_node != node {
                            lines.lines().for_each(|line| on_line(line, false));
                        }
                        last = Some(entry.id);
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %broker_error(&e), "listening for other gateways");
                    failed = true;
                    break;
                }
            }
        }
    }
}

/// The id of the stream's newest entry, or `0-0` when it has none.
fn newest_id(connection: &mut redis::Connection, stream: &str) -> redis::RedisResult<String> {
    let reply: redis::streams::StreamRangeReply = redis::cmd("XREVRANGE")
        .arg(stream)
        .arg("+")
        .arg("-")
        .arg("COUNT")
        .arg(1)
        .query(connection)?;
    Ok(reply
        .ids
        .into_iter()
        .next()
        .map_or_else(|| "0-0".to_owned(), |e| e.id))
}

/// Whether the stream still holds entry `id` (`0-0`, before any entry,
/// always counts as there).
fn still_there(
    connection: &mut redis::Connection,
    stream: &str,
    id: &str,
) -> redis::RedisResult<bool> {
    if id == "0-0" {
        return Ok(true);
    }
    let reply: redis::streams::StreamRangeReply = redis::cmd("XRANGE")
        .arg(stream)
        .arg(id)
        .arg(id)
        .query(connection)?;
    Ok(!reply.ids.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broker_urls_are_checked_like_database_urls() {
        assert!(Broker::parse_url("redis://127.0.0.1:6379").is_ok());
        assert!(Broker::parse_url("redis://localhost:6379/2").is_ok());
        assert!(Broker::parse_url("redis://:secret@[::1]:6379").is_ok());
        assert!(Broker::parse_url("redis+unix:///run/redis/redis.sock").is_ok());
        assert!(Broker::parse_url("rediss://broker.bank.example:6380").is_ok());
        // Alerts' bodies travel in announcements: never in the clear over
        // a network, never to an unverified server.
        for refused in [
            "redis://broker.bank.example:6379",
            "redis://10.0.0.5:6379",
            "rediss://broker.bank.example:6380/#insecure",
            "redis://127.0.0.1:6379?sslrootcert=/ca.pem",
            "rediss://broker.bank.example:6380?verify=none",
            "nats://127.0.0.1:4222",
            "postgres://gw@127.0.0.1/bank",
        ] {
            assert!(
                matches!(Broker::parse_url(refused), Err(GatewayError::Config(_))),
                "{refused} should be refused"
            );
        }
        let with_password = Broker::parse_url("rediss://:hunter2@b.example:6380").unwrap();
        assert_eq!(format!("{with_password:?}"), "Broker(rediss://b.example)");
        assert!(matches!(
            Broker::parse_url("rediss://b.example:6380?sslrootcert=/nonexistent/ca.pem"),
            Err(GatewayError::Config(m)) if m.contains("/nonexistent/ca.pem")
        ));
    }

    #[test]
    fn payloads_stay_under_the_limit_and_open_only_with_the_key() {
        let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &[7; 32]);
        let other = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &[8; 32]);
        let lines: Vec<String> = (0..50)
            .map(|i| format!("e dev{i} {i} a {}", "x".repeat(200)))
            .collect();
        let bodies = bodies(&lines, 1000);
        assert!(bodies.len() > 1);
        let mut heard = Vec::new();
        for body in &bodies {
            assert!(body.len() <= 1000, "a body of {} bytes", body.len());
            let payload = format!("node1 {}\n{body}", seal(&key, "node1", body));
            assert!(payload.len() < 8000, "NOTIFY takes at most 8000 bytes");
            let (node, lines) = opened(&key, &payload).expect("it verifies");
            assert_eq!(node, "node1");
            heard.extend(lines.lines().map(str::to_owned));
            // Another cluster's key, another sender's name, a changed line,
            // or the format before MACs: each refused.
            assert!(opened(&other, &payload).is_none());
            assert!(opened(&key, &payload.replacen("node1", "node2", 1)).is_none());
            assert!(opened(&key, &payload.replacen("e dev", "r dev", 1)).is_none());
            assert!(opened(&key, &format!("node1\n{body}")).is_none());
        }
        assert_eq!(heard, lines);
    }
}
