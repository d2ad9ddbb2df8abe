//! The checked-in descriptions the test command validates without
//! building them into anything: the bank API's OpenAPI document and the
//! app's Flatpak manifest.

use std::process::Command;

use crate::{Result, cargo, npm_ci, root, run, step};

/// The bank API's OpenAPI description, checked in (and served by the
/// gateway at /bank/v1/openapi.json).
const OPENAPI: &str = "docs/bank-api.openapi.json";

/// Validates the checked-in OpenAPI description against the OpenAPI 3.1
/// schema, references resolved, with a validator that is not ours.
pub fn validate_openapi() -> Result {
    step("the bank API's OpenAPI description: validated by @seriousme/openapi-schema-validator");
    run(Command::new("node").args(["tests/openapi/node_modules/.bin/validate-api", OPENAPI]))
}

/// `cargo xtask openapi`: writes the bank API's description from the code
/// again (after a change to the API, for review in the diff), then
/// validates it.
pub fn openapi() -> Result {
    step(&format!("write {OPENAPI} from the gateway's code"));
    run(Command::new(cargo())
        .args([
            "test",
            "--package",
            "strongroom-gateway",
            "--lib",
            "bank::openapi::tests::the_checked_in_description_is_current",
        ])
        .env("STRONGROOM_WRITE_OPENAPI", "1"))?;
    npm_ci(
        "tests/openapi",
        "the OpenAPI validator's locked modules, @seriousme/openapi-schema-validator",
    )?;
    validate_openapi()
}

/// The app's Flatpak manifest.
const FLATPAK_MANIFEST: &str = "src-tauri/packaging/app.strongroom.Strongroom.yml";

/// Reads the Flatpak manifest with flatpak-builder (it fails on a manifest
/// it cannot parse). The build needs GNOME's runtime and SDK from Flathub;
/// where they are not installed (this machine cannot reach Flathub), it
/// says so instead of building.
pub fn check_flatpak() -> Result {
    step("the Flatpak manifest (flatpak-builder --show-manifest)");
    let shown = Command::new("flatpak-builder")
        .args(["--show-manifest", FLATPAK_MANIFEST])
        .current_dir(root())
        .output()
        .map_err(|e| format!("flatpak-builder: {e}"))?;
    if !shown.status.success() {
        return Err(format!(
            "flatpak-builder cannot read {FLATPAK_MANIFEST}: {}",
            String::from_utf8_lossy(&shown.stderr).trim()
        ));
    }
    let runtime = Command::new("flatpak")
        .args(["info", "org.gnome.Sdk//48"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !runtime {
        eprintln!(
            "flatpak: org.gnome.Sdk//48 is not installed (Flathub could not be reached to fetch it), \
             so the manifest is read, not built"
        );
    }
    Ok(())
}
