//! Folding text into words: the one definition of a word that the index,
//! the query and match highlighting share, so that whatever a search finds
//! is also what the window highlights.

use unicode_normalization::char::{decompose_compatible, is_combining_mark};

/// What folding makes of a character of the text, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Folded {
    /// A character of a word, folded.
    Letter(char),
    /// A combining mark: dropped, and no break (it belongs to the letter
    /// before it).
    Mark,
    /// Anything else: the end of a word, if one was open.
    Break,
}

/// Folds `text` character by character, calling `out` with the byte offset
/// of each source character and what it folds to (a source character may
/// fold to several letters, as "ß" to "ss", or to letters and breaks, as
/// "½" to "1", a break and "2").
///
/// Case first (so that "İ" loses its dot with the other marks), then
/// compatibility decomposition, then marks dropped; ß and final sigma fold
/// as full case folding would. Char by char, without building any
/// intermediate string: this runs for every message written.
fn fold(text: &str, mut out: impl FnMut(usize, Folded)) {
    fn push(out: &mut impl FnMut(usize, Folded), at: usize, d: char) {
        if is_combining_mark(d) {
            out(at, Folded::Mark);
        } else if d.is_alphanumeric() {
            for lower in d.to_lowercase() {
                out(at, Folded::Letter(lower));
            }
        } else {
            out(at, Folded::Break);
        }
    }
    for (at, c) in text.char_indices() {
        if c.is_ascii() {
            // No ASCII character is a mark or decomposes: the table
            // look-ups of `push` are skipped for most of any text.
            out(
                at,
                if c.is_ascii_alphanumeric() {
                    Folded::Letter(c.to_ascii_lowercase())
                } else {
                    Folded::Break
                },
            );
            continue;
        }
        for lower in c.to_lowercase() {
            match lower {
                'ß' => {
                    push(&mut out, at, 's');
                    push(&mut out, at, 's');
                }
                'ς' => push(&mut out, at, 'σ'),
                other => decompose_compatible(other, |d| push(&mut out, at, d)),
            }
        }
    }
}

/// Splits text into folded words.
pub(crate) fn words(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for_each_word(text, |w| out.push(w.to_owned()));
    out
}

/// Calls `each` with every folded word of `text`, in order (repeats
/// included), from one reused buffer: what [`words`] gives, without a
/// string allocated per word. The index's insert path, which runs for every
/// message written.
pub(crate) fn for_each_word(text: &str, mut each: impl FnMut(&str)) {
    let mut current = String::new();
    if text.is_ascii() {
        // Most text is plain ASCII: no decomposition to do, and this gives
        // what `fold` gives (a test holds the two together).
        for w in text.split(|c: char| !c.is_ascii_alphanumeric()) {
            if !w.is_empty() {
                current.clear();
                current.extend(w.bytes().map(|b| char::from(b.to_ascii_lowercase())));
                each(&current);
            }
        }
        return;
    }
    fold(text, |_, folded| match folded {
        Folded::Letter(c) => current.push(c),
        Folded::Mark => {}
        Folded::Break => {
            if !current.is_empty() {
                each(&current);
                current.clear();
            }
        }
    });
    if !current.is_empty() {
        each(&current);
    }
}

/// The words of `text` through the general fold: what [`words`] gives for
/// any text, and for ASCII the reference its shortcut is tested against.
#[cfg(test)]
fn folded_words(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    fold(text, |_, folded| match folded {
        Folded::Letter(c) => current.push(c),
        Folded::Mark => {}
        Folded::Break => {
            if !current.is_empty() {
                out.push(std::mem::take(&mut current));
            }
        }
    });
    if !current.is_empty() {
        out.push(current);
    }
    out
}

