//! Key material and the primitives built on it.
//!
//! A service's 256-bit root key never encrypts anything itself: HKDF-SHA256 derives one key
//! for entry values and one for entry names from it, each bound to the root key's id. All
//! secret bytes live in zeroizing containers and are wiped when dropped. The primitives
//! come from RustCrypto (`aes-gcm`, `hkdf`, `hmac`, `sha2`); nothing here is hand-written
//! cryptography.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use hkdf::Hkdf;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

/// Length of every symmetric key, in bytes.
pub const KEY_LEN: usize = 32;
/// Length of an AES-GCM nonce, in bytes.
pub const NONCE_LEN: usize = 12;
/// Length of an AES-GCM tag, in bytes.
pub const TAG_LEN: usize = 16;
/// Length of a root key id, in bytes.
pub const KEY_ID_LEN: usize = 16;
/// Length of an entry id (the keyed hash of a key name), in bytes.
pub const ENTRY_ID_LEN: usize = 32;

const VALUE_KEY_INFO: &[u8] = b"securestore v1 value key";
const NAME_KEY_INFO: &[u8] = b"securestore v1 name key";

/// Fills `buf` from the operating system's random number generator.
pub fn fill_random(buf: &mut [u8]) -> Result<(), getrandom::Error> {
    getrandom::fill(buf)
}

/// A random 256-bit key: a service's root key or an entry's data key.
#[derive(Clone)]
pub struct SecretKey(Zeroizing<[u8; KEY_LEN]>);

impl SecretKey {
    /// Generates a fresh key from the operating system's random number generator.
    pub fn generate() -> Result<Self, getrandom::Error> {
        let mut key = Zeroizing::new([0u8; KEY_LEN]);
        fill_random(key.as_mut())?;
        Ok(SecretKey(key))
    }

    /// Copies key bytes, or returns `None` unless `bytes` is exactly [`KEY_LEN`] long.
    pub fn from_slice(bytes: &[u8]) -> Option<Self> {
        let mut key = Zeroizing::new([0u8; KEY_LEN]);
        if bytes.len() != KEY_LEN {
            return None;
        }
        key.copy_from_slice(bytes);
        Some(SecretKey(key))
    }

    /// Returns the key bytes.
    pub fn expose(&self) -> &[u8; KEY_LEN] {
        &self.0
    }

    /// Returns a cipher keyed with this key.
    pub fn cipher(&self) -> Aes256Gcm {
        Aes256Gcm::new(self.0.as_ref().into())
    }
}

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretKey(..)")
    }
}

/// The keys derived from one service root key.
pub struct ServiceKeys {
    /// The id of the root key these keys come from.
    pub key_id: [u8; KEY_ID_LEN],
    value_cipher: Aes256Gcm,
    name_key: Zeroizing<[u8; KEY_LEN]>,
}

impl ServiceKeys {
    /// Derives the value key and the name key from `root` with HKDF-SHA256, using the
    /// root key's id as salt.
    pub fn derive(root: &SecretKey, key_id: [u8; KEY_ID_LEN]) -> Self {
        let hkdf = Hkdf::<Sha256>::new(Some(&key_id), root.expose());
        let mut value_key = Zeroizing::new([0u8; KEY_LEN]);
        let mut name_key = Zeroizing::new([0u8; KEY_LEN]);
        // Expanding 32 bytes never fails: the limit is 255 * 32 bytes.
        hkdf.expand(VALUE_KEY_INFO, value_key.as_mut()).expect("32 bytes is a valid HKDF length");
        hkdf.expand(NAME_KEY_INFO, name_key.as_mut()).expect("32 bytes is a valid HKDF length");
        ServiceKeys { key_id, value_cipher: Aes256Gcm::new(value_key.as_ref().into()), name_key }
    }

    /// Returns the cipher for entry values.
    pub fn value_cipher(&self) -> &Aes256Gcm {
        &self.value_cipher
    }

    /// Computes the entry id of `key`: HMAC-SHA256 of the key name under the name key.
    /// Entry files are named after it, so names never appear on disk.
    pub fn entry_id(&self, key: &str) -> [u8; ENTRY_ID_LEN] {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(self.name_key.as_ref())
            .expect("HMAC accepts keys of any length");
        mac.update(key.as_bytes());
        mac.finalize().into_bytes().into()
    }
}

/// Hashes a service name into a directory name. The hash is unkeyed, because the directory
/// must be found before any key is unwrapped; service names are not secret.
pub fn service_id(service: &str) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(b"securestore v1 service\0");
    hasher.update(service.as_bytes());
    hasher.finalize().into()
}

/// Encrypts `plaintext` under `cipher` with a fresh random nonce, returning the nonce
/// followed by the ciphertext and tag.
pub fn seal(cipher: &Aes256Gcm, aad: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, SealError> {
    let mut nonce = [0u8; NONCE_LEN];
    fill_random(&mut nonce).map_err(|_| SealError::Random)?;
    let ciphertext = cipher
        .encrypt(Nonce::from_slice(&nonce), Payload { msg: plaintext, aad })
        .map_err(|_| SealError::Cipher)?;
    let mut out = Vec::with_capacity(NONCE_LEN + ciphertext.len());
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&ciphertext);
    Ok(out)
}

