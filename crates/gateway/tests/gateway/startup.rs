//! Starting and restarting: what the gateway says when it is ready, what it
//! publishes, which files it keeps private, and what survives a restart.

use std::path::Path;

use ring::rand::SystemRandom;
use rustls_pki_types::pem::PemObject;

use crate::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ready_line_and_metadata_name_the_issuer_and_its_secrets_are_private() {
    let dir = tempfile::tempdir().unwrap();
    let gateway = start(dir.path(), "127.0.0.1:0", 1000.0).await;
    let line = gateway.ready_line();
    assert!(
        line.starts_with("strongroom-gateway ready issuer=https://127.0.0.1:"),
        "{line}"
    );
    assert!(
        line.contains(" ca=/") && line.contains(" api_key_file=/"),
        "{line}"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert!(
            !dir.path().join("demo-ca-key.pem").exists(),
            "the demo CA key is never written"
        );
        for file in ["bank-api-key", "demo-server-key.pem"]
            .iter()
            .chain(database_files())
        {
            let mode = std::fs::metadata(dir.path().join(file))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600, "{file} is private");
        }
    }
    let http = Http::new(&gateway);
    let metadata = http
        .send("GET", "/.well-known/oauth-authorization-server", &[], b"")
        .await
        .json();
    assert_eq!(metadata["issuer"], gateway.issuer);
    assert_eq!(
        metadata["strongroom_api_base"],
        format!("{}/v1", gateway.issuer)
    );
    assert_eq!(
        metadata["strongroom_stream_endpoint"],
        format!("wss://{}/v1/stream", gateway.local_addr)
    );
    gateway.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_on_the_same_data_keeps_the_key_the_devices_and_their_events() {
    let dir = tempfile::tempdir().unwrap();
    let gateway = start(dir.path(), "127.0.0.1:0", 1000.0).await;
    let http = Http::new(&gateway);
    let linker = Linker::new(&http, &gateway);
    // The laptop's sign-in, a fraud check and a payment reminder: three
    // alerts in the customer's history.
    let (_phone, laptop, _) = phone_and_laptop(&linker).await;
    suspicious_purchase(&http).await;
    let r = http
        .bank("POST", "/bank/v1/alerts", serde_json::json!({"customer": "alice", "kind": "payment_due", "severity": "info", "text": "Card bill due"}))
        .await;
    assert_eq!(r.status, 201, "{}", r.text());

    // A restart on the same data keeps the key, the devices and their events.
    let addr = gateway.local_addr.to_string();
    let issuer = gateway.issuer.clone();
    gateway.shutdown().await;
    let gateway = start(dir.path(), &addr, 1000.0).await;
    assert_eq!(gateway.issuer, issuer);
    let http = Http::new(&gateway);
    assert_eq!(
        http.api_key, linker.http.api_key,
        "the bank API key is kept"
    );
    let linker = Linker {
        http: &http,
        issuer,
        rng: SystemRandom::new(),
    };
    let history = linker
        .api(&laptop, &laptop.key, "GET", "/v1/history?limit=200", b"")
        .await
        .json();
    assert!(
        history["events"].as_array().unwrap().len() >= 3,
        "{history}"
    );
    gateway.shutdown().await;
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_are_private_on_start_and_the_demo_ca_is_constrained() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o755)).unwrap();
    let gateway = start(&data, "127.0.0.1:0", 1000.0).await;
    let ca = std::fs::read(gateway.ca_file.as_ref().unwrap()).unwrap();
    gateway.shutdown().await;
    // An older layout: world-readable files and a stored CA key.
    for file in ["bank-api-key", "demo-server-key.pem"]
        .iter()
        .chain(database_files())
    {
        std::fs::set_permissions(data.join(file), std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    std::fs::write(data.join("demo-ca-key.pem"), "old").unwrap();
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o755)).unwrap();
    let gateway = start(&data, "127.0.0.1:0", 1000.0).await;
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&data), 0o700, "the data directory");
    for file in [
        "gateway.db",
        "gateway.db-wal",
        "gateway.db-shm",
        "bank-api-key",
        "demo-server-key.pem",
    ] {
        let path = data.join(file);
        if path.exists() {
            assert_eq!(mode(&path), 0o600, "{file}");
        } else {
            assert!(
                file.ends_with("-wal") || file.ends_with("-shm"),
                "{file} exists"
            );
        }
    }
    assert!(
        !data.join("demo-ca-key.pem").exists(),
        "the old CA key is removed"
    );
    // The CA is reused (its key is gone, so it could not make another
    // certificate) and carries name constraints (id-ce-nameConstraints,
    // 2.5.29.30).
    assert_eq!(
        std::fs::read(gateway.ca_file.as_ref().unwrap()).unwrap(),
        ca
    );
    let der = rustls_pki_types::CertificateDer::from_pem_slice(&ca).unwrap();
    assert!(
        der.windows(5).any(|w| w == [0x06, 0x03, 0x55, 0x1d, 0x1e]),
        "the demo CA has name constraints"
    );
    // And the server certificate still verifies under them.
    let http = Http::new(&gateway);
    assert_eq!(http.send("GET", "/oauth/jwks", &[], b"").await.status, 200);
    gateway.shutdown().await;
}
