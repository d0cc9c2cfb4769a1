//! Concurrency with threads and real processes on one store directory.
//!
//! - Writers in two child processes and in this process write their own keys and one shared
//!   key while readers in every process read them. A reader must never see an error, an
//!   absent value, a partial value, or a single writer's key going back to an older value.
//!   Afterwards every key contains its last acknowledged value, read through a new store.
//! - Many threads and two processes write to a fresh service at the same moment, so they all
//!   race to create its root key. Exactly one root key must survive, every entry must be
//!   encrypted under it, and every participant must read every other one's value.
//!
//! - Two processes take turns: one changes a key (write, delete, delete the service), the
//!   other reads it right after the change returned, through a store that has read the key
//!   before and cached its file. Every read must return the state the change left.
//!
//! Settings: `SECURESTORE_CONCURRENCY_OPS` (writes per writer, default 150, 2000 with
//! `SECURESTORE_FULL=1`), `SECURESTORE_RACE_ROUNDS` (fresh services raced for, default 15,
//! 150 with `SECURESTORE_FULL=1`).

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Barrier;
use std::time::Instant;

use common::{child_role, child_var, emit, mix, receive, ChildProcess};
use securestore::envelope;
use securestore::store::Store;

const SERVICE: &str = "concurrency.shared";
const OWN_KEYS: u64 = 3;
const SHARED_KEY: &str = "shared";

/// Returns value number `n` of `writer`: `<writer>:<n>:` followed by 0 to 511 letters
/// derived from both, so that a reader can check every byte.
fn value(writer: &str, n: u64) -> Vec<u8> {
    let tag = mix(n ^ writer.bytes().fold(0u64, |h, b| h.wrapping_mul(131).wrapping_add(u64::from(b))));
    let mut bytes = format!("{writer}:{n}:").into_bytes();
    let pad = (tag % 512) as usize;
    bytes.extend((0..pad).map(|i| b'a' + ((tag >> (i % 48)) % 26) as u8));
    bytes
}

/// Checks a value read from the store and returns its writer and number.
fn check_value(key: &str, bytes: &[u8]) -> (String, u64) {
    let text = std::str::from_utf8(bytes).unwrap_or_else(|_| panic!("{key} holds bytes that are not UTF-8"));
    let mut parts = text.splitn(3, ':');
    let writer = parts.next().unwrap().to_owned();
    let n: u64 = parts
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{key} holds a value no writer produced: {} bytes", bytes.len()));
    assert_eq!(bytes, value(&writer, n).as_slice(), "{key} holds a partial or damaged value");
    (writer, n)
}

fn own_key(writer: &str, j: u64) -> String {
    format!("{writer}-k{j}")
}

#[test]
#[ignore = "entry point of the child processes that the other tests start"]
fn child_process() {
    match child_role().as_deref() {
        Some("mixed") => run_mixed_child(),
        Some("racer") => run_racer_child(),
        Some("turns") => run_turns_child(),
        Some(role) => panic!("unknown child role {role}"),
        None => eprintln!("child_process only runs as a child of the concurrency tests"),
    }
}

/// Writes `ops` values: round-robin over the writer's own keys and the shared key. Calls
/// `ack` after each write returned.
fn write_loop(store: &Store, writer: &str, ops: u64, mut ack: impl FnMut(&str, u64)) {
    let options = common::service(SERVICE);
    for n in 1..=ops {
        let key = if n % (OWN_KEYS + 1) == 0 { SHARED_KEY.to_owned() } else { own_key(writer, n % (OWN_KEYS + 1) - 1) };
        store.set(&key, &value(writer, n), &options).unwrap_or_else(|e| panic!("{writer} writing {key}: {e}"));
        ack(&key, n);
    }
}

/// Reads `keys` until `stop` is set. Panics on an error, an absent value, a damaged value,
/// or a key of a single writer going back to an older value. Returns the number of reads.
fn read_loop(store: &Store, keys: &[String], stop: &AtomicBool) -> u64 {
    let options = common::service(SERVICE);
    let mut newest: BTreeMap<&str, u64> = BTreeMap::new();
    let mut reads = 0;
    while !stop.load(Ordering::Relaxed) {
        for key in keys {
            let bytes = match store.get(key, &options) {
                Ok(Some(bytes)) => bytes,
                Ok(None) => panic!("reader saw no value for {key} while it was being overwritten"),
                Err(err) => panic!("reader failed on {key} during writes: {err}"),
            };
            let (_, n) = check_value(key, &bytes);
            reads += 1;
            if key != SHARED_KEY {
                let last = newest.entry(key.as_str()).or_insert(0);
                assert!(n >= *last, "{key} went back from value {last} to {n}");
                *last = n;
            }
        }
    }
    reads
}

