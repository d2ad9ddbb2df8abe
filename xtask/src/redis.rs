//! A private Redis server for the tests and the `gateway-pg` benchmark
//! (the gateways' `--broker`): a `redis-server` of its own on a free
//! loopback port, with nothing saved to disk, stopped when dropped. It
//! never touches a server the machine already runs.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::Result;

/// A running private server.
pub struct Server {
    child: Child,
    /// `redis://127.0.0.1:PORT`: what `--broker` takes.
    pub url: String,
    /// `rediss://localhost:PORT?sslrootcert=CA`: the same server over
    /// verified TLS, when started with a certificate.
    pub tls_url: Option<String>,
}

impl Server {
    /// Starts a server and waits until it answers; with `tls` (the
    /// certificate chain, its key and the CA that signed it, for
    /// `localhost`) it also serves TLS on a second port.
    pub fn start(tls: Option<(&Path, &Path, &Path)>) -> Result<Server> {
        let port = crate::postgres::free_port()?;
        let mut command = Command::new("redis-server");
        command.args(["--bind", "127.0.0.1", "--port", &port.to_string()]);
        let mut tls_url = None;
        if let Some((cert, key, ca)) = tls {
            let tls_port = crate::postgres::free_port()?;
            command
                .args(["--tls-port", &tls_port.to_string()])
                .arg("--tls-cert-file")
                .arg(cert)
                .arg("--tls-key-file")
                .arg(key)
                .arg("--tls-ca-cert-file")
                .arg(ca)
                .args(["--tls-auth-clients", "no"]);
            tls_url = Some(format!(
                "rediss://localhost:{tls_port}?sslrootcert={}",
                ca.display()
            ));
        }
        let child = command
            // Announcements are wake-ups: nothing of them needs to survive
            // the server, and a test run writes no dump files.
            .args([
                "--save",
                "",
                "--appendonly",
                "no",
                "--protected-mode",
                "yes",
            ])
            .stdout(Stdio::null())
            .spawn()
            .map_err(|e| format!("redis-server (package redis-server): {e}"))?;
        let server = Server {
            child,
            url: format!("redis://127.0.0.1:{port}"),
            tls_url,
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let answered = Command::new("redis-cli")
                .args(["-p", &port.to_string(), "ping"])
                .stderr(Stdio::null())
                .output()
                .is_ok_and(|o| o.stdout.starts_with(b"PONG"));
            if answered {
                break;
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "redis-server on port {port} did not answer in 10 s"
                ));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        eprintln!("Redis: a private server at {}", server.url);
        Ok(server)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
