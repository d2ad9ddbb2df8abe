// The TypeScript side of docs/ipc.md. The views, live events and error codes
// are generated from the Rust types (bindings.ts, by ts-rs); only what the
// shell does not send as a Rust type is written here.
import type { ErrorCode } from "./bindings";

export type * from "./bindings";

/** Codes the UI itself gives an error when the shell's answer is not a `{code, message}`. */
export type UiErrorCode = "no_shell" | "unknown";

/** An error as the window handles it: the shell's `ErrorReport`, or one the UI made. */
export type IpcError = { code: ErrorCode | UiErrorCode; message: string };

/** A newer version the update server offers (its signature is checked only when it is installed). */
export type UpdateOffer = { version: string; current_version: string; notes: string | null };
export type UpdateCheck = { current_version: string; offer: UpdateOffer | null };
