import { startupStatus } from "./backend.js";

const status = document.getElementById("status");
const detail = document.getElementById("detail");

function show(state, text, more) {
  status.dataset.state = state;
  // Always text, never HTML.
  status.textContent = text;
  detail.textContent = more ?? "";
}

startupStatus()
  .then((s) => {
    if (s.ready) {
      const n = s.linked_accounts;
      show(
        "ready",
        "Keychain check passed. Your encrypted store is open.",
        `${n} linked bank account${n === 1 ? "" : "s"} · store schema v${s.schema_version}`,
      );
    } else {
      show("error", s.error.message, `(${s.error.code})`);
    }
  })
  .catch((e) => show("error", "Strongroom could not ask its core for status.", String(e)));
