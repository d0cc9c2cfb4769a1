//! Heap use per operation, at 10 and at 10,000 entries.
//!
//! A counting global allocator records every allocation of the process. Each operation
//! (`get` from the store's cache of entry files, `get` from disk with that cache turned off,
//! and `set`) runs 200 times on a warm store, 20 when run as a test. The bench prints, per
//! operation, the number of allocations, the bytes allocated, and the bytes still allocated
//! after all of them (zero means nothing is retained). If per-operation memory grew with the
//! store, the two entry counts would differ. Output is a Markdown table on stdout.

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use common::BenchStore;

struct CountingAllocator;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);
static ALLOCATED_BYTES: AtomicU64 = AtomicU64::new(0);
static FREED_BYTES: AtomicU64 = AtomicU64::new(0);

// SAFETY: every call is forwarded unchanged to the system allocator; the counters are
// only statistics.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Relaxed);
        ALLOCATED_BYTES.fetch_add(layout.size() as u64, Relaxed);
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Relaxed);
        ALLOCATED_BYTES.fetch_add(layout.size() as u64, Relaxed);
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        FREED_BYTES.fetch_add(layout.size() as u64, Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // A reallocation counts as freeing the old block and allocating the new one.
        ALLOCATIONS.fetch_add(1, Relaxed);
        ALLOCATED_BYTES.fetch_add(new_size as u64, Relaxed);
        FREED_BYTES.fetch_add(layout.size() as u64, Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: CountingAllocator = CountingAllocator;


struct Usage {
    allocations: f64,
    bytes: f64,
    retained: i64,
}

/// Runs `operation` `operations` times on this thread, with no other thread running.
fn measure(operations: u64, mut operation: impl FnMut()) -> Usage {
    for _ in 0..10 {
        operation();
    }
    let (allocations, allocated, freed) =
        (ALLOCATIONS.load(Relaxed), ALLOCATED_BYTES.load(Relaxed), FREED_BYTES.load(Relaxed));
    for _ in 0..operations {
        operation();
    }
    let allocated_delta = ALLOCATED_BYTES.load(Relaxed) - allocated;
    let freed_delta = FREED_BYTES.load(Relaxed) - freed;
    Usage {
        allocations: (ALLOCATIONS.load(Relaxed) - allocations) as f64 / operations as f64,
        bytes: allocated_delta as f64 / operations as f64,
        retained: allocated_delta as i64 - freed_delta as i64,
    }
}

fn main() {
    // Run as a test (`cargo test --benches`), smaller stores keep the test suite fast.
    let (small, large, operations) = if common::is_bench_run() { (10, 10_000, 200) } else { (10, 100, 20) };
    let options = common::options();
    println!("| operation | entries | allocations per operation | bytes allocated per operation | bytes retained after {operations} operations |");
    println!("|---|---:|---:|---:|---:|");
    for entries in [small, large] {
        let bench = BenchStore::filled(entries);
        for size in [32, 2048] {
            let key = common::measured_key(size);
            let value = common::value(size);
            let label = if size >= 1024 { format!("{} KiB", size / 1024) } else { format!("{size} B") };
            let get = measure(operations, || {
                black_box(bench.store.get(&key, &options).expect("get").expect("present"));
            });
            let get_from_disk = measure(operations, || {
                black_box(bench.uncached.get(&key, &options).expect("get").expect("present"));
            });
            let set = measure(operations, || bench.store.set(&key, &value, &options).expect("set"));
            for (name, usage) in [("get", get), ("get from disk", get_from_disk), ("set", set)] {
                println!(
                    "| {name} {label} | {entries} | {:.1} | {:.0} | {} |",
                    usage.allocations, usage.bytes, usage.retained
                );
            }
        }
    }
    if let Ok(status) = std::fs::read_to_string("/proc/self/status") {
        if let Some(line) = status.lines().find(|line| line.starts_with("VmHWM")) {
            println!("\nPeak resident set size of the whole bench process: {}", line.trim_start_matches("VmHWM:").trim());
        }
    }
}
