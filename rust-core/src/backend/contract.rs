//! The backend contract: behaviour every [`Backend`] keeps, written once for all of them.
//!
//! Each case is a function over a [`ContractHarness`], which hands out the backend under test
//! and the hooks a case needs to simulate the platform (a locked device, a biometric
//! enrolment change, a failing write). A case whose hook the harness lacks checks nothing
//! more than the harness supports, as [`Features`] declares. [`backend_contract_tests!`]
//! turns every case into a `#[test]` for one harness; this file runs it against the
//! Keychain backend over [`FakeKeychain`] and against the encrypted-files backend.

use std::sync::Arc;

use crate::backend::keychain::fake::{FakeKeychain, ItemInfo, LockState, DEFAULT_TEST_ACCESS_GROUP};
use crate::backend::keychain::query;
use crate::backend::keychain::status::OsStatus;
use crate::backend::keychain::{BiometrySupport, KeychainBackend};
use crate::backend::{Access, Accessibility, Backend};
use crate::error::StoreError;

/// The optional behaviours a harness can simulate.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Features {
    /// [`ContractHarness::stored_accessibility`] reports the class an entry was stored with.
    pub accessibility: bool,
    /// Entries in different access groups are separate, and
    /// [`ContractHarness::shared_access_groups`] names groups the app may use.
    pub access_groups: bool,
    /// [`ContractHarness::lock_device`] locks the device.
    pub device_lock: bool,
    /// `require_authentication` is supported.
    pub authentication: bool,
    /// [`ContractHarness::change_biometric_set`] invalidates authenticated entries.
    pub biometric_change: bool,
    /// [`ContractHarness::write_foreign_entries`] writes entries as other code would.
    pub foreign_entries: bool,
    /// [`ContractHarness::fail_storage_call`] makes a storage call fail.
    pub write_failures: bool,
}

/// A backend under test with its platform hooks.
pub(crate) trait ContractHarness {
    /// Returns the backend under test.
    fn backend(&self) -> &dyn Backend;

    /// Returns the behaviours this harness simulates.
    fn features(&self) -> Features;

    /// Locks the device after its first unlock.
    fn lock_device(&self) {}

    /// Unlocks the device.
    fn unlock_device(&self) {}

    /// Enrols a new finger or face.
    fn change_biometric_set(&self) {}

    /// Returns the accessibility class the entry is stored with.
    fn stored_accessibility(&self, _service: &str, _key: &str) -> Option<Accessibility> {
        None
    }

    /// Returns access groups the app is entitled to besides its default group.
    fn shared_access_groups(&self) -> Vec<String> {
        Vec::new()
    }

    /// Writes entries for `(service, key)` as other code would: the same names without this
    /// library's encoding, other services and another app's access group.
    fn write_foreign_entries(&self, _service: &str, _key: &str) {}

    /// Returns whether every entry written by `write_foreign_entries` is unchanged.
    fn foreign_entries_intact(&self) -> bool {
        true
    }

    /// Makes the storage call after the next `skip` ones fail.
    fn fail_storage_call(&self, _skip: usize) {}

    /// Removes failures armed by `fail_storage_call` that have not fired.
    fn clear_storage_failures(&self) {}
}

/// Generates one `#[test]` per contract case for the harness that `$harness` creates.
macro_rules! backend_contract_tests {
    ($harness:expr) => {
        $crate::backend::contract::backend_contract_tests!(@cases $harness;
            get_absent_returns_none,
            round_trip_all_sizes,
            round_trip_special_values,
            overwrite_replaces_value,
            overwrite_is_atomic,
            overwrite_applies_new_accessibility,
            services_are_isolated,
            keys_are_case_sensitive,
            delete_missing_key_succeeds,
            delete_removes_only_its_entry,
            list_keys_sorted_per_service,
            delete_service_keeps_other_services,
            access_groups_kept_apart,
            locked_device_reports_device_locked,
            default_accessibility_readable_while_locked,
            authenticated_round_trip,
            biometric_change_loses_bound_entries,
            foreign_entries_never_touched,
        );
    };
    (@cases $harness:expr; $($case:ident),* $(,)?) => {
        $(
            #[test]
            fn $case() {
                let harness = $harness;
                $crate::backend::contract::$case(&harness);
            }
        )*
    };
}
pub(crate) use backend_contract_tests;

