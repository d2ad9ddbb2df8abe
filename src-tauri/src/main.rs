//! Strongroom's desktop shell: a window and the commands it may call.
//!
//! Thin on purpose: every command is a plain function over the client core
//! (`strongroom-client`); no SQL, crypto, keychain or network code lives here.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

mod commands;

fn main() {
    let result = tauri::Builder::default()
        .setup(|app| {
            commands::start(app)?;
            Ok(())
        })
        .invoke_handler(tauri::generate_handler![commands::status])
        .run(tauri::generate_context!());
    if let Err(error) = result {
        eprintln!("Strongroom could not start: {error}");
        std::process::exit(1);
    }
}
