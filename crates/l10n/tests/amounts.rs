//! Every amount in `amounts.json` (written by `Intl.NumberFormat`, see
//! `amounts.mjs`) is written identically by `format_amount`.

use serde_json::Value;

#[test]
fn amounts_are_written_as_intl_writes_them() {
    let fixture: Value =
        serde_json::from_str(include_str!("amounts.json")).expect("amounts.json is JSON");
    let cases = fixture["cases"].as_array().expect("cases");
    assert!(cases.len() > 200, "the fixture holds the cases");
    let mut wrong = Vec::new();
    for case in cases {
        let tag = case["tag"].as_str().expect("tag");
        let currency = case["currency"].as_str().expect("currency");
        let minor = case["minor"].as_i64().expect("minor");
        let want = case["text"].as_str().expect("text");
        let got = strongroom_l10n::format_amount(minor, currency, tag);
        if got != want {
            wrong.push(format!("{tag} {currency} {minor}: {got:?}, Intl {want:?}"));
        }
    }
    assert!(
        wrong.is_empty(),
        "{} differ:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

#[test]
fn a_code_that_is_not_a_currency_is_written_as_a_number_and_the_code() {
    assert_eq!(
        strongroom_l10n::format_amount(1234, "??", "de-DE"),
        "1.234 ??"
    );
}
