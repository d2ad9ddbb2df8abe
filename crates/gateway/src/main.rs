//! `strongroom-gateway`: runs the reference bank gateway until SIGTERM or
//! SIGINT. Prints exactly one line on stdout when ready (tests and scripts
//! parse it); everything else goes to stderr.

use std::io::Write;

use strongroom_gateway::{Config, start};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("staff") {
        // Staff accounts for the agent console; no server is started.
        match strongroom_gateway::staff::command(&args[1..], &mut std::io::stdin().lock()) {
            Ok(out) => {
                println!("{out}");
                std::process::exit(0);
            }
            Err(e) => {
                eprintln!("strongroom-gateway staff: {e}");
                std::process::exit(2);
            }
        }
    }
    if args.first().map(String::as_str) == Some("demo") {
        // Removes a demo bank's accounts from a data folder; no server.
        match strongroom_gateway::demo::command(&args[1..]) {
            Ok(out) => {
                println!("{out}");
                std::process::exit(0);
            }
            Err(e) => {
                eprintln!("strongroom-gateway demo: {e}");
                std::process::exit(2);
            }
        }
    }
    let config = match Config::from_args(args) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("strongroom-gateway: {e}");
            std::process::exit(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("strongroom-gateway: cannot start the runtime: {e}");
            std::process::exit(1);
        }
    };
    let code = runtime.block_on(async {
        let gateway = match start(config).await {
            Ok(g) => g,
            Err(e) => {
                eprintln!("strongroom-gateway: {e}");
                return 1;
            }
        };
        let mut stdout = std::io::stdout().lock();
        let _ = writeln!(stdout, "{}", gateway.ready_line());
        let _ = stdout.flush();
        drop(stdout);
        wait_for_signal().await;
        eprintln!("strongroom-gateway: shutting down");
        gateway.shutdown().await;
        0
    });
    std::process::exit(code);
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
