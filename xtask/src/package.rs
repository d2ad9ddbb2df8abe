//! The installers: the desktop app's .deb and .rpm (built by the Tauri CLI
//! from the release binary, with `strongroom-cli` beside it) and the
//! gateway's .deb (a system service, assembled here with `dpkg-deb`). Both
//! command-line programs come with their manual pages and shell completions,
//! rendered from their own command-line definitions at package time.
//! Everything lands in `<target>/release/dist/` under Debian's and RPM's
//! usual names.

use crate::{Result, cargo, root, run, step};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The .deb a customer downloads must stay small (issue 6).
pub const DEB_LIMIT_BYTES: u64 = 15 * 1024 * 1024;

/// The packages one build produced.
pub struct Packages {
    /// The desktop app's .deb (`strongroom_<version>_amd64.deb`).
    pub app_deb: PathBuf,
    /// The desktop app's .rpm.
    pub app_rpm: PathBuf,
    /// The gateway's .deb (`strongroom-gateway_<version>_amd64.deb`).
    pub gateway_deb: PathBuf,
}

/// The cargo target folder (`CARGO_TARGET_DIR`, else `target/`).
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target"))
}

/// The Tauri CLI from the UI's npm modules (`@tauri-apps/cli@2`).
pub fn tauri_cli() -> PathBuf {
    root().join("ui/node_modules/.bin/tauri")
}

/// The cargo arguments every release build of the workspace shares, so that
/// the tests, the benchmarks' binaries and the packages are one build: the
/// app with its bundled front end.
pub const RELEASE_FLAGS: &[&str] = &[
    "--release",
    "--workspace",
    "--features",
    "strongroom/custom-protocol",
];

/// Builds every binary of the workspace in release. `tauri_config` (JSON
/// merged into tauri.conf.json by tauri-build, as `TAURI_CONFIG`) is how the
/// tests build in their own update key.
pub fn build_release(tauri_config: Option<&str>) -> Result {
    let mut cmd = Command::new(cargo());
    cmd.arg("build").args(RELEASE_FLAGS).arg("--bins");
    if let Some(config) = tauri_config {
        cmd.env("TAURI_CONFIG", config);
    }
    run(&mut cmd)
}

/// Packages the built release binaries: the app with the Tauri CLI, the
/// gateway with dpkg-deb. Refuses a .deb over [`DEB_LIMIT_BYTES`].
pub fn package(tauri_config: Option<&str>) -> Result<Packages> {
    let release = target_dir().join("release");
    let dist = release.join("dist");
    let _ = std::fs::remove_dir_all(&dist);
    std::fs::create_dir_all(&dist).map_err(|e| format!("{}: {e}", dist.display()))?;
    let version = env!("CARGO_PKG_VERSION");

    step("manual pages and shell completions (the programs' write-manuals)");
    let manuals = release.join("manuals");
    let _ = std::fs::remove_dir_all(&manuals);
    let cli_files = manual_files(&release, &manuals, "strongroom-cli")?;
    let gateway_files = manual_files(&release, &manuals, "strongroom-gateway")?;

    step("the app's .deb and .rpm (tauri bundle)");
    let mut merged: Vec<String> = tauri_config.map(str::to_owned).into_iter().collect();
    // strongroom-cli and its manuals go into both packages beside the app;
    // the paths are this build's, so they are given here, not in
    // tauri.conf.json.
    let mut extra = vec![(
        "/usr/bin/strongroom-cli".to_owned(),
        release.join("strongroom-cli"),
    )];
    extra.extend(cli_files);
    merged.push(extra_files_config(&extra));
    // With the packager's signing key the bundler also signs both packages
    // for the updater (a .sig beside each).
    let signing = std::env::var_os("TAURI_SIGNING_PRIVATE_KEY").is_some();
    if signing {
        merged.push(r#"{"bundle":{"createUpdaterArtifacts":true}}"#.to_owned());
    }
    let mut cmd = Command::new(tauri_cli());
    cmd.args(["bundle", "--bundles", "deb,rpm", "--ci"]);
    for config in &merged {
        cmd.args(["--config", config]);
    }
    run(cmd.current_dir(root()))?;
    let bundle = release.join("bundle");
    let app_deb = copy(
        &bundle.join(format!("deb/Strongroom_{version}_amd64.deb")),
        &dist.join(format!("strongroom_{version}_amd64.deb")),
        signing,
    )?;
    let app_rpm = copy(
        &find(&bundle.join("rpm"), ".rpm")?,
        &dist.join(format!("strongroom-{version}-1.x86_64.rpm")),
        signing,
    )?;

    step("the gateway's .deb (dpkg-deb)");
    let gateway_deb = gateway_deb(&release, &dist, version, &gateway_files)?;

    let size = std::fs::metadata(&app_deb)
        .map_err(|e| e.to_string())?
        .len();
    for p in [&app_deb, &app_rpm, &gateway_deb] {
        let bytes = std::fs::metadata(p).map_err(|e| e.to_string())?.len();
        eprintln!("  {} ({:.1} MB)", p.display(), bytes as f64 / 1e6);
    }
    if size > DEB_LIMIT_BYTES {
        return Err(format!(
            "{} is {:.1} MiB, over the 15 MiB limit",
            app_deb.display(),
            size as f64 / 1024.0 / 1024.0
        ));
    }
    Ok(Packages {
        app_deb,
        app_rpm,
        gateway_deb,
    })
}

fn copy(from: &Path, to: &Path, with_signature: bool) -> Result<PathBuf> {
    std::fs::copy(from, to).map_err(|e| format!("{} -> {}: {e}", from.display(), to.display()))?;
    if with_signature {
        let sig = |p: &Path| PathBuf::from(format!("{}.sig", p.display()));
        std::fs::copy(sig(from), sig(to))
            .map_err(|e| format!("the update signature {}: {e}", sig(from).display()))?;
    }
    Ok(to.to_owned())
}

/// The one file in `dir` whose name ends with `suffix`.
fn find(dir: &Path, suffix: &str) -> Result<PathBuf> {
    let found: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.to_string_lossy().ends_with(suffix))
        .collect();
    match found.as_slice() {
        [one] => Ok(one.clone()),
        _ => Err(format!(
            "expected one {suffix} in {}, found {found:?}",
            dir.display()
        )),
    }
}

