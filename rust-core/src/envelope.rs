//! Envelope v1: the byte layout of entry files and root key files.
//!
//! Entry file:
//!
//! | bytes | field |
//! |---|---|
//! | 4 | magic `SSTE` |
//! | 1 | format version, `1` |
//! | 1 | flags: bit 0 set when the value is encrypted under its own data key wrapped by the platform key (authenticated entries); other bits zero |
//! | 16 | id of the service root key that the entry id and the name key come from |
//! | 2 + n | only with bit 0: length (big-endian) and bytes of the wrapped data key |
//! | 2 + n | length (big-endian) and bytes of the sealed key name: nonce, ciphertext, tag |
//! | rest | the sealed value: a 12-byte nonce, the AES-256-GCM ciphertext, the 16-byte tag |
//!
//! The key name is sealed under the service's value key, so listing keys never needs the
//! user to authenticate. The value is sealed under the same key, or under the entry's own
//! data key for authenticated entries. Both use a fresh random nonce on every write.
//!
//! The associated data of both seals is a label naming the part, every header byte up to
//! the sealed name, the service name with its length, and the entry id (the keyed hash of
//! the key name that also names the file). A ciphertext copied to another key, another
//! service or another root key, a changed header or version, and any flipped bit all fail
//! to decrypt.
//!
//! Root key file: magic `SSTK`, version `1`, the 16-byte key id, then the wrapped root key
//! with a two-byte big-endian length. Its integrity is checked by the platform key that
//! wrapped it, with associated data from [`root_key_aad`].

use crate::crypto::{ENTRY_ID_LEN, KEY_ID_LEN, NONCE_LEN, TAG_LEN};

/// Current format version of both file kinds.
pub const VERSION: u8 = 1;
const ENTRY_MAGIC: &[u8; 4] = b"SSTE";
const KEY_MAGIC: &[u8; 4] = b"SSTK";
const FLAG_WRAPPED_DATA_KEY: u8 = 0x01;
const ROOT_KEY_AAD_LABEL: &[u8] = b"securestore root key v1\0";

/// The reason bytes could not be parsed as an envelope.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FormatError {
    /// The file does not start with the expected magic bytes.
    BadMagic,
    /// The file was written in a format version this build does not know.
    UnsupportedVersion(u8),
    /// A flag bit this build does not know is set.
    UnknownFlags(u8),
    /// The file ends before its fields do, or goes on after them.
    Truncated,
}

impl std::fmt::Display for FormatError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FormatError::BadMagic => f.write_str("not a SecureStore file"),
            FormatError::UnsupportedVersion(v) => write!(f, "unsupported format version {v}"),
            FormatError::UnknownFlags(flags) => write!(f, "unknown flags {flags:#04x}"),
            FormatError::Truncated => f.write_str("file is truncated"),
        }
    }
}

/// A parsed entry file. Name and value are still sealed.
#[derive(Debug, PartialEq, Eq)]
pub struct EntryEnvelope<'a> {
    /// The id of the root key the entry belongs to.
    pub key_id: [u8; KEY_ID_LEN],
    /// The data key wrapped by the platform key, present for authenticated entries.
    pub wrapped_data_key: Option<&'a [u8]>,
    /// Every byte before the sealed name, which the associated data covers.
    pub header: &'a [u8],
    /// Nonce, ciphertext and tag of the key name.
    pub sealed_name: &'a [u8],
    /// Nonce, ciphertext and tag of the value.
    pub sealed_value: &'a [u8],
}

/// The sealed part of an entry that associated data is built for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// The sealed key name.
    Name,
    /// The sealed value.
    Value,
}

/// Builds the header of an entry file.
pub fn entry_header(key_id: &[u8; KEY_ID_LEN], wrapped_data_key: Option<&[u8]>) -> Vec<u8> {
    let mut header = Vec::with_capacity(22 + wrapped_data_key.map_or(0, |w| 2 + w.len()));
    header.extend_from_slice(ENTRY_MAGIC);
    header.push(VERSION);
    header.push(if wrapped_data_key.is_some() { FLAG_WRAPPED_DATA_KEY } else { 0 });
    header.extend_from_slice(key_id);
    if let Some(wrapped) = wrapped_data_key {
        push_with_len(&mut header, wrapped);
    }
    header
}

