//! Signed updates, through `tauri-plugin-updater`: the window asks whether
//! a newer version is offered, then asks to install it.
//!
//! The plugin does the work: it fetches the offer, downloads the package
//! and checks its minisign signature against the public key built into the
//! app (`plugins.updater.pubkey` in `tauri.conf.json`) before anything is
//! installed. Here we only keep the offer between the two steps and say,
//! in words a customer can act on, why an update was refused. Nothing
//! checks for updates by itself: a banking app does not call a server the
//! customer did not ask it to.

use serde::Serialize;
use std::sync::Mutex;
use strongroom_client::{ErrorCode, ErrorReport};
use tauri::{AppHandle, State};
use tauri_plugin_updater::{Error, Update, UpdaterExt};

/// Overrides the update server given in `tauri.conf.json` (a mirror inside
/// a company, or a test's local server). The signature check does not
/// change with it; an `http://` address is refused unless the build allows
/// it (`dangerousInsecureTransportProtocol`, which only test builds set).
const ENDPOINT_VARIABLE: &str = "STRONGROOM_UPDATE_URL";

/// The offer found by the last check, kept until it is installed.
#[derive(Default)]
pub struct PendingUpdate(Mutex<Option<Update>>);

/// A newer version the update server offers.
#[derive(Debug, Serialize)]
pub struct UpdateOffer {
    /// The version offered.
    pub version: String,
    /// The version running now.
    pub current_version: String,
    /// What changed, as the publisher wrote it.
    pub notes: Option<String>,
}

/// What a check found.
#[derive(Debug, Serialize)]
pub struct UpdateCheck {
    /// The version running now.
    pub current_version: String,
    /// A newer version, if one is offered.
    pub offer: Option<UpdateOffer>,
}

/// An update that was verified and installed.
#[derive(Debug, Serialize)]
pub struct UpdateInstalled {
    /// The version now installed; it runs after a restart.
    pub version: String,
}

/// A refused update's report: its code, the running version (`current`,
/// which its catalogue message names as untouched) and the English message
/// for the log.
fn refused(code: ErrorCode, message: String, current: &str) -> ErrorReport {
    ErrorReport::new(code, message).with("current", current)
}

/// Turns the plugin's error into a stable code, with the values its
/// catalogue message uses, and an English message for the log that says
/// what happened and that the running version is untouched.
fn explain(err: &Error, version: &str, current: &str) -> ErrorReport {
    let kept = format!("Nothing was installed; Strongroom {current} keeps running.");
    let update = if version.is_empty() {
        "The update".to_owned()
    } else {
        format!("The update to {version}")
    };
    match err {
        // The signature binds the release's version (its trusted comment,
        // `requireSignedVersion` in tauri.conf.json); the server's announced
        // version is not signed. An older genuine release announced as a
        // newer one (a downgrade to a known-vulnerable version) fails here.
        Error::SignedVersionMismatch { signed, announced } => refused(
            ErrorCode::UpdateDowngrade,
            format!(
                "The update offered as {announced} was refused: the package is signed as \
                 version {signed}, so the update server offered an older release as a newer \
                 one. {kept}"
            ),
            current,
        )
        .with("announced", announced)
        .with("signed", signed),
        Error::Minisign(_)
        | Error::Base64(_)
        | Error::SignatureUtf8(_)
        | Error::MissingSignedVersion => refused(
            ErrorCode::UpdateSignature,
            format!(
                "{update} was refused: its signature does not match \
                 Strongroom's release key, so it may have been altered or not come from us. \
                 {kept}"
            ),
            current,
        ),
        Error::InsecureTransportProtocol => refused(
            ErrorCode::UpdateInsecure,
            format!("The update server must be reached over https. {kept}"),
            current,
        ),
        Error::Reqwest(_) | Error::Network(_) | Error::ReleaseNotFound => refused(
            ErrorCode::UpdateUnreachable,
            format!(
                "The update server could not be reached or gave no valid answer ({err}). {kept}"
            ),
            current,
        ),
        Error::InvalidUpdaterFormat => refused(
            ErrorCode::UpdateFormat,
            format!("{update} is not a package this installation can use. {kept}"),
            current,
        ),
        Error::AuthenticationFailed => refused(
            ErrorCode::UpdateNotAuthorised,
            format!(
                "Installing the update needs an administrator's permission, which was not \
                 given. {kept}"
            ),
            current,
        ),
        _ => refused(
            ErrorCode::UpdateFailed,
            format!("{update} could not be installed ({err}). {kept}"),
            current,
        )
        .with("outcome", "unchanged"),
    }
}

/// The updater, with the server address from [`ENDPOINT_VARIABLE`] when
/// set; `current` is the running version, for the messages.
fn updater(app: &AppHandle, current: &str) -> Result<tauri_plugin_updater::Updater, ErrorReport> {
    let mut builder = app.updater_builder();
    if let Ok(url) = std::env::var(ENDPOINT_VARIABLE)
        && !url.is_empty()
    {
        let url = url.parse().map_err(|e| {
            refused(
                ErrorCode::UpdateServer,
                format!("{ENDPOINT_VARIABLE} is not a valid address ({e})."),
                current,
            )
        })?;
        builder = builder
            .endpoints(vec![url])
            .map_err(|e| explain(&e, "", current))?;
    }
    builder.build().map_err(|e| explain(&e, "", current))
}

/// Asks the update server whether a newer version is offered.
#[tauri::command]
pub async fn update_check(
    app: AppHandle,
    pending: State<'_, PendingUpdate>,
) -> Result<UpdateCheck, ErrorReport> {
    let current = app.package_info().version.to_string();
    let found = updater(&app, &current)?
        .check()
        .await
        .map_err(|e| explain(&e, "", &current))?;
    let offer = found.as_ref().map(|u| UpdateOffer {
        version: u.version.clone(),
        current_version: u.current_version.clone(),
        notes: u.body.clone(),
    });
    if let Ok(mut slot) = pending.0.lock() {
        *slot = found;
    }
    Ok(UpdateCheck {
        current_version: current,
        offer,
    })
}

/// Downloads the offered update, checks its signature, and installs it.
/// A refused update leaves the running version as it was.
#[tauri::command]
pub async fn update_install(
    app: AppHandle,
    pending: State<'_, PendingUpdate>,
) -> Result<UpdateInstalled, ErrorReport> {
    let current = app.package_info().version.to_string();
    let update = pending.0.lock().ok().and_then(|mut slot| slot.take());
    let Some(update) = update else {
        return Err(ErrorReport::new(
            ErrorCode::UpdateNone,
            "No update is waiting: check for updates first.",
        ));
    };
    let version = update.version.clone();
    // `download` checks the signature; `install` is only reached with a
    // package that passed.
    let bytes = update
        .download(|_, _| {}, || {})
        .await
        .map_err(|e| explain(&e, &version, &current))?;
    // Installing runs the package manager (through pkexec or sudo) and
    // waits for it: not on the async runtime's threads.
    tauri::async_runtime::spawn_blocking(move || update.install(bytes))
        .await
        .map_err(|e| {
            // The installer may have got part of the way: whether the
            // running version is still the installed one is not known.
            refused(
                ErrorCode::UpdateFailed,
                format!(
                    "The installer stopped ({e}); check the installed version before restarting."
                ),
                &current,
            )
            .with("outcome", "unknown")
        })?
        .map_err(|e| explain(&e, &version, &current))?;
    Ok(UpdateInstalled { version })
}

/// Restarts into the installed update.
#[tauri::command]
pub fn update_restart(app: AppHandle) {
    app.restart();
}
