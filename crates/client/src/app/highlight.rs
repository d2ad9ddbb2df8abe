//! Where a search matched in a result's text, as UTF-16 ranges the window
//! highlights.

use unicode_normalization::UnicodeNormalization;

/// Folds text for matching like the store's index: compatibility
/// decomposition, marks dropped, lower case.
fn fold_char(c: char) -> String {
    c.to_string()
        .nfkd()
        .filter(|ch| !unicode_normalization::char::is_combining_mark(*ch))
        .flat_map(char::to_lowercase)
        .collect()
}

/// UTF-16 ranges of `text` where a query word starts a word (the store's
/// search matches word prefixes, case- and accent-insensitively).
pub fn highlights(text: &str, query: &str) -> Vec<(usize, usize)> {
    // folded chars, each with the UTF-16 span of the source char
    let mut folded: Vec<(char, usize, usize)> = Vec::new();
    let mut at = 0usize;
    for c in text.chars() {
        let width = c.len_utf16();
        for f in fold_char(c).chars() {
            folded.push((f, at, at + width));
        }
        at += width;
    }
    let words: Vec<Vec<char>> = query
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| {
            w.chars()
                .flat_map(|c| fold_char(c).chars().collect::<Vec<_>>())
                .collect()
        })
        .collect();
    let mut ranges = Vec::new();
    for word in &words {
        if word.is_empty() {
            continue;
        }
        for start in 0..folded.len() {
            let at_word_start = start == 0 || !folded[start - 1].0.is_alphanumeric();
            if !at_word_start || start + word.len() > folded.len() {
                continue;
            }
            if folded[start..start + word.len()]
                .iter()
                .zip(word)
                .all(|(f, w)| f.0 == *w)
            {
                ranges.push((folded[start].1, folded[start + word.len() - 1].2));
            }
        }
    }
    ranges.sort_unstable();
    // Merge overlaps so the UI can split the text once.
    let mut merged: Vec<(usize, usize)> = Vec::new();
    for (s, e) in ranges {
        match merged.last_mut() {
            Some(last) if s <= last.1 => last.1 = last.1.max(e),
            _ => merged.push((s, e)),
        }
    }
    merged
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn highlights_find_word_prefixes_across_case_and_accents() {
        let text = "Café purchase at CAFÉ Dépôt, not decafe";
        let ranges = highlights(text, "cafe");
        assert_eq!(ranges, vec![(0, 4), (17, 21)]);
        assert_eq!(highlights("Électro Dépôt", "depot"), vec![(8, 13)]);
        // UTF-16 offsets past a non-BMP character.
        assert_eq!(highlights("💳 card", "card"), vec![(3, 7)]);
        assert!(highlights("nothing here", "zzz").is_empty());
    }
}
