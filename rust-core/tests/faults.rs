//! Storage and key faults: what a caller sees, and what survives a restart.
//!
//! Storage faults are real ones, injected in ways that also work as root, because tests
//! run as root in CI and root ignores file permissions:
//! - a write-protected service directory: mode 0500 where that stops the current user,
//!   otherwise the immutable attribute (`chattr +i`, which stops root as well);
//! - "file too large": a child process lowers its RLIMIT_FSIZE, so writes past the limit
//!   fail with EFBIG, as writes to a full disk fail with ENOSPC, at the same point;
//! - a full file system: a child process mounts a 1 MiB tmpfs in its own mount namespace
//!   (`unshare --mount`), fills it and writes; skipped with a message where mounting is
//!   not permitted;
//! - paths occupied by the wrong kind of file.
//!
//! Each failed operation must raise `StorageFailure` and leave the previous state intact,
//! and a new process must then read exactly the state that the API reported.
//!
//! Key faults use `MemoryKeyProvider`, which simulates platform keys that are lost,
//! foreign, invalidated or temporarily unavailable.

mod common;

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use common::{child_role, child_var, emit, ChildProcess};
use securestore::provider::ProviderError;
use securestore::store::{EntryOptions, Store};
use securestore::testing::MemoryKeyProvider;
use securestore::StoreError;

const SERVICE: &str = "faults.main";

/// Returns a value of `len` bytes derived from `label`, so that every process can rebuild it.
fn filler(label: &str, len: usize) -> Vec<u8> {
    let mut bytes = format!("{label}=").into_bytes();
    bytes.resize(len.max(bytes.len()), b'x');
    bytes.truncate(len);
    bytes
}

fn is_storage_failure<T: std::fmt::Debug>(result: &Result<T, StoreError>) -> bool {
    matches!(result, Err(StoreError::StorageFailure { .. }))
}

/// Describes an operation's outcome in one word plus details, for protocol lines.
fn outcome<T>(result: Result<T, StoreError>, describe: impl FnOnce(T) -> String) -> String {
    match result {
        Ok(value) => describe(value),
        Err(err) => {
            let debug = format!("{err:?}");
            let variant = debug.split([' ', '{', '(']).next().unwrap_or_default().to_owned();
            format!("error {variant} {err}")
        }
    }
}

/// Runs `;`-separated steps (`set:<key>:<len>`, `get:<key>`, `del:<key>`) and prints
/// `RESULT <step> <outcome>` for each.
fn run_script(store: &Store, options: &EntryOptions, script: &str) {
    for step in script.split(';').filter(|s| !s.is_empty()) {
        let parts: Vec<&str> = step.split(':').collect();
        let result = match parts[0] {
            "set" => {
                let len: usize = parts[2].parse().unwrap();
                outcome(store.set(parts[1], &filler(parts[1], len), options), |()| "ok".to_owned())
            }
            "del" => outcome(store.delete(parts[1], options), |()| "ok".to_owned()),
            "get" => outcome(store.get(parts[1], options), |value| match value {
                Some(bytes) => format!("value {}", hex::encode(bytes.as_slice())),
                None => "absent".to_owned(),
            }),
            other => panic!("unknown step {other}"),
        };
        emit(format!("RESULT {step} {result}"));
    }
}

/// Parses `RESULT` lines into a map from step to outcome.
fn results(lines: &[String]) -> BTreeMap<String, String> {
    lines
        .iter()
        .filter_map(|line| line.strip_prefix("RESULT "))
        .map(|rest| {
            let (step, outcome) = rest.split_once(' ').unwrap();
            (step.to_owned(), outcome.to_owned())
        })
        .collect()
}

fn value_line(label: &str, len: usize) -> String {
    format!("value {}", hex::encode(filler(label, len)))
}

#[test]
#[ignore = "entry point of the child processes that the other tests start"]
fn child_process() {
    match child_role().as_deref() {
        Some("script") => run_script_child(),
        Some("file-size-limit") => run_file_size_limit_child(),
        Some("full-filesystem") => run_full_filesystem_child(),
        Some(role) => panic!("unknown child role {role}"),
        None => eprintln!("child_process only runs as a child of the fault tests"),
    }
}

