//! Search that never touches the disk.
//!
//! The index lives in memory only. It is built at the first search after an
//! unlock, by opening the unlocked accounts' sealed message bodies and alert
//! texts, and kept up to date on every write. Nothing about words, prefixes or bodies is ever
//! written to the database, its WAL or a temporary file, at the cost of
//! rebuilding the index at each unlock (see the crate README for figures).
//!
//! Words are folded for matching: Unicode compatibility decomposition, marks
//! dropped, lower case, so "Café", "CAFE" and "cafe" are one word. Every query
//! word matches as a prefix; all query words must match. [`match_ranges`]
//! gives the window what to highlight in a hit, from the same words.
//!
//! Memory: a long history is mostly words seen once (numbers, references)
//! and a few words seen everywhere. Words are therefore kept in two parts.
//! New words go into a small hash map (cheap to update); past a size, that
//! map is merged into a packed, sorted part: one string holding every word,
//! one array of postings, and a bitmap instead of a list for a word in more
//! than one document in 32. An unlock merges as it goes, so the big map of a
//! bulk build never exists and leaves no freed heap behind.

mod documents;
mod folding;
mod index;
mod packed;
mod query;

pub use folding::match_ranges;
pub(crate) use index::SearchIndex;
