// The language setting, through the whole window over the fake shell: the
// customer picks a language in Settings, the shell resolves it into the
// status's locale, and the window speaks it at once, without a restart.
import { render, screen, waitFor, within } from "@testing-library/svelte";
import userEvent from "@testing-library/user-event";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import App from "../src/App.svelte";
import type { Settings } from "../src/ipc/types";
import { lang, setLocale } from "../src/lib/i18n.svelte";
import { fake, installFakeShell, removeFakeShell } from "./fake-backend";

const byId = (id: string) => screen.getByTestId(id);
/** The navigation's words, in order. */
const nav = () => within(screen.getByRole("navigation")).getAllByRole("button").map((b) => b.textContent?.trim());
const settingsHeading = () => screen.getByRole("heading", { level: 1 });

beforeEach(installFakeShell);
afterEach(() => {
  removeFakeShell();
  setLocale("en-US");
});

async function choose(language: string) {
  await userEvent.selectOptions(byId("settings-language"), language);
}

describe("the language setting", () => {
  it("switches the window to Deutsch, then Français, then back to English", async () => {
    render(App);
    await userEvent.click(await screen.findByTestId("nav-settings"));
    expect(settingsHeading()).toHaveTextContent("Settings");
    expect(byId("settings-language")).toHaveValue("system");

    await choose("de");
    await waitFor(() => expect(settingsHeading()).toHaveTextContent("Einstellungen"));
    expect(nav()).toEqual(["Übersicht", "Chat", "Suche", "Bank verknüpfen", "Einstellungen"]);
    expect(fake.state.settings.language).toBe("de");
    expect(document.documentElement.lang).toBe("de-DE");
    // The rest of the screen follows, and each language keeps its own name.
    expect(screen.getByRole("option", { name: "Sprache des Systems verwenden" })).toBeInTheDocument();
    expect(screen.getByRole("option", { name: "Français" })).toHaveAttribute("lang", "fr");
    expect(byId("settings-language")).toHaveValue("de");
    expect(byId("lock-now")).toHaveTextContent("Jetzt sperren");
    await waitFor(() => expect(screen.getByText("Gespeichert")).toBeInTheDocument());

    await choose("fr");
    await waitFor(() => expect(settingsHeading()).toHaveTextContent("Paramètres"));
    expect(nav()).toEqual(["Accueil", "Messagerie", "Recherche", "Associer une banque", "Paramètres"]);
    expect(document.documentElement.lang).toBe("fr-FR");
    expect(lang()).toBe("fr");

    await choose("en");
    await waitFor(() => expect(settingsHeading()).toHaveTextContent("Settings"));
    expect(nav()).toEqual(["Home", "Chats", "Search", "Link a bank", "Settings"]);
    expect(document.documentElement.lang).toBe("en-GB");
    const saved = fake.calls.filter((c) => c.cmd === "save_settings").map((c) => c.args?.settings as Settings);
    expect(saved.map((s) => s.language)).toEqual(["de", "fr", "en"]);
  });

  it("starts in the locale the shell resolved, before the first screen shows", async () => {
    fake.state.status = { ...fake.state.status, locale: "fr-FR" };
    render(App);
    await waitFor(() => expect(byId("nav-home")).toHaveTextContent("Accueil"));
    expect(byId("lock-now")).toHaveTextContent("Verrouiller maintenant");
  });

  it("shows the lock screen in the status's language, and unlocks in it", async () => {
    fake.state.status = { ...fake.state.status, locked: true, locale: "de-DE" };
    render(App);
    const lock = await screen.findByTestId("lock-screen");
    expect(lock).toHaveTextContent("Strongroom ist gesperrt");
    await userEvent.type(byId("unlock-passphrase"), "wrong");
    await userEvent.click(byId("unlock-submit"));
    expect(await screen.findByRole("alert")).toHaveTextContent("Dieses Passwort ist nicht richtig.");
    await userEvent.type(byId("unlock-passphrase"), "correct horse");
    await userEvent.click(byId("unlock-submit"));
    await waitFor(() => expect(byId("nav-settings")).toHaveTextContent("Einstellungen"));
  });
});
