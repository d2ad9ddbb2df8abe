// Home on its own: the linked accounts and the alert feed it is given.
import { render, screen, within } from "@testing-library/svelte";
import userEvent from "@testing-library/user-event";
import type { ComponentProps } from "svelte";
import { describe, expect, it, vi } from "vitest";
import Home from "../src/components/Home.svelte";
import { ACCOUNT, account, alert } from "./fixtures";

const props = (over: Partial<ComponentProps<typeof Home>> = {}): ComponentProps<typeof Home> => ({
  accounts: [account()],
  alerts: [alert()],
  onanswer: vi.fn().mockResolvedValue(undefined),
  onchat: vi.fn(),
  onlink: vi.fn(),
  onreport: vi.fn().mockResolvedValue(Date.UTC(2026, 0, 14, 14, 5)),
  ...over,
});

describe("home", () => {
  it("shows an alert with its kind, amount, merchant and the bank's badge", () => {
    render(Home, props());
    const item = screen.getByTestId("alert-item");
    expect(item).toHaveAttribute("data-alert-id", "alert-1");
    expect(within(item).getByRole("heading", { level: 3 })).toHaveTextContent("Card purchase");
    expect(item).toHaveTextContent("€12.50");
    expect(item).toHaveTextContent("Corner Cafe");
    expect(item).toHaveTextContent("Verified by Demo Bank");
    expect(screen.getByTestId("account-card")).toHaveTextContent("Demo Bank");
  });

  it("counts the fraud checks awaiting an answer", () => {
    render(
      Home,
      props({
        alerts: [
          alert({ id: "f1", kind: "fraud_check" }),
          alert({ id: "f2", kind: "fraud_check", answer: "ThisWasMe" }),
          alert({ id: "f3", kind: "fraud_check", verified: false }),
        ],
      }),
    );
    expect(screen.getByRole("heading", { name: /Alerts/ })).toHaveTextContent("1 awaiting your answer");
  });

  it("hands a fraud-check answer on, and shows why it could not be sent", async () => {
    const onanswer = vi.fn().mockRejectedValue({ code: "offline", message: "The bank could not be reached." });
    render(Home, props({ alerts: [alert({ kind: "fraud_check" })], onanswer }));
    await userEvent.click(screen.getByTestId("fraud-me"));
    expect(onanswer).toHaveBeenCalledWith(expect.objectContaining({ account: ACCOUNT, id: "alert-1" }), "me");
    expect(await screen.findByRole("alert")).toHaveTextContent("The bank could not be reached.");
  });

  it("says why an account is offline", () => {
    render(Home, props({ accounts: [account({ connected: false })], offline: { [ACCOUNT]: "No network. Trying again in 5 s." } }));
    expect(screen.getByTestId("account-card")).toHaveTextContent("No network. Trying again in 5 s.");
  });

  it("offers to link a bank when none is linked", async () => {
    const onlink = vi.fn();
    render(Home, props({ accounts: [], alerts: [], onlink }));
    expect(screen.getByText(/No alerts yet/)).toBeInTheDocument();
    await userEvent.click(screen.getByRole("button", { name: "Link a bank" }));
    expect(onlink).toHaveBeenCalled();
  });
});
