//! `strongroom-cli`: Strongroom without a window, for bank staff and
//! automation. It uses the same client core, store and keychain as the app,
//! so an account linked here is linked in the app too (not both at once: the
//! store admits one process).

use std::path::PathBuf;
use std::process::ExitCode;
use strongroom_client::{
    AccountSummary, AlertView, Client, ClientError, ClientEvent, Device, FraudAnswerValue,
    net::BankHttp,
};
use strongroom_core::AccountId;
use strongroom_vault::Vault;

const USAGE: &str = "\
Usage: strongroom-cli [--data-dir DIR] [--ca FILE] [--json] <command>

Commands:
  link <issuer-url>              Link a bank account (approve the code at your bank)
  accounts                       List linked accounts
  alerts [<account>] [--limit N] List alerts, newest first
  answer <alert-id> me|not-me    Answer a fraud check
  chat <account> <text>          Send a message to the bank's staff
  watch                          Stay connected and print alerts and messages live
  unlink <account>               Revoke the link at the bank and erase it here
  export-transcript [<account>] [--out FILE]
                                 Export the account's signed alerts and the chain
                                 of the bank's keys since linking (a new file, 0600)
  verify-transcript [--bank <issuer>] <file>
                                 Check an alert transcript: offline it proves only
                                 which keys signed the alerts; --bank also checks
                                 them against the keys the bank publishes (online)

<account> is an account id, or the bank's name or issuer URL; it may be left
out of `alerts` when one account is linked.

Options and environment:
  --data-dir DIR   (STRONGROOM_DATA_DIR) where the encrypted history lives
  --ca FILE        (STRONGROOM_CA_FILE) also trust this CA, for pilot and demo banks
  --json           one JSON object per line instead of text
  STRONGROOM_KEYCHAIN_SERVICE  keychain service name (default \"strongroom\")

Exit codes: 0 done, 2 usage, 3 keychain, 4 network or TLS, 5 the bank refused
or broke the protocol, 6 link denied or expired, 7 link revoked, 1 other.";

struct Options {
    data_dir: PathBuf,
    ca: Option<PathBuf>,
    json: bool,
    command: Vec<String>,
}

fn parse_args() -> Result<Options, String> {
    let mut options = Options {
        data_dir: std::env::var_os("STRONGROOM_DATA_DIR")
            .map_or_else(strongroom_client::app::default_data_dir, PathBuf::from),
        ca: std::env::var_os("STRONGROOM_CA_FILE").map(PathBuf::from),
        json: false,
        command: Vec::new(),
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--data-dir" => {
                options.data_dir = args.next().ok_or("--data-dir needs a folder")?.into();
            }
            "--ca" => options.ca = Some(args.next().ok_or("--ca needs a file")?.into()),
            "--json" => options.json = true,
            "-h" | "--help" => return Err(String::new()),
            _ => options.command.push(arg),
        }
    }
    if options.command.is_empty() {
        return Err(String::new());
    }
    Ok(options)
}

fn exit_code(err: &ClientError) -> u8 {
    match err {
        ClientError::Vault(_) | ClientError::MasterKeyMissing(_) => 3,
        ClientError::Network { .. } | ClientError::Tls(_) => 4,
        ClientError::BankProtocol(_)
        | ClientError::Refused { .. }
        | ClientError::OAuth { .. }
        | ClientError::Protocol(_) => 5,
        ClientError::LinkDenied | ClientError::LinkExpired => 6,
        ClientError::LinkRevoked => 7,
        ClientError::NotLinked(_) | ClientError::UnknownAlert(_) => 2,
        ClientError::BadTranscript(_) | ClientError::NotVouchedByBank { .. } => 5,
        _ => 1,
    }
}

/// Prints a line: JSON when asked, else the text.
fn say(json: bool, value: &serde_json::Value, text: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    // A closed stdout (the reader went away) is not worth a panic.
    let _ = if json {
        writeln!(out, "{value}")
    } else {
        writeln!(out, "{text}")
    };
    let _ = out.flush();
}

/// Text from a bank or a forger, made safe for a terminal: every control
/// character (C0, DEL, C1 such as U+009B CSI) becomes a space, so no escape
/// sequence can redraw the screen (for example over a quarantine badge);
/// every bidirectional or invisible format character (U+202E...) becomes
/// U+FFFD, so no amount reads reversed (strongroom_core::text).
fn clean(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_control() {
                ' '
            } else if strongroom_core::text::is_spoofing_char(c) {
                strongroom_core::text::REPLACEMENT
            } else {
                c
            }
        })
        .collect()
}

