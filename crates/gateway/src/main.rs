//! `strongroom-gateway`: runs the reference bank gateway until SIGTERM or
//! SIGINT. Prints exactly one line on stdout when ready (tests and scripts
//! parse it); its logs go to stderr as JSON lines. Under systemd
//! (`Type=notify`) it also reports readiness, status and stopping, and
//! keeps the watchdog fed while its runtime and database answer.

use std::io::Write;
use std::path::PathBuf;

use clap::FromArgMatches;
use strongroom_gateway::cli::{self, AdminCommand, GatewayArgs};
use strongroom_gateway::{Config, GatewayError, start};

fn main() {
    // Usage errors exit 2 and `--help`/`--version` exit 0, as clap does.
    let matches = cli::command_with_packaging().get_matches();
    if let Some((cli::WRITE_MANUALS, packaging)) = matches.subcommand() {
        let dir = packaging
            .get_one::<PathBuf>("dir")
            .cloned()
            .unwrap_or_default();
        admin_done(
            cli::WRITE_MANUALS,
            cli::write_manuals(&dir)
                .map(|()| {
                    format!(
                        "wrote the manual pages and completions to {}",
                        dir.display()
                    )
                })
                .map_err(|e| GatewayError::io(dir.display().to_string(), e)),
        );
    }
    let args = GatewayArgs::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    match args.command {
        // Staff accounts for the agent console; no server is started.
        Some(AdminCommand::Staff(command)) => admin_done(
            "staff",
            cli::run_staff(command, &mut std::io::stdin().lock()),
        ),
        // Removes a demo bank's accounts from a data folder; no server.
        Some(AdminCommand::Demo(command)) => admin_done("demo", cli::run_demo(command)),
        // The bank's API keys: added, listed, revoked; no server.
        Some(AdminCommand::ApiKey(command)) => admin_done("api-key", cli::run_api_key(command)),
        None => {}
    }
    // Parsed again with each --config file's settings before the command
    // line's.
    let config = match Config::from_args(std::env::args().skip(1)) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("strongroom-gateway: {e}");
            std::process::exit(2);
        }
    };
    if let Err(e) = strongroom_gateway::logging::init(&config.log_level) {
        eprintln!("strongroom-gateway: {e}");
        std::process::exit(2);
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            tracing::error!(error = %e, "cannot start the runtime");
            std::process::exit(1);
        }
    };
    let code = runtime.block_on(async {
        let gateway = match start(config).await {
            Ok(g) => g,
            Err(e) => {
                tracing::error!(error = %e, "the gateway cannot start");
                return 1;
            }
        };
        let mut stdout = std::io::stdout().lock();
        let _ = writeln!(stdout, "{}", gateway.ready_line());
        let _ = stdout.flush();
        drop(stdout);
        tracing::info!(
            issuer = %gateway.issuer,
            listen = %gateway.local_addr,
            admin = %gateway
                .admin_addr
                .map_or_else(|| "-".to_owned(), |a| a.to_string()),
            "ready"
        );
        systemd_ready(&gateway);
        wait_for_signal().await;
        tracing::info!("shutting down");
        let _ = sd_notify::notify(&[sd_notify::NotifyState::Stopping]);
        gateway.shutdown().await;
        0
    });
    std::process::exit(code);
}

/// Tells systemd the gateway is ready (nothing happens outside systemd),
/// and feeds its watchdog: each half period the readiness checks run, and
/// the watchdog is fed if they finish in time, whatever they find. A
/// gateway whose database is down stays up and says so at `/readyz`; one
/// whose runtime or database pool hangs is restarted.
fn systemd_ready(gateway: &strongroom_gateway::RunningGateway) {
    let status = format!("serving {}", gateway.issuer);
    let _ = sd_notify::notify(&[
        sd_notify::NotifyState::Ready,
        sd_notify::NotifyState::Status(&status),
    ]);
    let Some(period) = sd_notify::watchdog_enabled() else {
        return;
    };
    let probe = gateway.readiness_probe();
    tokio::spawn(async move {
        let half = period / 2;
        loop {
            let next = tokio::time::Instant::now() + half;
            if tokio::time::timeout(half, probe.check()).await.is_ok() {
                let _ = sd_notify::notify(&[sd_notify::NotifyState::Watchdog]);
            } else {
                tracing::error!("the readiness checks hung; not feeding the watchdog");
            }
            tokio::time::sleep_until(next).await;
        }
    });
}

/// Ends an administration command: prints what it did, or why it failed
/// (exit 2).
fn admin_done(name: &str, outcome: Result<String, GatewayError>) -> ! {
    match outcome {
        Ok(out) => {
            println!("{out}");
            std::process::exit(0);
        }
        Err(e) => {
            eprintln!("strongroom-gateway {name}: {e}");
            std::process::exit(2);
        }
    }
}

#[cfg(unix)]
async fn wait_for_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        let _ = tokio::signal::ctrl_c().await;
        return;
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
}

#[cfg(not(unix))]
async fn wait_for_signal() {
    let _ = tokio::signal::ctrl_c().await;
}