/// Child role: opens a new store and runs `SS_SCRIPT` on `SS_SERVICE`.
fn run_script_child() {
    let store = common::open_seeded_store(Path::new(&child_var("SS_DIR")));
    let options = common::service(&child_var("SS_SERVICE"));
    run_script(&store, &options, &child_var("SS_SCRIPT"));
    let listing = store.list(&options).expect("list in a new process");
    emit(format!("LIST {} {}", listing.keys.join(","), listing.unreadable_entries));
}

/// Reads `script` in a new process and returns its results and its listing line.
fn in_new_process(dir: &Path, service: &str, script: &str) -> (BTreeMap<String, String>, String) {
    let lines = ChildProcess::spawn(
        "script",
        &[
            ("SS_DIR", dir.display().to_string()),
            ("SS_SERVICE", service.to_owned()),
            ("SS_SCRIPT", script.to_owned()),
        ],
    )
    .collect();
    let listing = lines.iter().find_map(|l| l.strip_prefix("LIST ")).expect("listing line").to_owned();
    (results(&lines), listing)
}

/// Write protection of a directory that holds even for root, removed on drop.
struct WriteProtection {
    dir: PathBuf,
    immutable: bool,
    method: &'static str,
}

impl WriteProtection {
    /// Protects `dir` with mode 0500 if that stops the current user, else with the
    /// immutable attribute. Returns why neither works otherwise.
    fn apply(dir: &Path) -> Result<Self, String> {
        fs::set_permissions(dir, fs::Permissions::from_mode(0o500)).unwrap();
        if creating_files_fails(dir) {
            return Ok(WriteProtection { dir: dir.to_owned(), immutable: false, method: "mode 0500" });
        }
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700)).unwrap();
        let chattr = Command::new("chattr").arg("+i").arg(dir).output();
        match chattr {
            Ok(out) if out.status.success() => {
                let guard = WriteProtection { dir: dir.to_owned(), immutable: true, method: "chattr +i" };
                if creating_files_fails(dir) {
                    Ok(guard)
                } else {
                    Err("the immutable attribute does not stop file creation here".to_owned())
                }
            }
            Ok(out) => Err(format!(
                "mode 0500 does not stop this user and chattr +i failed: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            )),
            Err(err) => Err(format!("mode 0500 does not stop this user and chattr is not available: {err}")),
        }
    }
}

impl Drop for WriteProtection {
    fn drop(&mut self) {
        if self.immutable {
            let _ = Command::new("chattr").arg("-i").arg(&self.dir).status();
        } else {
            let _ = fs::set_permissions(&self.dir, fs::Permissions::from_mode(0o700));
        }
    }
}

fn creating_files_fails(dir: &Path) -> bool {
    let probe = dir.join(".write-probe");
    match fs::File::create(&probe) {
        Ok(_) => {
            let _ = fs::remove_file(&probe);
            false
        }
        Err(_) => true,
    }
}

#[test]
fn write_protected_directory_fails_set_and_delete() {
    let dir = tempfile::tempdir().unwrap();
    let store = common::open_seeded_store(dir.path());
    let options = common::service(SERVICE);
    store.set("a", &filler("old-a", 40), &options).unwrap();
    store.set("b", &filler("keep-b", 40), &options).unwrap();

    let service_dir = common::service_dir(dir.path(), SERVICE);
    let protection = match WriteProtection::apply(&service_dir) {
        Ok(protection) => protection,
        Err(reason) => {
            eprintln!("faults: write-protected directory SKIPPED: {reason}");
            return;
        }
    };

    let overwrite = store.set("a", &filler("new-a", 40), &options);
    let create = store.set("c", &filler("new-c", 40), &options);
    let delete = store.delete("b", &options);
    assert!(is_storage_failure(&overwrite), "overwrite: {overwrite:?}");
    assert!(is_storage_failure(&create), "new key: {create:?}");
    assert!(is_storage_failure(&delete), "delete: {delete:?}");
    assert_eq!(store.get("a", &options).unwrap().unwrap().as_slice(), filler("old-a", 40).as_slice());
    assert_eq!(store.get("b", &options).unwrap().unwrap().as_slice(), filler("keep-b", 40).as_slice());
    assert_eq!(store.get("c", &options).unwrap(), None);
    let method = protection.method;
    drop(protection);

    let (seen, listing) = in_new_process(dir.path(), SERVICE, "get:a;get:b;get:c");
    assert_eq!(seen["get:a"], format!("value {}", hex::encode(filler("old-a", 40))));
    assert_eq!(seen["get:b"], format!("value {}", hex::encode(filler("keep-b", 40))));
    assert_eq!(seen["get:c"], "absent");
    assert_eq!(listing, "a,b 0");
    eprintln!(
        "faults: service directory write-protected with {method}: overwrite, new key and delete each raised \
         StorageFailure; a new process reads the previous state"
    );
}

