//! The format of a message's sealed content: who wrote it and what, in one
//! field so that neither can be swapped without the other.

use crate::Direction;

/// A message's sealed content: who wrote it and what.
pub(crate) struct Content {
    pub(crate) direction: Direction,
    pub(crate) author: String,
    pub(crate) body: String,
}

/// Authors are display names: one longer than the 65,535 bytes the content
/// format holds is cut on a character boundary rather than refused. Used for
/// both the file and the in-memory window so they always agree.
pub(crate) fn display_author(author: &str) -> &str {
    let mut cut = author.len().min(usize::from(u16::MAX));
    while !author.is_char_boundary(cut) {
        cut -= 1;
    }
    &author[..cut]
}

/// `direction (I|O) || author length (u16 BE) || author || body`, with an
/// author already cut by [`display_author`].
pub(crate) fn encode_content(direction: Direction, author: &str, body: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(3 + author.len() + body.len());
    out.push(match direction {
        Direction::Incoming => b'I',
        Direction::Outgoing => b'O',
    });
    out.extend_from_slice(
        &u16::try_from(author.len())
            .unwrap_or(u16::MAX)
            .to_be_bytes(),
    );
    out.extend_from_slice(author.as_bytes());
    out.extend_from_slice(body.as_bytes());
    out
}

pub(crate) fn decode_content(mut plain: Vec<u8>) -> Option<Content> {
    let direction = match plain.first()? {
        b'I' => Direction::Incoming,
        b'O' => Direction::Outgoing,
        _ => return None,
    };
    let len = usize::from(u16::from_be_bytes([*plain.get(1)?, *plain.get(2)?]));
    let author = std::str::from_utf8(plain.get(3..3 + len)?).ok()?.to_owned();
    // Reuse the decrypted buffer for the body: no second copy of the text.
    plain.drain(..3 + len);
    let body = String::from_utf8(plain).ok()?;
    Some(Content {
        direction,
        author,
        body,
    })
}
