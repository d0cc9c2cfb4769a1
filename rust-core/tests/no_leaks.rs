//! Nothing secret in files, file names or error messages.
//!
//! After writes, overwrites, deletes and a killed write, every byte of every file under the
//! store directory, and every file name, is searched for each key name and value in UTF-8,
//! UTF-16 (both byte orders) and hexadecimal. Errors of every kind that a value can cause
//! are checked for the value in their `Debug` and `Display` forms.

mod common;

use std::fs;
use std::path::Path;
use std::sync::Arc;

use securestore::provider::ProviderError;
use securestore::store::EntryOptions;
use securestore::testing::MemoryKeyProvider;
use securestore::StoreError;

const KEYS: [&str; 3] = ["refresh_token.ALPHA42", "user-session_key.BRAVO", "K_CHARLIE.pin-code"];
const VALUES: [&str; 3] = [
    "eyJhbGciOiJIUzI1NiJ9.secret-token-DELTA",
    "pässwörd-ß-秘密-ECHO-😀",
    "correct horse battery staple FOXTROT",
];
const SERVICES: [&str; 2] = ["com.example.leaks.GOLF", "leaks service HOTEL"];

/// Returns the forms in which `text` must not appear: UTF-8, UTF-16LE, UTF-16BE, hex.
fn encodings(text: &str) -> Vec<(&'static str, Vec<u8>)> {
    let utf16: Vec<u16> = text.encode_utf16().collect();
    vec![
        ("UTF-8", text.as_bytes().to_vec()),
        ("UTF-16LE", utf16.iter().flat_map(|u| u.to_le_bytes()).collect()),
        ("UTF-16BE", utf16.iter().flat_map(|u| u.to_be_bytes()).collect()),
        ("hex", hex::encode(text).into_bytes()),
    ]
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|window| window == needle)
}

/// Searches every file and file name under `root`; returns how many bytes were searched.
fn assert_no_secrets_under(root: &Path, secrets: &[&str]) -> usize {
    let mut scanned = 0;
    for path in common::list_files(root) {
        let bytes = fs::read(&path).unwrap();
        scanned += bytes.len();
        let name = path.strip_prefix(root).unwrap().to_string_lossy().into_owned();
        for secret in secrets {
            for (encoding, needle) in encodings(secret) {
                assert!(!contains(&bytes, &needle), "{name} contains {secret:?} in {encoding}");
                assert!(!contains(name.as_bytes(), &needle), "file name {name} contains {secret:?} in {encoding}");
            }
        }
    }
    scanned
}

#[test]
fn store_files_contain_no_names_or_values() {
    let dir = tempfile::tempdir().unwrap();
    let provider = Arc::new(MemoryKeyProvider::with_authentication());
    let store = common::open_store(dir.path(), Arc::clone(&provider) as _);
    for service in SERVICES {
        for (i, (key, value)) in KEYS.iter().zip(VALUES).enumerate() {
            let options = EntryOptions { require_authentication: i == 2, ..common::service(service) };
            store.set(key, format!("old {value}").as_bytes(), &options).unwrap();
            store.set(key, value.as_bytes(), &options).unwrap();
        }
        let options = common::service(service);
        store.set("deleted.key.INDIA", b"deleted value JULIET", &options).unwrap();
        store.delete("deleted.key.INDIA", &options).unwrap();
    }
    // A write killed before its rename leaves a temporary file. The crash test kills real
    // writers; here a copy of an entry file stands in for such a leftover.
    let service_dir = common::service_dir(dir.path(), SERVICES[0]);
    let entry = common::entry_files(&service_dir).remove(0);
    fs::copy(&entry, service_dir.join(".tmp-00112233aabbccdd")).unwrap();

    let mut secrets: Vec<&str> = KEYS.to_vec();
    secrets.extend(VALUES);
    secrets.extend(["deleted.key.INDIA", "deleted value JULIET", "ALPHA42", "秘密", "FOXTROT"]);
    let scanned = assert_no_secrets_under(dir.path(), &secrets);
    let files = common::list_files(dir.path()).len();

    // Service names are not secret, but they do not name anything on disk either.
    for path in common::list_files(dir.path()) {
        let name = path.to_string_lossy().into_owned();
        assert!(!SERVICES.iter().any(|s| name.contains(s)), "{name} names a service");
    }
    eprintln!(
        "no leaks: {files} files, {scanned} bytes searched for {} secrets in UTF-8, UTF-16LE, UTF-16BE and hex: none found",
        secrets.len()
    );
}

#[test]
fn error_messages_never_contain_values() {
    let secret = "s3cr3t-VALUE-never-in-errors";
    let dir = tempfile::tempdir().unwrap();
    let provider = Arc::new(MemoryKeyProvider::new());
    let store = common::open_store(dir.path(), Arc::clone(&provider) as _);
    let options = common::service("leaks.errors");
    let mut errors: Vec<StoreError> = Vec::new();

    let oversize = format!("{secret}{}", "x".repeat(3000));
    errors.push(store.set("token", oversize.as_bytes(), &options).unwrap_err());
    errors.push(store.set("bad key", secret.as_bytes(), &options).unwrap_err());
    let bad_service = EntryOptions { keychain_service: String::new(), ..options.clone() };
    errors.push(store.set("token", secret.as_bytes(), &bad_service).unwrap_err());
    let authenticated = EntryOptions { require_authentication: true, ..options.clone() };
    errors.push(store.set("guarded", secret.as_bytes(), &authenticated).unwrap_err());

    store.set("token", secret.as_bytes(), &options).unwrap();
    let service_dir = common::service_dir(dir.path(), "leaks.errors");
    let entry = common::entry_files(&service_dir).remove(0);
    let mut bytes = fs::read(&entry).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    fs::write(&entry, &bytes).unwrap();
    errors.push(store.get("token", &options).unwrap_err());

    let reopened = common::open_store(dir.path(), Arc::clone(&provider) as _);
    provider.fail_next(ProviderError::Unavailable("keystore busy".to_owned()));
    errors.push(reopened.get("token", &options).unwrap_err());

    fs::remove_file(&entry).unwrap();
    fs::create_dir(&entry).unwrap();
    errors.push(store.get("token", &options).unwrap_err());

    let mut variants = Vec::new();
    for err in &errors {
        let (debug, display) = (format!("{err:?}"), err.to_string());
        for (encoding, needle) in encodings(secret) {
            let needle = String::from_utf8_lossy(&needle).into_owned();
            assert!(!debug.contains(&needle), "Debug of {debug} contains the value in {encoding}");
            assert!(!display.contains(&needle), "Display of {display} contains the value in {encoding}");
        }
        variants.push(debug.split([' ', '{']).next().unwrap().to_owned());
    }
    let listing = format!("{:?}", store.list(&options).unwrap());
    assert!(!listing.contains(secret));
    eprintln!("no leaks: {} errors ({}) checked in Debug and Display: no value", errors.len(), variants.join(", "));
}

#[test]
fn cipher_key_schedules_are_wiped_on_drop() {
    // Every `Aes256Gcm` contains the expanded AES key, from which the key itself follows. The
    // `aes` crate wipes it on drop only with its `zeroize` feature, which this checks at
    // compile time. (GHASH state is wiped by `polyval`'s `zeroize` feature, which has no
    // marker trait to check.)
    fn wiped_on_drop<T: zeroize::ZeroizeOnDrop>() {}
    wiped_on_drop::<aes::Aes256>();
}
