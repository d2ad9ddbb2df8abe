//! Every error code the window can receive has its sentence in every
//! language (`error-<code>` in `crates/l10n/locales/<lang>/errors.ftl`),
//! and each sentence uses only the values the code sends with it, so a
//! customer never reads a message id or a `{$name}` left unfilled.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use strongroom_client::app::AppError;
use strongroom_client::{ClientError, ErrorCode, ErrorReport};
use strongroom_core::AccountId;
use strongroom_core::protocol::ProtocolError;
use strongroom_l10n::{Arg, Catalog, Domain, Lang};
use strongroom_store::StoreError;
use strongroom_vault::VaultError;

/// OAuth codes the catalogue gives advice for, and one it does not know.
const OAUTH_SAMPLES: [&str; 4] = [
    "invalid_client",
    "use_dpop_nonce",
    "server_error",
    "made_up",
];

/// The codes the window makes itself (`ui/src/ipc/error.ts`).
const UI_CODES: [&str; 2] = ["no_shell", "unknown"];

/// The catalogue message a code is shown with.
fn message_id(code: &ErrorCode) -> String {
    match code {
        ErrorCode::OAuth(_) => "error-oauth".to_owned(),
        other => format!("error-{other}"),
    }
}

/// Every code, with one sample OAuth code.
fn every_code() -> Vec<ErrorCode> {
    let mut codes = ErrorCode::ALL.to_vec();
    codes.push(ErrorCode::OAuth("invalid_client".into()));
    codes
}

/// A value as the window passes it: counts as numbers (so that they pick
/// the plural form), the rest as text.
fn arg(value: &str) -> Arg<'_> {
    value.parse().map_or(Arg::Str(value), Arg::Num)
}

/// `id` in `lang`, filled with `values`; fails when the message is missing
/// or a variable is left unfilled.
fn render(lang: Lang, id: &str, values: &BTreeMap<String, String>) -> String {
    let catalog = Catalog::get(Domain::Desktop, lang);
    let args: Vec<(&str, Arg<'_>)> = values
        .iter()
        .map(|(name, value)| (name.as_str(), arg(value)))
        .collect();
    let text = catalog.format(id, &args);
    assert!(
        text != id && !text.trim().is_empty(),
        "{}: {id} has no text",
        lang.code()
    );
    assert!(
        !text.contains("{$") && !text.contains("{ $"),
        "{}: {id} uses a value the code does not send: {text}",
        lang.code()
    );
    text
}

/// Message id → the variables its text (and its variants) use, read from
/// one language's `errors.ftl`.
fn variables_by_message(lang: Lang) -> BTreeMap<String, BTreeSet<String>> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../l10n/locales")
        .join(lang.code())
        .join("errors.ftl");
    let text = std::fs::read_to_string(&path).expect("errors.ftl is readable");
    let mut messages: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut current = None;
    for line in text.lines() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        // A message starts at column 0; a select's closing brace may too.
        if !line.starts_with(' ') && !line.starts_with('}') {
            let id = line.split('=').next().unwrap_or_default().trim().to_owned();
            messages.entry(id.clone()).or_default();
            current = Some(id);
        }
        let Some(id) = &current else { continue };
        let vars = messages.entry(id.clone()).or_default();
        for piece in line.split('$').skip(1) {
            let name: String = piece
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
                .collect();
            vars.insert(name);
        }
    }
    messages
}

