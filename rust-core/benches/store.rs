//! Latency of the store's operations next to the least the same work can cost.
//!
//! Every store here is a real file-backed store on disk (see `common::bench_root`), with
//! root keys wrapped by `MemoryKeyProvider`, so no JNI or platform key store is involved.
//! Groups, with criterion's ids `group/case/entries`:
//!
//! - `get`, `set`: one value of 32 B, 2 KiB or 64 KiB in a warm store (root key already
//!   unwrapped) of 10, 1,000 or 10,000 entries. `set` overwrites that value durably. `get`
//!   finds the entry file in the store's cache of files already read.
//! - `get_from_disk`: the same `get` on a store with that cache turned off, so it reads the
//!   entry file every time.
//! - `floor_read_open`: read one file as large as the entry file, then one AES-256-GCM open
//!   of a value of the same size. A `get` cannot do less.
//! - `floor_durable_write`: write a temporary file as large as the entry file, fsync it,
//!   rename it over the target, fsync the directory. A durable `set` cannot do less.
//! - `open_first_get`: open the store with an empty key cache, as a new process does, and
//!   read one 32-byte value (this unwraps and derives the service keys once).
//! - `list`, `delete_service`: the whole service at each entry count.
//!
//! After the `set` groups, `set` and its floor also run in alternation, one operation of
//! each at a time (see `paired_set_and_floor`), because fsync times drift too much between
//! two criterion groups for their ratio alone to be trusted.
//!
//! The defaults keep the whole run to a few minutes on 2 cores; criterion's own options
//! (`--measurement-time`, `--sample-size`) after `--` override them. Run as a test
//! (`cargo test --benches`), each benchmark runs once on stores of at most 100 entries.

mod common;

use std::fs::{self, File, OpenOptions};
use std::hint::black_box;
use std::io::Write;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, SamplingMode};
use securestore::backend::files::FileBackend;
use securestore::crypto::{self, SecretKey};
use securestore::store::Store;
use securestore::testing::MemoryKeyProvider;

use common::{BenchStore, VALUE_SIZES};

const FLOOR_AAD: &[u8] = b"floor";

fn size_label(size: usize) -> String {
    if size >= 1024 {
        format!("{}KiB", size / 1024)
    } else {
        format!("{size}B")
    }
}

/// Writes `bytes` to `dir/name` with the fewest steps that survive a crash.
fn durable_write(dir: &Path, name: &str, bytes: &[u8]) {
    let temp = dir.join(".tmp-floor");
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(&temp).expect("create the temporary file");
    file.write_all(bytes).expect("write");
    file.sync_all().expect("fsync the file");
    drop(file);
    fs::rename(&temp, dir.join(name)).expect("rename");
    File::open(dir).and_then(|d| d.sync_all()).expect("fsync the directory");
}

/// Measures each size's floor right before the operations of that size, so that a change
/// in the machine's load during the run affects both sides of a ratio alike.
fn bench_get(c: &mut Criterion, stores: &[(usize, BenchStore)]) {
    let dir = common::temp_dir("floor-");
    let cipher = SecretKey::generate().expect("generate a key").cipher();
    let options = common::options();
    for size in VALUE_SIZES {
        // The file is as large as the entry file and ends with the sealed value, so one read
        // and one open cover the same bytes that a `get` of this size reads and decrypts.
        let sealed = crypto::seal(&cipher, FLOOR_AAD, &common::value(size)).expect("seal");
        let file_len = common::entry_file_len(&common::measured_key(size), size);
        let mut bytes = vec![0u8; file_len - sealed.len()];
        bytes.extend_from_slice(&sealed);
        let path = dir.path().join(format!("read-{size}"));
        fs::write(&path, &bytes).expect("write the floor file");
        let sealed_start = file_len - sealed.len();
        let mut group = c.benchmark_group("floor_read_open");
        group.bench_function(size_label(size), |b| {
            b.iter(|| {
                let bytes = fs::read(&path).expect("read the floor file");
                black_box(crypto::open(&cipher, FLOOR_AAD, &bytes[sealed_start..]).expect("open"))
            })
        });
        group.finish();

        let key = common::measured_key(size);
        let mut group = c.benchmark_group("get_from_disk");
        for (entries, bench) in stores {
            group.bench_function(BenchmarkId::new(size_label(size), entries), |b| {
                b.iter(|| black_box(bench.uncached.get(&key, &options).expect("get").expect("present")))
            });
        }
        group.finish();

        let mut group = c.benchmark_group("get");
        for (entries, bench) in stores {
            group.bench_function(BenchmarkId::new(size_label(size), entries), |b| {
                b.iter(|| black_box(bench.store.get(&key, &options).expect("get").expect("present")))
            });
        }
        group.finish();
    }
}

fn bench_set(c: &mut Criterion, stores: &[(usize, BenchStore)]) {
    let dir = common::temp_dir("floor-");
    let options = common::options();
    for size in VALUE_SIZES {
        let bytes = vec![7u8; common::entry_file_len(&common::measured_key(size), size)];
        let mut group = c.benchmark_group("floor_durable_write");
        group.bench_function(size_label(size), |b| b.iter(|| durable_write(dir.path(), "floor", &bytes)));
        group.finish();

        let key = common::measured_key(size);
        let value = common::value(size);
        let mut group = c.benchmark_group("set");
        for (entries, bench) in stores {
            group.bench_function(BenchmarkId::new(size_label(size), entries), |b| {
                b.iter(|| bench.store.set(&key, &value, &options).expect("set"))
            });
        }
        group.finish();
    }
}