/// Digits after the decimal point for an ISO 4217 currency.
fn minor_digits(currency: &str) -> u32 {
    match currency {
        "BIF" | "CLP" | "DJF" | "GNF" | "ISK" | "JPY" | "KMF" | "KRW" | "PYG" | "RWF" | "UGX"
        | "UYI" | "VND" | "VUV" | "XAF" | "XOF" | "XPF" => 0,
        "BHD" | "IQD" | "JOD" | "KWD" | "LYD" | "OMR" | "TND" => 3,
        _ => 2,
    }
}

fn money(alert: &AlertView) -> String {
    match (alert.amount_minor, &alert.currency) {
        (Some(minor), Some(currency)) => {
            let sign = if minor < 0 { "-" } else { "" };
            let minor = minor.unsigned_abs();
            let currency = clean(currency);
            match minor_digits(&currency) {
                0 => format!(" {sign}{minor} {currency}"),
                digits => {
                    let unit = 10u64.pow(digits);
                    format!(
                        " {sign}{}.{:0width$} {currency}",
                        minor / unit,
                        minor % unit,
                        width = digits as usize
                    )
                }
            }
        }
        _ => String::new(),
    }
}

fn alert_line(bank: &str, alert: &AlertView) -> String {
    let badge = if alert.verified {
        format!("[verified: {bank}]")
    } else {
        "[QUARANTINED: not verified, not from your bank]".to_owned()
    };
    let answer = match alert.answer {
        Some(strongroom_store::FraudAnswer::ThisWasMe) => " (answered: this was me)",
        Some(strongroom_store::FraudAnswer::NotMe) => " (answered: this wasn't me)",
        None if alert.kind == "fraud_check" && alert.verified => " (awaiting your answer)",
        None => "",
    };
    format!(
        "{badge} {} {}{}{answer}  id={}",
        clean(&alert.kind),
        clean(&alert.text),
        money(alert),
        clean(&alert.id)
    )
}

fn find_account(
    accounts: &[AccountSummary],
    name: Option<&str>,
) -> Result<AccountSummary, ClientError> {
    let found: Vec<&AccountSummary> = match name {
        None => accounts.iter().collect(),
        Some(name) => accounts
            .iter()
            .filter(|a| {
                name.parse::<AccountId>().is_ok_and(|id| id == a.id)
                    || a.bank_name.eq_ignore_ascii_case(name)
                    || a.issuer.trim_end_matches('/') == name.trim_end_matches('/')
            })
            .collect(),
    };
    match found.as_slice() {
        [one] => Ok((*one).clone()),
        [] => Err(ClientError::NotLinked(
            name.unwrap_or("(none linked)").to_owned(),
        )),
        _ => Err(ClientError::NotLinked(format!(
            "{}: several accounts match; use the account id",
            name.unwrap_or("")
        ))),
    }
}

