//! Amounts written the way the window's `Intl.NumberFormat` writes them, so
//! a notification or the CLI says "1.234,56 €" exactly where the window does.
//!
//! Only the tags of [`crate::FORMAT_TAGS`] are supported; the shell resolves
//! every locale to one of them and tells the window the same tag.
//! `tests/amounts.json` (written by Intl, `tests/amounts.mjs`) pins both.

/// Minor-unit digits of a currency, as CLDR (and so `Intl`) has them: ISO
/// 4217's, except where CLDR differs. Codes not listed have 2.
fn digits(code: &str) -> u32 {
    match code {
        "BIF" | "CLP" | "DJF" | "GNF" | "ISK" | "JPY" | "KMF" | "KRW" | "PYG" | "RWF" | "UGX"
        | "UYI" | "VND" | "VUV" | "XAF" | "XOF" | "XPF" | "IQD" | "LAK" | "MGA" | "MMK" | "RSD"
        | "SLE" | "SLL" | "SOS" | "STD" | "SYP" | "YER" | "ALL" | "AFN" | "IRR" | "LBP" => 0,
        "BHD" | "JOD" | "KWD" | "LYD" | "OMR" | "TND" => 3,
        _ => 2,
    }
}

/// How one format tag writes money.
struct Rules {
    group: &'static str,
    decimal: &'static str,
    /// Symbol before the number ("£1.00") or after it with a no-break space
    /// ("1,00 €").
    symbol_first: bool,
    symbols: &'static [(&'static str, &'static str)],
}

const EN_GB: Rules = Rules {
    group: ",",
    decimal: ".",
    symbol_first: true,
    symbols: &[
        ("EUR", "€"),
        ("GBP", "£"),
        ("USD", "US$"),
        ("JPY", "JP¥"),
        ("CAD", "CA$"),
        ("AUD", "A$"),
        ("KRW", "₩"),
        ("INR", "₹"),
        ("CNY", "CN¥"),
        ("HKD", "HK$"),
        ("NZD", "NZ$"),
        ("ILS", "₪"),
        ("VND", "₫"),
    ],
};
const EN_US: Rules = Rules {
    symbols: &[
        ("EUR", "€"),
        ("GBP", "£"),
        ("USD", "$"),
        ("JPY", "¥"),
        ("CAD", "CA$"),
        ("AUD", "A$"),
        ("KRW", "₩"),
        ("INR", "₹"),
        ("CNY", "CN¥"),
        ("HKD", "HK$"),
        ("NZD", "NZ$"),
        ("ILS", "₪"),
        ("VND", "₫"),
    ],
    ..EN_GB
};
const DE_DE: Rules = Rules {
    group: ".",
    decimal: ",",
    symbol_first: false,
    symbols: &[
        ("EUR", "€"),
        ("GBP", "£"),
        ("USD", "$"),
        ("JPY", "¥"),
        ("CAD", "CA$"),
        ("AUD", "AU$"),
        ("KRW", "₩"),
        ("INR", "₹"),
        ("CNY", "CN¥"),
        ("HKD", "HK$"),
        ("NZD", "NZ$"),
        ("ILS", "₪"),
        ("VND", "₫"),
    ],
};
const FR_FR: Rules = Rules {
    group: "\u{202f}",
    decimal: ",",
    symbol_first: false,
    symbols: &[
        ("EUR", "€"),
        ("GBP", "£GB"),
        ("USD", "$US"),
        ("CAD", "$CA"),
        ("AUD", "$AU"),
        ("KRW", "₩"),
        ("INR", "₹"),
        ("CNY", "CNY"),
        ("HKD", "$HK"),
        ("NZD", "$NZ"),
        ("ILS", "₪"),
        ("VND", "₫"),
    ],
};

fn rules(tag: &str) -> &'static Rules {
    match tag {
        "en-GB" => &EN_GB,
        "de-DE" => &DE_DE,
        "fr-FR" => &FR_FR,
        _ => &EN_US,
    }
}

/// Digits with the tag's group separator every three.
fn grouped(mut n: u128, group: &str) -> String {
    let mut chunks = Vec::new();
    loop {
        let chunk = n % 1000;
        n /= 1000;
        if n == 0 {
            chunks.push(chunk.to_string());
            break;
        }
        chunks.push(format!("{chunk:03}"));
    }
    chunks.reverse();
    chunks.join(group)
}

/// An integer amount in minor units as the tag (one of
/// [`crate::FORMAT_TAGS`]; others write as `en-US`) writes money: 123456
/// EUR in `de-DE` is `1.234,56 €`, in `en-GB` `€1,234.56`. A currency code
/// that is not three letters is written as a plain number and the code, as
/// the window does.
pub fn format_amount(minor: i64, currency: &str, tag: &str) -> String {
    let code = currency.trim().to_ascii_uppercase();
    let r = rules(tag);
    let magnitude = u128::from(minor.unsigned_abs());
    let sign = if minor < 0 { "-" } else { "" };
    if code.len() != 3 || !code.bytes().all(|b| b.is_ascii_uppercase()) {
        return format!("{sign}{} {code}", grouped(magnitude, r.group))
            .trim()
            .to_owned();
    }
    let d = digits(&code);
    let scale = 10u128.pow(d);
    let mut number = grouped(magnitude / scale, r.group);
    if d > 0 {
        number.push_str(r.decimal);
        number.push_str(&format!(
            "{:0width$}",
            magnitude % scale,
            width = d as usize
        ));
    }
    let symbol = r.symbols.iter().find(|(c, _)| *c == code).map(|(_, s)| *s);
    match (r.symbol_first, symbol) {
        (true, Some(s)) => format!("{sign}{s}{number}"),
        (true, None) => format!("{sign}{code}\u{a0}{number}"),
        (false, s) => format!("{sign}{number}\u{a0}{}", s.unwrap_or(&code)),
    }
}
