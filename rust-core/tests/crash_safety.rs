//! Crash safety with real processes. A child process writes, overwrites and deletes entries
//! in a loop and reports every operation after it returned. The test kills it with SIGKILL
//! at random moments and checks the store from another process after each kill.
//!
//! After every kill, each key must hold the result of its last acknowledged operation, or
//! the result of the one operation that was in flight when the kill landed. Nothing else is
//! allowed: no empty entry, no garbage, no error, no unreadable file.
//!
//! Settings: `SECURESTORE_CRASH_KILLS` (default 40, 200 with `SECURESTORE_FULL=1`),
//! `SECURESTORE_CRASH_MAX_DELAY_MS` (the longest delay of the one kill in eight that is
//! timed from the child's start, default 60),
//! `SECURESTORE_RANDOM_SEED` (repeats a run's kill moments).

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::{Duration, Instant};

use common::{child_role, child_var, emit, mix, ChildProcess, KillMoment, TestRng};
use securestore::store::Store;

const MAIN_SERVICE: &str = "crash.main";
const MAIN_KEYS: [&str; 6] = ["token", "refresh_token", "user.id", "k-3", "k_4", "K5"];
/// A child stops by itself after this many operations, so a lost kill cannot hang the test.
const MAX_OPS_PER_CHILD: u64 = 20_000;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Action {
    Set(Vec<u8>),
    Delete,
}

#[derive(Debug, Clone)]
struct Operation {
    service: String,
    key: String,
    action: Action,
}

/// Returns the operation with sequence number `seq` of a child that started at `start` in
/// round `round`. The first operation of each round writes to a new service, so some kills
/// land while a root key is being created. The others work on the main service.
fn operation(seq: u64, round: u64, start: u64) -> Operation {
    if seq == start {
        return Operation { service: round_service(round), key: "first".to_owned(), action: Action::Set(value(seq)) };
    }
    let h = mix(seq);
    let key = MAIN_KEYS[(h % MAIN_KEYS.len() as u64) as usize].to_owned();
    let action = if (h >> 16).is_multiple_of(8) { Action::Delete } else { Action::Set(value(seq)) };
    Operation { service: MAIN_SERVICE.to_owned(), key, action }
}

fn round_service(round: u64) -> String {
    format!("crash.round{round}")
}

/// Returns the value written by operation `seq`: `v<seq>:` and then letters derived from
/// `seq`, 0 to 2048 bytes in all (sizes up to the default limit).
fn value(seq: u64) -> Vec<u8> {
    let len = (mix(seq ^ 0x5eed) % 2049) as usize;
    let mut bytes = format!("v{seq}:").into_bytes();
    let mut i = 0u64;
    while bytes.len() < len {
        bytes.push(b'a' + (mix(seq.wrapping_mul(31).wrapping_add(i)) % 26) as u8);
        i += 1;
    }
    bytes
}

/// Returns the sequence number a stored value claims to come from, if it has the form of
/// [`value`]'s output.
fn claimed_seq(bytes: &[u8]) -> Option<u64> {
    let text = std::str::from_utf8(bytes).ok()?;
    let digits = text.strip_prefix('v')?.split(':').next()?;
    digits.parse().ok()
}

#[test]
#[ignore = "entry point of the child processes that the other tests start"]
fn child_process() {
    match child_role().as_deref() {
        Some("writer") => run_writer(),
        Some(role) => panic!("unknown child role {role}"),
        None => eprintln!("child_process only runs as a child of the crash tests"),
    }
}

/// Child role: runs operations from `SS_START` on and prints `ACK <seq>` after each returned.
fn run_writer() {
    let dir = child_var("SS_DIR");
    let start: u64 = child_var("SS_START").parse().unwrap();
    let round: u64 = child_var("SS_ROUND").parse().unwrap();
    let store = common::open_seeded_store(Path::new(&dir));
    emit("READY");
    for seq in start..start + MAX_OPS_PER_CHILD {
        let op = operation(seq, round, start);
        let options = common::service(&op.service);
        let result = match &op.action {
            Action::Set(bytes) => store.set(&op.key, bytes, &options),
            Action::Delete => store.delete(&op.key, &options),
        };
        match result {
            Ok(()) => emit(format!("ACK {seq}")),
            Err(err) => {
                emit(format!("ERROR operation {seq} on {:?} failed: {err}", op.key));
                std::process::exit(1);
            }
        }
    }
}

/// The state every key must have: the sequence number of the value it holds, or `None`.
type Model = BTreeMap<(String, String), Option<u64>>;

#[derive(Default)]
struct Figures {
    kills: usize,
    exits_before_kill: usize,
    acknowledged: u64,
    in_flight_applied: usize,
    in_flight_not_visible: usize,
    new_service_unacknowledged: usize,
    checks: u64,
}