#[test]
fn write_protected_store_root_fails_first_write() {
    let dir = tempfile::tempdir().unwrap();
    let store = common::open_seeded_store(dir.path());
    let protection = match WriteProtection::apply(dir.path()) {
        Ok(protection) => protection,
        Err(reason) => {
            eprintln!("faults: write-protected store root SKIPPED: {reason}");
            return;
        }
    };
    let options = common::service("faults.fresh");
    let result = store.set("a", b"value", &options);
    assert!(is_storage_failure(&result), "{result:?}");
    assert_eq!(store.get("a", &options).unwrap(), None);
    drop(protection);
    assert!(common::list_files(dir.path()).is_empty(), "a failed first write leaves no files");
}

/// Child role: lowers RLIMIT_FSIZE to `SS_FSIZE` bytes, then runs `SS_SCRIPT`.
fn run_file_size_limit_child() {
    let limit: u64 = child_var("SS_FSIZE").parse().unwrap();
    // SAFETY: plain libc calls with valid arguments. Ignoring SIGXFSZ makes a write past
    // the limit fail with EFBIG instead of ending the process.
    #[allow(unsafe_code)]
    unsafe {
        libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
        let mut rlimit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
        assert_eq!(libc::getrlimit(libc::RLIMIT_FSIZE, &mut rlimit), 0);
        rlimit.rlim_cur = limit;
        assert_eq!(libc::setrlimit(libc::RLIMIT_FSIZE, &rlimit), 0, "lower RLIMIT_FSIZE");
    }
    run_script_child();
}

#[test]
fn file_size_limit_fails_set_and_keeps_old_value() {
    let dir = tempfile::tempdir().unwrap();
    let store = common::open_seeded_store(dir.path());
    let options = common::service(SERVICE);
    store.set("a", &filler("a", 100), &options).unwrap();
    store.set("b", &filler("b", 100), &options).unwrap();

    // An entry file is its value plus about 100 bytes, so with a 600-byte limit a value of
    // 100 bytes fits and one of 1000 bytes does not. The root key file is 83 bytes.
    let lines = ChildProcess::spawn(
        "file-size-limit",
        &[
            ("SS_DIR", dir.path().display().to_string()),
            ("SS_SERVICE", SERVICE.to_owned()),
            ("SS_FSIZE", "600".to_owned()),
            ("SS_SCRIPT", "set:a:1000;set:c:1000;set:b:200;get:a;get:b;get:c".to_owned()),
        ],
    )
    .collect();
    let seen = results(&lines);
    for step in ["set:a:1000", "set:c:1000"] {
        assert!(seen[step].starts_with("error StorageFailure"), "{step}: {}", seen[step]);
        assert!(seen[step].contains("File too large"), "{step}: {}", seen[step]);
    }
    assert_eq!(seen["set:b:200"], "ok");
    assert_eq!(seen["get:a"], value_line("a", 100));
    assert_eq!(seen["get:b"], value_line("b", 200));
    assert_eq!(seen["get:c"], "absent");

    let (after, listing) = in_new_process(dir.path(), SERVICE, "get:a;get:b;get:c");
    assert_eq!(after["get:a"], value_line("a", 100));
    assert_eq!(after["get:b"], value_line("b", 200));
    assert_eq!(after["get:c"], "absent");
    assert_eq!(listing, "a,b 0");
    let leftovers = common::list_files(dir.path())
        .into_iter()
        .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with(".tmp-"))
        .count();
    assert_eq!(leftovers, 0, "a failed write removes its temporary file");
    eprintln!(
        "faults: RLIMIT_FSIZE 600 bytes: 2 oversize writes raised StorageFailure (EFBIG), the old value \
         stayed, a write within the limit succeeded, a new process agrees, 0 temporary files left"
    );
}

