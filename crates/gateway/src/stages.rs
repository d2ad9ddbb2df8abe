//! Per-alert stage times for `cargo xtask bench delivery`, kept only when
//! the gateway runs with `--bench` and once the benchmark has asked for
//! them: when the bank's post reached the alert handler, when the alert's
//! commit returned, and when its frame was first written to a device's
//! stream. The benchmark joins them with
//! its own and the client's times (by the alert's id), so the breakdown of
//! its slowest alerts shows the gateway's part stage by stage. Times are
//! microseconds since the Unix epoch: the benchmark runs on the same
//! machine and converts them to its own clock.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
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
    /// The commit that stored the alert returned (none if it failed).
    pub written_us: Option<u64>,
    /// The alert's frame was first written to a stream, to whichever of
    /// its customer's devices came first.
    pub sent_us: Option<u64>,
}

/// The stage times of the alerts since the last [`StageProbe::take`].
/// Nothing is recorded until the first `take` (the delivery benchmark's
/// first call), so that the other benchmarks, which run with `--bench`
/// too, do not pay for it.
#[derive(Debug, Default)]
pub struct StageProbe {
    recording: AtomicBool,
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    alerts: Vec<AlertStages>,
    /// Alert id -> index in `alerts`.
    by_alert: HashMap<String, usize>,
    /// (device id, event number) -> index in `alerts`.
    events: HashMap<(String, u64), usize>,
    /// Each alert's (device id, event number)s, by its index in `alerts`.
    numbers: Vec<Vec<(String, u64)>>,
}

/// Now, in microseconds since the Unix epoch.
pub fn now_us() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
}

/// When a request reached its handler, for the stage times: now if the
/// gateway keeps them (`--bench`), else 0 (no clock read on the path).
pub fn received_now(probe: Option<&std::sync::Arc<StageProbe>>) -> u64 {
    probe.map_or(0, |_| now_us())
}

impl StageProbe {
    /// Whether alerts are being recorded.
    pub fn recording(&self) -> bool {
        self.recording.load(Ordering::Relaxed)
    }

    /// Records that `alert`, received at `received_us`, is being stored as
    /// the device events `events`. Called in the writing transaction,
    /// before its commit, so that no stream can send an event before it is
    /// known here (another alert's commit can wake the stream first).
    pub fn storing(&self, alert: &str, received_us: u64, events: &[(String, u64)]) {
        let Ok(mut inner) = self.inner.lock() else {
            return;
        };
        // Stored again (its write ran again after its batch rolled back):
        // the same record, with this run's events.
        let index = match inner.by_alert.get(alert) {
            Some(&index) => {
                // Its first run's numbers were rolled back with it: forget
                // them, so that only the numbers this run took name it.
                let first = inner.numbers.get_mut(index).map(std::mem::take);
                for number in first.unwrap_or_default() {
                    if inner.events.get(&number) == Some(&index) {
                        inner.events.remove(&number);
                    }
                }
                index
            }
            None if inner.alerts.len() >= MAX_ALERTS => return,
            None => {
                let index = inner.alerts.len();
                inner.alerts.push(AlertStages {
                    alert: alert.to_owned(),
                    received_us,
                    written_us: None,
                    sent_us: None,
                });
                inner.by_alert.insert(alert.to_owned(), index);
                inner.numbers.push(Vec::new());
                index
            }
        };
        for event in events {
            inner.events.insert(event.clone(), index);
        }
        if let Some(numbers) = inner.numbers.get_mut(index) {
            *numbers = events.to_vec();
        }
    }

    /// Records that the commit storing `alert` returned.
    pub fn written(&self, alert: &str) {
        let written_us = now_us();
        let Ok(mut inner) = self.inner.lock() else {
            return;
        };
        if let Some(&index) = inner.by_alert.get(alert)
            && let Some(stages) = inner.alerts.get_mut(index)
        {
            stages.written_us = Some(written_us);
        }
    }

    /// Records that event `seq` of `device_id` was written to its stream
    /// (the alert's first send counts).
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

    /// The alerts recorded since the last call, which are then forgotten;
    /// the first call starts the recording.
    pub fn take(&self) -> Vec<AlertStages> {
        self.recording.store(true, Ordering::Relaxed);
        match self.inner.lock() {
            Ok(mut inner) => {
                inner.events.clear();
                inner.by_alert.clear();
                inner.numbers.clear();
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
        assert!(!probe.recording(), "nothing is kept until asked");
        assert!(probe.take().is_empty());
        assert!(probe.recording());
        let received = now_us();
        probe.storing(
            "a1",
            received,
            &[("d1".to_owned(), 7), ("d2".to_owned(), 3)],
        );
        // Sent before its own commit returned: another alert's commit woke
        // the stream, which read it from the database.
        probe.sent("d2", 3);
        probe.written("a1");
        probe.sent("d1", 7);
        let first = probe.take();
        assert_eq!(first.len(), 1);
        let (written, sent) = (first[0].written_us.unwrap(), first[0].sent_us.unwrap());
        assert!(
            received <= sent && sent <= written,
            "the first send is kept"
        );
        probe.sent("d1", 7);
        assert!(probe.take().is_empty(), "taken alerts are forgotten");
    }

    #[test]
    fn an_alert_stored_again_is_named_only_by_its_last_numbers() {
        let probe = StageProbe::default();
        probe.take();
        probe.storing("a1", now_us(), &[("d1".to_owned(), 7)]);
        // Its batch rolled back and ran again; this time it took 8.
        probe.storing("a1", now_us(), &[("d1".to_owned(), 8)]);
        probe.sent("d1", 7);
        assert!(
            probe.take()[0].sent_us.is_none(),
            "a number the rerun did not take is not this alert's send"
        );
        probe.storing("a2", now_us(), &[("d1".to_owned(), 7)]);
        probe.storing("a2", now_us(), &[("d1".to_owned(), 8)]);
        probe.sent("d1", 8);
        assert!(probe.take()[0].sent_us.is_some(), "its last number is");
    }
}
