// Generated from the Rust types by crates/client/tests/ipc_bindings.rs: do not edit.
// Regenerate with `STRONGROOM_BLESS=1 cargo test -p strongroom-client --test ipc_bindings`.

export type ErrorCode = "keychain_missing" | "keychain_locked" | "keychain_denied" | "keychain_entry_too_long" | "keychain_corrupted" | "keychain_failed" | "keychain_timeout" | "store_tampered" | "store_account_locked" | "store_wrong_key" | "store_unknown_account" | "store_not_found" | "store_missing_key_version" | "store_wrong_master_key" | "store_bad_master_key" | "store_bad_anchor" | "store_newer_schema" | "store_rotation_not_forward" | "store_in_use" | "store_io" | "store_random_failed" | "store_database" | "too_large" | "malformed" | "unsupported_algorithm" | "forbidden_header" | "wrong_type" | "unknown_key" | "bad_signature" | "bad_key" | "unknown_issuer" | "replayed" | "wrong_audience" | "issued_in_future" | "too_old" | "stale_rotation" | "expired" | "call_ended" | "broken_key_chain" | "data_folder" | "master_key_missing" | "rotation_incomplete" | "account_key_missing" | "network" | "tls" | "bank_protocol" | "refused" | "link_expired" | "link_denied" | "link_revoked" | "no_refresh_token" | "not_linked" | "unknown_alert" | "already_answered" | "call_verified" | "bad_transcript" | "not_vouched_by_bank" | "export" | "locked" | "not_ready" | "wrong_passphrase" | "weak_passphrase" | "bad_answer" | "link_cancelled" | "settings" | "random" | "update_unreachable" | "update_insecure" | "update_server" | "update_signature" | "update_downgrade" | "update_format" | "update_not_authorised" | "update_failed" | "update_none" | `oauth_${string}`;

export type ErrorReport = {
/**
 * Stable, machine-readable: branch on this, and show the catalogue
 * message `error-<code>` (`error-oauth` for every `oauth_*` code).
 */
code: ErrorCode,
/**
 * Values the message for `code` uses (catalogue `errors.ftl`), e.g. `seconds`.
 */
values: { [key in string]: string },
/**
 * The same in English, with the technical detail, for logs and the
 * CLI's `--json`. The window does not show it: it shows the catalogue
 * message in the customer's language.
 */
message: string, };

export type Status = {
/**
 * Keychain ok and store open.
 */
ready: boolean,
/**
 * The lock screen is up.
 */
locked: boolean,
/**
 * Nothing linked and the first-run screen not done.
 */
first_run: boolean,
/**
 * An app passphrase is set.
 */
passphrase_set: boolean,
/**
 * Why not ready (keychain missing or locked, ...).
 */
error: ErrorReport | null,
/**
 * How many accounts are linked.
 */
linked_accounts: number,
/**
 * The demo banks' issuers, when the app runs against demo banks
 * (`STRONGROOM_DEMO_ISSUER`, one or more separated by spaces).
 */
demo_issuers: Array<string>,
/**
 * Damage the store found in the history at unlock (damaged rows,
 * deleted or rolled-back rows, an older copy of the file), per account.
 * Shown as a warning; the rest of the history stays readable.
 */
damage: Array<DamageReport>,
/**
 * The BCP 47 tag the app speaks and formats in (`de-DE`): the
 * system's locale or the customer's choice, resolved to a language with
 * catalogues and a region whose formats the notifications write exactly
 * as the window's `Intl` does (`strongroom_l10n::FORMAT_TAGS`).
 */
locale: string, };

export type DamageReport = {
/**
 * The damaged account (local id).
 */
account: string,
/**
 * Rows that failed their integrity check and are not shown.
 */
damaged_rows: number,
/**
 * Of which messages of the account's conversations.
 */
damaged_messages: number,
/**
 * Of which alerts.
 */
damaged_alerts: number,
/**
 * Conversations and tables whose rows were deleted, added or rolled
 * back one by one.
 */
scopes: Array<ScopeMismatch>,
/**
 * Damage to the history as a whole (an older copy of the file, an
 * edited record).
 */
alarms: Array<Alarm>, };

export type ScopeMismatch = {
/**
 * The table: `messages` for a conversation's messages.
 */
table: string,
/**
 * The conversation, for messages.
 */
conversation: ConversationId | null,
/**
 * How many rows the last write recorded.
 */
recorded_rows: number,
/**
 * How many rows the file holds now.
 */
found_rows: number, };

export type ConversationId = number;