/// Child role: mounts a 1 MiB tmpfs at `SS_MOUNT` in this process's own mount namespace,
/// writes two entries, fills the file system and runs `SS_SCRIPT`; then a grandchild
/// process reads the state, and writes succeed again once space is freed.
fn run_full_filesystem_child() {
    let mount_point = PathBuf::from(child_var("SS_MOUNT"));
    let mount = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=1m,mode=0700", "tmpfs"])
        .arg(&mount_point)
        .output()
        .expect("run mount");
    if !mount.status.success() {
        emit(format!("SKIP mounting a tmpfs failed: {}", String::from_utf8_lossy(&mount.stderr).trim()));
        return;
    }
    let store_dir = mount_point.join("store");
    let store = common::open_seeded_store(&store_dir);
    let options = common::service(&child_var("SS_SERVICE"));
    store.set("a", &filler("a", 100), &options).unwrap();
    store.set("b", &filler("b", 100), &options).unwrap();

    let filler_path = mount_point.join("filler");
    let mut file = fs::File::create(&filler_path).unwrap();
    let mut filled = 0usize;
    for chunk in [65536usize, 4096, 1] {
        let block = vec![0u8; chunk];
        while std::io::Write::write_all(&mut file, &block).is_ok() {
            filled += chunk;
        }
    }
    drop(file);
    emit(format!("FILLED {filled}"));

    run_script(&store, &options, &child_var("SS_SCRIPT"));
    // A service written for the first time needs a new directory and root key file.
    let fresh = common::service(FRESH_SERVICE);
    run_script(&store, &fresh, "set:fresh:10");
    let grandchild = ChildProcess::spawn(
        "script",
        &[
            ("SS_DIR", store_dir.display().to_string()),
            ("SS_SERVICE", options.keychain_service.clone()),
            ("SS_SCRIPT", "get:a;get:b;get:c".to_owned()),
        ],
    );
    for line in grandchild.collect() {
        emit(format!("NEW-PROCESS {line}"));
    }
    fs::remove_file(&filler_path).unwrap();
    run_script(&store, &options, "set:a:300;get:a");
    run_script(&store, &fresh, "set:fresh:20;get:fresh");
}

/// The service that the full file system test writes to for the first time.
const FRESH_SERVICE: &str = "faults.fresh";

