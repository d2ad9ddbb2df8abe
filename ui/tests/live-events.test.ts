// What each kind of live event does to the window's data, and what it asks
// to be done next, without a window.
import { describe, expect, it } from "vitest";
import type { CallStatusView, LiveEvent } from "../src/ipc";
import { applyLiveEvent, callSentence, type LiveModel, type Situation } from "../src/lib/live-events";
import { ACCOUNT, account, alert, status } from "./fixtures";

const OTHER = "00000000000000b2";

function model(over: Partial<LiveModel> = {}): LiveModel {
  return {
    status: status(),
    accounts: [account(), account({ id: OTHER, bank_name: "Other Bank" })],
    alerts: [alert({ id: "a-1" })],
    liveAlerts: [],
    liveSeq: 0,
    offline: {},
    chatAccount: null,
    chatVersion: 0,
    notice: null,
    pendingDeepLink: null,
    calls: {},
    ...over,
  };
}

function call(over: Partial<CallStatusView> = {}): CallStatusView {
  return {
    account: ACCOUNT,
    bank_name: "Demo Bank",
    state: "talking_now",
    agent: "Hawa Lind",
    reason: "suspicious_payment",
    since: Date.UTC(2026, 0, 14, 14, 2),
    heard_at: Date.UTC(2026, 0, 14, 14, 2),
    ...over,
  };
}

const onHome: Situation = { view: "home", main: true, focused: true };

/** Every kind of live event the shell sends. */
const EVERY_KIND = [
  "connected",
  "disconnected",
  "alert",
  "message",
  "chat_accepted",
  "flags",
  "link_revoked",
  "open_alert",
  "locked",
  "unread",
  "deep_link",
  "call_status",
] as const satisfies readonly LiveEvent["type"][];
// A kind added to LiveEvent and missing above fails the type check here.
const everyKindListed: [Exclude<LiveEvent["type"], (typeof EVERY_KIND)[number]>] extends [never] ? true : false = true;

