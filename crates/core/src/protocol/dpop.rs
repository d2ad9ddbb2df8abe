//! DPoP proofs (RFC 9449): the device proves, on every request, that it holds
//! the private key its tokens are bound to.

use ring::rand::SecureRandom;
use serde::{Deserialize, Serialize};

use super::ProtocolError;
use super::jose::{Jwk, SigningKey, b64_encode, parse_jws, payload_json, verify_es256};

/// The JWS `typ` of a DPoP proof.
pub const DPOP_TYP: &str = "dpop+jwt";

/// How far a proof's `iat` may be from the server's clock, seconds.
pub const DPOP_MAX_SKEW_S: i64 = 60;

/// The claims of a DPoP proof.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DpopClaims {
    /// Unique id of the proof (replay detection).
    pub jti: String,
    /// HTTP method.
    pub htm: String,
    /// HTTP URL without query and fragment.
    pub htu: String,
    /// Issued at, seconds.
    pub iat: i64,
    /// base64url SHA-256 of the access token, when one is presented.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ath: Option<String>,
    /// The server's nonce, when it asked for one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
}

/// A proof that passed every check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedProof {
    /// The RFC 7638 thumbprint of the key that signed it: what tokens bind to.
    pub jkt: String,
    /// The proof's id, for the server's replay cache.
    pub jti: String,
    /// The nonce it carried.
    pub nonce: Option<String>,
}

/// `ath`: base64url SHA-256 of an access token.
pub fn access_token_hash(token: &str) -> String {
    b64_encode(ring::digest::digest(&ring::digest::SHA256, token.as_bytes()).as_ref())
}

/// The `htu` form of a URL: without query and fragment.
pub fn htu(url: &str) -> &str {
    let end = url.find(['?', '#']).unwrap_or(url.len());
    &url[..end]
}

/// Makes a proof for one request.
///
/// # Errors
/// [`ProtocolError::BadKey`] if signing fails.
#[allow(clippy::too_many_arguments)]
pub fn make_proof(
    key: &SigningKey,
    method: &str,
    url: &str,
    now: i64,
    access_token: Option<&str>,
    nonce: Option<&str>,
    rng: &dyn SecureRandom,
) -> Result<String, ProtocolError> {
    let mut id = [0u8; 16];
    rng.fill(&mut id)
        .map_err(|_| ProtocolError::BadKey("random source failed"))?;
    let claims = DpopClaims {
        jti: b64_encode(&id),
        htm: method.into(),
        htu: htu(url).into(),
        iat: now,
        ath: access_token.map(access_token_hash),
        nonce: nonce.map(str::to_owned),
    };
    key.sign(DPOP_TYP, &claims, true, rng)
}

/// Checks a proof for a request: ES256 with the public key in the header,
/// `dpop+jwt`, matching method and URL, fresh `iat`, `ath` matching the
/// access token presented (if any). Replay of `jti` and the nonce are the
/// server's to check with the returned values.
///
/// # Errors
/// The first [`ProtocolError`] found.
pub fn verify_proof(
    proof: &str,
    method: &str,
    url: &str,
    now: i64,
    access_token: Option<&str>,
) -> Result<VerifiedProof, ProtocolError> {
    let jws = parse_jws(proof)?;
    if jws.header.alg != "ES256" {
        return Err(ProtocolError::UnsupportedAlgorithm(jws.header.alg.clone()));
    }
    if jws.header.typ.as_deref() != Some(DPOP_TYP) {
        return Err(ProtocolError::WrongType(jws.header.typ.clone()));
    }
    if jws.header.crit.is_some()
        || jws.header.jku.is_some()
        || jws.header.x5u.is_some()
        || jws.header.x5c.is_some()
    {
        return Err(ProtocolError::ForbiddenHeader("crit, jku or x5u"));
    }
    let jwk_value = jws.header.jwk.clone().ok_or(ProtocolError::Malformed(
        "a DPoP proof carries its public key",
    ))?;
    let mut jwk: Jwk = serde_json::from_value(serde_json::json!({
        "kty": jwk_value.get("kty"), "crv": jwk_value.get("crv"),
        "x": jwk_value.get("x"), "y": jwk_value.get("y"), "kid": "dpop"
    }))
    .map_err(|_| ProtocolError::BadKey("the DPoP key is not an EC P-256 JWK"))?;
    if jwk_value.get("d").is_some() {
        return Err(ProtocolError::BadKey(
            "a DPoP header must not carry a private key",
        ));
    }
    jwk.use_ = None;
    verify_es256(&jwk, &jws)?;
    let claims: DpopClaims = payload_json(&jws)?;
    if claims.htm != method || claims.htu != htu(url) {
        return Err(ProtocolError::Malformed("the proof is for another request"));
    }
    // abs_diff: a hostile iat near i64::MIN must not overflow (or wrap past
    // the check in release builds).
    if claims.iat.abs_diff(now) > DPOP_MAX_SKEW_S.unsigned_abs() {
        return Err(if claims.iat > now {
            ProtocolError::IssuedInFuture {
                iat: claims.iat,
                now,
            }
        } else {
            ProtocolError::TooOld {
                iat: claims.iat,
                now,
            }
        });
    }
    if claims.jti.is_empty() || claims.jti.len() > 64 {
        return Err(ProtocolError::Malformed("a proof id is 1 to 64 bytes"));
    }
    match (access_token, &claims.ath) {
        (Some(token), Some(ath)) if *ath == access_token_hash(token) => {}
        (None, None) => {}
        _ => {
            return Err(ProtocolError::Malformed(
                "the proof does not match the access token",
            ));
        }
    }
    Ok(VerifiedProof {
        jkt: jwk.thumbprint(),
        jti: claims.jti,
        nonce: claims.nonce,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ring::rand::SystemRandom;

    #[test]
    fn a_proof_binds_key_method_url_time_and_token() {
        let rng = SystemRandom::new();
        let (key, _) = SigningKey::generate("device", &rng).unwrap();
        let (other, _) = SigningKey::generate("other", &rng).unwrap();
        let url = "https://bank.example/v1/chat?x=1";
        let proof = make_proof(&key, "POST", url, 1000, Some("tok"), None, &rng).unwrap();
        let ok = verify_proof(
            &proof,
            "POST",
            "https://bank.example/v1/chat",
            1010,
            Some("tok"),
        )
        .unwrap();
        assert_eq!(ok.jkt, key.jwk().thumbprint());
        assert_ne!(ok.jkt, other.jwk().thumbprint());
        assert!(verify_proof(&proof, "GET", url, 1000, Some("tok")).is_err());
        assert!(
            verify_proof(
                &proof,
                "POST",
                "https://evil.example/v1/chat",
                1000,
                Some("tok")
            )
            .is_err()
        );
        assert!(verify_proof(&proof, "POST", url, 2000, Some("tok")).is_err());
        assert!(verify_proof(&proof, "POST", url, 1000, Some("stolen-other-token")).is_err());
        assert!(verify_proof(&proof, "POST", url, 1000, None).is_err());
        let alert_style = key
            .sign(DPOP_TYP, &serde_json::json!({}), false, &rng)
            .unwrap();
        assert!(
            verify_proof(&alert_style, "POST", url, 1000, None).is_err(),
            "no jwk in header"
        );
    }
}
