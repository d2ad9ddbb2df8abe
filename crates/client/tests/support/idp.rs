//! A bank's own OpenID provider for the end-to-end tests: `tests/idp`
//! (oidc-provider, an OpenID Certified server, pinned) on loopback TLS with
//! a certificate of the test's own CA, configured as a bank would run it;
//! and the customer's side of its pages, walked as a browser walks them
//! (forms, redirects, cookies).

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::Duration;

use super::Guard;

/// The provider's script and its locked modules (`npm ci --prefix
/// tests/idp`, which `cargo xtask test` runs).
/// Found from the package being tested, the client crate or the workspace
/// root, whichever includes this file.
fn idp_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .map(|dir| dir.join("tests/idp"))
        .find(|dir| dir.join("bank-idp.mjs").is_file())
        .expect("tests/idp in the workspace")
}

/// A free loopback port, for a server that must be named before it starts
/// (the provider names the gateway's URL as its resource, and the gateway
/// names the provider).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// How the provider issues access tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenFormat {
    /// JWT access tokens (RFC 9068), checked by signature.
    Jwt,
    /// Opaque access tokens, checked by introspection (RFC 7662).
    Opaque,
}

/// A running provider.
pub struct BankIdp {
    /// Its issuer identifier.
    pub issuer: String,
    /// The CA that signed its certificate.
    pub ca: PathBuf,
    /// The gateway's introspection credentials (JSON, mode 600).
    pub credentials: PathBuf,
    /// The agent console's client credentials for staff sign-in (JSON,
    /// mode 600).
    pub console_credentials: PathBuf,
    /// The key the bank's Shared Signals transmitter signs its SETs with;
    /// the provider publishes its public half (`/ssf/jwks`, named by
    /// `/.well-known/ssf-configuration`).
    pub transmitter: strongroom_core::protocol::jose::SigningKey,
    _child: Guard,
    _dir: tempfile::TempDir,
    browser: Browser,
}

impl BankIdp {
    /// Starts the provider for the gateway at `resource`.
    pub fn start(
        resource: &str,
        format: TokenFormat,
        access_ttl: u32,
        device_code_ttl: u32,
    ) -> BankIdp {
        let script = idp_dir().join("bank-idp.mjs");
        assert!(
            idp_dir().join("node_modules/oidc-provider").is_dir(),
            "the test IdP's modules are missing: run `npm ci --prefix tests/idp` \
             (`cargo xtask test` does)"
        );
        let dir = tempfile::tempdir().expect("a temp dir");
        let (ca, cert, key) = certificates(dir.path());
        let secret = "gateway-introspection-secret-for-tests";
        let secret_file = dir.path().join("client-secret");
        std::fs::write(&secret_file, secret).expect("the secret file");
        let credentials = dir.path().join("introspection.json");
        std::fs::write(
            &credentials,
            serde_json::json!({"client_id": "strongroom-gateway", "client_secret": secret})
                .to_string(),
        )
        .expect("the credentials file");
        let console_credentials = dir.path().join("console-client.json");
        std::fs::write(
            &console_credentials,
            serde_json::json!({"client_id": "strongroom-console", "client_secret": secret})
                .to_string(),
        )
        .expect("the console's credentials file");
        for file in [&credentials, &console_credentials] {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(file, std::fs::Permissions::from_mode(0o600))
                .expect("chmod 600");
        }
        let (transmitter, _) = strongroom_core::protocol::jose::SigningKey::generate(
            "ssf-1",
            &ring::rand::SystemRandom::new(),
        )
        .expect("a transmitter key");
        let ssf_jwks = dir.path().join("ssf-jwks.json");
        std::fs::write(
            &ssf_jwks,
            serde_json::json!({ "keys": [transmitter.jwk()] }).to_string(),
        )
        .expect("the transmitter's JWKS");
        let mut child = Command::new("node")
            .arg(&script)
            .arg("--cert")
            .arg(&cert)
            .arg("--key")
            .arg(&key)
            .args(["--port", "0", "--resource", resource])
            .args([
                "--access-token-format",
                match format {
                    TokenFormat::Jwt => "jwt",
                    TokenFormat::Opaque => "opaque",
                },
            ])
            .arg("--introspection-client-secret-file")
            .arg(&secret_file)
            .args([
                "--console-redirect-uri",
                &format!("{resource}/console/oidc/callback"),
                "--access-token-ttl",
                &access_ttl.to_string(),
                "--device-code-ttl",
                &device_code_ttl.to_string(),
            ])
            .arg("--ssf-jwks-file")
            .arg(&ssf_jwks)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("node runs the test IdP");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("the IdP's ready line");
        let ready: serde_json::Value = serde_json::from_str(&line)
            .unwrap_or_else(|_| panic!("the IdP's ready line is JSON: {line:?}"));
        let issuer = ready["issuer"].as_str().expect("the issuer").to_owned();
        let browser = Browser::new(&ca);
        BankIdp {
            issuer,
            ca,
            credentials,
            console_credentials,
            transmitter,
            _child: Guard(child),
            _dir: dir,
            browser,
        }
    }

