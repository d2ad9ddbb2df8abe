//! Strongroom's desktop shell: a window, a tray icon, notifications, and the
//! commands the window may call.
//!
//! Thin on purpose: every command is a plain function over the client core
//! (`strongroom_client::app::AppCore`); no SQL, crypto, keychain or network
//! code lives here.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

mod commands;
mod notification_text;
mod notify;
mod tray;
mod update;

use std::path::PathBuf;
use std::sync::Arc;
use strongroom_client::app::{AppCore, LiveEvent, parse_deep_link};
use strongroom_vault::Vault;
use tauri::Manager;
use tauri_plugin_deep_link::DeepLinkExt;

/// The core, configured from the environment the way `cargo xtask demo`
/// and the tests set it.
fn core(app: &tauri::App) -> Result<Arc<AppCore>, Box<dyn std::error::Error>> {
    let data_dir = match std::env::var_os("STRONGROOM_DATA_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => app.path().app_data_dir()?,
    };
    let vault = match std::env::var("STRONGROOM_KEYCHAIN_SERVICE") {
        Ok(service) if !service.is_empty() => Vault::with_service(service),
        _ => Vault::new(),
    };
    let extra_ca = std::env::var_os("STRONGROOM_CA_FILE").map(PathBuf::from);
    // One demo bank or several (`cargo xtask demo` starts two), by issuer.
    let demo: Vec<String> = std::env::var("STRONGROOM_DEMO_ISSUER")
        .unwrap_or_default()
        .split_whitespace()
        .map(str::to_owned)
        .collect();
    Ok(AppCore::new(data_dir, vault, extra_ca, demo))
}

fn show_main(app: &tauri::AppHandle) {
    if let Some(window) = app.get_webview_window("main") {
        let _ = window.unminimize();
        let _ = window.show();
        let _ = window.set_focus();
    }
}

fn deep_links(core: &AppCore, urls: impl IntoIterator<Item = String>) {
    for url in urls {
        if let Some(issuer) = parse_deep_link(&url) {
            core.announce(LiveEvent::DeepLink { issuer });
        }
    }
}

/// Notifications, the tray's unread count and its call status lines follow
/// the live events. A click on a notification brings the window up on that
/// alert.
fn follow_events(app: tauri::AppHandle, core: Arc<AppCore>) {
    let events = core.subscribe();
    let click_app = app.clone();
    let click_core = core.clone();
    let notifier = notify::Notifier::start(
        &app,
        Arc::new(move |account, alert_id| {
            click_core.touch();
            show_main(&click_app);
            click_core.announce(LiveEvent::OpenAlert { account, alert_id });
        }),
    );
    let calls = tray::CallLines::default();
    // Its own thread and runtime: each event reads the settings file and
    // the store (the tray's lines), which must not hold a worker of the
    // app's runtime, where the commands and the streams run.
    let follow = move || {
        let runtime = match tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
        {
            Ok(runtime) => runtime,
            Err(e) => {
                eprintln!("strongroom: no runtime for notifications: {e}");
                return;
            }
        };
        runtime.block_on(follow_loop(app, core, events, notifier, calls));
    };
    if let Err(e) = std::thread::Builder::new()
        .name("follow-events".into())
        .spawn(follow)
    {
        eprintln!("strongroom: no thread for notifications: {e}");
    }
}

/// The body of [`follow_events`], on its own thread.
async fn follow_loop(
    app: tauri::AppHandle,
    core: Arc<AppCore>,
    mut events: tokio::sync::broadcast::Receiver<LiveEvent>,
    notifier: notify::Notifier,
    mut calls: tray::CallLines,
) {
    let mut every = tokio::time::interval(tray::CALLS_EVERY);
    loop {
        let event = tokio::select! {
            event = events.recv() => event,
            _ = every.tick() => {
                // Time alone changes the call status (a call expires,
                // contact goes stale): the tray reads it again.
                calls.refresh(&app, &core);
                continue;
            }
        };
        let event = match event {
            Ok(event) => event,
            Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
            Err(_) => return,
        };
        // One read of the settings file for both.
        let settings = core.settings();
        let privacy = settings.notification_privacy;
        let locale = settings.locale();
        if let Some((title, body)) = notification_text::notification_for(privacy, locale, &event) {
            let target = match &event {
                LiveEvent::Alert { account, alert } => {
                    Some((account.clone(), alert.alert.id.clone()))
                }
                _ => None,
            };
            notifier.show(
                &title,
                &body,
                target,
                notification_text::urgency_for(&event),
                &strongroom_l10n::Catalog::get(strongroom_l10n::Domain::Desktop, locale.lang)
                    .text("notify-open"),
            );
        }
        // A new fraud check changes the tray's first line at once; an
        // answer shows by the next tick (the window answers it).
        if matches!(
            event,
            LiveEvent::CallStatus { .. } | LiveEvent::Locked | LiveEvent::Alert { .. }
        ) {
            calls.refresh(&app, &core);
        }
        tray::show_unread(&app, core.unread_total(), locale.lang);
    }
}

