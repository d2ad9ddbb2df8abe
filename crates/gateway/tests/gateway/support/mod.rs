//! What every feature's tests stand on: a demo gateway started in process
//! on a fresh data folder (SQLite, or PostgreSQL in the test command's
//! second pass), a client that speaks to it over real TLS, and a linker
//! that links devices as the app does. Each test starts its own gateway;
//! nothing here is shared between tests.

mod bank;
mod console;
mod database;
mod devices;
mod http;
mod linker;
mod stream;

use std::path::Path;

use strongroom_gateway::{Config, RunningGateway};

pub use bank::*;
pub use console::*;
pub use database::*;
pub use devices::*;
pub use http::*;
pub use linker::*;
pub use stream::*;

pub fn now_s() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

pub async fn start(dir: &Path, listen: &str, rate_limit: f64) -> RunningGateway {
    start_with(dir, listen, rate_limit, |_| {}).await
}

pub async fn start_with(
    dir: &Path,
    listen: &str,
    rate_limit: f64,
    adjust: impl FnOnce(&mut Config),
) -> RunningGateway {
    let mut config = Config::from_args(
        [
            "--demo",
            "--listen",
            listen,
            "--demo-rate",
            "0",
            "--demo-fraud-after",
            "0",
        ]
        .iter()
        .map(|s| s.to_string()),
    )
    .expect("arguments parse");
    config.data_dir = dir.to_owned();
    config.rate_limit = rate_limit;
    config.database = postgres_database(dir).await;
    adjust(&mut config);
    strongroom_gateway::start(config)
        .await
        .expect("the gateway starts")
}

/// A demo gateway in a fresh data folder (kept alive by the returned
/// guard), with a rate limit no test reaches unless it means to.
pub async fn demo_gateway() -> (tempfile::TempDir, RunningGateway) {
    let dir = tempfile::tempdir().unwrap();
    let gateway = start(dir.path(), "127.0.0.1:0", 1000.0).await;
    (dir, gateway)
}

/// The `jti` of a compact JWS (signature not checked).
pub fn jti_of(jws: &str) -> String {
    let parsed = strongroom_core::protocol::jose::parse_jws(jws).unwrap();
    let claims: serde_json::Value = serde_json::from_slice(&parsed.payload).unwrap();
    claims["jti"].as_str().unwrap().to_owned()
}

/// Runs one step of a test that must run its steps in order (because a
/// later check covers them all), naming the step if it fails.
pub async fn step<T>(name: &str, work: impl std::future::Future<Output = T>) -> T {
    struct Running<'a>(&'a str);
    impl Drop for Running<'_> {
        fn drop(&mut self) {
            if std::thread::panicking() {
                eprintln!("failed step: {}", self.0);
            }
        }
    }
    let _running = Running(name);
    work.await
}
