//! A wrapper for secrets.

use std::fmt;
use zeroize::{Zeroize, ZeroizeOnDrop};

/// A secret value: a refresh token, a private key, a store key.
///
/// `Sensitive<T>` prints as `<redacted>` in both `Debug` and `Display`, does
/// not implement `Serialize` (so it cannot end up in a log line, an IPC reply or
/// a JSON file by accident), and wipes its memory when dropped. The only way to
/// read the value is [`Sensitive::expose`], which is easy to find in review.
///
/// ```
/// use strongroom_core::Sensitive;
/// let token = Sensitive::new(b"refresh-token".to_vec());
/// assert_eq!(format!("{token:?}"), "<redacted>");
/// assert_eq!(token.expose(), b"refresh-token");
/// ```
#[derive(Clone, PartialEq, Eq, ZeroizeOnDrop)]
pub struct Sensitive<T: Zeroize>(T);

impl<T: Zeroize> Sensitive<T> {
    /// Wraps a secret. From here on it is redacted and zeroized on drop.
    pub fn new(value: T) -> Self {
        Sensitive(value)
    }

    /// Reads the secret. Call it only where the secret is used, never to log
    /// or to store it in clear.
    pub fn expose(&self) -> &T {
        &self.0
    }
}

impl<T: Zeroize> From<T> for Sensitive<T> {
    fn from(value: T) -> Self {
        Sensitive(value)
    }
}

impl<T: Zeroize> fmt::Debug for Sensitive<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl<T: Zeroize> fmt::Display for Sensitive<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_never_show_the_secret() {
        let secret = Sensitive::new(String::from("hunter2-refresh-token"));
        assert_eq!(format!("{secret:?}"), "<redacted>");
        assert_eq!(format!("{secret}"), "<redacted>");
        assert_eq!(format!("{:?}", Some(&secret)), "Some(<redacted>)");
        assert_eq!(secret.expose(), "hunter2-refresh-token");
    }

    #[test]
    fn zeroize_wipes_the_value() {
        let mut secret = Sensitive::new(vec![7u8; 32]);
        secret.zeroize_inner();
        assert!(secret.expose().is_empty(), "zeroize must clear the vector");
    }

    impl<T: Zeroize> Sensitive<T> {
        fn zeroize_inner(&mut self) {
            self.0.zeroize();
        }
    }
}
