// Amounts and dates, always through Intl in the person's locale: the one the
// shell resolved (i18n.svelte.ts), which the notifications use too.
import { localeTag } from "./i18n.svelte";

/** The locale amounts and dates are written in (a BCP 47 tag). */
export function userLocale(): string {
  return localeTag();
}

// Intl formatters are costly to make (ICU data, tens of KB each) and a feed
// formats hundreds of amounts and dates: each distinct one is made once.
const numberFormats = new Map<string, Intl.NumberFormat>();
const dateFormats = new Map<string, Intl.DateTimeFormat>();
const digitsByCurrency = new Map<string, number | null>();

function numberFormat(locale: string, options: Intl.NumberFormatOptions): Intl.NumberFormat {
  const key = `${locale}\u0000${JSON.stringify(options)}`;
  let f = numberFormats.get(key);
  if (!f) {
    f = new Intl.NumberFormat(locale, options); // may throw: callers fall back
    numberFormats.set(key, f);
  }
  return f;
}

/** How many minor-unit digits a currency has (JPY 0, EUR 2, BHD 3), per Intl's ISO 4217 data. */
export function currencyDigits(currency: string): number | null {
  const known = digitsByCurrency.get(currency);
  if (known !== undefined) return known;
  let digits: number | null;
  try {
    const f = numberFormat("en", { style: "currency", currency });
    digits = f.resolvedOptions().maximumFractionDigits ?? 2;
  } catch {
    digits = null;
  }
  digitsByCurrency.set(currency, digits);
  return digits;
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
    const n = Number.isFinite(minor) ? numberFormat(locale, {}).format(minor) : "?";
    return `${n} ${code}`.trim();
  }
  const major = minor / 10 ** digits;
  try {
    return numberFormat(locale, {
      style: "currency",
      currency: code,
      minimumFractionDigits: digits,
      maximumFractionDigits: digits,
    }).format(major);
  } catch {
    return numberFormat("en-US", { style: "currency", currency: code }).format(major);
  }
}

function safeDateFormat(locale: string, options: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  const key = `${locale}\u0000${JSON.stringify(options)}`;
  let f = dateFormats.get(key);
  if (!f) {
    try {
      f = new Intl.DateTimeFormat(locale, options);
    } catch {
      f = new Intl.DateTimeFormat("en-US", options);
    }
    dateFormats.set(key, f);
  }
  return f;
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

/** The time of day only (14:02), for "since" in the call status. */
export function formatClock(ms: number, locale = userLocale()): string {
  return safeDateFormat(locale, { timeStyle: "short" }).format(new Date(ms));
}

/** UTF-8 size of a text, which is what the 4096-byte chat limit counts. */
export function utf8Bytes(text: string): number {
  return new TextEncoder().encode(text).length;
}
