//! A short fuzz-like run of the envelope decoder and of reads from disk, so that every
//! `cargo test` exercises them on random input. The cargo-fuzz targets in `fuzz/` do the
//! same at length (see scripts/fuzz.sh).
//!
//! Settings: `PROPTEST_CASES` (cases per test, default 256 here, 4096 with
//! `SECURESTORE_FULL=1`).

mod common;

use std::cell::Cell;
use std::fs;
use std::sync::Arc;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

use securestore::backend::files::FileBackend;
use securestore::envelope;
use securestore::store::Store;
use securestore::testing::MemoryKeyProvider;
use securestore::StoreError;

fn cases() -> u32 {
    common::count("PROPTEST_CASES", 256, 4096) as u32
}

fn config() -> Config {
    // Failures are reported with the input and seed in the panic message; nothing is
    // written next to the source.
    Config { cases: cases(), failure_persistence: None, ..Config::default() }
}

/// Random bytes, some behind a valid-looking prefix, and encoder output with random fields,
/// some of it with one byte changed, so that the parser gets past its first checks.
fn envelope_like() -> impl Strategy<Value = Vec<u8>> {
    let prefixes = prop_oneof![
        Just(Vec::new()),
        Just(b"SSTE\x01\x00".to_vec()),
        Just(b"SSTE\x01\x01".to_vec()),
        Just(b"SSTK\x01".to_vec()),
    ];
    let random = (prefixes, prop::collection::vec(any::<u8>(), 0..200)).prop_map(|(prefix, tail)| [prefix, tail].concat());
    let bytes = |max| prop::collection::vec(any::<u8>(), 0..max);
    let entry = (any::<[u8; 16]>(), prop::option::of(bytes(40)), bytes(60), bytes(60)).prop_map(|(id, wrapped, name, value)| {
        let header = envelope::entry_header(&id, wrapped.as_deref());
        envelope::encode_entry(&header, &name, &value)
    });
    let root_key = (any::<[u8; 16]>(), bytes(80)).prop_map(|(id, wrapped)| envelope::encode_root_key(&id, &wrapped));
    let encoded = prop_oneof![entry, root_key];
    let changed = (encoded.clone(), any::<usize>(), any::<u8>()).prop_map(|(mut bytes, i, x)| {
        let len = bytes.len();
        bytes[i % len] ^= x;
        bytes
    });
    prop_oneof![random, encoded, changed]
}

#[test]
fn decoder_accepts_only_canonical_input() {
    let mut runner = TestRunner::new(config());
    let parsed = (Cell::new(0u32), Cell::new(0u32));
    runner
        .run(&envelope_like(), |bytes| {
            if let Ok(entry) = envelope::parse_entry(&bytes) {
                parsed.0.set(parsed.0.get() + 1);
                // Whatever parses is exactly what the encoder would write.
                let header = envelope::entry_header(&entry.key_id, entry.wrapped_data_key);
                prop_assert_eq!(entry.header, header.as_slice());
                prop_assert_eq!(envelope::encode_entry(entry.header, entry.sealed_name, entry.sealed_value), bytes.clone());
            }
            if let Ok(root) = envelope::parse_root_key(&bytes) {
                parsed.1.set(parsed.1.get() + 1);
                prop_assert_eq!(envelope::encode_root_key(&root.key_id, root.wrapped), bytes);
            }
            Ok(())
        })
        .unwrap();
    eprintln!("decoder: {} random inputs, {} parsed as entries and {} as root keys, all canonical", cases(), parsed.0.get(), parsed.1.get());
}

/// A change to a valid entry file: bytes flipped, cut off, inserted or appended.
#[derive(Debug, Clone)]
enum Mutation {
    Xor(usize, u8),
    Truncate(usize),
    Insert(usize, Vec<u8>),
    Append(Vec<u8>),
}

fn mutations() -> impl Strategy<Value = Vec<Mutation>> {
    let single = prop_oneof![
        (any::<usize>(), 1..=255u8).prop_map(|(i, x)| Mutation::Xor(i, x)),
        any::<usize>().prop_map(Mutation::Truncate),
        (any::<usize>(), prop::collection::vec(any::<u8>(), 1..8)).prop_map(|(i, b)| Mutation::Insert(i, b)),
        prop::collection::vec(any::<u8>(), 1..8).prop_map(Mutation::Append),
    ];
    prop::collection::vec(single, 1..4)
}

fn apply(original: &[u8], mutations: &[Mutation]) -> Vec<u8> {
    let mut bytes = original.to_vec();
    for mutation in mutations {
        match mutation {
            Mutation::Xor(i, x) if !bytes.is_empty() => {
                let len = bytes.len();
                bytes[i % len] ^= x;
            }
            Mutation::Truncate(len) => bytes.truncate(len % (original.len() + 1)),
            Mutation::Insert(i, extra) => {
                let at = i % (bytes.len() + 1);
                bytes.splice(at..at, extra.iter().copied());
            }
            Mutation::Append(extra) => bytes.extend_from_slice(extra),
            Mutation::Xor(..) => {}
        }
    }
    bytes
}

#[test]
fn mutated_entry_files_never_read_as_values() {
    let dir = tempfile::tempdir().unwrap();
    // Files are changed behind the store's back, which its cache of entry files would not
    // notice until the next write, so this store reads every file from disk.
    let backend = FileBackend::open(dir.path(), Arc::new(MemoryKeyProvider::with_authentication())).unwrap();
    let store = Store::new(Arc::new(backend.without_read_cache()), 2048).unwrap();
    let plain = common::service("proptest");
    let authenticated = securestore::EntryOptions { require_authentication: true, ..plain.clone() };
    let service_dir = common::service_dir(dir.path(), "proptest");
    store.set("plain", b"the plain value", &plain).unwrap();
    let plain_path = common::entry_files(&service_dir).remove(0);
    store.set("guarded", b"the guarded value", &authenticated).unwrap();
    let guarded_path = common::entry_files(&service_dir).into_iter().find(|p| *p != plain_path).unwrap();

    let targets = [
        ("plain", plain, plain_path.clone(), fs::read(&plain_path).unwrap(), b"the plain value".to_vec()),
        ("guarded", authenticated, guarded_path.clone(), fs::read(&guarded_path).unwrap(), b"the guarded value".to_vec()),
    ];
    let mut runner = TestRunner::new(config());
    let unchanged = Cell::new(0u32);
    runner
        .run(&(0..targets.len(), mutations()), |(target, mutations)| {
            let (key, options, path, original, value) = &targets[target];
            let bytes = apply(original, &mutations);
            fs::write(path, &bytes).unwrap();
            let result = store.get(key, options);
            if bytes == *original {
                unchanged.set(unchanged.get() + 1);
                let read = result.unwrap().unwrap();
                prop_assert_eq!(read.as_slice(), value.as_slice());
            } else {
                prop_assert!(matches!(result, Err(StoreError::IntegrityFailure { .. })), "{:?}", result);
            }
            let listing = store.list(options).unwrap();
            prop_assert!(listing.unreadable_entries <= 1);
            fs::write(path, original).unwrap();
            Ok(())
        })
        .unwrap();
    eprintln!(
        "decoder: {} mutated entry files read through the store: every changed file raised IntegrityFailure ({} mutations cancelled out)",
        cases(),
        unchanged.get()
    );
}
