//! The vault against a real Secret Service.
//!
//! `cargo xtask test` runs the whole suite inside a private D-Bus session with
//! an unlocked gnome-keyring whose data lives in a temporary folder. The
//! locked-keyring and missing-service cases start their own D-Bus sessions as
//! child processes, so each sees exactly the keychain state it tests.

use std::process::Command;
use strongroom_core::{AccountId, Sensitive};
use strongroom_vault::{MAX_SECRET_BYTES, SecretKind, Vault, VaultError};

fn random_suffix() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{:x}-{}", nanos, std::process::id())
}

/// A vault under a random service name, so runs never clash (keyring-rs's habit).
fn test_vault() -> Vault {
    Vault::with_service(format!("strongroom-test-{}", random_suffix()))
}

fn account(n: u8) -> AccountId {
    AccountId::from_random([n, 1, 2, 3, 4, 5, 6, 7])
}

/// Lists what the Secret Service holds for a service, asked through
/// libsecret's own command-line tool, out of our process: proof that the
/// entries are in the real keychain and not in some in-process store.
fn secret_tool_search(service: &str) -> String {
    let out = Command::new("secret-tool")
        .args(["search", "--all", "service", service])
        .output()
        .expect("secret-tool (libsecret-tools) must be installed; `cargo xtask test` installs it");
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn require_session_bus() {
    assert!(
        std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some(),
        "the vault tests need a real Secret Service: run them through `cargo xtask test`, \
         which starts a private D-Bus session with gnome-keyring"
    );
}

#[test]
fn self_check_passes_against_the_real_secret_service() {
    require_session_bus();
    let vault = test_vault();
    vault
        .self_check()
        .expect("an unlocked gnome-keyring passes the self-check");
    assert!(
        !secret_tool_search(vault.service()).contains("self-check/"),
        "the self-check leaves no probe behind"
    );
    println!(
        "vault: self-check passed against the Secret Service on {}",
        std::env::var("DBUS_SESSION_BUS_ADDRESS").unwrap_or_default()
    );
}

#[test]
fn put_get_delete_per_account_and_kind_in_the_real_keychain() {
    require_session_bus();
    let vault = test_vault();
    let a = account(1);
    let b = account(2);
    let token = Sensitive::new(b"refresh-token-for-a".to_vec());
    let device = Sensitive::new(vec![0u8, 159, 146, 150, 255]); // binary, not UTF-8
    vault.put(a, SecretKind::RefreshToken, &token).unwrap();
    vault.put(a, SecretKind::DeviceKey, &device).unwrap();
    vault
        .put(
            b,
            SecretKind::RefreshToken,
            &Sensitive::new(b"for-b".to_vec()),
        )
        .unwrap();

    let listed = secret_tool_search(vault.service());
    assert!(
        listed.contains(&format!("account/{a}/refresh-token"))
            && listed.contains(&format!("account/{a}/device-key")),
        "secret-tool must see the entries in gnome-keyring, saw:\n{listed}"
    );
    println!(
        "vault: entries confirmed out of process (libsecret CLI search) in the real keychain service"
    );

    assert_eq!(
        vault.get(a, SecretKind::RefreshToken).unwrap().unwrap(),
        token
    );
    assert_eq!(
        vault.get(a, SecretKind::DeviceKey).unwrap().unwrap(),
        device
    );
    assert_eq!(vault.get(a, SecretKind::PinnedKeys).unwrap(), None);
    // Replace.
    let rotated = Sensitive::new(b"refresh-token-2".to_vec());
    vault.put(a, SecretKind::RefreshToken, &rotated).unwrap();
    assert_eq!(
        vault.get(a, SecretKind::RefreshToken).unwrap().unwrap(),
        rotated
    );
    // Delete one, then the whole account; deleting twice is fine.
    vault.delete(a, SecretKind::DeviceKey).unwrap();
    vault.delete(a, SecretKind::DeviceKey).unwrap();
    assert_eq!(vault.get(a, SecretKind::DeviceKey).unwrap(), None);
    vault.forget_account(a).unwrap();
    assert_eq!(vault.get(a, SecretKind::RefreshToken).unwrap(), None);
    assert_eq!(
        vault
            .get(b, SecretKind::RefreshToken)
            .unwrap()
            .unwrap()
            .expose(),
        b"for-b",
        "forgetting one account leaves the others"
    );
    vault.forget_account(b).unwrap();
    assert!(
        !secret_tool_search(vault.service()).contains("account/"),
        "nothing is left behind"
    );
}

#[test]
fn master_key_entry_round_trips() {
    require_session_bus();
    let vault = test_vault();
    assert_eq!(
        vault.master_key().unwrap(),
        None,
        "first run has no master key"
    );
    let key = Sensitive::new(vec![42u8; 41]);
    vault.put_master_key(&key).unwrap();
    assert_eq!(vault.master_key().unwrap().unwrap(), key);
    // Another vault under the same service (the next app start) reads it too.
    let again = Vault::with_service(vault.service());
    assert_eq!(again.master_key().unwrap().unwrap(), key);
}

#[test]
fn an_entry_over_the_limit_is_refused_and_nothing_is_written() {
    require_session_bus();
    let vault = test_vault();
    let a = account(3);
    let big = Sensitive::new(vec![1u8; MAX_SECRET_BYTES + 1]);
    let err = vault.put(a, SecretKind::PinnedKeys, &big).unwrap_err();
    assert!(
        matches!(err, VaultError::TooLong { len, max } if len == MAX_SECRET_BYTES + 1 && max == MAX_SECRET_BYTES),
        "got {err:?}"
    );
    assert_eq!(err.code(), "keychain_entry_too_long");
    assert_eq!(vault.get(a, SecretKind::PinnedKeys).unwrap(), None);
    let exact = Sensitive::new(vec![2u8; MAX_SECRET_BYTES]);
    vault.put(a, SecretKind::PinnedKeys, &exact).unwrap();
    assert_eq!(
        vault.get(a, SecretKind::PinnedKeys).unwrap().unwrap(),
        exact
    );
    vault.forget_account(a).unwrap();
}

// ---- keychain missing or locked: child processes --------------------------

/// Runs one of the ignored `child_*` tests below in a fresh process, started
/// by the `shell` line (which sets up the keychain state it tests).
fn run_child(test: &str, shell: &str) -> (bool, String) {
    let exe = std::env::current_exe().unwrap();
    let out = Command::new("bash")
        .arg("-c")
        .arg(shell)
        .env("CHILD_EXE", &exe)
        .env("CHILD_TEST", test)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    // Show what the child saw, so the run's output documents each case.
    // (libtest may print "test <name> ... " on the same line first.)
    for line in text
        .lines()
        .filter_map(|l| l.find("vault:").map(|at| &l[at..]))
    {
        println!("{line}");
    }
    (out.status.success(), text)
}

const RUN_CHILD: &str =
    r#""$CHILD_EXE" --exact "$CHILD_TEST" --ignored --nocapture --test-threads=1"#;

#[test]
fn missing_keychain_service_is_a_typed_error() {
    // No D-Bus session at all: there is no Secret Service to talk to.
    let (ok, out) = run_child(
        "child_expects_no_service",
        &format!("DBUS_SESSION_BUS_ADDRESS=unix:path=/nonexistent/strongroom-bus {RUN_CHILD}"),
    );
    assert!(ok && out.contains("1 passed"), "child failed:\n{out}");
}

#[test]
fn session_without_a_secret_service_is_a_typed_error() {
    // A D-Bus session whose configuration knows no services at all, so that
    // nothing can be auto-started: the bus works, the keychain is missing.
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("session.conf");
    std::fs::write(
        &conf,
        format!(
            r#"<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:dir={}</listen>
  <policy context="default"><allow send_destination="*" eavesdrop="true"/><allow eavesdrop="true"/><allow own="*"/></policy>
</busconfig>"#,
            dir.path().display()
        ),
    )
    .unwrap();
    let (ok, out) = run_child(
        "child_expects_no_service",
        &format!(
            "dbus-run-session --config-file={} -- {RUN_CHILD}",
            conf.display()
        ),
    );
    assert!(ok && out.contains("1 passed"), "child failed:\n{out}");
}

#[test]
fn locked_keyring_is_a_typed_error() {
    // First session: create a login keyring with a password and one item.
    // Second session: start gnome-keyring on the same data without unlocking.
    let data = tempfile::tempdir().unwrap();
    let d = data.path().display();
    let create = format!(
        "dbus-run-session -- bash -c 'printf %s pw | XDG_DATA_HOME={d} gnome-keyring-daemon --unlock --components=secrets >/dev/null && \
         printf %s seed | secret-tool store --label=seed app strongroom-seed'"
    );
    let status = Command::new("bash")
        .arg("-c")
        .arg(&create)
        .status()
        .unwrap();
    assert!(status.success(), "could not create the login keyring");
    assert!(
        std::fs::read_dir(data.path().join("keyrings"))
            .unwrap()
            .count()
            > 0,
        "gnome-keyring wrote no keyring file"
    );
    let (ok, out) = run_child(
        "child_expects_locked",
        &format!(
            "dbus-run-session -- bash -c 'XDG_DATA_HOME={d} gnome-keyring-daemon --start --components=secrets >/dev/null; {}'",
            RUN_CHILD
        ),
    );
    assert!(ok && out.contains("1 passed"), "child failed:\n{out}");
}

#[test]
#[ignore = "run as a child process with no Secret Service"]
fn child_expects_no_service() {
    let vault = test_vault();
    let err = vault.self_check().unwrap_err();
    assert!(
        matches!(err, VaultError::NoService(_)),
        "expected NoService, got {err:?}"
    );
    assert_eq!(err.code(), "keychain_missing");
    assert!(err.guidance().contains("Secret Service"));
    // And every other call fails the same way: no fallback anywhere.
    let get = vault.get(account(1), SecretKind::RefreshToken).unwrap_err();
    assert!(matches!(get, VaultError::NoService(_)), "got {get:?}");
    println!(
        "vault: missing service -> {}: {}",
        err.code(),
        err.guidance()
    );
}

#[test]
#[ignore = "run as a child process against a locked gnome-keyring"]
fn child_expects_locked() {
    let vault = test_vault();
    let err = vault.self_check().unwrap_err();
    assert!(
        matches!(err, VaultError::Locked),
        "expected Locked, got {err:?}"
    );
    assert_eq!(err.code(), "keychain_locked");
    let put = vault
        .put(
            account(1),
            SecretKind::RefreshToken,
            &Sensitive::new(b"x".to_vec()),
        )
        .unwrap_err();
    assert!(matches!(put, VaultError::Locked), "got {put:?}");
    println!(
        "vault: locked keyring -> {}: {}",
        err.code(),
        err.guidance()
    );
}
