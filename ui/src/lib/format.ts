// Amounts and dates, always through Intl in the person's locale.

export function userLocale(): string {
  return (typeof navigator !== "undefined" && navigator.language) || "en-US";
}

/** How many minor-unit digits a currency has (JPY 0, EUR 2, BHD 3), per Intl's ISO 4217 data. */
export function currencyDigits(currency: string): number | null {
  try {
    const f = new Intl.NumberFormat("en", { style: "currency", currency });
    return f.resolvedOptions().maximumFractionDigits ?? 2;
  } catch {
    return null;
  }
}

/**
 * An integer amount in minor units as the locale writes money: 123456 EUR in
 * de-DE is "1.234,56 €", 1234 JPY in ja-JP is "￥1,234". Unknown currency codes
 * are shown as a plain number followed by the code rather than guessed at.
 */
export function formatAmount(minor: number, currency: string, locale = userLocale()): string {
  const code = currency.trim().toUpperCase();
  const digits = currencyDigits(code);
  if (digits === null || !Number.isFinite(minor)) {
    const n = Number.isFinite(minor) ? new Intl.NumberFormat(locale).format(minor) : "?";
    return `${n} ${code}`.trim();
  }
  const major = minor / 10 ** digits;
  try {
    return new Intl.NumberFormat(locale, {
      style: "currency",
      currency: code,
      minimumFractionDigits: digits,
      maximumFractionDigits: digits,
    }).format(major);
  } catch {
    return new Intl.NumberFormat("en-US", { style: "currency", currency: code }).format(major);
  }
}

function safeDateFormat(locale: string, options: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  try {
    return new Intl.DateTimeFormat(locale, options);
  } catch {
    return new Intl.DateTimeFormat("en-US", options);
  }
}

/** Date and time of an event (ms since the epoch). */
export function formatDateTime(ms: number, locale = userLocale()): string {
  return safeDateFormat(locale, { dateStyle: "medium", timeStyle: "short" }).format(new Date(ms));
}

/** Time only when it is today, else date and time: for feeds and chat bubbles. */
export function formatWhen(ms: number, locale = userLocale(), now = Date.now()): string {
  const d = new Date(ms);
  const today = new Date(now);
  const sameDay =
    d.getFullYear() === today.getFullYear() &&
    d.getMonth() === today.getMonth() &&
    d.getDate() === today.getDate();
  return sameDay
    ? safeDateFormat(locale, { timeStyle: "short" }).format(d)
    : formatDateTime(ms, locale);
}

/** UTF-8 size of a text, which is what the 4096-byte chat limit counts. */
export function utf8Bytes(text: string): number {
  return new TextEncoder().encode(text).length;
}

const KIND_LABELS: Record<string, string> = {
  purchase: "Purchase",
  card_not_present: "Online or phone payment",
  foreign_transaction: "Foreign transaction",
  declined: "Payment declined",
  balance_low: "Low balance",
  deposit_received: "Money received",
  payment_due: "Payment due",
  new_device_sign_in: "New device signed in",
  security_detail_changed: "Security details changed",
  fraud_check: "Did you make this payment?",
  custom: "Message from your bank",
  unverified: "Unverified alert",
};

export function alertKindLabel(kind: string): string {
  return KIND_LABELS[kind] ?? "Alert";
}
