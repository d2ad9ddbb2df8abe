//! Strongroom's project commands, run as `cargo xtask <command>`.
//!
//! - `demo`: installs what is missing, starts the demo bank
//!   (`strongroom-gateway --demo` on 127.0.0.1:8443) and the app pointed at
//!   it with the demo CA trusted.
//! - `test`: installs what is missing, then runs `cargo fmt --check`,
//!   `cargo clippy --all-targets -- -D warnings`, builds everything once in
//!   release (with a throwaway update key built in) and the packages from
//!   that build, and runs every test inside a private D-Bus session with an
//!   unlocked gnome-keyring (a real Secret Service) whose data lives in a
//!   temporary folder: the workspace's tests layer by layer (unit,
//!   integration, window, browser), the gateway's again on PostgreSQL, and
//!   the packages installed, run, updated and removed. It closes with each
//!   layer's time and the count of tests passed, failed and skipped.
//! - `bundle`: builds the release binaries and the installers: the app's
//!   .deb and .rpm (Tauri CLI) and the gateway's .deb, in
//!   `target/release/dist/`.
//! - `bench NAME [--json]`: runs a benchmark (`store`, `delivery`,
//!   `devices`, `app`, `gateway-pg`, `call-status`); `bench delivery --runs
//!   N` repeats the one-device 1,000/s phase N times and reports the worst
//!   p99; `bench gateway-pg --nodes 1,2,4 --brokers redis,notify` runs
//!   that many gateways on one PostgreSQL, announcing through each
//!   (`--rounds N`: all of it N times, round after round).
//! - `fuzz [--runs N] [--json] [--record] [--target NAME]`: runs every fuzz
//!   target coverage-guided for N executions (see `fuzz.rs`).
//!
//! Installs are idempotent: a package or tool that is present is left alone.
//! This crate uses only the standard library so that it builds in seconds.

mod demo;
mod fuzz;
mod keyring;
mod layers;
mod manifests;
mod package;
mod postgres;
mod redis;

use std::env;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};

/// Debian/Ubuntu packages needed to build the app (Tauri 2 on WebKitGTK).
const BUILD_PACKAGES: &[&str] = &[
    "build-essential",
    "pkg-config",
    "file",
    "libssl-dev",
    "libxdo-dev",
    "libwebkit2gtk-4.1-dev",
    "libsoup-3.0-dev",
    "libjavascriptcoregtk-4.1-dev",
    "libgtk-3-dev",
    "librsvg2-dev",
    "libayatana-appindicator3-dev",
];

/// Packages needed to run the app and its tests headless: a real Secret
/// Service (gnome-keyring) in a private D-Bus session, libsecret's
/// `secret-tool` to look into it from outside, an X server, and headless
/// Chromium with its WebDriver for the agent console (`certutil` puts the
/// demo CA into the browser's trust store).
const RUN_PACKAGES: &[&str] = &[
    "dbus",
    "dbus-x11",
    "xvfb",
    "xauth",
    "x11-utils",
    "imagemagick",
    "at-spi2-core",
    "webkit2gtk-driver",
    "gnome-keyring",
    "libsecret-tools",
    "keyutils",
    "chromium",
    "chromium-driver",
    "libnss3-tools",
];

/// PostgreSQL's server and client, and Redis's (the gateways' `--broker`),
/// for the gateway's tests and benchmark on PostgreSQL (a private server of
/// each per run; see `postgres.rs` and `redis.rs`).
const POSTGRES_PACKAGES: &[&str] = &[
    "postgresql",
    "postgresql-client",
    "redis-server",
    "redis-tools",
];

/// For the packages' test: `sudo` is how the app's updater runs dpkg when
/// no graphical prompt (pkexec, zenity) is there; `rpm` reads the .rpm;
/// `man` finds and renders the installed manual pages; `appstreamcli`
/// validates the app's AppStream metadata; `flatpak-builder` reads the
/// Flatpak manifest.
const PACKAGE_TEST_PACKAGES: &[&str] = &["sudo", "rpm", "man-db", "appstream", "flatpak-builder"];

type Result<T = ()> = std::result::Result<T, String>;

