//! The test vector of docs/format.md. It is computed from the format's definition with fixed
//! keys and nonces, checked against the crate's own derivations and read back through a real
//! store. The test also compares it with the text of the document, so the two cannot drift
//! apart.
//!
//! To update the document after an intended format change, run this test with
//! `SECURESTORE_PRINT_VECTOR=1` and paste the printed block.

mod common;

use std::fs;
use std::sync::Arc;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use hkdf::Hkdf;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use securestore::crypto::{self, SecretKey, ServiceKeys, KEY_ID_LEN};
use securestore::envelope::{self, Part};
use securestore::provider::{KeyProvider, KeyRequest};

const SERVICE: &str = "com.example.app";
const KEY: &str = "token";
const VALUE: &str = "hello, world";
const NAME_NONCE: [u8; 12] = [0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b];
const VALUE_NONCE: [u8; 12] = [0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27, 0x28, 0x29, 0x2a, 0x2b];

fn root_key() -> [u8; 32] {
    std::array::from_fn(|i| i as u8)
}

fn key_id() -> [u8; KEY_ID_LEN] {
    std::array::from_fn(|i| 0xa0 + i as u8)
}

fn seal(key: &[u8], nonce: &[u8; 12], aad: &[u8], plaintext: &[u8]) -> Vec<u8> {
    let cipher = Aes256Gcm::new_from_slice(key).unwrap();
    let ciphertext = cipher.encrypt(Nonce::from_slice(nonce), Payload { msg: plaintext, aad }).unwrap();
    [&nonce[..], &ciphertext].concat()
}

/// Formats `label: hex`, wrapping the hex at 64 digits with indented continuation lines.
fn line(label: &str, bytes: &[u8]) -> String {
    let hex = hex::encode(bytes);
    let mut chunks = hex.as_bytes().chunks(64).map(|c| std::str::from_utf8(c).unwrap());
    let mut out = format!("{label:<16}{}\n", chunks.next().unwrap_or(""));
    for chunk in chunks {
        out.push_str(&format!("{:<16}{chunk}\n", ""));
    }
    out
}

struct Vector {
    text: String,
    entry_file_name: String,
    entry_file: Vec<u8>,
}

/// Builds the vector from the format's definition, using only standard primitives.
fn build_vector() -> Vector {
    let (root, id) = (root_key(), key_id());
    let hkdf = Hkdf::<Sha256>::new(Some(&id), &root);
    let (mut value_key, mut name_key) = ([0u8; 32], [0u8; 32]);
    hkdf.expand(b"securestore v1 value key", &mut value_key).unwrap();
    hkdf.expand(b"securestore v1 name key", &mut name_key).unwrap();
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&name_key).unwrap();
    mac.update(KEY.as_bytes());
    let entry_id: [u8; 32] = mac.finalize().into_bytes().into();

    let header = [&b"SSTE"[..], &[1, 0], &id].concat();
    let aad = |label: &[u8]| {
        let mut aad = label.to_vec();
        aad.extend_from_slice(&(header.len() as u32).to_be_bytes()[1..]);
        aad.extend_from_slice(&header);
        aad.push(SERVICE.len() as u8);
        aad.extend_from_slice(SERVICE.as_bytes());
        aad.extend_from_slice(&entry_id);
        aad
    };
    let name_aad = aad(b"securestore entry name v1\0");
    let value_aad = aad(b"securestore entry value v1\0");
    let sealed_name = seal(&value_key, &NAME_NONCE, &name_aad, KEY.as_bytes());
    let sealed_value = seal(&value_key, &VALUE_NONCE, &value_aad, VALUE.as_bytes());
    let entry_file =
        [&header[..], &(sealed_name.len() as u16).to_be_bytes(), &sealed_name, &sealed_value].concat();

    let mut service_hash = sha2::Sha256::default();
    sha2::Digest::update(&mut service_hash, b"securestore v1 service\0");
    sha2::Digest::update(&mut service_hash, SERVICE.as_bytes());
    let service_dir: [u8; 32] = sha2::Digest::finalize(service_hash).into();
    let entry_file_name = format!("e-{}", hex::encode(entry_id));

    let mut text = String::new();
    text.push_str(&format!("{:<16}{SERVICE}\n{:<16}{KEY}\n{:<16}{VALUE}\n", "service", "key", "value"));
    text.push_str(&line("root key", &root));
    text.push_str(&line("key id", &id));
    text.push_str(&line("name nonce", &NAME_NONCE));
    text.push_str(&line("value nonce", &VALUE_NONCE));
    text.push_str(&line("value key", &value_key));
    text.push_str(&line("name key", &name_key));
    text.push_str(&line("entry id", &entry_id));
    text.push_str(&format!("{:<16}s-{}/e-{}\n", "path", hex::encode(service_dir), hex::encode(entry_id)));
    text.push_str(&line("name aad", &name_aad));
    text.push_str(&line("value aad", &value_aad));
    text.push_str(&line("entry file", &entry_file));
    Vector { text, entry_file_name, entry_file }
}

#[test]
fn format_doc_vector_matches_code() {
    let vector = build_vector();
    if std::env::var("SECURESTORE_PRINT_VECTOR").is_ok() {
        println!("{}", vector.text);
    }

    // The crate's own derivations agree with the definition.
    let root = SecretKey::from_slice(&root_key()).unwrap();
    let keys = ServiceKeys::derive(&root, key_id());
    assert_eq!(format!("e-{}", hex::encode(keys.entry_id(KEY))), vector.entry_file_name);
    let parsed = envelope::parse_entry(&vector.entry_file).unwrap();
    assert_eq!(parsed.header, envelope::entry_header(&key_id(), None).as_slice());
    let value_aad = envelope::entry_aad(Part::Value, parsed.header, SERVICE, &keys.entry_id(KEY));
    let opened = crypto::open(keys.value_cipher(), &value_aad, parsed.sealed_value).unwrap();
    assert_eq!(opened.as_slice(), VALUE.as_bytes());
    assert_eq!(
        envelope::encode_entry(parsed.header, parsed.sealed_name, parsed.sealed_value),
        vector.entry_file
    );

    // A real store reads the vector's entry file.
    let dir = tempfile::tempdir().unwrap();
    let provider = Arc::new(common::SeededKeyProvider::new(b"format vector"));
    let store = common::open_store(dir.path(), Arc::clone(&provider) as _);
    let service_dir = common::service_dir(dir.path(), SERVICE);
    fs::create_dir_all(&service_dir).unwrap();
    let alias = format!("securestore.v1.{}", hex::encode(&crypto::service_id(SERVICE)[..16]));
    let aad = envelope::root_key_aad(SERVICE, &key_id());
    let request = KeyRequest { alias: &alias, aad: &aad, authenticated: false, prompt: None };
    let wrapped = provider.wrap(&request, &root_key()).unwrap();
    fs::write(service_dir.join("root.key"), envelope::encode_root_key(&key_id(), &wrapped)).unwrap();
    fs::write(service_dir.join(&vector.entry_file_name), &vector.entry_file).unwrap();
    let options = common::service(SERVICE);
    assert_eq!(store.get(KEY, &options).unwrap().unwrap().as_slice(), VALUE.as_bytes());
    assert_eq!(store.list(&options).unwrap().keys, vec![KEY.to_owned()]);

    // The document shows exactly this vector.
    let doc_path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/format.md");
    let doc = fs::read_to_string(doc_path).expect("docs/format.md exists");
    assert!(
        doc.contains(&vector.text),
        "docs/format.md does not contain the current test vector; replace its vector block with:\n{}",
        vector.text
    );
}
