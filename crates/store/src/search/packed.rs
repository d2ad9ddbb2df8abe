//! The packed, read-mostly part of the index: words in order in one
//! string, their postings in one array, as lists or bitmaps.

/// One word of the packed part: where its text and its postings end.
#[derive(Debug, Clone, Copy)]
pub(super) struct Entry {
    text_end: u32,
    postings_end: u32,
    /// The postings are a bitmap over every document, not a list.
    bitmap: bool,
}

/// The packed, read-mostly part of the index: every word in order, back to
/// back in one string, and every posting in one array: a few bytes a word
/// besides its text, where a hash map of owned strings costs many times that.
#[derive(Default)]
pub(super) struct Packed {
    pub(super) text: String,
    pub(super) entries: Vec<Entry>,
    pub(super) postings: Vec<u32>,
}

impl Packed {
    pub(super) fn len(&self) -> usize {
        self.entries.len()
    }

    pub(super) fn word(&self, i: usize) -> &str {
        let start = i
            .checked_sub(1)
            .map_or(0, |p| self.entries[p].text_end as usize);
        &self.text[start..self.entries[i].text_end as usize]
    }

    /// The raw postings of word `i`, and whether they are a bitmap.
    pub(super) fn raw(&self, i: usize) -> (&[u32], bool) {
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
    pub(super) fn each_posting(&self, i: usize, mut f: impl FnMut(u32)) {
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
    pub(super) fn lower_bound(&self, term: &str) -> usize {
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
    pub(super) fn copy(&mut self, from: &Packed, i: usize, more: &[u32], documents: usize) {
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
    pub(super) fn push(&mut self, word: &str, postings: &[u32], documents: usize) {
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
