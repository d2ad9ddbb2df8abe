// What the store's integrity check found at unlock (`Status.damage`), in words a
// bank customer understands. The shell sends codes and counts only; every
// sentence is made here, so the window and its tests read the same text.
import type { Alarm, DamageReport, ScopeMismatch } from "../ipc/types";

/** One account's damage, ready to show. */
export type DamageText = {
  account: string;
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

/** The name used when the account is not (yet) in the account list. */
export const UNKNOWN_BANK = "one of your banks";

function count(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

function wasWere(n: number): string {
  return n === 1 ? "was" : "were";
}

function possessive(bank: string): string {
  return bank === UNKNOWN_BANK ? "the history of one of your banks" : `${bank}'s history`;
}

/** Rows whose integrity check failed: they are hidden, the rest reads. */
function hiddenRows(r: DamageReport, bank: string): string[] {
  const out: string[] = [];
  if (r.damaged_messages > 0) {
    out.push(
      `${count(r.damaged_messages, "damaged message", "damaged messages")} in your chat with ${bank} ${wasWere(r.damaged_messages)} hidden.`,
    );
  }
  if (r.damaged_alerts > 0) {
    out.push(
      `${count(r.damaged_alerts, "damaged alert", "damaged alerts")} in ${possessive(bank)} ${wasWere(r.damaged_alerts)} hidden.`,
    );
  }
  const other = r.damaged_rows - r.damaged_messages - r.damaged_alerts;
  if (other > 0) {
    out.push(`${count(other, "other damaged record", "other damaged records")} in ${possessive(bank)} ${wasWere(other)} hidden.`);
  }
  return out;
}

/** Where a scope's rows live, as a customer says it. */
function scopePlace(s: ScopeMismatch, bank: string): { what: string; where: string } {
  switch (s.table) {
    case "messages":
      return { what: "Messages", where: `your chat with ${bank}` };
    case "alerts":
      return { what: "Alerts", where: possessive(bank) };
    case "outbox":
      return { what: "Messages waiting to be sent", where: `your chat with ${bank}` };
    default:
      // conversations, bank_links, accounts: the link's own records.
      return { what: "Records of your link", where: `${possessive(bank)}` };
  }
}

/** Rows of one conversation or table deleted, added or put back to an older version. */
export function describeScope(s: ScopeMismatch, bank: string): string {
  const { what, where } = scopePlace(s, bank);
  const counts = `Strongroom last saved ${s.recorded_rows}, and ${s.found_rows} ${s.found_rows === 1 ? "is" : "are"} there now`;
  let sentence: string;
  if (s.found_rows < s.recorded_rows) {
    sentence = `${what} were deleted or rolled back in ${where} (${counts}).`;
  } else if (s.found_rows > s.recorded_rows) {
    sentence = `${what} were added or rolled back in ${where} outside the app (${counts}).`;
  } else {
    sentence = `${what} in ${where} were put back to an older version.`;
  }
  if (s.table === "outbox") sentence += " Check your chat and send again anything that is missing.";
  return sentence;
}

/** Damage to the history as a whole. */
export function describeAlarm(a: Alarm, bank: string): string {
  if (a === "HeadForged") {
    return `The record Strongroom keeps to check ${possessive(bank)} was edited outside the app, so deleted messages or alerts may not all be noticed.`;
  }
  if (a === "HeadMissing") {
    return `The record Strongroom keeps to check ${possessive(bank)} was removed from the file, so deleted messages or alerts may not all be noticed.`;
  }
  if (typeof a === "object" && a !== null && "RolledBack" in a) {
    return `This device's history file for ${bank} is an older copy than the one Strongroom last used: messages and alerts that arrived after that copy was made may be missing.`;
  }
  // An alarm this window does not know yet (a newer shell): still say something.
  return `Strongroom found damage in ${possessive(bank)}.`;
}

function alarmCode(a: Alarm): string {
  if (typeof a === "string") return a;
  if (typeof a === "object" && a !== null && "RolledBack" in a) return `RolledBack(found ${a.RolledBack.found}, expected ${a.RolledBack.anchored})`;
  return "unknown";
}

/** The codes and counts behind the sentences, for the bank's support staff. */
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

/** One account's report in words; `bankName` null when the account is not known to the window. */
export function describeDamage(r: DamageReport, bankName: string | null): DamageText {
  const bank = bankName ?? UNKNOWN_BANK;
  const findings = [
    ...hiddenRows(r, bank),
    ...r.scopes.map((s) => describeScope(s, bank)),
    ...r.alarms.map((a) => describeAlarm(a, bank)),
  ];
  if (findings.length === 0) findings.push(`Strongroom found damage in ${possessive(bank)}.`);
  const contact = bankName ? `contact ${bankName}` : "contact your bank";
  return {
    account: r.account,
    bank,
    title: bankName
      ? `Part of ${bankName}'s history on this device is damaged`
      : "Part of a bank's history on this device is damaged",
    findings,
    advice:
      "Everything else in your history is still readable. Strongroom did not delete anything: the history file on this " +
      "computer was changed outside the app, for example by restoring a backup, a disk error, or someone with access " +
      `to this computer. If you did not expect this, ${contact} and mention this warning.`,
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