fn access(service: &str) -> Access<'_> {
    Access {
        service,
        accessible: Accessibility::default(),
        require_authentication: false,
        authentication_prompt: None,
        access_group: None,
    }
}

fn get(backend: &dyn Backend, access: &Access<'_>, key: &str) -> Option<Vec<u8>> {
    match backend.get(access, key) {
        Ok(value) => value.map(|value| value.to_vec()),
        Err(err) => panic!("get {key:?} in {:?} failed: {err}", access.service),
    }
}

fn set(backend: &dyn Backend, access: &Access<'_>, key: &str, value: &[u8]) {
    if let Err(err) = backend.set(access, key, value) {
        panic!("set {key:?} in {:?} failed: {err}", access.service);
    }
}

/// Returns a UTF-8 value of exactly `len` bytes mixing NUL, emoji, newlines and other
/// multi-byte characters.
fn mixed_value(len: usize) -> Vec<u8> {
    let pattern = ['a', '\0', '😀', '\n', '\r', 'ß', ' ', '\t', '€'];
    let mut text = String::with_capacity(len);
    for c in pattern.iter().cycle() {
        if text.len() == len {
            break;
        }
        let next = if text.len() + c.len_utf8() <= len { *c } else { 'x' };
        text.push(next);
    }
    text.into_bytes()
}

/// Returns the value sizes the round-trip case writes: every size up to 300 bytes, then a
/// stride through 2048 with the powers of two and their neighbours.
fn round_trip_sizes() -> Vec<usize> {
    let mut sizes: Vec<usize> = (0..=300).chain((301..2048).step_by(7)).collect();
    sizes.extend([511, 512, 513, 1023, 1024, 1025, 2047, 2048]);
    sizes.sort_unstable();
    sizes.dedup();
    sizes
}

pub(crate) fn get_absent_returns_none(h: &dyn ContractHarness) {
    let backend = h.backend();
    assert_eq!(get(backend, &access("svc"), "missing"), None);
    set(backend, &access("svc"), "present", b"1");
    assert_eq!(get(backend, &access("svc"), "missing"), None);
    assert_eq!(get(backend, &access("other"), "present"), None);
}

pub(crate) fn round_trip_all_sizes(h: &dyn ContractHarness) {
    let backend = h.backend();
    let svc = access("svc");
    for size in round_trip_sizes() {
        let value = mixed_value(size);
        assert_eq!(value.len(), size);
        set(backend, &svc, "sized", &value);
        assert_eq!(get(backend, &svc, "sized"), Some(value), "size {size}");
    }
}

pub(crate) fn round_trip_special_values(h: &dyn ContractHarness) {
    let backend = h.backend();
    let svc = access("svc");
    let every_byte: Vec<u8> = (0..=255).collect();
    let values: [&[u8]; 10] = [
        b"",
        b" ",
        b"\0",
        b"a\0b\0",
        "😀👍🏽".as_bytes(),
        b"line1\nline2\r\nline3\n",
        "\u{feff}bom".as_bytes(),
        "  padded  ".as_bytes(),
        "tök\u{200d}🧑‍💻".as_bytes(),
        &every_byte,
    ];
    for (index, value) in values.iter().enumerate() {
        let key = format!("special{index}");
        set(backend, &svc, &key, value);
        assert_eq!(get(backend, &svc, &key).as_deref(), Some(*value), "value {index}");
    }
}

pub(crate) fn overwrite_replaces_value(h: &dyn ContractHarness) {
    let backend = h.backend();
    let svc = access("svc");
    set(backend, &svc, "token", b"first");
    set(backend, &svc, "token", b"second");
    assert_eq!(get(backend, &svc, "token"), Some(b"second".to_vec()));
    set(backend, &svc, "token", b"");
    assert_eq!(get(backend, &svc, "token"), Some(Vec::new()));
    assert_eq!(backend.list(&svc).map(|listing| listing.keys), Ok(vec!["token".to_owned()]));
}

