//! The desktop services the app talks to, played on the test's private
//! session bus the way GNOME Shell or KDE would:
//! - `org.freedesktop.Notifications`: records every notification the app
//!   asks for, and clicks one (the `ActionInvoked` signal a desktop sends
//!   when the user clicks a notification);
//! - `org.kde.StatusNotifierWatcher`: where the app's tray icon (an
//!   Ayatana/KDE status notifier item) registers, so the test can read the
//!   icon's label straight from the app.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};
use zbus::zvariant::OwnedValue;

const NOTIFICATIONS_PATH: &str = "/org/freedesktop/Notifications";
const NOTIFICATIONS: &str = "org.freedesktop.Notifications";
const WATCHER: &str = "org.kde.StatusNotifierWatcher";

/// One notification as the app sent it.
#[derive(Debug, Clone)]
pub struct Shown {
    pub id: u32,
    pub app_name: String,
    pub summary: String,
    pub body: String,
    pub actions: Vec<String>,
}

#[derive(Default)]
struct Recorder {
    shown: Arc<Mutex<Vec<Shown>>>,
}

#[zbus::interface(name = "org.freedesktop.Notifications")]
impl Recorder {
    /// Like GNOME Shell: bodies are markup, actions are supported.
    fn get_capabilities(&self) -> Vec<String> {
        ["body", "body-markup", "actions", "persistence"]
            .map(str::to_owned)
            .to_vec()
    }

    #[allow(clippy::too_many_arguments)]
    fn notify(
        &self,
        app_name: String,
        _replaces_id: u32,
        _app_icon: String,
        summary: String,
        body: String,
        actions: Vec<String>,
        _hints: HashMap<String, OwnedValue>,
        _expire_timeout: i32,
    ) -> u32 {
        let mut shown = self.shown.lock().unwrap_or_else(PoisonError::into_inner);
        let id = u32::try_from(shown.len()).unwrap_or(u32::MAX - 1) + 1;
        shown.push(Shown {
            id,
            app_name,
            summary,
            body,
            actions,
        });
        id
    }

    fn close_notification(&self, _id: u32) {}

    fn get_server_information(&self) -> (String, String, String, String) {
        (
            "strongroom-test".into(),
            "strongroom".into(),
            "1".into(),
            "1.2".into(),
        )
    }
}

/// Where status notifier items register: (the item's bus name, its path).
#[derive(Default)]
struct Watcher {
    items: Arc<Mutex<Vec<(String, String)>>>,
}

#[zbus::interface(name = "org.kde.StatusNotifierWatcher")]
impl Watcher {
    fn register_status_notifier_item(
        &self,
        #[zbus(header)] header: zbus::message::Header<'_>,
        service: String,
    ) {
        let sender = header
            .sender()
            .map(|s| s.as_str().to_owned())
            .unwrap_or_default();
        // The argument is a bus name or (Ayatana) an object path.
        let (name, path) = if service.starts_with('/') {
            (sender, service)
        } else {
            (service, "/StatusNotifierItem".to_owned())
        };
        self.items
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push((name, path));
    }

    fn register_status_notifier_host(&self, _service: String) {}

    #[zbus(property)]
    fn registered_status_notifier_items(&self) -> Vec<String> {
        self.items
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .map(|(name, path)| format!("{name}{path}"))
            .collect()
    }

    #[zbus(property)]
    fn is_status_notifier_host_registered(&self) -> bool {
        true
    }

    #[zbus(property)]
    fn protocol_version(&self) -> i32 {
        0
    }
}

/// The desktop's services, serving until dropped.
pub struct Desktop {
    conn: zbus::blocking::Connection,
    shown: Arc<Mutex<Vec<Shown>>>,
    items: Arc<Mutex<Vec<(String, String)>>>,
}

/// Polls `probe` until it finds something; `what` says what was awaited
/// (and what was seen instead) if it never does.
fn wait_until<T>(what: impl Fn() -> String, secs: u64, mut probe: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(found) = probe() {
            return found;
        }
        assert!(Instant::now() < deadline, "no {} within {secs} s", what());
        std::thread::sleep(Duration::from_millis(100));
    }
}

impl Desktop {
    /// Takes the notification and tray watcher names on the session bus.
    pub fn serve() -> Desktop {
        let recorder = Recorder::default();
        let watcher = Watcher::default();
        let (shown, items) = (recorder.shown.clone(), watcher.items.clone());
        let conn = zbus::blocking::connection::Builder::session()
            .and_then(|b| b.name(NOTIFICATIONS))
            .and_then(|b| b.name(WATCHER))
            .and_then(|b| b.serve_at(NOTIFICATIONS_PATH, recorder))
            .and_then(|b| b.serve_at("/StatusNotifierWatcher", watcher))
            .and_then(|b| b.build())
            .expect("the test owns the desktop's names on its session bus");
        Desktop { conn, shown, items }
    }

