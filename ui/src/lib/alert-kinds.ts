// The words for each alert kind live in the shared catalogue
// (crates/l10n/locales/<lang>/kinds.ftl), which the shell also reads when it
// builds a notification: the window and the notifications cannot name a
// kind differently.
import { has, t } from "./i18n.svelte";

/**
 * The words for an alert kind, without any amount or merchant. A kind this
 * build does not know reads as a message from the bank, as in a notification.
 */
export function alertKindLabel(kind: string): string {
  return has(`kind-${kind}`) ? t(`kind-${kind}`) : t("kind-custom");
}

/**
 * The kinds that ask the customer "was this you?" (the core's
 * `AlertKind::asks_answer`): a fraud check, and a change of a security detail.
 */
export function asksAnswer(kind: string): boolean {
  return kind === "fraud_check" || kind === "security_detail_changed";
}
