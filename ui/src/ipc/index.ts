// The only module that talks to the Tauri shell (docs/ipc.md). Nothing else in the
// UI imports @tauri-apps/*: every command is a typed function here, and every
// failure rejects with a normalised `{code, message}`.
import { Channel, invoke } from "@tauri-apps/api/core";
import { normalizeError } from "./error";
import type {
  AccountView,
  AlertItem,
  CallStatusView,
  LedgerEntry,
  LinkReceipt,
  LiveEvent,
  MessageView,
  PendingLinkView,
  SearchResult,
  Settings,
  Status,
  UpdateCheck,
} from "./types";

export * from "./types";
export { normalizeError, hasCode } from "./error";

async function call<T>(command: string, args?: Record<string, unknown>): Promise<T> {
  try {
    return await invoke<T>(command, args);
  } catch (e) {
    throw normalizeError(e);
  }
}

export const status = () => call<Status>("status");
/** Tries again to open the keychain and the store after the person fixed the problem. */
export const retry = () => call<Status>("retry");
export const lock = () => call<null>("lock");
export const unlock = (passphrase: string | null) => call<Status>("unlock", { passphrase });
export const setPassphrase = (current: string | null, next: string | null) =>
  call<null>("set_passphrase", { current, next });
export const settings = () => call<Settings>("settings");
export const saveSettings = (s: Settings) => call<Settings>("save_settings", { settings: s });

export const linkStart = (issuer: string) => call<PendingLinkView>("link_start", { issuer });
export const linkFinish = (linkId: string) => call<LinkReceipt>("link_finish", { linkId });
export const linkCancel = (linkId: string) => call<null>("link_cancel", { linkId });

export const accounts = () => call<AccountView[]>("accounts");
export const alerts = (account: string | null, limit: number) =>
  call<AlertItem[]>("alerts", { account, limit });
export const conversation = (account: string, limit: number) =>
  call<MessageView[]>("conversation", { account, limit });
export const search = (query: string) => call<SearchResult[]>("search", { query });
export const privacyLedger = () => call<LedgerEntry[]>("privacy_ledger");

export const answerFraudCheck = (account: string, alertId: string, answer: "me" | "not_me") =>
  call<null>("answer_fraud_check", { account, alertId, answer });
export const sendChat = (account: string, body: string) =>
  call<{ client_id: string }>("send_chat", { account, body });
export const unlink = (account: string) => call<{ revoked_at_bank: boolean }>("unlink", { account });
export const exportTranscript = (account: string) =>
  call<{ path: string }>("export_transcript", { account });

/** Whether each linked bank is calling the customer, as of now. */
export const callStatuses = () => call<CallStatusView[]>("call_statuses");
/** Reports a call from someone who claimed to be the bank; resolves when the bank received it. */
export const reportScamCall = (account: string, calledAt: number, callerNumber: string | null, note: string | null) =>
  call<{ received_at: number }>("report_scam_call", { account, calledAt, callerNumber, note });

/** Asks the update server whether a newer version is offered. */
export const updateCheck = () => call<UpdateCheck>("update_check");
/** Downloads the offered update, checks its signature against the built-in key, installs it. */
export const updateInstall = () => call<{ version: string }>("update_install");
/** Restarts into the installed update. */
export const updateRestart = () => call<null>("update_restart");

/** Live events, each sent by the shell after its data is committed. */
export async function subscribe(onEvent: (e: LiveEvent) => void): Promise<void> {
  const channel = new Channel<LiveEvent>();
  channel.onmessage = onEvent;
  await call<null>("subscribe", { channel });
}