/// Assembles an entry file from its header and sealed parts.
pub fn encode_entry(header: &[u8], sealed_name: &[u8], sealed_value: &[u8]) -> Vec<u8> {
    let mut file = Vec::with_capacity(header.len() + 2 + sealed_name.len() + sealed_value.len());
    file.extend_from_slice(header);
    push_with_len(&mut file, sealed_name);
    file.extend_from_slice(sealed_value);
    file
}

fn push_with_len(out: &mut Vec<u8>, bytes: &[u8]) {
    let len = u16::try_from(bytes.len()).expect("wrapped keys and sealed names are far below 64 KiB");
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(bytes);
}

/// Parses an entry file without decrypting it.
pub fn parse_entry(bytes: &[u8]) -> Result<EntryEnvelope<'_>, FormatError> {
    let mut reader = Reader::new(bytes);
    if reader.take(4)? != ENTRY_MAGIC {
        return Err(FormatError::BadMagic);
    }
    let version = reader.byte()?;
    if version != VERSION {
        return Err(FormatError::UnsupportedVersion(version));
    }
    let flags = reader.byte()?;
    if flags & !FLAG_WRAPPED_DATA_KEY != 0 {
        return Err(FormatError::UnknownFlags(flags));
    }
    let key_id: [u8; KEY_ID_LEN] = reader.take(KEY_ID_LEN)?.try_into().expect("length checked");
    let wrapped_data_key = if flags & FLAG_WRAPPED_DATA_KEY != 0 {
        let len = reader.u16()?;
        Some(reader.take(usize::from(len))?)
    } else {
        None
    };
    let header = &bytes[..reader.position];
    let name_len = reader.u16()?;
    let sealed_name = reader.take(usize::from(name_len))?;
    let sealed_value = reader.rest();
    if sealed_name.len() < NONCE_LEN + TAG_LEN || sealed_value.len() < NONCE_LEN + TAG_LEN {
        return Err(FormatError::Truncated);
    }
    Ok(EntryEnvelope { key_id, wrapped_data_key, header, sealed_name, sealed_value })
}

/// Builds the associated data for one sealed part of an entry.
pub fn entry_aad(part: Part, header: &[u8], service: &str, entry_id: &[u8; ENTRY_ID_LEN]) -> Vec<u8> {
    let label: &[u8] = match part {
        Part::Name => b"securestore entry name v1\0",
        Part::Value => b"securestore entry value v1\0",
    };
    let mut aad = Vec::with_capacity(label.len() + 3 + header.len() + 1 + service.len() + ENTRY_ID_LEN);
    aad.extend_from_slice(label);
    aad.extend_from_slice(&(header.len() as u32).to_be_bytes()[1..]);
    aad.extend_from_slice(header);
    aad.push(u8::try_from(service.len()).expect("service names are at most 255 bytes"));
    aad.extend_from_slice(service.as_bytes());
    aad.extend_from_slice(entry_id);
    aad
}

/// A parsed root key file.
#[derive(Debug, PartialEq, Eq)]
pub struct RootKeyFile<'a> {
    /// The random id of the root key.
    pub key_id: [u8; KEY_ID_LEN],
    /// The root key as wrapped by the platform key.
    pub wrapped: &'a [u8],
}

/// Serializes a root key file.
pub fn encode_root_key(key_id: &[u8; KEY_ID_LEN], wrapped: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(4 + 1 + KEY_ID_LEN + 2 + wrapped.len());
    out.extend_from_slice(KEY_MAGIC);
    out.push(VERSION);
    out.extend_from_slice(key_id);
    let len = u16::try_from(wrapped.len()).expect("a wrapped root key is far below 64 KiB");
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(wrapped);
    out
}

/// Parses a root key file.
pub fn parse_root_key(bytes: &[u8]) -> Result<RootKeyFile<'_>, FormatError> {
    let mut reader = Reader::new(bytes);
    if reader.take(4)? != KEY_MAGIC {
        return Err(FormatError::BadMagic);
    }
    let version = reader.byte()?;
    if version != VERSION {
        return Err(FormatError::UnsupportedVersion(version));
    }
    let key_id = reader.take(KEY_ID_LEN)?.try_into().expect("length checked");
    let len = reader.u16()?;
    let wrapped = reader.take(usize::from(len))?;
    if !reader.rest().is_empty() {
        return Err(FormatError::Truncated);
    }
    Ok(RootKeyFile { key_id, wrapped })
}

