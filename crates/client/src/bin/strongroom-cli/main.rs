//! `strongroom-cli`: Strongroom without a window, for bank staff and
//! automation. It uses the same client core, store and keychain as the app,
//! so an account linked here is linked in the app too (not both at once: the
//! store admits one process).

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;
use std::process::ExitCode;
use strongroom_client::{
    AccountSummary, Client, ClientError, Device, FraudAnswerValue, net::BankHttp,
};
use strongroom_core::AccountId;
use strongroom_l10n::{Arg, Lang};
use strongroom_vault::Vault;
use voice::{Voice, num};

mod call_status;
mod verify;
mod voice;

/// What the long help and the manual page say after the options.
const AFTER_HELP: &str = "\
<ACCOUNT> is an account id, or the bank's name or issuer URL; it may be left
out of `alerts` and `export-transcript` when one account is linked.

Environment: STRONGROOM_KEYCHAIN_SERVICE names the keychain service
(default \"strongroom\"). The text output is in the system's language
(LANGUAGE, LC_ALL, LC_MESSAGES, LANG) when it is English, German or French,
else English; --lang or STRONGROOM_LANG chooses one.

Exit codes: 0 done, 2 usage, 3 keychain, 4 network or TLS, 5 the bank refused
or broke the protocol, 6 link denied or expired, 7 link revoked, 1 other.
`call-status` exits 0 when a verified call is open, 1 when none is and 3 when
a bank cannot be checked.";

/// `strongroom-cli [OPTIONS] <COMMAND>`.
#[derive(Parser)]
#[command(
    name = "strongroom-cli",
    version,
    about = "Strongroom without a window: link bank accounts, read verified alerts, answer \
             fraud checks, chat with bank staff",
    long_about = "Strongroom without a window, for bank staff and automation. It uses the \
                  same client core, store and keychain as the app, so an account linked \
                  here is linked in the app too (not both at once: the store admits one \
                  process).",
    after_help = AFTER_HELP,
    arg_required_else_help = true
)]
struct Options {
    /// Where the encrypted history lives
    #[arg(
        long,
        global = true,
        value_name = "DIR",
        env = "STRONGROOM_DATA_DIR",
        hide_env_values = true
    )]
    data_dir: Option<PathBuf>,
    /// Also trust this CA, for pilot and demo banks
    #[arg(
        long,
        global = true,
        value_name = "FILE",
        env = "STRONGROOM_CA_FILE",
        hide_env_values = true
    )]
    ca: Option<PathBuf>,
    /// One JSON object per line instead of text
    #[arg(long, global = true)]
    json: bool,
    /// The language of the text output [default: STRONGROOM_LANG (read like
    /// LANG, ignored when it names no language we speak), else the system's]
    #[arg(long, global = true, value_name = "LANG")]
    lang: Option<Language>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Link a bank account (approve the code at your bank)
    Link {
        /// The bank's issuer URL
        #[arg(value_name = "ISSUER_URL")]
        issuer: String,
    },
    /// List linked accounts
    Accounts,
    /// List alerts, newest first
    Alerts {
        /// The account (optional when one is linked)
        account: Option<String>,
        /// At most this many
        #[arg(long, value_name = "N", default_value_t = 50)]
        limit: usize,
    },
    /// Answer a fraud check
    Answer {
        /// The fraud check's alert id
        alert_id: String,
        /// me: this was me; not-me: this wasn't me
        answer: Answer,
    },
    /// Send a message to the bank's staff
    Chat {
        /// The account
        account: String,
        /// The message (several words are joined with spaces)
        #[arg(required = true)]
        text: Vec<String>,
    },
    /// Stay connected and print alerts and messages live
    Watch,
    /// Revoke the link at the bank and erase it here
    Unlink {
        /// The account
        account: String,
    },
    /// Export the account's signed alerts and the chain of the bank's keys
    /// since linking (a new file, 0600)
    ExportTranscript {
        /// The account (optional when one is linked)
        account: Option<String>,
        /// The file to write [default: a new file in the current folder]
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// Is my bank really calling me? One line per bank: talking to you now
    /// (verified), not calling you, or can't check. Exit status 0 when a
    /// verified call is open, 1 when none is, 3 when a bank cannot be checked
    CallStatus {
        /// Only this bank (its issuer URL, name or account id)
        #[arg(long, value_name = "ISSUER")]
        bank: Option<String>,
    },
    /// Report a call from someone who claimed to be your bank
    ReportScamCall {
        /// The bank the caller claimed to be (optional when one is linked)
        #[arg(long, value_name = "ISSUER")]
        bank: Option<String>,
        /// The number the caller showed
        #[arg(long, value_name = "NUMBER")]
        number: Option<String>,
        /// What happened, in your words
        #[arg(long, value_name = "TEXT")]
        note: Option<String>,
    },
    /// Check an alert transcript: offline it proves only which keys signed
    /// the alerts; --bank also checks them against the keys the bank
    /// publishes (online)
    VerifyTranscript {
        /// The bank's issuer URL
        #[arg(long, value_name = "ISSUER")]
        bank: Option<String>,
        /// The transcript
        file: String,
    },
}

