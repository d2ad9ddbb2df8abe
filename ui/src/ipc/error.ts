import type { ErrorCode, IpcError, UiErrorCode } from "./types";

export type { IpcError };

/** Codes the UI itself produces when the shell's answer is not a `{code, message}`. */
export const UI_CODES = {
  noShell: "no_shell",
  unknown: "unknown",
} as const satisfies Record<string, UiErrorCode>;

const MAX_MESSAGE = 500;

function clean(message: string): string {
  // Shown to people as text; keep it one readable paragraph of bounded size.
  // eslint-disable-next-line no-control-regex
  const flat = message.replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, " ").trim();
  return flat.length > MAX_MESSAGE ? `${flat.slice(0, MAX_MESSAGE)}…` : flat;
}

/**
 * Whatever a command rejected with, as the contract's `{code, message}`.
 * The shell rejects with `{code, message}`; anything else (a bare string from a
 * command that forgot to wrap its error, a JS exception when the page runs outside
 * the shell) is mapped to a stable UI code so callers can always branch on `code`.
 */
export function normalizeError(e: unknown): IpcError {
  if (e !== null && typeof e === "object") {
    const o = e as Record<string, unknown>;
    if (typeof o.code === "string" && o.code !== "" && typeof o.message === "string") {
      // The shell's codes are its ErrorCode enum (bindings.ts), serialized as is.
      return { code: o.code as ErrorCode, message: clean(o.message) || o.code };
    }
    if (e instanceof Error) {
      // invoke() outside the Tauri window fails with a TypeError on the missing bridge.
      if (e instanceof TypeError && /__TAURI|ipc|undefined/i.test(e.message)) {
        return {
          code: UI_CODES.noShell,
          message: "Strongroom's window could not reach the app core. Please restart Strongroom.",
        };
      }
      return { code: UI_CODES.unknown, message: clean(e.message) || "Something went wrong." };
    }
    if (typeof o.message === "string" && o.message.trim() !== "") {
      return { code: UI_CODES.unknown, message: clean(o.message) };
    }
  }
  if (typeof e === "string") {
    const s = e.trim();
    if (s.startsWith("{")) {
      try {
        return normalizeError(JSON.parse(s));
      } catch {
        // not JSON: fall through and show it as it is
      }
    }
    if (s !== "") return { code: UI_CODES.unknown, message: clean(s) };
  }
  return { code: UI_CODES.unknown, message: "Something went wrong. Please try again." };
}

/** True when `e` is a normalised error with this code. */
export function hasCode(e: unknown, code: IpcError["code"]): boolean {
  return normalizeError(e).code === code;
}