pub(crate) fn overwrite_is_atomic(h: &dyn ContractHarness) {
    if !h.features().write_failures {
        return;
    }
    let backend = h.backend();
    let mut variants = vec![(Accessibility::AfterFirstUnlock, false), (Accessibility::WhenUnlocked, false)];
    if h.features().authentication {
        variants.push((Accessibility::WhenUnlocked, true));
    }
    // Every combination of old and new protection, failing each storage call in turn.
    for (old_accessible, old_auth) in variants.clone() {
        for &(new_accessible, new_auth) in &variants {
            for skip in 0..12 {
                let old = Access { accessible: old_accessible, require_authentication: old_auth, ..access("atomic") };
                let new = Access { accessible: new_accessible, require_authentication: new_auth, ..access("atomic") };
                let case = format!("{old_accessible:?}/{old_auth} -> {new_accessible:?}/{new_auth}, failing call {skip}");
                backend.delete_service(&old).unwrap_or_else(|e| panic!("{case}: cleanup failed: {e}"));
                set(backend, &old, "k", b"old");

                h.fail_storage_call(skip);
                let result = backend.set(&new, "k", b"new");
                h.clear_storage_failures();

                let expected: &[u8] = if result.is_ok() { b"new" } else { b"old" };
                assert_eq!(get(backend, &new, "k").as_deref(), Some(expected), "{case}: {result:?}");
                assert_eq!(backend.list(&new).map(|l| l.keys), Ok(vec!["k".to_owned()]), "{case}");
                set(backend, &new, "k", b"again");
                assert_eq!(get(backend, &new, "k").as_deref(), Some(b"again".as_slice()), "{case}");
            }
        }
    }
}

pub(crate) fn overwrite_applies_new_accessibility(h: &dyn ContractHarness) {
    if !h.features().accessibility {
        return;
    }
    let backend = h.backend();
    let classes = [
        Accessibility::AfterFirstUnlock,
        Accessibility::AfterFirstUnlockThisDeviceOnly,
        Accessibility::Always,
        Accessibility::WhenPasscodeSetThisDeviceOnly,
        Accessibility::AlwaysThisDeviceOnly,
        Accessibility::WhenUnlocked,
        Accessibility::WhenUnlockedThisDeviceOnly,
    ];
    for (index, accessible) in classes.into_iter().enumerate() {
        let svc = Access { accessible, ..access("svc") };
        let value = format!("value {index}");
        set(backend, &svc, "token", value.as_bytes());
        assert_eq!(h.stored_accessibility("svc", "token"), Some(accessible));
        assert_eq!(get(backend, &svc, "token"), Some(value.into_bytes()), "{accessible:?}");
    }
    let listing = backend.list(&access("svc")).map(|listing| listing.keys);
    assert_eq!(listing, Ok(vec!["token".to_owned()]));
}

pub(crate) fn services_are_isolated(h: &dyn ContractHarness) {
    let backend = h.backend();
    let (a, b) = (access("svcA"), access("svcB"));
    set(backend, &a, "token", b"from A");
    set(backend, &b, "token", b"from B");
    assert_eq!(get(backend, &a, "token"), Some(b"from A".to_vec()));
    assert_eq!(get(backend, &b, "token"), Some(b"from B".to_vec()));

    backend.delete(&a, "token").expect("delete in svcA");
    assert_eq!(get(backend, &a, "token"), None);
    assert_eq!(get(backend, &b, "token"), Some(b"from B".to_vec()));

    // Service names that differ only in case, or by a prefix, are different services.
    for other in ["svcb", "SVCB", "svcB/", "svc", "B"] {
        assert_eq!(get(backend, &access(other), "token"), None, "{other}");
    }
}

pub(crate) fn keys_are_case_sensitive(h: &dyn ContractHarness) {
    let backend = h.backend();
    let svc = access("svc");
    set(backend, &svc, "Token", b"upper");
    set(backend, &svc, "token", b"lower");
    assert_eq!(get(backend, &svc, "Token"), Some(b"upper".to_vec()));
    assert_eq!(get(backend, &svc, "token"), Some(b"lower".to_vec()));
    assert_eq!(get(backend, &svc, "TOKEN"), None);
    backend.delete(&svc, "token").expect("delete token");
    assert_eq!(get(backend, &svc, "Token"), Some(b"upper".to_vec()));
}

pub(crate) fn delete_missing_key_succeeds(h: &dyn ContractHarness) {
    let backend = h.backend();
    assert_eq!(backend.delete(&access("never-used"), "missing"), Ok(()));
    set(backend, &access("svc"), "present", b"1");
    assert_eq!(backend.delete(&access("svc"), "missing"), Ok(()));
    assert_eq!(backend.delete(&access("svc"), "present"), Ok(()));
    assert_eq!(backend.delete(&access("svc"), "present"), Ok(()));
    assert_eq!(backend.delete_service(&access("never-used")), Ok(()));
}

