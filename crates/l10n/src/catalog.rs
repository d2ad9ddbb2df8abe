//! The message catalogues (Project Fluent), compiled into the binary.
//!
//! Every sentence the desktop shell, the CLI and the bank's consent page
//! write lives in `locales/<lang>/*.ftl`, never in code; code names a
//! message and passes values. The window reads its own files from the same
//! folders (`window-*.ftl`), plus the shared `kinds.ftl` and `errors.ftl`, so
//! an alert kind or an error reads the same in a notification, the CLI and
//! the window.

use crate::Lang;
use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};
use std::borrow::Cow;
use std::sync::OnceLock;

/// One catalogue file in every language.
struct File {
    texts: [&'static str; 3],
}

macro_rules! ftl {
    ($name:literal) => {
        File {
            texts: [
                include_str!(concat!("../locales/en/", $name)),
                include_str!(concat!("../locales/de/", $name)),
                include_str!(concat!("../locales/fr/", $name)),
            ],
        }
    };
}

const KINDS: File = ftl!("kinds.ftl");
const ERRORS: File = ftl!("errors.ftl");
const DESKTOP: File = ftl!("desktop.ftl");
const CLI: File = ftl!("cli.ftl");
const CONSENT: File = ftl!("consent.ftl");

/// Who is speaking: each loads the files it needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Domain {
    /// The desktop shell: notifications and the tray (`desktop.ftl`, with
    /// the alert kinds and errors).
    Desktop,
    /// The command-line client (`cli.ftl`, with the alert kinds and errors).
    Cli,
    /// The bank's sign-in and consent pages (`consent.ftl`).
    Consent,
}

impl Domain {
    const ALL: [Domain; 3] = [Domain::Desktop, Domain::Cli, Domain::Consent];

    fn files(self) -> &'static [&'static File] {
        match self {
            Domain::Desktop => &[&KINDS, &ERRORS, &DESKTOP],
            Domain::Cli => &[&KINDS, &ERRORS, &CLI],
            Domain::Consent => &[&CONSENT],
        }
    }

    fn index(self) -> usize {
        Domain::ALL.iter().position(|d| *d == self).unwrap_or(0)
    }
}

/// A value passed into a message.
#[derive(Debug, Clone, Copy)]
pub enum Arg<'a> {
    /// Text, e.g. a bank's name (written as it is).
    Str(&'a str),
    /// A count, which picks the plural form (`{ $count -> [one] ... }`).
    Num(i64),
}

/// One language's catalogue for one domain.
pub struct Catalog {
    lang: Lang,
    domain: Domain,
    bundle: FluentBundle<FluentResource>,
}

impl std::fmt::Debug for Catalog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Catalog").field("lang", &self.lang).finish()
    }
}

static CATALOGS: [[OnceLock<Catalog>; 3]; 3] = [
    [OnceLock::new(), OnceLock::new(), OnceLock::new()],
    [OnceLock::new(), OnceLock::new(), OnceLock::new()],
    [OnceLock::new(), OnceLock::new(), OnceLock::new()],
];

fn lang_index(lang: Lang) -> usize {
    Lang::ALL.iter().position(|l| *l == lang).unwrap_or(0)
}

impl Catalog {
    /// The catalogue of `domain` in `lang`, parsed once per process.
    pub fn get(domain: Domain, lang: Lang) -> &'static Catalog {
        CATALOGS[domain.index()][lang_index(lang)].get_or_init(|| Catalog::load(domain, lang))
    }

    fn load(domain: Domain, lang: Lang) -> Catalog {
        let id: unic_langid::LanguageIdentifier = lang.code().parse().unwrap_or_default();
        let mut bundle = FluentBundle::new_concurrent(vec![id]);
        // No Unicode isolation marks around values: notifications and
        // terminals show them as boxes, and the three languages are all
        // left-to-right.
        bundle.set_use_isolating(false);
        for file in domain.files() {
            // A syntax error keeps the entries that did parse; the catalogue
            // test (tests/catalogues.rs) fails the build's tests on any.
            let resource = match FluentResource::try_new(file.texts[lang_index(lang)].to_owned()) {
                Ok(r) | Err((r, _)) => r,
            };
            // Duplicate ids across files are also caught by that test.
            let _ = bundle.add_resource(resource);
        }
        Catalog {
            lang,
            domain,
            bundle,
        }
    }

    /// The catalogue's language.
    pub fn lang(&self) -> Lang {
        self.lang
    }

    /// The message `id` (or `id.attribute`) with no values.
    pub fn text(&self, id: &str) -> String {
        self.format(id, &[])
    }

    /// The message `id` (or `id.attribute`) with values. A message this
    /// language lacks falls back to English, then to the id itself, so a gap
    /// shows as a name, never as nothing (and the catalogue test fails).
    pub fn format(&self, id: &str, args: &[(&str, Arg<'_>)]) -> String {
        if let Some(text) = self.try_format(id, args) {
            return text;
        }
        if self.lang != Lang::En {
            return Catalog::get(self.domain, Lang::En).format(id, args);
        }
        id.to_owned()
    }

    /// Whether the message (or attribute) exists.
    pub fn has(&self, id: &str) -> bool {
        self.try_format(id, &[]).is_some()
    }

    /// The message `id` with no values, or `None` when this catalogue has
    /// no such message: for ids made from a code the sender may have
    /// invented (an alert kind, a call reason), which the caller words
    /// its own way.
    pub fn find(&self, id: &str) -> Option<String> {
        self.try_format(id, &[])
    }

    fn try_format(&self, id: &str, args: &[(&str, Arg<'_>)]) -> Option<String> {
        let (message_id, attribute) = match id.split_once('.') {
            Some((m, a)) => (m, Some(a)),
            None => (id, None),
        };
        let message = self.bundle.get_message(message_id)?;
        let pattern = match attribute {
            Some(a) => message.get_attribute(a)?.value(),
            None => message.value()?,
        };
        let mut fluent_args = FluentArgs::new();
        for (name, value) in args {
            match value {
                Arg::Str(s) => fluent_args.set(*name, FluentValue::from(Cow::Borrowed(*s))),
                Arg::Num(n) => fluent_args.set(*name, FluentValue::from(*n)),
            }
        }
        let mut errors = Vec::new();
        let text = self
            .bundle
            .format_pattern(pattern, Some(&fluent_args), &mut errors);
        Some(text.into_owned())
    }
}
