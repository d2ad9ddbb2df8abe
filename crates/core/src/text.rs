//! Text that reaches a customer's eyes: what may be in it, and how it is
//! shown.
//!
//! A bank-signed alert that says "pay 100.00 GBP" must read the same to the
//! customer as to the bank. Bidirectional controls (U+202E RIGHT-TO-LEFT
//! OVERRIDE, the U+2066..U+2069 isolates...) reorder what is displayed
//! without changing what is signed: "Refund 00.001 GBP" can be stored and
//! show as "Refund 100.00 GBP". Invisible format characters hide text or
//! split look-alike words. Following Unicode TR#36 (security
//! considerations) and TR#39 (security mechanisms):
//!
//! - the gateway refuses such characters in every text it signs or relays
//!   ([`first_spoofing_char`]);
//! - the client neutralises them in every rendering, in case a bank (or an
//!   older gateway) sends them anyway ([`neutralize`]): each becomes a
//!   visible U+FFFD, so the text keeps its order and shows that something
//!   was there;
//! - a bank's name, which the bank chooses, is shown with its issuer's host
//!   in ASCII (punycode) whenever the name or the host mixes scripts the
//!   way look-alikes do ([`bank_display_name`]).
//!
//! ZERO WIDTH JOINER and NON-JOINER stay allowed: scripts such as Arabic and
//! the Indic ones, and emoji sequences, need them, and they cannot reorder
//! text.

use std::borrow::Cow;

use unicode_script::{Script, UnicodeScript};

/// The character shown in place of a neutralised one.
pub const REPLACEMENT: char = '\u{FFFD}';

/// Whether `c` can reorder, hide or disguise displayed text: the Unicode
/// `Bidi_Control` characters, invisible format characters other than the
/// joiners, and control characters other than line feed and tab.
pub fn is_spoofing_char(c: char) -> bool {
    matches!(
        c,
        // Bidi_Control (TR#9): ALM, LRM, RLM, the embeddings and overrides,
        // the isolates.
        '\u{061C}'
            | '\u{200E}'
            | '\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2066}'..='\u{2069}'
            // Invisible or format characters that hide or split text.
            | '\u{00AD}'
            | '\u{034F}'
            | '\u{115F}'
            | '\u{1160}'
            | '\u{17B4}'
            | '\u{17B5}'
            | '\u{180B}'..='\u{180F}'
            | '\u{200B}'
            | '\u{2028}'
            | '\u{2029}'
            | '\u{2060}'..='\u{2064}'
            | '\u{206A}'..='\u{206F}'
            | '\u{3164}'
            | '\u{FE00}'..='\u{FE0E}'
            | '\u{FEFF}'
            | '\u{FFA0}'
            | '\u{FFF9}'..='\u{FFFB}'
            | '\u{1D173}'..='\u{1D17A}'
            | '\u{E0000}'..='\u{E007F}'
    ) || (c.is_control() && c != '\n' && c != '\t')
}

/// The first character of `text` that [`is_spoofing_char`], if any.
pub fn first_spoofing_char(text: &str) -> Option<char> {
    text.chars().find(|c| is_spoofing_char(*c))
}

/// `text` with every [`is_spoofing_char`] replaced by [`REPLACEMENT`];
/// borrowed when there is none.
pub fn neutralize(text: &str) -> Cow<'_, str> {
    if first_spoofing_char(text).is_none() {
        return Cow::Borrowed(text);
    }
    Cow::Owned(
        text.chars()
            .map(|c| if is_spoofing_char(c) { REPLACEMENT } else { c })
            .collect(),
    )
}

/// Whether the letters of `text` come from a set of scripts that TR#39's
/// "Highly Restrictive" level does not allow together: more than one
/// script, except Latin with the scripts of Japanese, Chinese or Korean
/// writing. "Paypal" in Latin with one Cyrillic "а" is mixed; "Bäckerei",
/// "Сбербанк" and "みずほ銀行" are not.
pub fn is_mixed_script(text: &str) -> bool {
    let mut scripts: Vec<Script> = Vec::new();
    for c in text.chars() {
        let script = c.script();
        if matches!(script, Script::Common | Script::Inherited | Script::Unknown) {
            continue;
        }
        if !scripts.contains(&script) {
            scripts.push(script);
        }
    }
    let allowed_with = |set: &[Script]| scripts.iter().all(|s| set.contains(s));
    scripts.len() > 1
        && !allowed_with(&[
            Script::Latin,
            Script::Han,
            Script::Hiragana,
            Script::Katakana,
        ])
        && !allowed_with(&[Script::Latin, Script::Han, Script::Bopomofo])
        && !allowed_with(&[Script::Latin, Script::Han, Script::Hangul])
}