fn main() -> ExitCode {
    let args: Vec<String> = env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("test") => test(),
        Some("demo") => demo::demo(),
        Some("bundle") => bundle(),
        Some("bench") => bench(&args[1..]),
        Some("fuzz") => fuzz::command(&args[1..]),
        Some("openapi") => manifests::openapi(),
        _ => Err(usage()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask: {message}");
            ExitCode::FAILURE
        }
    }
}

fn usage() -> String {
    "usage: cargo xtask <demo | test | bundle | openapi | bench (store | delivery [--runs N] | devices [--connections N] | app | gateway-pg [--nodes 1,2,4] [--brokers redis,notify] [--rounds N] | call-status) [--json] | fuzz [--runs N] [--json] [--record] [--target NAME]>".into()
}

/// The checkout xtask runs in. `cargo run` sets `CARGO_MANIFEST_DIR` for
/// the process; it is read at run time because the compile-time value can
/// name another checkout: cargo reuses an xtask built from an identical
/// checkout elsewhere when the two share a `CARGO_TARGET_DIR`, and that
/// binary would build and test the other checkout.
fn root() -> PathBuf {
    let manifest_dir =
        env::var_os("CARGO_MANIFEST_DIR").unwrap_or_else(|| env!("CARGO_MANIFEST_DIR").into());
    Path::new(&manifest_dir)
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

fn cargo() -> String {
    env::var("CARGO").unwrap_or_else(|_| "cargo".into())
}

fn step(title: &str) {
    eprintln!("\n==> {title}");
}

/// Runs a command in the repository root; fails with its name if it fails.
fn run(cmd: &mut Command) -> Result {
    let shown = format!("{cmd:?}");
    // A command that names its own folder keeps it (the PostgreSQL
    // certificates are made in theirs); the others run at the root.
    if cmd.get_current_dir().is_none() {
        cmd.current_dir(root());
    }
    let status = cmd
        .status()
        .map_err(|e| format!("could not start {shown}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{shown} failed ({status})"))
    }
}

fn have(program: &str) -> bool {
    Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {program} >/dev/null 2>&1"))
        .status()
        .is_ok_and(|s| s.success())
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

fn package_installed(name: &str) -> bool {
    Command::new("dpkg-query")
        .args(["-W", "-f=${Status}", name])
        .stderr(Stdio::null())
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("install ok installed"))
}

/// Installs the Debian packages that are missing, and only those.
fn ensure_packages(packages: &[&str]) -> Result {
    if !have("dpkg-query") || !have("apt-get") {
        return Err(format!(
            "this command installs its system packages with apt on Debian or Ubuntu; on other \
             systems install the equivalents of: {}",
            packages.join(" ")
        ));
    }
    let missing: Vec<&str> = packages
        .iter()
        .copied()
        .filter(|p| !package_installed(p))
        .collect();
    if missing.is_empty() {
        eprintln!("system packages: all {} present", packages.len());
        return Ok(());
    }
    step(&format!(
        "installing system packages: {}",
        missing.join(" ")
    ));
    let sudo: &[&str] = if is_root() { &[] } else { &["sudo"] };
    let apt = |args: &[&str]| {
        let mut all: Vec<&str> = sudo.to_vec();
        all.push("apt-get");
        all.extend_from_slice(args);
        let mut cmd = Command::new(all[0]);
        cmd.args(&all[1..]).env("DEBIAN_FRONTEND", "noninteractive");
        run(&mut cmd)
    };
    apt(&["update", "-qq"])?;
    let mut install = vec!["install", "-y", "-qq", "--no-install-recommends"];
    install.extend(missing.iter().copied());
    apt(&install)
}

/// Installs the UI's npm modules when they are missing or older than the
/// lock file (`npm ci`, exactly the locked versions), then builds the UI
/// into `ui/dist`, which the app embeds at compile time.
fn build_ui() -> Result {
    npm_ci("ui", "the UI's locked modules")?;
    step("build the UI (vite)");
    run(Command::new("npm").args(["--prefix", "ui", "run", "build"]))
}

