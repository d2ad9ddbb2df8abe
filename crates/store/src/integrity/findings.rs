//! The damage report: what the integrity check of an account found beyond
//! single rows, in the shape the client shows it.

use serde::Serialize;
use ts_rs::TS;

use super::head::{ALARM_HEAD_FORGED, ALARM_HEAD_MISSING, ALARM_ROLLED_BACK, AccountIntegrity};
use crate::ConversationId;

/// A scope whose rows no longer add up to what the last write recorded:
/// rows were deleted, added, or put back to an older version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct ScopeMismatch {
    /// The table: `messages` for a conversation's messages.
    pub table: &'static str,
    /// The conversation, for messages.
    pub conversation: Option<ConversationId>,
    /// How many rows the last write recorded.
    pub recorded_rows: u64,
    /// How many rows the file holds now.
    pub found_rows: u64,
}

/// Damage to an account's history as a whole, kept in the head once found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub enum Alarm {
    /// The file is an older copy than the one last anchored in the keychain.
    RolledBack {
        /// The write counter the keychain holds.
        anchored: u64,
        /// The write counter the file held.
        found: u64,
    },
    /// The account's head (its record of every scope) failed its MAC: the
    /// record itself was edited, so deletions may be hidden.
    HeadForged,
    /// The account's head was missing from a file that had protected the
    /// account before.
    HeadMissing,
}

/// What the integrity check of an account found beyond single rows (those
/// are in [`crate::UnlockReport::tampered`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct IntegrityFindings {
    /// Scopes whose rows no longer add up.
    pub scopes: Vec<ScopeMismatch>,
    /// Damage to the history as a whole, found now or at an earlier unlock.
    pub alarms: Vec<Alarm>,
    /// The account had no MACs yet (a store from before schema version 5):
    /// they were computed now, trusting the file as it was.
    pub trusted_on_first_use: bool,
}

impl IntegrityFindings {
    /// True when nothing was found.
    pub fn is_clean(&self) -> bool {
        self.scopes.is_empty() && self.alarms.is_empty()
    }
}

/// The alarms recorded in a head, as reported.
pub(crate) fn alarms_of(state: &AccountIntegrity, found_counter: u64) -> Vec<Alarm> {
    let mut out = Vec::new();
    if state.alarms & ALARM_ROLLED_BACK != 0 {
        out.push(Alarm::RolledBack {
            anchored: u64::try_from(state.anchored_from).unwrap_or(0),
            found: found_counter,
        });
    }
    if state.alarms & ALARM_HEAD_FORGED != 0 {
        out.push(Alarm::HeadForged);
    }
    if state.alarms & ALARM_HEAD_MISSING != 0 {
        out.push(Alarm::HeadMissing);
    }
    out
}
