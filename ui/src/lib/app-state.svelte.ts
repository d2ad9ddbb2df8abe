// The window's state: what the shell said (status, accounts, alerts, settings),
// where the person is, and the actions that change them. App.svelte draws it
// and routes between screens; live events go through applyLiveEvent.
import { tick } from "svelte";
import * as ipc from "../ipc";
import type { AccountView, AlertItem, CallStatusView, IpcError, LinkReceipt, LiveEvent, Settings, Status } from "../ipc";
import { setLocale, t } from "./i18n.svelte";
import { applyLiveEvent, type FollowUp, type LiveAlert, type LiveModel, type Notice, type View } from "./live-events";

/** How often the call status is read again while the main window shows. */
const CALLS_EVERY_MS = 5_000;

/** The stage the window is at, which decides the whole screen. */
export type Phase = "loading" | "error" | "locked" | "first_run" | "main";

/** An alert to scroll to and focus (a clicked notification); `seq` makes the same alert twice count twice. */
export type FocusAlert = { account: string; id: string; seq: number };

export class AppState {
  status = $state<Status | null>(null);
  startError = $state<IpcError | null>(null);
  retrying = $state(false);
  view = $state<View>("home");
  accounts = $state<AccountView[]>([]);
  alerts = $state<AlertItem[]>([]);
  settings = $state<Settings | null>(null);
  chatAccount = $state<string | null>(null);
  chatVersion = $state(0);
  focusAlert = $state<FocusAlert | null>(null);
  linkPrefill = $state("");
  /** Bumped to draw the link screen afresh. */
  linkKey = $state(0);
  /** Read out by screen readers (a polite live region). */
  announcement = $state("");
  notice = $state<Notice | null>(null);
  /** Why each offline account is offline (from `disconnected` events), shown on its card. */
  offline = $state<Record<string, string>>({});
  pendingDeepLink: string | null = null;
  /** Each linked bank's call status, by account: "is my bank really calling me?". */
  calls = $state<Record<string, CallStatusView>>({});

  #liveSeq = 0;
  #liveAlerts: LiveAlert[] = [];
  #alertsRequest = 0;
  #subscribed = false;
  #focusHeading: () => void;
  #callsTimer: ReturnType<typeof setInterval> | null = null;

  /**
   * `focusHeading` moves the keyboard focus to the current screen's heading,
   * so that keyboard and screen-reader users start there after a move.
   */
  constructor(focusHeading: () => void = () => {}) {
    this.#focusHeading = focusHeading;
  }

  phase = $derived.by((): Phase => {
    if (this.startError) return "error";
    if (!this.status) return "loading";
    if (this.status.error) return "error";
    // Locked: the store is closed on purpose, so "not ready" is expected.
    if (this.status.locked) return "locked";
    // Still opening the keychain (it may be asking the user to unlock it).
    if (!this.status.ready) return "loading";
    if (this.status.first_run) return "first_run";
    return "main";
  });

  // The shell's report carries a code and values; the words are the
  // catalogue's, in the window's language (normalizeError).
  shownError = $derived<IpcError>(
    this.startError ??
      (this.status?.error ? ipc.normalizeError(this.status.error) : null) ?? {
        code: "not_ready",
        message: t("app-store-not-open"),
      },
  );

  unreadTotal = $derived(this.accounts.reduce((n, a) => n + a.unread, 0));

  /** Waits for the shell to open the store, then loads the main window. */
  start = async () => {
    await this.refreshStatus();
    // The shell opens the keychain in the background; wait for its answer.
    // Often at first (the store is usually open within a second), then
    // less often (a keychain waiting for the user to unlock it).
    let pause = 20;
    while (this.phase === "loading" && !this.startError) {
      await new Promise((r) => setTimeout(r, pause));
      pause = Math.min(500, Math.round(pause * 1.25));
      await this.refreshStatus();
    }
    if (this.phase === "main") await this.enterMain();
    else if (this.status && !this.status.error && this.status.ready) void this.startLive();
  };

  /** Stops the timers (the window is going away). */
  stop = () => {
    if (this.#callsTimer !== null) clearInterval(this.#callsTimer);
    this.#callsTimer = null;
  };

  /**
   * Takes a status from the shell: its locale first, so the screen it brings
   * is drawn in that language. (A shell older than the language setting
   * sends none: English.)
   */
  #setStatus(s: Status) {
    setLocale(s.locale ?? "en-US");
    this.status = s;
  }

  refreshStatus = async () => {
    try {
      this.#setStatus(await ipc.status());
      this.startError = null;
    } catch (e) {
      this.startError = ipc.normalizeError(e);
    }
  };