/// Installs the npm modules of `folder` (relative to the root) when they
/// are missing or older than its lock file: `npm ci`, exactly the locked
/// versions.
fn npm_ci(folder: &str, what: &str) -> Result {
    if !have("npm") {
        return Err("npm is missing: install Node.js 20 or later".into());
    }
    let dir = root().join(folder);
    let installed = dir.join("node_modules/.package-lock.json");
    let stale = match (
        std::fs::metadata(&installed).and_then(|m| m.modified()),
        std::fs::metadata(dir.join("package-lock.json")).and_then(|m| m.modified()),
    ) {
        (Ok(have), Ok(want)) => have < want,
        _ => true,
    };
    if stale {
        step(&format!("npm ci ({what})"));
        run(Command::new("npm").args(["ci", "--prefix", folder, "--no-audit", "--no-fund"]))
    } else {
        eprintln!("npm modules of {folder}: present");
        Ok(())
    }
}

/// tauri-driver bridges WebDriver to the app's WebKitGTK window.
fn ensure_tauri_driver() -> Result {
    let home = env::var_os("HOME").map(PathBuf::from).unwrap_or_default();
    if have("tauri-driver") || home.join(".cargo/bin/tauri-driver").exists() {
        eprintln!("tauri-driver: present");
        return Ok(());
    }
    step("installing tauri-driver");
    run(Command::new(cargo()).args(["install", "tauri-driver", "--version", "^2", "--locked"]))
}

fn test() -> Result {
    let mut timings = layers::Timings::default();
    let mut totals = Totals::default();
    let result = test_layers(&mut timings, &mut totals);
    if result.is_ok() {
        println!("\nxtask test: every layer passed");
    }
    println!("\n{}", timings.table());
    // A failed step that ran no test still fails the count.
    let failed = if result.is_err() {
        totals.failed.max(1)
    } else {
        totals.failed
    };
    println!(
        "summary: {} passed, {failed} failed, {} skipped",
        totals.passed, totals.ignored
    );
    result
}

