//! Helpers shared by the integration tests: a key provider whose keys survive across
//! processes, child-process plumbing, iteration counts and a small seeded random source.
//!
//! Iteration counts have short defaults so that `cargo test` stays quick. Setting
//! `SECURESTORE_FULL=1` switches every suite to its long setting, and each count can also
//! be set on its own through the variable named where it is read.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::Arc;

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use securestore::backend::files::FileBackend;
use securestore::crypto::{self, SecretKey};
use securestore::provider::{KeyProvider, KeyRequest, Protection, ProviderError};
use securestore::store::{EntryOptions, Store};
use securestore::validate::DEFAULT_MAX_VALUE_BYTES;

/// Name of the ignored test that every multi-process test binary defines as the entry
/// point of its child processes.
pub const CHILD_TEST: &str = "child_process";
/// Environment variable that selects the role of a child process.
pub const ROLE_VAR: &str = "SECURESTORE_CHILD_ROLE";
/// Prefix of the protocol lines a child prints, so that libtest's own output is ignored.
pub const LINE_PREFIX: &str = "@@ ";

/// A platform key provider for tests whose keys are derived from a seed.
///
/// The platform key of an alias is HMAC-SHA256(seed, alias), so every process that uses
/// the same seed has the same keys, as processes sharing one Android Keystore do. Wrapping
/// is AES-256-GCM with the request's associated data; an unwrap that fails authentication
/// reports [`ProviderError::KeyLost`], like bytes wrapped by another device's key. Keys
/// cannot be deleted: `delete_key` succeeds and the alias derives the same key afterwards.
pub struct SeededKeyProvider {
    seed: Zeroizing<[u8; 32]>,
}

impl SeededKeyProvider {
    /// Creates a provider from any seed bytes.
    pub fn new(seed: &[u8]) -> Self {
        let digest: [u8; 32] = Sha256::digest(seed).into();
        SeededKeyProvider { seed: Zeroizing::new(digest) }
    }

    /// Creates the provider that all processes of a test run share. The seed comes from
    /// `SECURESTORE_TEST_SEED`, or a fixed test seed when it is unset.
    pub fn from_env() -> Self {
        let seed = std::env::var("SECURESTORE_TEST_SEED").unwrap_or_else(|_| "securestore test seed".to_owned());
        Self::new(seed.as_bytes())
    }

    fn platform_key(&self, alias: &str) -> SecretKey {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(self.seed.as_ref()).expect("HMAC takes any key length");
        mac.update(alias.as_bytes());
        let bytes = Zeroizing::new(<[u8; 32]>::from(mac.finalize().into_bytes()));
        SecretKey::from_slice(bytes.as_ref()).expect("32 bytes")
    }
}

impl KeyProvider for SeededKeyProvider {
    fn wrap(&self, request: &KeyRequest<'_>, key: &[u8]) -> Result<Vec<u8>, ProviderError> {
        crypto::seal(&self.platform_key(request.alias).cipher(), request.aad, key)
            .map_err(|e| ProviderError::Unavailable(format!("{e:?}")))
    }

    fn unwrap(&self, request: &KeyRequest<'_>, wrapped: &[u8]) -> Result<Zeroizing<Vec<u8>>, ProviderError> {
        crypto::open(&self.platform_key(request.alias).cipher(), request.aad, wrapped).ok_or(ProviderError::KeyLost)
    }

    fn delete_key(&self, _alias: &str) -> Result<(), ProviderError> {
        Ok(())
    }

    fn protection(&self, _authenticated: bool) -> Protection {
        Protection::Software
    }
}

/// Opens a store in `dir` with the default size limit.
pub fn open_store(dir: &Path, provider: Arc<dyn KeyProvider>) -> Store {
    let backend = FileBackend::open(dir, provider).expect("open the file backend");
    Store::new(Arc::new(backend), DEFAULT_MAX_VALUE_BYTES).expect("create the store")
}

/// Opens a store in `dir` with the seeded provider that every process of the run shares.
pub fn open_seeded_store(dir: &Path) -> Store {
    open_store(dir, Arc::new(SeededKeyProvider::from_env()))
}

/// Returns options for `service`.
pub fn service(name: &str) -> EntryOptions {
    EntryOptions::for_service(name)
}

