// The words for each alert kind. The table is JSON because the shell reads the
// same file when it builds a notification (src-tauri/src/notification_text.rs):
// the window and the notifications cannot name a kind differently.
import labels from "./alert-kinds.json";

/** Kind code (the core's `AlertKind` name, e.g. `fraud_check`) → its label. */
export const ALERT_KIND_LABELS: Readonly<Record<string, string>> = labels;

/**
 * The words for an alert kind, without any amount or merchant. A kind this
 * build does not know reads as a message from the bank, as in a notification.
 */
export function alertKindLabel(kind: string): string {
  return Object.prototype.hasOwnProperty.call(ALERT_KIND_LABELS, kind)
    ? ALERT_KIND_LABELS[kind]
    : ALERT_KIND_LABELS.custom;
}

/**
 * The kinds that ask the customer "was this you?" (the core's
 * `AlertKind::asks_answer`): a fraud check, and a change of a security detail.
 */
export function asksAnswer(kind: string): boolean {
  return kind === "fraud_check" || kind === "security_detail_changed";
}