#[test]
fn full_filesystem_fails_set_and_keeps_old_value() {
    let dir = tempfile::tempdir().unwrap();
    let mount_point = dir.path().join("mnt");
    fs::create_dir(&mount_point).unwrap();
    let unshare = Command::new("unshare").args(["--mount", "--propagation", "private", "true"]).output();
    match unshare {
        Ok(out) if out.status.success() => {}
        Ok(out) => {
            eprintln!("faults: full file system SKIPPED: unshare --mount failed: {}", String::from_utf8_lossy(&out.stderr).trim());
            return;
        }
        Err(err) => {
            eprintln!("faults: full file system SKIPPED: unshare is not available: {err}");
            return;
        }
    }
    let lines = ChildProcess::spawn_wrapped(
        &["unshare", "--mount", "--propagation", "private"],
        "full-filesystem",
        &[
            ("SS_MOUNT", mount_point.display().to_string()),
            ("SS_SERVICE", SERVICE.to_owned()),
            ("SS_SCRIPT", "set:a:1500;set:c:1500;del:b;get:a;get:b;get:c".to_owned()),
        ],
    )
    .collect();
    if let Some(reason) = lines.iter().find_map(|l| l.strip_prefix("SKIP ")) {
        eprintln!("faults: full file system SKIPPED: {reason}");
        return;
    }
    let filled = lines.iter().find_map(|l| l.strip_prefix("FILLED ")).unwrap();
    let seen = results(&lines);
    for step in ["set:a:1500", "set:c:1500", "set:fresh:10"] {
        assert!(seen[step].starts_with("error StorageFailure"), "{step}: {}", seen[step]);
        assert!(seen[step].contains("No space left"), "{step}: {}", seen[step]);
    }
    // Deleting needs no space, so it still works on a full file system.
    assert_eq!(seen["del:b"], "ok");
    assert_eq!(seen["get:b"], "absent");
    assert_eq!(seen["get:c"], "absent");
    assert_eq!(seen["set:a:300"], "ok");
    assert_eq!(seen["get:a"], value_line("a", 300), "after space was freed");
    assert_eq!(seen["set:fresh:20"], "ok");
    assert_eq!(seen["get:fresh"], value_line("fresh", 20), "a new service after space was freed");
    let new_process: Vec<String> =
        lines.iter().filter_map(|l| l.strip_prefix("NEW-PROCESS ")).map(str::to_owned).collect();
    let before_free = results(&new_process);
    assert_eq!(before_free["get:a"], value_line("a", 100));
    assert_eq!(before_free["get:b"], "absent");
    assert_eq!(before_free["get:c"], "absent");
    assert!(new_process.contains(&"LIST a 0".to_owned()), "{new_process:?}");
    eprintln!(
        "faults: 1 MiB tmpfs filled with {filled} bytes: 3 writes raised StorageFailure (ENOSPC), one of them to \
         a new service, the old value stayed, delete worked, a new process agrees, writes work again after \
         space is freed"
    );
}

#[test]
fn service_path_replaced_by_file_is_storage_failure() {
    // A failing store must raise an error, never return `None` that a caller could take
    // for "absent" and answer by overwriting the secret.
    let dir = tempfile::tempdir().unwrap();
    let store = common::open_seeded_store(dir.path());
    let options = common::service(SERVICE);
    store.set("token", b"secret", &options).unwrap();
    let service_dir = common::service_dir(dir.path(), SERVICE);
    fs::rename(&service_dir, dir.path().join("moved")).unwrap();
    fs::write(&service_dir, b"not a directory").unwrap();

    let fresh = common::open_seeded_store(dir.path());
    let get = fresh.get("token", &options);
    let set = fresh.set("token", b"new", &options);
    let list = fresh.list(&options);
    assert!(is_storage_failure(&get), "get: {get:?}");
    assert!(is_storage_failure(&set), "set: {set:?}");
    assert!(is_storage_failure(&list), "list: {list:?}");
}

#[test]
fn entry_path_occupied_by_directory_is_storage_failure() {
    let dir = tempfile::tempdir().unwrap();
    let store = common::open_seeded_store(dir.path());
    let options = common::service(SERVICE);
    store.set("token", b"secret", &options).unwrap();
    store.set("other", b"fine", &options).unwrap();
    let service_dir = common::service_dir(dir.path(), SERVICE);
    let before = common::entry_files(&service_dir);
    store.delete("token", &options).unwrap();
    let after = common::entry_files(&service_dir);
    let token_path = before.into_iter().find(|p| !after.contains(p)).unwrap();
    fs::create_dir(&token_path).unwrap();
    fs::write(token_path.join("inside"), b"x").unwrap();

    let get = store.get("token", &options);
    let set = store.set("token", b"new", &options);
    let delete = store.delete("token", &options);
    assert!(is_storage_failure(&get), "get: {get:?}");
    assert!(is_storage_failure(&set), "set: {set:?}");
    assert!(is_storage_failure(&delete), "delete: {delete:?}");
    assert_eq!(store.get("other", &options).unwrap().unwrap().as_slice(), b"fine");
    let listing = store.list(&options).unwrap();
    assert_eq!(listing.keys, vec!["other".to_owned()]);
    assert_eq!(listing.unreadable_entries, 1);
}