/// Child role: one writer thread and one reader thread, started by a `go` line.
fn run_mixed_child() {
    let dir = child_var("SS_DIR");
    let writer = child_var("SS_WRITER");
    let ops: u64 = child_var("SS_OPS").parse().unwrap();
    let all_keys: Vec<String> = child_var("SS_KEYS").split(',').map(str::to_owned).collect();
    let store = common::open_seeded_store(Path::new(&dir));
    emit("READY");
    assert_eq!(receive().as_deref(), Some("go"));
    let stop = AtomicBool::new(false);
    let reads = std::thread::scope(|scope| {
        let reader = scope.spawn(|| read_loop(&store, &all_keys, &stop));
        write_loop(&store, &writer, ops, |key, n| emit(format!("ACK {key} {n}")));
        stop.store(true, Ordering::Relaxed);
        reader.join().expect("reader thread")
    });
    emit(format!("DONE {reads}"));
}

#[test]
fn readers_and_writers_across_processes() {
    let ops = common::count("SECURESTORE_CONCURRENCY_OPS", 150, 2000) as u64;
    let dir = tempfile::tempdir().unwrap();
    let options = common::service(SERVICE);
    let writers = ["proc1", "proc2", "thread1", "thread2"];
    let mut all_keys: Vec<String> = vec![SHARED_KEY.to_owned()];
    for writer in writers {
        all_keys.extend((0..OWN_KEYS).map(|j| own_key(writer, j)));
    }

    // Every key exists before the readers start, so an absent value is always a failure.
    let setup = common::open_seeded_store(dir.path());
    setup.set(SHARED_KEY, &value("setup", 0), &options).unwrap();
    for writer in writers {
        for j in 0..OWN_KEYS {
            setup.set(&own_key(writer, j), &value(writer, 0), &options).unwrap();
        }
    }

    let mut children: Vec<ChildProcess> = writers[..2]
        .iter()
        .map(|writer| {
            ChildProcess::spawn(
                "mixed",
                &[
                    ("SS_DIR", dir.path().display().to_string()),
                    ("SS_WRITER", writer.to_string()),
                    ("SS_OPS", ops.to_string()),
                    ("SS_KEYS", all_keys.join(",")),
                ],
            )
        })
        .collect();
    for child in &mut children {
        child.expect_line("READY");
    }

    let started = Instant::now();
    // Two writer threads share one store; two readers use another store instance each.
    let shared_store = common::open_seeded_store(dir.path());
    let stop = AtomicBool::new(false);
    let reads = AtomicU64::new(0);
    let mut last_written: BTreeMap<(String, String), u64> = BTreeMap::new();
    let mut child_reads = 0u64;
    std::thread::scope(|scope| {
        for child in &mut children {
            child.send("go");
        }
        let thread_writers: Vec<_> = writers[2..]
            .iter()
            .map(|writer| {
                let store = &shared_store;
                scope.spawn(move || {
                    let mut acks = Vec::new();
                    write_loop(store, writer, ops, |key, n| acks.push((key.to_owned(), n)));
                    (writer.to_string(), acks)
                })
            })
            .collect();
        let readers: Vec<_> = (0..2)
            .map(|_| {
                let (keys, stop, reads, dir) = (&all_keys, &stop, &reads, dir.path());
                scope.spawn(move || {
                    let store = common::open_seeded_store(dir);
                    reads.fetch_add(read_loop(&store, keys, stop), Ordering::Relaxed);
                })
            })
            .collect();

        for (writer, child) in writers[..2].iter().zip(children.iter_mut()) {
            loop {
                let line = child.next_line().expect("child output ended early");
                let words: Vec<&str> = line.split(' ').collect();
                match words[0] {
                    "ACK" => {
                        last_written.insert((words[1].to_owned(), writer.to_string()), words[2].parse().unwrap());
                    }
                    "DONE" => {
                        child_reads += words[1].parse::<u64>().unwrap();
                        break;
                    }
                    _ => panic!("child {writer}: {line}"),
                }
            }
        }
        for handle in thread_writers {
            let (writer, acks) = handle.join().expect("writer thread");
            for (key, n) in acks {
                last_written.insert((key, writer.clone()), n);
            }
        }
        stop.store(true, Ordering::Relaxed);
        for handle in readers {
            handle.join().expect("reader thread");
        }
    });
    for child in children {
        child.finish();
    }
    let elapsed = started.elapsed();

    // Every key contains its writer's last acknowledged value, read through a new store.
    let fresh = common::open_seeded_store(dir.path());
    let mut shared_candidates = BTreeSet::new();
    for ((key, writer), n) in &last_written {
        if key == SHARED_KEY {
            shared_candidates.insert(value(writer, *n));
            continue;
        }
        let stored = fresh.get(key, &options).unwrap().expect("acknowledged write is readable");
        assert_eq!(stored.as_slice(), value(writer, *n).as_slice(), "{key} lost its last acknowledged write");
    }
    let shared = fresh.get(SHARED_KEY, &options).unwrap().expect("shared key is readable");
    assert!(shared_candidates.contains(shared.as_slice()), "the shared key holds a value that was not any writer's last");
    let listing = fresh.list(&options).unwrap();
    assert_eq!(listing.keys.len(), all_keys.len());
    assert_eq!(listing.unreadable_entries, 0);

    let writes = ops * writers.len() as u64;
    eprintln!(
        "concurrency: {writes} writes by 2 processes and 2 threads, {} reads by 2 processes and 2 threads \
         in {:.2} s, 0 errors, 0 absent or partial values, 0 values going back",
        reads.load(Ordering::Relaxed) + child_reads,
        elapsed.as_secs_f64(),
    );
}

