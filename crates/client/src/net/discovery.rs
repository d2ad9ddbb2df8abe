//! Discovering a bank: the gateway's protected resource metadata (RFC
//! 9728), then its authorization server's metadata (RFC 8414, else OpenID
//! Connect Discovery), with the issuer and resource checks that keep one
//! server from speaking for another; and what linking takes from them.

use serde::Deserialize;

use super::{BankHttp, OFFLINE_ACCESS, SCOPE};
use crate::ClientError;
use crate::bank_url::{metadata_url, require_secure, resource_metadata_url};

/// An authorization server's metadata (RFC 8414), with Strongroom's members.
#[derive(Debug, Clone, Deserialize)]
pub struct Metadata {
    /// The issuer, exactly as the customer gave it.
    pub issuer: String,
    /// RFC 8628 device authorization endpoint.
    pub device_authorization_endpoint: String,
    /// Token endpoint.
    pub token_endpoint: String,
    /// RFC 7009 revocation endpoint.
    #[serde(default)]
    pub revocation_endpoint: Option<String>,
    /// The bank's alert signing keys.
    #[serde(default)]
    pub jwks_uri: Option<String>,
    /// Algorithms the server accepts for DPoP proofs.
    #[serde(default)]
    pub dpop_signing_alg_values_supported: Vec<String>,
    /// Strongroom: the `wss` delivery stream.
    #[serde(default)]
    pub strongroom_stream_endpoint: Option<String>,
    /// Strongroom: base URL of chat and fraud answers.
    #[serde(default)]
    pub strongroom_api_base: Option<String>,
    /// Strongroom: the bank's display name.
    #[serde(default)]
    pub strongroom_bank_name: Option<String>,
    /// The scopes the server offers (`offline_access` is asked for when
    /// listed).
    #[serde(default)]
    pub scopes_supported: Vec<String>,
    /// Protocol version 2: the gateway's resource identifier (RFC 9728),
    /// named in every token request (RFC 8707); `None` when the issuer is a
    /// version 1 gateway that is its own authorization server.
    #[serde(skip)]
    pub resource: Option<String>,
    /// Who signs the alerts (their `iss`): the gateway. In version 1 the
    /// authorization server's issuer, which was the gateway.
    #[serde(skip)]
    pub alert_issuer: String,
    /// Where the alert signing keys are published: the gateway's
    /// `strongroom_alert_keys_uri`, or in version 1 the `jwks_uri`.
    #[serde(skip)]
    pub alert_keys_uri: Option<String>,
}

impl Metadata {
    /// The scopes to ask for: Strongroom's, and `offline_access` when the
    /// server lists it (an OpenID provider issues refresh tokens only then).
    pub fn request_scope(&self) -> String {
        if self.scopes_supported.iter().any(|s| s == OFFLINE_ACCESS) {
            format!("{SCOPE} {OFFLINE_ACCESS}")
        } else {
            SCOPE.to_owned()
        }
    }

    /// Whether the authorization server is another server than the
    /// gateway (protocol version 2 with the bank's own server).
    pub fn separate_authorization_server(&self) -> bool {
        self.resource.is_some() && self.issuer != self.alert_issuer
    }
}

/// A protected resource's metadata (RFC 9728), with Strongroom's members.
#[derive(Debug, Clone, Deserialize)]
struct ResourceMetadata {
    resource: String,
    #[serde(default)]
    authorization_servers: Vec<String>,
    #[serde(default)]
    strongroom_alert_issuer: Option<String>,
    #[serde(default)]
    strongroom_alert_keys_uri: Option<String>,
    #[serde(default)]
    strongroom_stream_endpoint: Option<String>,
    #[serde(default)]
    strongroom_api_base: Option<String>,
    #[serde(default)]
    strongroom_bank_name: Option<String>,
}

impl BankHttp {
    /// Discovers a bank from its gateway's URL. Protocol version 2: the
    /// gateway's protected resource metadata (RFC 9728) names its
    /// authorization server, whose metadata comes next (RFC 8414, else
    /// OpenID Connect Discovery). A version 1 gateway publishes no resource
    /// metadata: its URL is its authorization server's issuer.
    ///
    /// # Errors
    /// [`ClientError::BankProtocol`] saying what is missing or does not
    /// match, or the network error.
    pub async fn discover(&self, url: &str) -> Result<Metadata, ClientError> {
        let url = url.trim_end_matches('/');
        let Some(resource) = self.resource_metadata(url).await? else {
            let mut metadata = self.authorization_server(url, false).await?;
            metadata.alert_issuer = metadata.issuer.clone();
            metadata.alert_keys_uri = metadata.jwks_uri.clone();
            return check_strongroom(metadata);
        };
        // RFC 9728 section 7.6: the first listed server is the one used;
        // the customer never chooses, so no one can steer the choice.
        let issuer = resource.authorization_servers.first().ok_or_else(|| {
            ClientError::BankProtocol(format!(
                "the bank's gateway at {url} names no authorization server"
            ))
        })?;
        let mut metadata = self.authorization_server(issuer, true).await?;
        metadata.alert_issuer = resource
            .strongroom_alert_issuer
            .clone()
            .unwrap_or_else(|| resource.resource.clone());
        metadata.alert_keys_uri = resource.strongroom_alert_keys_uri;
        metadata.strongroom_stream_endpoint = resource.strongroom_stream_endpoint;
        metadata.strongroom_api_base = resource.strongroom_api_base;
        metadata.strongroom_bank_name = resource.strongroom_bank_name;
        metadata.resource = Some(resource.resource);
        check_strongroom(metadata)
    }