/// Measures `set` and its floor in alternation, pair by pair, and reports the medians.
///
/// fsync times on a shared disk drift by several times within a minute, so criterion's
/// `set` and `floor_durable_write` groups, measured seconds apart, can disagree by more
/// than the difference between them. Alternating single operations exposes both to the
/// same disk. The result goes to stderr and, as JSON, to the file named by
/// `SECURESTORE_BENCH_PAIRED_OUT` if that is set.
fn paired_set_and_floor(stores: &[(usize, BenchStore)]) {
    let pairs = if common::is_bench_run() { 50 } else { 2 };
    let dir = common::temp_dir("paired-");
    let options = common::options();
    let mut rows = Vec::new();
    for size in VALUE_SIZES {
        let key = common::measured_key(size);
        let value = common::value(size);
        let floor_bytes = vec![7u8; common::entry_file_len(&key, size)];
        for (entries, bench) in stores {
            let (mut sets, mut floors) = (Vec::with_capacity(pairs), Vec::with_capacity(pairs));
            for _ in 0..pairs {
                let start = Instant::now();
                durable_write(dir.path(), "floor", &floor_bytes);
                floors.push(start.elapsed());
                let start = Instant::now();
                bench.store.set(&key, &value, &options).expect("set");
                sets.push(start.elapsed());
            }
            let (set, floor) = (median(&mut sets), median(&mut floors));
            eprintln!(
                "paired set/{}/{entries}: set {set:?}, floor {floor:?}, set / floor {:.2}",
                size_label(size),
                set.as_secs_f64() / floor.as_secs_f64()
            );
            rows.push(format!(
                "{{\"size\": \"{}\", \"entries\": {entries}, \"pairs\": {pairs}, \"set_ns\": {}, \"floor_ns\": {}}}",
                size_label(size),
                set.as_nanos(),
                floor.as_nanos()
            ));
        }
    }
    if let Some(path) = std::env::var_os("SECURESTORE_BENCH_PAIRED_OUT") {
        fs::write(path, format!("[\n{}\n]\n", rows.join(",\n"))).expect("write the paired results");
    }
}

fn median(samples: &mut [Duration]) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn bench_open(c: &mut Criterion, stores: &[(usize, BenchStore)]) {
    let options = common::options();
    let key = common::measured_key(32);
    let mut group = c.benchmark_group("open_first_get");
    for (entries, bench) in stores {
        group.bench_function(BenchmarkId::new("32B", entries), |b| {
            b.iter(|| {
                let store = bench.reopen();
                black_box(store.get(&key, &options).expect("get").expect("present"))
            })
        });
    }
    group.finish();
}

fn bench_whole_service(c: &mut Criterion, stores: &[(usize, BenchStore)]) {
    let options = common::options();
    let mut group = c.benchmark_group("list");
    group.sampling_mode(SamplingMode::Flat).sample_size(10);
    for (entries, bench) in stores {
        group.bench_function(BenchmarkId::new("keys", entries), |b| {
            b.iter(|| {
                let listing = bench.store.list(&options).expect("list");
                assert_eq!(listing.keys.len(), *entries);
                black_box(listing)
            })
        });
    }
    group.finish();

    let mut group = c.benchmark_group("delete_service");
    group.sampling_mode(SamplingMode::Flat).sample_size(10);
    for (entries, bench) in stores {
        group.bench_function(BenchmarkId::new("all", entries), |b| {
            b.iter_custom(|iterations| {
                let mut total = Duration::ZERO;
                for _ in 0..iterations {
                    // Each iteration deletes a fresh copy whose files are already on disk.
                    let copy = common::temp_dir("delete-");
                    copy_tree(bench.dir.path(), copy.path());
                    sync_filesystem(copy.path());
                    // A provider of its own, so deleting the copy's platform keys leaves the
                    // original store readable.
                    let backend = FileBackend::open(copy.path(), Arc::new(MemoryKeyProvider::new())).expect("open");
                    let store = Store::new(Arc::new(backend), common::MAX_VALUE_BYTES).expect("configure");
                    let start = Instant::now();
                    store.delete_service(&options).expect("delete the service");
                    total += start.elapsed();
                }
                total
            })
        });
    }
    group.finish();
}

fn copy_tree(from: &Path, to: &Path) {
    for entry in fs::read_dir(from).expect("read the store directory") {
        let entry = entry.expect("read a directory entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("file type").is_dir() {
            fs::create_dir(&target).expect("create a directory");
            copy_tree(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), &target).expect("copy a file");
        }
    }
}

/// Writes every dirty page of the filesystem holding `path` to disk.
fn sync_filesystem(path: &Path) {
    use std::os::fd::AsRawFd;
    let dir = File::open(path).expect("open the directory");
    // SAFETY: syncfs only reads the descriptor, which `dir` keeps open for the call.
    let result = unsafe { libc::syncfs(dir.as_raw_fd()) };
    assert_eq!(result, 0, "syncfs failed: {}", std::io::Error::last_os_error());
}

fn bench_all(c: &mut Criterion) {
    let started = Instant::now();
    let counts = common::entry_counts();
    let stores: Vec<(usize, BenchStore)> =
        counts.iter().map(|&entries| (entries, BenchStore::filled(entries))).collect();
    eprintln!("filled stores of {counts:?} entries in {:.1} s", started.elapsed().as_secs_f64());
    bench_get(c, &stores);
    bench_set(c, &stores);
    paired_set_and_floor(&stores);
    bench_open(c, &stores);
    bench_whole_service(c, &stores);
}

fn config() -> Criterion {
    Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3))
        .without_plots()
}

criterion_group! {
    name = benches;
    config = config();
    targets = bench_all
}
criterion_main!(benches);
