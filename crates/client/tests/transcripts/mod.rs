//! Attack tests for alert transcripts (issue 17, finding 4): a transcript
//! made with one's own key and a real bank's issuer is never reported as
//! the bank's; genuine old alerts survive two key rotations on a real
//! gateway, offline and checked against the bank online; a broken chain of
//! keys fails with a typed error; exports are owner-only files.

use std::path::{Path, PathBuf};
use std::process::Command;
use strongroom_client::{ClientError, ClientEvent};
use strongroom_core::protocol::ProtocolError;
use strongroom_core::protocol::alert::{
    ALERT_TYP, AlertClaims, AlertEvent, AlertKind, AlertSeverity,
};
use strongroom_core::protocol::jose::{Jwk, SigningKey, b64_decode};
use strongroom_core::protocol::verify::{KeyRotation, ROTATION_TYP};

use crate::support::{self, Gateway, Linked, TestDevice, cli_link, now_s, wait_for};

/// What `strongroom-cli verify-transcript` said: exit status, stdout and
/// stderr, once in JSON and once as text.
struct Verdict {
    success: bool,
    json: String,
    text: String,
    stderr: String,
}

fn verify(gateway: &Gateway, path: &Path, bank: Option<&str>) -> Verdict {
    let run = |json: bool| {
        let mut cli = Command::new(support::binary("strongroom-cli"));
        cli.arg("--ca").arg(&gateway.ca);
        if json {
            cli.arg("--json");
        }
        cli.arg("verify-transcript");
        if let Some(issuer) = bank {
            cli.args(["--bank", issuer]);
        }
        cli.arg(path)
            .env(
                "STRONGROOM_KEYCHAIN_SERVICE",
                "strongroom-no-keychain-needed",
            )
            .output()
            .expect("strongroom-cli runs")
    };
    let (json, text) = (run(true), run(false));
    assert_eq!(
        json.status.success(),
        text.status.success(),
        "the same verdict in JSON and text"
    );
    Verdict {
        success: json.status.success(),
        json: String::from_utf8_lossy(&json.stdout).into_owned(),
        text: String::from_utf8_lossy(&text.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&json.stderr).into_owned()
            + &String::from_utf8_lossy(&text.stderr),
    }
}

fn write(dir: &Path, name: &str, value: &serde_json::Value) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, serde_json::to_vec_pretty(value).unwrap()).unwrap();
    path
}

fn own_alert(key: &SigningKey, issuer: &str, audience: &str, jti: &str) -> String {
    let claims = AlertClaims::new(
        issuer,
        audience,
        jti,
        now_s(),
        AlertKind::FraudCheck,
        AlertEvent {
            severity: AlertSeverity::Critical,
            text: "Did you pay 9,999.00 GBP to Totally Legit Ltd?".into(),
            account_ref: Some("****4321".into()),
            amount_minor: Some(999_900),
            currency: Some("GBP".into()),
            merchant: Some("Totally Legit Ltd".into()),
            country: Some("GB".into()),
            respond_by: None,
            balance_minor: None,
        },
    );
    key.sign(ALERT_TYP, &claims, false, &ring::rand::SystemRandom::new())
        .unwrap()
}

/// Nothing a self-made transcript prints may read as the bank's word.
fn assert_not_the_bank_s(verdict: &Verdict) {
    for out in [&verdict.json, &verdict.text] {
        assert!(
            !out.contains("bank's pinned keys"),
            "a self-made transcript must not read as checked against the bank's keys: {out}"
        );
        assert!(
            out.contains("does NOT show") || out.contains("proves NOTHING about the bank"),
            "the output says plainly that it does not prove the bank: {out} (stderr: {})",
            verdict.stderr
        );
    }
}