fn memory_store(dir: &Path, provider: &Arc<MemoryKeyProvider>) -> Store {
    common::open_store(dir, Arc::clone(provider) as _)
}

/// Returns the platform key aliases that `write` created.
fn aliases_created_by(provider: &MemoryKeyProvider, write: impl FnOnce()) -> Vec<String> {
    let before = provider.aliases();
    write();
    provider.aliases().into_iter().filter(|a| !before.contains(a)).collect()
}

#[test]
fn lost_platform_key_reads_none_until_next_write() {
    let dir = tempfile::tempdir().unwrap();
    let provider = Arc::new(MemoryKeyProvider::new());
    let store = memory_store(dir.path(), &provider);
    let (lost, kept) = (common::service("faults.lost"), common::service("faults.kept"));
    let lost_aliases = aliases_created_by(&provider, || {
        store.set("session", b"old session", &lost).unwrap();
        store.set("user", b"old user", &lost).unwrap();
    });
    store.set("session", b"kept session", &kept).unwrap();
    assert_eq!(lost_aliases.len(), 1);
    provider.lose_key(&lost_aliases[0]);

    // A new process after a backup restore: the data came back, the platform key did not.
    let restarted = memory_store(dir.path(), &provider);
    let created = provider.created_keys();
    let files_before = common::list_files(dir.path());
    assert_eq!(restarted.get("session", &lost).unwrap(), None);
    let listing = restarted.list(&lost).unwrap();
    assert!(listing.root_key_lost);
    assert_eq!(listing.keys, Vec::<String>::new());
    assert_eq!(listing.unreadable_entries, 2);
    assert_eq!(provider.created_keys(), created, "a read never creates key material");
    assert_eq!(common::list_files(dir.path()), files_before, "a read changes no file");
    assert_eq!(restarted.get("session", &kept).unwrap().unwrap().as_slice(), b"kept session");

    restarted.set("k2", b"v2", &lost).unwrap();
    assert_eq!(restarted.get("k2", &lost).unwrap().unwrap().as_slice(), b"v2");
    assert_eq!(restarted.get("session", &lost).unwrap(), None);
    let listing = restarted.list(&lost).unwrap();
    assert_eq!(listing.keys, vec!["k2".to_owned()]);
    assert_eq!(listing.unreadable_entries, 0, "entries of the lost root key are removed by the write");
    assert!(!listing.root_key_lost);

    let after_restart = memory_store(dir.path(), &provider);
    assert_eq!(after_restart.get("k2", &lost).unwrap().unwrap().as_slice(), b"v2");
    assert_eq!(after_restart.get("session", &kept).unwrap().unwrap().as_slice(), b"kept session");
}

#[test]
fn foreign_root_key_file_is_lost_for_one_service() {
    let dir = tempfile::tempdir().unwrap();
    let provider = Arc::new(MemoryKeyProvider::new());
    let store = memory_store(dir.path(), &provider);
    let (moved, other) = (common::service("faults.moved"), common::service("faults.other"));
    store.set("session", b"here", &moved).unwrap();
    store.set("session", b"other", &other).unwrap();

    // The service's root key file as another device wrote it: wrapped by a key this
    // device's provider does not have.
    let foreign_dir = tempfile::tempdir().unwrap();
    let foreign = Arc::new(MemoryKeyProvider::new());
    memory_store(foreign_dir.path(), &foreign).set("session", b"foreign", &moved).unwrap();
    let root_key = |base: &Path| common::service_dir(base, "faults.moved").join("root.key");
    fs::copy(root_key(foreign_dir.path()), root_key(dir.path())).unwrap();

    let reopened = memory_store(dir.path(), &provider);
    assert_eq!(reopened.get("session", &moved).unwrap(), None);
    assert!(reopened.list(&moved).unwrap().root_key_lost);
    assert_eq!(reopened.get("session", &other).unwrap().unwrap().as_slice(), b"other");
    reopened.set("session", b"rewritten", &moved).unwrap();
    assert_eq!(reopened.get("session", &moved).unwrap().unwrap().as_slice(), b"rewritten");
    assert_eq!(reopened.get("session", &other).unwrap().unwrap().as_slice(), b"other");
}

