//! Fixtures shared by the benchmarks: stores filled with a given number of entries, in a
//! directory on the disk the results are meant for.

#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::Arc;
use std::thread;

use securestore::backend::files::FileBackend;
use securestore::crypto::{NONCE_LEN, TAG_LEN};
use securestore::envelope;
use securestore::store::{EntryOptions, Store};
use securestore::testing::MemoryKeyProvider;

/// The value sizes measured, in bytes: a short token, the default limit, a large value.
pub const VALUE_SIZES: [usize; 3] = [32, 2048, 64 * 1024];

/// The store sizes measured, in entries.
pub const ENTRY_COUNTS: [usize; 3] = [10, 1_000, 10_000];

/// The store sizes used when the benches run as tests (`cargo test --all-targets`, which
/// runs each benchmark once): small, so the test suite does not spend a minute filling
/// stores.
pub const TEST_ENTRY_COUNTS: [usize; 3] = [10, 20, 100];

/// Returns whether this is a benchmark run (`cargo bench` passes `--bench`) rather than
/// a test run of the benchmark code.
pub fn is_bench_run() -> bool {
    std::env::args().any(|arg| arg == "--bench")
}

/// Returns the store sizes to measure: [`ENTRY_COUNTS`] in a benchmark run, else
/// [`TEST_ENTRY_COUNTS`].
pub fn entry_counts() -> [usize; 3] {
    if is_bench_run() {
        ENTRY_COUNTS
    } else {
        TEST_ENTRY_COUNTS
    }
}

/// The value limit of the stores under test, so that 64 KiB values fit.
pub const MAX_VALUE_BYTES: u64 = 64 * 1024;

/// The service every benchmark uses.
pub const SERVICE: &str = "bench.service";

/// Writers that fill a store at once. Durable writes mostly wait for the disk, and
/// concurrent fsyncs share journal commits, so filling 10,000 entries takes seconds
/// instead of minutes.
const FILL_THREADS: usize = 16;

/// Returns the directory under which benchmarks create their temporary stores:
/// `SECURESTORE_BENCH_DIR` if set, else `target/bench-tmp` of the workspace. fsync costs
/// depend on the filesystem, so this must be on the disk being measured, not a tmpfs.
pub fn bench_root() -> PathBuf {
    let root = std::env::var_os("SECURESTORE_BENCH_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/bench-tmp"));
    std::fs::create_dir_all(&root).expect("create the benchmark directory");
    root
}

/// Creates a temporary directory under [`bench_root`], removed when dropped.
pub fn temp_dir(prefix: &str) -> tempfile::TempDir {
    tempfile::Builder::new().prefix(prefix).tempdir_in(bench_root()).expect("create a temporary directory")
}

/// Returns the options of [`SERVICE`].
pub fn options() -> EntryOptions {
    EntryOptions::for_service(SERVICE)
}

/// Returns the key of the entry whose value has `size` bytes.
pub fn measured_key(size: usize) -> String {
    format!("measured-{size}")
}

/// Returns a value of `size` bytes.
pub fn value(size: usize) -> Vec<u8> {
    (0..size).map(|i| b'a' + (i % 26) as u8).collect()
}

/// Returns the size of the entry file that holds a value of `value_len` bytes under `key`:
/// the header, the sealed key name with its length, and the sealed value.
pub fn entry_file_len(key: &str, value_len: usize) -> usize {
    let header = envelope::entry_header(&[0; securestore::crypto::KEY_ID_LEN], None).len();
    header + 2 + (NONCE_LEN + key.len() + TAG_LEN) + (NONCE_LEN + value_len + TAG_LEN)
}

/// A store over a fresh directory, with the provider that wraps its root keys.
pub struct BenchStore {
    pub dir: tempfile::TempDir,
    pub provider: Arc<MemoryKeyProvider>,
    pub store: Store,
    /// The same directory opened with the cache of entry files turned off, so that every
    /// `get` reads its file from disk.
    pub uncached: Store,
}

impl BenchStore {
    /// Creates an empty store.
    pub fn new() -> Self {
        let dir = temp_dir("store-");
        let provider = Arc::new(MemoryKeyProvider::new());
        let store = open(&dir, &provider);
        let backend = FileBackend::open(dir.path(), provider.clone()).expect("open the store").without_read_cache();
        let uncached = Store::new(Arc::new(backend), MAX_VALUE_BYTES).expect("configure the store");
        BenchStore { dir, provider, store, uncached }
    }

    /// Creates a store with `entries` entries in total: one measured entry per size in
    /// [`VALUE_SIZES`] and 32-byte values under the other keys.
    pub fn filled(entries: usize) -> Self {
        let bench = Self::new();
        for size in VALUE_SIZES {
            bench.store.set(&measured_key(size), &value(size), &options()).expect("write a measured entry");
        }
        bench.fill_background(entries.saturating_sub(VALUE_SIZES.len()));
        bench
    }

    /// Writes `count` entries of 32 bytes under keys `entry-<n>`, from several threads.
    pub fn fill_background(&self, count: usize) {
        let options = options();
        let value = value(32);
        thread::scope(|scope| {
            for thread_index in 0..FILL_THREADS {
                let (store, options, value) = (&self.store, &options, &value);
                scope.spawn(move || {
                    for n in (thread_index..count).step_by(FILL_THREADS) {
                        store.set(&format!("entry-{n}"), value, options).expect("write a background entry");
                    }
                });
            }
        });
    }

    /// Opens the same directory again with an empty key cache, as a new process would.
    pub fn reopen(&self) -> Store {
        open(&self.dir, &self.provider)
    }
}

fn open(dir: &tempfile::TempDir, provider: &Arc<MemoryKeyProvider>) -> Store {
    let backend = FileBackend::open(dir.path(), provider.clone()).expect("open the store");
    Store::new(Arc::new(backend), MAX_VALUE_BYTES).expect("configure the store")
}
