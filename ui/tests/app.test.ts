import { flushSync, mount, unmount } from "svelte";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { fake, waitFor } from "./fake-backend";
import { ACCOUNT, alert } from "./fixtures";

vi.mock("@tauri-apps/api/core", async () => (await import("./fake-backend")).tauriCoreMock);

const { default: App } = await import("../src/App.svelte");

let app: Record<string, unknown> | null = null;
const $ = (sel: string) => document.querySelector<HTMLElement>(sel);
const $$ = (sel: string) => [...document.querySelectorAll<HTMLElement>(sel)];
const tid = (id: string) => $(`[data-testid="${id}"]`);
/** The element with this test id, or a throw (so waitFor retries). */
const need = (id: string) => {
  const el = tid(id);
  if (!el) throw new Error(`no element with data-testid=${id}`);
  return el;
};

async function start() {
  const target = document.createElement("div");
  document.body.appendChild(target);
  app = mount(App, { target });
  flushSync();
}

beforeEach(() => fake.reset());
afterEach(() => {
  if (app) unmount(app);
  app = null;
  document.body.innerHTML = "";
});

describe("start", () => {
  it("shows only the keychain guidance when the keychain is locked, and Retry recovers", async () => {
    fake.state.status = {
      ...fake.state.status,
      ready: false,
      error: { code: "keychain_locked", message: "The login keyring is locked." },
    };
    await start();
    const screen = await waitFor(() => need("keychain-error"));
    expect(screen.textContent).toContain("The login keyring is locked.");
    expect(screen.textContent).toContain("GNOME");
    expect(tid("nav-home")).toBeNull();

    fake.state.status = { ...fake.state.status, ready: true, error: null };
    tid("retry")!.click();
    await waitFor(() => expect(tid("nav-home")).not.toBeNull());
    expect(fake.calls.some((c) => c.cmd === "retry")).toBe(true);
  });
});

describe("home", () => {
  it("lists accounts and the alert feed newest first, quarantined alerts behind the warning", async () => {
    await start();
    await waitFor(() => expect($$('[data-testid="alert-item"]').length).toBe(3));
    expect($$('[data-testid="account-card"]').length).toBe(1);
    expect(tid("account-card")!.textContent).toContain("1,234.56");
    expect(tid("account-card")!.querySelector("svg polyline")?.getAttribute("points")).toMatch(/\d/);
    const ids = $$('[data-testid="alert-item"]').map((e) => e.dataset.alertId);
    expect(ids).toEqual(["a-new", "quarantine:ff00", "a-old"]);
    const q = $('[data-alert-id="quarantine:ff00"]')!;
    expect(q.dataset.verified).toBe("false");
    expect(q.querySelector('[data-testid="quarantine-warning"]')).not.toBeNull();
    expect(q.textContent).not.toContain("Verified by");
  });

  it("answers a fraud check and shows the answered state", async () => {
    await start();
    const btn = await waitFor(() => need("fraud-not-me"));
    btn.click();
    await waitFor(() => expect(tid("fraud-answered")).not.toBeNull());
    expect(fake.calls.find((c) => c.cmd === "answer_fraud_check")?.args).toEqual({
      account: ACCOUNT,
      alertId: "a-new",
      answer: "not_me",
    });
  });

  it("puts a live alert on top and announces it", async () => {
    await start();
    await waitFor(() => expect(fake.channel).not.toBeNull());
    fake.emit({ type: "alert", account: ACCOUNT, alert: alert({ id: "live-1", issued_at: Date.UTC(2026, 0, 20) }) });
    await waitFor(() => expect($$('[data-testid="alert-item"]')[0].dataset.alertId).toBe("live-1"));
    await waitFor(() => expect($('[role="status"][aria-live="polite"]')!.textContent).toContain("New alert from Demo Bank"));
  });

  it("counts unread alerts on Home, not on Chats", async () => {
    fake.state.accounts = [{ ...fake.state.accounts[0], unread: 2 }];
    await start();
    await waitFor(() => expect(need("nav-home").textContent).toContain("2\u00a0unread alerts"));
    expect(need("nav-chat").textContent).not.toMatch(/\d/);
  });

  it("draws a long feed a page at a time", async () => {
    fake.state.alerts = Array.from({ length: 50 }, (_, i) =>
      alert({ id: `a-${i}`, kind: "purchase", issued_at: Date.UTC(2026, 0, 1) + i * 60_000 }),
    );
    await start();
    await waitFor(() => expect($$('[data-testid="alert-item"]').length).toBe(20));
    expect($$('[data-testid="alert-item"]')[0].dataset.alertId).toBe("a-49");
    need("alerts-more").click();
    await waitFor(() => expect($$('[data-testid="alert-item"]').length).toBe(40));
    need("alerts-more").click();
    await waitFor(() => expect($$('[data-testid="alert-item"]').length).toBe(50));
    expect(tid("alerts-more")).toBeNull();
  });

  it("keeps a live alert that arrives while the feed is read from the store", async () => {
    await start();
    await waitFor(() => expect(fake.channel).not.toBeNull());
    await waitFor(() => expect($$('[data-testid="alert-item"]').length).toBe(3));
    // The next read of the feed is slow and was taken before the alert arrived.
    const stored = [...fake.state.alerts];
    let release: () => void = () => {};
    fake.overrides.set("alerts", () => new Promise((r) => (release = () => r(stored))));
    tid("nav-home")!.click();
    await waitFor(() => expect(fake.calls.filter((c) => c.cmd === "alerts").length).toBe(2));
    fake.emit({ type: "alert", account: ACCOUNT, alert: alert({ id: "live-2", issued_at: Date.UTC(2026, 0, 21) }) });
    await waitFor(() => expect($$('[data-testid="alert-item"]')[0].dataset.alertId).toBe("live-2"));
    release();
    await new Promise((r) => setTimeout(r, 50));
    const ids = $$('[data-testid="alert-item"]').map((e) => e.dataset.alertId);
    expect(ids[0]).toBe("live-2");
    expect(ids.length).toBe(4);
  });

  it("focuses the alert a clicked notification names", async () => {
    await start();
    await waitFor(() => expect(fake.channel).not.toBeNull());
    tid("nav-settings")!.click();
    fake.emit({ type: "open_alert", account: ACCOUNT, alert_id: "a-old" });
    await waitFor(() => expect(document.activeElement?.getAttribute("data-alert-id")).toBe("a-old"));
  });

  it("locks on the locked event and unlocks with the passphrase", async () => {
    await start();
    await waitFor(() => expect(fake.channel).not.toBeNull());
    fake.emit({ type: "locked" });
    await waitFor(() => expect(tid("lock-screen")).not.toBeNull());
    const input = tid("unlock-passphrase") as HTMLInputElement;
    input.value = "wrong";
    input.dispatchEvent(new Event("input"));
    flushSync();
    tid("unlock-submit")!.click();
    await waitFor(() => expect(tid("lock-screen")!.textContent).toContain("not right"));
    input.value = "correct horse";
    input.dispatchEvent(new Event("input"));
    flushSync();
    tid("unlock-submit")!.click();
    await waitFor(() => expect(tid("nav-home")).not.toBeNull());
  });

  it("opens the link screen with the issuer of a deep link", async () => {
    await start();
    await waitFor(() => expect(fake.channel).not.toBeNull());
    fake.emit({ type: "deep_link", issuer: "https://bank.example" });
    await waitFor(() => expect((tid("link-issuer-input") as HTMLInputElement).value).toBe("https://bank.example"));
  });
});

