//! Which language and which formats: from the system's locale, or the
//! customer's choice.

use serde::{Deserialize, Serialize};

/// A language Strongroom has catalogues for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    /// English.
    En,
    /// German.
    De,
    /// French.
    Fr,
}

impl Lang {
    /// Every language, English (the catalogues' source) first.
    pub const ALL: [Lang; 3] = [Lang::En, Lang::De, Lang::Fr];

    /// The ISO 639-1 code: `en`, `de`, `fr` (also the catalogue folder's name).
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::De => "de",
            Lang::Fr => "fr",
        }
    }

    /// The language of a code (`"de"`, `"DE"`); `None` for one without catalogues.
    pub fn from_code(code: &str) -> Option<Lang> {
        Lang::ALL
            .into_iter()
            .find(|l| l.code().eq_ignore_ascii_case(code))
    }

    /// The format tag used when only the language is known.
    fn default_tag(self) -> &'static str {
        match self {
            Lang::En => "en-US",
            Lang::De => "de-DE",
            Lang::Fr => "fr-FR",
        }
    }

    /// The language's name in itself, for a language picker.
    pub fn endonym(self) -> &'static str {
        match self {
            Lang::En => "English",
            Lang::De => "Deutsch",
            Lang::Fr => "Français",
        }
    }
}

/// The BCP 47 tags whose amount formats this crate writes exactly as the
/// window's `Intl` does (tested against a fixture `Intl` made). A locale in
/// another region of a supported language formats as that language's first
/// tag here (`en-IE` as `en-US`, `fr-BE` as `fr-FR`): the window is told the
/// same tag, so the window and the notifications never disagree.
pub const FORMAT_TAGS: [&str; 4] = ["en-GB", "en-US", "de-DE", "fr-FR"];

/// The locale Strongroom writes in: a language with catalogues, and the
/// tag (one of [`FORMAT_TAGS`]) whose rules amounts and dates follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Locale {
    /// The catalogues' language.
    pub lang: Lang,
    /// The formats' BCP 47 tag, e.g. `de-DE`.
    pub tag: &'static str,
}

impl Default for Locale {
    fn default() -> Self {
        Locale::of(Lang::En)
    }
}

impl Locale {
    /// A language with its default formats.
    pub fn of(lang: Lang) -> Locale {
        Locale {
            lang,
            tag: lang.default_tag(),
        }
    }

    /// A POSIX (`de_DE.UTF-8@euro`) or BCP 47 (`fr-CH`) locale name;
    /// `None` for `C`, `POSIX`, an empty name or a language without catalogues.
    pub fn parse(name: &str) -> Option<Locale> {
        // Drop the codeset and modifier: de_DE.UTF-8@euro -> de_DE.
        let base = name.split(['.', '@']).next().unwrap_or("").trim();
        let mut parts = base.split(['_', '-']);
        let lang = Lang::from_code(parts.next()?)?;
        // The region is the first two-letter (or three-digit) subtag after the
        // language; a script (four letters, e.g. Latn) may come between.
        let region =
            parts.find(|p| p.len() == 2 || (p.len() == 3 && p.bytes().all(|b| b.is_ascii_digit())));
        let tag = region
            .and_then(|r| {
                FORMAT_TAGS.into_iter().find(|t| {
                    t.strip_prefix(lang.code())
                        .and_then(|rest| rest.strip_prefix('-'))
                        .is_some_and(|tr| tr.eq_ignore_ascii_case(r))
                })
            })
            .unwrap_or(lang.default_tag());
        Some(Locale { lang, tag })
    }

    /// The system's locale, by the environment the way gettext reads it:
    /// `LANGUAGE` (a colon-separated preference list) unless the locale is
    /// `C`, then `LC_ALL`, `LC_MESSAGES`, `LANG`. English when none names a
    /// language Strongroom speaks.
    pub fn system() -> Locale {
        Locale::from_env(|k| std::env::var(k).ok())
    }

