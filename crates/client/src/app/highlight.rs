//! Where a search matched in a result's text, as UTF-16 ranges the window
//! highlights. The store's folding decides, so every hit the index finds is
//! highlighted the same way (ß, final sigma, ligatures).

/// UTF-16 ranges of `text` where a query word starts a word, folded exactly
/// as the store's search index folds.
pub fn highlights(text: &str, query: &str) -> Vec<(usize, usize)> {
    strongroom_store::search::match_ranges(text, query)
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
        // Folds the store's index makes, which a fold of its own missed.
        assert_eq!(highlights("Straße 5", "strasse"), vec![(0, 6)]);
        assert!(!highlights("ΟΔΟΣ", "οδος").is_empty());
    }
}
