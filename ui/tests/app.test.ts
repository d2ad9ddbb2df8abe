// The whole window over the fake shell: start, navigation, live events and
// each screen's round trip to the shell.
import { render, screen, waitFor } from "@testing-library/svelte";
import userEvent from "@testing-library/user-event";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import App from "../src/App.svelte";
import { fake, installFakeShell, removeFakeShell } from "./fake-backend";
import { ACCOUNT, alert } from "./fixtures";

const byId = (id: string) => screen.getByTestId(id);
const maybe = (id: string) => screen.queryByTestId(id);
const alertIds = () => screen.queryAllByTestId("alert-item").map((e) => e.dataset.alertId);
const chatMessages = () => screen.queryAllByTestId("chat-message");
/** The window's polite live region, which screen readers read out. */
const liveRegion = () => document.querySelector('[role="status"][aria-live="polite"]');
const subscribed = () => waitFor(() => expect(fake.channel).not.toBeNull());

beforeEach(installFakeShell);
afterEach(() => {
  removeFakeShell();
  vi.restoreAllMocks();
});

describe("start", () => {
  it("shows only the keychain guidance when the keychain is locked, and Retry recovers", async () => {
    fake.state.status = {
      ...fake.state.status,
      ready: false,
      error: { code: "keychain_locked", values: {}, message: "The login keyring is locked." },
    };
    render(App);
    const guidance = await screen.findByTestId("keychain-error");
    // The catalogue's words for the code, never the shell's English message.
    expect(guidance).toHaveTextContent("Your system keychain is locked.");
    expect(guidance).not.toHaveTextContent("The login keyring is locked.");
    expect(guidance).toHaveTextContent("GNOME");
    expect(maybe("nav-home")).toBeNull();

    fake.state.status = { ...fake.state.status, ready: true, error: null };
    await userEvent.click(byId("retry"));
    await screen.findByTestId("nav-home");
    expect(fake.calls.some((c) => c.cmd === "retry")).toBe(true);
  });
});

