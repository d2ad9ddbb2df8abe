//! Linking a device as the desktop app does: the device grant with DPoP
//! proofs and nonces, the consent page, and API calls with the tokens.

use ring::rand::SystemRandom;
use strongroom_core::protocol::dpop::make_proof;
use strongroom_core::protocol::jose::SigningKey;
use strongroom_gateway::RunningGateway;

use super::{Http, Reply, hidden_field, now_s};

/// A device key and its tokens.
pub struct Device {
    pub key: SigningKey,
    pub access: String,
    pub refresh: String,
    /// The customer's subject identifier, the audience of their alerts.
    pub audience: String,
}

/// The desktop app's side of linking, against one gateway.
pub struct Linker<'a> {
    pub http: &'a Http,
    pub issuer: String,
    pub rng: SystemRandom,
}

impl<'a> Linker<'a> {
    pub fn new(http: &'a Http, gateway: &RunningGateway) -> Self {
        Linker {
            http,
            issuer: gateway.issuer.clone(),
            rng: SystemRandom::new(),
        }
    }

    pub fn proof(
        &self,
        key: &SigningKey,
        method: &str,
        path: &str,
        token: Option<&str>,
        nonce: Option<&str>,
    ) -> String {
        make_proof(
            key,
            method,
            &format!("{}{path}", self.issuer),
            now_s(),
            token,
            nonce,
            &self.rng,
        )
        .unwrap()
    }

    pub async fn device_authorization(&self, key: &SigningKey) -> serde_json::Value {
        self.device_authorization_for(key, "alerts chat").await
    }

    pub async fn device_authorization_for(
        &self,
        key: &SigningKey,
        scope: &str,
    ) -> serde_json::Value {
        let reply = self
            .http
            .form(
                "/oauth/device_authorization",
                &[("client_id", "strongroom-desktop"), ("scope", scope)],
                Some(self.proof(key, "POST", "/oauth/device_authorization", None, None)),
            )
            .await;
        assert_eq!(reply.status, 200, "{}", reply.text());
        reply.json()
    }

    /// Polls once, fetching a nonce first when asked.
    pub async fn poll(&self, key: &SigningKey, device_code: &str) -> Reply {
        let fields = [
            ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
            ("device_code", device_code),
            ("client_id", "strongroom-desktop"),
        ];
        let first = self
            .http
            .form(
                "/oauth/token",
                &fields,
                Some(self.proof(key, "POST", "/oauth/token", None, None)),
            )
            .await;
        assert_eq!(first.status, 400);
        assert_eq!(
            first.json()["error"],
            "use_dpop_nonce",
            "a nonce is required"
        );
        let nonce = first
            .header("dpop-nonce")
            .expect("a DPoP-Nonce header")
            .to_owned();
        self.http
            .form(
                "/oauth/token",
                &fields,
                Some(self.proof(key, "POST", "/oauth/token", None, Some(&nonce))),
            )
            .await
    }

    pub async fn approve(
        &self,
        user_code: &str,
        username: &str,
        password: &str,
        action: &str,
    ) -> Reply {
        let page = self
            .http
            .send("GET", &format!("/device?user_code={user_code}"), &[], b"")
            .await;
        assert_eq!(page.status, 200);
        let csp = page.header("content-security-policy").unwrap_or_default();
        assert!(
            csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'"),
            "{csp}"
        );
        assert_eq!(page.header("x-frame-options"), Some("DENY"));
        assert_eq!(page.header("cache-control"), Some("no-store"));
        let csrf = hidden_field(&page.text(), "csrf").expect("a CSRF token");
        let consent = self
            .http
            .form(
                "/device",
                &[
                    ("user_code", user_code),
                    ("username", username),
                    ("password", password),
                    ("csrf", &csrf),
                ],
                None,
            )
            .await;
        let Some(decision) = hidden_field(&consent.text(), "decision") else {
            return consent;
        };
        assert!(
            consent.text().contains("Demo Bank"),
            "the consent page names the bank"
        );
        self.http
            .form(
                "/device/decision",
                &[("decision", &decision), ("action", action)],
                None,
            )
            .await
    }

    pub async fn link(&self, username: &str) -> Device {
        self.link_with_scope(username, "alerts chat").await
    }

    pub async fn link_with_scope(&self, username: &str, scope: &str) -> Device {
        let (key, _) = SigningKey::generate("device", &self.rng).unwrap();
        let auth = self.device_authorization_for(&key, scope).await;
        let user_code = auth["user_code"].as_str().unwrap().to_owned();
        let done = self
            .approve(&user_code, username, &format!("{username}-demo"), "approve")
            .await;
        assert!(done.text().contains("approved"), "{}", done.text());
        let reply = self.poll(&key, auth["device_code"].as_str().unwrap()).await;
        assert_eq!(reply.status, 200, "{}", reply.text());
        let tokens = reply.json();
        assert_eq!(tokens["token_type"], "DPoP");
        Device {
            key,
            access: tokens["access_token"].as_str().unwrap().to_owned(),
            refresh: tokens["refresh_token"].as_str().unwrap().to_owned(),
            audience: tokens["strongroom_audience"]
                .as_str()
                .expect("the token response names the alerts' audience")
                .to_owned(),
        }
    }

    /// A DPoP-bound `POST` to the messaging API, signed with the device's
    /// own key.
    pub async fn post(&self, device: &Device, path: &str, body: &[u8]) -> Reply {
        self.api(device, &device.key, "POST", path, body).await
    }

    pub async fn api(
        &self,
        device: &Device,
        key: &SigningKey,
        method: &str,
        path: &str,
        body: &[u8],
    ) -> Reply {
        let htu = path.split('?').next().unwrap_or(path);
        self.http
            .send(
                method,
                path,
                &[
                    ("authorization", format!("DPoP {}", device.access)),
                    (
                        "dpop",
                        self.proof(key, method, htu, Some(&device.access), None),
                    ),
                    ("content-type", "application/json".into()),
                ],
                body,
            )
            .await
    }
}

/// A token endpoint request with a DPoP proof, fetching the nonce first.
pub async fn token_request(
    linker: &Linker<'_>,
    key: &SigningKey,
    fields: &[(&str, &str)],
) -> Reply {
    let first = linker
        .http
        .form(
            "/oauth/token",
            fields,
            Some(linker.proof(key, "POST", "/oauth/token", None, None)),
        )
        .await;
    let Some(nonce) = first.header("dpop-nonce").map(str::to_owned) else {
        return first;
    };
    if first.status != 400 {
        return first;
    }
    linker
        .http
        .form(
            "/oauth/token",
            fields,
            Some(linker.proof(key, "POST", "/oauth/token", None, Some(&nonce))),
        )
        .await
}

pub async fn refresh(linker: &Linker<'_>, key: &SigningKey, refresh_token: &str) -> Reply {
    token_request(
        linker,
        key,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
            ("client_id", "strongroom-desktop"),
        ],
    )
    .await
}
