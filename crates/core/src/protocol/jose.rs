//! The small part of JOSE that Strongroom speaks: JWS compact serialization
//! with ES256 (ECDSA P-256 with SHA-256, RFC 7518 section 3.4) and EC public
//! keys as JWK (RFC 7517). Nothing else is accepted: no `none`, no HMAC, no
//! RSA, no embedded keys (`jwk`, `jku`, `x5u` headers are refused).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::rand::SecureRandom;
use ring::signature::{self, EcdsaKeyPair, KeyPair};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::ProtocolError;

/// The largest compact JWS accepted, in bytes. Alerts are small; anything
/// larger is refused before any parsing.
pub const MAX_JWS_BYTES: usize = 16 * 1024;

/// Decodes unpadded base64url.
pub fn b64_decode(text: &str) -> Result<Vec<u8>, ProtocolError> {
    URL_SAFE_NO_PAD
        .decode(text)
        .map_err(|_| ProtocolError::Malformed("invalid base64url"))
}

/// Encodes as unpadded base64url.
pub fn b64_encode(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A JWS protected header, as far as Strongroom reads it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JwsHeader {
    /// The signature algorithm. Only `ES256` verifies.
    pub alg: String,
    /// The id of the signing key among the pinned keys.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kid: Option<String>,
    /// The media type of the payload, for example `secevent+jwt`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub typ: Option<String>,
    /// Headers that would let the token choose its own key: must be absent.
    /// Present with any value, `null` included, is `Some` (see
    /// [`present`]).
    #[serde(default, skip_serializing, deserialize_with = "present")]
    pub jwk: Option<serde_json::Value>,
    /// As `jwk`.
    #[serde(default, skip_serializing, deserialize_with = "present")]
    pub jku: Option<serde_json::Value>,
    /// As `jwk`.
    #[serde(default, skip_serializing, deserialize_with = "present")]
    pub x5u: Option<serde_json::Value>,
    /// As `jwk`: a certificate chain that would vouch for its own key.
    #[serde(default, skip_serializing, deserialize_with = "present")]
    pub x5c: Option<serde_json::Value>,
    /// Critical extensions: none are understood, so any makes it invalid,
    /// `"crit": null` included.
    #[serde(default, skip_serializing, deserialize_with = "present")]
    pub crit: Option<serde_json::Value>,
}

/// A header member that is there, whatever its value: serde would read
/// `"crit": null` as absent, and a verifier must not (RFC 7515 section 4.1.11
/// allows no null; a header that carries one is not one we understand).
fn present<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<serde_json::Value>, D::Error> {
    serde_json::Value::deserialize(deserializer).map(Some)
}

/// A compact JWS split into its parts, signature not yet checked.
#[derive(Debug, Clone)]
pub struct Jws<'a> {
    /// The decoded protected header.
    pub header: JwsHeader,
    /// The decoded payload bytes.
    pub payload: Vec<u8>,
    /// `base64url(header) "." base64url(payload)`: what the signature covers.
    pub signing_input: &'a str,
    /// The raw signature (`r || s`, 64 bytes for ES256).
    pub signature: Vec<u8>,
}

/// Splits and decodes a compact JWS. Checks shape only, not the signature.
///
/// # Errors
/// [`ProtocolError::TooLarge`] or [`ProtocolError::Malformed`].
pub fn parse_jws(compact: &str) -> Result<Jws<'_>, ProtocolError> {
    if compact.len() > MAX_JWS_BYTES {
        return Err(ProtocolError::TooLarge {
            len: compact.len(),
            max: MAX_JWS_BYTES,
        });
    }
    let mut parts = compact.split('.');
    let (Some(h), Some(p), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(ProtocolError::Malformed(
            "a compact JWS has exactly three parts",
        ));
    };
    let header: JwsHeader = serde_json::from_slice(&b64_decode(h)?)
        .map_err(|_| ProtocolError::Malformed("the JWS header is not the expected JSON"))?;
    let payload = b64_decode(p)?;
    let signature = b64_decode(s)?;
    let signing_input = &compact[..h.len() + 1 + p.len()];
    Ok(Jws {
        header,
        payload,
        signing_input,
        signature,
    })
}

/// An EC P-256 public key as a JWK.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Jwk {
    /// Must be `EC`.
    pub kty: String,
    /// Must be `P-256`.
    pub crv: String,
    /// The x coordinate, base64url, 32 bytes.
    pub x: String,
    /// The y coordinate, base64url, 32 bytes.
    pub y: String,
    /// The key id.
    pub kid: String,
    /// `sig` when present.
    #[serde(default, rename = "use", skip_serializing_if = "Option::is_none")]
    pub use_: Option<String>,
    /// `ES256` when present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alg: Option<String>,
}

/// A JWK Set (RFC 7517 section 5).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct JwkSet {
    /// The keys.
    pub keys: Vec<Jwk>,
}

impl Jwk {
    /// The JWK of a P-256 public key in uncompressed form (`04 || x || y`).
    ///
    /// # Errors
    /// [`ProtocolError::BadKey`] if the bytes are not an uncompressed point.
    pub fn from_public_key(kid: &str, point: &[u8]) -> Result<Self, ProtocolError> {
        if point.len() != 65 || point[0] != 4 {
            return Err(ProtocolError::BadKey("not an uncompressed P-256 point"));
        }
        Ok(Jwk {
            kty: "EC".into(),
            crv: "P-256".into(),
            x: b64_encode(&point[1..33]),
            y: b64_encode(&point[33..]),
            kid: kid.into(),
            use_: Some("sig".into()),
            alg: Some("ES256".into()),
        })
    }

