// The TypeScript side of docs/ipc.md. Field names are the shell's (snake_case in
// returned data); command arguments are camelCase (Tauri converts them).

export type IpcError = { code: string; message: string };

export type Status = {
  ready: boolean;
  locked: boolean;
  first_run: boolean;
  passphrase_set: boolean;
  error: IpcError | null;
  linked_accounts: number;
  demo_issuer: string | null;
  /** Damage found in each account's history at unlock; empty when every history checked out. */
  damage: DamageReport[];
};

/**
 * A table or conversation whose rows no longer add up to what Strongroom last
 * wrote (Rust `strongroom_store::ScopeMismatch`): rows were deleted, added, or
 * put back to an older version outside the app.
 */
export type ScopeMismatch = {
  /** `messages` (with `conversation`), or `alerts`, `conversations`, `outbox`, `bank_links`, `accounts`. */
  table: string;
  /** The conversation (Rust `ConversationId`, a plain number), for messages; else null. */
  conversation: number | null;
  /** How many rows the last write recorded. */
  recorded_rows: number;
  /** How many rows the file holds now. */
  found_rows: number;
};

/**
 * Damage to an account's history as a whole (Rust `strongroom_store::Alarm`,
 * serde's default external tagging: unit variants are plain strings).
 */
export type Alarm =
  /** The file is an older copy than the one last anchored in the keychain. */
  | { RolledBack: { anchored: number; found: number } }
  /** The history's integrity record was edited. */
  | "HeadForged"
  /** The history's integrity record was removed. */
  | "HeadMissing";

/** What unlock found wrong in one account's history (Rust `strongroom_client::DamageReport`). */
export type DamageReport = {
  /** The account id (16 hex digits). */
  account: string;
  /** Rows that failed their integrity check and are not shown. */
  damaged_rows: number;
  /** Of which messages. */
  damaged_messages: number;
  /** Of which alerts. */
  damaged_alerts: number;
  scopes: ScopeMismatch[];
  alarms: Alarm[];
};

export type NotificationPrivacy = "full" | "hide_amounts" | "nothing";

export type Settings = {
  notification_privacy: NotificationPrivacy;
  auto_lock_minutes: number;
  first_run_done: boolean;
};

export type PendingLinkView = {
  link_id: string;
  bank_name: string;
  issuer: string;
  user_code: string;
  verification_uri: string;
  verification_uri_complete: string | null;
  expires_at: number;
  shares: string[];
};

export type LinkReceipt = {
  account: string;
  bank_name: string;
  issuer: string;
  linked_at: number;
  shares: string[];
};

export type Balance = { minor: number; currency: string; at: number };

export type AccountView = {
  id: string;
  bank_name: string;
  issuer: string;
  linked_at: number;
  flags: Record<string, boolean>;
  connected: boolean;
  balance: Balance | null;
  balance_history: { at: number; minor: number }[];
  unread: number;
};

export type Severity = "Info" | "Warning" | "Critical";
export type FraudAnswer = "ThisWasMe" | "NotMe";

export type AlertItem = {
  account: string;
  bank_name: string;
  id: string;
  kind: string;
  severity: Severity;
  text: string;
  amount_minor: number | null;
  currency: string | null;
  merchant: string | null;
  verified: boolean;
  verification: string;
  issued_at: number;
  answer: FraudAnswer | null;
  /** Sent by the shell beyond docs/ipc.md: when the fraud check was answered. */
  answered_at?: number | null;
  /** Sent by the shell beyond docs/ipc.md: the balance the alert reports, if any. */
  balance_minor?: number | null;
};

export type Delivery = "Queued" | "Sent" | "Delivered" | "Read";

export type MessageView = {
  id: number;
  direction: "Incoming" | "Outgoing";
  author: string;
  body: string;
  sent_at: number;
  delivery: Delivery;
};

export type SearchResult = {
  kind: "message" | "alert";
  account: string;
  bank_name: string;
  text: string;
  at: number;
  highlights: [number, number][];
  alert_id: string | null;
};

export type LedgerEntry = { at: number; bank_name: string; what: string };

export type LiveEvent =
  | { type: "connected"; account: string }
  | { type: "disconnected"; account: string; reason: string; retry_in_ms: number }
  | { type: "alert"; account: string; alert: AlertItem }
  | { type: "message"; account: string }
  | { type: "chat_accepted"; account: string; client_id: string }
  | { type: "flags"; account: string; flags: Record<string, boolean> }
  | { type: "link_revoked"; account: string }
  | { type: "open_alert"; account: string; alert_id: string }
  | { type: "locked" }
  | { type: "unread"; total: number }
  | { type: "deep_link"; issuer: string };

/** A newer version the update server offers (its signature is checked only when it is installed). */
export type UpdateOffer = { version: string; current_version: string; notes: string | null };
export type UpdateCheck = { current_version: string; offer: UpdateOffer | null };