/// A language of the text output, as typed.
#[derive(Clone, Copy, ValueEnum)]
enum Language {
    /// English
    En,
    /// Deutsch (German)
    De,
    /// Français (French)
    Fr,
}

impl From<Language> for Lang {
    fn from(language: Language) -> Lang {
        match language {
            Language::En => Lang::En,
            Language::De => Lang::De,
            Language::Fr => Lang::Fr,
        }
    }
}

/// A fraud check's answer as typed.
#[derive(Clone, Copy, ValueEnum)]
enum Answer {
    /// This was me
    Me,
    /// This wasn't me
    NotMe,
}

/// Writes the manual pages (one per command, roff) and the bash, zsh and
/// fish completions into `dir`, for the packages.
fn write_manuals(dir: &std::path::Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    clap_mangen::generate_to(Options::command(), dir)?;
    for shell in [
        clap_complete::Shell::Bash,
        clap_complete::Shell::Zsh,
        clap_complete::Shell::Fish,
    ] {
        clap_complete::generate_to(shell, &mut Options::command(), "strongroom-cli", dir)?;
    }
    Ok(())
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

fn find_account(
    voice: &Voice,
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
        [] => Err(ClientError::NotLinked(match name {
            Some(name) => name.to_owned(),
            None => voice.text("cli-none-linked"),
        })),
        _ => Err(ClientError::NotLinked(voice.format(
            "cli-several-match",
            &[("name", Arg::Str(name.unwrap_or("")))],
        ))),
    }
}

