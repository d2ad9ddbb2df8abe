// What each live event from the shell changes on screen. A plain function of
// the data and the event, so that every event kind can be tested without a
// window; the reads and announcements it asks for are done by the app state
// (app-state.svelte.ts).
import { normalizeError, type AccountView, type AlertItem, type CallStatusView, type LiveEvent, type Status } from "../ipc";
import { alertKindLabel } from "./alert-kinds";
import { formatAmount } from "./format";
import { has, t } from "./i18n.svelte";

/** The screens of the main window. */
export type View = "home" | "chat" | "search" | "link" | "settings";

/** A banner above the current screen. */
export type Notice = { kind: "error" | "info"; text: string };

/**
 * An alert that arrived live, numbered, so that a feed read from the store
 * while it arrived cannot drop it from the screen.
 */
export type LiveAlert = { seq: number; alert: AlertItem };

/** How many live alerts are remembered for feed reads still under way. */
const LIVE_ALERTS_KEPT = 200;

/** The data live events change. */
export type LiveModel = {
  status: Status | null;
  accounts: AccountView[];
  alerts: AlertItem[];
  liveAlerts: LiveAlert[];
  liveSeq: number;
  /** Why each offline account is offline, shown on its card. */
  offline: Record<string, string>;
  chatAccount: string | null;
  /** Bumped when the open conversation changed, so the chat reads it again. */
  chatVersion: number;
  notice: Notice | null;
  /** A deep link that arrived before the main window was showing. */
  pendingDeepLink: string | null;
  /** Each bank's call status, by account. */
  calls: Record<string, CallStatusView>;
};

/** Where the person is when the event arrives. */
export type Situation = {
  view: View;
  /** The main window is showing (not locked, not starting, not first run). */
  main: boolean;
  /** The window has the keyboard focus: the person is looking at it. */
  focused: boolean;
};

/** What is to be done after the event, in this order. */
export type FollowUp =
  | { kind: "announce"; text: string }
  | { kind: "reload_accounts" }
  | { kind: "reload_alerts" }
  | { kind: "open_alert"; account: string; alertId: string }
  | { kind: "open_link"; issuer: string };

/** What the window says about one bank calling, in the words the issue gave it. */
export function callSentence(s: CallStatusView, clock: (ms: number) => string): string {
  const bank = s.bank_name;
  switch (s.state) {
    case "talking_now": {
      // The reason comes as the core's code; a code this build does not know is shown as it came.
      const reason = s.reason ? (has(`call-reason-${s.reason}`) ? t(`call-reason-${s.reason}`) : s.reason) : "";
      const said = { agent: s.agent ?? "", bank, reason };
      return s.since !== null
        ? t("app-call-talking-since", { ...said, time: clock(s.since) })
        : t("app-call-talking", said);
    }
    case "not_calling":
      return t("app-call-not-calling", { bank });
    case "cant_check":
      return s.heard_at !== null
        ? t("app-call-cant-check-since", { bank, time: clock(s.heard_at) })
        : t("app-call-cant-check", { bank });
  }
}

/** How many balance points an account keeps (the core's `BALANCE_POINTS`). */
const BALANCE_POINTS = 500;

/**
 * The accounts after alert `a` arrived: its bank's unread count goes up, and
 * a verified alert that reports a balance moves the balance and adds to its
 * history, as the core keeps them (crates/client/src/app/balances.rs). So a
 * live alert redraws one card without reading the accounts again.
 */
export function withAlert(accounts: readonly AccountView[], a: AlertItem): AccountView[] {
  return accounts.map((acc) => {
    if (acc.id !== a.account) return acc;
    const next: AccountView = { ...acc, unread: acc.unread + 1 };
    const minor = a.balance_minor;
    if (a.verified && minor !== null && a.currency) {
      const at = a.issued_at;
      if (!acc.balance || at >= acc.balance.at) next.balance = { minor, currency: a.currency, at };
      if (!acc.balance_history.some((p) => p.at === at && p.minor === minor)) {
        next.balance_history = [...acc.balance_history, { at, minor }]
          .sort((x, y) => x.at - y.at)
          .slice(-BALANCE_POINTS);
      }
    }
    return next;
  });
}

