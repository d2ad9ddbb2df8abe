//! Wakes a device's open stream when an event for it commits, or when its
//! grant is revoked. In memory only: the database is the truth, and a stream
//! reads its events from there, so a missed wake-up costs latency, never data.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::watch;

/// What an open stream watches.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DeviceSignal {
    /// The highest event number known committed.
    pub last_seq: u64,
    /// The grant was revoked: close the stream.
    pub revoked: bool,
}

/// The per-device notifiers of every open stream.
#[derive(Debug, Default)]
pub struct Hub {
    devices: Mutex<HashMap<String, watch::Sender<DeviceSignal>>>,
}

/// A subscription to one device's signal; unsubscribes when dropped.
#[derive(Debug)]
pub struct Subscription {
    hub: Arc<Hub>,
    device_id: String,
    /// The receiver to await.
    pub signal: watch::Receiver<DeviceSignal>,
}

impl Drop for Subscription {
    fn drop(&mut self) {
        if let Ok(mut devices) = self.hub.devices.lock()
            && let Some(sender) = devices.get(&self.device_id)
            // Our own receiver is still alive here, so 1 means "only us".
            && sender.receiver_count() <= 1
        {
            devices.remove(&self.device_id);
        }
    }
}

impl Hub {
    /// Subscribes to `device_id`'s signal.
    pub fn subscribe(self: &Arc<Self>, device_id: &str) -> Subscription {
        let signal = match self.devices.lock() {
            Ok(mut devices) => devices
                .entry(device_id.to_owned())
                .or_insert_with(|| watch::channel(DeviceSignal::default()).0)
                .subscribe(),
            // A poisoned map cannot wake anyone; hand out a receiver that
            // never fires rather than fail the stream.
            Err(_) => watch::channel(DeviceSignal::default()).1,
        };
        Subscription {
            hub: Arc::clone(self),
            device_id: device_id.to_owned(),
            signal,
        }
    }

    /// Says that `device_id` has events up to `seq` committed.
    pub fn notify(&self, device_id: &str, seq: u64) {
        if let Ok(devices) = self.devices.lock()
            && let Some(sender) = devices.get(device_id)
        {
            sender.send_if_modified(|s| {
                if seq > s.last_seq {
                    s.last_seq = seq;
                    true
                } else {
                    false
                }
            });
        }
    }

    /// Wakes every device in `events` (device id, seq).
    pub fn notify_all(&self, events: &[(String, u64)]) {
        for (device, seq) in events {
            self.notify(device, *seq);
        }
    }

    /// Closes `device_id`'s open stream, if any.
    pub fn revoke(&self, device_id: &str) {
        if let Ok(devices) = self.devices.lock()
            && let Some(sender) = devices.get(device_id)
        {
            sender.send_modify(|s| s.revoked = true);
        }
    }

    /// Wakes every open stream to re-read its events from the database:
    /// after a gap in hearing other gateways, when wake-ups may be lost.
    pub fn wake_all(&self) {
        if let Ok(devices) = self.devices.lock() {
            for sender in devices.values() {
                sender.send_modify(|_| {});
            }
        }
    }

    /// Applies what another gateway process sharing the database announced
    /// (see [`Announcement`]); a conversation change goes to `console`.
    pub fn hear(&self, line: &str, console: &tokio::sync::broadcast::Sender<Option<i64>>) {
        match Announcement::parse(line) {
            Some(Announcement::Events { device, seq }) => self.notify(&device, seq),
            Some(Announcement::Revoked { device }) => self.revoke(&device),
            Some(Announcement::Conversation { customer }) => {
                let _ = console.send(Some(customer));
            }
            Some(Announcement::MaybeMissed) => {
                self.wake_all();
                let _ = console.send(None);
            }
            None => {}
        }
    }

    /// How many devices have a stream open.
    pub fn open_streams(&self) -> usize {
        self.devices.lock().map(|d| d.len()).unwrap_or(0)
    }
}