/// Child role: on each `go <service>` line, `SS_THREADS` threads write their own key
/// (`<SS_NAME>t<i>`) to that service at the same moment. Then it reads the keys of the next
/// `check` line and prints `SEEN <key> <writer> <n>` for each one it finds.
fn run_racer_child() {
    let dir = child_var("SS_DIR");
    let threads: usize = child_var("SS_THREADS").parse().unwrap();
    let name = child_var("SS_NAME");
    while let Some(line) = receive() {
        let Some(service) = line.strip_prefix("go ") else {
            panic!("unexpected line {line:?}");
        };
        let options = common::service(service);
        let stores: Vec<Store> = (0..threads).map(|_| common::open_seeded_store(Path::new(&dir))).collect();
        let barrier = Barrier::new(threads);
        std::thread::scope(|scope| {
            for (t, store) in stores.iter().enumerate() {
                let (barrier, options, name) = (&barrier, &options, &name);
                scope.spawn(move || {
                    let writer = format!("{name}t{t}");
                    barrier.wait();
                    store.set(&writer, &value(&writer, 1), options).expect("first write to a fresh service");
                });
            }
        });
        emit("WROTE");
        let check = receive().expect("check line");
        let keys = check.strip_prefix("check ").expect("check line");
        for key in keys.split(',') {
            match stores[0].get(key, &options) {
                Ok(Some(bytes)) => {
                    let (writer, n) = check_value(key, &bytes);
                    emit(format!("SEEN {key} {writer} {n}"));
                }
                Ok(None) => emit(format!("MISSING {key}")),
                Err(err) => emit(format!("FAILED {key} {err}")),
            }
        }
        emit("CHECKED");
    }
}

#[test]
fn first_root_key_race_keeps_one_key() {
    let rounds = common::count("SECURESTORE_RACE_ROUNDS", 15, 150);
    let threads_per_child = 3;
    let parent_threads = 6;
    let dir = tempfile::tempdir().unwrap();
    let mut children: Vec<ChildProcess> = (0..2)
        .map(|c| {
            ChildProcess::spawn(
                "racer",
                &[
                    ("SS_DIR", dir.path().display().to_string()),
                    ("SS_THREADS", threads_per_child.to_string()),
                    ("SS_NAME", format!("p{c}")),
                ],
            )
        })
        .collect();

    let mut writers: Vec<String> = (0..parent_threads).map(|t| format!("mainT{t}")).collect();
    for c in 0..2 {
        writers.extend((0..threads_per_child).map(|t| format!("p{c}t{t}")));
    }
    let started = Instant::now();
    for round in 0..rounds {
        let service = format!("race.round{round}");
        let options = common::service(&service);
        let stores: Vec<Store> = (0..parent_threads).map(|_| common::open_seeded_store(dir.path())).collect();
        let barrier = Barrier::new(parent_threads);
        std::thread::scope(|scope| {
            for child in &mut children {
                child.send(&format!("go {service}"));
            }
            for (t, store) in stores.iter().enumerate() {
                let (barrier, options) = (&barrier, &options);
                scope.spawn(move || {
                    let writer = format!("mainT{t}");
                    barrier.wait();
                    store.set(&writer, &value(&writer, 1), options).expect("first write to a fresh service");
                });
            }
        });
        for child in &mut children {
            child.expect_line("WROTE");
        }

        // One root key file, and every entry is encrypted under it.
        let service_dir = common::service_dir(dir.path(), &service);
        let root_file = std::fs::read(service_dir.join("root.key")).unwrap();
        let root_id = envelope::parse_root_key(&root_file).unwrap().key_id;
        let entries = common::entry_files(&service_dir);
        assert_eq!(entries.len(), writers.len(), "round {round}: one entry file per writer");
        for entry in &entries {
            let bytes = std::fs::read(entry).unwrap();
            assert_eq!(envelope::parse_entry(&bytes).unwrap().key_id, root_id, "round {round}: entry under another root key");
        }

        // Every participant reads every other participant's value.
        for store in &stores {
            for writer in &writers {
                let bytes = store.get(writer, &options).unwrap_or_else(|e| panic!("round {round}: {writer}: {e}"));
                let bytes = bytes.unwrap_or_else(|| panic!("round {round}: {writer}'s acknowledged write is missing"));
                assert_eq!(check_value(writer, &bytes), (writer.clone(), 1));
            }
        }
        for child in &mut children {
            child.send(&format!("check {}", writers.join(",")));
            let mut seen = 0;
            loop {
                let line = child.next_line().expect("child output ended early");
                if line == "CHECKED" {
                    break;
                }
                assert!(line.starts_with("SEEN "), "round {round}: a child process reported {line}");
                seen += 1;
            }
            assert_eq!(seen, writers.len(), "round {round}: a child process saw every write");
        }
        let listing = stores[0].list(&options).unwrap();
        assert_eq!(listing.keys.len(), writers.len());
        assert_eq!(listing.unreadable_entries, 0);
    }
    for child in children {
        child.finish();
    }
    eprintln!(
        "root key race: {rounds} fresh services, each first written by {} threads in 3 processes at once; \
         1 root key kept per service, {} of {} writes readable by every process, {:.2} s",
        writers.len(),
        rounds * writers.len(),
        rounds * writers.len(),
        started.elapsed().as_secs_f64(),
    );
}