pub(crate) fn delete_removes_only_its_entry(h: &dyn ContractHarness) {
    let backend = h.backend();
    let svc = access("svc");
    set(backend, &svc, "a", b"1");
    set(backend, &svc, "b", b"2");
    backend.delete(&svc, "a").expect("delete a");
    assert_eq!(get(backend, &svc, "a"), None);
    assert_eq!(get(backend, &svc, "b"), Some(b"2".to_vec()));
    set(backend, &svc, "a", b"3");
    assert_eq!(get(backend, &svc, "a"), Some(b"3".to_vec()));
}

pub(crate) fn list_keys_sorted_per_service(h: &dyn ContractHarness) {
    let backend = h.backend();
    assert_eq!(backend.list(&access("empty")).map(|listing| listing.keys), Ok(Vec::new()));
    let svc = access("svc");
    for key in ["b", "A", "a", "c.d", "_x", "Z-1"] {
        set(backend, &svc, key, key.as_bytes());
    }
    set(backend, &access("other"), "zzz", b"1");
    let listing = backend.list(&svc).expect("list svc");
    assert_eq!(listing.keys, ["A", "Z-1", "_x", "a", "b", "c.d"]);
    assert_eq!(listing.unreadable_entries, 0);
    assert!(!listing.root_key_lost);
}

pub(crate) fn delete_service_keeps_other_services(h: &dyn ContractHarness) {
    let backend = h.backend();
    let (doomed, kept) = (access("doomed"), access("kept"));
    for key in ["a", "b", "c"] {
        set(backend, &doomed, key, b"1");
        set(backend, &kept, key, b"2");
    }
    backend.delete_service(&doomed).expect("delete service");
    assert_eq!(backend.list(&doomed).map(|listing| listing.keys), Ok(Vec::new()));
    assert_eq!(get(backend, &doomed, "a"), None);
    assert_eq!(backend.list(&kept).map(|listing| listing.keys.len()), Ok(3));
    assert_eq!(get(backend, &kept, "a"), Some(b"2".to_vec()));
    set(backend, &doomed, "a", b"again");
    assert_eq!(get(backend, &doomed, "a"), Some(b"again".to_vec()));
}

pub(crate) fn access_groups_kept_apart(h: &dyn ContractHarness) {
    if !h.features().access_groups {
        return;
    }
    let backend = h.backend();
    let groups = h.shared_access_groups();
    assert!(groups.len() >= 2, "the harness names at least two shared groups");
    let default = access("svc");
    let first = Access { access_group: Some(&groups[0]), ..access("svc") };
    let second = Access { access_group: Some(&groups[1]), ..access("svc") };

    set(backend, &default, "token", b"default");
    set(backend, &first, "token", b"first");
    set(backend, &second, "token", b"second");
    assert_eq!(get(backend, &default, "token"), Some(b"default".to_vec()));
    assert_eq!(get(backend, &first, "token"), Some(b"first".to_vec()));
    assert_eq!(get(backend, &second, "token"), Some(b"second".to_vec()));

    backend.delete_service(&first).expect("delete the first group's service");
    assert_eq!(get(backend, &first, "token"), None);
    assert_eq!(get(backend, &default, "token"), Some(b"default".to_vec()));
    assert_eq!(backend.list(&second).map(|listing| listing.keys), Ok(vec!["token".to_owned()]));
}

pub(crate) fn locked_device_reports_device_locked(h: &dyn ContractHarness) {
    if !h.features().device_lock {
        return;
    }
    let backend = h.backend();
    let strict = Access { accessible: Accessibility::WhenUnlocked, ..access("svc") };
    set(backend, &strict, "token", b"old");

    h.lock_device();
    assert_eq!(backend.get(&strict, "token").map(|v| v.map(|v| v.to_vec())), Err(StoreError::DeviceLocked));
    assert_eq!(backend.set(&strict, "token", b"new"), Err(StoreError::DeviceLocked));
    assert_eq!(backend.set(&strict, "fresh", b"new"), Err(StoreError::DeviceLocked));
    h.unlock_device();

    assert_eq!(get(backend, &strict, "token"), Some(b"old".to_vec()));
    assert_eq!(get(backend, &strict, "fresh"), None);
}

