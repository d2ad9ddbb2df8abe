//! Exporting an account's signed alerts as a transcript into the
//! customer's Downloads folder, for checking on another machine.

use std::path::PathBuf;

use super::app_core::{AppCore, account_id};
use super::error::AppError;

impl AppCore {
    /// Writes the account's signed alerts and the chain of the bank's keys
    /// since link time to a new owner-only JSON file in the Downloads
    /// folder, for checking elsewhere (`strongroom-cli verify-transcript`).
    ///
    /// # Errors
    /// A keychain, store or file error.
    pub fn export_transcript(&self, account: &str) -> Result<PathBuf, AppError> {
        self.touch();
        let account = account_id(account)?;
        let client = self.client()?;
        let transcript = client.transcript(account)?;
        // A new file, owner-only: a transcript names the customer and their
        // transactions.
        Ok(crate::transcript::export_to_folder(
            &downloads_dir(),
            account,
            &transcript,
        )?)
    }
}

fn downloads_dir() -> PathBuf {
    // XDG user-dirs, else ~/Downloads.
    let home = std::env::var_os("HOME").map_or_else(|| PathBuf::from("."), PathBuf::from);
    let config = std::env::var_os("XDG_CONFIG_HOME")
        .map_or_else(|| home.join(".config"), PathBuf::from)
        .join("user-dirs.dirs");
    if let Ok(text) = std::fs::read_to_string(config) {
        for line in text.lines() {
            if let Some(value) = line.strip_prefix("XDG_DOWNLOAD_DIR=") {
                let value = value
                    .trim_matches('"')
                    .replace("$HOME", &home.to_string_lossy());
                return PathBuf::from(value);
            }
        }
    }
    home.join("Downloads")
}
