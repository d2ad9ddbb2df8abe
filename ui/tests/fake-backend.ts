// A fake Rust shell for Vitest only: it answers the commands of docs/ipc.md from
// memory and lets a test push live events. It stands behind Tauri's own IPC
// mocks (@tauri-apps/api/mocks), so the UI's real `invoke` and `Channel` run
// as in the window. It is never part of the app build.
import { clearMocks, mockIPC, mockWindows } from "@tauri-apps/api/mocks";
import type {
  AccountView,
  AlertItem,
  CallStatusView,
  LiveEvent,
  MessageView,
  SearchResult,
  Language,
  Settings,
  Status,
} from "../src/ipc/types";
import { account, alert, status } from "./fixtures";

export type FakeState = {
  status: Status;
  settings: Settings;
  accounts: AccountView[];
  alerts: AlertItem[];
  messages: MessageView[];
  search: SearchResult[];
  calls: CallStatusView[];
  /** Scam-call reports the window sent. */
  scamReports: Record<string, unknown>[];
};

export function initialState(): FakeState {
  return {
    status: status(),
    settings: { notification_privacy: "full", auto_lock_minutes: 5, first_run_done: true, language: "system" },
    accounts: [account()],
    alerts: [
      alert({ id: "a-old", issued_at: Date.UTC(2026, 0, 10) }),
      alert({ id: "a-new", kind: "fraud_check", issued_at: Date.UTC(2026, 0, 14) }),
      alert({
        id: "quarantine:ff00",
        kind: "unverified",
        verified: false,
        verification: "bad signature",
        issued_at: Date.UTC(2026, 0, 12),
      }),
    ],
    messages: [
      { id: 1, direction: "Incoming", author: "Sam at Demo Bank", body: "Hello! How can we help?", sent_at: 1, delivery: "Delivered" },
      { id: 2, direction: "Outgoing", author: "me", body: "Is my card blocked?", sent_at: 2, delivery: "Queued" },
    ],
    search: [],
    calls: [
      {
        account: account().id,
        bank_name: "Demo Bank",
        state: "not_calling",
        agent: null,
        reason: null,
        since: null,
        heard_at: Date.UTC(2026, 0, 14, 14, 2),
      },
    ],
    scamReports: [],
  };
}

/** The locale the fake shell resolves for each language setting ("system": the test machine's, en-US). */
const LOCALE_OF: Record<Language, string> = { system: "en-US", en: "en-GB", de: "de-DE", fr: "fr-FR" };

/** What the window's Tauri bridge looks like once the mocks are installed. */
type Bridge = { runCallback: (id: number, data: unknown) => void };

export const fake = {
  state: initialState(),
  /** The callback id of the window's live-event channel, once it subscribed. */
  channel: null as number | null,
  /** How many events went down the channel (the shell numbers them). */
  sent: 0,
  calls: [] as { cmd: string; args: Record<string, unknown> | undefined }[],
  overrides: new Map<string, (args: Record<string, unknown> | undefined) => unknown>(),
  reset() {
    this.state = initialState();
    this.channel = null;
    this.sent = 0;
    this.calls = [];
    this.overrides.clear();
  },
  /** Sends a live event down the channel, as the shell does: numbered, in order. */
  emit(e: LiveEvent) {
    if (this.channel === null) throw new Error("the window has not subscribed to live events");
    const bridge = (window as unknown as { __TAURI_INTERNALS__: Bridge }).__TAURI_INTERNALS__;
    bridge.runCallback(this.channel, { index: this.sent++, message: e });
  },
};

function handle(cmd: string, args: Record<string, unknown> | undefined): unknown {
  const s = fake.state;
  const o = fake.overrides.get(cmd);
  if (o) return o(args);
  switch (cmd) {
    case "status":
    case "retry":
      return s.status;
    case "settings":
      return s.settings;
    case "save_settings":
      s.settings = args!.settings as Settings;
      // As the shell does: the language setting decides the status's locale.
      s.status = { ...s.status, locale: LOCALE_OF[s.settings.language] ?? "en-US" };
      return s.settings;
    case "accounts":
      return s.accounts;
    case "alerts":
      return s.alerts;
    case "conversation":
      return s.messages;
    case "search":
      return s.search;
    case "privacy_ledger":
      return [{ at: Date.UTC(2026, 0, 1), bank_name: "Demo Bank", what: { kind: "linked" } }];
    case "lock":
      s.status = { ...s.status, locked: true };
      return null;
    case "unlock":
      if (s.status.passphrase_set && args!.passphrase !== "correct horse") {
        throw { code: "wrong_passphrase", message: "Wrong passphrase." };
      }
      s.status = { ...s.status, locked: false };
      return s.status;
    case "send_chat":
      s.messages = [
        ...s.messages,
        { id: s.messages.length + 1, direction: "Outgoing", author: "me", body: args!.body as string, sent_at: 3, delivery: "Queued" },
      ];
      return { client_id: "c1" };
    case "answer_fraud_check":
      return null;
    case "call_statuses":
      return s.calls;
    case "report_scam_call":
      s.scamReports.push(args!);
      return { received_at: Date.UTC(2026, 0, 14, 14, 5) };
    case "subscribe":
      fake.channel = Number(String(args!.channel).replace("__CHANNEL__:", ""));
      return null;
    default:
      throw { code: "unknown_command", message: `fake shell has no ${cmd}` };
  }
}

/**
 * Puts the fake shell behind the window's Tauri bridge, with fresh data. The
 * arguments reach it as JSON, as they reach the real shell: a `Channel`
 * arrives as its `__CHANNEL__:<id>` reference.
 */
export function installFakeShell() {
  fake.reset();
  mockWindows("main");
  mockIPC((cmd, args) => {
    const wire = args === undefined ? undefined : (JSON.parse(JSON.stringify(args)) as Record<string, unknown>);
    fake.calls.push({ cmd, args: wire });
    return handle(cmd, wire);
  });
}

/** Takes the fake shell away: the window has no Tauri bridge again. */
export function removeFakeShell() {
  clearMocks();
}