/// The test command's layers, each timed into `timings`, the test counts
/// summed into `totals`.
fn test_layers(timings: &mut layers::Timings, totals: &mut Totals) -> Result {
    timings.time("set-up (system packages, tools, UI build)", || {
        let mut packages = BUILD_PACKAGES.to_vec();
        packages.extend_from_slice(RUN_PACKAGES);
        packages.extend_from_slice(POSTGRES_PACKAGES);
        packages.extend_from_slice(PACKAGE_TEST_PACKAGES);
        ensure_packages(&packages)?;
        ensure_tauri_driver()?;
        // The bank's OpenID provider the integration tests link through.
        npm_ci("tests/idp", "the test IdP's locked modules, oidc-provider")?;
        npm_ci(
            "tests/openapi",
            "the OpenAPI validator's locked modules, @seriousme/openapi-schema-validator",
        )?;
        build_ui()
    })?;
    timings.time("UI checks", || {
        step("UI: type check and unit tests (svelte-check, vitest)");
        run(Command::new("npm").args(["--prefix", "ui", "run", "check"]))?;
        run(Command::new("npm").args(["--prefix", "ui", "test"]))
    })?;

    timings.time("lint", || {
        step("cargo fmt --check");
        run(Command::new(cargo()).args(["fmt", "--all", "--", "--check"]))?;
        step("cargo clippy --all-targets -- -D warnings");
        // With the release build's flags: the build scripts (SQLite's C,
        // ring's assembly) and the proc macros it compiles and runs are
        // then the very ones the build below reuses, instead of a second,
        // debug set (about 2 minutes of the cold build on 2 cores).
        run(Command::new(cargo())
            .arg("clippy")
            .args(package::RELEASE_FLAGS)
            .args(["--all-targets", "--", "-D", "warnings"]))?;
        // Whether the checked-in copy is what the code describes is a unit
        // test of the gateway (bank/openapi.rs), run in the unit layer.
        manifests::validate_openapi()
    })?;

    // The packages' test installs an update signed with a key made for
    // this run; its public half is built into the app (plugins.updater),
    // with plain http allowed for the test's loopback update server.
    step("a throwaway update-signing key for this run");
    let update_key_dir = temp_dir("strongroom-update-key")?;
    let update_key = update_key_dir.join("update.key");
    run(Command::new(package::tauri_cli())
        .args(["signer", "generate", "--ci", "--force", "-w"])
        .arg(&update_key)
        .stdout(Stdio::null()))?;
    let pubkey = std::fs::read_to_string(update_key_dir.join("update.key.pub"))
        .map_err(|e| format!("the update key: {e}"))?;
    let tauri_config = format!(
        r#"{{"plugins":{{"updater":{{"pubkey":"{}","dangerousInsecureTransportProtocol":true}}}}}}"#,
        pubkey.trim()
    );

    // One build (the release profile) serves every test layer below and is
    // what the installed packages hold.
    let flags = package::RELEASE_FLAGS.join(" ");
    timings.time("build (tests and binaries, release)", || {
        step("build the tests and the binaries (release)");
        run(Command::new(cargo())
            .arg("test")
            .args(package::RELEASE_FLAGS)
            .arg("--no-run")
            .env("TAURI_CONFIG", &tauri_config))?;
        // The end-to-end tests start the gateway and the CLI as processes.
        package::build_release(Some(&tauri_config))
    })?;
    let packages = timings.time("bundle (.deb, .rpm)", || {
        package::package(Some(&tauri_config))
    })?;

    // Each layer on its own (same flags, so the build above is reused),
    // so that each can be timed.
    for (layer, filters) in layers::cargo_layers(&root())? {
        timings.time(layer, || {
            step(&format!(
                "{layer} tests, inside a private D-Bus session with an unlocked gnome-keyring"
            ));
            let (mut cmd, keyring_home) = keyring::session(&format!(
                r#""$CARGO_BIN" test {flags} {} -- --nocapture --test-threads=2"#,
                filters.join(" ")
            ))?;
            cmd.env("TAURI_CONFIG", &tauri_config);
            let result = run_counting(&mut cmd, totals);
            let _ = std::fs::remove_dir_all(&keyring_home);
            result
        })?;
    }

    // The same gateway tests with PostgreSQL as its database (a private
    // server with TLS on, its certificate from a CA made for the run), then
    // the two-gateway tests (crates/gateway/tests/gateway/cluster.rs, over
    // verified TLS) and gateway processes sharing it (tests/cluster.rs),
    // both ignored above.
    timings.time("gateway on PostgreSQL", || {
        step("the gateway on PostgreSQL: its tests again, and two gateways on one database");
        let server = postgres::Server::start()?;
        // The gateways' broker for the cluster tests that announce
        // through a Redis stream (the others use NOTIFY).
        let (cert, key) = server.tls_files();
        let broker = redis::Server::start(Some((&cert, &key, &server.ca_file)))?;
        let (mut cmd, keyring_home) = keyring::session(
            // `--workspace` with target filters, so that the first pass's
            // build (features unified over the workspace) is reused, not
            // rebuilt. The other crates' unit tests run again with the
            // gateway's.
            &format!(
                r#""$CARGO_BIN" test {flags} --lib --test gateway -- --test-threads=2 && "$CARGO_BIN" test {flags} --test gateway cluster:: -- --ignored --test-threads=1 && "$CARGO_BIN" test {flags} --test cluster -- --ignored --nocapture --test-threads=1"#
            ),
        )?;
        cmd.env("STRONGROOM_TEST_POSTGRES", &server.url)
            .env("STRONGROOM_TEST_POSTGRES_CA", &server.ca_file)
            .env("STRONGROOM_TEST_REDIS", &broker.url)
            .env(
                "STRONGROOM_TEST_REDIS_TLS",
                broker.tls_url.as_deref().unwrap_or_default(),
            )
            .env("TAURI_CONFIG", &tauri_config);
        let result = run_counting(&mut cmd, totals);
        let _ = std::fs::remove_dir_all(&keyring_home);
        drop(broker);
        drop(server);
        result
    })?;

    // The packages as users install them: apt-get install, the installed
    // app in a real window, a signed update, apt-get remove.
    timings.time("packages", || {
        step("the packages: install, run, update, remove (tests/package.rs)");
        let (mut cmd, keyring_home) = keyring::session(&format!(
            r#""$CARGO_BIN" test {flags} --test package -- --ignored --nocapture --test-threads=1"#
        ))?;
        cmd.env("TAURI_CONFIG", &tauri_config)
            .env("STRONGROOM_TEST_APP_DEB", &packages.app_deb)
            .env("STRONGROOM_TEST_APP_RPM", &packages.app_rpm)
            .env("STRONGROOM_TEST_GATEWAY_DEB", &packages.gateway_deb)
            .env("STRONGROOM_TEST_UPDATE_KEY", &update_key)
            .env("STRONGROOM_TAURI_CLI", package::tauri_cli());
        let result = run_counting(&mut cmd, totals);
        let _ = std::fs::remove_dir_all(&keyring_home);
        let _ = std::fs::remove_dir_all(&update_key_dir);
        result?;
        manifests::check_flatpak()
    })?;

    // Each fuzz target, briefly: it builds, starts from its seeds and
    // replays its regression inputs (the campaign: `cargo xtask fuzz`).
    timings.time("fuzz smoke", || {
        step("fuzz targets: a short smoke of each");
        fuzz::smoke()
    })
}