/// The host of an issuer URL, lower case, without port and credentials.
fn issuer_host(issuer: &str) -> &str {
    let rest = issuer.split_once("://").map_or(issuer, |(_, r)| r);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or(rest);
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    if host.starts_with('[') {
        return host.split(']').next().map_or(host, |h| &h[1..]);
    }
    host.split(':').next().unwrap_or(host)
}

/// How a bank is named on screen. `name` is what the bank calls itself
/// (its metadata's `strongroom_bank_name`; self-asserted), `issuer` the URL
/// its keys were pinned for. The name is neutralised; when the name or the
/// issuer's host mixes scripts (a look-alike such as "Bаrclays" with a
/// Cyrillic "а", or a host `xn--...` that decodes to one), the host's
/// ASCII form (punycode) is added in parentheses, so two banks that look
/// alike never display alike. Without a name, the host is the name: in
/// Unicode when it is single-script, in ASCII otherwise.
pub fn bank_display_name(name: Option<&str>, issuer: &str) -> String {
    let host = issuer_host(issuer).to_lowercase();
    let ascii = idna::domain_to_ascii(&host).unwrap_or_else(|_| host.clone());
    let (unicode, decoded) = idna::domain_to_unicode(&ascii);
    let host_mixed = decoded.is_err()
        || unicode.split('.').any(is_mixed_script)
        || first_spoofing_char(&unicode).is_some();
    match name.map(str::trim).filter(|n| !n.is_empty()) {
        Some(name) => {
            let shown = neutralize(name);
            if host_mixed || is_mixed_script(&shown) || shown.contains(REPLACEMENT) {
                format!("{shown} ({ascii})")
            } else {
                shown.into_owned()
            }
        }
        None if host_mixed => ascii,
        None => unicode,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Attack (adversarial review, finding 9): a right-to-left override made
    /// a verified alert's amount read reversed.
    #[test]
    fn bidi_and_invisible_characters_are_found_and_neutralised() {
        let reversed = "Refund \u{202E}00.001\u{202C} GBP";
        assert_eq!(first_spoofing_char(reversed), Some('\u{202E}'));
        assert_eq!(neutralize(reversed), "Refund \u{FFFD}00.001\u{FFFD} GBP");
        for c in [
            '\u{2066}',
            '\u{2067}',
            '\u{2068}',
            '\u{2069}',
            '\u{200E}',
            '\u{200F}',
            '\u{061C}',
            '\u{200B}',
            '\u{FEFF}',
            '\u{2060}',
            '\u{0007}',
            '\u{001B}',
            '\u{0085}',
            '\u{E0041}',
        ] {
            assert!(is_spoofing_char(c), "U+{:04X}", c as u32);
        }
        for fine in [
            "Bäckerei Schmidt",
            "Électro Dépôt",
            "Сбербанк",
            "مصرف",
            "लॉग\u{200D}इन",
            "line one\nline two\tand a tab",
            "👩\u{200D}💻",
        ] {
            assert_eq!(first_spoofing_char(fine), None, "{fine}");
            assert!(matches!(neutralize(fine), Cow::Borrowed(_)));
        }
    }

    #[test]
    fn mixed_scripts_are_told_apart_from_single_scripts() {
        assert!(
            is_mixed_script("B\u{0430}rclays"),
            "Latin with a Cyrillic a"
        );
        assert!(is_mixed_script("Pаypal"));
        assert!(!is_mixed_script("Barclays Bank plc"));
        assert!(!is_mixed_script("Сбербанк 24"));
        assert!(!is_mixed_script("みずほ銀行 Mizuho"));
        assert!(!is_mixed_script("우리은행"));
    }

    #[test]
    fn look_alike_banks_never_display_alike() {
        let genuine = bank_display_name(Some("Barclays"), "https://bank.barclays.example");
        let fake = bank_display_name(Some("B\u{0430}rclays"), "https://bank.barclays.example");
        assert_eq!(genuine, "Barclays");
        assert_ne!(genuine, fake);
        assert_eq!(fake, "B\u{0430}rclays (bank.barclays.example)");
        // A look-alike host: shown in punycode beside the name it claims.
        let idn = bank_display_name(Some("Barclays"), "https://b\u{0430}rclays.example:8443/x");
        assert!(idn.starts_with("Barclays (xn--"), "{idn}");
        let idn = bank_display_name(Some("Barclays"), "https://xn--rclays-7fg.example");
        assert!(idn.contains("xn--"), "{idn}");
        // A single-script internationalised host is shown as it reads.
        assert_eq!(
            bank_display_name(None, "https://xn--bnk-qla.example"),
            "bänk.example"
        );
        assert_eq!(
            bank_display_name(Some("Demo \u{202E}Bank"), "https://127.0.0.1:8443"),
            "Demo \u{FFFD}Bank (127.0.0.1)"
        );
        assert_eq!(
            bank_display_name(None, "https://127.0.0.1:8443"),
            "127.0.0.1"
        );
    }
}
