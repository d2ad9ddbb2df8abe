//! The commands the UI may call (each declared in build.rs and granted in
//! `capabilities/main.json`). Errors cross to the UI as `{code, message}`.

use std::path::PathBuf;
use std::sync::Mutex;
use strongroom_client::{Device, StartupStatus};
use strongroom_vault::Vault;
use tauri::Manager;

/// What the shell holds: the opened device, if the keychain allowed it, and
/// the status the UI shows at start.
pub struct AppState {
    /// Held for the commands later issues add; `None` when opening failed.
    #[allow(dead_code)]
    device: Mutex<Option<Device>>,
    status: StartupStatus,
}

/// Opens the device when the app starts. A keychain or store problem does
/// not stop the app: the window opens and explains it.
pub fn start(app: &mut tauri::App) -> Result<(), Box<dyn std::error::Error>> {
    let data_dir = match std::env::var_os("STRONGROOM_DATA_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => app.path().app_data_dir()?,
    };
    let vault = match std::env::var("STRONGROOM_KEYCHAIN_SERVICE") {
        Ok(service) => Vault::with_service(service),
        Err(_) => Vault::new(),
    };
    let (device, status) = strongroom_client::start(&data_dir, vault);
    app.manage(AppState {
        device: Mutex::new(device),
        status,
    });
    Ok(())
}

/// The keychain self-check and store status, for the start screen.
#[tauri::command]
pub fn status(state: tauri::State<'_, AppState>) -> StartupStatus {
    state.status.clone()
}
