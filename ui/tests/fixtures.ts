import type { AccountView, AlertItem, Status } from "../src/ipc/types";

export const ACCOUNT = "00000000000000a1";

export function alert(over: Partial<AlertItem> = {}): AlertItem {
  return {
    account: ACCOUNT,
    bank_name: "Demo Bank",
    id: "alert-1",
    kind: "purchase",
    severity: "Info",
    text: "Card payment of 12.50 at Corner Cafe",
    amount_minor: 1250,
    currency: "EUR",
    merchant: "Corner Cafe",
    verified: true,
    verification: "key-2026-01",
    issued_at: Date.UTC(2026, 0, 15, 12, 0),
    answer: null,
    answered_at: null,
    balance_minor: null,
    ...over,
  };
}

export function account(over: Partial<AccountView> = {}): AccountView {
  return {
    id: ACCOUNT,
    bank_name: "Demo Bank",
    issuer: "https://127.0.0.1:8443",
    linked_at: Date.UTC(2026, 0, 1),
    flags: {},
    connected: true,
    balance: { minor: 123456, currency: "EUR", at: Date.UTC(2026, 0, 15) },
    balance_history: [
      { at: Date.UTC(2026, 0, 10), minor: 100000 },
      { at: Date.UTC(2026, 0, 12), minor: 150000 },
      { at: Date.UTC(2026, 0, 15), minor: 123456 },
    ],
    unread: 0,
    ...over,
  };
}

/** The status of an open store with one linked account. */
export function status(over: Partial<Status> = {}): Status {
  return {
    ready: true,
    locked: false,
    first_run: false,
    passphrase_set: true,
    error: null,
    linked_accounts: 1,
    demo_issuers: ["https://127.0.0.1:8443"],
    damage: [],
    locale: "en-US",
    ...over,
  };
}