    /// The gateway's resource metadata, `None` when it publishes none (a
    /// version 1 gateway answers 404).
    async fn resource_metadata(&self, url: &str) -> Result<Option<ResourceMetadata>, ClientError> {
        let at = resource_metadata_url(url)?;
        let at = at.as_str();
        let body = match self.get_public(at).await {
            Ok(body) => body,
            Err(ClientError::Refused { status: 404, .. }) => return Ok(None),
            Err(e) => return Err(e),
        };
        let resource: ResourceMetadata = serde_json::from_slice(&body).map_err(|e| {
            ClientError::BankProtocol(format!("the gateway's metadata at {at} is not valid: {e}"))
        })?;
        // RFC 9728 section 3.3: metadata for another resource must not be
        // used, or one server could pose as another's gateway.
        if resource.resource.trim_end_matches('/') != url {
            return Err(ClientError::BankProtocol(format!(
                "the metadata at {at} is for resource {:?}, not {url:?}",
                resource.resource
            )));
        }
        Ok(Some(resource))
    }

    /// An authorization server's metadata: RFC 8414 first, then (for a
    /// server the gateway names, which may be any OpenID provider) OpenID
    /// Connect Discovery. The document's `issuer` must be exactly the
    /// issuer asked for (RFC 8414 section 3.3, OpenID Connect Discovery
    /// section 4.3), and the server must offer the device grant and ES256
    /// DPoP proofs.
    async fn authorization_server(
        &self,
        issuer: &str,
        try_openid: bool,
    ) -> Result<Metadata, ClientError> {
        let oauth = metadata_url(issuer.trim_end_matches('/'))?;
        let mut urls = vec![oauth.to_string()];
        if try_openid {
            urls.push(format!(
                "{}/.well-known/openid-configuration",
                issuer.trim_end_matches('/')
            ));
        }
        let mut body = None;
        let mut last = None;
        for url in &urls {
            match self.get_public(url).await {
                Ok(b) => {
                    body = Some((url.clone(), b));
                    break;
                }
                Err(e @ ClientError::Refused { status: 404, .. }) => last = Some(e),
                Err(e) => return Err(e),
            }
        }
        let Some((url, body)) = body else {
            return Err(last.unwrap_or_else(|| {
                ClientError::BankProtocol(format!("{issuer} publishes no metadata"))
            }));
        };
        #[derive(Deserialize)]
        struct Shape {
            issuer: String,
        }
        let shape: Shape = serde_json::from_slice(&body).map_err(|e| {
            ClientError::BankProtocol(format!("the metadata at {url} is not valid: {e}"))
        })?;
        // The gateway's issuer may have been typed with a trailing slash;
        // a server the gateway names must match it exactly.
        let matches = if try_openid {
            shape.issuer == issuer
        } else {
            shape.issuer.trim_end_matches('/') == issuer
        };
        if !matches {
            return Err(ClientError::BankProtocol(format!(
                "the metadata at {url} is for issuer {:?}, not {issuer:?}",
                shape.issuer
            )));
        }
        let metadata: Metadata = serde_json::from_slice(&body).map_err(|e| {
            ClientError::BankProtocol(format!(
                "the authorization server {issuer} does not offer what linking needs \
                 (the device grant, RFC 8628): {e}"
            ))
        })?;
        if !metadata
            .dpop_signing_alg_values_supported
            .iter()
            .any(|a| a == "ES256")
        {
            return Err(ClientError::BankProtocol(format!(
                "the authorization server {issuer} does not accept ES256 DPoP proofs"
            )));
        }
        for url in [
            &metadata.device_authorization_endpoint,
            &metadata.token_endpoint,
        ] {
            require_secure(url, "https")?;
        }
        if let Some(url) = &metadata.revocation_endpoint {
            require_secure(url, "https")?;
        }
        Ok(metadata)
    }
}

/// Checks the Strongroom members every linked bank must give: https and
/// wss URLs only.
fn check_strongroom(metadata: Metadata) -> Result<Metadata, ClientError> {
    for url in [&metadata.alert_keys_uri, &metadata.strongroom_api_base]
        .into_iter()
        .flatten()
    {
        require_secure(url, "https")?;
    }
    if let Some(stream) = &metadata.strongroom_stream_endpoint {
        require_secure(stream, "wss")?;
    }
    Ok(metadata)
}