#[test]
fn other_device_key_opens_without_error() {
    // A whole store directory carried to a device whose platform keys differ.
    let dir = tempfile::tempdir().unwrap();
    let options = common::service(SERVICE);
    let first = common::open_store(dir.path(), Arc::new(common::SeededKeyProvider::new(b"device one")));
    first.set("session", b"one", &options).unwrap();

    let second = common::open_store(dir.path(), Arc::new(common::SeededKeyProvider::new(b"device two")));
    assert_eq!(second.get("session", &options).unwrap(), None);
    let listing = second.list(&options).unwrap();
    assert!(listing.root_key_lost);
    assert_eq!(listing.unreadable_entries, 1);
    second.set("session", b"two", &options).unwrap();
    assert_eq!(second.get("session", &options).unwrap().unwrap().as_slice(), b"two");
}

#[test]
fn invalidated_auth_key_leaves_plain_entries() {
    let dir = tempfile::tempdir().unwrap();
    let provider = Arc::new(MemoryKeyProvider::with_authentication());
    let store = memory_store(dir.path(), &provider);
    let plain = common::service(SERVICE);
    let authenticated = EntryOptions { require_authentication: true, ..common::service(SERVICE) };
    store.set("plain", b"plain value", &plain).unwrap();
    let auth_aliases = aliases_created_by(&provider, || store.set("guarded", b"guarded value", &authenticated).unwrap());
    assert_eq!(auth_aliases.len(), 1);
    assert!(auth_aliases[0].ends_with(".auth"));

    // A new biometric enrolment invalidates the authentication-bound key for good.
    provider.lose_key(&auth_aliases[0]);
    let created = provider.created_keys();
    assert_eq!(store.get("guarded", &authenticated).unwrap(), None);
    assert_eq!(provider.created_keys(), created, "a read never creates key material");
    assert_eq!(store.get("plain", &plain).unwrap().unwrap().as_slice(), b"plain value");

    store.set("guarded", b"new guarded value", &authenticated).unwrap();
    assert_eq!(store.get("guarded", &authenticated).unwrap().unwrap().as_slice(), b"new guarded value");
    assert_eq!(store.get("plain", &plain).unwrap().unwrap().as_slice(), b"plain value");
    assert_eq!(store.list(&plain).unwrap().keys, vec!["guarded".to_owned(), "plain".to_owned()]);
}

#[test]
fn temporary_key_store_failure_raises_and_deletes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let provider = Arc::new(MemoryKeyProvider::new());
    let options = common::service(SERVICE);
    memory_store(dir.path(), &provider).set("token", b"value", &options).unwrap();
    let files = common::list_files(dir.path());

    for (failure, expected) in [
        (ProviderError::Unavailable("keystore busy".to_owned()), "KeyStoreUnavailable"),
        (ProviderError::DeviceLocked, "DeviceLocked"),
        (ProviderError::UserCancelled, "AuthenticationCancelled"),
    ] {
        // A new store instance, so the root key is unwrapped again and the failure applies.
        let store = memory_store(dir.path(), &provider);
        provider.fail_next(failure);
        let err = store.get("token", &options).unwrap_err();
        assert!(format!("{err:?}").starts_with(expected), "{err:?}");
        assert_eq!(common::list_files(dir.path()), files, "a failed read changes no file");
        assert_eq!(store.get("token", &options).unwrap().unwrap().as_slice(), b"value");
    }

    // A failure while creating the first root key of a service leaves nothing behind.
    let store = memory_store(dir.path(), &provider);
    let fresh = common::service("faults.fresh");
    provider.fail_next(ProviderError::Unavailable("keystore busy".to_owned()));
    assert!(matches!(store.set("a", b"v", &fresh), Err(StoreError::KeyStoreUnavailable { .. })));
    assert!(!common::service_dir(dir.path(), "faults.fresh").join("root.key").exists());
    store.set("a", b"v", &fresh).unwrap();
    assert_eq!(store.get("a", &fresh).unwrap().unwrap().as_slice(), b"v");
}

