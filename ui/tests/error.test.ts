import { clearMocks, mockIPC, mockWindows } from "@tauri-apps/api/mocks";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import * as ipc from "../src/ipc";
import { normalizeError } from "../src/ipc/error";

describe("normalizeError", () => {
  it("keeps the shell's {code, message}", () => {
    expect(normalizeError({ code: "wrong_passphrase", message: "Wrong passphrase." })).toEqual({
      code: "wrong_passphrase",
      message: "Wrong passphrase.",
    });
  });

  it("drops extra fields and uses the code when the message is empty", () => {
    expect(normalizeError({ code: "link_expired", message: "", extra: 1 })).toEqual({
      code: "link_expired",
      message: "link_expired",
    });
  });

  it("maps a bare string rejection to code unknown with the string as message", () => {
    expect(normalizeError("store is closed")).toEqual({ code: "unknown", message: "store is closed" });
  });

  it("parses a JSON string that carries {code, message}", () => {
    expect(normalizeError('{"code":"keychain_locked","message":"Unlock your keyring."}')).toEqual({
      code: "keychain_locked",
      message: "Unlock your keyring.",
    });
  });

  it("maps a missing Tauri bridge to no_shell", () => {
    const e = new TypeError("Cannot read properties of undefined (reading 'invoke')");
    expect(normalizeError(e).code).toBe("no_shell");
  });

  it("maps other exceptions to unknown with their message", () => {
    expect(normalizeError(new Error("boom"))).toEqual({ code: "unknown", message: "boom" });
  });

  it("gives a generic message for null, undefined, numbers and empty objects", () => {
    for (const v of [null, undefined, 42, {}, "", { code: 5, message: "x" }]) {
      const n = normalizeError(v);
      expect(typeof n.code).toBe("string");
      expect(n.message.length).toBeGreaterThan(0);
    }
    expect(normalizeError({ code: 5, message: "x" })).toEqual({ code: "unknown", message: "x" });
  });

  it("strips control characters and bounds the length of messages", () => {
    const n = normalizeError({ code: "x", message: `a\u0000b\u001b[31mc${"z".repeat(2000)}` });
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
    await expect(ipc.accounts()).rejects.toEqual({ code: "unknown", message: "plain failure" });
    answer = () => {
      throw { code: "link_denied", message: "The bank said no." };
    };
    await expect(ipc.linkFinish("l1")).rejects.toEqual({ code: "link_denied", message: "The bank said no." });
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