/// Test counts summed over every `test result:` line cargo printed.
#[derive(Default)]
struct Totals {
    passed: u64,
    failed: u64,
    ignored: u64,
}

/// Runs a command, echoing its output live, and adds cargo's test counts to
/// `totals`, so the run closes with one line that says how many tests ran.
fn run_counting(cmd: &mut Command, totals: &mut Totals) -> Result {
    use std::io::{BufRead, BufReader};
    let shown = format!("{cmd:?}");
    let mut child = cmd
        .current_dir(root())
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("could not start {shown}: {e}"))?;
    if let Some(out) = child.stdout.take() {
        for line in BufReader::new(out)
            .lines()
            .map_while(std::result::Result::ok)
        {
            println!("{line}");
            if let Some(rest) = line.trim().strip_prefix("test result: ") {
                let count = |label: &str| -> u64 {
                    rest.split(';')
                        .find_map(|part| part.trim().strip_suffix(label))
                        .and_then(|n| n.trim().rsplit(' ').next()?.parse().ok())
                        .unwrap_or(0)
                };
                totals.passed += count(" passed");
                totals.failed += count(" failed");
                totals.ignored += count(" ignored");
            }
        }
    }
    let status = child.wait().map_err(|e| format!("{shown}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{shown} failed ({status})"))
    }
}

