//! The cost of `Store::set` next to a bare durable write of the same number of bytes: write
//! a temporary file, fsync it, rename it over the target, fsync the directory. No write that
//! survives a crash can cost less. Samples alternate between the two, and the medians are
//! compared.
//!
//! The budget is 1.3 times a bare durable write. It is checked only in an optimized build,
//! `cargo test -p securestore-core --profile bench --test write_cost`, because unoptimized
//! AES-GCM adds about half a millisecond per write (measured on the Linux x86_64 build
//! machine), which is as much as an fsync on a fast disk. A test build prints the figures.
//!
//! Settings: `SECURESTORE_WRITE_SAMPLES` (default 150, 1000 with `SECURESTORE_FULL=1`).

mod common;

use std::time::{Duration, Instant};

use securestore::fsutil;

fn median(samples: &mut [Duration]) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

#[test]
fn set_costs_about_one_durable_write() {
    let samples = common::count("SECURESTORE_WRITE_SAMPLES", 150, 1000);
    let dir = tempfile::tempdir().unwrap();
    let store = common::open_seeded_store(&dir.path().join("store"));
    let bare_dir = dir.path().join("bare");
    std::fs::create_dir(&bare_dir).unwrap();
    let options = common::service("write.cost");
    let value = vec![b'v'; 256];
    store.set("token", &value, &options).unwrap();
    let service_dir = common::service_dir(&dir.path().join("store"), "write.cost");
    let entry_len = std::fs::read(common::entry_files(&service_dir).remove(0)).unwrap().len();
    let bare_bytes = vec![b'b'; entry_len];

    let (mut bare, mut set) = (Vec::new(), Vec::new());
    for _ in 0..samples {
        let start = Instant::now();
        fsutil::write_atomic(&bare_dir, "entry", &bare_bytes).unwrap();
        bare.push(start.elapsed());
        let start = Instant::now();
        store.set("token", &value, &options).unwrap();
        set.push(start.elapsed());
    }
    let (bare, set) = (median(&mut bare), median(&mut set));
    let ratio = set.as_secs_f64() / bare.as_secs_f64();
    let optimized = !cfg!(debug_assertions);
    eprintln!(
        "write cost: {samples} samples of a {entry_len}-byte entry (256-byte value): median bare durable write \
         {:.0} us, median Store::set {:.0} us, ratio {ratio:.2} ({})",
        bare.as_secs_f64() * 1e6,
        set.as_secs_f64() * 1e6,
        if optimized { "optimized build" } else { "unoptimized test build, budget not checked" },
    );
    if optimized {
        assert!(ratio < 1.3, "Store::set costs {ratio:.2} times a bare durable write; the budget is 1.3");
    }
}
