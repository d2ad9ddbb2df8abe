//! `call-status` and `report-scam-call`: "is my bank really calling me?"
//! from a terminal. Both connect to the banks themselves (the CLI does not
//! talk to a running app), so the answer is this device's own.

use std::time::Duration;

use strongroom_client::app::CallState;
use strongroom_client::{AccountSummary, Client, ClientError, ClientEvent, app::call_status_view};
use strongroom_core::AccountId;
use strongroom_core::protocol::call::CallStatus;
use strongroom_l10n::Arg;

use super::voice::Voice;
use super::{clean, say};

/// How long `call-status` waits for each bank's first contact proof (the
/// gateway sends one as soon as the stream opens).
const FIRST_CONTACT: Duration = Duration::from_secs(10);

/// One bank's status as a line a person reads; `bank` is its name, made
/// safe for a terminal.
pub(super) fn call_line(
    voice: &Voice,
    account: AccountId,
    bank: &str,
    status: &CallStatus,
) -> String {
    let view = call_status_view(account, bank.to_owned(), status.clone());
    let reason = match status {
        CallStatus::TalkingNow { call } => {
            voice.text(&format!("call-reason-{}", call.reason.name()))
        }
        _ => String::new(),
    };
    match view.state {
        CallState::TalkingNow => voice.format(
            "cli-call-talking",
            &[
                (
                    "agent",
                    Arg::Str(&clean(view.agent.as_deref().unwrap_or(""))),
                ),
                ("bank", Arg::Str(bank)),
                ("reason", Arg::Str(&reason)),
                ("time", Arg::Str(&clock(voice, view.since))),
            ],
        ),
        CallState::NotCalling => voice.format("cli-call-not-calling", &[("bank", Arg::Str(bank))]),
        CallState::CantCheck => match view.heard_at {
            Some(_) => voice.format(
                "cli-call-cant-check-since",
                &[
                    ("bank", Arg::Str(bank)),
                    ("time", Arg::Str(&clock(voice, view.heard_at))),
                ],
            ),
            None => voice.format("cli-call-cant-check", &[("bank", Arg::Str(bank))]),
        },
    }
}

/// `HH:MM` UTC of a time in ms (the CLI has no time zone database; the
/// JSON carries the exact time).
fn clock(voice: &Voice, ms: Option<i64>) -> String {
    let Some(ms) = ms else {
        return voice.text("cli-clock-unknown");
    };
    let minutes = ms.div_euclid(60_000).rem_euclid(24 * 60);
    let time = format!("{:02}:{:02}", minutes / 60, minutes % 60);
    voice.format("cli-clock", &[("time", Arg::Str(&time))])
}

/// Connects to each bank in `accounts` and waits until each has said how
/// things stand (a contact proof or a refusal), or [`FIRST_CONTACT`] has
/// passed. The streams keep running while the returned tasks live.
async fn hear(client: &Client, accounts: &[AccountSummary]) -> Vec<tokio::task::JoinHandle<()>> {
    let mut events = client.subscribe();
    let tasks = accounts
        .iter()
        .map(|a| {
            let client = client.clone();
            let id = a.id;
            tokio::spawn(async move { client.run_account(id).await })
        })
        .collect();
    let mut waiting: Vec<AccountId> = accounts.iter().map(|a| a.id).collect();
    let deadline = tokio::time::Instant::now() + FIRST_CONTACT;
    while !waiting.is_empty() {
        match tokio::time::timeout_at(deadline, events.recv()).await {
            Err(_) => break,
            Ok(Ok(ClientEvent::CallStatus { account, .. }))
            | Ok(Ok(ClientEvent::LinkRevoked { account })) => {
                waiting.retain(|a| *a != account);
            }
            Ok(Ok(_)) | Ok(Err(tokio::sync::broadcast::error::RecvError::Lagged(_))) => {}
            Ok(Err(_)) => break,
        }
    }
    tasks
}

/// Prints each bank's call status once every bank has been heard from (or
/// could not be within [`FIRST_CONTACT`]). Exit status 0 when a verified
/// call is open, 1 when none is, 3 when a bank cannot be checked.
pub(super) async fn call_status(
    client: &Client,
    accounts: Vec<AccountSummary>,
    json: bool,
    voice: &Voice,
) -> Result<u8, ClientError> {
    let tasks = hear(client, &accounts).await;
    let mut code = 1;
    for account in &accounts {
        let status = client.call_status(account.id)?;
        let line = call_line(voice, account.id, &clean(&account.bank_name), &status);
        let view = call_status_view(account.id, account.bank_name.clone(), status);
        code = match (view.state, code) {
            (CallState::TalkingNow, _) | (_, 0) => 0,
            (CallState::CantCheck, _) | (_, 3) => 3,
            (CallState::NotCalling, _) => 1,
        };
        let mut value = serde_json::to_value(&view).unwrap_or_default();
        value["type"] = "call_status".into();
        value["issuer"] = account.issuer.clone().into();
        say(json, &value, &line);
    }
    tasks.iter().for_each(|t| t.abort());
    Ok(code)
}

/// Reports a scam call to `account`'s bank, after hearing from the bank so
/// the report says what the app would show (and is refused when the call
/// is the bank's own, verified).
pub(super) async fn report(
    client: &Client,
    account: AccountSummary,
    number: Option<String>,
    note: Option<String>,
    json: bool,
    voice: &Voice,
) -> Result<(), ClientError> {
    let tasks = hear(client, std::slice::from_ref(&account)).await;
    let called_at = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
    let received = client
        .report_scam_call(account.id, called_at, number, note)
        .await;
    tasks.iter().for_each(|t| t.abort());
    let received = received?;
    say(
        json,
        &serde_json::json!({"type": "scam_report", "bank": account.bank_name, "received_at": received}),
        &voice.format(
            "cli-scam-report",
            &[("bank", Arg::Str(&clean(&account.bank_name)))],
        ),
    );
    Ok(())
}
