import { has, t, type Values } from "../lib/i18n.svelte";
import type { ErrorCode, IpcError, UiErrorCode } from "./types";

export type { IpcError };

/** Codes the UI itself produces when the shell's answer is not a `{code, values, message}`. */
export const UI_CODES = {
  noShell: "no_shell",
  unknown: "unknown",
} as const satisfies Record<string, UiErrorCode>;

const MAX_MESSAGE = 500;

// Values that pick a plural form must reach Fluent as numbers; the shell
// sends every value as decimal text (ErrorReport.values).
const COUNTS = new Set(["count"]);

function clean(message: string): string {
  // Shown to people as text; keep it one readable paragraph of bounded size.
  // eslint-disable-next-line no-control-regex
  const flat = message.replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, " ").trim();
  return flat.length > MAX_MESSAGE ? `${flat.slice(0, MAX_MESSAGE)}…` : flat;
}

/**
 * The catalogue message (errors.ftl) an error code is shown with: `error-<code>`,
 * `error-oauth` for every `oauth_*` code, and `error-unknown` for a code the
 * catalogue does not know (a newer shell, or a command that made up its own).
 */
export function errorMessageId(code: string): string {
  if (code.startsWith("oauth_")) return "error-oauth";
  const id = `error-${code}`;
  return has(id) ? id : `error-${UI_CODES.unknown}`;
}

function valuesOf(code: string, raw: unknown): Values {
  const values: Values = {};
  if (raw !== null && typeof raw === "object") {
    for (const [name, value] of Object.entries(raw as Record<string, unknown>)) {
      if (typeof value === "number") values[name] = value;
      else if (typeof value === "string") {
        values[name] = COUNTS.has(name) && /^\d+$/.test(value) ? Number(value) : clean(value);
      }
    }
  }
  // The OAuth message picks its advice by the server's code.
  if (code.startsWith("oauth_") && typeof values.error !== "string") {
    values.error = code.slice("oauth_".length);
  }
  return values;
}

/** The sentence for an error code in the current language, filled with the values the shell sent. */
export function errorText(code: string, values?: unknown): string {
  return clean(t(errorMessageId(code), valuesOf(code, values)));
}

// Errors this module made. Callers often normalise what a command rejected
// with again (the wrappers in index.ts already did): such an error keeps its
// sentence, which the values it no longer carries filled in.
const normalized = new WeakSet<IpcError>();

function made(error: IpcError): IpcError {
  normalized.add(error);
  return error;
}

function uiError(code: UiErrorCode): IpcError {
  return made({ code, message: errorText(code) });
}

/**
 * Whatever a command rejected with, as the contract's `{code, message}`, with the
 * message in the customer's language from the catalogue (the shell's English
 * `message` is for logs and is not shown). The shell rejects with its
 * `ErrorReport` `{code, values, message}`; anything else (a bare string from a
 * command that forgot to wrap its error, a JS exception when the page runs
 * outside the shell) is mapped to a stable UI code so callers can always branch
 * on `code`.
 */
export function normalizeError(e: unknown): IpcError {
  if (e !== null && typeof e === "object") {
    if (normalized.has(e as IpcError)) return e as IpcError;
    const o = e as Record<string, unknown>;
    const hasValues = o.values !== null && typeof o.values === "object";
    if (typeof o.code === "string" && o.code !== "" && (typeof o.message === "string" || hasValues)) {
      // The shell's codes are its ErrorCode enum (bindings.ts), serialized as is.
      return made({ code: o.code as ErrorCode, message: errorText(o.code, o.values) });
    }
    // invoke() outside the Tauri window fails with a TypeError on the missing bridge.
    if (e instanceof TypeError && /__TAURI|ipc|undefined/i.test(e.message)) {
      return uiError(UI_CODES.noShell);
    }
  }
  if (typeof e === "string") {
    const s = e.trim();
    if (s.startsWith("{")) {
      try {
        return normalizeError(JSON.parse(s));
      } catch {
        // not JSON: an unknown error
      }
    }
  }
  return uiError(UI_CODES.unknown);
}

/** True when `e` is a normalised error with this code. */
export function hasCode(e: unknown, code: IpcError["code"]): boolean {
  return normalizeError(e).code === code;
}
