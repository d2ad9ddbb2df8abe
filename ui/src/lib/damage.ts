// What the store's integrity check found at unlock (`Status.damage`), in words a
// bank customer understands. The shell sends codes and counts only; every
// sentence comes from the window's catalogue (damage-* in window-home.ftl), so
// the window and its tests read the same text.
import type { Alarm, DamageReport, ScopeMismatch } from "../ipc/types";
import { t } from "./i18n.svelte";

/** One account's damage, ready to show. */
export type DamageText = {
  account: string;
  /** The bank's name, or the catalogue's words for "one of your banks". */
  bank: string;
  /** One line: whose history is damaged. */
  title: string;
  /** One sentence per finding: hidden rows, deleted or rolled-back rows, an older file. */
  findings: string[];
  /** What it means and what to do. */
  advice: string;
  /** The codes and counts, for the bank's support staff. */
  details: string;
};

/**
 * The bank a report is about, as the sentences name it: `bank` stands where a
 * bank's name goes ("your chat with …"), `history` where its history does
 * ("… in Demo Bank's history"). A bank the window does not know yet (accounts
 * not loaded) is "one of your banks".
 */
type Whose = { bank: string; history: string };

function whose(bankName: string | null): Whose {
  return bankName === null
    ? { bank: t("damage-unknown-bank"), history: t("damage-history-unknown") }
    : { bank: bankName, history: t("damage-history", { bank: bankName }) };
}

/** Rows whose integrity check failed: they are hidden, the rest reads. */
function hiddenRows(r: DamageReport, w: Whose): string[] {
  const out: string[] = [];
  if (r.damaged_messages > 0) out.push(t("damage-hidden-messages", { count: r.damaged_messages, ...w }));
  if (r.damaged_alerts > 0) out.push(t("damage-hidden-alerts", { count: r.damaged_alerts, ...w }));
  const other = r.damaged_rows - r.damaged_messages - r.damaged_alerts;
  if (other > 0) out.push(t("damage-hidden-other", { count: other, ...w }));
  return out;
}

/**
 * Rows of one conversation or table deleted, added or put back to an older
 * version. The catalogue's sentences choose by `table`: messages, alerts,
 * outbox, and any other table as the link's own records.
 */
export function describeScope(s: ScopeMismatch, bankName: string | null): string {
  const w = whose(bankName);
  const counts = t("damage-scope-counts", { recorded: s.recorded_rows, found: s.found_rows });
  const id =
    s.found_rows < s.recorded_rows
      ? "damage-scope-fewer"
      : s.found_rows > s.recorded_rows
        ? "damage-scope-more"
        : "damage-scope-older";
  const sentence = t(id, { table: s.table, counts, ...w });
  return s.table === "outbox" ? `${sentence} ${t("damage-scope-outbox-hint")}` : sentence;
}

/** Damage to the history as a whole. */
export function describeAlarm(a: Alarm, bankName: string | null): string {
  const w = whose(bankName);
  if (a === "HeadForged") return t("damage-alarm-head-forged", w);
  if (a === "HeadMissing") return t("damage-alarm-head-missing", w);
  if (typeof a === "object" && a !== null && "RolledBack" in a) return t("damage-alarm-rolled-back", w);
  // An alarm this window does not know yet (a newer shell): still say something.
  return t("damage-found", w);
}

function alarmCode(a: Alarm): string {
  if (typeof a === "string") return a;
  if (typeof a === "object" && a !== null && "RolledBack" in a) return `RolledBack(found ${a.RolledBack.found}, expected ${a.RolledBack.anchored})`;
  return "unknown";
}

/**
 * The codes and counts behind the sentences, for the bank's support staff. Not
 * translated on purpose: a code line support reads the same from every
 * customer, whatever language their window speaks.
 */
export function damageDetails(r: DamageReport): string {
  const parts = [`account ${r.account}`];
  if (r.damaged_rows > 0) {
    parts.push(`damaged rows ${r.damaged_rows} (messages ${r.damaged_messages}, alerts ${r.damaged_alerts})`);
  }
  for (const s of r.scopes) {
    const place = s.conversation !== null ? `${s.table} of conversation ${s.conversation}` : s.table;
    parts.push(`${place}: ${s.recorded_rows} saved, ${s.found_rows} found`);
  }
  for (const a of r.alarms) parts.push(alarmCode(a));
  return parts.join("; ");
}

/**
 * One account's report in words, in the current language; `bankName` null when
 * the account is not known to the window. Call it where it is shown (a
 * template or `$derived`), so the words follow a change of language.
 */
export function describeDamage(r: DamageReport, bankName: string | null): DamageText {
  const w = whose(bankName);
  const findings = [
    ...hiddenRows(r, w),
    ...r.scopes.map((s) => describeScope(s, bankName)),
    ...r.alarms.map((a) => describeAlarm(a, bankName)),
  ];
  if (findings.length === 0) findings.push(t("damage-found", w));
  return {
    account: r.account,
    bank: w.bank,
    title: bankName === null ? t("damage-title-unknown") : t("damage-title", { bank: bankName }),
    findings,
    advice: bankName === null ? t("damage-advice-unknown") : t("damage-advice", { bank: bankName }),
    details: damageDetails(r),
  };
}

/** Whether a report has anything to show. */
export function hasDamage(r: DamageReport): boolean {
  return r.damaged_rows > 0 || r.scopes.length > 0 || r.alarms.length > 0;
}

/** Whether the chat of `account` is concerned: its messages hidden or changed, or the whole history. */
export function chatDamaged(r: DamageReport): boolean {
  return (
    r.damaged_messages > 0 ||
    r.alarms.length > 0 ||
    r.scopes.some((s) => s.table === "messages" || s.table === "outbox")
  );
}