    /// The uncompressed point `04 || x || y`, checked for shape.
    ///
    /// # Errors
    /// [`ProtocolError::BadKey`] for anything but a P-256 signing key.
    pub fn public_point(&self) -> Result<Vec<u8>, ProtocolError> {
        if self.kty != "EC" || self.crv != "P-256" {
            return Err(ProtocolError::BadKey("only EC P-256 keys are accepted"));
        }
        if self.use_.as_deref().is_some_and(|u| u != "sig")
            || self.alg.as_deref().is_some_and(|a| a != "ES256")
        {
            return Err(ProtocolError::BadKey("the key is not an ES256 signing key"));
        }
        let x = b64_decode(&self.x)?;
        let y = b64_decode(&self.y)?;
        if x.len() != 32 || y.len() != 32 {
            return Err(ProtocolError::BadKey("P-256 coordinates are 32 bytes"));
        }
        let mut point = Vec::with_capacity(65);
        point.push(4);
        point.extend_from_slice(&x);
        point.extend_from_slice(&y);
        Ok(point)
    }

    /// The RFC 7638 thumbprint (SHA-256, base64url): used to bind DPoP tokens.
    pub fn thumbprint(&self) -> String {
        // Members in lexicographic order, no whitespace (RFC 7638 section 3).
        let canonical = format!(
            r#"{{"crv":"{}","kty":"{}","x":"{}","y":"{}"}}"#,
            self.crv, self.kty, self.x, self.y
        );
        b64_encode(ring::digest::digest(&ring::digest::SHA256, canonical.as_bytes()).as_ref())
    }
}

/// Checks an ES256 signature over a JWS against one public key.
pub fn verify_es256(jwk: &Jwk, jws: &Jws<'_>) -> Result<(), ProtocolError> {
    let point = jwk.public_point()?;
    signature::UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_FIXED, point)
        .verify(jws.signing_input.as_bytes(), &jws.signature)
        .map_err(|_| ProtocolError::BadSignature)
}

/// An ES256 signing key: a bank's alert key, or a device's DPoP key.
pub struct SigningKey {
    pair: EcdsaKeyPair,
    kid: String,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    /// Makes a new key; returns it with its PKCS#8 document (a secret: keep
    /// it in the keychain or the gateway's key store, never in clear).
    ///
    /// # Errors
    /// [`ProtocolError::BadKey`] if the random source fails.
    pub fn generate(
        kid: &str,
        rng: &dyn SecureRandom,
    ) -> Result<(Self, crate::Sensitive<Vec<u8>>), ProtocolError> {
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&signature::ECDSA_P256_SHA256_FIXED_SIGNING, rng)
            .map_err(|_| ProtocolError::BadKey("could not generate a P-256 key"))?;
        let doc = crate::Sensitive::new(pkcs8.as_ref().to_vec());
        Ok((SigningKey::from_pkcs8(kid, doc.expose(), rng)?, doc))
    }

    /// Loads a key from its PKCS#8 document.
    ///
    /// # Errors
    /// [`ProtocolError::BadKey`] if the document is not a P-256 key.
    pub fn from_pkcs8(
        kid: &str,
        pkcs8: &[u8],
        rng: &dyn SecureRandom,
    ) -> Result<Self, ProtocolError> {
        let pair =
            EcdsaKeyPair::from_pkcs8(&signature::ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8, rng)
                .map_err(|_| ProtocolError::BadKey("not a P-256 PKCS#8 key"))?;
        Ok(SigningKey {
            pair,
            kid: kid.into(),
        })
    }

    /// The key id.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The public key as a JWK.
    pub fn jwk(&self) -> Jwk {
        // The pair's public key is always an uncompressed P-256 point.
        Jwk::from_public_key(&self.kid, self.pair.public_key().as_ref()).unwrap_or_else(|_| Jwk {
            kty: "EC".into(),
            crv: "P-256".into(),
            x: String::new(),
            y: String::new(),
            kid: self.kid.clone(),
            use_: None,
            alg: None,
        })
    }

    /// Signs `claims` as a compact JWS with `typ`, and, when `embed_jwk` is
    /// set, the public key in the header (DPoP proofs need it, RFC 9449;
    /// alerts must not carry it).
    ///
    /// # Errors
    /// [`ProtocolError::BadKey`] if signing fails.
    pub fn sign<T: Serialize>(
        &self,
        typ: &str,
        claims: &T,
        embed_jwk: bool,
        rng: &dyn SecureRandom,
    ) -> Result<String, ProtocolError> {
        let mut header = serde_json::json!({ "alg": "ES256", "typ": typ });
        if embed_jwk {
            let jwk = self.jwk();
            header["jwk"] =
                serde_json::json!({ "kty": jwk.kty, "crv": jwk.crv, "x": jwk.x, "y": jwk.y });
        } else {
            header["kid"] = serde_json::Value::String(self.kid.clone());
        }
        let header = b64_encode(header.to_string().as_bytes());
        let payload = serde_json::to_vec(claims)
            .map_err(|_| ProtocolError::Malformed("claims do not serialize"))?;
        let input = format!("{header}.{}", b64_encode(&payload));
        let sig = self
            .pair
            .sign(rng, input.as_bytes())
            .map_err(|_| ProtocolError::BadKey("signing failed"))?;
        Ok(format!("{input}.{}", b64_encode(sig.as_ref())))
    }
}

/// Decodes a payload as JSON of type `T`.
pub(crate) fn payload_json<T: DeserializeOwned>(jws: &Jws<'_>) -> Result<T, ProtocolError> {
    serde_json::from_slice(&jws.payload)
        .map_err(|_| ProtocolError::Malformed("the payload is not the expected JSON"))
}