/// The newest glibc symbol version `binary` needs, for its `libc6 (>= …)`.
fn glibc_needed(binary: &Path) -> Result<String> {
    let out = Command::new("objdump")
        .arg("-T")
        .arg(binary)
        .output()
        .map_err(|e| format!("objdump: {e}"))?;
    let text = String::from_utf8_lossy(&out.stdout);
    let mut newest: Option<(u32, u32)> = None;
    for word in text.split_whitespace() {
        // objdump writes versions as `(GLIBC_2.34)` or `GLIBC_2.34`.
        if let Some(v) = word.trim_matches(['(', ')']).strip_prefix("GLIBC_")
            && let Some((major, minor)) = v.split_once('.')
            && let (Ok(major), Ok(minor)) =
                (major.parse(), minor.split('.').next().unwrap_or("").parse())
        {
            newest = newest.max(Some((major, minor)));
        }
    }
    let (major, minor) = newest.ok_or("no glibc version found in the gateway binary")?;
    Ok(format!("{major}.{minor}"))
}

/// Where a file that a program's `write-manuals` wrote is installed:
/// manual pages (gzipped) under man1, completions where bash, zsh and fish
/// look for a package's own.
fn installed_path(file_name: &str, program: &str) -> Option<String> {
    if file_name.ends_with(".1.gz") {
        Some(format!("/usr/share/man/man1/{file_name}"))
    } else if file_name == format!("{program}.bash") {
        Some(format!("/usr/share/bash-completion/completions/{program}"))
    } else if file_name == format!("_{program}") {
        Some(format!("/usr/share/zsh/vendor-completions/{file_name}"))
    } else if file_name == format!("{program}.fish") {
        Some(format!("/usr/share/fish/vendor_completions.d/{file_name}"))
    } else {
        None
    }
}

/// Runs `<release>/<program> write-manuals` (a hidden command: the pages
/// and completions come from the program's own command-line definition),
/// gzips the manual pages as Debian installs them, and returns each file
/// with the path it is installed at.
fn manual_files(release: &Path, manuals: &Path, program: &str) -> Result<Vec<(String, PathBuf)>> {
    let dir = manuals.join(program);
    run(Command::new(release.join(program))
        .arg("write-manuals")
        .arg(&dir)
        .stdout(std::process::Stdio::null()))?;
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    files.sort();
    let pages: Vec<&PathBuf> = files
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "1"))
        .collect();
    if pages.is_empty() {
        return Err(format!("{program} write-manuals wrote no manual page"));
    }
    // -n: no name or time stamp inside, so the same page gzips the same.
    run(Command::new("gzip").args(["-9nf"]).args(&pages))?;
    let mut installed = Vec::new();
    for entry in std::fs::read_dir(&dir).map_err(|e| format!("{}: {e}", dir.display()))? {
        let path = entry.map_err(|e| e.to_string())?.path();
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        let to = installed_path(&name, program)
            .ok_or_else(|| format!("{program} write-manuals wrote {name}, which has no place"))?;
        installed.push((to, path));
    }
    installed.sort();
    Ok(installed)
}

