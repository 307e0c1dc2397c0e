//! The secret every pseudonym is derived from, and the keyed function
//! (HMAC-SHA256) that derives them: the same key and value always give
//! the same pseudonym, and without the key a pseudonym says nothing of
//! its value.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The shortest key accepted, in bytes.
pub const SHORTEST: usize = 16;

/// A sanitising key.
#[derive(Clone)]
pub struct Key(Vec<u8>);

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Key(..)")
    }
}

impl Key {
    /// A key from the bytes of a key file (surrounding white space left
    /// out); refused when shorter than [`SHORTEST`] bytes.
    pub fn new(bytes: &[u8]) -> Result<Key, String> {
        let trimmed = bytes.trim_ascii();
        if trimmed.len() < SHORTEST {
            return Err(format!(
                "a key needs at least {SHORTEST} bytes (a file of random text, e.g. `head -c 32 /dev/urandom | base64`)"
            ));
        }
        Ok(Key(trimmed.to_vec()))
    }

    /// The keyed digest of `parts`, each told apart from the next by its
    /// length, so that ("ab", "c") and ("a", "bc") differ.
    pub fn digest(&self, parts: &[&[u8]]) -> [u8; 32] {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes any key");
        for part in parts {
            mac.update(&(part.len() as u64).to_le_bytes());
            mac.update(part);
        }
        mac.finalize().into_bytes().into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_depend_on_the_key_and_on_how_parts_are_cut() {
        let a = Key::new(b"0123456789abcdef\n").unwrap();
        let b = Key::new(b"0123456789abcdeg").unwrap();
        assert_eq!(a.digest(&[b"x"]), a.digest(&[b"x"]));
        assert_ne!(a.digest(&[b"x"]), b.digest(&[b"x"]));
        assert_ne!(a.digest(&[b"ab", b"c"]), a.digest(&[b"a", b"bc"]));
        assert!(Key::new(b"  short  ").is_err());
    }
}