pub(crate) fn default_accessibility_readable_while_locked(h: &dyn ContractHarness) {
    if !h.features().device_lock {
        return;
    }
    let backend = h.backend();
    let svc = access("svc");
    set(backend, &svc, "token", b"background");
    h.lock_device();
    assert_eq!(get(backend, &svc, "token"), Some(b"background".to_vec()));
    set(backend, &svc, "token", b"refreshed");
    assert_eq!(get(backend, &svc, "token"), Some(b"refreshed".to_vec()));
    h.unlock_device();
}

pub(crate) fn authenticated_round_trip(h: &dyn ContractHarness) {
    if !h.features().authentication {
        return;
    }
    let backend = h.backend();
    let guarded = Access {
        require_authentication: true,
        authentication_prompt: Some("Unlock your token"),
        accessible: Accessibility::WhenUnlockedThisDeviceOnly,
        ..access("svc")
    };
    set(backend, &guarded, "token", b"secret");
    assert_eq!(get(backend, &guarded, "token"), Some(b"secret".to_vec()));
    set(backend, &guarded, "token", b"rotated");
    assert_eq!(get(backend, &guarded, "token"), Some(b"rotated".to_vec()));

    // The identity is (service, key): the same entry is reachable without the option, and
    // an overwrite without it makes the entry plain.
    assert_eq!(get(backend, &access("svc"), "token"), Some(b"rotated".to_vec()));
    set(backend, &access("svc"), "token", b"plain");
    assert_eq!(get(backend, &guarded, "token"), Some(b"plain".to_vec()));
    assert_eq!(backend.list(&guarded).map(|listing| listing.keys), Ok(vec!["token".to_owned()]));
}

pub(crate) fn biometric_change_loses_bound_entries(h: &dyn ContractHarness) {
    let features = h.features();
    if !(features.authentication && features.biometric_change) {
        return;
    }
    let backend = h.backend();
    let plain = access("svc");
    let guarded = Access { require_authentication: true, ..access("svc") };
    set(backend, &plain, "plain", b"kept");
    set(backend, &guarded, "guarded", b"lost");
    set(backend, &guarded, "guarded-too", b"lost too");

    h.change_biometric_set();
    assert_eq!(get(backend, &guarded, "guarded"), None);
    assert_eq!(get(backend, &plain, "plain"), Some(b"kept".to_vec()));

    set(backend, &guarded, "guarded", b"new");
    assert_eq!(get(backend, &guarded, "guarded"), Some(b"new".to_vec()));
    set(backend, &plain, "guarded-too", b"now plain");
    assert_eq!(get(backend, &plain, "guarded-too"), Some(b"now plain".to_vec()));
    assert_eq!(get(backend, &plain, "plain"), Some(b"kept".to_vec()));
}

pub(crate) fn foreign_entries_never_touched(h: &dyn ContractHarness) {
    if !h.features().foreign_entries {
        return;
    }
    let backend = h.backend();
    let svc = access("svc");
    h.write_foreign_entries("svc", "token");
    assert_eq!(get(backend, &svc, "token"), None);
    assert_eq!(backend.list(&svc).map(|listing| listing.keys), Ok(Vec::new()));

    set(backend, &svc, "token", b"ours");
    assert_eq!(get(backend, &svc, "token"), Some(b"ours".to_vec()));
    backend.delete(&svc, "token").expect("delete");
    set(backend, &svc, "other", b"ours");
    backend.delete_service(&svc).expect("delete service");
    assert!(h.foreign_entries_intact());
}

/// The Keychain backend over [`FakeKeychain`], with a shared access group besides the default.
pub(crate) struct FakeKeychainHarness {
    pub fake: Arc<FakeKeychain>,
    pub backend: KeychainBackend,
    foreign: std::sync::Mutex<Vec<ItemInfo>>,
}

/// The groups of the fake's app: its default group and two shared ones.
pub(crate) const SHARED_GROUPS: [&str; 2] = ["ABCDE12345.dev.securestore.shared", "ABCDE12345.dev.securestore.other"];

impl FakeKeychainHarness {
    /// Creates a harness whose fake cannot change protection in an update.
    pub fn new() -> Self {
        let fake = Arc::new(FakeKeychain::with_access_groups(&[
            DEFAULT_TEST_ACCESS_GROUP,
            SHARED_GROUPS[0],
            SHARED_GROUPS[1],
        ]));
        let backend = KeychainBackend::new(fake.clone(), BiometrySupport::Supported);
        FakeKeychainHarness { fake, backend, foreign: std::sync::Mutex::new(Vec::new()) }
    }

