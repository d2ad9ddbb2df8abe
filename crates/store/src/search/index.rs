//! The inverted index from folded words to documents: adding, removing
//! and forgetting documents, and merging recent words into the packed part.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use strongroom_core::AccountId;

use super::documents::Docs;
use super::folding::for_each_word;
use super::packed::Packed;
use crate::model::{Millis, SearchHit};

/// The documents a word is in. Most words of a long history (numbers,
/// names, references) are in one document only, which needs no allocation
/// of its own.
#[derive(Debug, Clone)]
pub(super) enum Postings {
    One(u32),
    Many(Vec<u32>),
}

impl Postings {
    pub(super) fn push(&mut self, ordinal: u32) {
        match self {
            Postings::One(first) => *self = Postings::Many(vec![*first, ordinal]),
            Postings::Many(list) => list.push(ordinal),
        }
    }

    /// The newest document posted.
    pub(super) fn last(&self) -> u32 {
        match self {
            Postings::One(ordinal) => *ordinal,
            Postings::Many(list) => list.last().copied().unwrap_or(u32::MAX),
        }
    }

    pub(super) fn as_slice(&self) -> &[u32] {
        match self {
            Postings::One(ordinal) => std::slice::from_ref(ordinal),
            Postings::Many(list) => list,
        }
    }
}

/// Postings the recent map may hold before it is merged into the packed
/// part; a merge also waits for the map to hold as many postings as the
/// packed part, so that adding n documents merges O(log n) times and
/// copies O(n) in all, whether they come from an unlock or live. (Merging
/// sooner, at a quarter, slowed the store benchmark's inserts.)
const RECENT_POSTINGS: usize = 1 << 16;

/// An inverted index from folded words to documents.
#[derive(Default)]
pub(crate) struct SearchIndex {
    pub(super) docs: Docs,
    /// Most words, packed (see the module documentation).
    pub(super) packed: Packed,
    /// Words added since the last merge, by exact word: the hot path of
    /// every insert is one hash lookup per word.
    pub(super) words: HashMap<Arc<str>, Postings>,
    /// The same recent words in order, for prefix queries and merges.
    /// Shares each word's text with `words`.
    pub(super) ordered: BTreeSet<Arc<str>>,
    /// Postings held in `words`.
    pub(super) recent_postings: usize,
}

impl SearchIndex {
    /// Adds (or replaces) a document.
    pub(crate) fn add(&mut self, hit: SearchHit, account: AccountId, time: Millis, text: &str) {
        self.remove(hit);
        let ordinal = self.docs.push(hit, account, time);
        // A word repeated in the text is posted once: its postings already
        // end with this document (documents only ever get the newest
        // ordinal), so no sort or dedup of the text's words is needed.
        let (words, ordered, recent) = (
            &mut self.words,
            &mut self.ordered,
            &mut self.recent_postings,
        );
        for_each_word(text, |w| match words.get_mut(w) {
            Some(list) if list.last() == ordinal => {}
            Some(list) => {
                list.push(ordinal);
                *recent += 1;
            }
            None => {
                let w: Arc<str> = Arc::from(w);
                ordered.insert(w.clone());
                words.insert(w, Postings::One(ordinal));
                *recent += 1;
            }
        });
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

    /// Number of live documents (the table holds only those).
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.docs.by_key.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{AlertId, MessageId};
    use crate::search::documents::{pack, unpack};
    use crate::search::folding::words;

    fn acct() -> AccountId {
        AccountId::from_random([3; 8])
    }
    /// A word repeated in a text, in any case or accent, is posted once
    /// (the insert path dedups by the postings' last document, not by
    /// sorting the text's words).
    #[test]
    fn a_repeated_word_is_posted_once() {
        let mut index = SearchIndex::default();
        index.add(
            SearchHit::Message(MessageId(1)),
            acct(),
            1,
            "pay Pay PAY café Cafe pay",
        );
        index.add(SearchHit::Message(MessageId(2)), acct(), 2, "pay");
        assert_eq!(index.words["pay"].as_slice(), [0, 1]);
        assert_eq!(index.words["cafe"].as_slice(), [0]);
        assert_eq!(index.recent_postings, 3);
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
