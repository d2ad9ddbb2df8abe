// The chat and search screens speak the customer's language: their sentences
// come from the German and French catalogues, and a change of language
// re-renders what is on screen. Bank names and message texts stay as sent.
import { render, screen, waitFor } from "@testing-library/svelte";
import userEvent from "@testing-library/user-event";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import Chat from "../src/components/Chat.svelte";
import Search from "../src/components/Search.svelte";
import { setLocale } from "../src/lib/i18n.svelte";
import { fake, installFakeShell, removeFakeShell } from "./fake-backend";
import { ACCOUNT, account } from "./fixtures";

beforeEach(installFakeShell);
afterEach(() => {
  removeFakeShell();
  setLocale("en-US");
});

const NBSP = "\u00a0";

function renderChat(connected = true) {
  return render(Chat, { accounts: [account({ connected })], selected: ACCOUNT, onselect: vi.fn() });
}

describe("chat in German and French", () => {
  it("shows the conversation in German, with the bank's messages as sent", async () => {
    setLocale("de-DE");
    renderChat(false);
    await waitFor(() => expect(screen.getAllByTestId("chat-message")).toHaveLength(2));
    expect(screen.getByTestId("chat-delivery")).toHaveTextContent("Wartet auf Versand");
    expect(screen.getByText("Hello! How can we help?")).toBeInTheDocument();
    expect(screen.getByText(/^Offline\. Nachrichten bleiben auf diesem Gerät/)).toBeInTheDocument();
    expect(screen.getByTestId("chat-input")).toHaveAttribute("placeholder", "Nachricht schreiben…");
    expect(screen.getByLabelText("Nachricht an Demo Bank")).toBe(screen.getByTestId("chat-input"));
    expect(screen.getByRole("list", { name: "Nachrichten mit Demo Bank" })).toBeInTheDocument();
    expect(screen.getByTestId("chat-send")).toHaveTextContent("Senden");
  });

  it("says a message is too long in French, with French number formatting", async () => {
    setLocale("fr-FR");
    renderChat();
    const box = await screen.findByTestId("chat-input");
    await userEvent.click(box);
    await userEvent.paste("€".repeat(1366)); // 4098 bytes
    // Intl writes 4096 in French with a narrow no-break space. textContent,
    // not toHaveTextContent, which would blur the no-break spaces into spaces.
    expect(document.getElementById("chat-hint")?.textContent?.trim()).toBe(
      `Trop long${NBSP}: 4\u202f098 octets sur 4\u202f096. Veuillez raccourcir votre message.`,
    );
    expect(screen.getByTestId("chat-send")).toBeDisabled();
    expect(screen.getByTestId("chat-send")).toHaveTextContent("Envoyer");
  });

  it("puts a French quick reply in the message box", async () => {
    setLocale("fr-FR");
    render(Chat, {
      accounts: [account({ flags: { quick_replies: true } })],
      selected: ACCOUNT,
      onselect: vi.fn(),
    });
    const chips = await screen.findByRole("group", { name: "Réponses rapides" });
    await userEvent.click(chips.querySelector("button")!);
    expect(screen.getByTestId("chat-input")).toHaveValue("Oui, c'était bien moi.");
  });

  it("re-renders in the new language when the language changes", async () => {
    renderChat();
    await waitFor(() => expect(screen.getByTestId("chat-delivery")).toHaveTextContent("Waiting to send"));
    setLocale("fr-FR");
    await waitFor(() => expect(screen.getByTestId("chat-delivery")).toHaveTextContent("En attente d'envoi"));
    expect(screen.getByRole("navigation", { name: "Conversations" })).toHaveTextContent("Messagerie");
    expect(screen.getByText("en ligne")).toBeInTheDocument();
  });
});

describe("search in German and French", () => {
  beforeEach(() => {
    fake.state.search = [
      { kind: "alert", account: ACCOUNT, bank_name: "Demo Bank", text: "new card", at: 2, highlights: [[4, 8]], alert_id: "a-new" },
    ];
  });

  it("speaks German, with German quotation marks around the query", async () => {
    setLocale("de-DE");
    render(Search, { onopenalert: vi.fn(), onopenchat: vi.fn() });
    expect(screen.getByRole("heading", { level: 1 })).toHaveTextContent("Suche");
    expect(screen.getByLabelText("Nachrichten und Meldungen durchsuchen")).toBe(screen.getByTestId("search-input"));
    expect(screen.getByText("Die Suche läuft nur auf diesem Gerät; es wird nichts übertragen.")).toBeInTheDocument();
    await userEvent.type(screen.getByTestId("search-input"), "card");
    await waitFor(() => expect(screen.getAllByTestId("search-result")).toHaveLength(1));
    expect(screen.getByTestId("search-result")).toHaveTextContent("Meldung · Demo Bank");
    expect(screen.getByRole("status")).toHaveTextContent("1 Treffer");

    fake.state.search = [];
    await userEvent.clear(screen.getByTestId("search-input"));
    await userEvent.type(screen.getByTestId("search-input"), "xyz");
    expect(await screen.findByText("Keine Treffer für „xyz“.")).toBeInTheDocument();
  });

  it("speaks French, with French typography", async () => {
    setLocale("fr-FR");
    render(Search, { onopenalert: vi.fn(), onopenchat: vi.fn() });
    expect(screen.getByTestId("search-input")).toHaveAttribute("placeholder", "Rechercher dans les messages et les alertes");
    expect(document.querySelector(".hint")?.textContent).toBe(
      `La recherche se fait uniquement sur cet appareil${NBSP}; rien n'est envoyé.`,
    );
    await userEvent.type(screen.getByTestId("search-input"), "card");
    await waitFor(() => expect(screen.getAllByTestId("search-result")).toHaveLength(1));
    expect(screen.getByTestId("search-result")).toHaveTextContent("Alerte · Demo Bank");
    expect(screen.getByRole("status")).toHaveTextContent("1 résultat");

    fake.state.search = [];
    await userEvent.clear(screen.getByTestId("search-input"));
    await userEvent.type(screen.getByTestId("search-input"), "xyz");
    const none = await screen.findByText(/^Aucun résultat pour/);
    expect(none.textContent).toBe(`Aucun résultat pour «${NBSP}xyz${NBSP}».`);
  });
});