/// Where a search for `query` matches in `text`, to highlight: the ranges,
/// in UTF-16 code units (what the window's strings index), of every word
/// of `text` that begins with a word of `query`, each from the start of
/// the word to the end of the matched prefix. Words and folding are the
/// index's own, so every message or alert text that
/// [`Store::search`](crate::Store::search) returns for a query has at least
/// one range here. A range covers whole characters (never half of a
/// surrogate pair) and the marks that follow them; ranges are sorted, and
/// overlapping or touching ones merged.
pub fn match_ranges(text: &str, query: &str) -> Vec<(usize, usize)> {
    let terms = words(query);
    if terms.is_empty() {
        return Vec::new();
    }
    let mut ranges = Vec::new();
    // The word being read: its folded text, and the UTF-16 span of the
    // source character of each of its letters.
    let mut word = String::new();
    let mut spans: Vec<(usize, usize)> = Vec::new();
    let mut close = |word: &mut String, spans: &mut Vec<(usize, usize)>| {
        for term in &terms {
            if word.starts_with(term.as_str()) {
                let letters = term.chars().count();
                ranges.push((spans[0].0, spans[letters - 1].1));
            }
        }
        word.clear();
        spans.clear();
    };
    // UTF-16 offsets, advanced as the byte offsets from `fold` grow.
    let (mut byte, mut unit) = (0usize, 0usize);
    fold(text, |at, folded| {
        if at > byte {
            unit += text[byte..at].encode_utf16().count();
            byte = at;
        }
        let end = unit + text[at..].chars().next().map_or(0, char::len_utf16);
        match folded {
            Folded::Letter(c) => {
                word.push(c);
                spans.push((unit, end));
            }
            Folded::Mark => {
                if let Some(last) = spans.last_mut() {
                    last.1 = last.1.max(end);
                }
            }
            Folded::Break => {
                if !word.is_empty() {
                    close(&mut word, &mut spans);
                }
            }
        }
    });
    if !word.is_empty() {
        close(&mut word, &mut spans);
    }
    ranges.sort_unstable();
    let mut merged: Vec<(usize, usize)> = Vec::with_capacity(ranges.len());
    for (start, end) in ranges {
        match merged.last_mut() {
            Some(last) if start <= last.1 => last.1 = last.1.max(end),
            _ => merged.push((start, end)),
        }
    }
    merged
}

#[cfg(test)]
mod tests {
    use super::*;

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

    /// Plain ASCII text takes a short cut in [`words`]; it must split and
    /// fold exactly as the general path does.
    #[test]
    fn the_ascii_short_cut_folds_as_the_general_path() {
        let every_ascii: String = (0u8..128).map(char::from).collect();
        for text in [
            every_ascii.as_str(),
            "Payment REF-2026/04 to ACME_Ltd, 12.50 EUR",
            "  leading and trailing  ",
            "",
        ] {
            assert_eq!(words(text), folded_words(text), "{text:?}");
        }
    }

    /// The text under each range, to read the expectations below.
    fn marked(text: &str, query: &str) -> Vec<String> {
        let units: Vec<u16> = text.encode_utf16().collect();
        match_ranges(text, query)
            .into_iter()
            .map(|(s, e)| String::from_utf16(&units[s..e]).expect("whole characters"))
            .collect()
    }

    #[test]
    fn ranges_cover_word_prefixes_across_case_and_accents() {
        let text = "Café purchase at CAFÉ Dépôt, not decafe";
        assert_eq!(match_ranges(text, "cafe"), [(0, 4), (17, 21)]);
        assert_eq!(match_ranges("Électro Dépôt", "depot"), [(8, 13)]);
        assert_eq!(match_ranges("💳 card", "card"), [(3, 7)]);
        assert!(match_ranges("nothing here", "zzz").is_empty());
        assert!(match_ranges("nothing here", " ,; ").is_empty());
        // A prefix covers only what it matched; every query word counts.
        assert_eq!(marked("Payment refused", "pay ref"), ["Pay", "ref"]);
    }

    #[test]
    fn sharp_s_and_final_sigma_are_highlighted_where_search_finds_them() {
        assert_eq!(marked("Hauptstraße 5", "strasse"), Vec::<String>::new());
        assert_eq!(marked("Straße 5", "strasse"), ["Straße"]);
        assert_eq!(marked("Straße 5", "STRASSE"), ["Straße"]);
        assert_eq!(marked("STRASSE 5", "straße"), ["STRASSE"]);
        // A prefix ending inside "ss" takes the whole ß.
        assert_eq!(marked("Straße", "stras"), ["Straß"]);
        for query in ["ΟΔΟΣ", "οδος", "οδός", "οδοσ"] {
            assert_eq!(marked("Η οδός Ερμού", query), ["οδός"], "{query}");
            assert_eq!(marked("ΟΔΟΣ ΕΡΜΟΥ", query), ["ΟΔΟΣ"], "{query}");
        }
    }

    #[test]
    fn ranges_take_whole_characters_and_their_marks() {
        // A decomposed é (e + combining acute) is highlighted with its mark.
        assert_eq!(marked("Cafe\u{301} noir", "cafe"), ["Cafe\u{301}"]);
        // Emoji beside a word: the word alone, in UTF-16 units after the
        // surrogate pair.
        assert_eq!(match_ranges("💳card", "card"), [(2, 6)]);
        assert_eq!(marked("card💳card", "card"), ["card", "card"]);
        // One character folding to several letters: "ﬁ" is "fi".
        assert_eq!(marked("ﬁnal notice", "fi"), ["ﬁ"]);
        assert_eq!(marked("ﬁnal notice", "final"), ["ﬁnal"]);
        // Words in scripts without spaces are one word to the index too.
        assert_eq!(marked("東京銀行からのお知らせ", "東京"), ["東京"]);
        // Overlapping matches of two query words merge into one range.
        assert_eq!(match_ranges("payment", "pay payment"), [(0, 7)]);
    }
}