    /// Every notification so far.
    pub fn shown(&self) -> Vec<Shown> {
        self.shown
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Waits for a notification that `pick` accepts.
    pub fn wait(&self, secs: u64, pick: impl Fn(&Shown) -> bool) -> Shown {
        wait_until(
            || format!("matching notification (shown: {:#?})", self.shown()),
            secs,
            || self.shown().into_iter().find(|s| pick(s)),
        )
    }

    /// The user clicks notification `id`.
    pub fn click(&self, id: u32) {
        self.conn
            .emit_signal(
                None::<&str>,
                NOTIFICATIONS_PATH,
                NOTIFICATIONS,
                "ActionInvoked",
                &(id, "default"),
            )
            .expect("the click signal goes out");
    }

    /// A string property of the app's tray icon, read from the app.
    pub fn tray_property(&self, name: &str) -> Option<String> {
        let name = name.to_owned();
        self.ask_tray(move |conn, bus_name, path| {
            item_property(conn, bus_name, path, &name).and_then(|v| String::try_from(v).ok())
        })
    }

    /// The labels of the tray menu's top-level items, read from the app's
    /// menu (the `com.canonical.dbusmenu` object its icon's `Menu`
    /// property names), as a desktop's tray shows them.
    pub fn tray_menu_labels(&self) -> Vec<String> {
        self.ask_tray(|conn, bus_name, path| {
            let menu = item_property(conn, bus_name, path, "Menu")
                .and_then(|v| zbus::zvariant::OwnedObjectPath::try_from(v).ok())?;
            let reply = conn
                .call_method(
                    Some(bus_name),
                    menu.as_str(),
                    Some("com.canonical.dbusmenu"),
                    "GetLayout",
                    &(0i32, -1i32, vec!["label"]),
                )
                .ok()?;
            type Node = (i32, HashMap<String, OwnedValue>, Vec<OwnedValue>);
            let (_revision, (_, _, children)): (u32, Node) = reply.body().deserialize().ok()?;
            Some(
                children
                    .into_iter()
                    .filter_map(|child| Node::try_from(child).ok())
                    .filter_map(|(_, props, _)| {
                        props
                            .get("label")
                            .and_then(|l| String::try_from(l.try_clone().ok()?).ok())
                    })
                    .collect(),
            )
        })
        .unwrap_or_default()
    }

    /// Runs `ask` against the app's tray icon (its bus name and object
    /// path) on a thread of its own. D-Bus calls have no deadline of their
    /// own: one that is never answered must fail the test, not hang it.
    fn ask_tray<T: Send + 'static>(
        &self,
        ask: impl FnOnce(&zbus::blocking::Connection, &str, &str) -> Option<T> + Send + 'static,
    ) -> Option<T> {
        let (bus_name, path) = self
            .items
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .last()
            .cloned()?;
        let conn = self.conn.clone();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(ask(&conn, &bus_name, &path));
        });
        rx.recv_timeout(Duration::from_secs(5)).ok().flatten()
    }

    /// Waits until a line of the tray menu is `want`.
    pub fn wait_tray_line(&self, want: &str, secs: u64) {
        wait_until(
            || {
                format!(
                    "tray menu line {want:?} (menu now {:?})",
                    self.tray_menu_labels()
                )
            },
            secs,
            || {
                self.tray_menu_labels()
                    .iter()
                    .any(|l| l == want)
                    .then_some(())
            },
        );
    }

    /// Waits until the tray icon's `name` property is `want`.
    pub fn wait_tray(&self, name: &str, want: &str, secs: u64) {
        wait_until(
            || {
                // One lock at a time: tray_property takes it too.
                let registered = self
                    .items
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .clone();
                let now = self.tray_property(name);
                format!("tray {name} = {want:?} (registered: {registered:?}, now {now:?})")
            },
            secs,
            || (self.tray_property(name).as_deref() == Some(want)).then_some(()),
        );
    }
}

/// Property `name` of the StatusNotifierItem at `bus_name` and `path`.
fn item_property(
    conn: &zbus::blocking::Connection,
    bus_name: &str,
    path: &str,
    name: &str,
) -> Option<OwnedValue> {
    conn.call_method(
        Some(bus_name),
        path,
        Some("org.freedesktop.DBus.Properties"),
        "Get",
        &("org.kde.StatusNotifierItem", name),
    )
    .ok()
    .and_then(|reply| reply.body().deserialize::<OwnedValue>().ok())
}