async fn run(options: Options) -> Result<(), ClientError> {
    let vault = match std::env::var("STRONGROOM_KEYCHAIN_SERVICE") {
        Ok(service) if !service.is_empty() => Vault::with_service(service),
        _ => Vault::new(),
    };
    let json = options.json;
    let command: Vec<&str> = options.command.iter().map(String::as_str).collect();
    if let ["verify-transcript", rest @ ..] = command.as_slice() {
        // No keychain, no store; the network only with --bank.
        let (bank, path) = match rest {
            [path] => (None, *path),
            ["--bank", issuer, path] | [path, "--bank", issuer] => (Some(*issuer), *path),
            _ => {
                eprintln!("{USAGE}");
                return Err(ClientError::BadTranscript(
                    "usage: verify-transcript [--bank <issuer>] <file>".into(),
                ));
            }
        };
        return verify_transcript(json, path, bank, options.ca.as_deref()).await;
    }
    let device = Device::open(&options.data_dir, vault)?;
    // Damage found at unlock is always said (on stderr, so the command's
    // own output stays parseable); the rest of the history still works.
    for damage in device.damage() {
        if json {
            eprintln!(
                "{}",
                serde_json::json!({"type": "store_damage", "damage": damage})
            );
        } else {
            eprintln!("warning: {}", damage.summary());
        }
    }
    let http = BankHttp::new(options.ca.as_deref())?;
    let client = Client::new(device, http);
    match command.as_slice() {
        ["link", issuer] => {
            let pending = client.start_link(issuer).await?;
            let link = pending
                .verification_uri_complete()
                .unwrap_or(pending.verification_uri());
            say(
                json,
                &serde_json::json!({
                    "type": "link_pending",
                    "bank": pending.bank_name(),
                    "user_code": pending.user_code(),
                    "verification_uri": pending.verification_uri(),
                    "verification_uri_complete": pending.verification_uri_complete(),
                    "scope": pending.scope(),
                }),
                &format!(
                    "To link {}, open {link}\nand confirm the code {}\n\
                     {} will share with this device: {} (alerts, and chat with its staff).\n\
                     Waiting for your approval...",
                    clean(&pending.bank_name()),
                    clean(pending.user_code()),
                    clean(&pending.bank_name()),
                    pending.scope()
                ),
            );
            let account = client.finish_link(pending).await?;
            let summary = find_account(&client.accounts()?, Some(&account.to_string()))?;
            say(
                json,
                &serde_json::json!({"type": "linked", "account": account.to_string(), "bank": summary.bank_name}),
                &format!("Linked {} as account {account}.", clean(&summary.bank_name)),
            );
        }
        ["accounts"] => {
            for a in client.accounts()? {
                say(
                    json,
                    &serde_json::json!({"type": "account", "account": a.id.to_string(), "bank": a.bank_name, "issuer": a.issuer, "linked_at": a.linked_at, "flags": a.flags}),
                    &format!("{}  {}  {}", a.id, clean(&a.bank_name), clean(&a.issuer)),
                );
            }
        }
        ["alerts", rest @ ..] => {
            let mut limit = 50usize;
            let mut name = None;
            let mut rest = rest.iter();
            while let Some(arg) = rest.next() {
                if *arg == "--limit" {
                    limit = rest
                        .next()
                        .and_then(|n| n.parse().ok())
                        .ok_or_else(|| ClientError::NotLinked("--limit needs a number".into()))?;
                } else {
                    name = Some(*arg);
                }
            }
            let account = find_account(&client.accounts()?, name)?;
            for alert in client.alerts(account.id, limit)? {
                let line = alert_line(&clean(&account.bank_name), &alert);
                say(
                    json,
                    &serde_json::json!({"type": "alert", "account": account.id.to_string(), "alert": alert}),
                    &line,
                );
            }
        }
        ["answer", alert_id, answer] => {
            let answer = match *answer {
                "me" => FraudAnswerValue::Me,
                "not-me" => FraudAnswerValue::NotMe,
                _ => {
                    return Err(ClientError::UnknownAlert(format!(
                        "{answer}: answer `me` or `not-me`"
                    )));
                }
            };
            let mut last = ClientError::UnknownAlert((*alert_id).to_owned());
            for account in client.accounts()? {
                match client
                    .answer_fraud_check(account.id, alert_id, answer)
                    .await
                {
                    Ok(()) => {
                        say(
                            json,
                            &serde_json::json!({"type": "answered", "alert_id": alert_id, "answer": answer}),
                            &format!(
                                "Your answer was sent to {} and recorded.",
                                account.bank_name
                            ),
                        );
                        return Ok(());
                    }
                    Err(ClientError::UnknownAlert(_)) => {}
                    Err(other) => last = other,
                }
            }
            return Err(last);
        }
        ["chat", name, text @ ..] if !text.is_empty() => {
            let account = find_account(&client.accounts()?, Some(name))?;
            let body = text.join(" ");
            let client_id = client.send_chat(account.id, &body)?;
            let sent = client.drain_outbox(account.id).await.unwrap_or(0);
            say(
                json,
                &serde_json::json!({"type": "chat", "client_id": client_id, "sent": sent > 0}),
                if sent > 0 {
                    "Sent."
                } else {
                    "Queued: it will be sent when the bank is reachable (run `watch`)."
                },
            );
        }
        ["watch"] => {
            let accounts = client.accounts()?;
            let names: std::collections::HashMap<AccountId, String> = accounts
                .iter()
                .map(|a| (a.id, clean(&a.bank_name)))
                .collect();
            let mut events = client.subscribe();
            let _tasks = client.run_all()?;
            say(
                json,
                &serde_json::json!({"type": "watching", "accounts": accounts.len()}),
                &format!(
                    "Watching {} linked account(s). Ctrl-C to stop.",
                    accounts.len()
                ),
            );
            loop {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => return Ok(()),
                    event = events.recv() => {
                        let event = match event {
                            Ok(event) => event,
                            // Fell behind: everything is in the store; carry on.
                            Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                            Err(_) => return Ok(()),
                        };
                        let text = match &event {
                            ClientEvent::Alert { account, alert } => {
                                alert_line(names.get(account).map_or("", String::as_str), alert)
                            }
                            ClientEvent::Message { from_bank, author, body, .. } => format!(
                                "[chat] {}{}: {}",
                                if *from_bank { "" } else { "(you, other device) " },
                                clean(author),
                                clean(body)
                            ),
                            ClientEvent::Connected { account } => {
                                format!("[connected] {}", names.get(account).map_or("", String::as_str))
                            }
                            ClientEvent::Disconnected { reason, retry_in_ms, .. } => {
                                format!("[disconnected] {}; retrying in {retry_in_ms} ms", clean(reason))
                            }
                            ClientEvent::ChatAccepted { .. } => "[chat] your message reached the bank".into(),
                            ClientEvent::Flags { flags, .. } => {
                                format!("[pilot features] {}", clean(&format!("{flags:?}")))
                            }
                            ClientEvent::KeysRotated { version, .. } => {
                                format!("[keys] the bank rotated its signing keys (version {version})")
                            }
                            ClientEvent::LinkRevoked { account } => {
                                format!("[revoked] {} no longer accepts this device", names.get(account).map_or("", String::as_str))
                            }
                            ClientEvent::Committed { .. } => continue,
                        };
                        let value = serde_json::to_value(&event).unwrap_or_default();
                        say(json, &value, &text);
                    }
                }
            }
        }
        ["export-transcript", rest @ ..] => {
            let mut out = None;
            let mut name = None;
            let mut rest = rest.iter();
            while let Some(arg) = rest.next() {
                if *arg == "--out" {
                    out = Some(PathBuf::from(rest.next().ok_or_else(|| {
                        ClientError::NotLinked("--out needs a file".into())
                    })?));
                } else {
                    name = Some(*arg);
                }
            }
            let account = find_account(&client.accounts()?, name)?;
            let transcript = client.transcript(account.id)?;
            let path = match out {
                Some(path) => {
                    strongroom_client::transcript::write_transcript(&path, &transcript)?;
                    path
                }
                None => strongroom_client::transcript::export_to_folder(
                    std::path::Path::new("."),
                    account.id,
                    &transcript,
                )?,
            };
            say(
                json,
                &serde_json::json!({"type": "transcript_exported", "path": path, "alerts": transcript.alerts.len(), "rotations": transcript.key_chain.rotations.len()}),
                &format!(
                    "Wrote {} alerts and {} key rotation(s) to {}",
                    transcript.alerts.len(),
                    transcript.key_chain.rotations.len(),
                    path.display()
                ),
            );
        }
        ["unlink", name] => {
            let account = find_account(&client.accounts()?, Some(name))?;
            let revoked = client.unlink(account.id).await?;
            say(
                json,
                &serde_json::json!({"type": "unlinked", "account": account.id.to_string(), "revoked_at_bank": revoked}),
                &if revoked {
                    format!(
                        "Unlinked {}: the bank revoked this device and its data here is erased.",
                        account.bank_name
                    )
                } else {
                    format!(
                        "Unlinked {}: its data here is erased, but the bank could not be reached to revoke the link; revoke this device in your online banking.",
                        account.bank_name
                    )
                },
            );
        }
        _ => {
            eprintln!("{USAGE}");
            return Err(ClientError::NotLinked("unknown command".into()));
        }
    }
    Ok(())
}

