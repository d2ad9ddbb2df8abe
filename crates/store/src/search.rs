//! Search that never touches the disk.
//!
//! The index lives in memory only. It is built when an account is unlocked,
//! by opening that account's sealed message bodies and alert texts, and kept
//! up to date on every write. Nothing about words, prefixes or bodies is ever
//! written to the database, its WAL or a temporary file, at the cost of
//! rebuilding the index at each unlock (see the crate README for figures).
//!
//! Words are folded for matching: Unicode compatibility decomposition, marks
//! dropped, lower case, so "Café", "CAFE" and "cafe" are one word. Every query
//! word matches as a prefix; all query words must match.
//!
//! Memory: a long history is mostly words seen once (numbers, references)
//! and a few words seen everywhere. Words are therefore kept in two parts.
//! New words go into a small hash map (cheap to update); past a size, that
//! map is merged into a packed, sorted part: one string holding every word,
//! one array of postings, and a bitmap instead of a list for a word in more
//! than one document in 32. An unlock merges as it goes, so the big map of a
//! bulk build never exists and leaves no freed heap behind.

use hashbrown::HashTable;
use std::collections::{BTreeSet, HashMap};
use std::hash::{BuildHasher, RandomState};
use std::sync::Arc;
use strongroom_core::AccountId;
use unicode_normalization::char::{decompose_compatible, is_combining_mark};

use crate::model::{AlertId, MessageId, Millis, SearchHit};

/// A hit packed in one number: the row id times two, plus one for an
/// alert. Row ids come from the store's counters, far below 2^62.
fn pack(hit: SearchHit) -> i64 {
    match hit {
        SearchHit::Message(MessageId(id)) => id.wrapping_mul(2),
        SearchHit::Alert(AlertId(id)) => id.wrapping_mul(2) | 1,
    }
}

fn unpack(key: i64) -> SearchHit {
    if key & 1 == 0 {
        SearchHit::Message(MessageId(key >> 1))
    } else {
        SearchHit::Alert(AlertId(key >> 1))
    }
}

/// The indexed documents, column by column, numbered in the order they
/// were added (their ordinals). About 21 bytes a document, where a struct
/// and a map entry per document took 65: at 100,000 messages this was the
/// largest part of the index.
#[derive(Default)]
struct Docs {
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
    by_key: HashTable<u32>,
    hasher: RandomState,
}

impl Docs {
    fn len(&self) -> usize {
        self.keys.len()
    }

    fn hit(&self, ordinal: u32) -> SearchHit {
        unpack(self.keys[ordinal as usize])
    }

    fn time(&self, ordinal: u32) -> Millis {
        self.times[ordinal as usize]
    }

    fn is_live(&self, ordinal: u32) -> bool {
        self.removed[ordinal as usize / 64] & (1 << (ordinal % 64)) == 0
    }

    fn account(&self, ordinal: u32) -> AccountId {
        self.accounts[self.account_of[ordinal as usize] as usize]
    }

