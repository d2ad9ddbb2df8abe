//! The private D-Bus session with an unlocked gnome-keyring that every
//! test layer and benchmark needing the keychain runs in.

use std::path::PathBuf;
use std::process::Command;

use crate::{Result, cargo, temp_dir};

/// A command that runs `command_line` (bash, with `$CARGO_BIN` set) inside a
/// private D-Bus session with an unlocked gnome-keyring whose data lives in
/// a fresh temporary folder (returned, for removal afterwards).
///
/// The daemon runs in the foreground under a small watch loop rather than
/// forking itself away. Why: once (CI, 2026-12-07) it vanished mid-run and
/// left no trace; D-Bus then started a fresh, *locked* one from the default
/// folder and every later keychain test failed with `Vault(Locked)`. Now
/// the log says how it ended (its exit status, and its own stderr), it
/// comes back unlocked on the same keyring file (`--replace` takes the name
/// back from any daemon D-Bus started meanwhile), and the tests start only
/// once it owns the Secret Service name (before, they raced its start-up).
pub fn session(command_line: &str) -> Result<(Command, PathBuf)> {
    let keyring_home = temp_dir("strongroom-keyring")?;
    let script = format!(
        r#"
set -e
mkdir -p -m 0700 "$KEYRING_HOME/run"
(
    while [ ! -e "$KEYRING_HOME/.session-over" ]; do
        # Its own control folder, and no inherited GNOME_KEYRING_CONTROL:
        # `--replace` must only ever find a daemon of this private bus,
        # never the developer's own keyring.
        printf %s strongroom-test | env -u GNOME_KEYRING_CONTROL \
            XDG_DATA_HOME="$KEYRING_HOME" XDG_RUNTIME_DIR="$KEYRING_HOME/run" \
            gnome-keyring-daemon --replace --foreground --unlock --components=secrets >/dev/null &
        echo $! >"$KEYRING_HOME/.daemon-pid"
        status=0
        wait $! || status=$?
        rm -f "$KEYRING_HOME/.daemon-pid"
        [ -e "$KEYRING_HOME/.session-over" ] && break
        echo "$(date +%T.%N) gnome-keyring-daemon exited during the tests (status $status); starting it again, unlocked, on the same keyring" >&2
        sleep 0.2
    done
) >&2 &
watch_loop=$!
# At the end, the loop and its daemon stop before this shell does: the
# caller removes $KEYRING_HOME (and the flag in it) once the session ends.
stop_keyring() {{
    touch "$KEYRING_HOME/.session-over"
    for _ in $(seq 50); do
        kill -0 "$watch_loop" 2>/dev/null || break
        kill "$(cat "$KEYRING_HOME/.daemon-pid" 2>/dev/null)" 2>/dev/null || true
        sleep 0.1
    done
}}
trap stop_keyring EXIT
keyring_ready() {{
    dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
        org.freedesktop.DBus.NameHasOwner string:org.freedesktop.secrets 2>/dev/null \
        | grep -q "boolean true"
}}
for _ in $(seq 100); do
    keyring_ready && break
    sleep 0.1
done
if ! keyring_ready; then
    echo "gnome-keyring-daemon did not take the Secret Service name within 10 s" >&2
    exit 1
fi
echo "Secret Service: gnome-keyring $(gnome-keyring-daemon --version | head -n1 | awk '{{print $2}}') on private bus $DBUS_SESSION_BUS_ADDRESS" >&2
# The end-to-end tests and the delivery benchmark hold many sockets.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
{command_line}
"#
    );
    let mut cmd = Command::new("dbus-run-session");
    cmd.args(["--", "bash", "-c", &script])
        .env("KEYRING_HOME", &keyring_home)
        .env("CARGO_BIN", cargo());
    Ok((cmd, keyring_home))
}
