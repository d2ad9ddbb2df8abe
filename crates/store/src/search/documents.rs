//! The indexed documents: which hit, account and time each document
//! number stands for, and which are removed, kept column by column.

use hashbrown::HashTable;
use std::hash::{BuildHasher, RandomState};
use strongroom_core::AccountId;

use crate::model::{AlertId, MessageId, Millis, SearchHit};

/// A hit packed in one number: the row id times two, plus one for an
/// alert. Row ids come from the store's counters, far below 2^62.
pub(super) fn pack(hit: SearchHit) -> i64 {
    match hit {
        SearchHit::Message(MessageId(id)) => id.wrapping_mul(2),
        SearchHit::Alert(AlertId(id)) => id.wrapping_mul(2) | 1,
    }
}

pub(super) fn unpack(key: i64) -> SearchHit {
    if key & 1 == 0 {
        SearchHit::Message(MessageId(key >> 1))
    } else {
        SearchHit::Alert(AlertId(key >> 1))
    }
}

/// The indexed documents, column by column, numbered in the order they
/// were added (their ordinals). A struct and a map entry per document took
/// far more memory, and on a long history documents were the
/// largest part of the index.
#[derive(Default)]
pub(super) struct Docs {
    /// Each document's hit, packed ([`pack`]).
    keys: Vec<i64>,
    times: Vec<Millis>,
    /// Each document's account, as a position in `accounts`.
    account_of: Vec<u32>,
    accounts: Vec<AccountId>,
    /// One bit per document, set once it is removed.
    removed: Vec<u64>,
    /// Live documents by hit. The table holds bare ordinals and hashes
    /// each through `keys`, so a key is stored once.
    pub(super) by_key: HashTable<u32>,
    hasher: RandomState,
}

impl Docs {
    pub(super) fn len(&self) -> usize {
        self.keys.len()
    }

    pub(super) fn hit(&self, ordinal: u32) -> SearchHit {
        unpack(self.keys[ordinal as usize])
    }

    pub(super) fn time(&self, ordinal: u32) -> Millis {
        self.times[ordinal as usize]
    }

    pub(super) fn is_live(&self, ordinal: u32) -> bool {
        self.removed[ordinal as usize / 64] & (1 << (ordinal % 64)) == 0
    }

    pub(super) fn account(&self, ordinal: u32) -> AccountId {
        self.accounts[self.account_of[ordinal as usize] as usize]
    }

    /// Adds a document that is not in the table; returns its ordinal.
    pub(super) fn push(&mut self, hit: SearchHit, account: AccountId, time: Millis) -> u32 {
        let ordinal = u32::try_from(self.keys.len()).unwrap_or(u32::MAX);
        let slot = match self.accounts.iter().position(|a| *a == account) {
            Some(slot) => slot,
            None => {
                self.accounts.push(account);
                self.accounts.len() - 1
            }
        };
        let key = pack(hit);
        self.keys.push(key);
        self.times.push(time);
        self.account_of
            .push(u32::try_from(slot).unwrap_or(u32::MAX));
        if self.removed.len() * 64 < self.keys.len() {
            self.removed.push(0);
        }
        let Docs {
            keys,
            by_key,
            hasher,
            ..
        } = self;
        by_key.insert_unique(hasher.hash_one(key), ordinal, |&o| {
            hasher.hash_one(keys[o as usize])
        });
        ordinal
    }

    /// Marks a document removed (nothing if it is not there).
    pub(super) fn remove(&mut self, hit: SearchHit) {
        let key = pack(hit);
        let Docs {
            keys,
            by_key,
            hasher,
            removed,
            ..
        } = self;
        if let Ok(entry) = by_key.find_entry(hasher.hash_one(key), |&o| keys[o as usize] == key) {
            let (ordinal, _) = entry.remove();
            removed[ordinal as usize / 64] |= 1 << (ordinal % 64);
        }
    }

    /// Drops removed documents and renumbers the others; returns the new
    /// number of each old ordinal (`u32::MAX` for a dropped one).
    pub(super) fn compact(&mut self) -> Vec<u32> {
        let old = std::mem::take(self);
        self.hasher = old.hasher.clone();
        let mut renumber = vec![u32::MAX; old.len()];
        for (o, new) in renumber.iter_mut().enumerate() {
            let o = u32::try_from(o).unwrap_or(u32::MAX);
            if old.is_live(o) {
                *new = self.push(old.hit(o), old.account(o), old.time(o));
            }
        }
        self.shrink_to_fit();
        renumber
    }

    pub(super) fn shrink_to_fit(&mut self) {
        self.keys.shrink_to_fit();
        self.times.shrink_to_fit();
        self.account_of.shrink_to_fit();
        self.removed.shrink_to_fit();
        let Docs {
            keys,
            by_key,
            hasher,
            ..
        } = self;
        by_key.shrink_to_fit(|&o| hasher.hash_one(keys[o as usize]));
    }
}
