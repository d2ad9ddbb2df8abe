//! Per-alert stage times for `cargo xtask bench delivery`, kept only when
//! the gateway runs with `--bench`: when the bank's post reached the
//! alert handler, when the alert's commit returned, and when its frame was
//! first written to each device's stream. The benchmark joins them with
//! its own and the client's times (by the alert's id), so the breakdown of
//! its slowest alerts shows the gateway's part stage by stage. Times are
//! microseconds since the Unix epoch: the benchmark runs on the same
//! machine and converts them to its own clock.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

/// Alerts kept at most (a benchmark run posts a few tens of thousands);
/// past this, new alerts go unrecorded.
const MAX_ALERTS: usize = 200_000;

/// One alert's times, microseconds since the Unix epoch.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AlertStages {
    /// The alert's id (its `jti`).
    pub alert: String,
    /// The bank's post reached the alert handler.
    pub received_us: u64,
    /// The commit that stored the alert returned.
    pub written_us: u64,
    /// The alert's frame was first written to a device's stream.
    pub sent_us: Option<u64>,
}

/// The stage times of the alerts since the last [`StageProbe::take`].
#[derive(Debug, Default)]
pub struct StageProbe {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    alerts: Vec<AlertStages>,
    /// (device id, event number) -> index in `alerts`.
    events: HashMap<(String, u64), usize>,
}

/// Now, in microseconds since the Unix epoch.
pub fn now_us() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
}

impl StageProbe {
    /// Records that `alert`, received at `received_us`, is committed as the
    /// device events `events`.
    pub fn written(&self, alert: &str, received_us: u64, events: &[(String, u64)]) {
        let written_us = now_us();
        let Ok(mut inner) = self.inner.lock() else {
            return;
        };
        if inner.alerts.len() >= MAX_ALERTS {
            return;
        }
        let index = inner.alerts.len();
        inner.alerts.push(AlertStages {
            alert: alert.to_owned(),
            received_us,
            written_us,
            sent_us: None,
        });
        for event in events {
            inner.events.insert(event.clone(), index);
        }
    }

    /// Records that event `seq` of `device_id` was written to its stream
    /// (the first time counts).
    pub fn sent(&self, device_id: &str, seq: u64) {
        let sent_us = now_us();
        let Ok(mut inner) = self.inner.lock() else {
            return;
        };
        let Some(&index) = inner.events.get(&(device_id.to_owned(), seq)) else {
            return;
        };
        if let Some(alert) = inner.alerts.get_mut(index) {
            alert.sent_us.get_or_insert(sent_us);
        }
    }

    /// The alerts recorded so far, which are then forgotten.
    pub fn take(&self) -> Vec<AlertStages> {
        match self.inner.lock() {
            Ok(mut inner) => {
                inner.events.clear();
                std::mem::take(&mut inner.alerts)
            }
            Err(_) => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_alert_is_followed_from_its_post_to_its_first_send() {
        let probe = StageProbe::default();
        let received = now_us();
        probe.written(
            "a1",
            received,
            &[("d1".to_owned(), 7), ("d2".to_owned(), 3)],
        );
        probe.sent("d2", 3);
        let first = probe.take();
        assert_eq!(first.len(), 1);
        let sent = first[0].sent_us.expect("sent to d2");
        assert!(received <= first[0].written_us && first[0].written_us <= sent);
        // A second send (to d1, or again after a reconnect) keeps the first.
        probe.sent("d1", 7);
        probe.sent("d9", 1);
        assert!(probe.take().is_empty(), "taken alerts are forgotten");
    }
}