/// The Tauri configuration (merged into tauri.conf.json) that adds `files`
/// (installed path, source) to both the .deb and the .rpm.
fn extra_files_config(files: &[(String, PathBuf)]) -> String {
    let quoted = |text: &str| format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""));
    let map = files
        .iter()
        .map(|(to, from)| format!("{}:{}", quoted(to), quoted(&from.display().to_string())))
        .collect::<Vec<_>>()
        .join(",");
    format!(
        r#"{{"bundle":{{"linux":{{"deb":{{"files":{{{map}}}}},"rpm":{{"files":{{{map}}}}}}}}}}}"#
    )
}

/// Assembles the gateway's .deb: the binary, its manual pages and shell
/// completions, the systemd unit, the documented configuration file (a
/// conffile), and the maintainer scripts that create the system user and
/// the data folder.
fn gateway_deb(
    release: &Path,
    dist: &Path,
    version: &str,
    manuals: &[(String, PathBuf)],
) -> Result<PathBuf> {
    let packaging = root().join("crates/gateway/packaging");
    let stage = release.join("gateway-deb");
    let _ = std::fs::remove_dir_all(&stage);
    let binary = release.join("strongroom-gateway");
    let put = |from: &Path, to: &str, mode: u32| -> Result {
        use std::os::unix::fs::PermissionsExt;
        let dest = stage.join(to);
        if let Some(parent) = dest.parent() {
            std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
        }
        std::fs::copy(from, &dest).map_err(|e| format!("{}: {e}", from.display()))?;
        std::fs::set_permissions(&dest, std::fs::Permissions::from_mode(mode))
            .map_err(|e| format!("{}: {e}", dest.display()))
    };
    put(&binary, "usr/bin/strongroom-gateway", 0o755)?;
    for (to, from) in manuals {
        put(from, to.trim_start_matches('/'), 0o644)?;
    }
    put(
        &packaging.join("strongroom-gateway.service"),
        "lib/systemd/system/strongroom-gateway.service",
        0o644,
    )?;
    put(
        &packaging.join("gateway.conf"),
        "etc/strongroom-gateway/gateway.conf",
        0o640,
    )?;
    put(
        &root().join("LICENSE"),
        "usr/share/doc/strongroom-gateway/copyright",
        0o644,
    )?;
    put(
        &root().join("crates/gateway/README.md"),
        "usr/share/doc/strongroom-gateway/README.md",
        0o644,
    )?;
    for script in ["postinst", "prerm", "postrm"] {
        put(&packaging.join(script), &format!("DEBIAN/{script}"), 0o755)?;
    }
    let conffiles = stage.join("DEBIAN/conffiles");
    std::fs::write(&conffiles, "/etc/strongroom-gateway/gateway.conf\n")
        .map_err(|e| format!("{}: {e}", conffiles.display()))?;
    let installed_kib = dir_size(&stage) / 1024;
    let control = format!(
        "Package: strongroom-gateway\n\
         Version: {version}\n\
         Architecture: amd64\n\
         Maintainer: Strongroom <packaging@example.invalid>\n\
         Installed-Size: {installed_kib}\n\
         Depends: libc6 (>= {glibc}), passwd\n\
         Recommends: ca-certificates\n\
         Suggests: postgresql\n\
         Section: net\n\
         Priority: optional\n\
         Homepage: https://example.invalid/strongroom\n\
         Description: Strongroom reference bank gateway\n \
         The bank side of Strongroom: an OAuth 2.0 authorization server (device\n \
         grant, DPoP, revocation), the messaging API that delivers alerts signed by\n \
         the bank, and the agent console for bank staff. Runs as the system service\n \
         strongroom-gateway, configured in /etc/strongroom-gateway/gateway.conf, with\n \
         its data in /var/lib/strongroom-gateway (SQLite) or in PostgreSQL.\n",
        glibc = glibc_needed(&binary)?,
    );
    let control_path = stage.join("DEBIAN/control");
    std::fs::write(&control_path, control)
        .map_err(|e| format!("{}: {e}", control_path.display()))?;
    let deb = dist.join(format!("strongroom-gateway_{version}_amd64.deb"));
    run(Command::new("dpkg-deb")
        .args(["--root-owner-group", "--build"])
        .arg(&stage)
        .arg(&deb))?;
    Ok(deb)
}

fn dir_size(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .filter_map(std::result::Result::ok)
        .map(|e| match e.metadata() {
            Ok(m) if m.is_dir() => dir_size(&e.path()),
            Ok(m) => m.len(),
            Err(_) => 0,
        })
        .sum()
}
