//! A private PostgreSQL server for the tests and the `gateway-pg`
//! benchmark: a fresh cluster in a temporary folder, on a free loopback
//! port, stopped and removed when dropped. It never touches a cluster the
//! machine already runs.
//!
//! PostgreSQL refuses to run as root, so as root the cluster belongs to the
//! `postgres` system user that Debian's package creates, and its commands
//! run through `runuser`.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::Result;

/// A running private cluster.
pub struct Server {
    dir: PathBuf,
    bin: PathBuf,
    /// `postgres://strongroom@127.0.0.1:PORT/postgres`: the cluster's
    /// superuser (trust authentication, loopback only).
    pub url: String,
    /// The same superuser through the cluster's Unix socket
    /// (`postgres://strongroom@%2Ftmp%2F...:PORT/postgres`), the way a
    /// gateway is meant to reach a database on its own machine.
    pub socket_url: String,
    /// The CA that signed the server's certificate (for `localhost` only):
    /// a gateway reaches the server over verified TLS with
    /// `postgres://strongroom@localhost:PORT/db?sslmode=verify-full&sslrootcert=<this>`.
    pub ca_file: PathBuf,
}

/// The newest installed server's program folder
/// (`/usr/lib/postgresql/<version>/bin`).
fn server_bin() -> Result<PathBuf> {
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .map_err(|e| format!("PostgreSQL's server is not installed (/usr/lib/postgresql: {e})"))?
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let version = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            bin.join("initdb").exists().then_some((version, bin))
        })
        .collect();
    versions.sort();
    versions
        .pop()
        .map(|(_, bin)| bin)
        .ok_or_else(|| "no PostgreSQL server under /usr/lib/postgresql".into())
}

pub(crate) fn free_port() -> Result<u16> {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| format!("no free port: {e}"))
}

/// `program` from the server's folder, as the `postgres` user when we are
/// root.
fn pg_command(bin: &Path, program: &str) -> Command {
    let path = bin.join(program);
    if crate::is_root() {
        let mut cmd = Command::new("runuser");
        cmd.args(["-u", "postgres", "--"]).arg(path);
        cmd
    } else {
        Command::new(path)
    }
}

impl Server {
    /// Creates and starts a cluster.
    pub fn start() -> Result<Server> {
        let bin = server_bin()?;
        let dir = crate::temp_dir("strongroom-postgres")?;
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        if crate::is_root() {
            crate::run(Command::new("chown").args(["postgres:postgres"]).arg(&dir))?;
        }
        let data = dir.join("data");
        crate::run(
            pg_command(&bin, "initdb")
                .args(["--username", "strongroom", "--auth", "trust"])
                .args(["--encoding", "UTF8", "--locale", "C", "--no-sync"])
                .arg("-D")
                .arg(&data)
                .stdout(std::process::Stdio::null()),
        )?;
        let (ca_file, tls_options) = make_certificates(&dir)?;
        let port = free_port()?;
        // STRONGROOM_POSTGRES_OPTIONS adds server settings for a diagnosis
        // (say `-c shared_preload_libraries=pg_stat_statements`).
        let options = format!(
            "-c listen_addresses=127.0.0.1 -p {port} -k {} -c max_connections=300 {tls_options} {}",
            dir.display(),
            std::env::var("STRONGROOM_POSTGRES_OPTIONS").unwrap_or_default()
        );
        let server = Server {
            url: format!("postgres://strongroom@127.0.0.1:{port}/postgres"),
            socket_url: format!(
                "postgres://strongroom@{}:{port}/postgres",
                dir.display().to_string().replace('/', "%2F")
            ),
            dir,
            bin,
            ca_file,
        };
        crate::run(
            pg_command(&server.bin, "pg_ctl")
                .arg("-D")
                .arg(&data)
                .arg("-l")
                .arg(server.dir.join("server.log"))
                .args(["-w", "-o", &options, "start"])
                .stdout(std::process::Stdio::null()),
        )?;
        eprintln!("PostgreSQL: a private server at {}", server.url);
        Ok(server)
    }
}

/// A test CA and a server certificate for `localhost` signed by it (P-256,
/// two days), made with the `openssl` command in `dir/tls`: the server's
/// settings that turn TLS on, and the CA file.
fn make_certificates(dir: &Path) -> Result<(PathBuf, String)> {
    let tls = dir.join("tls");
    std::fs::create_dir_all(&tls).map_err(|e| format!("{}: {e}", tls.display()))?;
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
    ];
    crate::run(
        Command::new("openssl")
            .current_dir(&tls)
            .args(["req", "-x509"])
            .args(ec)
            .args(["-keyout", "ca.key", "-out", "ca.pem", "-days", "2"])
            .args(["-subj", "/CN=Strongroom test database CA"])
            .args(["-addext", "basicConstraints=critical,CA:TRUE"])
            .args(["-addext", "keyUsage=critical,keyCertSign"])
            .stderr(std::process::Stdio::null()),
    )?;
    crate::run(
        Command::new("openssl")
            .current_dir(&tls)
            .arg("req")
            .args(ec)
            .args(["-keyout", "server.key", "-out", "server.csr"])
            .args(["-subj", "/CN=localhost"])
            .stderr(std::process::Stdio::null()),
    )?;
    let extensions = tls.join("server.ext");
    std::fs::write(
        &extensions,
        "subjectAltName=DNS:localhost\nextendedKeyUsage=serverAuth\n",
    )
    .map_err(|e| format!("{}: {e}", extensions.display()))?;
    crate::run(
        Command::new("openssl")
            .current_dir(&tls)
            .args(["x509", "-req", "-in", "server.csr", "-CA", "ca.pem"])
            .args(["-CAkey", "ca.key", "-CAcreateserial", "-out", "server.pem"])
            .args(["-days", "2", "-extfile", "server.ext"])
            .stderr(std::process::Stdio::null()),
    )?;
    // PostgreSQL reads its key only when no one else can.
    crate::run(Command::new("chmod").arg("600").arg(tls.join("server.key")))?;
    if crate::is_root() {
        crate::run(
            Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(&tls),
        )?;
    }
    let options = format!(
        "-c ssl=on -c ssl_cert_file={} -c ssl_key_file={}",
        tls.join("server.pem").display(),
        tls.join("server.key").display()
    );
    Ok((tls.join("ca.pem"), options))
}

impl Server {
    /// The server's certificate chain and key (for `localhost`, signed by
    /// [`Server::ca_file`]), which the private Redis server serves too.
    pub fn tls_files(&self) -> (PathBuf, PathBuf) {
        let tls = self.dir.join("tls");
        (tls.join("server.pem"), tls.join("server.key"))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = pg_command(&self.bin, "pg_ctl")
            .arg("-D")
            .arg(self.dir.join("data"))
            .args(["-m", "fast", "-w", "stop"])
            .stdout(std::process::Stdio::null())
            .status();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
