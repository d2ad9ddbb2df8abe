// The search screen draws the ranges the shell found (SearchResult.highlights)
// as <mark>, and a bank's text as text.
import { render, screen, waitFor } from "@testing-library/svelte";
import userEvent from "@testing-library/user-event";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import Search from "../src/components/Search.svelte";
import { fake, installFakeShell, removeFakeShell } from "./fake-backend";
import { ACCOUNT } from "./fixtures";

beforeEach(installFakeShell);
afterEach(removeFakeShell);

const results = () => screen.queryAllByTestId("search-result");
const marked = (el: HTMLElement) => [...el.querySelectorAll("mark")].map((m) => m.textContent);

describe("search", () => {
  beforeEach(() => {
    fake.state.search = [
      { kind: "message", account: ACCOUNT, bank_name: "Demo Bank", text: "old card <b>x</b>", at: 1, highlights: [[4, 8]], alert_id: null },
      { kind: "alert", account: ACCOUNT, bank_name: "Demo Bank", text: "new card 😀", at: 2, highlights: [[4, 8], [9, 11]], alert_id: "a-new" },
    ];
  });

  it("asks the shell, newest first, and marks exactly the ranges it gave", async () => {
    render(Search, { onopenalert: vi.fn(), onopenchat: vi.fn() });
    await userEvent.type(screen.getByTestId("search-input"), "card");
    await waitFor(() => expect(results()).toHaveLength(2));
    const searches = fake.calls.filter((c) => c.cmd === "search");
    expect(searches[searches.length - 1].args).toEqual({ query: "card" });
    expect(results()[0]).toHaveTextContent("new card 😀");
    expect(marked(results()[0])).toEqual(["card", "😀"]);
    expect(marked(results()[1])).toEqual(["card"]);
  });

  it("shows a bank's markup as text", async () => {
    render(Search, { onopenalert: vi.fn(), onopenchat: vi.fn() });
    await userEvent.type(screen.getByTestId("search-input"), "card");
    await waitFor(() => expect(results()).toHaveLength(2));
    expect(results()[1].querySelector("b")).toBeNull();
    expect(results()[1]).toHaveTextContent("<b>x</b>");
  });

  it("opens an alert result at its alert and a message result in its chat", async () => {
    const onopenalert = vi.fn();
    const onopenchat = vi.fn();
    render(Search, { onopenalert, onopenchat });
    await userEvent.type(screen.getByTestId("search-input"), "card");
    await waitFor(() => expect(results()).toHaveLength(2));
    await userEvent.click(results()[0]);
    expect(onopenalert).toHaveBeenCalledWith(ACCOUNT, "a-new");
    await userEvent.click(results()[1]);
    expect(onopenchat).toHaveBeenCalledWith(ACCOUNT);
  });

  it("shows the shell's error message when the search fails", async () => {
    fake.overrides.set("search", () => {
      throw { code: "locked", message: "Strongroom is locked." };
    });
    render(Search, { onopenalert: vi.fn(), onopenchat: vi.fn() });
    await userEvent.type(screen.getByTestId("search-input"), "card");
    expect(await screen.findByRole("alert")).toHaveTextContent("Strongroom is locked.");
  });
});
