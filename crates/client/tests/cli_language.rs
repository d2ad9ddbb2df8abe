//! `strongroom-cli` speaks the customer's language: the system's (gettext's
//! environment variables), or `--lang` / `STRONGROOM_LANG`; `--json` stays
//! the same in every language. `verify-transcript` needs no bank, store or
//! keychain, so these run anywhere.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use strongroom_core::protocol::alert::{
    ALERT_TYP, AlertClaims, AlertEvent, AlertKind, AlertSeverity,
};
use strongroom_core::protocol::jose::SigningKey;

const ISSUER: &str = "https://bank.example";
const AUDIENCE: &str = "customer-1";

/// A format-1 transcript of one alert, signed with a key of the test's own.
fn self_made_transcript(dir: &Path) -> PathBuf {
    let rng = ring::rand::SystemRandom::new();
    let (key, _) = SigningKey::generate("mine-1", &rng).expect("a key");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let claims = AlertClaims::new(
        ISSUER,
        AUDIENCE,
        "alert-1",
        now,
        AlertKind::Purchase,
        AlertEvent {
            severity: AlertSeverity::Info,
            text: "Card payment".into(),
            account_ref: None,
            amount_minor: Some(1_234),
            currency: Some("EUR".into()),
            merchant: None,
            country: None,
            respond_by: None,
            balance_minor: None,
        },
    );
    let alert = key.sign(ALERT_TYP, &claims, false, &rng).expect("signed");
    let path = dir.join("transcript.json");
    let transcript = serde_json::json!({
        "format": "strongroom-alert-transcript/1", "issuer": ISSUER,
        "bank_name": "Demo Bank",
        "pinned_keys": {"issuer": ISSUER, "keys": [key.jwk()], "version": 0, "audience": AUDIENCE},
        "alerts": [alert], "exported_at": 0
    });
    std::fs::write(&path, serde_json::to_vec(&transcript).expect("JSON")).expect("written");
    path
}

/// Runs `strongroom-cli ARGS` with only `env` for a locale.
fn cli(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_strongroom-cli"));
    for name in [
        "LANGUAGE",
        "LC_ALL",
        "LC_MESSAGES",
        "LANG",
        "STRONGROOM_LANG",
    ] {
        command.env_remove(name);
    }
    command
        .args(args)
        .envs(env.iter().copied())
        .env(
            "STRONGROOM_KEYCHAIN_SERVICE",
            "strongroom-no-keychain-needed",
        )
        .output()
        .expect("strongroom-cli runs")
}

fn stdout(output: &Output) -> String {
    assert!(
        output.status.success(),
        "strongroom-cli failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout.clone()).expect("UTF-8")
}

#[test]
fn lang_de_writes_german_whatever_the_system_speaks() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let file = self_made_transcript(dir.path());
    let file = file.to_str().expect("a UTF-8 path");
    for (args, env) in [
        (
            vec!["--lang", "de", "verify-transcript", file],
            vec![("LANG", "fr_FR.UTF-8")],
        ),
        (
            vec!["verify-transcript", file],
            vec![("STRONGROOM_LANG", "de"), ("LANG", "en_GB.UTF-8")],
        ),
        (
            vec!["verify-transcript", file],
            vec![("LC_ALL", "de_DE.UTF-8")],
        ),
        // STRONGROOM_LANG read like LANG; one it cannot use is ignored.
        (
            vec!["verify-transcript", file],
            vec![("STRONGROOM_LANG", "de_DE.UTF-8"), ("LANG", "fr_FR.UTF-8")],
        ),
        (
            vec!["verify-transcript", file],
            vec![("STRONGROOM_LANG", "klingon"), ("LANG", "de_DE.UTF-8")],
        ),
    ] {
        let text = stdout(&cli(&args, &env));
        for expected in [
            format!("Protokoll (Format 1) der Meldungen von {ISSUER} an {AUDIENCE}\n"),
            "1 von 1 Meldungen lassen sich mit dieser Kette verifizieren.\n".to_owned(),
            "Was das beweist: FORMAT 1, IN SICH GESCHLOSSEN".to_owned(),
            "daher beweist dies NICHTS über die Bank".to_owned(),
        ] {
            assert!(
                text.contains(&expected),
                "{args:?} {env:?}: {expected:?} missing from {text}"
            );
        }
    }
}

#[test]
fn a_french_system_gets_french() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let file = self_made_transcript(dir.path());
    let text = stdout(&cli(
        &["verify-transcript", file.to_str().expect("a UTF-8 path")],
        &[("LANG", "fr_FR.UTF-8")],
    ));
    for expected in [
        format!("Relevé (format 1) des alertes de {ISSUER} pour {AUDIENCE}\n"),
        "1 alerte sur 1 est vérifiée avec cette chaîne.\n".to_owned(),
        // French typography: a no-break space before the colon.
        "Ce que cela prouve\u{a0}: FORMAT 1, AUTONOME".to_owned(),
        "cela ne prouve RIEN sur la banque".to_owned(),
    ] {
        assert!(text.contains(&expected), "{expected:?} missing from {text}");
    }
}

#[test]
fn english_when_the_system_speaks_no_language_we_have() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let file = self_made_transcript(dir.path());
    let file = file.to_str().expect("a UTF-8 path");
    for env in [
        vec![],
        vec![("LANG", "C.UTF-8")],
        vec![("LANG", "ja_JP.UTF-8")],
    ] {
        let text = stdout(&cli(&["verify-transcript", file], &env));
        assert!(
            text.starts_with(&format!(
                "Transcript (format 1) of alerts from {ISSUER} to {AUDIENCE}\n"
            )) && text.contains("this proves NOTHING about the bank"),
            "{env:?}: {text}"
        );
    }
}

#[test]
fn json_is_the_same_in_every_language() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let file = self_made_transcript(dir.path());
    let file = file.to_str().expect("a UTF-8 path");
    let english = stdout(&cli(&["--json", "verify-transcript", file], &[]));
    let german = stdout(&cli(
        &["--json", "--lang", "de", "verify-transcript", file],
        &[],
    ));
    assert_eq!(english, german);
    let line: serde_json::Value = serde_json::from_str(english.trim()).expect("one JSON line");
    assert_eq!(line["type"], "transcript");
    assert!(
        line["proves"]
            .as_str()
            .is_some_and(|p| p.contains("proves NOTHING about the bank")),
        "{line}"
    );
}

#[test]
fn an_error_is_said_in_the_language_with_its_stable_code() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let missing = dir.path().join("missing.json");
    let missing = missing.to_str().expect("a UTF-8 path");
    let output = cli(
        &["--lang", "de", "verify-transcript", missing],
        &[("LANG", "en_GB.UTF-8")],
    );
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.starts_with("strongroom-cli: ")
            && stderr.contains("(bad_transcript)")
            && stderr.contains(&format!("{missing} kann nicht gelesen werden")),
        "a German error line with its code and the file: {stderr}"
    );
    let output = cli(&["verify-transcript", missing], &[("LANG", "fr_FR.UTF-8")]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("(bad_transcript)") && stderr.contains("détail technique"),
        "a French error line: {stderr}"
    );
}

#[test]
fn an_unknown_language_is_a_usage_error() {
    let output = cli(&["--lang", "it", "accounts"], &[]);
    assert_eq!(output.status.code(), Some(2), "clap's usage exit status");
}
