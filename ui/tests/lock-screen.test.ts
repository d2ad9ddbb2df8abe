// The lock screen sends the passphrase to the shell and says what went wrong.
import { render, screen, waitFor } from "@testing-library/svelte";
import userEvent from "@testing-library/user-event";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import LockScreen from "../src/components/LockScreen.svelte";
import type { Status } from "../src/ipc";
import { fake, installFakeShell, removeFakeShell } from "./fake-backend";
import { status } from "./fixtures";

beforeEach(installFakeShell);
afterEach(removeFakeShell);

const locked = (over: Partial<Status> = {}): Status => status({ locked: true, ...over });

describe("the lock screen", () => {
  it("says a wrong passphrase is not right, clears it, and keeps the person there", async () => {
    fake.state.status = locked();
    const onunlocked = vi.fn();
    render(LockScreen, { status: locked(), onunlocked });
    const input = screen.getByTestId("unlock-passphrase");
    await userEvent.type(input, "wrong{Enter}");
    const error = await screen.findByRole("alert");
    expect(error).toHaveAttribute("id", "unlock-error");
    expect(error).toHaveTextContent("That passphrase is not right. Try again.");
    expect(input).toHaveValue("");
    expect(input).toHaveAttribute("aria-invalid", "true");
    expect(input).toHaveAttribute("aria-describedby", "unlock-error");
    expect(fake.calls.filter((c) => c.cmd === "unlock").map((c) => c.args)).toEqual([{ passphrase: "wrong" }]);
    expect(onunlocked).not.toHaveBeenCalled();
  });

  it("shows the catalogue's sentence for the code of any other failure", async () => {
    fake.overrides.set("unlock", () => {
      throw { code: "keychain_locked", values: {}, message: "The login keyring is locked." };
    });
    render(LockScreen, { status: locked(), onunlocked: vi.fn() });
    await userEvent.type(screen.getByTestId("unlock-passphrase"), "correct horse{Enter}");
    expect(await screen.findByRole("alert")).toHaveTextContent("Your system keychain is locked.");
  });

  it("unlocks with the right passphrase and hands on the new status", async () => {
    fake.state.status = locked();
    const onunlocked = vi.fn();
    render(LockScreen, { status: locked(), onunlocked });
    await userEvent.type(screen.getByTestId("unlock-passphrase"), "correct horse{Enter}");
    await waitFor(() => expect(onunlocked).toHaveBeenCalledWith(expect.objectContaining({ locked: false })));
    expect(screen.queryByRole("alert")).toBeNull();
  });

  it("unlocks without a passphrase when none is set", async () => {
    fake.state.status = locked({ passphrase_set: false });
    const onunlocked = vi.fn();
    render(LockScreen, { status: locked({ passphrase_set: false }), onunlocked });
    expect(screen.queryByTestId("unlock-passphrase")).toBeNull();
    await userEvent.click(screen.getByTestId("unlock-submit"));
    await waitFor(() => expect(onunlocked).toHaveBeenCalled());
    expect(fake.calls.find((c) => c.cmd === "unlock")?.args).toEqual({ passphrase: null });
  });
});
