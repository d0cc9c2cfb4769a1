//! Writes arbitrary bytes over a file of a real store and reads through the store.
//!
//! The first input byte picks the file (bits 0-1): the entry of a plain key, the entry of an
//! authenticated key, the service's root key file, or a new file under an entry name. With
//! bit 2 clear, the rest of the input is the file's new content. With bit 2 set, it is a
//! list of edits to the file's valid content, 3 bytes each: a big-endian offset and a byte
//! to XOR there, where XOR 0 cuts the file at that offset.
//!
//! Reads and listings must never panic. A changed entry must raise `IntegrityFailure`, a
//! changed root key file must read as a lost key (`None`), and no read may return a value
//! other than the one written.

#![no_main]

use std::fs;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use libfuzzer_sys::fuzz_target;
use securestore::backend::files::FileBackend;
use securestore::store::{EntryOptions, Store};
use securestore::testing::MemoryKeyProvider;
use securestore::StoreError;

const SERVICE: &str = "fuzz.service";
const PLAIN_VALUE: &[u8] = b"the plain value";
const GUARDED_VALUE: &[u8] = b"the guarded value";

struct Fixture {
    dir: tempfile::TempDir,
    provider: Arc<MemoryKeyProvider>,
    store: Store,
    plain: EntryOptions,
    guarded: EntryOptions,
    files: [(PathBuf, Vec<u8>); 3],
    stray: PathBuf,
}

fn entry_files(dir: &std::path::Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with("e-"))
        .collect();
    files.sort();
    files
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        // A memory file system where there is one: every run rewrites a file twice.
        let shm = std::path::Path::new("/dev/shm");
        let dir = if shm.is_dir() { tempfile::tempdir_in(shm) } else { tempfile::tempdir() }.unwrap();
        let provider = Arc::new(MemoryKeyProvider::with_authentication());
        // Files are changed behind the store's back, which its cache of entry files would
        // not notice until the next write, so this store reads every file from disk.
        let backend = FileBackend::open(dir.path(), Arc::clone(&provider) as _).unwrap().without_read_cache();
        let store = Store::new(Arc::new(backend), 2048).unwrap();
        let plain = EntryOptions::for_service(SERVICE);
        let guarded = EntryOptions { require_authentication: true, ..plain.clone() };
        store.set("plain", PLAIN_VALUE, &plain).unwrap();
        let service_dir = fs::read_dir(dir.path()).unwrap().next().unwrap().unwrap().path();
        let plain_path = entry_files(&service_dir).remove(0);
        store.set("guarded", GUARDED_VALUE, &guarded).unwrap();
        let guarded_path = entry_files(&service_dir).into_iter().find(|p| *p != plain_path).unwrap();
        let root_path = service_dir.join("root.key");
        let read = |p: &PathBuf| (p.clone(), fs::read(p).unwrap());
        let files = [read(&plain_path), read(&guarded_path), read(&root_path)];
        let stray = service_dir.join(format!("e-{}", "ab".repeat(32)));
        Fixture { dir, provider, store, plain, guarded, files, stray }
    })
}

fn edit(original: &[u8], edits: &[u8]) -> Vec<u8> {
    let mut bytes = original.to_vec();
    for chunk in edits.chunks_exact(3) {
        let offset = usize::from(u16::from_be_bytes([chunk[0], chunk[1]]));
        match chunk[2] {
            0 => bytes.truncate(offset),
            x if !bytes.is_empty() => {
                let len = bytes.len();
                bytes[offset % len] ^= x;
            }
            _ => {}
        }
    }
    bytes
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, content)) = data.split_first() else {
        return;
    };
    let setup = fixture();
    let target = usize::from(selector % 4);
    let path = if target == 3 { &setup.stray } else { &setup.files[target].0 };
    let content = if selector & 4 == 0 {
        content.to_vec()
    } else {
        let original = if target == 3 { &setup.files[0].1 } else { &setup.files[target].1 };
        edit(original, content)
    };
    let content = content.as_slice();
    fs::write(path, content).unwrap();

    // Reads compare the root key file's metadata with the file their cached key came from,
    // so a same-size rewrite in place can go unnoticed until the next write. A new store,
    // with nothing cached, reads a changed root key file.
    let fresh;
    let store = if target == 2 {
        let backend = FileBackend::open(setup.dir.path(), Arc::clone(&setup.provider) as _).unwrap();
        fresh = Store::new(Arc::new(backend), 2048).unwrap();
        &fresh
    } else {
        &setup.store
    };
    let plain = store.get("plain", &setup.plain);
    let guarded = store.get("guarded", &setup.guarded);
    let listing = store.list(&setup.plain).expect("listing never fails on file content");
    let changed = |i: usize| target == i && content != setup.files[i].1.as_slice();
    let check = |result: &Result<Option<zeroize::Zeroizing<Vec<u8>>>, StoreError>, i: usize, value: &[u8]| {
        if changed(2) {
            assert!(matches!(result, Ok(None)), "a changed root key file reads as lost: {result:?}");
        } else if changed(i) {
            assert!(matches!(result, Err(StoreError::IntegrityFailure { .. })), "a changed entry fails: {result:?}");
        } else {
            assert_eq!(result.as_ref().unwrap().as_ref().unwrap().as_slice(), value);
        }
    };
    check(&plain, 0, PLAIN_VALUE);
    check(&guarded, 1, GUARDED_VALUE);
    assert!(listing.keys.len() <= 2);

    if target == 3 {
        fs::remove_file(&setup.stray).unwrap();
    } else {
        fs::write(path, &setup.files[target].1).unwrap();
    }
});