    /// [`Locale::system`] over any environment (for tests).
    pub fn from_env(get: impl Fn(&str) -> Option<String>) -> Locale {
        let main = ["LC_ALL", "LC_MESSAGES", "LANG"]
            .into_iter()
            .filter_map(&get)
            .find(|v| !v.trim().is_empty());
        let is_c = main
            .as_deref()
            .is_none_or(|m| matches!(m.split('.').next(), Some("C" | "POSIX")));
        let main_locale = main.as_deref().and_then(Locale::parse);
        if !is_c
            && let Some(list) = get("LANGUAGE")
            && let Some(first) = list.split(':').find_map(Locale::parse)
        {
            // Keep the main locale's region when it speaks the same language.
            return match main_locale {
                Some(m) if m.lang == first.lang => m,
                _ => first,
            };
        }
        main_locale.unwrap_or_default()
    }

    /// The locale for the customer's choice: `None` follows the system; a
    /// chosen language keeps the system's formats when the system speaks it
    /// (a Swiss French system chose French: its region still counts), else
    /// takes the language's own.
    pub fn chosen(choice: Option<Lang>, system: Locale) -> Locale {
        match choice {
            None => system,
            Some(lang) if lang == system.lang => system,
            Some(lang) => Locale::of(lang),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |k| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone())
    }

    #[test]
    fn posix_and_bcp47_names_parse() {
        let de = Locale::parse("de_DE.UTF-8@euro").expect("German");
        assert_eq!((de.lang, de.tag), (Lang::De, "de-DE"));
        let gb = Locale::parse("en-GB").expect("English");
        assert_eq!(gb.tag, "en-GB");
        // A region without its own formats here takes the language's.
        assert_eq!(Locale::parse("fr_CH.UTF-8").map(|l| l.tag), Some("fr-FR"));
        assert_eq!(Locale::parse("en_IE").map(|l| l.tag), Some("en-US"));
        assert_eq!(Locale::parse("de-Latn-DE").map(|l| l.tag), Some("de-DE"));
        for none in ["C", "POSIX", "", "ja_JP.UTF-8", "C.UTF-8"] {
            assert_eq!(Locale::parse(none), None, "{none}");
        }
    }

    #[test]
    fn the_environment_is_read_as_gettext_reads_it() {
        let l = Locale::from_env(env(&[("LANG", "fr_FR.UTF-8")]));
        assert_eq!((l.lang, l.tag), (Lang::Fr, "fr-FR"));
        // LC_ALL wins over LANG.
        let l = Locale::from_env(env(&[("LC_ALL", "de_DE.UTF-8"), ("LANG", "fr_FR.UTF-8")]));
        assert_eq!(l.lang, Lang::De);
        // LANGUAGE lists preferences; the first we speak wins, with the main
        // locale's region when it is the same language.
        let l = Locale::from_env(env(&[("LANGUAGE", "ja:de"), ("LANG", "en_GB.UTF-8")]));
        assert_eq!((l.lang, l.tag), (Lang::De, "de-DE"));
        let l = Locale::from_env(env(&[("LANGUAGE", "en"), ("LANG", "en_GB.UTF-8")]));
        assert_eq!(l.tag, "en-GB");
        // Under the C locale gettext ignores LANGUAGE.
        let l = Locale::from_env(env(&[("LANGUAGE", "de"), ("LANG", "C.UTF-8")]));
        assert_eq!(l.lang, Lang::En);
        assert_eq!(Locale::from_env(env(&[])), Locale::default());
    }

    #[test]
    fn a_chosen_language_keeps_the_systems_region_only_when_it_matches() {
        let gb = Locale::parse("en_GB").expect("English");
        assert_eq!(Locale::chosen(None, gb), gb);
        assert_eq!(Locale::chosen(Some(Lang::En), gb).tag, "en-GB");
        assert_eq!(Locale::chosen(Some(Lang::De), gb).tag, "de-DE");
    }
}