/// Whether `SECURESTORE_FULL=1` requests the long settings.
pub fn full_run() -> bool {
    std::env::var("SECURESTORE_FULL").is_ok_and(|v| v == "1")
}

/// Reads a count from `var`, or returns `default` (`full` when `SECURESTORE_FULL=1`).
pub fn count(var: &str, default: usize, full: usize) -> usize {
    match std::env::var(var) {
        Ok(text) => text.parse().unwrap_or_else(|_| panic!("{var} must be a whole number, not {text:?}")),
        Err(_) if full_run() => full,
        Err(_) => default,
    }
}

/// Returns the random seed of a test: `SECURESTORE_RANDOM_SEED` when set, else a fresh one.
/// Tests print it so that a failing run can be repeated.
pub fn random_seed() -> u64 {
    if let Ok(text) = std::env::var("SECURESTORE_RANDOM_SEED") {
        return text.parse().expect("SECURESTORE_RANDOM_SEED must be a u64");
    }
    let mut bytes = [0u8; 8];
    crypto::fill_random(&mut bytes).expect("random seed");
    u64::from_le_bytes(bytes)
}

/// A small seeded generator (SplitMix64); good enough to pick test moments and sizes.
pub struct TestRng(u64);

impl TestRng {
    pub fn new(seed: u64) -> Self {
        TestRng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Returns a number in `0..bound`.
    pub fn below(&mut self, bound: u64) -> u64 {
        self.next_u64() % bound
    }
}

/// Hashes a number into a well-mixed `u64`, so that operation tables can be recomputed
/// from a sequence number alone in any process.
pub fn mix(value: u64) -> u64 {
    TestRng::new(value).next_u64()
}

/// A child process that runs one role of the current test binary.
pub struct ChildProcess {
    pub child: Child,
    stdin: Option<ChildStdin>,
    lines: BufReader<ChildStdout>,
}

impl ChildProcess {
    /// Starts the current test binary as a child in `role`, with extra environment variables.
    pub fn spawn(role: &str, envs: &[(&str, String)]) -> Self {
        Self::spawn_wrapped(&[], role, envs)
    }

    /// Starts the current test binary as a child in `role` through a wrapper command, such
    /// as `unshare --mount`.
    pub fn spawn_wrapped(wrapper: &[&str], role: &str, envs: &[(&str, String)]) -> Self {
        let exe = std::env::current_exe().expect("path of the test binary");
        let mut command = match wrapper.split_first() {
            Some((program, args)) => {
                let mut command = Command::new(program);
                command.args(args).arg(exe);
                command
            }
            None => Command::new(exe),
        };
        command
            .args([CHILD_TEST, "--exact", "--ignored", "--nocapture", "--test-threads=1"])
            .env(ROLE_VAR, role)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        for (name, value) in envs {
            command.env(name, value);
        }
        let mut child = command.spawn().expect("start a child process");
        let stdin = child.stdin.take();
        let lines = BufReader::new(child.stdout.take().expect("child stdout"));
        ChildProcess { child, stdin, lines }
    }

    /// Returns the next protocol line, without its prefix, or `None` at the end of output.
    pub fn next_line(&mut self) -> Option<String> {
        read_protocol_line(&mut self.lines)
    }

    /// Kills the child with SIGKILL at the moment `moment` picks, and returns the protocol
    /// lines it printed and whether the kill ended it (rather than an exit of its own).
    pub fn kill_at(mut self, moment: KillMoment) -> (Vec<String>, bool) {
        drop(self.stdin.take());
        let child = &mut self.child;
        let lines = &mut self.lines;
        let (line_sender, line_received) = std::sync::mpsc::channel();
        std::thread::scope(|scope| {
            let reader = scope.spawn(move || {
                let mut out = Vec::new();
                while let Some(line) = read_protocol_line(lines) {
                    let _ = line_sender.send(std::time::Instant::now());
                    out.push(line);
                }
                out
            });
            match moment {
                KillMoment::AfterDelay(delay) => std::thread::sleep(delay),
                KillMoment::AfterLines { count, fraction } => {
                    // The sender is dropped, ending the wait, if the child exits first.
                    let mut previous = std::time::Instant::now();
                    let mut gap = std::time::Duration::ZERO;
                    for _ in 0..count {
                        let Ok(at) = line_received.recv() else { break };
                        gap = at - previous;
                        previous = at;
                    }
                    std::thread::sleep(gap.mul_f64(fraction));
                }
            }
            // `Child::kill` sends SIGKILL on Unix: the child gets no chance to clean up.
            child.kill().expect("kill the child");
            let status = child.wait().expect("wait for the killed child");
            let lines = reader.join().expect("reader thread");
            #[cfg(unix)]
            let killed = std::os::unix::process::ExitStatusExt::signal(&status) == Some(9);
            #[cfg(not(unix))]
            let killed = !status.success();
            (lines, killed)
        })
    }

