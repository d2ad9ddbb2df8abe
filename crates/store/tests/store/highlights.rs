//! Search highlighting: whatever the store's search finds, the window can
//! highlight with `strongroom_store::search::match_ranges`, because both
//! fold and split words the same way.

use crate::support::*;
use strongroom_store::search::match_ranges;
use strongroom_store::*;

const BODIES: [&str; 9] = [
    "Your card was used at Straße 5, Berlin",
    "Delivery to STRASSE DES 17. JUNI confirmed",
    "Η οδός Ερμού: νέο κατάστημα",
    "ΟΔΟΣ ΣΤΑΔΙΟΥ, branch closed",
    "Payment to Café Noir refused",
    "Électro Dépôt 💳card blocked, call us 📞now",
    "Cafe\u{301} creme, decomposed",
    "東京銀行からのお知らせ",
    "ﬁnal notice for İstanbul",
];

const QUERIES: [&str; 20] = [
    "strasse",
    "STRASSE",
    "straße",
    "Straß",
    "ΟΔΟΣ",
    "οδος",
    "οδός",
    "οδοσ",
    "cafe",
    "CAFÉ",
    "café noir",
    "depot",
    "electro",
    "card",
    "now",
    "東京",
    "final",
    "fi",
    "istanbul",
    "İSTANBUL",
];

#[test]
fn every_message_and_alert_search_finds_has_a_highlight() {
    let fx = Fixture::new();
    let mut store = fx.new_store();
    let conv = store.add_conversation(fx.account, "Card help", 1).unwrap();
    let messages: Vec<NewMessage> = BODIES
        .iter()
        .enumerate()
        .map(|(i, body)| incoming(conv, body, 10 + i as i64, &format!("b{i}")))
        .collect();
    store.insert_messages(&messages).unwrap();
    // An alert is indexed with its merchant after its text.
    let alert_id = store
        .insert_alert(&alert(fx.account, "j1", "Καρτα χρεώθηκε στην ΟΔΟ", 50))
        .unwrap()
        .id();
    let stored = store.alert(alert_id).unwrap();
    let alert_text = format!(
        "{} {}",
        stored.details.text,
        stored.details.merchant.clone().unwrap_or_default()
    );
    let mut found = 0;
    for query in QUERIES {
        let hits = store.search(query, 100).unwrap();
        assert!(!hits.is_empty(), "{query:?} finds something");
        for hit in hits {
            let text = match hit {
                SearchHit::Message(id) => store.message(id).unwrap().body,
                SearchHit::Alert(_) => alert_text.clone(),
            };
            let ranges = match_ranges(&text, query);
            assert!(
                !ranges.is_empty(),
                "search for {query:?} finds {text:?}, which has nothing to highlight"
            );
            let units: Vec<u16> = text.encode_utf16().collect();
            for (start, end) in ranges {
                assert!(
                    String::from_utf16(&units[start..end]).is_ok(),
                    "{query:?} in {text:?}: ({start}, {end}) splits a surrogate pair"
                );
            }
            found += 1;
        }
    }
    assert!(found >= QUERIES.len(), "{found} hits");
}