/// What a gateway process tells the others sharing its PostgreSQL database,
/// with the commit that made it true (see [`crate::sql::Connection::announce`]):
/// one line each, so that a device or console connected to any gateway
/// hears of a change made through any other.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Announcement {
    /// `device` has events up to `seq`.
    Events {
        /// The device.
        device: String,
        /// Its highest event number.
        seq: u64,
    },
    /// `device`'s grant was revoked.
    Revoked {
        /// The device.
        device: String,
    },
    /// A message was added to `customer`'s conversation.
    Conversation {
        /// The customer's id.
        customer: i64,
    },
    /// Announcements may have been lost (the listener reconnected).
    MaybeMissed,
}

impl Announcement {
    /// The line that carries it.
    pub fn line(&self) -> String {
        match self {
            Announcement::Events { device, seq } => format!("e {device} {seq}"),
            Announcement::Revoked { device } => format!("r {device}"),
            Announcement::Conversation { customer } => format!("c {customer}"),
            Announcement::MaybeMissed => "*".into(),
        }
    }

    /// Reads a line; `None` for one this version does not know.
    pub fn parse(line: &str) -> Option<Announcement> {
        let mut parts = line.split(' ');
        let announcement = match (parts.next()?, parts.next(), parts.next()) {
            ("e", Some(device), Some(seq)) => Announcement::Events {
                device: device.to_owned(),
                seq: seq.parse().ok()?,
            },
            ("r", Some(device), None) => Announcement::Revoked {
                device: device.to_owned(),
            },
            ("c", Some(customer), None) => Announcement::Conversation {
                customer: customer.parse().ok()?,
            },
            ("*", None, None) => Announcement::MaybeMissed,
            _ => return None,
        };
        parts.next().is_none().then_some(announcement)
    }

    /// Queues it on `conn`'s write, to go out with the commit.
    pub fn announce(self, conn: &crate::sql::Connection<'_>) {
        conn.announce(self.line());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_subscriber_wakes_on_commit_and_revocation_and_cleans_up() {
        let hub = Arc::new(Hub::default());
        let mut sub = hub.subscribe("d1");
        hub.notify("d1", 3);
        sub.signal.changed().await.unwrap();
        assert_eq!(sub.signal.borrow_and_update().last_seq, 3);
        hub.notify("d1", 2);
        assert!(
            !sub.signal.has_changed().unwrap(),
            "older seq does not wake"
        );
        hub.revoke("d1");
        sub.signal.changed().await.unwrap();
        assert!(sub.signal.borrow().revoked);
        assert_eq!(hub.open_streams(), 1);
        drop(sub);
        assert_eq!(hub.open_streams(), 0);
    }

    #[tokio::test]
    async fn announcements_from_other_gateways_wake_the_right_streams() {
        for a in [
            Announcement::Events {
                device: "d-1".into(),
                seq: 9,
            },
            Announcement::Revoked {
                device: "d-1".into(),
            },
            Announcement::Conversation { customer: 4 },
            Announcement::MaybeMissed,
        ] {
            assert_eq!(Announcement::parse(&a.line()), Some(a));
        }
        assert_eq!(Announcement::parse("e d-1"), None);
        assert_eq!(Announcement::parse("e d-1 x"), None);
        assert_eq!(Announcement::parse("c 4 5"), None);
        let hub = Arc::new(Hub::default());
        let (console, mut changes) = tokio::sync::broadcast::channel(4);
        let mut sub = hub.subscribe("d-1");
        hub.hear("e d-1 9", &console);
        sub.signal.changed().await.unwrap();
        assert_eq!(sub.signal.borrow_and_update().last_seq, 9);
        hub.hear("*", &console);
        sub.signal.changed().await.unwrap();
        assert_eq!(changes.recv().await.unwrap(), None, "consoles reload");
        hub.hear("c 4", &console);
        assert_eq!(changes.recv().await.unwrap(), Some(4));
        hub.hear("r d-1", &console);
        sub.signal.changed().await.unwrap();
        assert!(sub.signal.borrow().revoked);
    }
}