#[test]
fn reads_of_fresh_store_create_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let provider = Arc::new(MemoryKeyProvider::new());
    let store = memory_store(dir.path(), &provider);
    let options = common::service(SERVICE);
    assert_eq!(store.get("token", &options).unwrap(), None);
    assert_eq!(store.list(&options).unwrap(), Default::default());
    store.delete("token", &options).unwrap();
    assert_eq!(provider.created_keys(), 0);
    assert!(provider.aliases().is_empty());
    assert!(common::list_files(dir.path()).is_empty(), "no files after reads and a delete");
}

#[test]
fn stray_and_damaged_files_leave_valid_entries() {
    let dir = tempfile::tempdir().unwrap();
    let store = common::open_seeded_store(dir.path());
    let options = common::service(SERVICE);
    let service_dir = common::service_dir(dir.path(), SERVICE);
    store.set("a", "a".repeat(20).as_bytes(), &options).unwrap();
    let a_path = common::entry_files(&service_dir).remove(0);
    let a_bytes = fs::read(&a_path).unwrap();
    for key in ["b", "c"] {
        store.set(key, key.repeat(20).as_bytes(), &options).unwrap();
    }
    let other = common::service("faults.other");
    store.set("x", b"other service", &other).unwrap();
    let other_entry = common::entry_files(&common::service_dir(dir.path(), "faults.other")).remove(0);

    let stray_entries: Vec<(String, Vec<u8>)> = vec![
        ("e-not-hex".to_owned(), b"junk".to_vec()),
        (format!("e-{}", "ab".repeat(32)), b"random bytes that are no envelope".to_vec()),
        (format!("e-{}", "cd".repeat(32)), a_bytes[..a_bytes.len() / 2].to_vec()),
        (format!("e-{}", "ef".repeat(32)), Vec::new()),
        (format!("e-{}", "12".repeat(31)), a_bytes.clone()),
        (other_entry.file_name().unwrap().to_str().unwrap().to_owned(), fs::read(&other_entry).unwrap()),
    ];
    for (name, bytes) in &stray_entries {
        fs::write(service_dir.join(name), bytes).unwrap();
    }
    fs::write(service_dir.join(".tmp-0123456789abcdef"), b"left by a killed write").unwrap();
    fs::write(service_dir.join("README"), b"not ours").unwrap();
    fs::create_dir(service_dir.join("subdir")).unwrap();

    let reopened = common::open_seeded_store(dir.path());
    for key in ["a", "b", "c"] {
        assert_eq!(reopened.get(key, &options).unwrap().unwrap().as_slice(), key.repeat(20).as_bytes());
    }
    let listing = reopened.list(&options).unwrap();
    assert_eq!(listing.keys, vec!["a".to_owned(), "b".to_owned(), "c".to_owned()]);
    assert_eq!(listing.unreadable_entries, stray_entries.len() as u32);
    reopened.set("d", b"still writable", &options).unwrap();
    assert_eq!(reopened.get("d", &options).unwrap().unwrap().as_slice(), b"still writable");

    // A damaged file at a real key's path raises IntegrityFailure for that key only.
    fs::write(&a_path, &a_bytes[..a_bytes.len() - 1]).unwrap();
    let damaged = reopened.get("a", &options);
    assert!(matches!(damaged, Err(StoreError::IntegrityFailure { .. })), "{damaged:?}");
    let listing = reopened.list(&options).unwrap();
    assert_eq!(listing.keys, vec!["b".to_owned(), "c".to_owned(), "d".to_owned()]);
    assert_eq!(listing.unreadable_entries, stray_entries.len() as u32 + 1);
    eprintln!(
        "faults: {} stray or foreign entry files and 3 other stray files: valid entries readable, \
         listing reports them as unreadable",
        stray_entries.len()
    );
}