    /// Adds a document that is not in the table; returns its ordinal.
    fn push(&mut self, hit: SearchHit, account: AccountId, time: Millis) -> u32 {
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
    fn remove(&mut self, hit: SearchHit) {
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
    fn compact(&mut self) -> Vec<u32> {
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

    fn shrink_to_fit(&mut self) {
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

/// The documents a word is in. Most words of a long history (numbers,
/// names, references) are in one document only, which needs no allocation
/// of its own.
#[derive(Debug, Clone)]
enum Postings {
    One(u32),
    Many(Vec<u32>),
}

impl Postings {
    fn push(&mut self, ordinal: u32) {
        match self {
            Postings::One(first) => *self = Postings::Many(vec![*first, ordinal]),
            Postings::Many(list) => list.push(ordinal),
        }
    }

    fn as_slice(&self) -> &[u32] {
        match self {
            Postings::One(ordinal) => std::slice::from_ref(ordinal),
            Postings::Many(list) => list,
        }
    }
}

/// One word of the packed part: where its text and its postings end.
#[derive(Debug, Clone, Copy)]
struct Entry {
    text_end: u32,
    postings_end: u32,
    /// The postings are a bitmap over every document, not a list.
    bitmap: bool,
}

/// The packed, read-mostly part of the index: every word in order, back to
/// back in one string, and every posting in one array. About 12 bytes a
/// word plus its text, against about 100 in a hash map of owned strings.
#[derive(Default)]
struct Packed {
    text: String,
    entries: Vec<Entry>,
    postings: Vec<u32>,
}

impl Packed {
    fn len(&self) -> usize {
        self.entries.len()
    }

    fn word(&self, i: usize) -> &str {
        let start = i
            .checked_sub(1)
            .map_or(0, |p| self.entries[p].text_end as usize);
        &self.text[start..self.entries[i].text_end as usize]
    }

    /// The raw postings of word `i`, and whether they are a bitmap.
    fn raw(&self, i: usize) -> (&[u32], bool) {
        let start = i
            .checked_sub(1)
            .map_or(0, |p| self.entries[p].postings_end as usize);
        let entry = self.entries[i];
        (
            &self.postings[start..entry.postings_end as usize],
            entry.bitmap,
        )
    }

    /// Calls `f` with each document of word `i`, in ascending order.
    fn each_posting(&self, i: usize, mut f: impl FnMut(u32)) {
        match self.raw(i) {
            (list, false) => list.iter().copied().for_each(f),
            (bits, true) => {
                for (k, &chunk) in bits.iter().enumerate() {
                    let mut chunk = chunk;
                    while chunk != 0 {
                        f(k as u32 * 32 + chunk.trailing_zeros());
                        chunk &= chunk - 1;
                    }
                }
            }
        }
    }

    /// The first word not less than `term`.
    fn lower_bound(&self, term: &str) -> usize {
        let (mut lo, mut hi) = (0, self.len());
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if self.word(mid) < term {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        lo
    }

    /// Appends word `i` of `from` (words come in order) with `more` documents,
    /// all after its own. A bitmap stays a bitmap, widened to `documents`.
    fn copy(&mut self, from: &Packed, i: usize, more: &[u32], documents: usize) {
        let (raw, bitmap) = from.raw(i);
        if !bitmap {
            let mut list = Vec::with_capacity(raw.len() + more.len());
            list.extend_from_slice(raw);
            list.extend_from_slice(more);
            self.push(from.word(i), &list, documents);
            return;
        }
        let start = self.postings.len();
        self.postings.extend_from_slice(raw);
        self.postings.resize(start + documents.div_ceil(32), 0);
        for &o in more {
            self.postings[start + o as usize / 32] |= 1 << (o % 32);
        }
        self.text.push_str(from.word(i));
        self.entries.push(Entry {
            text_end: u32::try_from(self.text.len()).unwrap_or(u32::MAX),
            postings_end: u32::try_from(self.postings.len()).unwrap_or(u32::MAX),
            bitmap: true,
        });
    }

    /// Appends a word (words come in order) with its ascending postings.
    /// A list costs a number per document, a bitmap one bit per document of
    /// the index: the cheaper one is kept.
    fn push(&mut self, word: &str, postings: &[u32], documents: usize) {
        let bitmap = postings.len() * 32 > documents;
        if bitmap {
            let start = self.postings.len();
            self.postings.resize(start + documents.div_ceil(32), 0);
            for &o in postings {
                self.postings[start + o as usize / 32] |= 1 << (o % 32);
            }
        } else {
            self.postings.extend_from_slice(postings);
        }
        self.text.push_str(word);
        self.entries.push(Entry {
            text_end: u32::try_from(self.text.len()).unwrap_or(u32::MAX),
            postings_end: u32::try_from(self.postings.len()).unwrap_or(u32::MAX),
            bitmap,
        });
    }
}

/// Postings the recent map may hold before it is merged into the packed
/// part; a merge also waits for the map to hold as many postings as the
/// packed part, so that adding n documents merges O(log n) times and
/// copies O(n) in all, whether they come from an unlock or live. (Merging
/// at a quarter cost the store benchmark's inserts about 7 %.)
const RECENT_POSTINGS: usize = 1 << 16;

/// An inverted index from folded words to documents.
#[derive(Default)]
pub(crate) struct SearchIndex {
    docs: Docs,
    /// Most words, packed (see the module documentation).
    packed: Packed,
    /// Words added since the last merge, by exact word: the hot path of
    /// every insert is one hash lookup per word.
    words: HashMap<Arc<str>, Postings>,
    /// The same recent words in order, for prefix queries and merges.
    /// Shares each word's text with `words`.
    ordered: BTreeSet<Arc<str>>,
    /// Postings held in `words`.
    recent_postings: usize,
}

/// Splits text into folded words.
pub(crate) fn words(text: &str) -> Vec<String> {
    if text.is_ascii() {
        // Most text is plain ASCII: no decomposition to do.
        return text
            .split(|c: char| !c.is_ascii_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(str::to_ascii_lowercase)
            .collect();
    }
    // Case first (so that "İ" loses its dot with the other marks), then
    // compatibility decomposition, then marks dropped; ß and final sigma fold
    // as full case folding would. Char by char, without building any
    // intermediate string: this runs for every message written.
    let mut out = Vec::new();
    let mut current = String::new();
    let mut push = |d: char, current: &mut String| {
        if is_combining_mark(d) {
        } else if d.is_alphanumeric() {
            current.extend(d.to_lowercase());
        } else if !current.is_empty() {
            out.push(std::mem::take(current));
        }
    };
    for c in text.chars() {
        if c.is_ascii() {
            push(c.to_ascii_lowercase(), &mut current);
            continue;
        }
        for lower in c.to_lowercase() {
            match lower {
                'ß' => {
                    push('s', &mut current);
                    push('s', &mut current);
                }
                'ς' => push('σ', &mut current),
                other => decompose_compatible(other, |d| push(d, &mut current)),
            }
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

impl SearchIndex {
    /// Adds (or replaces) a document.
    pub(crate) fn add(&mut self, hit: SearchHit, account: AccountId, time: Millis, text: &str) {
        self.remove(hit);
        let ordinal = self.docs.push(hit, account, time);
        let mut ws = words(text);
        ws.sort_unstable();
        ws.dedup();
        self.recent_postings += ws.len();
        for w in ws {
            match self.words.get_mut(w.as_str()) {
                Some(list) => list.push(ordinal),
                None => {
                    let w: Arc<str> = Arc::from(w);
                    self.ordered.insert(w.clone());
                    self.words.insert(w, Postings::One(ordinal));
                }
            }
        }
        if self.recent_postings > RECENT_POSTINGS.max(self.packed.postings.len()) {
            self.merge(None);
        }
    }

    /// Merges the recent words into the packed part, renumbering documents
    /// first when `renumber` is given (a compaction; `u32::MAX` drops).
    fn merge(&mut self, renumber: Option<&[u32]>) {
        let old = std::mem::take(&mut self.packed);
        let recent = std::mem::take(&mut self.words);
        let ordered = std::mem::take(&mut self.ordered);
        let recent_postings = std::mem::take(&mut self.recent_postings);
        let documents = self.docs.len();
        let mut packed = Packed {
            text: String::with_capacity(
                old.text.len() + ordered.iter().map(|w| w.len()).sum::<usize>(),
            ),
            entries: Vec::with_capacity(old.len() + ordered.len()),
            postings: Vec::with_capacity(old.postings.len() + recent_postings),
        };
        let mut postings: Vec<u32> = Vec::new();
        let ordered: Vec<Arc<str>> = ordered.into_iter().collect();
        let (mut i, mut j) = (0, 0);
        loop {
            let from_old = (i < old.len()).then(|| old.word(i));
            let from_recent = ordered.get(j).map(AsRef::as_ref);
            let word = match (from_old, from_recent) {
                (Some(a), Some(b)) => a.min(b),
                (Some(a), None) => a,
                (None, Some(b)) => b,
                (None, None) => break,
            };
            let in_recent = from_recent == Some(word);
            if from_old == Some(word) && renumber.is_none() {
                // The common case of a merge while adding: the packed word
                // is copied as it is, with any recent documents added.
                let list = if in_recent { recent.get(word) } else { None };
                packed.copy(&old, i, list.map_or(&[], Postings::as_slice), documents);
                i += 1;
                j += usize::from(in_recent);
                continue;
            }
            postings.clear();
            // Packed documents came first, so the list stays ascending.
            if from_old == Some(word) {
                old.each_posting(i, |o| postings.push(o));
                i += 1;
            }
            if in_recent {
                if let Some(list) = recent.get(word) {
                    postings.extend_from_slice(list.as_slice());
                }
                j += 1;
            }
            if let Some(renumber) = renumber {
                postings.retain_mut(|o| {
                    *o = renumber[*o as usize];
                    *o != u32::MAX
                });
            }
            if !postings.is_empty() {
                packed.push(word, &postings, documents);
            }
        }
        packed.text.shrink_to_fit();
        packed.entries.shrink_to_fit();
        packed.postings.shrink_to_fit();
        self.packed = packed;
    }

    /// Packs every word and gives back the spare capacity that growing left
    /// behind, after a bulk build (an unlock).
    pub(crate) fn shrink(&mut self) {
        self.merge(None);
        self.docs.shrink_to_fit();
    }

    /// Forgets a document.
    pub(crate) fn remove(&mut self, hit: SearchHit) {
        self.docs.remove(hit);
    }

    /// Forgets every document of an account (unlink).
    pub(crate) fn remove_account(&mut self, account: AccountId) {
        let hits: Vec<SearchHit> = (0..self.docs.len())
            .filter_map(|o| u32::try_from(o).ok())
            .filter(|&o| self.docs.is_live(o) && self.docs.account(o) == account)
            .map(|o| self.docs.hit(o))
            .collect();
        for hit in hits {
            self.remove(hit);
        }
        // Compact now, not lazily: the words of a locked or erased account
        // must not stay in memory.
        self.compact();
    }

    /// Drops dead documents from the posting lists.
    fn compact(&mut self) {
        let renumber = self.docs.compact();
        self.merge(Some(&renumber));
    }

    /// Documents matching every word of the query as a prefix, newest first.
    pub(crate) fn search(&self, query: &str, limit: usize) -> Vec<SearchHit> {
        let terms = words(query);
        if terms.is_empty() || limit == 0 {
            return Vec::new();
        }
        // One bit per document; each term narrows the set.
        let blocks = self.docs.len().div_ceil(64);
        let mut result: Option<Vec<u64>> = None;
        for term in &terms {
            let mut set = vec![0u64; blocks];
            let mut i = self.packed.lower_bound(term);
            while i < self.packed.len() && self.packed.word(i).starts_with(term.as_str()) {
                match self.packed.raw(i) {
                    (bits, true) => {
                        for (k, &chunk) in bits.iter().enumerate() {
                            set[k / 2] |= u64::from(chunk) << (32 * (k % 2));
                        }
                    }
                    (list, false) => {
                        for &o in list {
                            set[o as usize / 64] |= 1 << (o % 64);
                        }
                    }
                }
                i += 1;
            }
            for word in self
                .ordered
                .range::<str, _>((
                    std::ops::Bound::Included(term.as_str()),
                    std::ops::Bound::Unbounded,
                ))
                .take_while(|w| w.starts_with(term.as_str()))
            {
                for &o in self
                    .words
                    .get(word.as_ref())
                    .map(Postings::as_slice)
                    .unwrap_or_default()
                {
                    set[o as usize / 64] |= 1 << (o % 64);
                }
            }
            result = Some(match result {
                None => set,
                Some(mut acc) => {
                    for (a, s) in acc.iter_mut().zip(&set) {
                        *a &= s;
                    }
                    acc
                }
            });
        }
        let Some(set) = result else {
            return Vec::new();
        };
        let mut matches: Vec<(Millis, u32)> = Vec::new();
        for (block_index, mut block) in set.into_iter().enumerate() {
            while block != 0 {
                let bit = block.trailing_zeros();
                block &= block - 1;
                let ordinal = u32::try_from(block_index * 64 + bit as usize).unwrap_or(u32::MAX);
                if self.docs.is_live(ordinal) {
                    matches.push((self.docs.time(ordinal), ordinal));
                }
            }
        }
        // Newest first; later ordinals win ties so the order is stable.
        let newest_first = |a: &(Millis, u32), b: &(Millis, u32)| b.cmp(a);
        if matches.len() > limit {
            matches.select_nth_unstable_by(limit - 1, newest_first);
            matches.truncate(limit);
        }
        matches.sort_unstable_by(newest_first);
        matches.into_iter().map(|(_, o)| self.docs.hit(o)).collect()
    }

    /// Number of live documents (the table holds only those).
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.docs.by_key.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::MessageId;

    fn acct() -> AccountId {
        AccountId::from_random([3; 8])
    }

    #[test]
    fn folds_case_and_accents() {
        assert_eq!(
            words("Café CRÈME, ﬁnal-Straße 42"),
            ["cafe", "creme", "final", "strasse", "42"]
        );
        assert_eq!(words("STRASSE"), words("straße"));
        assert_eq!(words("ΟΔΟΣ"), words("οδος"));
        assert_eq!(words("İstanbul"), ["istanbul"]);
    }

    #[test]
    fn prefix_and_conjunction_newest_first() {
        let mut index = SearchIndex::default();
        index.add(
            SearchHit::Message(MessageId(1)),
            acct(),
            10,
            "Payment to Café Noir",
        );
        index.add(
            SearchHit::Message(MessageId(2)),
            acct(),
            30,
            "payment refused",
        );
        index.add(
            SearchHit::Message(MessageId(3)),
            acct(),
            20,
            "your PAYSLIP arrived",
        );
        assert_eq!(
            index.search("pay", 10),
            [2, 3, 1].map(|i| SearchHit::Message(MessageId(i))).to_vec()
        );
        assert_eq!(
            index.search("PAYMENT cafe", 10),
            vec![SearchHit::Message(MessageId(1))]
        );
        assert_eq!(
            index.search("pay", 1),
            vec![SearchHit::Message(MessageId(2))]
        );
        assert!(index.search("zebra", 10).is_empty());
        assert!(index.search("  ", 10).is_empty());
        index.remove(SearchHit::Message(MessageId(2)));
        assert_eq!(index.search("refused", 10), vec![]);
        index.remove_account(acct());
        assert_eq!(index.len(), 0);
        assert!(index.search("pay", 10).is_empty());
    }

    #[test]
    fn words_in_one_document_and_in_many_survive_compaction() {
        let other = AccountId::from_random([4; 8]);
        let mut index = SearchIndex::default();
        for i in 0..5 {
            let account = if i % 2 == 0 { acct() } else { other };
            index.add(
                SearchHit::Message(MessageId(i)),
                account,
                i,
                &format!("statement ref{i}"),
            );
        }
        index.shrink();
        assert_eq!(
            index.search("ref3", 10),
            vec![SearchHit::Message(MessageId(3))]
        );
        assert_eq!(index.search("statement", 10).len(), 5);
        // Compaction renumbers single and shared postings alike.
        index.remove_account(acct());
        assert_eq!(index.len(), 2);
        assert_eq!(
            index.search("statement", 10),
            [3, 1].map(|i| SearchHit::Message(MessageId(i))).to_vec()
        );
        assert_eq!(
            index.search("ref1", 10),
            vec![SearchHit::Message(MessageId(1))]
        );
        assert!(index.search("ref2", 10).is_empty());
        index.add(SearchHit::Message(MessageId(9)), other, 9, "ref1 again");
        assert_eq!(
            index.search("ref1", 10),
            [9, 1].map(|i| SearchHit::Message(MessageId(i))).to_vec()
        );
    }

    /// Brute force over the same documents: the answer the index must give.
    fn expected(docs: &[(i64, AccountId, String)], query: &str) -> Vec<SearchHit> {
        let terms = words(query);
        let mut hits: Vec<&(i64, AccountId, String)> = docs
            .iter()
            .filter(|(_, _, text)| {
                let ws = words(text);
                terms
                    .iter()
                    .all(|t| ws.iter().any(|w| w.starts_with(t.as_str())))
            })
            .collect();
        hits.sort_by_key(|h| std::cmp::Reverse(h.0));
        hits.iter()
            .map(|(id, _, _)| SearchHit::Message(MessageId(*id)))
            .collect()
    }

    #[test]
    fn packed_words_and_recent_words_answer_alike_across_merges() {
        let other = AccountId::from_random([4; 8]);
        let vocabulary = ["pay", "payment", "card", "carte", "refund", "rare"];
        let mut seed = 0x2545_f491_u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let mut index = SearchIndex::default();
        let mut docs = Vec::new();
        // Enough postings for several merges while adding, dense words
        // (bitmaps) and words seen once (lists) alike.
        for id in 0..40_000_i64 {
            let mut text = format!("ref{id}");
            for _ in 0..(next() % 6) {
                let w = vocabulary[(next() % 5) as usize];
                text.push(' ');
                text.push_str(w);
            }
            if id % 997 == 0 {
                text.push_str(" rare");
            }
            let account = if id % 3 == 0 { other } else { acct() };
            index.add(SearchHit::Message(MessageId(id)), account, id, &text);
            docs.push((id, account, text));
        }
        assert!(index.packed.len() > 0, "the bulk build merged as it went");
        let queries = [
            "pay",
            "payment card",
            "car",
            "rare",
            "ref39999",
            "ref1 rare",
            "zz",
        ];
        let check = |index: &SearchIndex, docs: &[(i64, AccountId, String)]| {
            for q in queries {
                let (got, want) = (index.search(q, usize::MAX), expected(docs, q));
                let first_difference = got.iter().zip(&want).position(|(a, b)| a != b);
                assert!(
                    got == want,
                    "query {q:?}: {} hits, expected {}; first difference at {first_difference:?}",
                    got.len(),
                    want.len()
                );
            }
        };
        check(&index, &docs);
        index.shrink();
        assert!(
            index.words.is_empty(),
            "everything packed after a bulk build"
        );
        check(&index, &docs);
        // A live write after packing lands in the recent words, and a
        // replaced document answers with its new text only.
        index.add(
            SearchHit::Message(MessageId(40_000)),
            acct(),
            40_000,
            "rare payment",
        );
        docs.push((40_000, acct(), "rare payment".into()));
        index.add(SearchHit::Message(MessageId(5)), acct(), 5, "replaced");
        docs.retain(|d| d.0 != 5);
        docs.push((5, acct(), "replaced".into()));
        check(&index, &docs);
        assert_eq!(
            index.search("replaced", 10),
            vec![SearchHit::Message(MessageId(5))]
        );
        // Compaction renumbers packed bitmaps, packed lists and recent words.
        index.remove_account(other);
        docs.retain(|d| d.1 != other);
        check(&index, &docs);
        assert_eq!(index.len(), docs.len());
    }

    #[test]
    fn a_message_and_an_alert_with_the_same_row_id_stay_apart() {
        for id in [1, 7, -3, (1 << 61) + 5] {
            for hit in [
                SearchHit::Message(MessageId(id)),
                SearchHit::Alert(AlertId(id)),
            ] {
                assert_eq!(unpack(pack(hit)), hit);
            }
        }
        let mut index = SearchIndex::default();
        index.add(SearchHit::Message(MessageId(7)), acct(), 1, "refund issued");
        index.add(SearchHit::Alert(AlertId(7)), acct(), 2, "refund blocked");
        assert_eq!(
            index.search("refund", 10),
            vec![
                SearchHit::Alert(AlertId(7)),
                SearchHit::Message(MessageId(7))
            ]
        );
        index.remove(SearchHit::Alert(AlertId(7)));
        assert_eq!(
            index.search("refund", 10),
            vec![SearchHit::Message(MessageId(7))]
        );
        assert_eq!(index.len(), 1);
    }
}