async fn verify_transcript(
    json: bool,
    path: &str,
    bank: Option<&str>,
    ca: Option<&std::path::Path>,
) -> Result<(), ClientError> {
    use std::io::Read;
    use strongroom_client::transcript;
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| {
            f.take(transcript::MAX_TRANSCRIPT_BYTES + 1)
                .read_to_end(&mut bytes)
        })
        .map_err(|e| ClientError::BadTranscript(format!("cannot read {path}: {e}")))?;
    if bytes.len() as u64 > transcript::MAX_TRANSCRIPT_BYTES {
        return Err(ClientError::BadTranscript(format!(
            "{path} is larger than any transcript"
        )));
    }
    let check = match bank {
        None => transcript::verify_transcript(&bytes)?,
        Some(issuer) => {
            let http = BankHttp::new(ca)?;
            transcript::check_with_bank(&bytes, &http, issuer).await?
        }
    };
    let keys = check
        .start_keys
        .iter()
        .map(|k| format!("{} (kid {})", k.thumbprint, clean(&k.kid)))
        .collect::<Vec<_>>()
        .join(", ");
    let verified = check.alerts - check.failures.len();
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
        &format!(
            "Transcript (format {}) of alerts from {} to {}\n\
             Keys pinned {}: {keys}\n\
             Rotation statements: {} (the chain holds)\n\
             {verified} of {} alerts verify against that chain.",
            check.format,
            clean(&check.issuer),
            clean(&check.audience),
            if check.format == 1 {
                "(format 1: whatever keys the file lists, no chain)".to_owned()
            } else if check.start_version == 0 {
                "at link time".to_owned()
            } else {
                format!("at rotation {}", check.start_version)
            },
            check.rotations,
            check.alerts,
        ),
    );
    for failure in &check.failures {
        say(
            json,
            &serde_json::json!({"type": "transcript_failure", "index": failure.index, "reason": failure.reason}),
            &format!(
                "  alert {} does NOT verify: {}",
                failure.index,
                clean(&failure.reason)
            ),
        );
    }
    if !json {
        say(
            json,
            &serde_json::Value::Null,
            &format!("What this proves: {}", clean(&check.proves())),
        );
    }
    if check.all_verified() {
        Ok(())
    } else {
        Err(ClientError::BadTranscript(format!(
            "{} alerts in the transcript do not verify",
            check.failures.len()
        )))
    }
}