describe("search", () => {
  it("marks the highlighted ranges with <mark> and shows bank text as text", async () => {
    fake.state.search = [
      { kind: "message", account: ACCOUNT, bank_name: "Demo Bank", text: "old card <b>x</b>", at: 1, highlights: [[4, 8]], alert_id: null },
      { kind: "alert", account: ACCOUNT, bank_name: "Demo Bank", text: "new card 😀", at: 2, highlights: [[4, 8], [9, 10]], alert_id: "a-new" },
    ];
    await start();
    (await waitFor(() => need("nav-search"))).click();
    flushSync();
    const input = tid("search-input") as HTMLInputElement;
    input.value = "card";
    input.dispatchEvent(new Event("input"));
    const results = await waitFor(() => {
      const r = $$('[data-testid="search-result"]');
      expect(r.length).toBe(2);
      return r;
    });
    expect(results[0].textContent).toContain("new card 😀");
    expect([...results[0].querySelectorAll("mark")].map((m) => m.textContent)).toEqual(["card", "😀"]);
    expect(results[1].querySelector("b")).toBeNull();
    expect(results[1].textContent).toContain("<b>x</b>");
  });
});

describe("chat", () => {
  it("shows the quick-replies pilot only while the bank has it switched on", async () => {
    await start();
    (await waitFor(() => need("nav-chat"))).click();
    await waitFor(() => need("chat-input"));
    expect(tid("quick-replies")).toBeNull();
    fake.emit({ type: "flags", account: ACCOUNT, flags: { quick_replies: true } });
    const chips = await waitFor(() => need("quick-replies"));
    const first = chips.querySelector("button")!;
    first.click();
    await waitFor(() => expect((tid("chat-input") as HTMLTextAreaElement).value).toBe("Yes, that was me."));
    fake.emit({ type: "flags", account: ACCOUNT, flags: { quick_replies: false } });
    await waitFor(() => expect(tid("quick-replies")).toBeNull());
  });

  it("shows bubbles with delivery states and sends on Enter, not Shift+Enter", async () => {
    await start();
    (await waitFor(() => need("nav-chat"))).click();
    // Opens straight into the only conversation.
    await waitFor(() => expect($$('[data-testid="chat-message"]').length).toBe(2));
    expect(need(`chat-account-${ACCOUNT}`).getAttribute("aria-current")).toBe("true");
    expect($$('[data-testid="chat-message"]').map((m) => m.dataset.direction)).toEqual(["Incoming", "Outgoing"]);
    expect(tid("chat-delivery")!.textContent).toContain("Waiting to send");

    const box = tid("chat-input") as HTMLTextAreaElement;
    box.value = "line one";
    box.dispatchEvent(new Event("input"));
    flushSync();
    box.dispatchEvent(new KeyboardEvent("keydown", { key: "Enter", shiftKey: true, bubbles: true }));
    expect(fake.calls.some((c) => c.cmd === "send_chat")).toBe(false);
    box.dispatchEvent(new KeyboardEvent("keydown", { key: "Enter", bubbles: true }));
    await waitFor(() => expect($$('[data-testid="chat-message"]').length).toBe(3));
    expect(fake.calls.find((c) => c.cmd === "send_chat")?.args).toEqual({ account: ACCOUNT, body: "line one" });
  });

  it("refuses a message over 4096 bytes", async () => {
    await start();
    (await waitFor(() => need("nav-chat"))).click();
    flushSync();
    tid(`chat-account-${ACCOUNT}`)!.click();
    const box = await waitFor(() => need("chat-input") as HTMLTextAreaElement);
    box.value = "€".repeat(1366); // 4098 bytes
    box.dispatchEvent(new Event("input"));
    flushSync();
    expect((tid("chat-send") as HTMLButtonElement).disabled).toBe(true);
    box.value = "€".repeat(1365); // 4095 bytes
    box.dispatchEvent(new Event("input"));
    flushSync();
    expect((tid("chat-send") as HTMLButtonElement).disabled).toBe(false);
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
    await start();
    const banner = await waitFor(() => need("damage-banner"));
    expect(banner.getAttribute("role")).toBe("alert");
    await waitFor(() => expect(banner.textContent).toContain("Part of Demo Bank's history on this device is damaged"));
    expect(banner.textContent).toContain("1 damaged alert in Demo Bank's history was hidden.");
    expect(banner.textContent).toContain("Messages were deleted or rolled back in your chat with Demo Bank");
    expect(need("account-damage").textContent).toContain("damaged");
    // The rest is still shown.
    await waitFor(() => expect($$('[data-testid="alert-item"]').length).toBe(3));

    (await waitFor(() => need("nav-chat"))).click();
    await waitFor(() => expect($$('[data-testid="chat-message"]').length).toBe(2));
    const inChat = need("damage-banner");
    expect(inChat.getAttribute("role")).toBe("status");
    expect(inChat.textContent).toContain("Messages were deleted or rolled back in your chat with Demo Bank");
  });

  it("shows no warning when the history checked out", async () => {
    await start();
    await waitFor(() => expect($$('[data-testid="alert-item"]').length).toBe(3));
    expect(tid("damage-banner")).toBeNull();
    expect(tid("account-damage")).toBeNull();
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
      shares: ["Your device's public key", "Your answers to fraud checks"],
    }));
    await start();
    (await waitFor(() => need("nav-link"))).click();
    (await waitFor(() => need("link-demo-bank"))).click();
    flushSync();
    expect((need("link-issuer-input") as HTMLInputElement).value).toBe("https://127.0.0.1:8443");
    need("link-submit").click();
    await waitFor(() => need("link-consent-accept"));
    expect(fake.calls.find((c) => c.cmd === "link_start")?.args).toEqual({ issuer: "https://127.0.0.1:8443" });
    expect($$("li").map((l) => l.textContent)).toEqual(
      expect.arrayContaining(["Your device's public key", "Your answers to fraud checks"]),
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
        message: "The update to 0.2.0 was refused. Nothing was installed; Strongroom 0.1.0 keeps running.",
      };
    });
    await start();
    (await waitFor(() => need("nav-settings"))).click();
    (await waitFor(() => need("update-check"))).click();
    expect(fake.calls.filter((c) => c.cmd === "update_check")).toHaveLength(1);
    await waitFor(() => expect(need("update-offer").textContent).toContain("0.2.0"));
    need("update-install").click();
    const error = await waitFor(() => need("update-error"));
    expect(error.dataset.code).toBe("update_signature");
    expect(error.textContent).toContain("0.1.0 keeps running");
    expect(tid("update-installed")).toBeNull();
    // The check is offered again, and the start never called the update server.
    need("update-check");
    expect(fake.calls.map((c) => c.cmd).filter((c) => c.startsWith("update_"))).toEqual(["update_check", "update_install"]);
  });

  it("says when the newest version is running, and offers a restart after an install", async () => {
    fake.overrides.set("update_check", () => ({ current_version: "0.1.0", offer: null }));
    fake.overrides.set("update_install", () => ({ version: "0.2.0" }));
    await start();
    (await waitFor(() => need("nav-settings"))).click();
    (await waitFor(() => need("update-check"))).click();
    await waitFor(() => expect(need("update-latest").textContent).toContain("0.1.0"));
    expect(tid("update-install")).toBeNull();
    fake.overrides.set("update_check", () => ({
      current_version: "0.1.0",
      offer: { version: "0.2.0", current_version: "0.1.0", notes: null },
    }));
    need("update-check").click();
    (await waitFor(() => need("update-install"))).click();
    await waitFor(() => expect(need("update-installed").textContent).toContain("0.2.0"));
    need("update-restart");
    expect(tid("update-check")).toBeNull();
  });
});