fn temp_dir(prefix: &str) -> Result<PathBuf> {
    let dir = env::temp_dir().join(format!("{prefix}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    Ok(dir)
}

/// Builds the release binaries once, then the installers (see
/// `package.rs`). With `TAURI_SIGNING_PRIVATE_KEY` set (the packager's
/// update key), each app package also gets its update signature.
fn bundle() -> Result {
    ensure_packages(BUILD_PACKAGES)?;
    build_ui()?;
    step("release build (app with its bundled front end, gateway, CLI)");
    package::build_release(None)?;
    let built = package::package(None)?;
    println!("{}", built.app_deb.display());
    println!("{}", built.app_rpm.display());
    println!("{}", built.gateway_deb.display());
    Ok(())
}

fn bench(args: &[String]) -> Result {
    let json = args.iter().any(|a| a == "--json");
    match args.first().map(String::as_str) {
        Some("store") => bench_store(json),
        Some("delivery") => {
            // `--runs N`: the one-device tail, run N times (issue 23).
            let runs = match args.iter().position(|a| a == "--runs") {
                Some(i) => match args.get(i + 1).and_then(|n| n.parse::<u32>().ok()) {
                    Some(n) if n > 0 => n,
                    _ => return Err("--runs takes a count of runs, at least 1".into()),
                },
                None => 1,
            };
            bench_delivery(json, runs)
        }
        Some("devices") => {
            // `--connections N`: fewer than the 100,000 of issue 23.
            let connections = match args.iter().position(|a| a == "--connections") {
                Some(i) => match args.get(i + 1).and_then(|n| n.parse::<u32>().ok()) {
                    Some(n) if n > 0 => n,
                    _ => return Err("--connections takes a count, at least 1".into()),
                },
                None => 100_000,
            };
            bench_with_device("devices", json, &format!("--connections {connections}"))
        }
        Some("app") => bench_app(json),
        Some("gateway-pg") => {
            // `--nodes 1,2,4`: the gateway counts to run on PostgreSQL.
            let nodes = match args.iter().position(|a| a == "--nodes") {
                Some(i) => match args.get(i + 1) {
                    Some(list)
                        if list
                            .split(',')
                            .all(|n| n.parse::<u8>().is_ok_and(|n| (1..=8).contains(&n))) =>
                    {
                        list.clone()
                    }
                    _ => return Err("--nodes takes counts from 1 to 8, such as 1,2,4".into()),
                },
                None => "1,2,4".into(),
            };
            // `--brokers redis,notify`: how the gateways announce commits.
            let brokers = match args.iter().position(|a| a == "--brokers") {
                Some(i) => match args.get(i + 1) {
                    Some(list) if list.split(',').all(|b| b == "redis" || b == "notify") => {
                        list.clone()
                    }
                    _ => {
                        return Err(
                            "--brokers takes redis, notify or both, such as redis,notify".into(),
                        );
                    }
                },
                None => "redis,notify".into(),
            };
            // `--rounds N`: every set-up N times, round after round.
            let rounds = match args.iter().position(|a| a == "--rounds") {
                Some(i) => match args.get(i + 1).and_then(|n| n.parse::<u8>().ok()) {
                    Some(n @ 1..=10) => n,
                    _ => return Err("--rounds takes a count from 1 to 10".into()),
                },
                None => 1,
            };
            bench_gateway_pg(json, &nodes, &brokers, rounds)
        }
        Some("call-status") => bench_call_status(json),
        _ => Err(usage()),
    }
}

/// Builds the SQLCipher baseline on its own (it must never be unified with
/// the workspace's bundled SQLite), then runs the store benchmark, which
/// measures Strongroom's store, plain SQLite and SQLCipher in one run.
fn bench_store(json: bool) -> Result {
    ensure_packages(&["build-essential", "pkg-config", "libssl-dev"])?;
    let target = package::target_dir();
    let quiet: &[&str] = if json { &["--quiet"] } else { &[] };
    if !json {
        step("building the SQLCipher baseline (its own package and target folder)");
    }
    run(Command::new(cargo())
        .args([
            "build",
            "--release",
            "--manifest-path",
            "bench/sqlcipher/Cargo.toml",
        ])
        .args(quiet)
        .arg("--target-dir")
        .arg(target.join("bench-sqlcipher")))?;
    let sqlcipher = target.join("bench-sqlcipher/release/sqlcipher-baseline");
    if !json {
        step("running the store benchmark");
    }
    let mut cmd = Command::new(cargo());
    cmd.args(["bench", "--package", "strongroom-store", "--bench", "store"])
        .args(quiet)
        .arg("--")
        .env("STRONGROOM_SQLCIPHER_BASELINE", sqlcipher);
    if json {
        cmd.arg("--json");
    }
    run(&mut cmd)
}

/// Builds the gateway in release, then runs the delivery benchmark (one real
/// device with its store and keychain, then 10,000 load connections) inside
/// a private D-Bus session with an unlocked gnome-keyring.
fn bench_delivery(json: bool, runs: u32) -> Result {
    bench_with_device("delivery", json, &format!("--runs {runs}"))
}

/// Builds the gateway in release, then runs the call-status benchmark (the
/// agent's console request to the commit on one real device, call status
/// changes against alerts, issue 19) inside a private D-Bus session with an
/// unlocked gnome-keyring.
fn bench_call_status(json: bool) -> Result {
    bench_with_device("call_status", json, "")
}

/// Builds and runs the client crate's benchmark `bench`, which starts the
/// release gateway as a process and runs a real device against it, with
/// its keychain in a private D-Bus session.
fn bench_with_device(bench: &str, json: bool, extra: &str) -> Result {
    ensure_packages(&[
        "build-essential",
        "pkg-config",
        "dbus",
        "gnome-keyring",
        "libsecret-tools",
    ])?;
    build_client_bench(bench, json)?;
    if !json {
        step(&format!("running the {bench} benchmark"));
    }
    run_bench_in_keyring(
        &format!("--package strongroom-client --bench {bench}"),
        &format!("{} {extra}", if json { "--json" } else { "" }),
    )
}

/// Builds the gateway in release, starts a private PostgreSQL server and a
/// private Redis server, then runs the gateway-pg benchmark: the fan-out
/// load on one SQLite gateway and on each count of `nodes` (such as
/// `1,2,4`) gateways sharing a PostgreSQL database, announcing through
/// each of `brokers` (the Redis server's stream, or NOTIFY), in one run,
/// `rounds` times over (each round runs every set-up once).
fn bench_gateway_pg(json: bool, nodes: &str, brokers: &str, rounds: u8) -> Result {
    let mut packages = vec!["build-essential", "pkg-config", "dbus", "gnome-keyring"];
    packages.extend_from_slice(POSTGRES_PACKAGES);
    ensure_packages(&packages)?;
    build_client_bench("gateway_pg", json)?;
    if !json {
        step("running the gateway-pg benchmark");
    }
    let server = postgres::Server::start()?;
    let broker = redis::Server::start(None)?;
    // The same session as the other benchmarks (it also raises the
    // open-file limit for 10,000 connections); no keychain is used.
    let line = format!(
        r#""$CARGO_BIN" bench --quiet --package strongroom-client --bench gateway_pg -- --nodes {nodes} --brokers {brokers} --rounds {rounds} {}"#,
        if json { "--json" } else { "" }
    );
    let (mut cmd, keyring_home) = keyring::session(&line)?;
    // Through the Unix socket, as a gateway reaches a database on its own
    // machine (it refuses one on another host); the tests go through
    // loopback TCP, so both ways are exercised.
    cmd.env("STRONGROOM_TEST_POSTGRES", &server.socket_url)
        .env("STRONGROOM_TEST_REDIS", &broker.url);
    let result = run(&mut cmd);
    let _ = std::fs::remove_dir_all(&keyring_home);
    drop(broker);
    drop(server);
    result
}

/// Builds the release app (with its bundled front end), the hello-world
/// baseline window and the gateway, then runs the app benchmark under a
/// private D-Bus session with an unlocked gnome-keyring: startup with
/// 100,000 messages, and idle memory against the hello-world window.
fn bench_app(json: bool) -> Result {
    let mut packages = BUILD_PACKAGES.to_vec();
    packages.extend_from_slice(RUN_PACKAGES);
    ensure_packages(&packages)?;
    ensure_tauri_driver()?;
    build_ui()?;
    let quiet: &[&str] = if json { &["--quiet"] } else { &[] };
    if !json {
        step("building the app, the hello-world window and the gateway (release)");
    }
    build_release_gateway(quiet)?;
    // One feature set for all three, so nothing is built twice (`cargo
    // bench` builds with the release settings into the same folder).
    let app_build = ["--package", "strongroom", "--features", "custom-protocol"];
    run(Command::new(cargo())
        .args(["build", "--release"])
        .args(app_build)
        .args(["--bins", "--example", "hello-world"])
        .args(quiet))?;
    run(Command::new(cargo())
        .arg("bench")
        .args(app_build)
        .args(["--bench", "app", "--no-run"])
        .args(quiet))?;
    if !json {
        step("running the app benchmark");
    }
    run_bench_in_keyring(
        "--package strongroom --features custom-protocol --bench app",
        if json { "--json" } else { "" },
    )
}

/// Builds the gateway in release and the client crate's benchmark `bench`
/// (which starts the gateway as a process), without running it.
fn build_client_bench(bench: &str, json: bool) -> Result {
    let quiet: &[&str] = if json { &["--quiet"] } else { &[] };
    if !json {
        step("building the gateway and the benchmark (release)");
    }
    build_release_gateway(quiet)?;
    run(Command::new(cargo())
        .args([
            "bench",
            "--package",
            "strongroom-client",
            "--bench",
            bench,
            "--no-run",
        ])
        .args(quiet))
}

/// The gateway in release, for the benchmarks that start it as a process.
fn build_release_gateway(quiet: &[&str]) -> Result {
    run(Command::new(cargo())
        .args([
            "build",
            "--release",
            "--package",
            "strongroom-gateway",
            "--bins",
        ])
        .args(quiet))
}

/// Runs `cargo bench <target> -- <args>` (already built) inside a private
/// D-Bus session with an unlocked gnome-keyring, then removes the keyring.
/// `args` are xtask's own words (`--json`, `--runs N`), never input.
fn run_bench_in_keyring(target: &str, args: &str) -> Result {
    let line = format!(r#""$CARGO_BIN" bench --quiet {target} -- {args}"#);
    let (mut cmd, keyring_home) = keyring::session(&line)?;
    let result = run(&mut cmd);
    let _ = std::fs::remove_dir_all(&keyring_home);
    result
}