/// SIGTERM (a logout, a package upgrade, `kill`) and SIGINT quit the way
/// closing the window does: the window's size and place are saved and the
/// store closes cleanly.
fn quit_on_signals(app: tauri::AppHandle) {
    #[cfg(unix)]
    tauri::async_runtime::spawn(async move {
        use tokio::signal::unix::{SignalKind, signal};
        let (Ok(mut term), Ok(mut int)) = (
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
        ) else {
            return;
        };
        tokio::select! {
            _ = term.recv() => {}
            _ = int.recv() => {}
        }
        app.exit(0);
    });
    #[cfg(not(unix))]
    let _ = app;
}

/// Linux: starts the window's JavaScript engine without its JIT compilers.
///
/// The window runs one small interface, never a heavy computation, and
/// shows text written by banks and their staff. Without the JIT the engine
/// only interprets: the largest part of its attack surface is gone (as in
/// Safari's Lockdown Mode), and the web process holds about 11 MiB less
/// (`docs/benchmarks.md`). WebKit reads `JSC_useJIT` in the web process,
/// which inherits our environment; changing our own environment once
/// threads may run is unsound, so the shell starts itself again with the
/// variable set, before anything else. Setting `JSC_useJIT` yourself (for
/// example to 1) is respected.
#[cfg(target_os = "linux")]
fn without_jit() {
    use std::os::unix::process::CommandExt;
    const JIT: &str = "JSC_useJIT";
    if std::env::var_os(JIT).is_some() {
        return;
    }
    let Ok(exe) = std::env::current_exe() else {
        return;
    };
    let mut args = std::env::args_os();
    let err = std::process::Command::new(exe)
        .arg0(args.next().unwrap_or_default())
        .args(args)
        .env(JIT, "0")
        .exec();
    // Still here: the restart failed. Going on with the JIT is safe, only
    // less hardened; say so.
    eprintln!("strongroom: could not restart without the JavaScript JIT ({err})");
}

fn main() {
    #[cfg(target_os = "linux")]
    without_jit();
    let builder = tauri::Builder::default()
        // First: a second launch (or a strongroom:// link) goes to the
        // running app instead of opening a second store.
        .plugin(tauri_plugin_single_instance::init(|app, argv, _cwd| {
            show_main(app);
            if let Some(core) = app.try_state::<Arc<AppCore>>() {
                deep_links(&core, argv);
            }
        }))
        .plugin(tauri_plugin_deep_link::init())
        .plugin(tauri_plugin_window_state::Builder::default().build())
        .plugin(tauri_plugin_updater::Builder::new().build())
        .manage(update::PendingUpdate::default());
    // On Linux notifications go over the session bus directly (notify.rs).
    #[cfg(not(target_os = "linux"))]
    let builder = builder.plugin(tauri_plugin_notification::init());
    let result = builder
        .setup(|app| {
            let core = core(app)?;
            app.manage(core.clone());
            {
                // In the background: a keychain waiting for the user to
                // unlock it must not keep the window from opening.
                let core = core.clone();
                tauri::async_runtime::spawn(async move { core.open() });
            }
            tray::build(app, core.clone())?;
            let link_core = core.clone();
            app.deep_link().on_open_url(move |event| {
                deep_links(&link_core, event.urls().iter().map(ToString::to_string));
            });
            if let Ok(Some(urls)) = app.deep_link().get_current() {
                deep_links(&core, urls.iter().map(ToString::to_string));
            }
            follow_events(app.handle().clone(), core);
            quit_on_signals(app.handle().clone());
            Ok(())
        })
        .invoke_handler(tauri::generate_handler![
            commands::status,
            commands::retry,
            commands::lock,
            commands::unlock,
            commands::set_passphrase,
            commands::settings,
            commands::save_settings,
            commands::link_start,
            commands::link_finish,
            commands::link_cancel,
            commands::accounts,
            commands::alerts,
            commands::conversation,
            commands::search,
            commands::privacy_ledger,
            commands::answer_fraud_check,
            commands::send_chat,
            commands::unlink,
            commands::export_transcript,
            commands::subscribe,
            commands::call_statuses,
            commands::report_scam_call,
            update::update_check,
            update::update_install,
            update::update_restart,
        ])
        .run(tauri::generate_context!());
    if let Err(error) = result {
        eprintln!("Strongroom could not start: {error}");
        std::process::exit(1);
    }
}