describe("home", () => {
  it("lists accounts and the alert feed newest first, quarantined alerts behind the warning", async () => {
    render(App);
    await waitFor(() => expect(alertIds()).toHaveLength(3));
    expect(screen.getAllByTestId("account-card")).toHaveLength(1);
    expect(byId("account-card")).toHaveTextContent("1,234.56");
    expect(byId("account-card").querySelector("svg polyline")?.getAttribute("points")).toMatch(/\d/);
    expect(alertIds()).toEqual(["a-new", "quarantine:ff00", "a-old"]);
    const q = document.querySelector<HTMLElement>('[data-alert-id="quarantine:ff00"]')!;
    expect(q.dataset.verified).toBe("false");
    expect(q.querySelector('[data-testid="quarantine-warning"]')).not.toBeNull();
    expect(q).not.toHaveTextContent("Verified by");
  });

  it("answers a fraud check through answer_fraud_check and shows the answered state", async () => {
    render(App);
    await userEvent.click(await screen.findByTestId("fraud-not-me"));
    await screen.findByTestId("fraud-answered");
    expect(fake.calls.filter((c) => c.cmd === "answer_fraud_check").map((c) => c.args)).toEqual([
      { account: ACCOUNT, alertId: "a-new", answer: "not_me" },
    ]);
    await waitFor(() => expect(liveRegion()).toHaveTextContent("Demo Bank has been told it wasn't you."));
  });

  it("puts a live alert on top and announces it", async () => {
    render(App);
    await subscribed();
    fake.emit({ type: "alert", account: ACCOUNT, alert: alert({ id: "live-1", issued_at: Date.UTC(2026, 0, 20) }) });
    await waitFor(() => expect(alertIds()[0]).toBe("live-1"));
    await waitFor(() => expect(liveRegion()).toHaveTextContent("New alert from Demo Bank: Card purchase"));
  });

  it("counts unread alerts on Home, not on Chats", async () => {
    fake.state.accounts = [{ ...fake.state.accounts[0], unread: 2 }];
    render(App);
    await waitFor(() => expect(byId("nav-home").textContent).toContain("2\u00a0unread alerts"));
    expect(byId("nav-chat").textContent).not.toMatch(/\d/);
  });

  it("draws a long feed a page at a time", async () => {
    fake.state.alerts = Array.from({ length: 50 }, (_, i) =>
      alert({ id: `a-${i}`, kind: "purchase", issued_at: Date.UTC(2026, 0, 1) + i * 60_000 }),
    );
    render(App);
    await waitFor(() => expect(alertIds()).toHaveLength(20));
    expect(alertIds()[0]).toBe("a-49");
    await userEvent.click(byId("alerts-more"));
    await waitFor(() => expect(alertIds()).toHaveLength(40));
    await userEvent.click(byId("alerts-more"));
    await waitFor(() => expect(alertIds()).toHaveLength(50));
    expect(maybe("alerts-more")).toBeNull();
  });

  it("keeps a live alert that arrives while the feed is read from the store", async () => {
    // The window is in the background: the alert brings no read of its own.
    vi.spyOn(document, "hasFocus").mockReturnValue(false);
    render(App);
    await subscribed();
    await waitFor(() => expect(alertIds()).toHaveLength(3));
    // The next read of the feed is slow and was taken before the alert arrived.
    const stored = [...fake.state.alerts];
    let release: () => void = () => {};
    fake.overrides.set("alerts", () => {
      fake.overrides.delete("alerts"); // only this read is slow
      return new Promise((r) => (release = () => r(stored)));
    });
    byId("nav-home").click();
    await waitFor(() => expect(fake.calls.filter((c) => c.cmd === "alerts")).toHaveLength(2));
    // The shell stores an alert before it announces it.
    const live = alert({ id: "live-2", issued_at: Date.UTC(2026, 0, 21) });
    fake.state.alerts = [live, ...fake.state.alerts];
    fake.emit({ type: "alert", account: ACCOUNT, alert: live });
    await waitFor(() => expect(alertIds()[0]).toBe("live-2"));
    release();
    await new Promise((r) => setTimeout(r, 50));
    expect(alertIds()[0]).toBe("live-2");
    expect(alertIds()).toHaveLength(4);
  });

  it("focuses the alert a clicked notification names", async () => {
    render(App);
    await subscribed();
    byId("nav-settings").click();
    fake.emit({ type: "open_alert", account: ACCOUNT, alert_id: "a-old" });
    await waitFor(() => expect(document.activeElement?.getAttribute("data-alert-id")).toBe("a-old"));
  });

  it("locks on the locked event and unlocks with the passphrase", async () => {
    const user = userEvent.setup();
    render(App);
    await subscribed();
    fake.emit({ type: "locked" });
    const input = await screen.findByTestId("unlock-passphrase");
    await user.type(input, "wrong");
    await user.click(byId("unlock-submit"));
    await waitFor(() => expect(byId("lock-screen")).toHaveTextContent("not right"));
    await user.type(input, "correct horse");
    await user.click(byId("unlock-submit"));
    await screen.findByTestId("nav-home");
  });

  it("opens the link screen with the issuer of a deep link", async () => {
    render(App);
    await subscribed();
    fake.emit({ type: "deep_link", issuer: "https://bank.example" });
    await waitFor(() => expect(byId("link-issuer-input")).toHaveValue("https://bank.example"));
  });
});

describe("call status", () => {
  it("shows each of the three answers on the bank's card, from the shell and from live events", async () => {
    render(App);
    await waitFor(() => expect(byId("call-status")).toHaveAttribute("data-state", "not_calling"));
    expect(byId("call-status")).toHaveTextContent("Not calling you");
    expect(byId("call-sentence")).toHaveTextContent("Demo Bank is not calling you. If someone says they are, hang up.");
    await subscribed();
    const talking = {
      account: ACCOUNT,
      bank_name: "Demo Bank",
      state: "talking_now" as const,
      agent: "Hawa Lind",
      reason: "suspicious_payment",
      since: Date.UTC(2026, 0, 14, 14, 2),
      heard_at: Date.UTC(2026, 0, 14, 14, 2),
    };
    fake.emit({ type: "call_status", status: talking, started: true });
    await waitFor(() => expect(byId("call-status")).toHaveAttribute("data-state", "talking_now"));
    expect(byId("call-status")).toHaveTextContent("Talking to you now");
    expect(byId("call-sentence")).toHaveTextContent(/^Hawa Lind, Demo Bank, about a suspicious payment, since /);
    // A verified call is the bank's own: there is nothing to report.
    expect(maybe("scam-report-open")).toBeNull();
    await waitFor(() => expect(liveRegion()).toHaveTextContent("Demo Bank is calling you now: Hawa Lind, verified."));
    fake.emit({
      type: "call_status",
      status: { ...talking, state: "cant_check", agent: null, reason: null, since: null },
      started: false,
    });
    await waitFor(() => expect(byId("call-status")).toHaveAttribute("data-state", "cant_check"));
    expect(byId("call-sentence")).toHaveTextContent(/^Can't reach Demo Bank since .*: don't trust anyone who calls claiming to be Demo Bank\.$/);
  });

  it("reports a scam call with the number and note, and says the bank received it", async () => {
    render(App);
    await userEvent.click(await screen.findByTestId("scam-report-open"));
    await userEvent.type(byId("scam-report-number"), "+44 20 7946 0000");
    await userEvent.type(byId("scam-report-note"), "Said my account was hacked");
    await userEvent.click(byId("scam-report-send"));
    await screen.findByTestId("scam-report-received");
    expect(byId("scam-report-received")).toHaveTextContent("Demo Bank received your report at");
    const sent = fake.calls.filter((c) => c.cmd === "report_scam_call").map((c) => c.args!);
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ account: ACCOUNT, callerNumber: "+44 20 7946 0000", note: "Said my account was hacked" });
    expect(typeof sent[0].calledAt).toBe("number");
  });

  it("shows why a report was refused and keeps what was typed", async () => {
    fake.overrides.set("report_scam_call", () => {
      throw { code: "network", values: { host: "bank.example" }, message: "cannot reach https://bank.example/" };
    });
    render(App);
    await userEvent.click(await screen.findByTestId("scam-report-open"));
    await userEvent.type(byId("scam-report-note"), "Asked for my PIN");
    await userEvent.click(byId("scam-report-send"));
    await waitFor(() => expect(byId("scam-report-error")).toHaveTextContent("Strongroom could not reach bank.example."));
    expect(byId("scam-report-note")).toHaveValue("Asked for my PIN");
    expect(maybe("scam-report-received")).toBeNull();
  });
});

