import { render } from "@testing-library/svelte";
import type { ComponentProps } from "svelte";
import { describe, expect, it } from "vitest";
import DamageBanner from "../src/components/DamageBanner.svelte";
import type { DamageReport } from "../src/ipc/types";
import { chatDamaged, describeDamage, hasDamage } from "../src/lib/damage";
import { ACCOUNT, account } from "./fixtures";

/** A clean report, as `Status.damage` carries it (the JSON Rust serializes). */
function report(over: Partial<DamageReport> = {}): DamageReport {
  return { account: ACCOUNT, damaged_rows: 0, damaged_messages: 0, damaged_alerts: 0, scopes: [], alarms: [], ...over };
}

describe("describeDamage", () => {
  it("counts hidden messages and alerts per bank, singular and plural", () => {
    const d = describeDamage(report({ damaged_rows: 3, damaged_messages: 2, damaged_alerts: 1 }), "Demo Bank");
    expect(d.title).toBe("Part of Demo Bank's history on this device is damaged");
    expect(d.findings).toEqual([
      "2 damaged messages in your chat with Demo Bank were hidden.",
      "1 damaged alert in Demo Bank's history was hidden.",
    ]);
  });

  it("counts damaged rows that are neither messages nor alerts", () => {
    const d = describeDamage(report({ damaged_rows: 2, damaged_alerts: 1 }), "Demo Bank");
    expect(d.findings).toContain("1 other damaged record in Demo Bank's history was hidden.");
  });

  it("says messages were deleted or rolled back in the conversation, with the counts", () => {
    const d = describeDamage(
      report({ scopes: [{ table: "messages", conversation: 7, recorded_rows: 5, found_rows: 4 }] }),
      "Demo Bank",
    );
    expect(d.findings).toEqual([
      "Messages were deleted or rolled back in your chat with Demo Bank (Strongroom last saved 5, and 4 are there now).",
    ]);
    expect(d.details).toContain("messages of conversation 7: 5 saved, 4 found");
  });

  it("names added rows, same-count rollbacks and deleted alerts too", () => {
    const d = describeDamage(
      report({
        scopes: [
          { table: "messages", conversation: 1, recorded_rows: 1, found_rows: 2 },
          { table: "alerts", conversation: null, recorded_rows: 3, found_rows: 3 },
          { table: "alerts", conversation: null, recorded_rows: 3, found_rows: 1 },
          { table: "outbox", conversation: null, recorded_rows: 1, found_rows: 0 },
        ],
      }),
      "Demo Bank",
    );
    expect(d.findings[0]).toMatch(/^Messages were added or rolled back in your chat with Demo Bank outside the app/);
    expect(d.findings[1]).toBe("Alerts in Demo Bank's history were put back to an older version.");
    expect(d.findings[2]).toMatch(/^Alerts were deleted or rolled back in Demo Bank's history .*3, and 1 is there now/);
    expect(d.findings[3]).toMatch(/Messages waiting to be sent .* send again anything that is missing\.$/);
  });

  it("maps each alarm kind to a sentence", () => {
    const d = describeDamage(
      report({ alarms: [{ RolledBack: { anchored: 12, found: 9 } }, "HeadForged", "HeadMissing"] }),
      "Demo Bank",
    );
    expect(d.findings[0]).toBe(
      "This device's history file for Demo Bank is an older copy than the one Strongroom last used: messages and alerts that arrived after that copy was made may be missing.",
    );
    expect(d.findings[1]).toMatch(/record Strongroom keeps to check Demo Bank's history was edited outside the app/);
    expect(d.findings[2]).toMatch(/record Strongroom keeps to check Demo Bank's history was removed/);
    expect(d.details).toContain("RolledBack(found 9, expected 12)");
    expect(d.details).toContain("HeadForged");
  });

  it("still says something for an alarm this window does not know", () => {
    const unknown = "SomethingNew" as unknown as DamageReport["alarms"][number];
    const d = describeDamage(report({ alarms: [unknown, { Other: 1 } as never] }), "Demo Bank");
    expect(d.findings).toEqual(["Strongroom found damage in Demo Bank's history.", "Strongroom found damage in Demo Bank's history."]);
  });

  it("tells the customer the rest is readable, the app deleted nothing, and to contact the bank", () => {
    const d = describeDamage(report({ damaged_rows: 1, damaged_alerts: 1 }), "Demo Bank");
    expect(d.advice).toContain("Everything else in your history is still readable.");
    expect(d.advice).toContain("Strongroom did not delete anything");
    expect(d.advice).toContain("contact Demo Bank");
  });

  it("works without the bank's name (accounts not loaded yet)", () => {
    const d = describeDamage(report({ damaged_rows: 1, damaged_alerts: 1 }), null);
    expect(d.title).toBe("Part of a bank's history on this device is damaged");
    expect(d.findings).toEqual(["1 damaged alert in the history of one of your banks was hidden."]);
    expect(d.advice).toContain("contact your bank");
  });

  it("knows what concerns the chat", () => {
    expect(hasDamage(report())).toBe(false);
    expect(chatDamaged(report({ damaged_rows: 1, damaged_alerts: 1 }))).toBe(false);
    expect(chatDamaged(report({ damaged_rows: 1, damaged_messages: 1 }))).toBe(true);
    expect(chatDamaged(report({ alarms: ["HeadMissing"] }))).toBe(true);
    expect(
      chatDamaged(report({ scopes: [{ table: "messages", conversation: 1, recorded_rows: 2, found_rows: 1 }] })),
    ).toBe(true);
  });
});

function draw(props: ComponentProps<typeof DamageBanner>) {
  return render(DamageBanner, props).container;
}

describe("DamageBanner", () => {
  const second = account({ id: "00000000000000b2", bank_name: "Other Bank" });

  it("shows nothing when every history checked out", () => {
    const el = draw({ damage: [report()], accounts: [account()] });
    expect(el.querySelector('[data-testid="damage-banner"]')).toBeNull();
  });

  it("is an alert region with one report per damaged bank, in words", () => {
    const el = draw({
      damage: [
        report({ damaged_rows: 1, damaged_alerts: 1 }),
        report({ account: second.id, alarms: [{ RolledBack: { anchored: 4, found: 2 } }] }),
      ],
      accounts: [account(), second],
    });
    const banner = el.querySelector('[data-testid="damage-banner"]')!;
    expect(banner.getAttribute("role")).toBe("alert");
    const reports = [...el.querySelectorAll<HTMLElement>('[data-testid="damage-report"]')];
    expect(reports.map((r) => r.dataset.accountId)).toEqual([ACCOUNT, second.id]);
    expect(reports[0].textContent).toContain("Warning: Part of Demo Bank's history on this device is damaged");
    expect(reports[0].textContent).toContain("1 damaged alert in Demo Bank's history was hidden.");
    expect(reports[0].textContent).toContain("Everything else in your history is still readable.");
    expect(reports[1].textContent).toContain("This device's history file for Other Bank is an older copy");
    expect(reports[1].querySelector('[data-testid="damage-details"]')!.textContent).toContain("RolledBack(found 2, expected 4)");
  });

  it("shows one account's report only, as a status region without details, on that account's screen", () => {
    const el = draw({
      damage: [report({ damaged_rows: 1, damaged_messages: 1 }), report({ account: second.id, alarms: ["HeadForged"] })],
      accounts: [account(), second],
      only: second.id,
      compact: true,
    });
    expect(el.querySelector('[data-testid="damage-banner"]')!.getAttribute("role")).toBe("status");
    const reports = el.querySelectorAll('[data-testid="damage-report"]');
    expect(reports.length).toBe(1);
    expect(reports[0].textContent).toContain("Other Bank");
    expect(el.querySelector('[data-testid="damage-details"]')).toBeNull();
  });
});
