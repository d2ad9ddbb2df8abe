//! Desktop notifications that open their alert when clicked.
//!
//! On Linux the notification plugin fires and forgets (notify-rust drops the
//! handle), so a click never reaches the app. Here we speak the freedesktop
//! notification protocol ourselves on one session-bus connection: `Notify`
//! with a `default` action, and a listener for `ActionInvoked` and
//! `NotificationClosed` on the same connection (some servers send those
//! signals only to the connection that asked). Elsewhere the plugin shows
//! the notification.
//!
//! Bank text may reach the body. Servers that advertise `body-markup`
//! interpret `<a href>`, `<b>` and entities, so the body is escaped for them:
//! a merchant name cannot turn into a link in a notification.

// The bookkeeping for clicks is Linux's; elsewhere the plugin shows them.
#![cfg_attr(not(target_os = "linux"), allow(dead_code, unused_imports))]

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

/// Called with an alert's account and id when its notification is clicked.
pub type OnClick = Arc<dyn Fn(String, String) + Send + Sync>;

/// The alert a notification opens: its account and id.
pub type Target = (String, String);

/// The desktop file the packages install (Tauri names it after the
/// product), without `.desktop`: the notifications' `desktop-entry` hint,
/// so the desktop groups them under the app and applies its settings. The
/// package test checks the installed file and the AppStream metadata
/// against it. In a Flatpak the desktop file is named after the app id,
/// which the sandbox gives as `FLATPAK_ID`.
const DESKTOP_ENTRY: &str = "Strongroom";

/// How urgent a notification is (the freedesktop `urgency` hint).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Urgency {
    /// Most alerts and messages.
    Normal,
    /// A fraud check: the customer has minutes to answer, so the desktop
    /// shows it over "do not disturb" and keeps it until it is dealt with.
    Critical,
}

impl Urgency {
    /// The hint's byte value.
    fn byte(self) -> u8 {
        match self {
            Urgency::Normal => 1,
            Urgency::Critical => 2,
        }
    }
}

/// One notification to show.
struct Note {
    title: String,
    body: String,
    alert: Option<Target>,
    urgency: Urgency,
    /// The words on the button that opens the alert, in the customer's
    /// language.
    open: String,
}

/// How many notifications may wait for a slow notification service before
/// new ones are dropped (the window and the tray still show everything).
const BACKLOG: usize = 64;

/// Shows notifications from a thread of its own: a notification service
/// that is slow or stuck must never hold up the window or the async
/// runtime. Remembers which alert each notification is for.
pub struct Notifier {
    queue: std::sync::mpsc::SyncSender<Note>,
}

impl Notifier {
    /// Starts the notification thread. It connects to the desktop's
    /// notification service (on Linux, over the session bus); without one,
    /// notifications are skipped, not an error.
    pub fn start(app: &tauri::AppHandle, on_click: OnClick) -> Notifier {
        let (queue, notes) = std::sync::mpsc::sync_channel::<Note>(BACKLOG);
        let app = app.clone();
        let spawned = std::thread::Builder::new()
            .name("notifications".into())
            .spawn(move || {
                #[cfg(target_os = "linux")]
                {
                    let _ = app;
                    let Some(bus) = linux::Bus::connect(on_click) else {
                        return;
                    };
                    for note in notes {
                        bus.show(
                            &note.title,
                            &note.body,
                            note.alert,
                            note.urgency,
                            &note.open,
                        );
                    }
                }
                #[cfg(not(target_os = "linux"))]
                {
                    use tauri_plugin_notification::NotificationExt;
                    let _ = on_click;
                    for note in notes {
                        let _ = app
                            .notification()
                            .builder()
                            .title(note.title)
                            .body(note.body)
                            .show();
                    }
                }
            });
        if let Err(e) = spawned {
            eprintln!("strongroom: notifications are off: {e}");
        }
        Notifier { queue }
    }

    /// Queues one notification; `alert` is the alert a click (or the
    /// button labelled `open`) opens.
    pub fn show(
        &self,
        title: &str,
        body: &str,
        alert: Option<Target>,
        urgency: Urgency,
        open: &str,
    ) {
        let _ = self.queue.try_send(Note {
            title: title.to_owned(),
            body: body.to_owned(),
            alert,
            urgency,
            open: open.to_owned(),
        });
    }
}

