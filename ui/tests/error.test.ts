import { beforeEach, describe, expect, it, vi } from "vitest";
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
// contract's camelCase arguments. A fake invoke stands in for the shell here only.
const invoke = vi.fn();
vi.mock("@tauri-apps/api/core", () => ({
  invoke: (cmd: string, args?: unknown) => invoke(cmd, args),
  Channel: class {
    onmessage: (m: unknown) => void = () => {};
  },
}));

describe("ipc wrappers", () => {
  beforeEach(() => invoke.mockReset());

  it("reject with {code, message} whatever the shell rejected with", async () => {
    const ipc = await import("../src/ipc");
    invoke.mockRejectedValueOnce("plain failure");
    await expect(ipc.accounts()).rejects.toEqual({ code: "unknown", message: "plain failure" });
    invoke.mockRejectedValueOnce({ code: "link_denied", message: "The bank said no." });
    await expect(ipc.linkFinish("l1")).rejects.toEqual({ code: "link_denied", message: "The bank said no." });
  });

  it("pass camelCase arguments as docs/ipc.md says", async () => {
    const ipc = await import("../src/ipc");
    invoke.mockResolvedValue(null);
    await ipc.answerFraudCheck("00000000000000aa", "alert-1", "not_me");
    expect(invoke).toHaveBeenLastCalledWith("answer_fraud_check", {
      account: "00000000000000aa",
      alertId: "alert-1",
      answer: "not_me",
    });
    await ipc.linkCancel("L");
    expect(invoke).toHaveBeenLastCalledWith("link_cancel", { linkId: "L" });
    await ipc.unlock(null);
    expect(invoke).toHaveBeenLastCalledWith("unlock", { passphrase: null });
    await ipc.alerts(null, 50);
    expect(invoke).toHaveBeenLastCalledWith("alerts", { account: null, limit: 50 });
  });
});
