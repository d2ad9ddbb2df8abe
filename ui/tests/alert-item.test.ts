import { render as renderComponent } from "@testing-library/svelte";
import userEvent from "@testing-library/user-event";
import type { ComponentProps } from "svelte";
import { describe, expect, it, vi } from "vitest";
import AlertItem from "../src/components/AlertItem.svelte";
import { alert } from "./fixtures";

let unmountLast = () => {};

function render(props: ComponentProps<typeof AlertItem>) {
  const r = renderComponent(AlertItem, props);
  unmountLast = r.unmount;
  return r.container;
}

const SCRIPT = `<script>window.__pwned = 1</script><img src=x onerror="window.__pwned=2">`;

describe("a verified alert", () => {
  it("carries the bank's badge and no quarantine warning", () => {
    const el = render({ alert: alert() });
    const item = el.querySelector('[data-testid="alert-item"]')!;
    expect(item.getAttribute("data-verified")).toBe("true");
    expect(item.getAttribute("data-alert-id")).toBe("alert-1");
    expect(el.textContent).toContain("Verified by Demo Bank");
    expect(el.querySelector('[data-testid="quarantine-warning"]')).toBeNull();
  });

  it("renders a bank's text containing markup as text, creating no element", () => {
    const el = render({ alert: alert({ text: SCRIPT, merchant: "<b>Shop</b>" }) });
    expect(el.querySelector("script")).toBeNull();
    expect(el.querySelector("img")).toBeNull();
    expect(el.querySelector("b")).toBeNull();
    expect(el.textContent).toContain(SCRIPT);
    expect(el.textContent).toContain("<b>Shop</b>");
    expect((window as unknown as { __pwned?: number }).__pwned).toBeUndefined();
  });

  it("shows fraud-check buttons, sends the answer, and shows the answered state", async () => {
    const onanswer = vi.fn().mockResolvedValue(undefined);
    const el = render({ alert: alert({ kind: "fraud_check" }), onanswer });
    const notMe = el.querySelector<HTMLButtonElement>('[data-testid="fraud-not-me"]')!;
    expect(el.querySelector('[data-testid="fraud-me"]')).not.toBeNull();
    notMe.click();
    await Promise.resolve();
    expect(onanswer).toHaveBeenCalledWith(expect.objectContaining({ id: "alert-1" }), "not_me");

    unmountLast();
    const answered = render({ alert: alert({ kind: "fraud_check", answer: "NotMe" }), onanswer });
    expect(answered.querySelector('[data-testid="fraud-answered"]')).not.toBeNull();
    expect(answered.querySelector('[data-testid="fraud-me"]')).toBeNull();
    expect(answered.querySelector('[data-testid="fraud-not-me"]')).toBeNull();
  });
});

describe("a quarantined alert (verified=false)", () => {
  const bad = alert({
    id: "quarantine:ab12cd",
    kind: "fraud_check",
    severity: "Critical",
    verified: false,
    verification: "signature does not match any pinned key",
    text: SCRIPT,
  });

  it("shows the red warning and never the bank's badge or name", () => {
    const el = render({ alert: bad });
    const item = el.querySelector('[data-testid="alert-item"]')!;
    expect(item.getAttribute("data-verified")).toBe("false");
    expect(item.getAttribute("data-alert-id")).toBe("quarantine:ab12cd");
    const warning = el.querySelector('[data-testid="quarantine-warning"]');
    expect(warning?.textContent).toContain("This alert failed verification and did not come from your bank");
    expect(el.textContent).not.toContain("Verified by");
    expect(el.textContent).not.toContain("Demo Bank");
    expect(el.querySelector(".badge")).toBeNull();
    expect(item.classList.contains("card")).toBe(false);
  });

  it("is collapsed: its content is hidden until asked for", async () => {
    const el = render({ alert: bad });
    expect(el.textContent).not.toContain("window.__pwned");
    const toggle = el.querySelector<HTMLButtonElement>("button[aria-expanded]")!;
    expect(toggle.getAttribute("aria-expanded")).toBe("false");
    await userEvent.click(toggle);
    expect(toggle.getAttribute("aria-expanded")).toBe("true");
    expect(el.textContent).toContain(SCRIPT);
  });

  it("renders a <script>/<img onerror> body as text and creates no element", () => {
    const el = render({ alert: bad, expanded: true });
    expect(el.textContent).toContain(SCRIPT);
    expect(el.querySelector("script")).toBeNull();
    expect(el.querySelector("img")).toBeNull();
    expect((window as unknown as { __pwned?: number }).__pwned).toBeUndefined();
  });

  it("offers no fraud-check buttons, even for a fraud_check kind", () => {
    const el = render({ alert: bad, expanded: true, onanswer: vi.fn() });
    expect(el.querySelector('[data-testid="fraud-me"]')).toBeNull();
    expect(el.querySelector('[data-testid="fraud-not-me"]')).toBeNull();
  });
});
