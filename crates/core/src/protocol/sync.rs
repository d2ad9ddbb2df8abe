//! The delivery state machine, without I/O.
//!
//! The server numbers each device's events 1, 2, 3, ... and keeps them until
//! the device acknowledges them. The device acknowledges a number only after
//! the event is durably stored, and acknowledgements are cumulative: `ack n`
//! means everything up to `n` is stored. On reconnect the device resumes
//! after its last acknowledged number. Events may arrive twice (at-least-once
//! on the wire); the store keeps them once (exactly-once in the store).

use std::collections::BTreeSet;

/// What to do with an event that arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arrival {
    /// New: store it, then call [`Delivery::stored`].
    Store,
    /// Already stored: do not store again; acknowledge `ack` again so the
    /// server can drop it.
    AlreadyStored {
        /// The cumulative acknowledgement to send.
        ack: u64,
    },
}

/// The device's side of one bank's delivery stream.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Delivery {
    acked: u64,
    /// Stored but not yet acknowledgeable (a lower number is still missing).
    stored_ahead: BTreeSet<u64>,
}

impl Delivery {
    /// Resumes from the last acknowledged number, as persisted with the data.
    pub fn resume(acked: u64) -> Self {
        Delivery {
            acked,
            stored_ahead: BTreeSet::new(),
        }
    }

    /// The number to resume after (send as `resume { after }`).
    pub fn acked(&self) -> u64 {
        self.acked
    }

    /// An event numbered `seq` arrived.
    pub fn arrived(&self, seq: u64) -> Arrival {
        if seq <= self.acked || self.stored_ahead.contains(&seq) {
            Arrival::AlreadyStored { ack: self.acked }
        } else {
            Arrival::Store
        }
    }

    /// Event `seq` is durably stored. Returns the new cumulative
    /// acknowledgement to send, if it moved.
    pub fn stored(&mut self, seq: u64) -> Option<u64> {
        if seq <= self.acked {
            return None;
        }
        self.stored_ahead.insert(seq);
        let before = self.acked;
        while self.stored_ahead.remove(&(self.acked + 1)) {
            self.acked += 1;
        }
        (self.acked > before).then_some(self.acked)
    }
}

/// Retry delays with exponential backoff and full jitter, for reconnects and
/// the outbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// The first delay's ceiling, milliseconds.
    pub base_ms: u64,
    /// The largest ceiling, milliseconds.
    pub max_ms: u64,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            base_ms: 250,
            max_ms: 30_000,
        }
    }
}

impl Backoff {
    /// The delay before retry number `attempt` (0 for the first retry):
    /// uniform in `[ceiling / 2, ceiling]` where the ceiling doubles per
    /// attempt up to `max_ms`. `random` is any uniformly random `u32` (the
    /// caller's random source keeps this module free of I/O). Keeping half of
    /// the ceiling avoids a storm of instant retries when a gateway restarts
    /// with thousands of devices connected.
    pub fn delay_ms(&self, attempt: u32, random: u32) -> u64 {
        let ceiling = self
            .base_ms
            .saturating_mul(1u64 << attempt.min(32))
            .min(self.max_ms)
            .max(1);
        let half = ceiling / 2;
        half + (u64::from(random) * (ceiling - half)) / u64::from(u32::MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn acknowledges_only_what_is_stored_and_contiguous() {
        let mut d = Delivery::resume(0);
        assert_eq!(d.arrived(1), Arrival::Store);
        assert_eq!(d.arrived(2), Arrival::Store);
        // 2 is stored first: nothing can be acknowledged yet.
        assert_eq!(d.stored(2), None);
        assert_eq!(d.arrived(2), Arrival::AlreadyStored { ack: 0 });
        assert_eq!(d.stored(1), Some(2));
        assert_eq!(d.acked(), 2);
        assert_eq!(d.arrived(1), Arrival::AlreadyStored { ack: 2 });
        assert_eq!(d.stored(1), None);
        // After a restart, resume from the persisted number.
        let d = Delivery::resume(2);
        assert_eq!(d.arrived(2), Arrival::AlreadyStored { ack: 2 });
        assert_eq!(d.arrived(3), Arrival::Store);
    }

    #[test]
    fn backoff_grows_stays_bounded_and_is_jittered() {
        let b = Backoff {
            base_ms: 100,
            max_ms: 10_000,
        };
        assert_eq!(b.delay_ms(0, 0), 50);
        assert_eq!(b.delay_ms(0, u32::MAX), 100);
        assert_eq!(b.delay_ms(3, u32::MAX), 800);
        assert_eq!(b.delay_ms(60, u32::MAX), 10_000);
        assert!(b.delay_ms(60, 0) >= 5_000);
        assert_ne!(
            b.delay_ms(4, 1 << 30),
            b.delay_ms(4, 3 << 30),
            "jitter spreads retries"
        );
    }
}
