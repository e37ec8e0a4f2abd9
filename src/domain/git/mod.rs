//! Git's object model and wire formats, byte-identical to what stock git produces
//! (DESIGN §4). Pure: the room object and the smart-HTTP handlers build on it.

use sha1::{Digest, Sha1};
use std::fmt;

/// A SHA-1 object name.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ObjectId(pub [u8; 20]);

impl ObjectId {
    pub const ZERO: ObjectId = ObjectId([0; 20]);

    /// Parses 40 lowercase or uppercase hex digits.
    pub fn from_hex(text: &str) -> Option<ObjectId> {
        let bytes = text.as_bytes();
        if bytes.len() != 40 {
            return None;
        }
        let mut out = [0u8; 20];
        for (i, pair) in bytes.chunks(2).enumerate() {
            let hi = (pair[0] as char).to_digit(16)?;
            let lo = (pair[1] as char).to_digit(16)?;
            out[i] = (hi * 16 + lo) as u8;
        }
        Some(ObjectId(out))
    }

    pub fn to_hex(&self) -> String {
        crate::domain::crypto::hex(&self.0)
    }

    pub fn is_zero(&self) -> bool {
        self.0 == [0; 20]
    }
}

impl fmt::Debug for ObjectId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.to_hex())
    }
}

impl fmt::Display for ObjectId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.to_hex())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Commit,
    Tree,
    Blob,
    Tag,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Commit => "commit",
            Kind::Tree => "tree",
            Kind::Blob => "blob",
            Kind::Tag => "tag",
        }
    }

    /// The type number used in pack entries.
    pub fn pack_type(self) -> u8 {
        match self {
            Kind::Commit => 1,
            Kind::Tree => 2,
            Kind::Blob => 3,
            Kind::Tag => 4,
        }
    }

    pub fn from_pack_type(number: u8) -> Option<Kind> {
        Some(match number {
            1 => Kind::Commit,
            2 => Kind::Tree,
            3 => Kind::Blob,
            4 => Kind::Tag,
            _ => return None,
        })
    }
}

/// The object's name: SHA-1 of `"<kind> <len>\0"` followed by the content.
pub fn hash_object(kind: Kind, data: &[u8]) -> ObjectId {
    let mut hasher = Sha1::new();
    hasher.update(format!("{} {}\0", kind.as_str(), data.len()).as_bytes());
    hasher.update(data);
    ObjectId(hasher.finalize().into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_blob_and_tree_have_gits_names() {
        // `git hash-object -t blob /dev/null`, `git hash-object -t tree /dev/null`
        assert_eq!(
            hash_object(Kind::Blob, b"").to_hex(),
            "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391"
        );
        assert_eq!(
            hash_object(Kind::Tree, b"").to_hex(),
            "4b825dc642cb6eb9a060e54bf8d69288fbee4904"
        );
        // `echo hello | git hash-object --stdin`
        assert_eq!(
            hash_object(Kind::Blob, b"hello\n").to_hex(),
            "ce013625030ba8dba906f756967f9e9ca394464a"
        );
    }

    #[test]
    fn hex_round_trip() {
        let id = hash_object(Kind::Blob, b"x");
        assert_eq!(ObjectId::from_hex(&id.to_hex()), Some(id));
        assert_eq!(ObjectId::from_hex("zz"), None);
        assert_eq!(ObjectId::from_hex(&"g".repeat(40)), None);
    }
}
pub mod commit;
pub mod delta;
pub mod entry;
pub mod flat_tree;
pub mod index;
pub mod object;
pub mod pack;
pub mod pktline;
pub mod protocol;
pub mod receive;
pub mod refname;
pub mod stored_pack;
pub mod upload;
pub mod walk;
