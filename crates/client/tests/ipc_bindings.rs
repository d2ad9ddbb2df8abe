//! The UI's TypeScript types are generated from the Rust types that cross
//! to the window (`ui/src/ipc/bindings.ts`). This test builds the file from
//! the types and fails when the checked-in one differs; with
//! `STRONGROOM_BLESS=1` it writes the file instead.

use std::path::Path;
use strongroom_client::app::{
    AccountView, AlertItem, Balance, BalancePoint, CallState, CallStatusView, Language,
    LedgerEntry, LinkReceipt, LiveEvent, MessageView, NotificationPrivacy, PendingLinkView,
    SearchResult, Settings, Share, Shared, Status,
};
use strongroom_client::{AlertView, DamageReport, ErrorCode, ErrorReport};
use strongroom_store::{
    Alarm, ConversationId, Delivery, Direction, FraudAnswer, ScopeMismatch, Severity,
};
use ts_rs::{Config, TS};

/// The declaration of one type, exported.
fn declare<T: TS>(cfg: &Config) -> String {
    let decl = T::decl(cfg);
    // ts-rs leaves a space at the end of some lines; the UI's formatter
    // would not.
    let lines: Vec<&str> = decl.lines().map(str::trim_end).collect();
    format!("export {}\n", lines.join("\n"))
}

fn bindings() -> String {
    // Times, amounts and counts are JavaScript numbers in the UI (all stay
    // far below 2^53).
    let cfg = Config::new().with_large_int("number");
    let declarations = [
        declare::<ErrorCode>(&cfg),
        declare::<ErrorReport>(&cfg),
        declare::<Status>(&cfg),
        declare::<DamageReport>(&cfg),
        declare::<ScopeMismatch>(&cfg),
        declare::<ConversationId>(&cfg),
        declare::<Alarm>(&cfg),
        declare::<NotificationPrivacy>(&cfg),
        declare::<Language>(&cfg),
        declare::<Settings>(&cfg),
        declare::<Share>(&cfg),
        declare::<PendingLinkView>(&cfg),
        declare::<LinkReceipt>(&cfg),
        declare::<Balance>(&cfg),
        declare::<BalancePoint>(&cfg),
        declare::<AccountView>(&cfg),
        declare::<Severity>(&cfg),
        declare::<FraudAnswer>(&cfg),
        declare::<AlertView>(&cfg),
        declare::<AlertItem>(&cfg),
        declare::<Direction>(&cfg),
        declare::<Delivery>(&cfg),
        declare::<MessageView>(&cfg),
        declare::<SearchResult>(&cfg),
        declare::<Shared>(&cfg),
        declare::<LedgerEntry>(&cfg),
        declare::<CallState>(&cfg),
        declare::<CallStatusView>(&cfg),
        declare::<LiveEvent>(&cfg),
    ];
    format!(
        "// Generated from the Rust types by crates/client/tests/ipc_bindings.rs: do not edit.\n\
         // Regenerate with `STRONGROOM_BLESS=1 cargo test -p strongroom-client --test ipc_bindings`.\n\n{}",
        declarations.join("\n")
    )
}

#[test]
fn the_ui_types_are_the_rust_types() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../ui/src/ipc/bindings.ts");
    let generated = bindings();
    if std::env::var_os("STRONGROOM_BLESS").is_some() {
        std::fs::write(&path, &generated).expect("ui/src/ipc/bindings.ts is writable");
        return;
    }
    let checked_in = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        checked_in == generated,
        "ui/src/ipc/bindings.ts is not what the Rust types generate; run \
         `STRONGROOM_BLESS=1 cargo test -p strongroom-client --test ipc_bindings` and commit it"
    );
}
