//! `verify-transcript`: what an alert transcript proves, checked offline
//! (which keys signed the alerts) or against the keys the bank publishes.

use strongroom_client::transcript::{self, TranscriptCheck};
use strongroom_client::{ClientError, net::BankHttp};
use strongroom_l10n::Arg;

use super::voice::{Voice, num};
use super::{clean, say};

/// Reads, checks and reports the transcript at `path`; an error when any
/// alert fails to verify.
pub(super) async fn verify_transcript(
    json: bool,
    path: &str,
    bank: Option<&str>,
    ca: Option<&std::path::Path>,
    voice: &Voice,
) -> Result<(), ClientError> {
    use std::io::Read;
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| {
            f.take(transcript::MAX_TRANSCRIPT_BYTES + 1)
                .read_to_end(&mut bytes)
        })
        .map_err(|e| {
            ClientError::BadTranscript(voice.format(
                "cli-transcript-unreadable",
                &[
                    ("path", Arg::Str(path)),
                    ("error", Arg::Str(&e.to_string())),
                ],
            ))
        })?;
    if bytes.len() as u64 > transcript::MAX_TRANSCRIPT_BYTES {
        return Err(ClientError::BadTranscript(
            voice.format("cli-transcript-too-large", &[("path", Arg::Str(path))]),
        ));
    }
    let check = match bank {
        None => transcript::verify_transcript(&bytes)?,
        Some(issuer) => {
            let http = BankHttp::new(ca)?;
            transcript::check_with_bank(&bytes, &http, issuer).await?
        }
    };
    let keys = voice.list(check.start_keys.iter().map(|k| {
        voice.format(
            "cli-transcript-key",
            &[
                ("thumbprint", Arg::Str(&k.thumbprint)),
                ("kid", Arg::Str(&clean(&k.kid))),
            ],
        )
    }));
    let pinned = if check.format == 1 {
        voice.text("cli-transcript-pinned-format-1")
    } else if check.start_version == 0 {
        voice.text("cli-transcript-pinned-at-link")
    } else {
        voice.format(
            "cli-transcript-pinned-at-rotation",
            &[("version", num(check.start_version))],
        )
    };
    say(
        json,
        &serde_json::json!({
            "type": "transcript",
            "format": check.format,
            "issuer": check.issuer,
            "audience": check.audience,
            "link_keys": check.start_keys,
            "start_version": check.start_version,
            "rotations": check.rotations,
            "alerts": check.alerts,
            "failed": check.failures.len(),
            "bank": check.bank,
            "proves": check.proves(),
        }),
        &voice.format(
            "cli-transcript",
            &[
                ("format", num(check.format)),
                ("issuer", Arg::Str(&clean(&check.issuer))),
                ("audience", Arg::Str(&clean(&check.audience))),
                ("pinned", Arg::Str(&pinned)),
                ("keys", Arg::Str(&keys)),
                ("rotations", num(check.rotations)),
                ("verified", num(check.alerts - check.failures.len())),
                ("alerts", num(check.alerts)),
            ],
        ),
    );
    for failure in &check.failures {
        say(
            json,
            &serde_json::json!({"type": "transcript_failure", "index": failure.index, "reason": failure.reason}),
            &voice.format(
                "cli-transcript-failure",
                &[
                    ("index", num(failure.index)),
                    ("reason", Arg::Str(&clean(&failure.reason))),
                ],
            ),
        );
    }
    if !json {
        let proves = proves(voice, &check);
        say(
            json,
            &serde_json::Value::Null,
            &voice.format("cli-transcript-proves", &[("proves", Arg::Str(&proves))]),
        );
    }
    if check.all_verified() {
        Ok(())
    } else {
        Err(ClientError::BadTranscript(voice.format(
            "cli-transcript-failed",
            &[("count", num(check.failures.len()))],
        )))
    }
}

