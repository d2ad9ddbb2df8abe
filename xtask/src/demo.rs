//! `cargo xtask demo`: the app against two demo banks on this machine.

use std::path::Path;
use std::process::{Command, Stdio};

use crate::{
    BUILD_PACKAGES, RUN_PACKAGES, Result, build_ui, cargo, ensure_packages, package, run, step,
};

/// Builds the app and the gateway, starts two demo banks (Demo Bank on
/// 8443, Musterbank on 8444) and the app trusting both, and stops the banks
/// when the app quits.
pub fn demo() -> Result {
    let mut packages = BUILD_PACKAGES.to_vec();
    packages.extend_from_slice(RUN_PACKAGES);
    ensure_packages(&packages)?;
    if std::env::var_os("DISPLAY").is_none() && std::env::var_os("WAYLAND_DISPLAY").is_none() {
        return Err(
            "no display: run `cargo xtask demo` from a desktop session (or under Xvfb with \
             DISPLAY set)"
                .into(),
        );
    }
    build_ui()?;
    step("building the demo bank and the app");
    run(Command::new(cargo()).args(["build", "--workspace", "--bins"]))?;
    let target = package::target_dir();
    // Two banks, as a customer with accounts at two banks has: each its
    // own gateway, issuer, keys, CA and customers (alice and bob at both).
    let mut banks = Vec::new();
    for (listen, name) in [
        ("127.0.0.1:8443", "Demo Bank"),
        ("127.0.0.1:8444", "Musterbank"),
    ] {
        step(&format!(
            "starting the demo bank {name} (strongroom-gateway --demo) on https://{listen}"
        ));
        match start_demo_bank(&target, listen, name) {
            Ok(bank) => banks.push(bank),
            Err(e) => {
                stop_demo_banks(&mut banks);
                return Err(e);
            }
        }
    }
    // The app trusts both demo CAs: one file holding both certificates.
    let cas = target.join("demo-banks-ca.pem");
    let mut bundle = String::new();
    for bank in &banks {
        bundle.push_str(
            &std::fs::read_to_string(&bank.ca)
                .map_err(|e| format!("the demo CA {}: {e}", bank.ca))?,
        );
    }
    std::fs::write(&cas, bundle).map_err(|e| format!("{}: {e}", cas.display()))?;
    let issuers: Vec<&str> = banks.iter().map(|b| b.issuer.as_str()).collect();
    step(&format!(
        "starting Strongroom against {}: link a demo bank, sign in as alice / alice-demo",
        issuers.join(" and ")
    ));
    let result = run(Command::new(target.join("debug/strongroom"))
        .env("STRONGROOM_CA_FILE", &cas)
        .env("STRONGROOM_DEMO_ISSUER", issuers.join(" ")));
    stop_demo_banks(&mut banks);
    result
}

/// A demo bank the demo started.
struct DemoBank {
    process: std::process::Child,
    issuer: String,
    ca: String,
}

/// Starts `strongroom-gateway --demo` as the bank `name` on `listen` and
/// reads its issuer and CA from its first line.
fn start_demo_bank(target: &Path, listen: &str, name: &str) -> Result<DemoBank> {
    // Each bank its own folder: its own database, keys, CA and customers.
    let data = target.join("demo-banks").join(listen.replace(':', "-"));
    let mut process = Command::new(target.join("debug/strongroom-gateway"))
        .args(["--demo", "--listen", listen, "--bank-name", name])
        .arg("--data-dir")
        .arg(&data)
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start the demo bank {name}: {e}"))?;
    let mut ready = String::new();
    if let Some(out) = process.stdout.take() {
        use std::io::BufRead;
        let _ = std::io::BufReader::new(out).read_line(&mut ready);
    }
    let field = |key: &str| {
        ready
            .split_whitespace()
            .find_map(|w| w.strip_prefix(&format!("{key}=")))
            .map(str::to_owned)
    };
    match (field("issuer"), field("ca")) {
        (Some(issuer), Some(ca)) => Ok(DemoBank {
            process,
            issuer,
            ca,
        }),
        _ => {
            let _ = process.kill();
            let _ = process.wait();
            Err(format!(
                "the demo bank {name} did not start (is {listen} taken?): {ready:?}"
            ))
        }
    }
}

fn stop_demo_banks(banks: &mut Vec<DemoBank>) {
    for mut bank in banks.drain(..) {
        let _ = bank.process.kill();
        let _ = bank.process.wait();
    }
}
