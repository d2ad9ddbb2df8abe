// Writes tests/amounts.json: amounts as Intl writes them, for the locale tags
// Strongroom formats in (strongroom_l10n::FORMAT_TAGS). The Rust formatter is
// tested against this file, and the window's formatAmount too (ui/tests), so
// a notification and the window write every amount alike.
// Run: node crates/l10n/tests/amounts.mjs
import { writeFileSync } from "node:fs";

const tags = ["en-GB", "en-US", "de-DE", "fr-FR"];
const currencies = ["EUR", "GBP", "USD", "CHF", "JPY", "SEK", "PLN", "CAD", "AUD", "BHD", "KRW", "XYZ"];
const amounts = [0, 5, -4321, 123456, 100000000, 123456789012];
const cases = [];
for (const tag of tags) {
  for (const currency of currencies) {
    const digits = new Intl.NumberFormat("en", { style: "currency", currency }).resolvedOptions().maximumFractionDigits;
    const f = new Intl.NumberFormat(tag, {
      style: "currency",
      currency,
      minimumFractionDigits: digits,
      maximumFractionDigits: digits,
    });
    for (const minor of amounts) cases.push({ tag, currency, minor, text: f.format(minor / 10 ** digits) });
  }
}
writeFileSync(new URL("./amounts.json", import.meta.url), JSON.stringify({ icu: process.versions.icu, cases }, null, 1) + "\n");