export type Alarm = { "RolledBack": {
/**
 * The write counter the keychain holds.
 */
anchored: number,
/**
 * The write counter the file held.
 */
found: number, } } | "HeadForged" | "HeadMissing";

export type NotificationPrivacy = "full" | "hide_amounts" | "nothing";

export type Language = "system" | "en" | "de" | "fr";

export type Settings = {
/**
 * How much notifications say.
 */
notification_privacy: NotificationPrivacy,
/**
 * Lock after this many idle minutes; 0 never.
 */
auto_lock_minutes: number,
/**
 * The first-run screen was completed.
 */
first_run_done: boolean,
/**
 * The language the app speaks (window, notifications, tray). Missing
 * from settings saved before there was a choice: the system's.
 */
language: Language, };

export type Share = "device_key" | "alerts" | "chat" | "fraud_answers" | "nothing_else";

export type PendingLinkView = {
/**
 * Handle for `link_finish` / `link_cancel`.
 */
link_id: string,
/**
 * The bank's name.
 */
bank_name: string,
/**
 * The bank's issuer URL.
 */
issuer: string,
/**
 * The code to confirm at the bank.
 */
user_code: string,
/**
 * Where to confirm it.
 */
verification_uri: string,
/**
 * The same with the code filled in.
 */
verification_uri_complete: string | null,
/**
 * When the code expires (ms).
 */
expires_at: number,
/**
 * Exactly what the bank will get, one item each (the window words
 * each in the customer's language: `link-share-<item>`).
 */
shares: Array<Share>, };

export type LinkReceipt = {
/**
 * The new account's id.
 */
account: string,
/**
 * The bank's name.
 */
bank_name: string,
/**
 * The bank's issuer URL.
 */
issuer: string,
/**
 * When (ms).
 */
linked_at: number,
/**
 * What is shared with the bank.
 */
shares: Array<Share>, };

export type Balance = {
/**
 * Minor units.
 */
minor: number,
/**
 * ISO 4217.
 */
currency: string,
/**
 * As of (ms).
 */
at: number, };

export type BalancePoint = {
/**
 * When (ms).
 */
at: number,
/**
 * Minor units.
 */
minor: number, };

export type AccountView = {
/**
 * The account id.
 */
id: string,
/**
 * The bank's name.
 */
bank_name: string,
/**
 * The bank's issuer URL.
 */
issuer: string,
/**
 * When linked (ms).
 */
linked_at: number,
/**
 * Pilot features switched on.
 */
flags: { [key in string]: boolean },
/**
 * The delivery stream is open.
 */
connected: boolean,
/**
 * The latest balance the bank reported, if any.
 */
balance: Balance | null,
/**
 * Balance history, oldest first.
 */
balance_history: Array<BalancePoint>,
/**
 * Alerts not yet seen in the app.
 */
unread: number, };

export type Severity = "Info" | "Warning" | "Critical";

export type FraudAnswer = "ThisWasMe" | "NotMe";

export type AlertView = {
/**
 * The bank's id for it (what a fraud answer is bound to).
 */
id: string,
/**
 * The kind, for example `fraud_check`.
 */
kind: string,
/**
 * How urgent.
 */
severity: Severity,
/**
 * The text (render as text, never HTML).
 */
text: string,
/**
 * Amount in minor units.
 */
amount_minor: number | null,
/**
 * Currency of the amount.
 */
currency: string | null,
/**
 * Merchant.
 */
merchant: string | null,
/**
 * Signed by a pinned key of the bank. When false, the alert is
 * quarantined and must never be shown as the bank's.
 */
verified: boolean,
/**
 * The key that signed it, or why verification failed.
 */
verification: string,
/**
 * When the bank issued it (ms).
 */
issued_at: number,
/**
 * The customer's answer, for fraud checks.
 */
answer: FraudAnswer | null,
/**
 * When the customer answered (ms).
 */
answered_at: number | null,
/**
 * The account's balance after this event, when the bank said.
 */
balance_minor: number | null, };

