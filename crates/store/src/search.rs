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

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use strongroom_core::AccountId;
use unicode_normalization::char::{decompose_compatible, is_combining_mark};

use crate::model::{Millis, SearchHit};

#[derive(Debug, Clone, Copy)]
struct Doc {
    hit: SearchHit,
    account: AccountId,
    time: Millis,
    live: bool,
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

    /// Renumbers after a compaction; false when no document is left.
    fn renumber(&mut self, renumber: &[u32]) -> bool {
        match self {
            Postings::One(ordinal) => {
                *ordinal = renumber[*ordinal as usize];
                *ordinal != u32::MAX
            }
            Postings::Many(list) => {
                list.retain_mut(|o| {
                    *o = renumber[*o as usize];
                    *o != u32::MAX
                });
                !list.is_empty()
            }
        }
    }

    fn shrink(&mut self) {
        if let Postings::Many(list) = self {
            list.shrink_to_fit();
        }
    }
}

/// An inverted index from folded words to documents.
#[derive(Default)]
pub(crate) struct SearchIndex {
    docs: Vec<Doc>,
    by_hit: HashMap<SearchHit, u32>,
    /// Postings by exact word: the hot path of every insert is one hash
    /// lookup per word.
    words: HashMap<Arc<str>, Postings>,
    /// The same words in order, for prefix queries; touched only when a word
    /// is seen for the first time. Shares each word's text with `words`.
    ordered: BTreeSet<Arc<str>>,
    dead: usize,
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
        let ordinal = u32::try_from(self.docs.len()).unwrap_or(u32::MAX);
        self.docs.push(Doc {
            hit,
            account,
            time,
            live: true,
        });
        self.by_hit.insert(hit, ordinal);
        let mut ws = words(text);
        ws.sort_unstable();
        ws.dedup();
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
    }

    /// Gives back the spare capacity that growing left behind, after a bulk
    /// build (an unlock).
    pub(crate) fn shrink(&mut self) {
        for list in self.words.values_mut() {
            list.shrink();
        }
        self.words.shrink_to_fit();
        self.docs.shrink_to_fit();
        self.by_hit.shrink_to_fit();
    }

    /// Forgets a document.
    pub(crate) fn remove(&mut self, hit: SearchHit) {
        if let Some(ordinal) = self.by_hit.remove(&hit)
            && let Some(doc) = self.docs.get_mut(ordinal as usize)
        {
            doc.live = false;
            self.dead += 1;
        }
    }

    /// Forgets every document of an account (unlink).
    pub(crate) fn remove_account(&mut self, account: AccountId) {
        let hits: Vec<SearchHit> = self
            .docs
            .iter()
            .filter(|d| d.live && d.account == account)
            .map(|d| d.hit)
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
        let mut renumber = vec![u32::MAX; self.docs.len()];
        let mut docs = Vec::with_capacity(self.docs.len() - self.dead);
        for (old, doc) in self.docs.iter().enumerate() {
            if doc.live {
                renumber[old] = u32::try_from(docs.len()).unwrap_or(u32::MAX);
                docs.push(*doc);
            }
        }
        self.words.retain(|_, list| list.renumber(&renumber));
        let words = &self.words;
        self.ordered.retain(|w| words.contains_key(w.as_ref()));
        self.by_hit = docs
            .iter()
            .enumerate()
            .map(|(i, d)| (d.hit, u32::try_from(i).unwrap_or(u32::MAX)))
            .collect();
        self.docs = docs;
        self.dead = 0;
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
                let ordinal = block_index * 64 + bit as usize;
                let doc = &self.docs[ordinal];
                if doc.live {
                    matches.push((doc.time, u32::try_from(ordinal).unwrap_or(u32::MAX)));
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
        matches
            .into_iter()
            .map(|(_, o)| self.docs[o as usize].hit)
            .collect()
    }

    /// Number of live documents.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.docs.len() - self.dead
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
}