/// What the check proves, in plain words: [`TranscriptCheck::proves`] (which
/// the JSON carries, in English) in the customer's language. It never says
/// the alerts are the bank's unless the bank's published keys vouched for
/// every one.
fn proves(voice: &Voice, check: &TranscriptCheck) -> String {
    let verified = check.alerts - check.failures.len();
    let (issuer, audience) = (clean(&check.issuer), clean(&check.audience));
    if let Some(bank) = &check.bank
        && bank.unconfirmed.is_empty()
        && check.failures.is_empty()
    {
        let published = voice.list(bank.published.iter().map(|k| k.thumbprint.clone()));
        return clean(&voice.format(
            "cli-proves-bank",
            &[
                ("verified", num(verified)),
                ("alerts", num(check.alerts)),
                ("bank", Arg::Str(&clean(&bank.issuer))),
                ("published", Arg::Str(&published)),
                ("audience", Arg::Str(&audience)),
            ],
        ));
    }
    let prints = voice.list(check.start_keys.iter().map(|k| {
        voice.format(
            "cli-proves-print",
            &[
                ("thumbprint", Arg::Str(&k.thumbprint)),
                ("kid", Arg::Str(&clean(&k.kid))),
            ],
        )
    }));
    let whose = if check.format == 1 {
        voice.text("cli-proves-whose-format-1")
    } else if check.start_version == 0 {
        voice.format(
            "cli-proves-whose-link",
            &[
                ("issuer", Arg::Str(&issuer)),
                ("prints", Arg::Str(&prints)),
                ("rotations", num(check.rotations)),
            ],
        )
    } else {
        voice.format(
            "cli-proves-whose-rotation",
            &[
                ("issuer", Arg::Str(&issuer)),
                ("version", num(check.start_version)),
                ("prints", Arg::Str(&prints)),
                ("rotations", num(check.rotations)),
            ],
        )
    };
    let tie = voice.text("cli-proves-tie");
    clean(&match &check.bank {
        Some(bank) => voice.format(
            "cli-proves-checked",
            &[
                ("whose", Arg::Str(&whose)),
                ("audience", Arg::Str(&audience)),
                ("confirmed", num(bank.confirmed)),
                ("alerts", num(check.alerts)),
                ("bank", Arg::Str(&clean(&bank.issuer))),
                ("tie", Arg::Str(&tie)),
            ],
        ),
        None => voice.format(
            "cli-proves-offline",
            &[
                ("whose", Arg::Str(&whose)),
                ("audience", Arg::Str(&audience)),
                ("verified", num(verified)),
                ("alerts", num(check.alerts)),
                ("tie", Arg::Str(&tie)),
            ],
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use strongroom_client::transcript::{AlertFailure, BankCheck, KeyPrint};
    use strongroom_l10n::Lang;

    fn check(format: u32, start_version: u64, bank: Option<BankCheck>) -> TranscriptCheck {
        TranscriptCheck {
            format,
            issuer: "https://bank.example".into(),
            bank_name: "Demo Bank".into(),
            audience: "customer-1".into(),
            start_keys: vec![
                KeyPrint {
                    thumbprint: "tp1".into(),
                    kid: "k1".into(),
                },
                KeyPrint {
                    thumbprint: "tp2".into(),
                    kid: "k2".into(),
                },
            ],
            start_version,
            rotations: 2,
            alerts: 3,
            failures: vec![AlertFailure {
                index: 1,
                reason: "bad signature".into(),
            }],
            bank,
        }
    }

    /// The English text is the library's own (which the JSON carries), in
    /// every case it distinguishes.
    #[test]
    fn the_english_verdict_is_the_library_s_word_for_word() {
        let voice = Voice::of(Lang::En);
        let bank = BankCheck {
            issuer: "https://bank.example".into(),
            published: vec![KeyPrint {
                thumbprint: "tp3".into(),
                kid: "k3".into(),
            }],
            confirmed: 2,
            unconfirmed: vec![1],
        };
        let mut all_good = check(2, 0, None);
        all_good.failures.clear();
        all_good.bank = Some(BankCheck {
            unconfirmed: vec![],
            ..bank.clone()
        });
        for check in [
            check(1, 0, None),
            check(2, 0, None),
            check(2, 4, None),
            check(2, 0, Some(bank)),
            all_good,
        ] {
            assert_eq!(proves(&voice, &check), check.proves());
        }
    }

    #[test]
    fn a_self_made_transcript_says_so_in_german_and_french() {
        let de = proves(&Voice::of(Lang::De), &check(1, 0, None));
        assert!(de.contains("beweist dies NICHTS über die Bank"), "{de}");
        let fr = proves(&Voice::of(Lang::Fr), &check(1, 0, None));
        assert!(fr.contains("ne prouve RIEN sur la banque"), "{fr}");
    }
}
