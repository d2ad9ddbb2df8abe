//! Alert transcripts: an account's verified alerts, exported with the chain
//! of keys they verify against, for someone else (a fraud investigator, a
//! court, the customer's lawyer) to check without the device.
//!
//! A transcript carries the bank's keys as this device pinned them when it
//! linked, then every rotation statement the bank signed since, then the
//! alerts exactly as signed. Checking it offline proves only that the alerts
//! were signed by those keys or keys they rotated to: the file itself says
//! which bank the keys belong to, and anyone can write such a file with
//! their own key and a bank's name. [`check_with_bank`] ties the keys to
//! the bank by its published keys, fetched over TLS from the issuer the
//! transcript names. `docs/security.md` ("Transcripts") says exactly what
//! each check proves.

use serde::{Deserialize, Serialize};
use std::collections::{BTreeSet, HashSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use strongroom_core::AccountId;
use strongroom_core::protocol::ProtocolError;
use strongroom_core::protocol::chain::{KeyChain, KeyEpochs, thumbprints};
use strongroom_core::protocol::jose::Jwk;
use strongroom_core::protocol::verify::PinnedKeys;
use strongroom_store::{Millis, Verification};
use strongroom_vault::SecretKind;

use crate::ClientError;
use crate::net::BankHttp;
use crate::service::{Client, now_ms};

/// The format marker of the transcripts this build writes.
pub const TRANSCRIPT_FORMAT: &str = "strongroom-alert-transcript/2";

/// The format marker of the first transcripts: the keys in force when
/// exported and nothing else. Still read, with a loud warning, so an old
/// export is not lost; never presented as proving anything about the bank.
pub const TRANSCRIPT_FORMAT_1: &str = "strongroom-alert-transcript/1";

/// The largest transcript read, in bytes: far above any account's history
/// (100,000 alerts of about 1.5 KiB), so a hostile file cannot exhaust
/// memory.
pub const MAX_TRANSCRIPT_BYTES: u64 = 256 * 1024 * 1024;

/// A signed alert transcript (format 2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transcript {
    /// [`TRANSCRIPT_FORMAT`].
    pub format: String,
    /// The bank's issuer URL, as the device discovered it when linking.
    pub issuer: String,
    /// The bank's name as its metadata gave it (a label: not checked).
    pub bank_name: String,
    /// The customer's subject identifier every alert must be addressed to.
    pub audience: String,
    /// The RFC 7638 thumbprints of the keys at the start of the chain, for a
    /// reader to compare with what the bank publishes; recomputed and
    /// compared when checked.
    pub link_key_thumbprints: Vec<String>,
    /// The keys pinned at link time (`start.version` 0) and every rotation
    /// statement applied since, in order.
    pub key_chain: KeyChain,
    /// Every verified alert, exactly as signed (compact JWS).
    pub alerts: Vec<String>,
    /// When exported (ms since the epoch).
    pub exported_at: Millis,
}

/// Format 1, as the first exports wrote it.
#[derive(Deserialize)]
struct TranscriptV1 {
    issuer: String,
    bank_name: String,
    pinned_keys: PinnedKeys,
    alerts: Vec<String>,
}

/// A key, by its id (a label) and its RFC 7638 thumbprint (what identifies
/// it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KeyPrint {
    /// The key id.
    pub kid: String,
    /// The RFC 7638 SHA-256 thumbprint, base64url.
    pub thumbprint: String,
}

impl KeyPrint {
    fn of(keys: &[Jwk]) -> Vec<KeyPrint> {
        keys.iter()
            .map(|k| KeyPrint {
                kid: k.kid.clone(),
                thumbprint: k.thumbprint(),
            })
            .collect()
    }
}

/// An alert of a transcript that does not verify.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AlertFailure {
    /// Its position in the transcript, from 0.
    pub index: usize,
    /// Which check it failed (signature, key, audience, ...).
    pub reason: String,
}

/// What the bank's published keys, fetched online, say about a transcript.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BankCheck {
    /// The issuer whose metadata and keys were fetched.
    pub issuer: String,
    /// The keys it publishes now.
    pub published: Vec<KeyPrint>,
    /// How many alerts were signed by keys the bank vouches for.
    pub confirmed: usize,
    /// The positions of the alerts signed by keys it does not vouch for.
    pub unconfirmed: Vec<usize>,
}

