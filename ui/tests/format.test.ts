import { describe, expect, it } from "vitest";
import { currencyDigits, formatAmount, formatDateTime, utf8Bytes } from "../src/lib/format";

// Intl separates with no-break spaces (U+00A0, U+202F): compare with plain spaces.
const plain = (s: string) => s.replace(/[\u00a0\u202f]/g, " ");

describe("formatAmount", () => {
  it("formats minor units in the person's locale and the data's currency", () => {
    expect(formatAmount(123456, "USD", "en-US")).toBe("$1,234.56");
    expect(plain(formatAmount(123456, "EUR", "de-DE"))).toBe("1.234,56 €");
    expect(plain(formatAmount(123456, "EUR", "fr-FR"))).toBe("1 234,56 €");
    expect(formatAmount(123456, "GBP", "en-GB")).toBe("£1,234.56");
    expect(formatAmount(12345678, "INR", "en-IN")).toBe("₹1,23,456.78");
  });

  it("treats JPY minor units as whole yen (no decimals)", () => {
    expect(currencyDigits("JPY")).toBe(0);
    expect(formatAmount(1234, "JPY", "ja-JP")).toBe("￥1,234");
    expect(formatAmount(1234, "JPY", "en-US")).toBe("¥1,234");
    expect(plain(formatAmount(1234, "JPY", "de-DE"))).toBe("1.234 ¥");
  });

  it("uses three decimals for three-digit currencies such as BHD", () => {
    expect(currencyDigits("BHD")).toBe(3);
    expect(plain(formatAmount(1234, "BHD", "en-US"))).toBe("BHD 1.234");
  });

  it("formats negative amounts and small amounts without losing cents", () => {
    expect(formatAmount(-500, "USD", "en-US")).toBe("-$5.00");
    expect(formatAmount(7, "USD", "en-US")).toBe("$0.07");
    expect(formatAmount(0, "EUR", "en-IE")).toBe("€0.00");
  });

  it("accepts a lower-case currency code", () => {
    expect(formatAmount(100, "usd", "en-US")).toBe("$1.00");
  });

  it("shows a malformed currency code as a plain number and the code, not a guess", () => {
    expect(formatAmount(1234, "EURO", "en-US")).toBe("1,234 EURO");
  });

  it("falls back to en-US when the locale is not valid", () => {
    expect(formatAmount(100, "USD", "not a locale!!")).toBe("$1.00");
  });
});

describe("dates and sizes", () => {
  it("formats dates with Intl in the given locale", () => {
    const ms = Date.UTC(2026, 0, 15, 12, 0);
    expect(formatDateTime(ms, "en-US")).toMatch(/Jan 15, 2026/);
    expect(formatDateTime(ms, "de-DE")).toMatch(/15\.01\.2026/);
  });

  it("counts UTF-8 bytes, as the 4096-byte chat limit does", () => {
    expect(utf8Bytes("abc")).toBe(3);
    expect(utf8Bytes("é")).toBe(2);
    expect(utf8Bytes("€")).toBe(3);
    expect(utf8Bytes("😀")).toBe(4);
  });
});