describe("applyLiveEvent", () => {
  it("changes nothing it is given", () => {
    const before = model();
    const frozen = JSON.stringify(before);
    const events: LiveEvent[] = [
      { type: "connected", account: ACCOUNT },
      { type: "disconnected", account: ACCOUNT, error: null, retry_in_ms: 1000 },
      { type: "alert", account: ACCOUNT, alert: alert({ id: "a-2" }) },
      { type: "message", account: ACCOUNT },
      { type: "chat_accepted", account: ACCOUNT, client_id: "c1" },
      { type: "flags", account: ACCOUNT, flags: { quick_replies: true } },
      { type: "link_revoked", account: ACCOUNT },
      { type: "open_alert", account: ACCOUNT, alert_id: "a-1" },
      { type: "locked" },
      { type: "unread", total: 0 },
      { type: "deep_link", issuer: "https://bank.example" },
      { type: "call_status", status: call(), started: true },
    ];
    expect(everyKindListed).toBe(true);
    expect(events.map((e) => e.type)).toEqual(EVERY_KIND);
    for (const e of events) applyLiveEvent(before, e, onHome);
    expect(JSON.stringify(before)).toBe(frozen);
  });

  it("disconnected: words the reason from its code in the window's language, or says the bank closed it", () => {
    const failed = applyLiveEvent(
      model(),
      {
        type: "disconnected",
        account: ACCOUNT,
        error: { code: "network", values: { host: "bank.example" }, message: "connecting to bank.example: dns error" },
        retry_in_ms: 4_400,
      },
      onHome,
    ).model;
    expect(failed.offline[ACCOUNT]).toBe(
      "Strongroom could not reach bank.example. Check your internet connection, then try again. Trying again in 4 s.",
    );
    expect(failed.offline[ACCOUNT]).not.toContain("dns error");
    const closed = applyLiveEvent(model(), { type: "disconnected", account: ACCOUNT, error: null, retry_in_ms: 1_000 }, onHome).model;
    expect(closed.offline[ACCOUNT]).toBe("The bank closed the connection. Trying again in 1 s.");
    expect(closed.accounts[0].connected).toBe(false);
  });

  it("alert: puts it on top once, remembers it as arrived live, announces it and counts it unread in place", () => {
    const a = alert({ id: "a-1", kind: "fraud_check", text: "updated" });
    const { model: m, followUps } = applyLiveEvent(model({ alerts: [alert({ id: "a-0" }), alert({ id: "a-1" })] }), { type: "alert", account: ACCOUNT, alert: a }, onHome);
    expect(m.alerts.map((x) => [x.id, x.text])).toEqual([["a-1", "updated"], ["a-0", alert().text]]);
    expect(m.liveAlerts).toEqual([{ seq: 1, alert: a }]);
    expect(m.liveSeq).toBe(1);
    expect(followUps).toEqual([
      { kind: "announce", text: "New alert from Demo Bank: Please confirm a transaction, €12.50." },
      { kind: "reload_alerts" },
    ]);
  });

  it("alert: moves its bank's balance and history without reading the accounts again", () => {
    const before = model();
    const acc = before.accounts[0];
    // After the fixture's latest balance (15 January).
    const day = Date.UTC(2026, 0, 20);
    const withBalance = (id: string, at: number, minor: number, verified = true) =>
      alert({ id, issued_at: day + at, balance_minor: minor, currency: "EUR", verified });
    let m = applyLiveEvent(before, { type: "alert", account: ACCOUNT, alert: withBalance("b1", 5_000, 120_000) }, onHome).model;
    m = applyLiveEvent(m, { type: "alert", account: ACCOUNT, alert: withBalance("b0", 4_000, 130_000) }, onHome).model;
    const forged = applyLiveEvent(m, { type: "alert", account: ACCOUNT, alert: withBalance("f", 6_000, 1, false) }, onHome);
    const card = forged.model.accounts.find((a) => a.id === ACCOUNT)!;
    expect(card.balance).toEqual({ minor: 120_000, currency: "EUR", at: day + 5_000 });
    expect(card.balance_history.slice(-2)).toEqual([
      { at: day + 4_000, minor: 130_000 },
      { at: day + 5_000, minor: 120_000 },
    ]);
    // The other bank's card is untouched.
    expect(forged.model.accounts[1]).toBe(before.accounts[1]);
    expect(card.unread).toBe(acc.unread + 3);
    expect(forged.followUps.map((f) => f.kind)).not.toContain("reload_accounts");
  });

  it("alert: is not read as seen when the person is elsewhere", () => {
    for (const at of [{ ...onHome, view: "chat" as const }, { ...onHome, focused: false }]) {
      const { followUps } = applyLiveEvent(model(), { type: "alert", account: ACCOUNT, alert: alert({ id: "n" }) }, at);
      expect(followUps.map((f) => f.kind)).toEqual(["announce"]);
    }
  });

  it("alert: a quarantined one is announced as such, never as the bank's", () => {
    const bad = alert({ id: "quarantine:1", kind: "unverified", verified: false });
    const { followUps } = applyLiveEvent(model(), { type: "alert", account: ACCOUNT, alert: bad }, onHome);
    expect(followUps[0]).toEqual({ kind: "announce", text: "An alert arrived that failed verification. It has been quarantined." });
  });

  it("alert: remembers only the latest live alerts", () => {
    const liveAlerts = Array.from({ length: 200 }, (_, i) => ({ seq: i + 1, alert: alert({ id: `l-${i}` }) }));
    const { model: m } = applyLiveEvent(model({ liveAlerts, liveSeq: 200 }), { type: "alert", account: ACCOUNT, alert: alert({ id: "new" }) }, onHome);
    expect(m.liveAlerts).toHaveLength(200);
    expect(m.liveAlerts[0].seq).toBe(2);
    expect(m.liveAlerts[199]).toEqual({ seq: 201, alert: alert({ id: "new" }) });
  });

  it("unread: reloads the badges and nothing else", () => {
    const before = model();
    const { model: m, followUps } = applyLiveEvent(before, { type: "unread", total: 3 }, onHome);
    expect(m).toEqual(before);
    expect(followUps).toEqual([{ kind: "reload_accounts" }]);
  });

  it("message: announces the bank and redraws the chat only when it is the open one", () => {
    const open = { ...onHome, view: "chat" as const };
    const { model: m, followUps } = applyLiveEvent(model({ chatAccount: ACCOUNT }), { type: "message", account: ACCOUNT }, open);
    expect(m.chatVersion).toBe(1);
    expect(followUps).toEqual([{ kind: "announce", text: "New message from Demo Bank." }, { kind: "reload_accounts" }]);
    expect(applyLiveEvent(model({ chatAccount: OTHER }), { type: "message", account: ACCOUNT }, open).model.chatVersion).toBe(0);
    expect(applyLiveEvent(model({ chatAccount: ACCOUNT }), { type: "message", account: ACCOUNT }, onHome).model.chatVersion).toBe(0);
    expect(applyLiveEvent(model(), { type: "message", account: "unknown" }, onHome).followUps[0]).toEqual({
      kind: "announce",
      text: "New message from your bank.",
    });
  });

  it("chat_accepted: redraws the open chat, silently", () => {
    const { model: m, followUps } = applyLiveEvent(
      model({ chatAccount: ACCOUNT }),
      { type: "chat_accepted", account: ACCOUNT, client_id: "c1" },
      { ...onHome, view: "chat" },
    );
    expect(m.chatVersion).toBe(1);
    expect(followUps).toEqual([]);
  });

  it("connected: marks the account connected and forgets why it was offline", () => {
    const before = model({
      accounts: [account({ connected: false }), account({ id: OTHER, connected: false })],
      offline: { [ACCOUNT]: "x", [OTHER]: "y" },
    });
    const { model: m, followUps } = applyLiveEvent(before, { type: "connected", account: ACCOUNT }, onHome);
    expect(m.accounts.map((a) => a.connected)).toEqual([true, false]);
    expect(m.offline).toEqual({ [OTHER]: "y" });
    expect(followUps).toEqual([]);
  });

  it("flags: replaces that account's pilot features", () => {
    const { model: m } = applyLiveEvent(model(), { type: "flags", account: OTHER, flags: { quick_replies: true } }, onHome);
    expect(m.accounts.map((a) => a.flags)).toEqual([{}, { quick_replies: true }]);
  });

  it("link_revoked: says so, closes that chat and reloads accounts and alerts", () => {
    const { model: m, followUps } = applyLiveEvent(model({ chatAccount: ACCOUNT }), { type: "link_revoked", account: ACCOUNT }, onHome);
    const text = "Demo Bank ended the link. Its messages and alerts were removed from this device.";
    expect(m.notice).toEqual({ kind: "info", text });
    expect(m.chatAccount).toBeNull();
    expect(followUps).toEqual([{ kind: "announce", text }, { kind: "reload_accounts" }, { kind: "reload_alerts" }]);
    expect(applyLiveEvent(model({ chatAccount: OTHER }), { type: "link_revoked", account: ACCOUNT }, onHome).model.chatAccount).toBe(OTHER);
  });

  it("open_alert: asks to open that alert", () => {
    const { model: m, followUps } = applyLiveEvent(model(), { type: "open_alert", account: ACCOUNT, alert_id: "a-1" }, onHome);
    expect(m).toEqual(model());
    expect(followUps).toEqual([{ kind: "open_alert", account: ACCOUNT, alertId: "a-1" }]);
  });

  it("locked: shows the lock screen", () => {
    expect(applyLiveEvent(model(), { type: "locked" }, onHome).model.status?.locked).toBe(true);
    expect(applyLiveEvent(model({ status: null }), { type: "locked" }, onHome).model.status).toBeNull();
  });

  it("deep_link: opens the link screen, or keeps the issuer until the main window shows", () => {
    const e: LiveEvent = { type: "deep_link", issuer: "https://bank.example" };
    expect(applyLiveEvent(model(), e, onHome).followUps).toEqual([{ kind: "open_link", issuer: "https://bank.example" }]);
    const waiting = applyLiveEvent(model(), e, { ...onHome, main: false });
    expect(waiting.followUps).toEqual([]);
    expect(waiting.model.pendingDeepLink).toBe("https://bank.example");
  });

  it("call_status: keeps each bank's status, and announces only a call that begins", () => {
    const begins = applyLiveEvent(model(), { type: "call_status", status: call(), started: true }, onHome);
    expect(begins.model.calls[ACCOUNT]).toEqual(call());
    expect(begins.followUps).toEqual([{ kind: "announce", text: "Demo Bank is calling you now: Hawa Lind, verified." }]);
    const renewed = applyLiveEvent(begins.model, { type: "call_status", status: call(), started: false }, onHome);
    expect(renewed.followUps).toEqual([]);
    const ended = applyLiveEvent(
      renewed.model,
      { type: "call_status", status: call({ account: OTHER, bank_name: "Other Bank", state: "not_calling", agent: null, reason: null, since: null }), started: false },
      onHome,
    );
    expect(Object.keys(ended.model.calls).sort()).toEqual([ACCOUNT, OTHER].sort());
    expect(ended.model.calls[ACCOUNT].state).toBe("talking_now");
    expect(ended.model.calls[OTHER].state).toBe("not_calling");
  });
});

describe("callSentence", () => {
  const clock = (ms: number) => new Date(ms).toISOString().slice(11, 16);
  it("says each of the three answers in full", () => {
    expect(callSentence(call(), clock)).toBe("Hawa Lind, Demo Bank, about a suspicious payment, since 14:02");
    expect(callSentence(call({ state: "not_calling", agent: null, reason: null, since: null }), clock)).toBe(
      "Demo Bank is not calling you. If someone says they are, hang up.",
    );
    expect(callSentence(call({ state: "cant_check", agent: null, reason: null, since: null, heard_at: Date.UTC(2026, 0, 14, 14, 3) }), clock)).toBe(
      "Can't reach Demo Bank since 14:03: don't trust anyone who calls claiming to be Demo Bank.",
    );
    expect(callSentence(call({ state: "cant_check", agent: null, reason: null, since: null, heard_at: null }), clock)).toBe(
      "Can't reach Demo Bank: don't trust anyone who calls claiming to be Demo Bank.",
    );
  });
});