async fn run(options: Options, voice: &Voice) -> Result<u8, ClientError> {
    let vault = match std::env::var("STRONGROOM_KEYCHAIN_SERVICE") {
        Ok(service) if !service.is_empty() => Vault::with_service(service),
        _ => Vault::new(),
    };
    let json = options.json;
    let command = match options.command {
        Command::VerifyTranscript { bank, file } => {
            // No keychain, no store; the network only with --bank.
            return verify::verify_transcript(
                json,
                &file,
                bank.as_deref(),
                options.ca.as_deref(),
                voice,
            )
            .await
            .map(|()| 0);
        }
        command => command,
    };
    let data_dir = options
        .data_dir
        .unwrap_or_else(strongroom_client::app::default_data_dir);
    let device = Device::open(&data_dir, vault)?;
    // Damage found at unlock is always said (on stderr, so the command's
    // own output stays parseable); the rest of the history still works.
    for damage in device.damage() {
        if json {
            eprintln!(
                "{}",
                serde_json::json!({"type": "store_damage", "damage": damage})
            );
        } else {
            eprintln!("{}", voice.damage_line(&damage));
        }
    }
    let http = BankHttp::new(options.ca.as_deref())?;
    let client = Client::new(device, http);
    match command {
        Command::Link { issuer } => {
            let pending = client.start_link(&issuer).await?;
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
                &voice.format(
                    "cli-link-pending",
                    &[
                        ("bank", Arg::Str(&clean(&pending.bank_name()))),
                        ("url", Arg::Str(&clean(link))),
                        ("code", Arg::Str(&clean(pending.user_code()))),
                        ("scope", Arg::Str(&clean(pending.scope()))),
                    ],
                ),
            );
            let account = client.finish_link(pending).await?;
            let summary = find_account(voice, &client.accounts()?, Some(&account.to_string()))?;
            say(
                json,
                &serde_json::json!({"type": "linked", "account": account.to_string(), "bank": summary.bank_name}),
                &voice.format(
                    "cli-linked",
                    &[
                        ("bank", Arg::Str(&clean(&summary.bank_name))),
                        ("account", Arg::Str(&account.to_string())),
                    ],
                ),
            );
        }
        Command::Accounts => {
            for a in client.accounts()? {
                say(
                    json,
                    &serde_json::json!({"type": "account", "account": a.id.to_string(), "bank": a.bank_name, "issuer": a.issuer, "linked_at": a.linked_at, "flags": a.flags}),
                    &voice.format(
                        "cli-account",
                        &[
                            ("account", Arg::Str(&a.id.to_string())),
                            ("bank", Arg::Str(&clean(&a.bank_name))),
                            ("issuer", Arg::Str(&clean(&a.issuer))),
                        ],
                    ),
                );
            }
        }
        Command::Alerts { account, limit } => {
            let name = account.as_deref();
            let account = find_account(voice, &client.accounts()?, name)?;
            for alert in client.alerts(account.id, limit)? {
                let line = voice.alert_line(&clean(&account.bank_name), &alert);
                say(
                    json,
                    &serde_json::json!({"type": "alert", "account": account.id.to_string(), "alert": alert}),
                    &line,
                );
            }
        }
        Command::Answer { alert_id, answer } => {
            let answer = match answer {
                Answer::Me => FraudAnswerValue::Me,
                Answer::NotMe => FraudAnswerValue::NotMe,
            };
            let mut last = ClientError::UnknownAlert(alert_id.clone());
            for account in client.accounts()? {
                match client
                    .answer_fraud_check(account.id, &alert_id, answer)
                    .await
                {
                    Ok(()) => {
                        say(
                            json,
                            &serde_json::json!({"type": "answered", "alert_id": alert_id, "answer": answer}),
                            &voice.format(
                                "cli-answered",
                                &[("bank", Arg::Str(&clean(&account.bank_name)))],
                            ),
                        );
                        return Ok(0);
                    }
                    Err(ClientError::UnknownAlert(_)) => {}
                    Err(other) => last = other,
                }
            }
            return Err(last);
        }
        Command::Chat { account, text } => {
            let account = find_account(voice, &client.accounts()?, Some(&account))?;
            let body = text.join(" ");
            let client_id = client.send_chat(account.id, &body)?;
            let sent = match client.drain_outbox(account.id).await {
                Ok(sent) => sent,
                // Queued, but it cannot go until the account is linked
                // again: say so instead of "queued".
                Err(ClientError::LinkRevoked) => return Err(ClientError::LinkRevoked),
                Err(_) => 0,
            };
            say(
                json,
                &serde_json::json!({"type": "chat", "client_id": client_id, "sent": sent > 0}),
                &voice.text(if sent > 0 {
                    "cli-chat-sent"
                } else {
                    "cli-chat-queued"
                }),
            );
        }
        Command::Watch => {
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
                &voice.format("cli-watching", &[("count", num(accounts.len()))]),
            );
            loop {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => return Ok(0),
                    event = events.recv() => {
                        let event = match event {
                            Ok(event) => event,
                            // Fell behind: everything is in the store; carry on.
                            Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                            Err(_) => return Ok(0),
                        };
                        let bank = |account: &AccountId| names.get(account).cloned().unwrap_or_default();
                        let Some(text) = voice.event_line(&event, bank) else {
                            continue;
                        };
                        let value = serde_json::to_value(&event).unwrap_or_default();
                        say(json, &value, &text);
                    }
                }
            }
        }
        Command::ExportTranscript { account, out } => {
            let name = account.as_deref();
            let account = find_account(voice, &client.accounts()?, name)?;
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
                &voice.format(
                    "cli-transcript-written",
                    &[
                        ("alerts", num(transcript.alerts.len())),
                        ("rotations", num(transcript.key_chain.rotations.len())),
                        ("path", Arg::Str(&path.display().to_string())),
                    ],
                ),
            );
        }
        Command::Unlink { account } => {
            let account = find_account(voice, &client.accounts()?, Some(&account))?;
            let revoked = client.unlink(account.id).await?;
            say(
                json,
                &serde_json::json!({"type": "unlinked", "account": account.id.to_string(), "revoked_at_bank": revoked}),
                &voice.format(
                    if revoked {
                        "cli-unlinked"
                    } else {
                        "cli-unlinked-not-revoked"
                    },
                    &[("bank", Arg::Str(&clean(&account.bank_name)))],
                ),
            );
        }
        Command::CallStatus { bank } => {
            let accounts = client.accounts()?;
            let accounts = match bank {
                Some(bank) => vec![find_account(voice, &accounts, Some(&bank))?],
                None => accounts,
            };
            return call_status::call_status(&client, accounts, json, voice).await;
        }
        Command::ReportScamCall { bank, number, note } => {
            let account = find_account(voice, &client.accounts()?, bank.as_deref())?;
            call_status::report(&client, account, number, note, json, voice).await?;
        }
        // Answered before the device is opened.
        Command::VerifyTranscript { .. } => {}
    }
    Ok(0)
}

