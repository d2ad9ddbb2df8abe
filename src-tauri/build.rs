//! Declares Strongroom's own commands in an AppManifest, so that Tauri
//! generates `allow-<command>` permissions for them and enforces the
//! capabilities in `src-tauri/capabilities/` for our commands too (without an
//! AppManifest every app command would be callable from any window).

fn main() {
    let attributes = tauri_build::Attributes::new()
        .capabilities_path_pattern("./src-tauri/capabilities/**/*")
        .app_manifest(tauri_build::AppManifest::new().commands(&[
            "status",
            "retry",
            "lock",
            "unlock",
            "set_passphrase",
            "settings",
            "save_settings",
            "link_start",
            "link_finish",
            "link_cancel",
            "accounts",
            "alerts",
            "conversation",
            "search",
            "privacy_ledger",
            "answer_fraud_check",
            "send_chat",
            "unlink",
            "export_transcript",
            "subscribe",
            "call_statuses",
            "report_scam_call",
            "update_check",
            "update_install",
            "update_restart",
        ]));
    if let Err(error) = tauri_build::try_build(attributes) {
        // A build script reports by failing; the message names the bad file.
        eprintln!("tauri build configuration failed: {error:#}");
        std::process::exit(1);
    }
    println!("cargo:rerun-if-changed=src-tauri/capabilities");
}
