//! Answering a query: the documents holding every query word as a word
//! prefix, newest first.

use super::folding::words;
use super::index::{Postings, SearchIndex};
use crate::model::{Millis, SearchHit};

impl SearchIndex {
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::MessageId;
    use crate::search::match_ranges;
    use strongroom_core::AccountId;

    const TEXTS: [&str; 12] = [
        "Payment to Café Noir refused",
        "Straße 5, 10115 Berlin",
        "STRASSE DES 17. JUNI",
        "Η οδός Ερμού είναι κλειστή",
        "ΟΔΟΣ ΣΤΑΔΙΟΥ 12",
        "Électro Dépôt: 💳card blocked, call us 📞now",
        "Cafe\u{301} creme (decomposed)",
        "ﬁnal notice: ½ paid",
        "東京銀行からのお知らせ 振込",
        "İstanbul şubesi, Ærø kontor",
        "ǅemal's ŉ account",
        "x",
    ];

    /// Every query a search answers with a document highlights something in
    /// that document's text: here the queries are every prefix of every
    /// word of every text, as typed and in upper case, and a few spellings
    /// the texts do not use.
    #[test]
    fn every_document_a_query_finds_has_something_to_highlight() {
        let account = AccountId::from_random([5; 8]);
        let mut index = SearchIndex::default();
        for (id, text) in TEXTS.iter().enumerate() {
            let id = i64::try_from(id).unwrap();
            index.add(SearchHit::Message(MessageId(id)), account, id, text);
        }
        let mut queries: Vec<String> = [
            "strasse", "STRASSE", "straße", "ΟΔΟΣ", "οδος", "οδός", "οδοσ", "cafe", "CAFÉ",
            "depot", "card", "now", "東京", "istanbul", "aero", "aerø", "dz", "final", "fi", "12",
            "pay ref", "x",
        ]
        .map(String::from)
        .to_vec();
        for text in TEXTS {
            for token in text.split_whitespace() {
                let mut prefix = String::new();
                for c in token.chars() {
                    prefix.push(c);
                    queries.push(prefix.clone());
                    queries.push(prefix.to_uppercase());
                }
            }
        }
        let mut found = 0;
        for query in &queries {
            for hit in index.search(query, usize::MAX) {
                let SearchHit::Message(MessageId(id)) = hit else {
                    unreachable!("only messages are indexed here");
                };
                let text = TEXTS[usize::try_from(id).unwrap()];
                let ranges = match_ranges(text, query);
                assert!(
                    !ranges.is_empty(),
                    "search for {query:?} finds {text:?}, which has nothing to highlight"
                );
                found += 1;
                // Whole characters only, sorted, apart.
                let mut boundaries = vec![0];
                let mut at = 0;
                for c in text.chars() {
                    at += c.len_utf16();
                    boundaries.push(at);
                }
                for pair in ranges.windows(2) {
                    assert!(pair[0].1 < pair[1].0, "{query:?} in {text:?}: {ranges:?}");
                }
                for (start, end) in &ranges {
                    assert!(start < end, "{query:?} in {text:?}: {ranges:?}");
                    assert!(
                        boundaries.contains(start) && boundaries.contains(end),
                        "{query:?} in {text:?}: {ranges:?} splits a character"
                    );
                }
            }
        }
        assert!(found > 200, "the queries find documents: {found}");
    }
}