    /// Reads protocol lines until one starts with `word`, and returns it.
    pub fn expect_line(&mut self, word: &str) -> String {
        loop {
            match self.next_line() {
                Some(line) if line.starts_with(word) => return line,
                Some(line) if line.starts_with("ERROR") => panic!("child reported: {line}"),
                Some(_) => {}
                None => panic!("child output ended before a line starting with {word:?}"),
            }
        }
    }

    /// Sends one line to the child's standard input.
    pub fn send(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().expect("child stdin is open");
        writeln!(stdin, "{line}").expect("write to child");
        stdin.flush().expect("flush child stdin");
    }

    /// Closes the child's input and returns every protocol line it prints until it exits,
    /// checking that it exited successfully.
    pub fn collect(mut self) -> Vec<String> {
        drop(self.stdin.take());
        let mut lines = Vec::new();
        while let Some(line) = self.next_line() {
            lines.push(line);
        }
        let status = self.child.wait().expect("wait for child");
        assert!(status.success(), "child process failed: {status}; its output: {lines:?}");
        lines
    }

    /// Closes the child's input, waits for it and checks that it exited successfully.
    pub fn finish(mut self) {
        drop(self.stdin.take());
        while self.next_line().is_some() {}
        let status = self.child.wait().expect("wait for child");
        assert!(status.success(), "child process failed: {status}");
    }
}

fn read_protocol_line(reader: &mut BufReader<ChildStdout>) -> Option<String> {
    let mut line = String::new();
    loop {
        line.clear();
        if reader.read_line(&mut line).expect("read child output") == 0 {
            return None;
        }
        if let Some(start) = line.find(LINE_PREFIX) {
            return Some(line[start + LINE_PREFIX.len()..].trim_end().to_owned());
        }
    }
}

/// When [`ChildProcess::kill_at`] kills a child.
#[derive(Debug, Clone, Copy)]
pub enum KillMoment {
    /// A fixed time after the start.
    AfterDelay(std::time::Duration),
    /// After the child printed `count` protocol lines, plus `fraction` (0 to 1) of the time
    /// between its last two lines, so that the kill lands inside the next operation
    /// however fast the machine is.
    AfterLines { count: usize, fraction: f64 },
}

/// Prints a protocol line from a child process.
pub fn emit(line: impl AsRef<str>) {
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{LINE_PREFIX}{}", line.as_ref()).expect("write to parent");
    stdout.flush().expect("flush stdout");
}

/// Reads one line from the parent, or `None` when the parent closed the pipe.
pub fn receive() -> Option<String> {
    let mut line = String::new();
    match std::io::stdin().read_line(&mut line).expect("read from parent") {
        0 => None,
        _ => Some(line.trim_end().to_owned()),
    }
}

/// Returns the child role of this process, if it was started as a child.
pub fn child_role() -> Option<String> {
    std::env::var(ROLE_VAR).ok()
}

/// Reads a required environment variable of a child process.
pub fn child_var(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("the parent must set {name}"))
}

/// Names the files under `dir`, recursively, relative to it.
pub fn list_files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(current) = stack.pop() {
        for entry in std::fs::read_dir(&current).expect("read dir") {
            let entry = entry.expect("dir entry");
            let path = entry.path();
            if entry.file_type().expect("file type").is_dir() {
                stack.push(path);
            } else {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// Returns the only service directory under a store root that holds `service`.
pub fn service_dir(root: &Path, service: &str) -> std::path::PathBuf {
    root.join(format!("s-{}", hex::encode(crypto::service_id(service))))
}

/// Returns the entry files (`e-…`) of a service directory, sorted.
pub fn entry_files(service_dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files: Vec<_> = std::fs::read_dir(service_dir)
        .expect("read service dir")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with("e-")))
        .collect();
    files.sort();
    files
}