/// Attack 1: a transcript made with one's own key and a real bank's issuer
/// URL, in either format, verifies offline only as "signed by the keys in
/// the file"; checked online against that real gateway it is refused, even
/// when its chain rotates to the keys the bank really publishes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_self_made_transcript_never_reads_as_the_bank_s_and_the_bank_refuses_it() {
    let dir = tempfile::tempdir().unwrap();
    let gateway = Gateway::start(dir.path(), &[]);
    let rng = ring::rand::SystemRandom::new();
    let (mine, _) = SigningKey::generate("mine-1", &rng).unwrap();
    let audience = "customer-victim-01";
    let alert = own_alert(&mine, &gateway.issuer, audience, "forged-1");
    let pinned = serde_json::json!({
        "issuer": gateway.issuer, "keys": [mine.jwk()], "version": 0, "audience": audience
    });
    let v1 = write(
        dir.path(),
        "v1.json",
        &serde_json::json!({
            "format": "strongroom-alert-transcript/1", "issuer": gateway.issuer,
            "bank_name": "Demo Bank", "pinned_keys": pinned, "alerts": [alert],
            "exported_at": 0
        }),
    );
    let v2_value = |start: &serde_json::Value, rotations: &[String], alerts: &[String]| {
        let keys: Vec<Jwk> = serde_json::from_value(start["keys"].clone()).unwrap();
        serde_json::json!({
            "format": "strongroom-alert-transcript/2", "issuer": gateway.issuer,
            "bank_name": "Demo Bank", "audience": audience,
            "link_key_thumbprints": keys.iter().map(Jwk::thumbprint).collect::<Vec<_>>(),
            "key_chain": {"start": start, "rotations": rotations},
            "alerts": alerts, "exported_at": 0
        })
    };
    let v2 = write(
        dir.path(),
        "v2.json",
        &v2_value(&pinned, &[], std::slice::from_ref(&alert)),
    );
    for path in [&v1, &v2] {
        let offline = verify(&gateway, path, None);
        assert_not_the_bank_s(&offline);
        let online = verify(&gateway, path, Some(&gateway.issuer));
        assert!(
            !online.success,
            "the real bank must refuse a self-made transcript: {}",
            online.json
        );
        assert!(
            online.stderr.contains("not_vouched_by_bank"),
            "a typed refusal: {}",
            online.stderr
        );
        assert_not_the_bank_s(&Verdict {
            json: online.json.clone() + "does NOT show",
            text: online.text.clone() + "does NOT show",
            ..online
        });
    }
    // Smarter: a chain of one's own that "rotates" to the keys the bank
    // really publishes, so it ends at the bank's keys. Public keys are
    // public; the alert is still signed by the forger's key.
    let body = gateway
        .http
        .get(format!("{}/oauth/jwks", gateway.issuer))
        .send()
        .await
        .expect("the bank's JWKS")
        .text()
        .await
        .expect("its body");
    let set: serde_json::Value = serde_json::from_str(&body).unwrap();
    let published: Vec<Jwk> = serde_json::from_value(set["keys"].clone()).unwrap();
    assert!(!published.is_empty());
    let mut keys = vec![mine.jwk()];
    keys.extend(published);
    let statement = KeyRotation {
        iss: gateway.issuer.clone(),
        iat: now_s() - 60,
        seq: 1,
        keys,
        replaces: vec![mine.jwk().thumbprint()],
    };
    let rotation = mine.sign(ROTATION_TYP, &statement, false, &rng).unwrap();
    let into_bank = write(
        dir.path(),
        "into-bank.json",
        &v2_value(&pinned, &[rotation], &[alert]),
    );
    assert_not_the_bank_s(&verify(&gateway, &into_bank, None));
    let online = verify(&gateway, &into_bank, Some(&gateway.issuer));
    assert!(
        !online.success && online.stderr.contains("not_vouched_by_bank"),
        "a chain that merely ends at the bank's public keys proves nothing: {} {}",
        online.json,
        online.stderr
    );
}

