//! Reading the URLs a bank gives (its issuer, endpoints, stream) with the
//! `url` crate, strictly: a URL is parsed, never sliced, so a user name
//! hidden before an `@` or a missing slash cannot change which server is
//! reached.

use url::Url;

use crate::ClientError;

/// Parses a bank's URL strictly: any syntax the URL standard only
/// tolerates (missing or extra slashes, backslashes, a `user@` part,
/// unencoded characters) is refused, not repaired.
fn parse_strict(url: &str) -> Option<Url> {
    let violated = std::cell::Cell::new(false);
    let parsed = Url::options()
        .syntax_violation_callback(Some(&|_| violated.set(true)))
        .parse(url)
        .ok()?;
    (!violated.get()).then_some(parsed)
}

/// Checks that a URL is `https` (or, for the stream, `wss`) with a host,
/// and no user name, password or fragment.
///
/// # Errors
/// [`ClientError::BankProtocol`] naming the URL.
pub fn require_secure(url: &str, scheme: &str) -> Result<(), ClientError> {
    secure_url(url, scheme).map(|_| ())
}

/// [`require_secure`], giving the parsed URL.
fn secure_url(url: &str, scheme: &str) -> Result<Url, ClientError> {
    parse_strict(url)
        .filter(|u| {
            u.scheme() == scheme
                && u.host_str().is_some_and(|h| !h.is_empty())
                && u.username().is_empty()
                && u.password().is_none()
                && u.fragment().is_none()
        })
        .ok_or_else(|| {
            ClientError::BankProtocol(format!(
                "{url:?} is not an {scheme} URL; Strongroom only talks to banks over TLS"
            ))
        })
}

/// Where RFC 8414 (section 3) puts an issuer's metadata: the well-known
/// suffix goes between the host and any path of the issuer. An issuer
/// carries no query, fragment or user name.
///
/// # Errors
/// [`ClientError::BankProtocol`] when the issuer is not such a URL.
pub(crate) fn metadata_url(issuer: &str) -> Result<Url, ClientError> {
    well_known_url(issuer, "oauth-authorization-server")
}

/// Where RFC 9728 (section 3) puts a protected resource's metadata: the
/// same rule as RFC 8414's, with its own well-known name.
///
/// # Errors
/// [`ClientError::BankProtocol`] when the resource is not such a URL.
pub(crate) fn resource_metadata_url(resource: &str) -> Result<Url, ClientError> {
    well_known_url(resource, "oauth-protected-resource")
}

/// `https://host[:port]/.well-known/NAME[path]` for an identifier
/// `https://host[:port][path]` with no query.
fn well_known_url(identifier: &str, name: &str) -> Result<Url, ClientError> {
    let mut url = secure_url(identifier, "https")?;
    if url.query().is_some() {
        return Err(ClientError::BankProtocol(
            "an issuer or resource URL has no query".into(),
        ));
    }
    let path = url.path().trim_end_matches('/').to_owned();
    url.set_path(&format!("/.well-known/{name}{path}"));
    Ok(url)
}

/// The origin (scheme, host, port) a DPoP nonce belongs to.
pub(crate) fn origin(url: &str) -> String {
    Url::parse(url).map_or_else(|_| url.to_owned(), |u| u.origin().ascii_serialization())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_tls_urls_are_accepted() {
        assert!(require_secure("https://bank.example", "https").is_ok());
        assert!(require_secure("https://bank.example:8443/oauth?x=1", "https").is_ok());
        assert!(require_secure("wss://bank.example/stream", "wss").is_ok());
        assert!(require_secure("http://bank.example", "https").is_err());
        assert!(require_secure("https://", "https").is_err());
        assert!(require_secure("https:///path", "https").is_err());
        assert!(require_secure("https:bank.example", "https").is_err());
        assert!(require_secure("https:\\\\bank.example", "https").is_err());
        assert!(require_secure("ws://bank.example/s", "wss").is_err());
        assert!(require_secure("https://bank.example/#x", "https").is_err());
        assert!(require_secure("bank.example", "https").is_err());
    }

    #[test]
    fn an_issuer_with_a_user_name_is_refused() {
        for issuer in [
            "https://bank.example@evil.example",
            "https://bank.example:pw@evil.example",
            "https://@evil.example",
        ] {
            assert!(
                matches!(metadata_url(issuer), Err(ClientError::BankProtocol(_))),
                "{issuer} must be refused"
            );
            assert!(require_secure(issuer, "https").is_err(), "{issuer}");
        }
    }

    #[test]
    fn an_issuer_has_no_query_or_fragment() {
        assert!(metadata_url("https://bank.example?x=1").is_err());
        assert!(metadata_url("https://bank.example/?").is_err());
        assert!(metadata_url("https://bank.example#x").is_err());
        assert!(metadata_url("http://bank.example").is_err());
    }

    #[test]
    fn the_metadata_sits_between_host_and_path() {
        assert_eq!(
            metadata_url("https://bank.example").unwrap().as_str(),
            "https://bank.example/.well-known/oauth-authorization-server"
        );
        assert_eq!(
            metadata_url("https://bank.example:8443/tenant/eu")
                .unwrap()
                .as_str(),
            "https://bank.example:8443/.well-known/oauth-authorization-server/tenant/eu"
        );
    }

    #[test]
    fn nonces_are_remembered_per_origin() {
        assert_eq!(
            origin("https://bank.example:8443/oauth/token?x"),
            "https://bank.example:8443"
        );
        assert_eq!(origin("https://bank.example"), "https://bank.example");
    }
}
