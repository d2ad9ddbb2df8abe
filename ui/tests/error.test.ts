import { clearMocks, mockIPC, mockWindows } from "@tauri-apps/api/mocks";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import * as ipc from "../src/ipc";
import { normalizeError } from "../src/ipc/error";
import { setLocale } from "../src/lib/i18n.svelte";

describe("normalizeError", () => {
  // The window speaks the catalogue (errors.ftl), not the shell's English message.
  afterEach(() => setLocale("en-US"));

  it("shows the catalogue's sentence for the shell's code, not its message", () => {
    expect(normalizeError({ code: "wrong_passphrase", values: {}, message: "Wrong passphrase." })).toEqual({
      code: "wrong_passphrase",
      message: "That passphrase is not right. Try again.",
    });
  });

  it("fills the sentence with the values the shell sent", () => {
    const e = { code: "keychain_timeout", values: { seconds: "30" }, message: "English for the log" };
    expect(normalizeError(e).message).toMatch(/^Your system keychain did not answer within 30 seconds\./);
    expect(normalizeError({ code: "weak_passphrase", values: { minimum: "12" }, message: "x" }).message).toBe(
      "Use at least 12 characters for the passphrase.",
    );
  });

  it("speaks the customer's language", () => {
    setLocale("de-DE");
    expect(normalizeError({ code: "weak_passphrase", values: { minimum: "12" }, message: "x" })).toEqual({
      code: "weak_passphrase",
      message: "Verwenden Sie für das Passwort mindestens 12 Zeichen.",
    });
    setLocale("fr-FR");
    expect(normalizeError({ code: "locked", values: {}, message: "Strongroom is locked." }).message).toBe(
      "Strongroom est verrouillé. Déverrouillez-le, puis réessayez.",
    );
  });

  it("picks the plural form from a count sent as text", () => {
    const one = normalizeError({ code: "rotation_incomplete", values: { count: "1" }, message: "x" });
    expect(one.message).toMatch(/^One item in your history/);
    const three = normalizeError({ code: "rotation_incomplete", values: { count: "3" }, message: "x" });
    expect(three.message).toMatch(/^3 items in your history/);
  });

  it("gives every oauth_ code the OAuth sentence, with advice for the server's code", () => {
    const known = normalizeError({ code: "oauth_use_dpop_nonce", values: { error: "use_dpop_nonce" }, message: "x" });
    expect(known.code).toBe("oauth_use_dpop_nonce");
    expect(known.message).toMatch(/clock/);
    // Without values the server's code is read from the code itself.
    const other = normalizeError({ code: "oauth_made_up", message: "x" });
    expect(other).toEqual({
      code: "oauth_made_up",
      message:
        "Your bank's sign-in service reported an error (made_up). If this goes on, tell your bank, quoting this code.",
    });
  });

  it("keeps a code the catalogue does not know, with the unknown error's sentence", () => {
    expect(normalizeError({ code: "brand_new", values: {}, message: "Some English." })).toEqual({
      code: "brand_new",
      message: "Something went wrong. Please try again.",
    });
  });

  it("drops extra fields and needs no message", () => {
    expect(normalizeError({ code: "link_expired", message: "", extra: 1 })).toEqual({
      code: "link_expired",
      message: "The link code expired before it was approved. Start linking again.",
    });
  });

  it("maps a bare string rejection to code unknown", () => {
    expect(normalizeError("store is closed")).toEqual({
      code: "unknown",
      message: "Something went wrong. Please try again.",
    });
  });

  it("parses a JSON string that carries {code, values, message}", () => {
    expect(normalizeError('{"code":"keychain_locked","values":{},"message":"Unlock your keyring."}')).toEqual({
      code: "keychain_locked",
      message:
        "Your system keychain is locked. Unlock it (on Linux, open Passwords and Keys and unlock the Login keyring; on macOS, open Keychain Access), then try again. Nothing was lost.",
    });
  });

  it("gives back an error it made as it is, values filled in", () => {
    const once = normalizeError({ code: "weak_passphrase", values: { minimum: "12" }, message: "x" });
    expect(normalizeError(once)).toBe(once);
    expect(normalizeError(once).message).toBe("Use at least 12 characters for the passphrase.");
  });

  it("maps a missing Tauri bridge to no_shell", () => {
    const e = new TypeError("Cannot read properties of undefined (reading 'invoke')");
    expect(normalizeError(e)).toEqual({
      code: "no_shell",
      message: "Strongroom's window could not reach the app core. Please restart Strongroom.",
    });
  });

  it("maps other exceptions to unknown", () => {
    expect(normalizeError(new Error("boom"))).toEqual({
      code: "unknown",
      message: "Something went wrong. Please try again.",
    });
  });

  it("gives a generic message for null, undefined, numbers and empty objects", () => {
    for (const v of [null, undefined, 42, {}, "", { code: 5, message: "x" }]) {
      const n = normalizeError(v);
      expect(typeof n.code).toBe("string");
      expect(n.message.length).toBeGreaterThan(0);
    }
    expect(normalizeError({ code: 5, message: "x" })).toEqual({
      code: "unknown",
      message: "Something went wrong. Please try again.",
    });
  });

  it("strips control characters from values and bounds the length of messages", () => {
    const n = normalizeError({
      code: "network",
      values: { host: `a\u0000b\u001b[31mc${"z".repeat(2000)}` },
      message: "x",
    });
    expect(n.message).not.toMatch(/[\u0000-\u001f]/);
    expect(n.message.length).toBeLessThanOrEqual(501);
  });
});

// The typed wrappers in src/ipc reject with the normalised error and pass the
// contract's camelCase arguments, through Tauri's real invoke over its IPC mock.
describe("ipc wrappers", () => {
  const seen: { cmd: string; args: unknown }[] = [];
  let answer: (cmd: string) => unknown = () => null;

  beforeEach(() => {
    seen.length = 0;
    answer = () => null;
    mockWindows("main");
    mockIPC((cmd, args) => {
      seen.push({ cmd, args });
      return answer(cmd);
    });
  });
  afterEach(clearMocks);

  it("reject with {code, message} whatever the shell rejected with", async () => {
    answer = () => Promise.reject("plain failure");
    await expect(ipc.accounts()).rejects.toEqual({
      code: "unknown",
      message: "Something went wrong. Please try again.",
    });
    answer = () => {
      throw { code: "link_denied", values: {}, message: "The bank said no." };
    };
    await expect(ipc.linkFinish("l1")).rejects.toEqual({
      code: "link_denied",
      message: "The link was denied at your bank. Nothing was linked.",
    });
  });

  it("pass camelCase arguments as docs/ipc.md says", async () => {
    await ipc.answerFraudCheck("00000000000000aa", "alert-1", "not_me");
    await ipc.linkCancel("L");
    await ipc.unlock(null);
    await ipc.alerts(null, 50);
    expect(seen).toEqual([
      { cmd: "answer_fraud_check", args: { account: "00000000000000aa", alertId: "alert-1", answer: "not_me" } },
      { cmd: "link_cancel", args: { linkId: "L" } },
      { cmd: "unlock", args: { passphrase: null } },
      { cmd: "alerts", args: { account: null, limit: 50 } },
    ]);
  });

  it("say the app core is out of reach when the page runs outside the shell", async () => {
    clearMocks();
    await expect(ipc.status()).rejects.toMatchObject({ code: "no_shell" });
  });
});
