//! Wakes a device's open stream when an event for it commits, or when its
//! grant is revoked. In memory only: the database is the truth, and a stream
//! reads its events from there, so a missed wake-up costs latency, never data.
//!
//! Alerts this process commits, and with PostgreSQL the announcements of
//! every gateway, also leave each event's body here a short while for the
//! device's open stream ([`Hub::recent_after`]), so a stream that is
//! keeping up sends what was just committed without reading it back; a
//! gap, or a full buffer, sends it to the database instead.

use std::collections::{HashMap, VecDeque};
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
    recent: Mutex<HashMap<String, VecDeque<RecentEvent>>>,
}

/// An event just committed, as its stream will send it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecentEvent {
    /// Its number.
    pub seq: u64,
    /// The event JSON.
    pub body: Arc<str>,
    /// Whether it is an alert (its delivery is recorded).
    pub alert: bool,
}

/// Events kept per open stream before the stream takes them; past this the
/// stream reads the database (it is falling behind anyway).
const RECENT_PER_DEVICE: usize = 32;

/// Bodies longer than this go without their body in an announcement (a
/// NOTIFY payload is at most 8000 bytes); the stream reads them.
const MAX_ANNOUNCED_BODY: usize = 6000;

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
            if let Ok(mut recent) = self.hub.recent.lock() {
                recent.remove(&self.device_id);
            }
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

    /// Keeps `body` as the event each of `events` (device id, seq) just
    /// committed by this process, for the devices' open streams: called
    /// before [`Hub::notify_all`], so a stream woken by it finds the body.
    pub fn remember_committed(&self, events: &[(String, u64)], body: &Arc<str>, alert: bool) {
        for (device, seq) in events {
            self.remember(
                device,
                RecentEvent {
                    seq: *seq,
                    body: Arc::clone(body),
                    alert,
                },
            );
        }
    }

    /// Keeps `event` for `device_id`'s open stream, if it has one (once:
    /// with PostgreSQL this process's own announcement brings it again).
    fn remember(&self, device_id: &str, event: RecentEvent) {
        // Both locks held, in `Subscription::drop`'s order: a stream that
        // closes meanwhile cannot leave an entry behind that nothing frees.
        let Ok(devices) = self.devices.lock() else {
            return;
        };
        if !devices.contains_key(device_id) {
            return;
        }
        if let Ok(mut recent) = self.recent.lock() {
            let kept = recent.entry(device_id.to_owned()).or_default();
            if kept.iter().any(|e| e.seq == event.seq) {
                return;
            }
            if kept.len() >= RECENT_PER_DEVICE {
                // Falling behind: the database has them all.
                kept.clear();
            }
            kept.push_back(event);
        }
    }

    /// The events kept for `device_id` that follow `after` without a gap
    /// (taken), or `None` when the next one is not kept (read the
    /// database). Events up to `after` are dropped.
    pub fn recent_after(&self, device_id: &str, after: u64) -> Option<Vec<RecentEvent>> {
        let mut recent = self.recent.lock().ok()?;
        let kept = recent.get_mut(device_id)?;
        kept.retain(|e| e.seq > after);
        // Announcements from two gateways may arrive out of order.
        kept.make_contiguous().sort_by_key(|e| e.seq);
        let mut run = Vec::new();
        let mut next = after + 1;
        while kept.front().is_some_and(|e| e.seq <= next) {
            if let Some(e) = kept.pop_front()
                && e.seq == next
            {
                next += 1;
                run.push(e);
            }
        }
        (!run.is_empty()).then_some(run)
    }

    /// Applies an announcement, from another gateway process sharing the
    /// database or from this one's own commit (`ours`; see
    /// [`Announcement`]); a conversation change goes to `console`. Of this
    /// process's own announcements only events are applied, for their
    /// bodies: the handlers that made the changes already told the local
    /// streams and consoles.
    pub fn hear(
        &self,
        line: &str,
        console: &tokio::sync::broadcast::Sender<Option<i64>>,
        ours: bool,
    ) {
        let announcement = Announcement::parse(line);
        if ours && !matches!(announcement, Some(Announcement::Event { .. })) {
            return;
        }
        match announcement {
            Some(Announcement::Event {
                device,
                seq,
                alert,
                body,
            }) => {
                if let Some(body) = body {
                    self.remember(
                        &device,
                        RecentEvent {
                            seq,
                            body: body.into(),
                            alert,
                        },
                    );
                }
                self.notify(&device, seq);
            }
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
    /// `device` has event `seq`.
    Event {
        /// The device.
        device: String,
        /// The event's number.
        seq: u64,
        /// Whether it is an alert.
        alert: bool,
        /// The event JSON (one line), unless too long to announce.
        body: Option<String>,
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
            Announcement::Event {
                device,
                seq,
                alert,
                body,
            } => {
                let flag = if *alert { "a" } else { "-" };
                match body {
                    Some(body) if body.len() <= MAX_ANNOUNCED_BODY && !body.contains('\n') => {
                        format!("e {device} {seq} {flag} {body}")
                    }
                    _ => format!("e {device} {seq} {flag}"),
                }
            }
            Announcement::Revoked { device } => format!("r {device}"),
            Announcement::Conversation { customer } => format!("c {customer}"),
            Announcement::MaybeMissed => "*".into(),
        }
    }

    /// Reads a line; `None` for one this version does not know.
    pub fn parse(line: &str) -> Option<Announcement> {
        if let Some(rest) = line.strip_prefix("e ") {
            let mut parts = rest.splitn(4, ' ');
            let (device, seq, flag) = (parts.next()?, parts.next()?, parts.next()?);
            return Some(Announcement::Event {
                device: device.to_owned(),
                seq: seq.parse().ok()?,
                alert: match flag {
                    "a" => true,
                    "-" => false,
                    _ => return None,
                },
                body: parts.next().map(str::to_owned),
            });
        }
        let mut parts = line.split(' ');
        let announcement = match (parts.next()?, parts.next(), parts.next()) {
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

    /// Queues it on `conn`'s write, to go out after the commit (PostgreSQL;
    /// nothing to do with SQLite, which one process owns).
    pub fn announce(self, conn: &crate::sql::Connection<'_>) {
        if conn.is_postgres() {
            conn.announce(self.line());
        }
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
            Announcement::Event {
                device: "d-1".into(),
                seq: 9,
                alert: true,
                body: Some(r#"{"type":"alert","jws":"a b"}"#.into()),
            },
            Announcement::Event {
                device: "d-1".into(),
                seq: 10,
                alert: false,
                body: None,
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
        assert_eq!(Announcement::parse("e d-1 x a"), None);
        assert_eq!(Announcement::parse("e d-1 3 ?"), None);
        assert_eq!(Announcement::parse("c 4 5"), None);
        let hub = Arc::new(Hub::default());
        let (console, mut changes) = tokio::sync::broadcast::channel(4);
        let mut sub = hub.subscribe("d-1");
        hub.hear("e d-1 9 a {\"n\":9}", &console, false);
        sub.signal.changed().await.unwrap();
        assert_eq!(sub.signal.borrow_and_update().last_seq, 9);
        // Kept for the stream, taken in order, and only without a gap.
        hub.hear("e d-1 11 - {\"n\":11}", &console, false);
        hub.hear("e d-1 10 - {\"n\":10}", &console, false);
        hub.hear("e other 1 - {}", &console, false);
        assert_eq!(
            hub.recent_after("other", 0),
            None,
            "no open stream, nothing kept"
        );
        assert_eq!(
            hub.recent_after("d-1", 9)
                .unwrap()
                .iter()
                .map(|e| e.seq)
                .collect::<Vec<_>>(),
            [10, 11]
        );
        assert_eq!(hub.recent_after("d-1", 11), None);
        hub.hear("e d-1 14 - {}", &console, false);
        assert_eq!(
            hub.recent_after("d-1", 12),
            None,
            "13 is missing: read the database"
        );
        assert_eq!(hub.recent_after("d-1", 13).unwrap()[0].seq, 14);
        hub.hear("*", &console, false);
        sub.signal.changed().await.unwrap();
        assert_eq!(changes.recv().await.unwrap(), None, "consoles reload");
        hub.hear("c 4", &console, false);
        assert_eq!(changes.recv().await.unwrap(), Some(4));
        // This process's own conversation change was already told to its
        // consoles by the handler: not a second time.
        hub.hear("c 5", &console, true);
        assert!(changes.try_recv().is_err(), "no second console event");
        hub.hear("r d-1", &console, false);
        sub.signal.changed().await.unwrap();
        assert!(sub.signal.borrow().revoked);
    }

    #[test]
    fn a_committed_body_is_kept_once_and_only_for_an_open_stream() {
        let hub = Arc::new(Hub::default());
        let _open = hub.subscribe("d-1");
        let body: Arc<str> = Arc::from(r#"{"type":"alert","jws":"x"}"#);
        let events = vec![("d-1".to_owned(), 3), ("d-2".to_owned(), 8)];
        hub.remember_committed(&events, &body, true);
        // With PostgreSQL, this process's own announcement brings it again.
        hub.hear(
            r#"e d-1 3 a {"type":"alert","jws":"x"}"#,
            &tokio::sync::broadcast::channel(1).0,
            true,
        );
        let run = hub
            .recent_after("d-1", 2)
            .expect("kept for the open stream");
        assert_eq!(run.len(), 1, "kept once: {run:?}");
        assert_eq!((run[0].seq, &*run[0].body, run[0].alert), (3, &*body, true));
        assert_eq!(hub.recent_after("d-2", 7), None, "d-2 has no stream open");
    }
}