export type AlertItem = {
/**
 * The linked account (local id) the alert came through.
 */
account: string,
/**
 * The bank's name.
 */
bank_name: string,
/**
 * The bank's id for it (what a fraud answer is bound to).
 */
id: string,
/**
 * The kind, for example `fraud_check`.
 */
kind: string,
/**
 * How urgent.
 */
severity: Severity,
/**
 * The text (render as text, never HTML).
 */
text: string,
/**
 * Amount in minor units.
 */
amount_minor: number | null,
/**
 * Currency of the amount.
 */
currency: string | null,
/**
 * Merchant.
 */
merchant: string | null,
/**
 * Signed by a pinned key of the bank. When false, the alert is
 * quarantined and must never be shown as the bank's.
 */
verified: boolean,
/**
 * The key that signed it, or why verification failed.
 */
verification: string,
/**
 * When the bank issued it (ms).
 */
issued_at: number,
/**
 * The customer's answer, for fraud checks.
 */
answer: FraudAnswer | null,
/**
 * When the customer answered (ms).
 */
answered_at: number | null,
/**
 * The account's balance after this event, when the bank said.
 */
balance_minor: number | null, };

export type Direction = "Incoming" | "Outgoing";

export type Delivery = "Queued" | "Sent" | "Delivered" | "Read";

export type MessageView = {
/**
 * The stored message's id.
 */
id: number,
/**
 * Who wrote it.
 */
direction: Direction,
/**
 * The author's name.
 */
author: string,
/**
 * The text (render as text).
 */
body: string,
/**
 * When sent (ms).
 */
sent_at: number,
/**
 * Delivery state.
 */
delivery: Delivery, };

export type SearchResult = {
/**
 * `message` or `alert`.
 */
kind: "message" | "alert",
/**
 * The linked account (local id) the match is stored under.
 */
account: string,
/**
 * The bank's name.
 */
bank_name: string,
/**
 * The matching text.
 */
text: string,
/**
 * When (ms).
 */
at: number,
/**
 * UTF-16 ranges of `text` that matched.
 */
highlights: Array<[number, number]>,
/**
 * The bank's alert id, for alerts.
 */
alert_id: string | null, };

export type Shared = { "kind": "linked" } | { "kind": "fraud_answer",
/**
 * The answer.
 */
answer: FraudAnswer, } | { "kind": "chat_message",
/**
 * How many characters.
 */
characters: number, };

export type LedgerEntry = {
/**
 * When (ms).
 */
at: number,
/**
 * With which bank.
 */
bank_name: string,
/**
 * What was shared (the window words it: `settings-ledger-<kind>`).
 */
what: Shared, };

export type CallState = "talking_now" | "not_calling" | "cant_check";

export type CallStatusView = {
/**
 * The linked account.
 */
account: string,
/**
 * The bank's name as verified at link time.
 */
bank_name: string,
/**
 * Which of the three answers.
 */
state: CallState,
/**
 * For `talking_now`: the agent's name as the bank signed it.
 */
agent: string | null,
/**
 * For `talking_now`: what the call is about, as the core's reason
 * code (`suspicious_payment`, ...); the window and the notifications
 * word it (`call-reason-<code>` in kinds.ftl).
 */
reason: string | null,
/**
 * For `talking_now`: when the call started (ms).
 */
since: number | null,
/**
 * When the bank last proved contact (ms); for `cant_check`, the
 * "since" of "can't reach".
 */
heard_at: number | null, };

export type LiveEvent = { "type": "connected",
/**
 * Whose delivery stream opened.
 */
account: string, } | { "type": "disconnected",
/**
 * Whose delivery stream closed.
 */
account: string,
/**
 * What closed it: a code and values the window words from
 * `errors.ftl`; `null` when the bank closed the stream itself.
 */
error: ErrorReport | null,
/**
 * When the next try is.
 */
retry_in_ms: number, } | { "type": "alert",
/**
 * The linked account that received it.
 */
account: string,
/**
 * The alert.
 */
alert: AlertItem, } | { "type": "message",
/**
 * The conversation's account.
 */
account: string, } | { "type": "chat_accepted",
/**
 * The account whose bank accepted the message.
 */
account: string,
/**
 * The message's idempotency key.
 */
client_id: string, } | { "type": "flags",
/**
 * The customer's account at that bank.
 */
account: string,
/**
 * The complete set.
 */
flags: { [key in string]: boolean }, } | { "type": "link_revoked",
/**
 * The account to link again (its history stays until removed).
 */
account: string, } | { "type": "open_alert",
/**
 * The account the notification was for.
 */
account: string,
/**
 * The alert.
 */
alert_id: string, } | { "type": "locked" } | { "type": "unread",
/**
 * Unread alerts over all accounts.
 */
total: number, } | { "type": "deep_link",
/**
 * The bank to link.
 */
issuer: string, } | { "type": "call_status",
/**
 * The status now.
 */
status: CallStatusView,
/**
 * A call this device had not shown began (notify once).
 */
started: boolean, };
