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
    // flatpak-builder reads a manifest without looking for its files: the
    // patches it applies must be in the repository.
    let path = root().join(FLATPAK_MANIFEST);
    let text =
        std::fs::read_to_string(&path).map_err(|e| format!("reading {FLATPAK_MANIFEST}: {e}"))?;
    let folder = path.parent().unwrap_or(&path);
    let missing: Vec<&str> = patch_paths(&text)
        .into_iter()
        .filter(|p| !folder.join(p).is_file())
        .collect();
    if !missing.is_empty() {
        return Err(format!(
            "{FLATPAK_MANIFEST} applies patches that are missing: {}",
            missing.join(", ")
        ));
    }
    let runtime = Command::new("flatpak")
        .args(["info", "org.gnome.Sdk//48"])
        .output()
        .is_ok_and(|o| o.status.success());
    eprintln!(
        "flatpak: the manifest reads and its {} patches are here; it is not built here \
         (its runtime comes from Flathub, not Debian; org.gnome.Sdk//48 is {}installed)",
        patch_paths(&text).len(),
        if runtime { "" } else { "not " }
    );
    Ok(())
}

/// The patch files a Flatpak manifest (YAML) names, as written: every
/// `path:` value or list item ending in `.patch`.
fn patch_paths(manifest: &str) -> Vec<&str> {
    manifest
        .lines()
        .map(str::trim)
        .filter_map(|l| l.strip_prefix("path:").or_else(|| l.strip_prefix("- ")))
        .map(|v| v.trim().trim_matches(['\'', '"']))
        .filter(|v| v.ends_with(".patch"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_patches_of_a_manifest_are_found_at_any_depth() {
        let manifest = "modules:\n  - name: a\n    sources:\n      - type: patch\n        path: flatpak/one.patch\n      - type: patch\n        paths:\n          - 'flatpak/two.patch'\n    modules:\n      - name: b\n        sources:\n          - type: file\n            path: x.deb\n";
        assert_eq!(
            patch_paths(manifest),
            ["flatpak/one.patch", "flatpak/two.patch"]
        );
    }

    #[test]
    fn the_apps_manifest_has_its_patches() {
        let path = root().join(FLATPAK_MANIFEST);
        let text = std::fs::read_to_string(&path).unwrap();
        let patches = patch_paths(&text);
        assert_eq!(patches.len(), 3, "{patches:?}");
        for patch in patches {
            assert!(path.parent().unwrap().join(patch).is_file(), "{patch}");
        }
    }
}