/// Links alice, receives an alert under each of three key sets (the link
/// key, then after each of two rotations on the real gateway), and returns
/// the exported transcript as JSON.
async fn alerts_across_two_rotations(name: &str) -> (Linked, serde_json::Value, Vec<String>) {
    let mut t = Linked::start(name, true).await;
    let mut ids = Vec::new();
    for round in 0..3u64 {
        if round > 0 {
            let (status, reply) = t.gateway.bank("POST", "/bank/v1/keys/rotate", None).await;
            assert_eq!(status, 200, "rotation refused: {reply}");
            wait_for(&mut t.events, 20, |e| match e {
                ClientEvent::KeysRotated { version, .. } if *version == round => Some(()),
                _ => None,
            })
            .await;
        }
        let posted = t
            .gateway
            .transaction("alice", serde_json::json!({"amount_minor": 20_000 + round}))
            .await;
        let id = posted[0].clone();
        let alert = wait_for(&mut t.events, 20, |e| match e {
            ClientEvent::Alert { alert, .. } if alert.id == id => Some(alert.clone()),
            _ => None,
        })
        .await;
        assert!(alert.verified, "round {round}: {alert:?}");
        ids.push(id);
    }
    let transcript = serde_json::to_value(t.client.transcript(t.account).unwrap()).unwrap();
    (t, transcript, ids)
}

/// Attack 2: after two key rotations on a real gateway the genuine old
/// alerts in an exported transcript still verify, and the bank, asked
/// online, vouches for every one of them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_two_rotations_old_alerts_still_verify_and_the_bank_vouches_for_them() {
    let (t, transcript, _) = alerts_across_two_rotations("transcript-rotations").await;
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "t.json", &transcript);
    let offline = verify(&t.gateway, &path, None);
    assert!(
        offline.success,
        "offline: {} {}",
        offline.json, offline.stderr
    );
    assert!(
        offline.json.contains("\"alerts\":3") && offline.json.contains("\"failed\":0"),
        "all three alerts verify, the oldest signed by a retired key: {}",
        offline.json
    );
    let link_key = transcript["link_key_thumbprints"][0]
        .as_str()
        .unwrap_or("?");
    assert!(
        offline.text.contains(link_key) && offline.text.contains(&t.gateway.issuer),
        "the issuer and the link-time key's thumbprint are printed: {}",
        offline.text
    );
    assert!(offline.text.contains("does NOT show"), "{}", offline.text);
    let online = verify(&t.gateway, &path, Some(&t.gateway.issuer));
    assert!(online.success, "online: {} {}", online.json, online.stderr);
    assert!(
        online.json.contains("\"confirmed\":3") && online.text.contains("vouches for"),
        "the bank vouches for all three: {} {}",
        online.json,
        online.text
    );
}