fn main() -> ExitCode {
    let options = match parse_args() {
        Ok(options) => options,
        Err(message) => {
            if !message.is_empty() {
                eprintln!("strongroom-cli: {message}");
            }
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    let json = options.json;
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("strongroom-cli: cannot start: {err}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(run(options)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            let report = strongroom_client::ErrorReport::from(&err);
            if json {
                eprintln!(
                    "{}",
                    serde_json::json!({"type": "error", "code": report.code, "message": report.message})
                );
            } else {
                eprintln!("strongroom-cli: {} ({})", report.message, report.code);
            }
            ExitCode::from(exit_code(&err))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminal_output_carries_no_control_characters() {
        let hostile = "\x1b[2K\r[verified: Demo Bank]\u{9b}31m\n\u{7f}x";
        let shown = clean(hostile);
        assert!(!shown.chars().any(char::is_control), "{shown:?}");
        assert!(shown.ends_with('x'));
    }

    /// Attack (adversarial review, finding 9): a right-to-left override in
    /// a verified alert made the terminal show the amount reversed.
    #[test]
    fn terminal_output_carries_no_bidirectional_controls() {
        let shown = clean("Refund \u{202E}00.001\u{202C} GBP \u{2066}x\u{2069}");
        assert_eq!(shown, "Refund \u{FFFD}00.001\u{FFFD} GBP \u{FFFD}x\u{FFFD}");
    }

    #[test]
    fn amounts_use_the_currency_s_minor_unit() {
        let mut alert = AlertView {
            id: "a".into(),
            kind: "purchase".into(),
            severity: strongroom_store::Severity::Info,
            text: String::new(),
            amount_minor: Some(12_999),
            currency: Some("EUR".into()),
            merchant: None,
            verified: true,
            verification: "k1".into(),
            issued_at: 0,
            answer: None,
            answered_at: None,
            balance_minor: None,
        };
        assert_eq!(money(&alert), " 129.99 EUR");
        alert.currency = Some("JPY".into());
        assert_eq!(money(&alert), " 12999 JPY");
        alert.currency = Some("KWD".into());
        assert_eq!(money(&alert), " 12.999 KWD");
        alert.amount_minor = Some(-5);
        alert.currency = Some("GBP".into());
        assert_eq!(money(&alert), " -0.05 GBP");
    }
}