    /// The customer approves (or denies) the link whose code is
    /// `user_code` at the bank: types the code, confirms it, signs in,
    /// and allows or denies on the consent page.
    pub async fn approve(&self, user_code: &str, username: &str, password: &str, allow: bool) {
        let b = &self.browser;
        b.clear_cookies();
        let (url, page) = b.get(&format!("{}/device", self.issuer)).await;
        let (url, page) = b.submit(&url, &page, &[("user_code", user_code)]).await;
        assert!(page.contains("device-confirm"), "the confirm page: {page}");
        let (url, page) = b.submit(&url, &page, &[("confirm", "yes")]).await;
        assert!(page.contains("id=\"sign-in\""), "the sign-in page: {page}");
        let (url, page) = b
            .submit(
                &url,
                &page,
                &[("username", username), ("password", password)],
            )
            .await;
        assert!(page.contains("id=\"allow\""), "the consent page: {page}");
        let decision = if allow { "allow" } else { "deny" };
        let (_, page) = b.submit(&url, &page, &[("decision", decision)]).await;
        if allow {
            assert!(page.contains("device-success"), "the success page: {page}");
        }
    }
}

/// Starts a demo gateway on `port` whose authorization server is `idp`,
/// and points the gateway's `ca` at a file trusting both servers.
pub fn gateway_beside(
    idp: &BankIdp,
    dir: &std::path::Path,
    port: u16,
    extra: &[&str],
) -> super::Gateway {
    let idp_ca = idp.ca.to_string_lossy().into_owned();
    let credentials = idp.credentials.to_string_lossy().into_owned();
    let mut args = vec![
        "--authorization-server",
        &idp.issuer,
        "--authorization-server-ca",
        &idp_ca,
        "--introspection-credentials",
        &credentials,
        "--signals-transmitter",
        &idp.issuer,
        "--signals-transmitter-ca",
        &idp_ca,
    ];
    args.extend_from_slice(extra);
    let mut gateway = super::Gateway::start_at(dir, &format!("127.0.0.1:{port}"), &args);
    let both: PathBuf = dir.join("both-cas.pem");
    let pem =
        std::fs::read_to_string(&gateway.ca).unwrap() + &std::fs::read_to_string(&idp.ca).unwrap();
    std::fs::write(&both, pem).unwrap();
    gateway.ca = both;
    gateway
}

/// The bank enrols alice for Strongroom as `alice-idp`, under the subject
/// its identity provider gives her (`idp-alice`); no password reaches the
/// gateway.
pub async fn enrol_alice(gateway: &super::Gateway) {
    let (status, reply) = gateway
        .bank(
            "POST",
            "/bank/v1/customers",
            Some(
                serde_json::json!({"username": "alice-idp", "display_name": "Alice Example",
                "home_country": "GB", "idp_subject": "idp-alice"}),
            ),
        )
        .await;
    assert_eq!(status, 201, "{reply}");
}

/// A CA, and a certificate for 127.0.0.1 signed by it with its PKCS#8 key:
/// `(ca.pem, cert.pem, key.pem)`.
fn certificates(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let ca_key = rcgen::KeyPair::generate().expect("a CA key");
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("CA params");
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Constrained(0));
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "Test bank IdP CA");
    ca_params.key_usages = vec![
        rcgen::KeyUsagePurpose::KeyCertSign,
        rcgen::KeyUsagePurpose::DigitalSignature,
    ];
    let ca = rcgen::CertifiedIssuer::self_signed(ca_params, ca_key).expect("the CA");
    let key = rcgen::KeyPair::generate().expect("a server key");
    let mut params =
        rcgen::CertificateParams::new(vec!["127.0.0.1".to_owned()]).expect("server params");
    params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
    let cert = params.signed_by(&key, &ca).expect("the server certificate");
    let paths = (
        dir.join("idp-ca.pem"),
        dir.join("idp-cert.pem"),
        dir.join("idp-key.pem"),
    );
    std::fs::write(&paths.0, ca.pem()).expect("write");
    std::fs::write(&paths.1, cert.pem()).expect("write");
    std::fs::write(&paths.2, key.serialize_pem()).expect("write");
    (paths.0, paths.1, paths.2)
}

