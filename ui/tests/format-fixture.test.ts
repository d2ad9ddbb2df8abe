// The window's amounts and the notifications' (strongroom_l10n::format_amount)
// follow one fixture written by Intl (crates/l10n/tests/amounts.mjs): this
// side checks formatAmount against it, the Rust side checks itself.
import { describe, expect, it } from "vitest";
import fixture from "../../crates/l10n/tests/amounts.json";
import { formatAmount } from "../src/lib/format";

describe("formatAmount", () => {
  it("writes every fixture amount exactly as the notifications do", () => {
    expect(fixture.cases.length).toBeGreaterThan(200);
    const wrong = fixture.cases
      .map((c) => ({ ...c, got: formatAmount(c.minor, c.currency, c.tag) }))
      .filter((c) => c.got !== c.text);
    expect(wrong).toEqual([]);
  });
});
