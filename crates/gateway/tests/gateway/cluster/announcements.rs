//! How the gateways of one database tell each other what they committed
//! (`db/announce.rs`): only what committed, through NOTIFY, a Redis stream
//! and a Redis stream over verified TLS; nothing to a broker whose
//! certificate does not verify; and nothing that no gateway made.

use strongroom_gateway::db::Db;
use strongroom_gateway::error::GatewayError;

use super::super::support::*;
use super::{close_off_workers, customer_with_device};

/// The broker of the test command's PostgreSQL pass: `STRONGROOM_TEST_REDIS`
/// (plain, loopback) or `STRONGROOM_TEST_REDIS_TLS` (the same server over
/// TLS to `localhost`, its certificate checked against the run's CA).
fn test_broker(variable: &str) -> strongroom_gateway::db::Broker {
    let url = std::env::var(variable)
        .ok()
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| panic!("{variable} names a Redis server (cargo xtask test starts one)"));
    strongroom_gateway::db::Broker::parse_url(&url).unwrap()
}

/// A fresh PostgreSQL database for gateways to share, named after the
/// data folder returned with it (kept for as long as the database is used).
async fn fresh_database() -> (strongroom_gateway::db::Database, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let database = postgres_database(dir.path())
        .await
        .expect("STRONGROOM_TEST_POSTGRES names a PostgreSQL server");
    (database, dir)
}

/// Announcements this process's gateways could not send so far.
fn unsent() -> u64 {
    strongroom_gateway::metrics::metrics()
        .announcements_unsent
        .get()
}

/// Two gateways' databases, A and B, on one fresh PostgreSQL database,
/// announcing through `broker` (NOTIFY without one), and the lines B hears
/// from others (`*` aside).
struct Pair {
    a: Db,
    b: Db,
    heard: std::sync::mpsc::Receiver<String>,
    broker: Option<strongroom_gateway::db::Broker>,
    /// The data folder the test database is named after.
    _dir: tempfile::TempDir,
}

impl Pair {
    async fn open(broker: Option<strongroom_gateway::db::Broker>) -> Pair {
        let (database, dir) = fresh_database().await;
        let (a, b) = (
            Db::open_with(&database, broker.as_ref()).await.unwrap(),
            Db::open_with(&database, broker.as_ref()).await.unwrap(),
        );
        let (heard_tx, heard) = std::sync::mpsc::channel::<String>();
        let heard_tx = std::sync::Mutex::new(heard_tx);
        b.listen(std::sync::Arc::new(move |line: &str, ours: bool| {
            if !ours && line != "*" {
                let _ = heard_tx.lock().unwrap().send(line.to_owned());
            }
        }))
        .unwrap();
        Pair {
            a,
            b,
            heard,
            broker,
            _dir: dir,
        }
    }

    /// A write through A that announces `line`, and commits or fails.
    async fn announce(&self, line: &'static str, commit: bool) -> Result<(), GatewayError> {
        self.a
            .write(move |c| -> Result<(), GatewayError> {
                c.announce(line.to_owned());
                if commit {
                    Ok(())
                } else {
                    Err(GatewayError::Storage("this write fails".into()))
                }
            })
            .await
    }

    /// B listens on a thread of its own: A announces `c 1` until B hears
    /// one.
    async fn until_b_listens(&self) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        loop {
            self.announce("c 1", true).await.unwrap();
            if self
                .heard
                .recv_timeout(std::time::Duration::from_millis(200))
                .is_ok()
            {
                return;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "gateway B never heard gateway A ({:?})",
                self.broker
            );
        }
    }

    /// The next line B hears past the `c 1`s still on their way.
    fn next_heard(&self) -> String {
        loop {
            let line = self
                .heard
                .recv_timeout(std::time::Duration::from_secs(10))
                .unwrap_or_else(|_| {
                    panic!("a committed announcement was not heard ({:?})", self.broker)
                });
            if line != "c 1" {
                return line;
            }
        }
    }

    async fn close(self) {
        close_off_workers(vec![self.a, self.b]).await;
    }
}

/// Gateway A's writes announce `c N` lines; gateway B's listener hears
/// them (B's own and `*` aside). Announcements go out after the commit, on
/// their own, so what a rolled-back write announced must never be heard,
/// and what committed must be: through NOTIFY, and through a Redis stream
/// in the clear on loopback and over verified TLS.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL and Redis (STRONGROOM_TEST_POSTGRES, STRONGROOM_TEST_REDIS, STRONGROOM_TEST_REDIS_TLS); the test command's PostgreSQL pass runs it"]
async fn what_one_gateway_commits_and_only_that_is_announced_to_the_other() {
    for broker in [
        None,
        Some(test_broker("STRONGROOM_TEST_REDIS")),
        Some(test_broker("STRONGROOM_TEST_REDIS_TLS")),
    ] {
        let pair = Pair::open(broker).await;
        pair.until_b_listens().await;
        assert!(pair.announce("c 2", false).await.is_err());
        pair.announce("c 3", true).await.unwrap();
        assert_eq!(
            pair.next_heard(),
            "c 3",
            "B heard what A rolled back, or out of order ({:?})",
            pair.broker
        );
        pair.close().await;
    }
}