describe("chat", () => {
  it("shows the quick-replies pilot only while the bank has it switched on", async () => {
    render(App);
    await userEvent.click(await screen.findByTestId("nav-chat"));
    await screen.findByTestId("chat-input");
    expect(maybe("quick-replies")).toBeNull();
    fake.emit({ type: "flags", account: ACCOUNT, flags: { quick_replies: true } });
    const chips = await screen.findByTestId("quick-replies");
    await userEvent.click(chips.querySelector("button")!);
    await waitFor(() => expect(byId("chat-input")).toHaveValue("Yes, that was me."));
    fake.emit({ type: "flags", account: ACCOUNT, flags: { quick_replies: false } });
    await waitFor(() => expect(maybe("quick-replies")).toBeNull());
  });

  it("shows bubbles with delivery states and sends on Enter, not Shift+Enter", async () => {
    const user = userEvent.setup();
    render(App);
    await user.click(await screen.findByTestId("nav-chat"));
    // Opens straight into the only conversation.
    await waitFor(() => expect(chatMessages()).toHaveLength(2));
    expect(byId(`chat-account-${ACCOUNT}`)).toHaveAttribute("aria-current", "true");
    expect(chatMessages().map((m) => m.dataset.direction)).toEqual(["Incoming", "Outgoing"]);
    expect(byId("chat-delivery")).toHaveTextContent("Waiting to send");

    await user.type(byId("chat-input"), "line one{Shift>}{Enter}{/Shift}");
    expect(fake.calls.some((c) => c.cmd === "send_chat")).toBe(false);
    await user.keyboard("{Backspace}{Enter}");
    await waitFor(() => expect(chatMessages()).toHaveLength(3));
    expect(fake.calls.find((c) => c.cmd === "send_chat")?.args).toEqual({ account: ACCOUNT, body: "line one" });
  });

  it("refuses a message over 4096 bytes", async () => {
    const user = userEvent.setup();
    render(App);
    await user.click(await screen.findByTestId("nav-chat"));
    await user.click(byId(`chat-account-${ACCOUNT}`));
    const box = await screen.findByTestId("chat-input");
    await user.click(box);
    await user.paste("€".repeat(1366)); // 4098 bytes
    expect(byId("chat-send")).toBeDisabled();
    await user.keyboard("{Backspace}"); // 4095 bytes
    expect(byId("chat-send")).toBeEnabled();
  });
});