fn main() -> ExitCode {
    // Usage errors exit 2 and `--help`/`--version` exit 0, as clap does.
    // `write-manuals DIR`, hidden and left out of the manuals and
    // completions, is what the packaging runs to render them.
    let packaging = Options::command().subcommand(
        clap::Command::new("write-manuals").hide(true).arg(
            clap::Arg::new("dir")
                .required(true)
                .value_parser(clap::value_parser!(PathBuf)),
        ),
    );
    let matches = packaging.get_matches();
    // STRONGROOM_LANG is read as leniently as LANG (`de_DE.UTF-8` works);
    // one that names no language we speak is ignored rather than failing
    // every command.
    let from_env = std::env::var("STRONGROOM_LANG")
        .ok()
        .and_then(|v| strongroom_l10n::Locale::parse(&v))
        .map(|l| l.lang);
    let voice = Voice::new(
        matches
            .get_one::<Language>("lang")
            .copied()
            .map(Lang::from)
            .or(from_env),
    );
    if let Some(("write-manuals", packaging)) = matches.subcommand() {
        let dir = packaging
            .get_one::<PathBuf>("dir")
            .cloned()
            .unwrap_or_default();
        return match write_manuals(&dir) {
            Ok(()) => ExitCode::SUCCESS,
            Err(err) => {
                eprintln!(
                    "{}",
                    voice.format(
                        "cli-file-error",
                        &[
                            ("path", Arg::Str(&dir.display().to_string())),
                            ("error", Arg::Str(&err.to_string())),
                        ],
                    )
                );
                ExitCode::from(1)
            }
        };
    }
    let options = Options::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    let json = options.json;
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!(
                "{}",
                voice.format("cli-cannot-start", &[("error", Arg::Str(&err.to_string()))])
            );
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(run(options, &voice)) {
        Ok(code) => ExitCode::from(code),
        Err(err) => {
            let report = strongroom_client::ErrorReport::from(&err);
            if json {
                eprintln!(
                    "{}",
                    serde_json::json!({"type": "error", "code": report.code, "message": report.message})
                );
            } else {
                eprintln!("{}", voice.error_lines(&report));
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
}