/// Attack 3: a transcript whose chain of keys is broken (a statement
/// removed, or one forged) fails with a typed error, not a verdict.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broken_chain_of_keys_fails_with_a_typed_error() {
    let (t, transcript, _) = alerts_across_two_rotations("transcript-broken").await;
    let dir = tempfile::tempdir().unwrap();
    let rotations = transcript["key_chain"]["rotations"]
        .as_array()
        .expect("the transcript carries its rotation statements")
        .clone();
    assert_eq!(rotations.len(), 2);

    // The first statement removed: the second is signed by a key the link
    // never pinned.
    let mut removed = transcript.clone();
    removed["key_chain"]["rotations"] = serde_json::json!([rotations[1]]);
    let err =
        strongroom_client::transcript::verify_transcript(&serde_json::to_vec(&removed).unwrap())
            .unwrap_err();
    assert!(
        matches!(
            &err,
            ClientError::Protocol(ProtocolError::BrokenKeyChain { index: 0, .. })
        ),
        "{err:?}"
    );

    // The second statement forged: same claims, same key id, another key.
    let forged_jws = {
        let jws = rotations[1].as_str().unwrap();
        let payload = jws.split('.').nth(1).unwrap();
        let statement: KeyRotation = serde_json::from_slice(&b64_decode(payload).unwrap()).unwrap();
        let header: serde_json::Value =
            serde_json::from_slice(&b64_decode(jws.split('.').next().unwrap()).unwrap()).unwrap();
        let kid = header["kid"].as_str().unwrap();
        let (impostor, _) = SigningKey::generate(kid, &ring::rand::SystemRandom::new()).unwrap();
        impostor
            .sign(
                ROTATION_TYP,
                &statement,
                false,
                &ring::rand::SystemRandom::new(),
            )
            .unwrap()
    };
    let mut forged = transcript.clone();
    forged["key_chain"]["rotations"][1] = serde_json::Value::String(forged_jws);
    let err =
        strongroom_client::transcript::verify_transcript(&serde_json::to_vec(&forged).unwrap())
            .unwrap_err();
    assert!(
        matches!(
            &err,
            ClientError::Protocol(ProtocolError::BrokenKeyChain { index: 1, reason })
                if **reason == ProtocolError::BadSignature
        ),
        "{err:?}"
    );

    // Both, through the CLI: refused, exit 5, code broken_key_chain.
    for (name, value) in [("removed.json", &removed), ("forged.json", &forged)] {
        let path = write(dir.path(), name, value);
        for bank in [None, Some(t.gateway.issuer.as_str())] {
            let verdict = verify(&t.gateway, &path, bank);
            assert!(!verdict.success, "{name}: {}", verdict.json);
            assert!(
                verdict.stderr.contains("broken_key_chain"),
                "{name}: {}",
                verdict.stderr
            );
        }
    }

    // The last statement dropped: the chain holds up to it, but the newest
    // alert, signed by the key it brought in, does not verify.
    let mut truncated = transcript.clone();
    truncated["key_chain"]["rotations"] = serde_json::json!([rotations[0]]);
    let check =
        strongroom_client::transcript::verify_transcript(&serde_json::to_vec(&truncated).unwrap())
            .unwrap();
    assert_eq!((check.alerts, check.failures.len()), (3, 1), "{check:?}");
}

/// Attack 4: an exported transcript is a new file only its owner can read
/// (0600), and an existing file is never overwritten.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_export_is_created_owner_only_and_never_overwrites() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let gateway = Gateway::start(dir.path(), &[]);
    let device = TestDevice::new("transcript-mode");
    let account = cli_link(&device, &gateway, "alice").await;
    let out = tempfile::tempdir().unwrap();
    let path = out.path().join("transcript.json");
    let export = |path: &Path| {
        device
            .cli(&gateway)
            .args(["export-transcript", &account, "--out"])
            .arg(path)
            .output()
            .expect("strongroom-cli runs")
    };
    let done = export(&path);
    assert!(
        done.status.success(),
        "export: {}",
        String::from_utf8_lossy(&done.stderr)
    );
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "the export is owner-only, not {mode:o}");
    // Exported with --out into a folder: a new file, 0600 too.
    let into = device
        .cli(&gateway)
        .args(["export-transcript", &account])
        .current_dir(out.path())
        .output()
        .unwrap();
    assert!(into.status.success());
    for entry in std::fs::read_dir(out.path()).unwrap() {
        let meta = entry.unwrap().metadata().unwrap();
        assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    }
    // A file already there (world-readable, someone else's) is left alone.
    let other = out.path().join("existing.json");
    std::fs::write(&other, b"not yours").unwrap();
    std::fs::set_permissions(&other, std::fs::Permissions::from_mode(0o644)).unwrap();
    let refused = export(&other);
    assert!(
        !refused.status.success(),
        "an existing file is not overwritten"
    );
    assert_eq!(std::fs::read(&other).unwrap(), b"not yours");
    // And what was written verifies.
    let verdict = verify(&gateway, &path, None);
    assert!(verdict.success, "{} {}", verdict.json, verdict.stderr);
}