describe("store damage", () => {
  it("warns on Home, on the account's card and in the chat, and still shows the rest", async () => {
    fake.state.status = {
      ...fake.state.status,
      damage: [
        {
          account: ACCOUNT,
          damaged_rows: 1,
          damaged_messages: 0,
          damaged_alerts: 1,
          scopes: [{ table: "messages", conversation: 3, recorded_rows: 3, found_rows: 2 }],
          alarms: [],
        },
      ],
    };
    render(App);
    const banner = await screen.findByTestId("damage-banner");
    expect(banner).toHaveAttribute("role", "alert");
    await waitFor(() => expect(banner).toHaveTextContent("Part of Demo Bank's history on this device is damaged"));
    expect(banner).toHaveTextContent("1 damaged alert in Demo Bank's history was hidden.");
    expect(banner).toHaveTextContent("Messages were deleted or rolled back in your chat with Demo Bank");
    expect(byId("account-damage")).toHaveTextContent("damaged");
    // The rest is still shown.
    await waitFor(() => expect(alertIds()).toHaveLength(3));

    await userEvent.click(byId("nav-chat"));
    await waitFor(() => expect(chatMessages()).toHaveLength(2));
    const inChat = byId("damage-banner");
    expect(inChat).toHaveAttribute("role", "status");
    expect(inChat).toHaveTextContent("Messages were deleted or rolled back in your chat with Demo Bank");
  });

  it("shows no warning when the history checked out", async () => {
    render(App);
    await waitFor(() => expect(alertIds()).toHaveLength(3));
    expect(maybe("damage-banner")).toBeNull();
    expect(maybe("account-damage")).toBeNull();
  });
});

describe("link", () => {
  it("fills in the demo bank, then Continue asks for consent with exactly the shares", async () => {
    fake.overrides.set("link_start", (args) => ({
      link_id: "L1",
      bank_name: "Demo Bank",
      issuer: args!.issuer,
      user_code: "WDJB-MJHT",
      verification_uri: "https://127.0.0.1:8443/device",
      verification_uri_complete: null,
      expires_at: Date.now() + 600_000,
      shares: ["device_key", "fraud_answers"],
    }));
    render(App);
    await userEvent.click(await screen.findByTestId("nav-link"));
    await userEvent.click(await screen.findByTestId("link-demo-bank"));
    expect(byId("link-issuer-input")).toHaveValue("https://127.0.0.1:8443");
    await userEvent.click(byId("link-submit"));
    await screen.findByTestId("link-consent-accept");
    expect(fake.calls.find((c) => c.cmd === "link_start")?.args).toEqual({ issuer: "https://127.0.0.1:8443" });
    // The shell sends what is shared as codes; the window words them.
    expect(screen.getAllByRole("listitem").map((l) => l.textContent)).toEqual(
      expect.arrayContaining([
        "Demo Bank learns that you use Strongroom on this device, and this device's public key.",
        "Your answers to fraud checks go to Demo Bank, bound to this device.",
      ]),
    );
  });
});

describe("updates", () => {
  it("checks only when asked, shows the offer, and shows a refused update's reason", async () => {
    fake.overrides.set("update_check", () => ({
      current_version: "0.1.0",
      offer: { version: "0.2.0", current_version: "0.1.0", notes: "Fixes" },
    }));
    fake.overrides.set("update_install", () => {
      throw {
        code: "update_signature",
        values: { current: "0.1.0" },
        message: "The update to 0.2.0 was refused. Nothing was installed; Strongroom 0.1.0 keeps running.",
      };
    });
    render(App);
    await userEvent.click(await screen.findByTestId("nav-settings"));
    await userEvent.click(await screen.findByTestId("update-check"));
    expect(fake.calls.filter((c) => c.cmd === "update_check")).toHaveLength(1);
    await waitFor(() => expect(byId("update-offer")).toHaveTextContent("0.2.0"));
    await userEvent.click(byId("update-install"));
    const error = await screen.findByTestId("update-error");
    expect(error.dataset.code).toBe("update_signature");
    expect(error).toHaveTextContent("0.1.0 keeps running");
    expect(maybe("update-installed")).toBeNull();
    // The check is offered again, and the start never called the update server.
    byId("update-check");
    expect(fake.calls.map((c) => c.cmd).filter((c) => c.startsWith("update_"))).toEqual(["update_check", "update_install"]);
  });

  it("says when the newest version is running, and offers a restart after an install", async () => {
    fake.overrides.set("update_check", () => ({ current_version: "0.1.0", offer: null }));
    fake.overrides.set("update_install", () => ({ version: "0.2.0" }));
    render(App);
    await userEvent.click(await screen.findByTestId("nav-settings"));
    await userEvent.click(await screen.findByTestId("update-check"));
    await waitFor(() => expect(byId("update-latest")).toHaveTextContent("0.1.0"));
    expect(maybe("update-install")).toBeNull();
    fake.overrides.set("update_check", () => ({
      current_version: "0.1.0",
      offer: { version: "0.2.0", current_version: "0.1.0", notes: null },
    }));
    await userEvent.click(byId("update-check"));
    await userEvent.click(await screen.findByTestId("update-install"));
    await waitFor(() => expect(byId("update-installed")).toHaveTextContent("0.2.0"));
    byId("update-restart");
    expect(maybe("update-check")).toBeNull();
  });
});
