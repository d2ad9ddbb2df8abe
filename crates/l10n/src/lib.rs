//! Strongroom's languages: the message catalogues (Project Fluent, in
//! `locales/`), the customer's locale (from the system or their choice),
//! and amounts written exactly as the window's `Intl` writes them.
//!
//! Code never holds a sentence for a person: it names a catalogue message
//! and passes values. English, German and French ship; a catalogue that
//! lacks a message another language has fails `tests/catalogues.rs`.

mod catalog;
mod locale;
mod money;

pub use catalog::{Arg, Catalog, Domain};
pub use locale::{FORMAT_TAGS, Lang, Locale};
pub use money::format_amount;
