//! `strongroom://` links opened from a browser or another app. A link can
//! only start linking a bank, which the customer then confirms on the
//! consent screen; anything else is ignored.

use url::Url;

/// The bank to link from a `strongroom://link?issuer=<https URL>` deep link;
/// `None` for anything else.
pub fn parse_deep_link(link: &str) -> Option<String> {
    let link = Url::parse(link).ok()?;
    if link.scheme() != "strongroom" || link.host_str() != Some("link") || !link.path().is_empty() {
        return None;
    }
    let (_, issuer) = link.query_pairs().find(|(name, _)| name == "issuer")?;
    // Undecodable bytes come back as U+FFFD: such a link names no bank.
    if issuer.contains(char::REPLACEMENT_CHARACTER) {
        return None;
    }
    crate::net::require_secure(&issuer, "https").ok()?;
    Some(issuer.into_owned())
}

#[cfg(test)]
mod tests {
    use super::parse_deep_link;

    #[test]
    fn only_https_issuers_come_from_a_deep_link() {
        assert_eq!(
            parse_deep_link("strongroom://link?issuer=https%3A%2F%2Fbank.example"),
            Some("https://bank.example".into())
        );
        assert_eq!(
            parse_deep_link("strongroom://link?issuer=http%3A%2F%2Fevil"),
            None
        );
        assert_eq!(parse_deep_link("strongroom://pay?to=x"), None);
        assert_eq!(parse_deep_link("strongroom://link?issuer=%zz"), None);
        assert_eq!(parse_deep_link("strongroom://link?issuer=%FF"), None);
        assert_eq!(
            parse_deep_link("strongroom://link?issuer=https%3A%2F%2Fbank.example%40evil.example"),
            None,
            "an issuer with userinfo is refused"
        );
        assert_eq!(
            parse_deep_link("other://link?issuer=https%3A%2F%2Fbank.example"),
            None
        );
    }
}
