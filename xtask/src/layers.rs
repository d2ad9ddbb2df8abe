//! The test command's layers: which test targets make up each one, so that
//! each runs (and is timed) on its own from the one release build, and the
//! table of how long each layer took that closes the run.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::Result;

/// The test target that drives the installed-from-source app in a real
/// window (tauri-driver, WebKitGTK).
pub const WINDOW_TEST: &str = "app";

/// The test target that drives the agent console in headless Chromium.
pub const BROWSER_TEST: &str = "console";

/// The cargo target filters of each layer that runs inside the keyring
/// session, in the order they run: `(layer, filters)`. Every test target
/// of the workspace is in exactly one of them, so splitting the run loses
/// none (the ignored ones, run by later layers, are counted as skipped as
/// before).
pub fn cargo_layers(root: &Path) -> Result<Vec<(&'static str, Vec<String>)>> {
    let targets = integration_targets(root)?;
    for needed in [WINDOW_TEST, BROWSER_TEST] {
        if !targets.iter().any(|t| t == needed) {
            return Err(format!("no test target named {needed} in the workspace"));
        }
    }
    let filters = |names: &[&str]| -> Vec<String> {
        names
            .iter()
            .flat_map(|n| ["--test".to_owned(), (*n).to_owned()])
            .collect()
    };
    let integration: Vec<&str> = targets
        .iter()
        .map(String::as_str)
        .filter(|t| ![WINDOW_TEST, BROWSER_TEST].contains(t))
        .collect();
    Ok(vec![
        ("unit", vec!["--lib".to_owned(), "--bins".to_owned()]),
        ("doc", vec!["--doc".to_owned()]),
        ("integration", filters(&integration)),
        ("window", filters(&[WINDOW_TEST])),
        ("browser", filters(&[BROWSER_TEST])),
    ])
}

/// The names of the workspace's integration-test targets, found as cargo
/// finds them: `tests/NAME.rs` and `tests/NAME/main.rs` of the root package
/// and of each crate under `crates/` (the root's `[[test]]` entries are its
/// `tests/*.rs` files).
fn integration_targets(root: &Path) -> Result<Vec<String>> {
    let mut packages = vec![root.to_owned()];
    let crates = root.join("crates");
    for entry in std::fs::read_dir(&crates).map_err(|e| format!("{}: {e}", crates.display()))? {
        packages.push(entry.map_err(|e| e.to_string())?.path());
    }
    let mut names = Vec::new();
    for package in packages {
        let Ok(entries) = std::fs::read_dir(package.join("tests")) else {
            continue;
        };
        for entry in entries.filter_map(std::result::Result::ok) {
            let path = entry.path();
            let stem = path.file_stem().unwrap_or_default().to_string_lossy();
            let is_target = if path.is_dir() {
                path.join("main.rs").is_file()
            } else {
                path.extension().is_some_and(|e| e == "rs")
            };
            if is_target {
                names.push(stem.into_owned());
            }
        }
    }
    names.sort();
    names.dedup();
    if names.is_empty() {
        return Err("no integration-test target found".into());
    }
    Ok(names)
}

/// How long each layer of the run took, in the order they ran.
#[derive(Default)]
pub struct Timings {
    layers: Vec<(String, Duration)>,
}

impl Timings {
    /// Runs one layer and records its time, whether it passed or not.
    pub fn time<T>(&mut self, layer: &str, run: impl FnOnce() -> Result<T>) -> Result<T> {
        let started = Instant::now();
        let result = run();
        self.layers.push((layer.to_owned(), started.elapsed()));
        result
    }

    /// The table: one line per layer, then the total.
    pub fn table(&self) -> String {
        let width = self
            .layers
            .iter()
            .map(|(name, _)| name.len())
            .max()
            .unwrap_or(0)
            .max("total".len());
        let line = |name: &str, time: Duration| {
            let s = time.as_secs();
            format!("  {name:<width$}  {:>3}:{:02}\n", s / 60, s % 60)
        };
        let mut out = String::from("time per layer (min:s):\n");
        for (name, time) in &self.layers {
            out.push_str(&line(name, *time));
        }
        out.push_str(&line("total", self.layers.iter().map(|(_, t)| *t).sum()));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_test_target_runs_in_one_layer() {
        let layers = cargo_layers(&crate::root()).unwrap();
        let named: Vec<&str> = layers
            .iter()
            .flat_map(|(_, filters)| filters.iter().map(String::as_str))
            .filter(|f| !f.starts_with("--"))
            .collect();
        for target in ["app", "console", "package", "cluster", "bank_link", "store"] {
            assert_eq!(
                named.iter().filter(|n| **n == target).count(),
                1,
                "{target} in {layers:?}"
            );
        }
    }
}