/// The result of checking a transcript.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TranscriptCheck {
    /// 1 or 2.
    pub format: u32,
    /// The issuer the transcript names.
    pub issuer: String,
    /// The bank's name the transcript gives (not checked).
    pub bank_name: String,
    /// The customer the alerts are addressed to.
    pub audience: String,
    /// The keys at the start of the chain.
    pub start_keys: Vec<KeyPrint>,
    /// The rotation version of the start set: 0 when pinned at link time.
    pub start_version: u64,
    /// How many rotation statements the chain holds.
    pub rotations: usize,
    /// How many alerts the transcript holds.
    pub alerts: usize,
    /// The alerts that do not verify.
    pub failures: Vec<AlertFailure>,
    /// The online check, when one was made.
    pub bank: Option<BankCheck>,
}

impl TranscriptCheck {
    /// Whether every alert verified (offline).
    pub fn all_verified(&self) -> bool {
        self.failures.is_empty()
    }

    /// The thumbprints of the start keys, joined for a line of text.
    fn start_prints(&self) -> String {
        self.start_keys
            .iter()
            .map(|k| format!("{} ({})", k.thumbprint, k.kid))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// What the check proves, in plain words. It never says the alerts are
    /// the bank's unless the bank's published keys vouched for every one.
    pub fn proves(&self) -> String {
        let verified = self.alerts - self.failures.len();
        if let Some(bank) = &self.bank
            && bank.unconfirmed.is_empty()
            && self.failures.is_empty()
        {
            return format!(
                "{} of {} alerts are signed by keys that {} vouches for now: it publishes \
                 key(s) {} over TLS, and rotation statements signed by its keys connect them \
                 to the keys that signed the alerts. As far as that TLS certificate is \
                 trusted, these alerts came from {} and were addressed to {}.",
                verified,
                self.alerts,
                bank.issuer,
                bank.published
                    .iter()
                    .map(|k| k.thumbprint.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                bank.issuer,
                self.audience
            );
        }
        let whose = if self.format == 1 {
            "FORMAT 1, SELF-CONTAINED: the keys come from this same file, so this proves \
             NOTHING about the bank; anyone can make such a file with their own key. These \
             alerts were signed by the keys listed in the file"
                .to_owned()
        } else if self.start_version == 0 {
            format!(
                "These alerts were signed by the keys this device pinned when it linked to {} \
                 (thumbprint {}), or by keys those rotated to through the {} signed rotation \
                 statement(s) in this file",
                self.issuer,
                self.start_prints(),
                self.rotations
            )
        } else {
            format!(
                "These alerts were signed by the keys this device had pinned for {} at rotation \
                 {} (thumbprint {}; the device did not keep the chain from link time), or by \
                 keys those rotated to through the {} signed rotation statement(s) in this file",
                self.issuer,
                self.start_version,
                self.start_prints(),
                self.rotations
            )
        };
        let tie = "This does NOT show that those keys belong to the bank: the file names the \
                   bank itself. Check with --bank <issuer> (the bank's published keys, online) \
                   or compare the thumbprint with one the bank publishes.";
        match &self.bank {
            Some(bank) => format!(
                "{whose}, addressed to {}. Only {} of {} alerts are signed by keys {} vouches \
                 for now. {tie}",
                self.audience, bank.confirmed, self.alerts, bank.issuer
            ),
            None => format!(
                "{whose}, addressed to {} ({verified} of {} verify). {tie}",
                self.audience, self.alerts
            ),
        }
    }
}

/// A transcript parsed and its chain replayed.
struct Replayed {
    check: TranscriptCheck,
    epochs: KeyEpochs,
    /// The thumbprint of the key that signed each alert that verified.
    signers: Vec<Option<String>>,
}

fn bad(message: impl Into<String>) -> ClientError {
    ClientError::BadTranscript(message.into())
}

fn replay(bytes: &[u8], now_s: i64) -> Result<Replayed, ClientError> {
    #[derive(Deserialize)]
    struct Marker {
        format: String,
    }
    let marker: Marker = serde_json::from_slice(bytes)
        .map_err(|e| bad(format!("not a Strongroom transcript: {e}")))?;
    let (format, transcript) = match marker.format.as_str() {
        TRANSCRIPT_FORMAT => {
            let t: Transcript = serde_json::from_slice(bytes)
                .map_err(|e| bad(format!("not a format 2 transcript: {e}")))?;
            (2, t)
        }
        TRANSCRIPT_FORMAT_1 => {
            let t: TranscriptV1 = serde_json::from_slice(bytes)
                .map_err(|e| bad(format!("not a format 1 transcript: {e}")))?;
            let audience = t.pinned_keys.audience.clone().unwrap_or_default();
            let link_key_thumbprints = t.pinned_keys.keys.iter().map(Jwk::thumbprint).collect();
            (
                1,
                Transcript {
                    format: TRANSCRIPT_FORMAT_1.into(),
                    issuer: t.issuer,
                    bank_name: t.bank_name,
                    audience,
                    link_key_thumbprints,
                    key_chain: KeyChain {
                        start: t.pinned_keys,
                        rotations: Vec::new(),
                    },
                    alerts: t.alerts,
                    exported_at: 0,
                },
            )
        }
        other => {
            return Err(bad(format!(
                "unknown transcript format {other:?}; this build reads {TRANSCRIPT_FORMAT}"
            )));
        }
    };
    // The parts must agree: the chain is the one bank and one customer the
    // transcript names, and the thumbprints shown are the chain's own.
    let start = &transcript.key_chain.start;
    if start.issuer != transcript.issuer {
        return Err(bad(
            "the key chain is for another issuer than the transcript",
        ));
    }
    if start.audience.as_deref() != Some(transcript.audience.as_str()) {
        return Err(bad(
            "the key chain is for another customer than the transcript",
        ));
    }
    let prints: Vec<String> = start.keys.iter().map(Jwk::thumbprint).collect();
    if prints != transcript.link_key_thumbprints {
        return Err(bad(
            "the link-time key thumbprints do not match the link-time keys",
        ));
    }
    let epochs = transcript.key_chain.replay()?;
    let mut failures = Vec::new();
    let mut signers = Vec::with_capacity(transcript.alerts.len());
    let mut seen = HashSet::new();
    for (index, jws) in transcript.alerts.iter().enumerate() {
        match epochs.check_alert(jws, now_s) {
            Ok(ok) if !seen.insert(ok.alert.id.clone()) => {
                failures.push(AlertFailure {
                    index,
                    reason: ProtocolError::Replayed(ok.alert.id).to_string(),
                });
                signers.push(None);
            }
            Ok(ok) => signers.push(Some(ok.key.thumbprint())),
            Err(err) => {
                failures.push(AlertFailure {
                    index,
                    reason: why_not(&epochs, &err),
                });
                signers.push(None);
            }
        }
    }
    let check = TranscriptCheck {
        format,
        issuer: transcript.issuer.clone(),
        bank_name: transcript.bank_name.clone(),
        audience: transcript.audience.clone(),
        start_keys: KeyPrint::of(&start.keys),
        start_version: start.version,
        rotations: transcript.key_chain.rotations.len(),
        alerts: transcript.alerts.len(),
        failures,
        bank: None,
    };
    Ok(Replayed {
        check,
        epochs,
        signers,
    })
}

/// A failure in words; an unknown key that the chain held at another time
/// says so, since that is what a backdated or misdated alert looks like.
fn why_not(epochs: &KeyEpochs, err: &ProtocolError) -> String {
    if let ProtocolError::UnknownKey(Some(kid)) = err
        && epochs
            .epochs()
            .iter()
            .any(|e| e.keys.keys.iter().any(|k| &k.kid == kid))
    {
        return format!("signed with key {kid:?}, which was not in force at the alert's date");
    }
    err.to_string()
}

/// Checks a transcript offline: replays its chain of keys and checks every
/// alert against the set in force at its date, for the transcript's issuer
/// and audience. Age is not checked (old alerts stay provable).
///
/// # Errors
/// [`ClientError::BadTranscript`] when the file is not a transcript or its
/// parts contradict each other; [`ClientError::Protocol`] with
/// [`ProtocolError::BrokenKeyChain`] when a rotation statement is missing,
/// forged or out of order. Alerts that fail are listed in the result, not
/// errors.
pub fn verify_transcript(bytes: &[u8]) -> Result<TranscriptCheck, ClientError> {
    Ok(replay(bytes, now_ms() / 1000)?.check)
}

/// Checks a transcript offline, then against the keys `issuer` publishes
/// now: fetches its RFC 8414 metadata and its JWK Set over TLS. A key of the
/// chain is vouched for when the bank publishes it, or when a rotation
/// statement signed by a vouched key brings it in or names it as replaced
/// ([`KeyEpochs::vouched`]).
///
/// # Errors
/// As [`verify_transcript`]; [`ClientError::NotVouchedByBank`] when
/// `issuer` is not the transcript's issuer, or when some alert was signed by
/// a key the bank does not vouch for (a self-made transcript, or keys the
/// bank retired before the chain's newest statement signed by a key it
/// still publishes); network and TLS errors as such.
pub async fn check_with_bank(
    bytes: &[u8],
    http: &BankHttp,
    issuer: &str,
) -> Result<TranscriptCheck, ClientError> {
    let replayed = replay(bytes, now_ms() / 1000)?;
    let named = replayed.check.issuer.trim_end_matches('/').to_owned();
    if named != issuer.trim_end_matches('/') {
        return Err(ClientError::NotVouchedByBank {
            issuer: issuer.to_owned(),
            detail: format!("the transcript names another bank, {named}"),
        });
    }
    let metadata = http.discover(&named).await?;
    let jwks_uri = metadata.alert_keys_uri.as_deref().ok_or_else(|| {
        ClientError::BankProtocol("the bank publishes no alert keys (jwks_uri)".into())
    })?;
    let published = http.jwks(jwks_uri).await?;
    Ok(judge(replayed, &named, &published)?.check)
}

/// The online verdict, from the keys the bank publishes.
fn judge(mut replayed: Replayed, issuer: &str, published: &[Jwk]) -> Result<Replayed, ClientError> {
    let vouched = replayed.epochs.vouched(&thumbprints(published));
    let mut unconfirmed = Vec::new();
    // Alerts that failed offline are failures already, not counted here.
    for (index, signer) in replayed.signers.iter().enumerate() {
        if signer.as_ref().is_some_and(|t| !vouched.contains(t)) {
            unconfirmed.push(index);
        }
    }
    let total = replayed.signers.iter().flatten().count();
    let bank = BankCheck {
        issuer: issuer.to_owned(),
        published: KeyPrint::of(published),
        confirmed: total - unconfirmed.len(),
        unconfirmed: unconfirmed.clone(),
    };
    replayed.check.bank = Some(bank);
    let chain_keys: BTreeSet<String> = replayed
        .epochs
        .epochs()
        .iter()
        .flat_map(|e| e.keys.keys.iter().map(Jwk::thumbprint))
        .collect();
    // A chain with no key of the bank's is refused even with no alerts to
    // judge: it must never read as checked against the bank.
    let foreign = chain_keys.is_disjoint(&vouched);
    if unconfirmed.is_empty() && !foreign {
        return Ok(replayed);
    }
    let detail = if foreign {
        "none of the transcript's keys is one the bank publishes or one its signed rotation \
         statements name: nothing in it comes from this bank"
            .to_owned()
    } else {
        format!(
            "{} of {total} alerts were signed by keys the bank neither publishes now nor names \
             in a rotation statement signed by a key it publishes",
            unconfirmed.len()
        )
    };
    Err(ClientError::NotVouchedByBank {
        issuer: issuer.to_owned(),
        detail,
    })
}

impl Client {
    /// The signed transcript of an account's verified alerts, with the
    /// chain of keys from link time.
    ///
    /// # Errors
    /// A keychain or store error; [`ClientError::BadTranscript`] for a link
    /// that does not know its audience yet (it learns it at its next
    /// connection).
    pub fn transcript(&self, account: AccountId) -> Result<Transcript, ClientError> {
        self.with_device(|d| {
            let link = d
                .store()
                .bank_link(account)?
                .ok_or_else(|| ClientError::NotLinked(account.to_string()))?;
            let pinned = d
                .vault()
                .get(account, SecretKind::PinnedKeys)?
                .ok_or(ClientError::MissingAccountKey(account))?;
            let pinned: PinnedKeys = serde_json::from_slice(pinned.expose())
                .map_err(|_| ClientError::MissingAccountKey(account))?;
            let audience = pinned.audience.clone().ok_or_else(|| {
                bad(
                    "this link does not know its customer's identifier yet; connect to the \
                     bank once, then export again",
                )
            })?;
            // A link made before the chain was kept starts it at the set
            // pinned now; its version says so to whoever checks it.
            let (mut start, rotations) = match link.link_keys {
                Some(start) => (start, link.key_rotations),
                None => (pinned, Vec::new()),
            };
            // A link's audience never changes; one learnt after the chain
            // started belongs to the chain too.
            start.audience = Some(audience.clone());
            let alerts = d
                .store()
                .alerts(account, 100_000)?
                .items
                .into_iter()
                .filter(|a| matches!(a.details.verification, Verification::Verified { .. }))
                .map(|a| a.raw_jws)
                .collect();
            Ok(Transcript {
                format: TRANSCRIPT_FORMAT.into(),
                issuer: link.issuer,
                bank_name: link.bank_name,
                audience,
                link_key_thumbprints: start.keys.iter().map(Jwk::thumbprint).collect(),
                key_chain: KeyChain { start, rotations },
                alerts,
                exported_at: now_ms(),
            })
        })
    }
}

/// Writes `transcript` to a new file at `path`, readable and writable by
/// its owner only (0600 on Unix; elsewhere the folder's own permissions).
/// An existing file is never overwritten or truncated: its contents could
/// be someone else's, and a file opened for truncation keeps its old,
/// possibly wider, mode.
///
/// # Errors
/// [`ClientError::Export`] when the file exists or cannot be written; a
/// half-written file is removed.
pub fn write_transcript(path: &Path, transcript: &Transcript) -> Result<(), ClientError> {
    let export = |detail: String| ClientError::Export {
        path: path.to_owned(),
        detail,
    };
    let bytes = serde_json::to_vec_pretty(transcript).map_err(|e| export(e.to_string()))?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path).map_err(|e| {
        export(if e.kind() == std::io::ErrorKind::AlreadyExists {
            "a file of that name exists; it was left as it is".into()
        } else {
            e.to_string()
        })
    })?;
    if let Err(e) = file.write_all(&bytes).and_then(|()| file.sync_all()) {
        drop(file);
        let _ = std::fs::remove_file(path);
        return Err(export(e.to_string()));
    }
    Ok(())
}

/// Writes `transcript` into `folder` under a new name made from the account
/// and the time; returns the path.
///
/// # Errors
/// As [`write_transcript`], or the folder cannot be created.
pub fn export_to_folder(
    folder: &Path,
    account: AccountId,
    transcript: &Transcript,
) -> Result<PathBuf, ClientError> {
    std::fs::create_dir_all(folder).map_err(|e| ClientError::Export {
        path: folder.to_owned(),
        detail: e.to_string(),
    })?;
    let stem = format!("strongroom-transcript-{account}-{}", now_ms() / 1000);
    // Two exports in one second get distinct names rather than failing.
    for n in 0..100 {
        let name = if n == 0 {
            format!("{stem}.json")
        } else {
            format!("{stem}-{n}.json")
        };
        let path = folder.join(name);
        match write_transcript(&path, transcript) {
            Err(ClientError::Export { .. }) if path.exists() => continue,
            other => return other.map(|()| path),
        }
    }
    Err(ClientError::Export {
        path: folder.to_owned(),
        detail: "no free file name".into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_export_is_private_and_never_overwrites() {
        let dir = tempfile::tempdir().unwrap();
        let t = Transcript {
            format: TRANSCRIPT_FORMAT.into(),
            issuer: "https://bank.example".into(),
            bank_name: "Bank".into(),
            audience: "c".into(),
            link_key_thumbprints: Vec::new(),
            key_chain: KeyChain {
                start: PinnedKeys {
                    issuer: "https://bank.example".into(),
                    keys: Vec::new(),
                    version: 0,
                    audience: Some("c".into()),
                },
                rotations: Vec::new(),
            },
            alerts: Vec::new(),
            exported_at: 0,
        };
        let path = dir.path().join("t.json");
        std::fs::write(&path, b"someone else's").unwrap();
        assert!(matches!(
            write_transcript(&path, &t),
            Err(ClientError::Export { .. })
        ));
        assert_eq!(std::fs::read(&path).unwrap(), b"someone else's");
        let a = export_to_folder(dir.path(), AccountId::from_stored(1).unwrap(), &t).unwrap();
        let b = export_to_folder(dir.path(), AccountId::from_stored(1).unwrap(), &t).unwrap();
        assert_ne!(a, b);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&a).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{mode:o}");
        }
        assert!(matches!(
            verify_transcript(b"{\"format\":\"strongroom-alert-transcript/9\"}"),
            Err(ClientError::BadTranscript(_))
        ));
    }
}