#[test]
fn sigkill_never_loses_acknowledged_writes() {
    let kills = common::count("SECURESTORE_CRASH_KILLS", 40, 200);
    let max_delay_ms = common::count("SECURESTORE_CRASH_MAX_DELAY_MS", 60, 60) as u64;
    let seed = common::random_seed();
    eprintln!(
        "crash suite: {kills} kills, each after READY and 0 to 11 acknowledgements or (one in eight) \
         0 to {max_delay_ms} ms after the start, SECURESTORE_RANDOM_SEED={seed}"
    );

    let dir = tempfile::tempdir().unwrap();
    let mut rng = TestRng::new(seed);
    let mut model = Model::new();
    for key in MAIN_KEYS {
        model.insert((MAIN_SERVICE.to_owned(), key.to_owned()), None);
    }
    let mut figures = Figures::default();
    let mut next_seq = 1u64;
    let started = Instant::now();

    for round in 0..kills as u64 {
        let start = next_seq;
        model.insert((round_service(round), "first".to_owned()), None);
        let child = ChildProcess::spawn(
            "writer",
            &[
                ("SS_DIR", dir.path().display().to_string()),
                ("SS_START", start.to_string()),
                ("SS_ROUND", round.to_string()),
            ],
        );
        // Most kills land after READY and 0 to 11 acknowledgements, part of the way into the
        // next operation, however long operations take on this machine. One in eight is a
        // fixed time after the spawn and may also land while the child starts.
        let moment = if rng.below(8) == 0 {
            KillMoment::AfterDelay(Duration::from_micros(rng.below(max_delay_ms * 1000 + 1)))
        } else {
            let count = 1 + rng.below(12) as usize;
            KillMoment::AfterLines { count, fraction: rng.below(1000) as f64 / 1000.0 }
        };
        let (lines, killed) = child.kill_at(moment);
        figures.kills += usize::from(killed);
        figures.exits_before_kill += usize::from(!killed);

        let mut last_acked = start - 1;
        for line in &lines {
            if let Some(seq) = line.strip_prefix("ACK ") {
                let seq: u64 = seq.parse().unwrap();
                assert_eq!(seq, last_acked + 1, "acknowledgements arrive in order");
                last_acked = seq;
                apply(&mut model, &operation(seq, round, start), seq);
            } else if line.starts_with("ERROR") {
                panic!("round {round}: child reported {line}");
            }
        }
        figures.acknowledged += last_acked + 1 - start;
        if last_acked < start {
            figures.new_service_unacknowledged += 1;
        }

        // The one operation that may have been running when the kill landed.
        let in_flight = operation(last_acked + 1, round, start);
        let store = common::open_seeded_store(dir.path());
        let applied = check_after_kill(&store, &mut model, &in_flight, last_acked + 1, round, &mut figures);
        if applied {
            figures.in_flight_applied += 1;
        } else {
            figures.in_flight_not_visible += 1;
        }
        check_listings(&store, &model, round);
        next_seq = last_acked + 2;
    }

    let temp_files = common::list_files(dir.path())
        .iter()
        .filter(|p| p.file_name().unwrap().to_str().unwrap().starts_with(".tmp-"))
        .count();
    eprintln!(
        "crash suite: {} SIGKILLs ({} children exited first), {} acknowledged operations, \
         in-flight operation visible after {} kills and not after {}, {} kills before a new \
         service's first write was acknowledged, {} key checks, 0 lost or damaged, \
         {temp_files} temporary files left by killed writes, {:.1} s",
        figures.kills,
        figures.exits_before_kill,
        figures.acknowledged,
        figures.in_flight_applied,
        figures.in_flight_not_visible,
        figures.new_service_unacknowledged,
        figures.checks,
        started.elapsed().as_secs_f64(),
    );
    assert!(figures.kills > 0, "no child was killed while running");
}

fn apply(model: &mut Model, op: &Operation, seq: u64) {
    let state = match op.action {
        Action::Set(_) => Some(seq),
        Action::Delete => None,
    };
    model.insert((op.service.clone(), op.key.clone()), state);
}

/// Checks every key against the model; returns whether the in-flight operation's result is
/// visible, and folds it into the model if so.
fn check_after_kill(
    store: &Store,
    model: &mut Model,
    in_flight: &Operation,
    in_flight_seq: u64,
    round: u64,
    figures: &mut Figures,
) -> bool {
    let in_flight_state = match in_flight.action {
        Action::Set(_) => Some(in_flight_seq),
        Action::Delete => None,
    };
    let mut applied = false;
    for ((service, key), expected) in model.iter() {
        let observed = match store.get(key, &common::service(service)) {
            Ok(value) => value,
            Err(err) => panic!("round {round}: reading {service}/{key} failed after a kill: {err}"),
        };
        figures.checks += 1;
        let observed_seq = observed.as_ref().map(|bytes| {
            let seq = claimed_seq(bytes)
                .unwrap_or_else(|| panic!("round {round}: {service}/{key} holds bytes that no write produced"));
            assert_eq!(bytes.as_slice(), value(seq).as_slice(), "round {round}: {service}/{key} holds a damaged value");
            seq
        });
        if observed_seq == *expected {
            continue;
        }
        let is_in_flight_key = in_flight.service == *service && in_flight.key == *key;
        assert!(
            is_in_flight_key && observed_seq == in_flight_state,
            "round {round}: {service}/{key} holds {observed_seq:?}; the last acknowledged state is {expected:?} \
             and the operation in flight was {in_flight_seq} on {}/{}",
            in_flight.service,
            in_flight.key,
        );
        applied = true;
    }
    if applied {
        model.insert((in_flight.service.clone(), in_flight.key.clone()), in_flight_state);
    }
    applied
}

fn check_listings(store: &Store, model: &Model, round: u64) {
    let services: BTreeSet<&String> = model.keys().map(|(service, _)| service).collect();
    for service in services {
        let listing = store.list(&common::service(service)).expect("list after a kill");
        assert_eq!(listing.unreadable_entries, 0, "round {round}: {service} has unreadable entries after a kill");
        assert!(!listing.root_key_lost, "round {round}: {service} lost its root key after a kill");
        let present: Vec<String> = model
            .iter()
            .filter(|((s, _), state)| s == service && state.is_some())
            .map(|((_, key), _)| key.clone())
            .collect();
        let mut present = present;
        present.sort();
        assert_eq!(listing.keys, present, "round {round}: keys listed for {service}");
    }
}
