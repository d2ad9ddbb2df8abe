//! TLS: the server configuration and the client configuration for the
//! servers the gateway calls (rustls with the ring provider only), and the
//! demo's local certificate authority.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::ServerConfig;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

use crate::error::GatewayError;

/// The demo CA certificate's file name in the data directory.
pub const DEMO_CA_FILE: &str = "demo-ca.pem";
/// Where earlier versions kept the demo CA's private key; removed on start.
const OLD_DEMO_CA_KEY_FILE: &str = "demo-ca-key.pem";
const DEMO_SERVER_CERT_FILE: &str = "demo-server.pem";
/// The demo server key's file name in the data directory (0600).
pub const DEMO_SERVER_KEY_FILE: &str = "demo-server-key.pem";

/// Installs ring as the process's rustls provider. Idempotent: a provider
/// already installed (by a test harness, say) is left in place.
pub fn install_ring_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// Writes `contents` to `path` readable by the owner only (0600 on Unix),
/// atomically: a crash leaves either no file or the whole file.
///
/// # Errors
/// [`GatewayError::Io`].
pub fn write_private_file(path: &Path, contents: &[u8]) -> Result<(), GatewayError> {
    use std::io::Write;
    let tmp = path.with_extension("tmp");
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let context = || format!("writing {}", path.display());
    let mut file = options
        .open(&tmp)
        .map_err(|e| GatewayError::io(context(), e))?;
    file.write_all(contents)
        .and_then(|()| file.sync_all())
        .map_err(|e| GatewayError::io(context(), e))?;
    std::fs::rename(&tmp, path).map_err(|e| GatewayError::io(context(), e))
}

fn write_public_file(path: &Path, contents: &[u8]) -> Result<(), GatewayError> {
    std::fs::write(path, contents)
        .map_err(|e| GatewayError::io(format!("writing {}", path.display()), e))
}

/// Makes the demo CA and a server certificate for `localhost`, `127.0.0.1`
/// and `::1` on first run; later runs reuse them. Returns the paths of the
/// CA certificate, the server chain and the server key.
///
/// The CA signs the server certificate when it is made and its private key
/// is then dropped, never written: when the server certificate has to be
/// made again (a file is missing), a new CA is made with it, and the app
/// must be given the new `demo-ca.pem`. The CA is name-constrained to
/// `localhost`, 127.0.0.0/8 and ::1, so even a copy of it in a trust store
/// vouches for nothing else.
///
/// # Errors
/// [`GatewayError::Tls`] or [`GatewayError::Io`].
pub fn ensure_demo_certificates(
    data_dir: &Path,
) -> Result<(PathBuf, PathBuf, PathBuf), GatewayError> {
    let ca_path = data_dir.join(DEMO_CA_FILE);
    let cert_path = data_dir.join(DEMO_SERVER_CERT_FILE);
    let key_path = data_dir.join(DEMO_SERVER_KEY_FILE);
    // Earlier versions kept the CA key; nothing reads it, so it only risks
    // leaking.
    let old_ca_key = data_dir.join(OLD_DEMO_CA_KEY_FILE);
    if old_ca_key.exists() {
        std::fs::remove_file(&old_ca_key)
            .map_err(|e| GatewayError::io(format!("removing {}", old_ca_key.display()), e))?;
    }
    if ca_path.exists() && cert_path.exists() && key_path.exists() {
        return Ok((ca_path, cert_path, key_path));
    }
    let tls = |e: rcgen::Error| GatewayError::Tls(e.to_string());
    let ca_key = rcgen::KeyPair::generate().map_err(tls)?;
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).map_err(tls)?;
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Constrained(0));
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "Strongroom demo gateway CA");
    ca_params.key_usages = vec![
        rcgen::KeyUsagePurpose::KeyCertSign,
        rcgen::KeyUsagePurpose::CrlSign,
        rcgen::KeyUsagePurpose::DigitalSignature,
    ];
    ca_params.name_constraints = Some(rcgen::NameConstraints {
        permitted_subtrees: vec![
            rcgen::GeneralSubtree::DnsName("localhost".into()),
            rcgen::GeneralSubtree::IpAddress(rcgen::CidrSubnet::V4([127, 0, 0, 0], [255, 0, 0, 0])),
            rcgen::GeneralSubtree::IpAddress(rcgen::CidrSubnet::V6(
                std::net::Ipv6Addr::LOCALHOST.octets(),
                [0xff; 16],
            )),
        ],
        excluded_subtrees: Vec::new(),
    });
    let ca = rcgen::CertifiedIssuer::self_signed(ca_params, ca_key).map_err(tls)?;

    let server_key = rcgen::KeyPair::generate().map_err(tls)?;
    let mut params = rcgen::CertificateParams::new(vec![
        "localhost".to_owned(),
        "127.0.0.1".to_owned(),
        "::1".to_owned(),
    ])
    .map_err(tls)?;
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "localhost");
    params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
    let server = params.signed_by(&server_key, &ca).map_err(tls)?;

    write_private_file(&key_path, server_key.serialize_pem().as_bytes())?;
    write_public_file(
        &cert_path,
        format!("{}{}", server.pem(), ca.pem()).as_bytes(),
    )?;
    // Written last: its presence says the set is complete.
    write_public_file(&ca_path, ca.pem().as_bytes())?;
    // `ca` (and its key) is dropped here: it has signed all it ever will.
    Ok((ca_path, cert_path, key_path))
}