/// Builds the associated data the platform key binds to a wrapped root key.
pub fn root_key_aad(service: &str, key_id: &[u8; KEY_ID_LEN]) -> Vec<u8> {
    let mut aad = Vec::with_capacity(ROOT_KEY_AAD_LABEL.len() + KEY_ID_LEN + service.len());
    aad.extend_from_slice(ROOT_KEY_AAD_LABEL);
    aad.extend_from_slice(key_id);
    aad.extend_from_slice(service.as_bytes());
    aad
}

/// Builds the associated data the platform key binds to an entry's wrapped data key.
pub fn data_key_aad(service: &str, entry_id: &[u8; ENTRY_ID_LEN]) -> Vec<u8> {
    let mut aad = Vec::with_capacity(32 + ENTRY_ID_LEN + service.len());
    aad.extend_from_slice(b"securestore data key v1\0");
    aad.extend_from_slice(entry_id);
    aad.extend_from_slice(service.as_bytes());
    aad
}

struct Reader<'a> {
    bytes: &'a [u8],
    position: usize,
}

impl<'a> Reader<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Reader { bytes, position: 0 }
    }

    fn take(&mut self, len: usize) -> Result<&'a [u8], FormatError> {
        let end = self.position.checked_add(len).ok_or(FormatError::Truncated)?;
        let slice = self.bytes.get(self.position..end).ok_or(FormatError::Truncated)?;
        self.position = end;
        Ok(slice)
    }

    fn byte(&mut self) -> Result<u8, FormatError> {
        Ok(self.take(1)?[0])
    }

    fn u16(&mut self) -> Result<u16, FormatError> {
        Ok(u16::from_be_bytes(self.take(2)?.try_into().expect("length checked")))
    }

    fn rest(&self) -> &'a [u8] {
        &self.bytes[self.position..]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEALED: [u8; NONCE_LEN + TAG_LEN] = [0u8; NONCE_LEN + TAG_LEN];

    #[test]
    fn entry_round_trip() {
        let id = [9u8; KEY_ID_LEN];
        for wrapped in [None, Some(&b"wrapped-key"[..])] {
            let header = entry_header(&id, wrapped);
            let file = encode_entry(&header, &[1; 30], &[2; 40]);
            let parsed = parse_entry(&file).unwrap();
            assert_eq!(parsed.key_id, id);
            assert_eq!(parsed.wrapped_data_key, wrapped);
            assert_eq!(parsed.header, header.as_slice());
            assert_eq!(parsed.sealed_name, &[1; 30][..]);
            assert_eq!(parsed.sealed_value, &[2; 40][..]);
        }
    }

    #[test]
    fn entry_parse_rejects_damage() {
        let file = encode_entry(&entry_header(&[1; KEY_ID_LEN], None), &SEALED, &SEALED);
        for cut in 0..file.len() {
            assert!(parse_entry(&file[..cut]).is_err(), "prefix of {cut} bytes parsed");
        }
        let mut bad = file.clone();
        bad[0] ^= 1;
        assert_eq!(parse_entry(&bad), Err(FormatError::BadMagic));
        let mut bad = file.clone();
        bad[4] = 2;
        assert_eq!(parse_entry(&bad), Err(FormatError::UnsupportedVersion(2)));
        let mut bad = file;
        bad[5] = 0x80;
        assert_eq!(parse_entry(&bad), Err(FormatError::UnknownFlags(0x80)));
    }

    #[test]
    fn aad_differs_per_part_service_and_entry() {
        let header = entry_header(&[1; KEY_ID_LEN], None);
        let base = entry_aad(Part::Value, &header, "svc", &[0; ENTRY_ID_LEN]);
        assert_ne!(base, entry_aad(Part::Name, &header, "svc", &[0; ENTRY_ID_LEN]));
        assert_ne!(base, entry_aad(Part::Value, &header, "svd", &[0; ENTRY_ID_LEN]));
        assert_ne!(base, entry_aad(Part::Value, &header, "svc", &[1; ENTRY_ID_LEN]));
    }

    #[test]
    fn root_key_file_round_trip() {
        let encoded = encode_root_key(&[3; KEY_ID_LEN], b"wrapped");
        let parsed = parse_root_key(&encoded).unwrap();
        assert_eq!(parsed.key_id, [3; KEY_ID_LEN]);
        assert_eq!(parsed.wrapped, b"wrapped");
        for cut in 0..encoded.len() {
            assert!(parse_root_key(&encoded[..cut]).is_err());
        }
        let mut longer = encoded;
        longer.push(0);
        assert_eq!(parse_root_key(&longer), Err(FormatError::Truncated));
    }
}
