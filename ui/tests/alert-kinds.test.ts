// The alert-kind labels: one table (src/lib/alert-kinds.json) for the window
// and the notifications. The shell's own test (src-tauri notification_text.rs)
// checks the same table against the core's AlertKind enum.
import { render, screen, within } from "@testing-library/svelte";
import { describe, expect, it } from "vitest";
import AlertItem from "../src/components/AlertItem.svelte";
import { ALERT_KIND_LABELS, alertKindLabel } from "../src/lib/alert-kinds";
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
  it("label every alert kind, and only those", () => {
    expect(Object.keys(ALERT_KIND_LABELS).sort()).toEqual([...CORE_KINDS].sort());
    for (const kind of CORE_KINDS) {
      expect(alertKindLabel(kind), kind).toBe(ALERT_KIND_LABELS[kind]);
      expect(alertKindLabel(kind).trim(), kind).not.toBe("");
    }
  });

  it("carry no amount, since notifications that hide amounts show them", () => {
    for (const label of Object.values(ALERT_KIND_LABELS)) expect(label).not.toMatch(/\d/);
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
      expect(heading).toHaveTextContent(ALERT_KIND_LABELS[kind]);
      unmount();
    }
  });
});