/// The rustls server configuration for a PEM chain and key, ring only,
/// HTTP/1.1 (the stream is a WebSocket over HTTP/1.1 upgrade).
///
/// # Errors
/// [`GatewayError::Tls`] if the files cannot be read or do not match.
pub fn server_config(cert: &Path, key: &Path) -> Result<Arc<ServerConfig>, GatewayError> {
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .map_err(|e| GatewayError::Tls(format!("{}: {e}", cert.display())))?
        .collect::<Result<_, _>>()
        .map_err(|e| GatewayError::Tls(format!("{}: {e}", cert.display())))?;
    if chain.is_empty() {
        return Err(GatewayError::Tls(format!(
            "{} holds no certificate",
            cert.display()
        )));
    }
    let key = PrivateKeyDer::from_pem_file(key)
        .map_err(|e| GatewayError::Tls(format!("{}: {e}", key.display())))?;
    server_config_for(chain, key)
}

/// The listener's rustls configuration for a chain and key already read:
/// ring only, HTTP/1.1. The fuzz target of the TLS listener builds its
/// configuration here too, so that it fuzzes the listener's own.
///
/// # Errors
/// [`GatewayError::Tls`] if the key does not match or is not usable.
pub(crate) fn server_config_for(
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
) -> Result<Arc<ServerConfig>, GatewayError> {
    let mut config =
        ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .map_err(|e| GatewayError::Tls(e.to_string()))?
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .map_err(|e| GatewayError::Tls(e.to_string()))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// A TLS client configuration with the ring provider only: the system's
/// roots (when `system_roots`) and the CAs in the PEM file `ca`. For the
/// bank's authorization server (system roots and, for pilots, an extra CA)
/// and a PostgreSQL server on another machine (its `sslrootcert` alone,
/// as libpq would).
///
/// # Errors
/// [`GatewayError::Config`] if `ca` cannot be read or holds no certificate.
pub(crate) fn client_config(
    ca: Option<&Path>,
    system_roots: bool,
) -> Result<rustls::ClientConfig, GatewayError> {
    let mut roots = rustls::RootCertStore::empty();
    if system_roots {
        for cert in rustls_native_certs::load_native_certs().certs {
            let _ = roots.add(cert);
        }
    }
    if let Some(path) = ca {
        let bad = |why: String| GatewayError::Config(format!("{}: {why}", path.display()));
        let certs = CertificateDer::pem_file_iter(path)
            .map_err(|e| bad(e.to_string()))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| bad(e.to_string()))?;
        if certs.is_empty() {
            return Err(bad("holds no certificate".into()));
        }
        for cert in certs {
            roots.add(cert).map_err(|e| bad(e.to_string()))?;
        }
    }
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| GatewayError::Config(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth())
}