  retry = async () => {
    this.retrying = true;
    try {
      this.#setStatus(await ipc.retry());
      this.startError = null;
    } catch (e) {
      this.startError = ipc.normalizeError(e);
    }
    this.retrying = false;
    if (this.phase === "main") await this.enterMain();
  };

  #fail(e: unknown) {
    const x = ipc.normalizeError(e);
    if (x.code === "locked") {
      void this.refreshStatus();
      return;
    }
    this.notice = { kind: "error", text: x.message };
  }

  #accountsRequest = 0;

  loadAccounts = async () => {
    const request = ++this.#accountsRequest;
    try {
      // A live alert that arrives while the read is under way moved a card
      // (balance, unread) the read may not include: read again, so the
      // older answer never overwrites it.
      for (let tries = 0; tries < 3; tries++) {
        const since = this.#liveSeq;
        const accounts = await ipc.accounts();
        // A newer read is on its way: this one is out of date.
        if (request !== this.#accountsRequest) return;
        this.accounts = accounts;
        if (this.#liveSeq === since) return;
      }
    } catch (e) {
      this.#fail(e);
    }
  };

  loadAlerts = async () => {
    const request = ++this.#alertsRequest;
    const since = this.#liveSeq;
    try {
      const stored = await ipc.alerts(null, 200);
      // A newer read is on its way: this one is out of date.
      if (request !== this.#alertsRequest) return;
      const arrived = this.#liveAlerts.filter((l) => l.seq > since).map((l) => l.alert);
      const key = (a: AlertItem) => `${a.account}/${a.id}`;
      const seen = new Set(stored.map(key));
      this.alerts = [...arrived.filter((a) => !seen.has(key(a))), ...stored];
      this.#liveAlerts = this.#liveAlerts.filter((l) => l.seq > since);
    } catch (e) {
      this.#fail(e);
    }
  };

  /**
   * Reads every bank's call status. Time alone changes it (a call expires,
   * contact goes stale), so it is read every few seconds while the main
   * window shows, besides each `call_status` event.
   */
  loadCalls = async () => {
    if (this.phase !== "main") return;
    try {
      const views = await ipc.callStatuses();
      this.calls = Object.fromEntries(views.map((v) => [v.account, v]));
    } catch (e) {
      this.#fail(e);
    }
  };

  /**
   * Sends `account`'s bank a report of a call from someone who claimed to be
   * it; resolves with when the bank received it. Rejects with the shell's
   * `{code, message}`.
   */
  reportScamCall = async (account: string, number: string, note: string): Promise<number> => {
    try {
      const r = await ipc.reportScamCall(account, Date.now(), number.trim() || null, note.trim() || null);
      const bank = this.accounts.find((a) => a.id === account)?.bank_name;
      this.announce(bank ? t("announce-report-received", { bank }) : t("announce-report-received-your-bank"));
      return r.received_at;
    } catch (e) {
      throw ipc.normalizeError(e);
    }
  };

  loadSettings = async () => {
    try {
      this.settings = await ipc.settings();
    } catch (e) {
      this.#fail(e);
    }
  };

  async startLive() {
    if (this.#subscribed) return;
    this.#subscribed = true;
    try {
      await ipc.subscribe(this.onEvent);
    } catch (e) {
      this.#subscribed = false;
      this.#fail(e);
    }
  }

  async enterMain() {
    await Promise.all([this.loadAccounts(), this.loadAlerts(), this.loadSettings(), this.loadCalls()]);
    void this.startLive();
    this.#callsTimer ??= setInterval(() => void this.loadCalls(), CALLS_EVERY_MS);
    if (this.pendingDeepLink) {
      this.openLink(this.pendingDeepLink);
      this.pendingDeepLink = null;
    }
  }

  announce(text: string) {
    // Re-set so the same text twice is announced twice.
    this.announcement = "";
    void tick().then(() => (this.announcement = text));
  }

  /** One live event from the shell. */
  onEvent = (e: LiveEvent) => {
    const { model, followUps } = applyLiveEvent(this.#liveModel(), e, {
      view: this.view,
      main: this.phase === "main",
      focused: document.hasFocus(),
    });
    this.#setLiveModel(model);
    for (const f of followUps) this.#followUp(f);
  };

  #liveModel(): LiveModel {
    return {
      status: this.status,
      accounts: this.accounts,
      alerts: this.alerts,
      liveAlerts: this.#liveAlerts,
      liveSeq: this.#liveSeq,
      offline: this.offline,
      chatAccount: this.chatAccount,
      chatVersion: this.chatVersion,
      notice: this.notice,
      pendingDeepLink: this.pendingDeepLink,
      calls: this.calls,
    };
  }

  #setLiveModel(m: LiveModel) {
    // Only what changed is written, so screens that did not change are not drawn again.
    if (m.status !== this.status) this.status = m.status;
    if (m.accounts !== this.accounts) this.accounts = m.accounts;
    if (m.alerts !== this.alerts) this.alerts = m.alerts;
    if (m.offline !== this.offline) this.offline = m.offline;
    if (m.chatAccount !== this.chatAccount) this.chatAccount = m.chatAccount;
    if (m.chatVersion !== this.chatVersion) this.chatVersion = m.chatVersion;
    if (m.notice !== this.notice) this.notice = m.notice;
    this.#liveAlerts = m.liveAlerts;
    this.#liveSeq = m.liveSeq;
    this.pendingDeepLink = m.pendingDeepLink;
    if (m.calls !== this.calls) this.calls = m.calls;
  }

  #followUp(f: FollowUp) {
    switch (f.kind) {
      case "announce":
        this.announce(f.text);
        break;
      case "reload_accounts":
        void this.loadAccounts();
        break;
      case "reload_alerts":
        void this.loadAlerts();
        break;
      case "open_alert":
        void this.openAlert(f.account, f.alertId);
        break;
      case "open_link":
        this.openLink(f.issuer);
        break;
    }
  }

  /** Moves to a screen. */
  go = async (v: View) => {
    if (v === "chat" && !this.accounts.some((a) => a.id === this.chatAccount)) {
      // Open straight into the first conversation.
      this.chatAccount = this.accounts[0]?.id ?? null;
    }
    this.view = v;
    this.notice = null;
    // Opening the feed marks its alerts read.
    if (v === "home") void this.loadAlerts();
    await tick();
    if (this.view !== v) return; // something else (a notification click) took over meanwhile
    this.#focusHeading();
  };

  openLink = (issuer: string) => {
    this.linkPrefill = issuer;
    this.linkKey++;
    void this.go("link");
  };

  openAlert = async (account: string, alertId: string) => {
    // Reloading the feed also marks its alerts read: the customer is looking.
    await this.loadAlerts();
    this.view = "home";
    this.notice = null;
    this.focusAlert = { account, id: alertId, seq: (this.focusAlert?.seq ?? 0) + 1 };
  };

  openChat = (account: string) => {
    this.chatAccount = account;
    void this.go("chat");
  };

  answer = async (alert: AlertItem, a: "me" | "not_me") => {
    try {
      await ipc.answerFraudCheck(alert.account, alert.id, a);
    } catch (e) {
      const err = ipc.normalizeError(e);
      // Answered first on another device: the core stored the bank's
      // answer, so the feed shows it (and the error says so).
      if (err.code === "already_answered") void this.loadAlerts();
      throw err;
    }
    const ans = a === "me" ? ("ThisWasMe" as const) : ("NotMe" as const);
    this.alerts = this.alerts.map((x) =>
      x.account === alert.account && x.id === alert.id ? { ...x, answer: ans } : x,
    );
    this.announce(a === "me" ? t("announce-answer-me") : t("announce-answer-not-me", { bank: alert.bank_name }));
  };

  lockNow = async () => {
    try {
      await ipc.lock();
      if (this.status) this.status = { ...this.status, locked: true };
    } catch (e) {
      this.#fail(e);
    }
  };

  unlocked = async (s: Status) => {
    this.#setStatus(s);
    if (this.phase === "main") await this.enterMain();
  };

  firstRunDone = async () => {
    await this.refreshStatus();
    if (this.phase === "main") {
      await this.enterMain();
      if (this.accounts.length === 0 && this.view !== "link") this.openLink("");
    }
  };

  linked = async (r: LinkReceipt | null) => {
    await Promise.all([this.loadAccounts(), this.loadAlerts(), this.refreshStatus()]);
    if (r) this.announce(t("announce-linked", { bank: r.bank_name }));
    void this.go("home");
  };

  unlinked = (a: AccountView, revoked: boolean) => {
    this.notice = revoked
      ? { kind: "info", text: t("notice-unlinked", { bank: a.bank_name }) }
      : { kind: "error", text: t("notice-unlinked-not-revoked", { bank: a.bank_name }) };
    if (this.chatAccount === a.id) this.chatAccount = null;
    void this.loadAccounts();
    void this.loadAlerts();
    void this.refreshStatus();
  };
}