/// Decrypts the output of [`seal`]. Fails if anything in `sealed` or `aad` changed.
pub fn open(cipher: &Aes256Gcm, aad: &[u8], sealed: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
    if sealed.len() < NONCE_LEN + TAG_LEN {
        return None;
    }
    let (nonce, ciphertext) = sealed.split_at(NONCE_LEN);
    cipher
        .decrypt(Nonce::from_slice(nonce), Payload { msg: ciphertext, aad })
        .ok()
        .map(Zeroizing::new)
}

/// A failure to encrypt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SealError {
    /// The operating system's random number generator failed.
    Random,
    /// The plaintext is too long for AES-GCM.
    Cipher,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unhex(s: &str) -> Vec<u8> {
        hex::decode(s).unwrap()
    }

    /// AES-256 test cases 13 to 16 of the GCM specification (McGrew and Viega, 2005).
    #[test]
    fn aes_256_gcm_test_vectors() {
        let cases = [
            ("00".repeat(32), "", "000000000000000000000000", "", "", "530f8afbc74536b9a963b4f1c4cb738b"),
            (
                "00".repeat(32),
                "00000000000000000000000000000000",
                "000000000000000000000000",
                "",
                "cea7403d4d606b6e074ec5d3baf39d18",
                "d0d1c8a799996bf0265b98b5d48ab919",
            ),
            (
                "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308".to_owned(),
                "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255",
                "cafebabefacedbaddecaf888",
                "",
                "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662898015ad",
                "b094dac5d93471bdec1a502270e3cc6c",
            ),
            (
                "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308".to_owned(),
                "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39",
                "cafebabefacedbaddecaf888",
                "feedfacedeadbeeffeedfacedeadbeefabaddad2",
                "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662",
                "76fc6ece0f4e1768cddf8853bb2d551b",
            ),
        ];
        for (key, plaintext, nonce, aad, ciphertext, tag) in cases {
            let cipher = Aes256Gcm::new_from_slice(&unhex(&key)).unwrap();
            let (plaintext, nonce, aad) = (unhex(plaintext), unhex(nonce), unhex(aad));
            let expected = [unhex(ciphertext), unhex(tag)].concat();
            let out = cipher
                .encrypt(Nonce::from_slice(&nonce), Payload { msg: &plaintext, aad: &aad })
                .unwrap();
            assert_eq!(hex::encode(&out), hex::encode(&expected));

            let sealed = [nonce.clone(), expected].concat();
            assert_eq!(open(&cipher, &aad, &sealed).unwrap().as_slice(), plaintext.as_slice());
        }
    }

    /// Test cases 1 and 3 of RFC 5869.
    #[test]
    fn hkdf_sha256_rfc5869_vectors() {
        let ikm = [0x0bu8; 22];
        let salt = unhex("000102030405060708090a0b0c");
        let info = unhex("f0f1f2f3f4f5f6f7f8f9");
        let (prk, hkdf) = Hkdf::<Sha256>::extract(Some(&salt), &ikm);
        assert_eq!(hex::encode(prk), "077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5");
        let mut okm = [0u8; 42];
        hkdf.expand(&info, &mut okm).unwrap();
        assert_eq!(
            hex::encode(okm),
            "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865"
        );

        let hkdf = Hkdf::<Sha256>::new(None, &ikm);
        hkdf.expand(&[], &mut okm).unwrap();
        assert_eq!(
            hex::encode(okm),
            "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8"
        );
    }

    /// Test case 2 of RFC 4231.
    #[test]
    fn hmac_sha256_rfc4231_vector() {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(b"Jefe").unwrap();
        mac.update(b"what do ya want for nothing?");
        assert_eq!(
            hex::encode(mac.finalize().into_bytes()),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn seal_uses_fresh_nonces() {
        let key = SecretKey::generate().unwrap();
        let cipher = key.cipher();
        let a = seal(&cipher, b"aad", b"same").unwrap();
        let b = seal(&cipher, b"aad", b"same").unwrap();
        assert_ne!(a[..NONCE_LEN], b[..NONCE_LEN]);
        assert_eq!(open(&cipher, b"aad", &a).unwrap().as_slice(), b"same");
        assert!(open(&cipher, b"other aad", &a).is_none());
    }

    #[test]
    fn derived_keys_differ_per_root_and_purpose() {
        let root = SecretKey::generate().unwrap();
        let keys = ServiceKeys::derive(&root, [1; KEY_ID_LEN]);
        let other_id = ServiceKeys::derive(&root, [2; KEY_ID_LEN]);
        assert_ne!(keys.entry_id("token"), other_id.entry_id("token"));
        assert_ne!(keys.entry_id("token"), keys.entry_id("Token"));
        assert_eq!(keys.entry_id("token"), ServiceKeys::derive(&root, [1; KEY_ID_LEN]).entry_id("token"));
    }

    #[test]
    fn secret_key_debug_hides_bytes() {
        let key = SecretKey::from_slice(&[7; KEY_LEN]).unwrap();
        assert_eq!(format!("{key:?}"), "SecretKey(..)");
        assert!(SecretKey::from_slice(&[7; 31]).is_none());
    }
}
