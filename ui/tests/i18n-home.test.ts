// Home in German and French: a fraud check asks its question and offers its
// answers in the customer's language, with the amount written as that locale
// writes money, and the words follow a change of language without a reload.
import { render, screen, within } from "@testing-library/svelte";
import { tick, type ComponentProps } from "svelte";
import { afterEach, describe, expect, it, vi } from "vitest";
import AlertItem from "../src/components/AlertItem.svelte";
import Home from "../src/components/Home.svelte";
import type { DamageReport } from "../src/ipc/types";
import { describeDamage } from "../src/lib/damage";
import { setLocale } from "../src/lib/i18n.svelte";
import { ACCOUNT, account, alert } from "./fixtures";

/** Intl writes no-break and narrow no-break spaces in amounts; compare them as spaces. */
const spaces = (s: string | null | undefined) => (s ?? "").replace(/[\u00a0\u202f]/g, " ");

const fraudCheck = () =>
  alert({ kind: "fraud_check", severity: "Critical", amount_minor: 123456, currency: "EUR", merchant: "Corner Cafe" });

function drawFraudCheck() {
  render(AlertItem, { alert: fraudCheck(), onanswer: vi.fn().mockResolvedValue(undefined) });
  return screen.getByTestId("alert-item");
}

afterEach(() => setLocale("en-US"));

describe("a fraud check in German", () => {
  it("asks in German, answers with German buttons, and writes the amount as 1.234,56 €", () => {
    setLocale("de-DE");
    const item = drawFraudCheck();
    expect(within(item).getByRole("heading", { level: 3 })).toHaveTextContent("Bitte bestätigen Sie eine Zahlung");
    expect(item.querySelector(".question")).toHaveTextContent("Waren Sie das?");
    expect(screen.getByTestId("fraud-me")).toHaveTextContent("Das war ich");
    expect(screen.getByTestId("fraud-not-me")).toHaveTextContent("Das war ich nicht");
    expect(spaces(item.querySelector(".amount")?.textContent)).toBe("1.234,56 €");
    expect(item).toHaveTextContent("Verifiziert von Demo Bank");
    expect(item).toHaveTextContent("Dringend");
    expect(item).not.toHaveTextContent("Was this you?");
  });

  it("thanks the customer in German once answered", () => {
    setLocale("de-DE");
    render(AlertItem, { alert: alert({ kind: "fraud_check", answer: "NotMe" }) });
    expect(screen.getByTestId("fraud-answered")).toHaveTextContent(
      "Sie haben Demo Bank mitgeteilt, dass Sie es nicht waren.",
    );
  });
});

describe("a fraud check in French", () => {
  it("asks in French, answers with French buttons, and writes the amount as 1 234,56 €", () => {
    setLocale("fr-FR");
    const item = drawFraudCheck();
    expect(within(item).getByRole("heading", { level: 3 })).toHaveTextContent("Veuillez confirmer une opération");
    // French typography: a no-break space before the question mark.
    expect(item.querySelector(".question")?.textContent).toBe("Est-ce bien vous\u00a0?");
    expect(screen.getByTestId("fraud-me")).toHaveTextContent("C'était moi");
    expect(screen.getByTestId("fraud-not-me")).toHaveTextContent("Ce n'était pas moi");
    expect(spaces(item.querySelector(".amount")?.textContent)).toBe("1 234,56 €");
    expect(item).toHaveTextContent("Vérifiée par Demo Bank");
    expect(item).not.toHaveTextContent("This was me");
  });
});

describe("a change of language", () => {
  it("re-renders a fraud check that is already on screen", async () => {
    const item = drawFraudCheck();
    expect(item.querySelector(".question")).toHaveTextContent("Was this you?");
    expect(spaces(item.querySelector(".amount")?.textContent)).toBe("€1,234.56");
    setLocale("de-DE");
    await tick();
    expect(item.querySelector(".question")).toHaveTextContent("Waren Sie das?");
    expect(spaces(item.querySelector(".amount")?.textContent)).toBe("1.234,56 €");
    setLocale("fr-FR");
    await tick();
    expect(screen.getByTestId("fraud-me")).toHaveTextContent("C'était moi");
    expect(spaces(item.querySelector(".amount")?.textContent)).toBe("1 234,56 €");
  });
});

describe("Home in German and French", () => {
  const props = (over: Partial<ComponentProps<typeof Home>> = {}): ComponentProps<typeof Home> => ({
    accounts: [account()],
    alerts: [alert({ id: "f1", kind: "fraud_check" }), alert({ id: "f2", kind: "fraud_check" })],
    onanswer: vi.fn().mockResolvedValue(undefined),
    onchat: vi.fn(),
    onlink: vi.fn(),
    onreport: vi.fn().mockResolvedValue(0),
    ...over,
  });

  it("counts unanswered fraud checks with the language's plural", () => {
    setLocale("de-DE");
    render(Home, props());
    expect(screen.getByRole("heading", { name: /Meldungen/ })).toHaveTextContent("2 warten auf Ihre Antwort");
    expect(screen.getByTestId("account-card")).toHaveTextContent("Chat mit Demo Bank");
  });

  it("offers to link a bank in French", () => {
    setLocale("fr-FR");
    render(Home, props({ accounts: [], alerts: [] }));
    expect(screen.getByRole("button", { name: "Associer une banque" })).toBeInTheDocument();
    expect(screen.getByText(/Aucune alerte pour l'instant/)).toBeInTheDocument();
  });
});

describe("damage in German and French", () => {
  const report = (over: Partial<DamageReport> = {}): DamageReport => ({
    account: ACCOUNT,
    damaged_rows: 0,
    damaged_messages: 0,
    damaged_alerts: 0,
    scopes: [],
    alarms: [],
    ...over,
  });

  it("builds whole sentences, singular and plural, for a known and an unknown bank", () => {
    setLocale("de-DE");
    const d = describeDamage(report({ damaged_rows: 3, damaged_messages: 2, damaged_alerts: 1 }), "Demo Bank");
    expect(d.title).toBe("Ein Teil des Verlaufs von Demo Bank auf diesem Gerät ist beschädigt");
    expect(d.findings).toEqual([
      "2 beschädigte Nachrichten in Ihrem Chat mit Demo Bank wurden ausgeblendet.",
      "1 beschädigte Meldung im Verlauf von Demo Bank wurde ausgeblendet.",
    ]);
    expect(describeDamage(report({ damaged_rows: 1, damaged_alerts: 1 }), null).findings).toEqual([
      "1 beschädigte Meldung im Verlauf einer Ihrer Banken wurde ausgeblendet.",
    ]);

    setLocale("fr-FR");
    const f = describeDamage(
      report({ scopes: [{ table: "outbox", conversation: null, recorded_rows: 3, found_rows: 1 }] }),
      "Demo Bank",
    );
    expect(f.findings[0]).toMatch(/^Des messages en attente d'envoi ont été supprimés .* avec Demo Bank \(.*3.*1\)\. Vérifiez/);
    expect(f.advice).toContain("contactez Demo Bank");
  });
});
