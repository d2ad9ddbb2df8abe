//! Where an alert's time goes on this device, for the delivery benchmark's
//! breakdown of its slowest alerts (issue 23): when its frame was read off
//! the stream, when it was verified, when it was committed. Off unless a
//! caller turns it on; then kept for a bounded number of alerts.

use std::collections::HashMap;
use std::time::Instant;

/// The alerts whose stages are kept at most, so that leaving the probe on
/// cannot grow memory without bound.
const KEPT: usize = 200_000;

/// When one alert passed each stage on this device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AlertStages {
    /// Its frame was read off the stream.
    pub received: Instant,
    /// Its signature was checked against the bank's pinned keys.
    pub verified: Instant,
    /// The transaction that stored it committed (before it is announced).
    pub committed: Instant,
}

/// The probe: off, or the stages of each alert by the bank's alert id.
#[derive(Debug, Default)]
pub(super) struct Stages {
    kept: Option<HashMap<String, AlertStages>>,
}

impl Stages {
    pub(super) fn set_recording(&mut self, on: bool) {
        self.kept = on.then(HashMap::new);
    }

    pub(super) fn recording(&self) -> bool {
        self.kept.is_some()
    }

    pub(super) fn record(&mut self, bank_alert_id: &str, stages: AlertStages) {
        if let Some(kept) = &mut self.kept
            && kept.len() < KEPT
        {
            kept.insert(bank_alert_id.to_owned(), stages);
        }
    }

    pub(super) fn take(&mut self) -> HashMap<String, AlertStages> {
        self.kept.as_mut().map(std::mem::take).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at() -> AlertStages {
        let now = Instant::now();
        AlertStages {
            received: now,
            verified: now,
            committed: now,
        }
    }

    /// Off by default (a customer's app keeps nothing); on, each alert's
    /// stages are kept once and handed over once.
    #[test]
    fn stages_are_kept_only_when_asked_and_handed_over_once() {
        let mut stages = Stages::default();
        stages.record("a", at());
        assert!(!stages.recording());
        assert!(stages.take().is_empty());
        stages.set_recording(true);
        stages.record("a", at());
        stages.record("b", at());
        let taken = stages.take();
        assert_eq!(taken.len(), 2);
        assert!(stages.take().is_empty());
        stages.set_recording(false);
        stages.record("c", at());
        assert!(stages.take().is_empty());
    }
}