/** The name of the bank an account belongs to, or null when the window does not know the account. */
export function bankName(accounts: readonly AccountView[], account: string): string | null {
  return accounts.find((a) => a.id === account)?.bank_name ?? null;
}

/** The model after `event`, and what is to be done next. `model` is not changed. */
export function applyLiveEvent(
  model: LiveModel,
  event: LiveEvent,
  at: Situation,
): { model: LiveModel; followUps: FollowUp[] } {
  const m = { ...model };
  const next: FollowUp[] = [];
  const setConnected = (account: string, connected: boolean) =>
    m.accounts.map((a) => (a.id === account ? { ...a, connected } : a));
  switch (event.type) {
    case "alert": {
      const a = event.alert;
      m.liveSeq = model.liveSeq + 1;
      m.liveAlerts = [...model.liveAlerts.slice(-(LIVE_ALERTS_KEPT - 1)), { seq: m.liveSeq, alert: a }];
      m.alerts = [a, ...model.alerts.filter((x) => !(x.account === a.account && x.id === a.id))];
      if (a.verified) {
        const said = { bank: a.bank_name, kind: alertKindLabel(a.kind) };
        const text =
          a.amount_minor !== null && a.currency
            ? t("announce-alert-amount", { ...said, amount: formatAmount(a.amount_minor, a.currency) })
            : t("announce-alert", said);
        next.push({ kind: "announce", text });
      } else {
        next.push({ kind: "announce", text: t("announce-quarantined") });
      }
      m.accounts = withAlert(model.accounts, a);
      // Seen as it arrives: the customer is looking at the feed.
      if (at.view === "home" && at.focused) next.push({ kind: "reload_alerts" });
      break;
    }
    case "unread":
      // Alerts were marked read: the badges follow.
      next.push({ kind: "reload_accounts" });
      break;
    case "message":
    case "chat_accepted":
      if (at.view === "chat" && model.chatAccount === event.account) m.chatVersion = model.chatVersion + 1;
      if (event.type === "message") {
        const bank = bankName(model.accounts, event.account);
        next.push({ kind: "announce", text: bank ? t("announce-message", { bank }) : t("announce-message-your-bank") });
        next.push({ kind: "reload_accounts" });
      }
      break;
    case "connected": {
      m.accounts = setConnected(event.account, true);
      const { [event.account]: _gone, ...rest } = model.offline;
      m.offline = rest;
      break;
    }
    case "disconnected": {
      m.accounts = setConnected(event.account, false);
      const secs = Math.max(1, Math.round(event.retry_in_ms / 1000));
      // A code and values, worded in the window's language; none when the
      // bank closed the stream itself.
      const why = (event.error ? normalizeError(event.error).message : t("app-offline-bank-closed"))
        .trim()
        .replace(/[.\s]+$/, "");
      m.offline = {
        ...model.offline,
        [event.account]: why
          ? t("app-offline-reason-retry", { reason: why, seconds: secs })
          : t("app-offline-retry", { seconds: secs }),
      };
      break;
    }
    case "flags":
      m.accounts = model.accounts.map((a) => (a.id === event.account ? { ...a, flags: event.flags } : a));
      break;
    case "link_revoked": {
      const bank = bankName(model.accounts, event.account);
      m.notice = { kind: "info", text: bank ? t("notice-link-ended", { bank }) : t("notice-link-ended-your-bank") };
      next.push({ kind: "announce", text: m.notice.text });
      if (model.chatAccount === event.account) m.chatAccount = null;
      next.push({ kind: "reload_accounts" }, { kind: "reload_alerts" });
      break;
    }
    case "open_alert":
      next.push({ kind: "open_alert", account: event.account, alertId: event.alert_id });
      break;
    case "locked":
      if (model.status) m.status = { ...model.status, locked: true };
      break;
    case "call_status": {
      const s = event.status;
      m.calls = { ...model.calls, [s.account]: s };
      if (event.started && s.state === "talking_now") {
        const text = s.agent
          ? t("announce-call-started", { bank: s.bank_name, agent: s.agent })
          : t("announce-call-started-staff", { bank: s.bank_name });
        next.push({ kind: "announce", text });
      }
      break;
    }
    case "deep_link":
      if (at.main) next.push({ kind: "open_link", issuer: event.issuer });
      else m.pendingDeepLink = event.issuer;
      break;
  }
  return { model: m, followUps: next };
}
