//! User codes of the device grant (RFC 8628 section 6.1): what the app
//! shows and the customer types on the verification page, so they are
//! short, unambiguous and forgiving of case, spaces and the dash.

use crate::crypto::random_bytes;

/// The letters user codes are made of: no vowels (no words), no look-alikes.
pub const USER_CODE_ALPHABET: &[u8; 20] = b"BCDFGHJKLMNPQRSTVWXZ";

/// Makes a user code: 8 letters from [`USER_CODE_ALPHABET`], shown as
/// `XXXX-XXXX`.
pub fn new_user_code(rng: &ring::rand::SystemRandom) -> String {
    let mut letters = Vec::with_capacity(8);
    while letters.len() < 8 {
        for byte in random_bytes::<16>(rng) {
            // 240 is the largest multiple of 20 below 256: no modulo bias.
            if byte < 240 && letters.len() < 8 {
                letters.push(USER_CODE_ALPHABET[usize::from(byte % 20)]);
            }
        }
    }
    let text = String::from_utf8_lossy(&letters).into_owned();
    format!("{}-{}", &text[..4], &text[4..])
}

/// The stored form of a user code the customer typed: upper case, no dash
/// or spaces. `None` if it cannot be a user code.
pub fn normalize_user_code(input: &str) -> Option<String> {
    let code: String = input
        .chars()
        .filter(|c| !matches!(c, '-' | ' ' | '\t'))
        .map(|c| c.to_ascii_uppercase())
        .collect();
    (code.len() == 8 && code.bytes().all(|b| USER_CODE_ALPHABET.contains(&b))).then_some(code)
}

/// Shows a stored user code as `XXXX-XXXX`.
pub fn display_user_code(code: &str) -> String {
    if code.len() == 8 && code.is_ascii() {
        format!("{}-{}", &code[..4], &code[4..])
    } else {
        code.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_codes_have_eight_consonants_and_compare_loosely() {
        let rng = ring::rand::SystemRandom::new();
        for _ in 0..200 {
            let code = new_user_code(&rng);
            assert_eq!(code.len(), 9, "{code}");
            assert_eq!(&code[4..5], "-");
            let stored = normalize_user_code(&code).unwrap();
            assert!(stored.bytes().all(|b| USER_CODE_ALPHABET.contains(&b)));
            assert_eq!(
                normalize_user_code(&code.to_lowercase()),
                Some(stored.clone())
            );
            assert_eq!(display_user_code(&stored), code);
        }
        assert_eq!(normalize_user_code("bcdf ghjk"), Some("BCDFGHJK".into()));
        assert_eq!(
            normalize_user_code("ABCD-EFGH"),
            None,
            "vowels are never used"
        );
        assert_eq!(normalize_user_code("BCDF-GHJ"), None);
    }
}
