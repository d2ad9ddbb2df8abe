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
    delivered: Mutex<HashMap<String, u64>>,
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

    /// Records that events up to `seq` were written to `device_id`'s stream.
    pub fn mark_delivered(&self, device_id: &str, seq: u64) {
        if let Ok(mut delivered) = self.delivered.lock() {
            let entry = delivered.entry(device_id.to_owned()).or_default();
            *entry = (*entry).max(seq);
        }
    }

    /// The highest number written to `device_id`'s stream since start.
    pub fn delivered(&self, device_id: &str) -> u64 {
        self.delivered
            .lock()
            .ok()
            .and_then(|d| d.get(device_id).copied())
            .unwrap_or(0)
    }

    /// How many devices have a stream open.
    pub fn open_streams(&self) -> usize {
        self.devices.lock().map(|d| d.len()).unwrap_or(0)
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
}