/// Escapes text for a server that reads the body as markup.
pub fn escape_markup(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// How many shown notifications are remembered for clicks; older ones are
/// forgotten (the server has usually dropped them long before).
const REMEMBERED: usize = 256;

#[cfg(target_os = "linux")]
mod linux {
    use super::{
        DESKTOP_ENTRY, HashMap, OnClick, REMEMBERED, Target, Urgency, escape_markup, lock,
    };
    use std::sync::{Arc, Mutex};
    use zbus::zvariant::Value;

    const NAME: &str = "org.freedesktop.Notifications";
    const PATH: &str = "/org/freedesktop/Notifications";

    /// Shown notification id → its alert, and the ids oldest first for
    /// trimming.
    type Shown = Arc<Mutex<(HashMap<u32, Target>, std::collections::VecDeque<u32>)>>;

    pub struct Bus {
        conn: zbus::blocking::Connection,
        markup: bool,
        shown: Shown,
        warned: std::sync::atomic::AtomicBool,
    }

    impl Bus {
        pub fn connect(on_click: OnClick) -> Option<Bus> {
            let conn = match zbus::blocking::Connection::session() {
                Ok(conn) => conn,
                Err(e) => {
                    eprintln!("strongroom: no session bus, so no notifications: {e}");
                    return None;
                }
            };
            let markup = conn
                .call_method(Some(NAME), PATH, Some(NAME), "GetCapabilities", &())
                .ok()
                .and_then(|reply| reply.body().deserialize::<Vec<String>>().ok())
                .is_some_and(|caps| caps.iter().any(|c| c == "body-markup"));
            let shown: Shown = Arc::default();
            listen(&conn, shown.clone(), on_click);
            Some(Bus {
                conn,
                markup,
                shown,
                warned: std::sync::atomic::AtomicBool::new(false),
            })
        }

        pub fn show(
            &self,
            title: &str,
            body: &str,
            alert: Option<Target>,
            urgency: Urgency,
            open: &str,
        ) {
            let body = if self.markup {
                escape_markup(body)
            } else {
                body.to_owned()
            };
            let actions: Vec<&str> = if alert.is_some() {
                vec!["default", open]
            } else {
                Vec::new()
            };
            // In a Flatpak the desktop file and the icon are named after
            // the app id.
            let flatpak = std::env::var("FLATPAK_ID").ok();
            let entry = flatpak.clone().unwrap_or_else(|| DESKTOP_ENTRY.to_owned());
            let icon = flatpak.unwrap_or_else(|| "strongroom".to_owned());
            let mut hints: HashMap<&str, Value<'_>> = HashMap::new();
            hints.insert("desktop-entry", Value::from(entry.as_str()));
            hints.insert("urgency", Value::from(urgency.byte()));
            hints.insert("category", Value::from("im.received"));
            let reply = self.conn.call_method(
                Some(NAME),
                PATH,
                Some(NAME),
                "Notify",
                &(
                    "Strongroom",
                    0u32,
                    icon.as_str(),
                    title,
                    body.as_str(),
                    actions,
                    hints,
                    -1i32,
                ),
            );
            let id = match reply {
                Ok(reply) => reply.body().deserialize::<u32>().ok(),
                Err(e) => {
                    // No notification service (a bare X session), or it
                    // refused: the window and tray still show everything.
                    // Said once, not for every alert.
                    if !self.warned.swap(true, std::sync::atomic::Ordering::Relaxed) {
                        eprintln!("strongroom: notifications could not be shown: {e}");
                    }
                    None
                }
            };
            if let (Some(id), Some(alert)) = (id, alert) {
                let mut shown = lock(&self.shown);
                let (map, order) = &mut *shown;
                map.insert(id, alert);
                order.push_back(id);
                while order.len() > REMEMBERED {
                    if let Some(old) = order.pop_front() {
                        map.remove(&old);
                    }
                }
            }
        }
    }

    /// One thread per app: clicks and closes of our notifications.
    fn listen(conn: &zbus::blocking::Connection, shown: Shown, on_click: OnClick) {
        let Ok(rule) = zbus::MatchRule::builder()
            .msg_type(zbus::message::Type::Signal)
            .interface(NAME)
            .map(|b| b.build())
        else {
            return;
        };
        let Ok(iterator) = zbus::blocking::MessageIterator::for_match_rule(rule, conn, None) else {
            return;
        };
        let spawned = std::thread::Builder::new()
            .name("notification-clicks".into())
            .spawn(move || {
                for message in iterator.flatten() {
                    let header = message.header();
                    let member = header.member().map(|m| m.as_str().to_owned());
                    match member.as_deref() {
                        Some("ActionInvoked") => {
                            let Ok((id, action)) = message.body().deserialize::<(u32, String)>()
                            else {
                                continue;
                            };
                            let alert = lock(&shown).0.get(&id).cloned();
                            if let (Some((account, alert)), "default") = (alert, action.as_str()) {
                                on_click(account, alert);
                            }
                        }
                        Some("NotificationClosed") => {
                            if let Ok((id, _reason)) = message.body().deserialize::<(u32, u32)>() {
                                let mut shown = lock(&shown);
                                let (map, order) = &mut *shown;
                                map.remove(&id);
                                order.retain(|x| *x != id);
                            }
                        }
                        _ => {}
                    }
                }
            });
        drop(spawned);
    }
}

#[cfg(test)]
mod tests {
    use super::escape_markup;

    #[test]
    fn markup_in_bank_text_is_escaped() {
        assert_eq!(
            escape_markup(r#"<a href="https://evil.example">Shop</a> & 'co'"#),
            "&lt;a href=&quot;https://evil.example&quot;&gt;Shop&lt;/a&gt; &amp; &apos;co&apos;"
        );
        assert_eq!(escape_markup("£12.50 at Café"), "£12.50 at Café");
    }
}