#[test]
fn every_code_has_its_message_in_every_language() {
    let ids: Vec<String> = every_code()
        .iter()
        .map(message_id)
        .chain(UI_CODES.iter().map(|c| format!("error-{c}")))
        .collect();
    let mut missing = Vec::new();
    for lang in Lang::ALL {
        let catalog = Catalog::get(Domain::Desktop, lang);
        for id in &ids {
            if !catalog.has(id) {
                missing.push(format!("{}: {id}", lang.code()));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "messages missing:\n{}",
        missing.join("\n")
    );
    assert!(ErrorCode::ALL.len() > 70, "ALL lists every code");
}

#[test]
fn every_message_is_for_a_code_that_exists() {
    let known: BTreeSet<String> = every_code()
        .iter()
        .map(message_id)
        .chain(UI_CODES.iter().map(|c| format!("error-{c}")))
        .collect();
    let stale: Vec<String> = variables_by_message(Lang::En)
        .into_keys()
        .filter(|id| !known.contains(id))
        .collect();
    assert!(
        stale.is_empty(),
        "errors.ftl has messages no code uses: {stale:?}"
    );
}

#[test]
fn each_message_uses_exactly_the_values_its_code_sends() {
    let mut problems = Vec::new();
    for lang in Lang::ALL {
        let messages = variables_by_message(lang);
        for code in every_code() {
            let id = message_id(&code);
            let sent: BTreeSet<String> = code.value_names().iter().map(|n| n.to_string()).collect();
            let used = messages.get(&id).cloned().unwrap_or_default();
            if !used.is_subset(&sent) {
                problems.push(format!(
                    "{}: {id} uses {:?}, but the code sends only {sent:?}",
                    lang.code(),
                    used.difference(&sent).collect::<Vec<_>>()
                ));
            }
            // A value English does not use is a misspelt name on one side.
            if lang == Lang::En && used != sent {
                problems.push(format!("en: {id} uses {used:?}, the code sends {sent:?}"));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn every_message_reads_whole_with_the_values_its_code_sends() {
    for lang in Lang::ALL {
        for code in every_code() {
            let values: BTreeMap<String, String> = code
                .value_names()
                .iter()
                .map(|n| (n.to_string(), "7".to_owned()))
                .collect();
            render(lang, &message_id(&code), &values);
        }
        for error in OAUTH_SAMPLES {
            let values = [("error".to_owned(), error.to_owned())].into();
            render(lang, "error-oauth", &values);
        }
        for outcome in ["unchanged", "unknown"] {
            let values = [
                ("current".to_owned(), "1.2.3".to_owned()),
                ("outcome".to_owned(), outcome.to_owned()),
            ]
            .into();
            render(lang, "error-update_failed", &values);
        }
    }
}

/// One error of each kind the client core and the app build, with values.
fn sample_errors() -> Vec<ErrorReport> {
    let account = AccountId::from_random([1; 8]);
    let client = [
        ClientError::from(VaultError::Locked),
        ClientError::from(StoreError::NewerSchema {
            found: 9,
            supported: 3,
        }),
        ClientError::from(StoreError::AccountLocked(account)),
        ClientError::from(ProtocolError::TooOld { iat: 1, now: 2 }),
        ClientError::DataFolder {
            path: "/home/a/.local/share/strongroom".into(),
            source: std::io::Error::other("denied"),
        },
        ClientError::MasterKeyMissing("/home/a/strongroom.db".into()),
        ClientError::RotationIncomplete(1),
        ClientError::RotationIncomplete(3),
        ClientError::MissingAccountKey(account),
        ClientError::Network {
            url: "https://bank.example:8443/alerts".into(),
            detail: "connection refused".into(),
        },
        ClientError::Tls("bad CA".into()),
        ClientError::BankProtocol("no token".into()),
        ClientError::Refused {
            status: 403,
            title: "Forbidden".into(),
            detail: "no".into(),
        },
        ClientError::OAuth {
            error: "invalid_scope".into(),
            description: Some("scope chat".into()),
        },
        ClientError::OAuth {
            error: "something_new".into(),
            description: None,
        },
        ClientError::LinkExpired,
        ClientError::LinkDenied,
        ClientError::LinkRevoked,
        ClientError::NoRefreshToken {
            issuer: "https://idp.bank.example".into(),
            client_id: "strongroom-desktop".into(),
        },
        ClientError::NotLinked("x".into()),
        ClientError::UnknownAlert("a".into()),
        ClientError::CallVerified("Anna Weber".into()),
        ClientError::BadTranscript("not JSON".into()),
        ClientError::NotVouchedByBank {
            issuer: "https://bank.example".into(),
            detail: "1 of 2".into(),
        },
        ClientError::Export {
            path: "/home/a/Downloads/t.json".into(),
            detail: "disk full".into(),
        },
    ];
    let app = [
        AppError::KeychainTimeout(30),
        AppError::Locked,
        AppError::NotReady,
        AppError::WrongPassphrase,
        AppError::WrongCurrentPassphrase,
        AppError::WeakPassphrase(12),
        AppError::BadAnswer,
        AppError::UnknownAccount("x".into()),
        AppError::LinkCancelled,
        AppError::Settings(std::io::Error::other("read-only")),
        AppError::Random,
        AppError::Opening(ErrorReport::from(&ClientError::RotationIncomplete(2))),
    ];
    client
        .iter()
        .map(ErrorReport::from)
        .chain(app.iter().map(AppError::report))
        .collect()
}

#[test]
fn the_reports_built_carry_every_value_their_message_uses() {
    for report in sample_errors() {
        let names: BTreeSet<&str> = report.values.keys().map(String::as_str).collect();
        let expected: BTreeSet<&str> = report.code.value_names().iter().copied().collect();
        assert_eq!(
            names, expected,
            "{}: values {:?}",
            report.code, report.values
        );
        assert!(
            !report.message.is_empty(),
            "{}: the log keeps a message",
            report.code
        );
        for lang in Lang::ALL {
            render(lang, &message_id(&report.code), &report.values);
        }
    }
}

#[test]
fn values_say_what_the_customer_needs_in_their_language() {
    let timeout = AppError::KeychainTimeout(30).report();
    assert_eq!(
        timeout.values.get("seconds").map(String::as_str),
        Some("30")
    );
    assert!(render(Lang::De, "error-keychain_timeout", &timeout.values).contains("30 Sekunden"));

    let network = ErrorReport::from(&ClientError::Network {
        url: "https://bank.example:8443/alerts".into(),
        detail: "connection refused".into(),
    });
    let text = render(Lang::Fr, "error-network", &network.values);
    assert!(
        text.contains("bank.example") && !text.contains("8443"),
        "{text}"
    );

    let one = ErrorReport::from(&ClientError::RotationIncomplete(1));
    assert!(render(Lang::En, "error-rotation_incomplete", &one.values).starts_with("One item"));

    let oauth = ErrorReport::from(&ClientError::OAuth {
        error: "use_dpop_nonce".into(),
        description: None,
    });
    assert_eq!(oauth.code.as_str(), "oauth_use_dpop_nonce");
    assert!(render(Lang::En, "error-oauth", &oauth.values).contains("clock"));
}

#[test]
fn values_cross_to_the_window_as_text() {
    let report = AppError::WeakPassphrase(12).report();
    let json = serde_json::to_value(&report).expect("serializes");
    assert_eq!(json["code"], "weak_passphrase");
    assert_eq!(json["values"], serde_json::json!({"minimum": "12"}));
    assert!(
        json["message"].is_string(),
        "the English message stays for logs"
    );
    let none = serde_json::to_value(AppError::Locked.report()).expect("serializes");
    assert_eq!(
        none["values"],
        serde_json::json!({}),
        "values is always sent"
    );
}
