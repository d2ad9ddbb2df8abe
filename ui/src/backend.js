// The only module that talks to the Tauri backend. Everything else in the UI
// calls these functions, so the IPC surface is in one place.

function invoke(command, args) {
  // Tauri 2 injects this bridge into its own windows only.
  return window.__TAURI_INTERNALS__.invoke(command, args);
}

/** The keychain self-check and store status: {ready, error: {code, message}, ...}. */
export function startupStatus() {
  return invoke("status");
}
