// The alert-kind labels: one catalogue (crates/l10n/locales/<lang>/kinds.ftl)
// for the window and the notifications. The shell's own test (src-tauri
// notification_text.rs) checks the same catalogue against the core's AlertKind enum.
import { render, screen, within } from "@testing-library/svelte";
import { describe, expect, it } from "vitest";
import AlertItem from "../src/components/AlertItem.svelte";
import { afterEach } from "vitest";
import { alertKindLabel } from "../src/lib/alert-kinds";
import { LANGS, has, setLocale } from "../src/lib/i18n.svelte";
import { alert } from "./fixtures";

/** The core's alert kinds (`AlertKind::name` in crates/core/src/protocol/alert.rs). */
const CORE_KINDS = [
  "purchase",
  "card_not_present",
  "foreign_transaction",
  "declined",
  "balance_low",
  "deposit_received",
  "payment_due",
  "new_device_sign_in",
  "security_detail_changed",
  "fraud_check",
  "custom",
];

describe("alert-kind labels", () => {
  afterEach(() => setLocale("en-US"));

  it("label every alert kind in every language, each differently", () => {
    for (const kind of CORE_KINDS) {
      expect(has(`kind-${kind}`), kind).toBe(true);
      const labels = LANGS.map((l) => {
        setLocale(l);
        return alertKindLabel(kind);
      });
      for (const label of labels) expect(label.trim(), kind).not.toBe("");
      // A language that fell back to English would repeat it.
      expect(new Set(labels).size, `${kind}: ${labels.join(" / ")}`).toBe(LANGS.length);
    }
  });

  it("carry no amount, since notifications that hide amounts show them", () => {
    for (const l of LANGS) {
      setLocale(l);
      for (const kind of CORE_KINDS) expect(alertKindLabel(kind)).not.toMatch(/\d/);
    }
  });

  it("name a kind this build does not know as a message from the bank", () => {
    for (const kind of ["kind_from_the_future", "", "toString", "__proto__"]) {
      expect(alertKindLabel(kind)).toBe("Message from your bank");
    }
  });

  it("are what the feed shows for each kind", () => {
    for (const kind of CORE_KINDS) {
      const { unmount } = render(AlertItem, { alert: alert({ kind }) });
      const heading = within(screen.getByTestId("alert-item")).getByRole("heading", { level: 3 });
      expect(heading).toHaveTextContent(alertKindLabel(kind));
      unmount();
    }
  });
});