/// A broker whose certificate does not verify (the run's CA is not among
/// the system's) gets nothing, not even in the clear, and the write it
/// would have announced still commits: the failure is counted and the
/// next announcement starts with `*`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL and Redis over TLS (STRONGROOM_TEST_POSTGRES, STRONGROOM_TEST_REDIS_TLS); the test command's PostgreSQL pass runs it"]
async fn a_broker_that_fails_verification_gets_nothing_and_the_write_commits() {
    let verified = std::env::var("STRONGROOM_TEST_REDIS_TLS")
        .ok()
        .filter(|u| !u.is_empty())
        .expect("STRONGROOM_TEST_REDIS_TLS names a Redis server over TLS");
    // The same server, trusted through the system's CAs only.
    let unverified = verified
        .split_once('?')
        .map_or(verified.as_str(), |(u, _)| u);
    let broker = strongroom_gateway::db::Broker::parse_url(unverified).unwrap();
    let (database, _dir) = fresh_database().await;
    let db = Db::open_with(&database, Some(&broker)).await.unwrap();
    let before = unsent();
    let (customer, _) = customer_with_device(&db, "customer-z").await;
    assert!(
        unsent() > before,
        "an announcement reached a broker whose certificate did not verify"
    );
    let stored = db
        .read(move |c| -> Result<i64, GatewayError> {
            Ok(c.query_row(
                "SELECT count(*) FROM customers WHERE id = ?1",
                [customer],
                |r| r.get(0),
            )?)
        })
        .await
        .unwrap();
    assert_eq!(stored, 1, "the write was lost with its announcement");
    close_off_workers(vec![db]).await;
}

/// Issue 23 (the broker): being able to NOTIFY on the database (any user
/// who can connect, a reporting account say) or to write to the Redis
/// stream is not being a gateway. Forged announcements, in the format
/// gateways used before they were authenticated and with a made-up MAC,
/// would have put a conversation change, a revocation or a message body
/// into another gateway's streams; they must be dropped and counted, and
/// a genuine one still heard.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL and Redis (STRONGROOM_TEST_POSTGRES, STRONGROOM_TEST_REDIS); the test command's PostgreSQL pass runs it"]
async fn announcements_that_no_gateway_made_are_not_heard() {
    for broker in [None, Some(test_broker("STRONGROOM_TEST_REDIS"))] {
        let pair = Pair::open(broker).await;
        pair.until_b_listens().await;
        let refused = || {
            strongroom_gateway::metrics::metrics()
                .announcements_refused
                .get()
        };
        let before = refused();
        let forgeries = ["intruder\nc 66\n", "intruder AAAA\nc 66\n"];
        match &pair.broker {
            None => {
                for forged in forgeries {
                    pair.b
                        .read(move |c| -> Result<(), GatewayError> {
                            c.execute(
                                "SELECT pg_notify('strongroom_gateway', ?1)",
                                [forged.to_owned()],
                            )?;
                            Ok(())
                        })
                        .await
                        .unwrap();
                }
            }
            Some(_) => {
                let stream: String = pair
                    .b
                    .read(|c| -> Result<String, GatewayError> {
                        Ok(c.query_row(
                            "SELECT value FROM settings WHERE name = 'announcement_stream'",
                            (),
                            |r| r.get(0),
                        )?)
                    })
                    .await
                    .unwrap();
                let url = std::env::var("STRONGROOM_TEST_REDIS").unwrap();
                for mac in [None, Some("AAAA")] {
                    let mut xadd = std::process::Command::new("redis-cli");
                    xadd.args(["-u", &url, "XADD", &format!("strongroom:{stream}"), "*"])
                        .args(["n", "intruder", "l", "c 66"]);
                    if let Some(mac) = mac {
                        xadd.args(["m", mac]);
                    }
                    let out = xadd.output().expect("redis-cli (package redis-tools)");
                    assert!(out.status.success(), "redis-cli XADD: {out:?}");
                }
            }
        }
        pair.announce("c 3", true).await.unwrap();
        assert_eq!(
            pair.next_heard(),
            "c 3",
            "B heard an announcement no gateway made ({:?})",
            pair.broker
        );
        assert!(
            refused() >= before + 2,
            "the forgeries were not counted ({:?})",
            pair.broker
        );
        pair.close().await;
    }
}

/// A broker that takes connections and never answers (a hung server, a
/// half-open path) must not hold up the gateway's writes: each batch would
/// otherwise wait out the broker's timeouts before its callers hear that
/// it committed (2 s a write here, 40 s for these 20). After one failure
/// the broker is left alone for a while and the writes go on, each
/// counted as unannounced.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL (STRONGROOM_TEST_POSTGRES); the test command's PostgreSQL pass runs it"]
async fn a_broker_that_never_answers_does_not_hold_up_writes() {
    // The kernel completes connections to it (its backlog); nothing reads.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port();
    let broker =
        strongroom_gateway::db::Broker::parse_url(&format!("redis://127.0.0.1:{port}")).unwrap();
    let (database, _dir) = fresh_database().await;
    let db = Db::open_with(&database, Some(&broker)).await.unwrap();
    let before = unsent();
    let started = std::time::Instant::now();
    for i in 0..20 {
        db.write(move |c| -> Result<(), GatewayError> {
            c.announce(format!("c {i}"));
            Ok(())
        })
        .await
        .unwrap();
    }
    let took = started.elapsed();
    assert!(
        took < std::time::Duration::from_secs(15),
        "20 writes took {took:?} behind a broker that does not answer"
    );
    assert!(
        unsent() >= before + 20,
        "the unannounced writes were not counted"
    );
    drop(silent);
    close_off_workers(vec![db]).await;
}