    /// Creates a harness whose fake updates accessibility in place, like the real Keychain.
    pub fn with_protection_updates() -> Self {
        let harness = Self::new();
        harness.fake.set_protection_updates(true);
        harness
    }
}

impl ContractHarness for FakeKeychainHarness {
    fn backend(&self) -> &dyn Backend {
        &self.backend
    }

    fn features(&self) -> Features {
        Features {
            accessibility: true,
            access_groups: true,
            device_lock: true,
            authentication: true,
            biometric_change: true,
            foreign_entries: true,
            write_failures: true,
        }
    }

    fn lock_device(&self) {
        self.fake.set_lock_state(LockState::LockedAfterFirstUnlock);
    }

    fn unlock_device(&self) {
        self.fake.set_lock_state(LockState::Unlocked);
    }

    fn change_biometric_set(&self) {
        self.fake.change_biometric_set();
    }

    fn stored_accessibility(&self, service: &str, key: &str) -> Option<Accessibility> {
        let service = query::keychain_service(service);
        let items = self.fake.items();
        let item = items.iter().find(|item| item.service == service && item.account == query::entry_account(key))?;
        Some(item.accessible)
    }

    fn shared_access_groups(&self) -> Vec<String> {
        SHARED_GROUPS.iter().map(|group| (*group).to_owned()).collect()
    }

    fn write_foreign_entries(&self, service: &str, key: &str) {
        let item = |access_group: &str, service: String, account: &str| ItemInfo {
            access_group: access_group.to_owned(),
            service,
            account: account.to_owned(),
            label: None,
            accessible: Accessibility::WhenUnlocked,
            access_controlled: false,
            data: zeroize::Zeroizing::new(b"foreign".to_vec()),
        };
        let items = [
            // Other code using the same service name without this library's prefix.
            item(DEFAULT_TEST_ACCESS_GROUP, service.to_owned(), key),
            // Another version or library with a similar prefix.
            item(DEFAULT_TEST_ACCESS_GROUP, format!("dev.securestore.v2/{service}"), key),
            item(DEFAULT_TEST_ACCESS_GROUP, "com.example.other".to_owned(), key),
            // This library's encoding in another team's access group.
            item("ZZZZZ99999.com.example.app", query::keychain_service(service), key),
        ];
        let mut foreign = self.foreign.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        for info in items {
            self.fake.insert_foreign_item(info.clone());
            foreign.push(info);
        }
    }

    fn foreign_entries_intact(&self) -> bool {
        let items = self.fake.items();
        let foreign = self.foreign.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        foreign.iter().all(|expected| items.contains(expected))
    }

    fn fail_storage_call(&self, skip: usize) {
        self.fake.fail_any_call(skip, OsStatus::NOT_AVAILABLE);
    }

    fn clear_storage_failures(&self) {
        self.fake.clear_failures();
    }
}

mod fake_keychain {
    use super::FakeKeychainHarness;

    super::backend_contract_tests!(FakeKeychainHarness::new());
}

mod fake_keychain_with_protection_updates {
    use super::FakeKeychainHarness;

    super::backend_contract_tests!(FakeKeychainHarness::with_protection_updates());
}

/// The encrypted-files backend over a temporary directory, with in-memory platform keys that
/// support authentication.
pub(crate) struct FileHarness {
    _dir: tempfile::TempDir,
    provider: Arc<crate::testing::MemoryKeyProvider>,
    backend: crate::backend::files::FileBackend,
}

impl FileHarness {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().expect("temporary directory");
        let provider = Arc::new(crate::testing::MemoryKeyProvider::with_authentication());
        let backend = crate::backend::files::FileBackend::open(dir.path(), provider.clone()).expect("open the store");
        FileHarness { _dir: dir, provider, backend }
    }
}

impl ContractHarness for FileHarness {
    fn backend(&self) -> &dyn Backend {
        &self.backend
    }

    fn features(&self) -> Features {
        Features { authentication: true, biometric_change: true, ..Features::default() }
    }

    fn change_biometric_set(&self) {
        // A new enrolment permanently invalidates every key that needs authentication.
        for alias in self.provider.aliases() {
            if alias.ends_with(".auth") {
                self.provider.lose_key(&alias);
            }
        }
    }
}

mod files {
    use super::FileHarness;

    super::backend_contract_tests!(FileHarness::new());
}