/// One change of the turn-taking test, and the value a read must return after it.
fn turn(round: u64, writer: &str, store: &Store) -> Option<Vec<u8>> {
    let options = common::service(SERVICE);
    match round % 10 {
        3 => {
            store.delete(SHARED_KEY, &options).unwrap();
            None
        }
        7 => {
            store.delete_service(&options).unwrap();
            None
        }
        _ => {
            store.set(SHARED_KEY, &value(writer, round), &options).unwrap();
            Some(value(writer, round))
        }
    }
}

/// Child role: on `change <round>`, makes the change of that round and prints `CHANGED`; on
/// `read`, prints `READ <writer> <n>` or `READ none`.
fn run_turns_child() {
    let store = common::open_seeded_store(Path::new(&child_var("SS_DIR")));
    let options = common::service(SERVICE);
    emit("READY");
    while let Some(line) = receive() {
        if let Some(round) = line.strip_prefix("change ") {
            turn(round.parse().unwrap(), "child", &store);
            emit("CHANGED");
        } else if line == "read" {
            match store.get(SHARED_KEY, &options).unwrap() {
                Some(bytes) => {
                    let (writer, n) = check_value(SHARED_KEY, &bytes);
                    emit(format!("READ {writer} {n}"));
                }
                None => emit("READ none"),
            }
        }
    }
}

#[test]
fn reads_see_other_process_changes() {
    let rounds = common::count("SECURESTORE_CONCURRENCY_OPS", 150, 2000) as u64;
    let dir = tempfile::tempdir().unwrap();
    let options = common::service(SERVICE);
    let store = common::open_seeded_store(dir.path());
    let mut child = ChildProcess::spawn("turns", &[("SS_DIR", dir.path().display().to_string())]);
    child.expect_line("READY");

    let describe = |bytes: Option<&[u8]>| match bytes {
        Some(bytes) => {
            let (writer, n) = check_value(SHARED_KEY, bytes);
            format!("READ {writer} {n}")
        }
        None => "READ none".to_owned(),
    };
    for round in 1..=rounds {
        // Both sides read first, so each has the current file cached when the other changes it.
        let before = store.get(SHARED_KEY, &options).unwrap();
        child.send("read");
        assert_eq!(child.expect_line("READ"), describe(before.as_deref().map(|b| &b[..])), "round {round}");

        if round % 2 == 0 {
            let expected = turn(round, "parent", &store);
            child.send("read");
            assert_eq!(child.expect_line("READ"), describe(expected.as_deref()), "child read after round {round}");
        } else {
            child.send(&format!("change {round}"));
            child.expect_line("CHANGED");
            let expected = if round % 10 == 3 || round % 10 == 7 { None } else { Some(value("child", round)) };
            let seen = store.get(SHARED_KEY, &options).unwrap();
            assert_eq!(seen.as_deref().map(|b| b.to_vec()), expected, "parent read after round {round}");
        }
    }
    child.finish();
    eprintln!("concurrency: {rounds} changes, each read back by the other process through a warm cache, 0 stale reads");
}