/// Just enough of a browser for plain HTML forms: it follows redirects
/// and keeps cookies.
struct Browser {
    http: reqwest::Client,
    cookies: Mutex<BTreeMap<String, String>>,
}

impl Browser {
    fn new(ca: &Path) -> Browser {
        let tls = strongroom_client::net::tls_config(Some(ca)).expect("the IdP CA loads");
        Browser {
            http: reqwest::Client::builder()
                .tls_backend_preconfigured((*tls).clone())
                .redirect(reqwest::redirect::Policy::none())
                .timeout(Duration::from_secs(30))
                .build()
                .expect("an HTTP client"),
            cookies: Mutex::default(),
        }
    }

    fn clear_cookies(&self) {
        self.cookies.lock().unwrap().clear();
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .lock()
            .unwrap()
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// Sends the request, keeps its cookies, follows redirects with GET.
    async fn send(
        &self,
        mut request: reqwest::RequestBuilder,
        mut url: String,
    ) -> (String, String) {
        for _ in 0..10 {
            let response = request
                .header("cookie", self.cookie_header())
                .send()
                .await
                .unwrap_or_else(|e| panic!("{url}: {e}"));
            for value in response.headers().get_all("set-cookie") {
                let text = value.to_str().unwrap_or_default();
                let pair = text.split(';').next().unwrap_or_default();
                if let Some((name, value)) = pair.split_once('=') {
                    let mut jar = self.cookies.lock().unwrap();
                    if value.is_empty() {
                        jar.remove(name.trim());
                    } else {
                        jar.insert(name.trim().to_owned(), value.to_owned());
                    }
                }
            }
            if response.status().is_redirection() {
                let location = response.headers()["location"].to_str().unwrap().to_owned();
                url = resolve(&url, &location);
                request = self.http.get(&url);
                continue;
            }
            let text = response.text().await.expect("the page's text");
            return (url, text);
        }
        panic!("more than 10 redirects from {url}");
    }

    async fn get(&self, url: &str) -> (String, String) {
        self.send(self.http.get(url), url.to_owned()).await
    }

    /// Submits the page's first form with its hidden fields and `fields`.
    async fn submit(&self, url: &str, page: &str, fields: &[(&str, &str)]) -> (String, String) {
        let start = page
            .find("<form")
            .unwrap_or_else(|| panic!("a form: {page}"));
        let end = page[start..]
            .find("</form>")
            .map_or(page.len(), |e| start + e);
        let form = &page[start..end];
        let tag_end = form.find('>').expect("the form tag ends");
        let action = attribute(&form[..tag_end], "action").unwrap_or_else(|| url.to_owned());
        let mut values: Vec<(String, String)> = Vec::new();
        let mut rest = form;
        while let Some(at) = rest.find("<input") {
            let tag = &rest[at..at + rest[at..].find('>').unwrap_or(rest.len() - at)];
            if attribute(tag, "type").as_deref() == Some("hidden")
                && let (Some(name), Some(value)) = (attribute(tag, "name"), attribute(tag, "value"))
                && !fields.iter().any(|(n, _)| *n == name)
            {
                values.push((name, value));
            }
            rest = &rest[at + 6..];
        }
        for (name, value) in fields {
            values.push(((*name).to_owned(), (*value).to_owned()));
        }
        let target = resolve(url, &action);
        self.send(self.http.post(&target).form(&values), target.clone())
            .await
    }
}

/// An attribute's value in an HTML tag, with the entities a server escapes.
fn attribute(tag: &str, name: &str) -> Option<String> {
    let key = format!(" {name}=\"");
    let at = tag.find(&key)? + key.len();
    let end = tag[at..].find('"')?;
    Some(
        tag[at..at + end]
            .replace("&quot;", "\"")
            .replace("&#39;", "'")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&"),
    )
}

/// `location` resolved against `base`.
fn resolve(base: &str, location: &str) -> String {
    url::Url::parse(base)
        .and_then(|b| b.join(location))
        .map(String::from)
        .unwrap_or_else(|_| location.to_owned())
}
