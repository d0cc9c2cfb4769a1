//! Tests of the Keychain backend's own protocol: the calls it makes, the overwrite steps,
//! recovery from interrupted overwrites, access groups and error mapping.

use std::sync::Arc;

use crate::backend::contract::{FakeKeychainHarness, SHARED_GROUPS};
use super::fake::{FakeKeychain, ItemInfo, LockState, Operation, DEFAULT_TEST_ACCESS_GROUP};
use super::query::{self, ItemProtection, Scope};
use super::status::OsStatus;
use super::{can_use_biometric_authentication, BiometrySupport, KeychainBackend};
use crate::backend::{Access, Accessibility, Backend};
use crate::error::StoreError;
use crate::provider::Protection;

fn access(service: &str) -> Access<'_> {
    Access {
        service,
        accessible: Accessibility::default(),
        require_authentication: false,
        authentication_prompt: None,
        access_group: None,
    }
}

fn guarded(service: &str) -> Access<'_> {
    Access { require_authentication: true, accessible: Accessibility::WhenUnlocked, ..access(service) }
}

fn get(backend: &KeychainBackend, access: &Access<'_>, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
    backend.get(access, key).map(|value| value.map(|value| value.to_vec()))
}

/// Returns a harness whose default access group is already known, with its call log cleared.
fn warmed_up() -> FakeKeychainHarness {
    let harness = FakeKeychainHarness::new();
    harness.backend.list(&access("warm-up")).expect("find the default access group");
    harness.fake.clear_calls();
    harness
}

fn scope(service: &str) -> Scope {
    Scope::new(service, DEFAULT_TEST_ACCESS_GROUP)
}

fn accounts(fake: &FakeKeychain) -> Vec<String> {
    fake.items().into_iter().map(|item| item.account).collect()
}

#[test]
fn new_entry_is_one_add() {
    let h = warmed_up();
    h.backend.set(&access("svc"), "k", b"v").unwrap();
    assert_eq!(h.fake.calls(), [Operation::Add]);
    let item = &h.fake.items()[0];
    assert_eq!(item.service, "dev.securestore.v1/svc");
    assert_eq!(item.account, "k");
    assert_eq!(item.access_group, DEFAULT_TEST_ACCESS_GROUP);
    assert_eq!(item.label.as_deref(), Some("dev.securestore.v1;ck"));
    assert_eq!(item.accessible, Accessibility::AfterFirstUnlock);
    assert!(!item.access_controlled);
}

#[test]
fn same_protection_overwrite_updates_in_place() {
    let h = warmed_up();
    h.backend.set(&access("svc"), "k", b"old").unwrap();
    h.fake.clear_calls();
    h.backend.set(&access("svc"), "k", b"new").unwrap();
    assert_eq!(h.fake.calls(), [Operation::Add, Operation::Update]);
    assert_eq!(get(&h.backend, &access("svc"), "k"), Ok(Some(b"new".to_vec())));
}

#[test]
fn new_accessibility_overwrite_swaps() {
    let h = warmed_up();
    h.backend.set(&access("svc"), "k", b"old").unwrap();
    h.fake.clear_calls();
    let strict = Access { accessible: Accessibility::WhenUnlockedThisDeviceOnly, ..access("svc") };
    h.backend.set(&strict, "k", b"new").unwrap();
    let expected = [
        Operation::Add,    // errSecDuplicateItem
        Operation::Update, // the label of the old protection does not match
        Operation::Delete, // an old staged copy
        Operation::Add,    // the staged copy
        Operation::Delete, // the old item
        Operation::Add,    // the new item
        Operation::Delete, // the staged copy
    ];
    assert_eq!(h.fake.calls(), expected);
    let items = h.fake.items();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0].account, "k");
    assert_eq!(items[0].accessible, Accessibility::WhenUnlockedThisDeviceOnly);
    assert_eq!(items[0].label.as_deref(), Some("dev.securestore.v1;aku"));
}

#[test]
fn protection_update_is_one_call() {
    let h = FakeKeychainHarness::with_protection_updates();
    h.backend.set(&access("svc"), "k", b"old").unwrap();
    h.fake.clear_calls();
    let strict = Access { accessible: Accessibility::WhenUnlocked, ..access("svc") };
    h.backend.set(&strict, "k", b"new").unwrap();
    assert_eq!(h.fake.calls(), [Operation::Add, Operation::CopyMatching, Operation::Update]);
    let item = &h.fake.items()[0];
    assert_eq!(item.accessible, Accessibility::WhenUnlocked);
    assert_eq!(item.label.as_deref(), Some("dev.securestore.v1;ak"));
    assert_eq!(get(&h.backend, &strict, "k"), Ok(Some(b"new".to_vec())));
}

#[test]
fn authenticated_overwrite_never_updates() {
    for harness in [FakeKeychainHarness::new(), FakeKeychainHarness::with_protection_updates()] {
        harness.backend.set(&guarded("svc"), "k", b"old").unwrap();
        harness.fake.clear_calls();
        harness.backend.set(&guarded("svc"), "k", b"new").unwrap();
        assert!(!harness.fake.calls().contains(&Operation::Update));
        assert!(harness.fake.prompts().is_empty(), "a write must not ask for authentication");
        assert_eq!(get(&harness.backend, &guarded("svc"), "k"), Ok(Some(b"new".to_vec())));
    }
}

#[test]
fn authenticated_entry_uses_access_control() {
    let h = warmed_up();
    h.backend.set(&guarded("svc"), "k", b"v").unwrap();
    let item = &h.fake.items()[0];
    assert!(item.access_controlled);
    assert_eq!(item.accessible, Accessibility::WhenUnlocked);
    assert_eq!(item.label.as_deref(), Some("dev.securestore.v1;ak;biometry-current-set"));
}

#[test]
fn prompt_reaches_the_read() {
    let h = warmed_up();
    let prompted = Access { authentication_prompt: Some("Sign in to Example"), ..guarded("svc") };
    h.backend.set(&prompted, "k", b"v").unwrap();
    assert_eq!(get(&h.backend, &prompted, "k"), Ok(Some(b"v".to_vec())));
    assert_eq!(h.fake.prompts(), [Some("Sign in to Example".to_owned())]);
}

#[test]
fn cancelled_and_failed_authentication() {
    let h = warmed_up();
    h.backend.set(&guarded("svc"), "k", b"v").unwrap();
    h.fake.fail_next_authentication(OsStatus::USER_CANCELED);
    assert_eq!(get(&h.backend, &guarded("svc"), "k"), Err(StoreError::AuthenticationCancelled));
    h.fake.fail_next_authentication(OsStatus::AUTH_FAILED);
    assert!(matches!(get(&h.backend, &guarded("svc"), "k"), Err(StoreError::AuthenticationFailed { .. })));
    assert_eq!(get(&h.backend, &guarded("svc"), "k"), Ok(Some(b"v".to_vec())));
}

#[test]
fn interrupted_swap_leaves_readable_staged_copy() {
    let h = warmed_up();
    h.backend.set(&access("svc"), "k", b"old").unwrap();
    // Fail the add under `key` after the old item is gone: add, add (staged), add (entry).
    h.fake.fail_call(Operation::Add, 2, OsStatus::NOT_AVAILABLE);
    h.backend.set(&guarded("svc"), "k", b"new").expect("the staged copy makes the write durable");
    assert_eq!(accounts(&h.fake), ["k#staged"]);

    assert_eq!(get(&h.backend, &access("svc"), "k"), Ok(Some(b"new".to_vec())));
    assert_eq!(h.backend.list(&access("svc")).unwrap().keys, ["k"]);

    h.backend.set(&access("svc"), "k", b"newer").unwrap();
    assert_eq!(get(&h.backend, &access("svc"), "k"), Ok(Some(b"newer".to_vec())));
    h.backend.delete(&access("svc"), "k").unwrap();
    assert_eq!(get(&h.backend, &access("svc"), "k"), Ok(None));
    assert!(h.fake.items().is_empty(), "{:?}", h.fake.items());
}

#[test]
fn failed_swap_keeps_old_value() {
    let h = warmed_up();
    h.backend.set(&access("svc"), "k", b"old").unwrap();
    // Fail the delete of the old item: delete (stale staged), delete (old item).
    h.fake.fail_call(Operation::Delete, 1, OsStatus::NOT_AVAILABLE);
    let result = h.backend.set(&guarded("svc"), "k", b"new");
    match result {
        Err(StoreError::StorageFailure { operation, detail }) => {
            assert_eq!(operation, "replace the entry");
            assert!(detail.contains("errSecNotAvailable (-25291)"), "{detail}");
        }
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(accounts(&h.fake), ["k"]);
    assert_eq!(get(&h.backend, &access("svc"), "k"), Ok(Some(b"old".to_vec())));
}

#[test]
fn leftover_staged_copy_is_ignored() {
    let h = warmed_up();
    let scope = scope("svc");
    let plain = ItemProtection { accessible: Accessibility::AfterFirstUnlock, require_authentication: false };
    let stale = query::new_item(&scope, &query::staged_account("k"), plain, b"stale");
    super::KeychainApi::add(h.fake.as_ref(), &stale).unwrap();

    h.backend.set(&access("svc"), "k", b"current").unwrap();
    assert_eq!(get(&h.backend, &access("svc"), "k"), Ok(Some(b"current".to_vec())));
    assert_eq!(h.backend.list(&access("svc")).unwrap().keys, ["k"]);
    h.backend.delete(&access("svc"), "k").unwrap();
    assert_eq!(get(&h.backend, &access("svc"), "k"), Ok(None));
}

#[test]
fn leftover_staged_copy_beside_invalidated_entry() {
    let h = warmed_up();
    h.backend.set(&guarded("svc"), "k", b"bound").unwrap();
    let plain = ItemProtection { accessible: Accessibility::AfterFirstUnlock, require_authentication: false };
    let stale = query::new_item(&scope("svc"), &query::staged_account("k"), plain, b"stale");
    super::KeychainApi::add(h.fake.as_ref(), &stale).unwrap();

    h.fake.change_biometric_set();
    assert_eq!(get(&h.backend, &guarded("svc"), "k"), Ok(None));
}

#[test]
fn locked_before_first_unlock() {
    let h = warmed_up();
    let always = Access { accessible: Accessibility::AlwaysThisDeviceOnly, ..access("svc") };
    h.backend.set(&always, "always", b"1").unwrap();
    h.backend.set(&access("svc"), "default", b"2").unwrap();
    h.fake.set_lock_state(LockState::LockedBeforeFirstUnlock);
    assert_eq!(get(&h.backend, &always, "always"), Ok(Some(b"1".to_vec())));
    assert_eq!(get(&h.backend, &access("svc"), "default"), Err(StoreError::DeviceLocked));
    assert_eq!(h.backend.list(&access("svc")), Err(StoreError::DeviceLocked));
}

#[test]
fn default_group_is_found_once() {
    let fake = Arc::new(FakeKeychain::with_access_groups(&["T.app", "T.shared"]));
    let backend = KeychainBackend::new(fake.clone(), BiometrySupport::Supported);
    backend.set(&access("svc"), "k", b"v").unwrap();
    assert_eq!(fake.calls(), [Operation::Add, Operation::CopyMatching, Operation::Delete, Operation::Add]);
    let items = fake.items();
    assert_eq!(items.len(), 1, "the probe item is deleted: {items:?}");
    assert_eq!(items[0].access_group, "T.app");

    fake.clear_calls();
    backend.set(&Access { access_group: Some("T.shared"), ..access("svc") }, "k", b"shared").unwrap();
    assert_eq!(get(&backend, &access("svc"), "k"), Ok(Some(b"v".to_vec())));
    assert_eq!(fake.calls(), [Operation::Add, Operation::CopyMatching]);
}

#[test]
fn unsigned_app_gets_configuration_error() {
    let fake = Arc::new(FakeKeychain::with_access_groups(&[]));
    let backend = KeychainBackend::new(fake, BiometrySupport::Supported);
    match backend.set(&access("svc"), "k", b"v") {
        Err(StoreError::Configuration { detail }) => {
            assert!(detail.contains("default access group"), "{detail}");
            assert!(detail.contains("keychain-access-groups"), "{detail}");
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn unentitled_group_gets_configuration_error() {
    let h = warmed_up();
    let other = Access { access_group: Some("ZZZZZ99999.not.ours"), ..access("svc") };
    for result in [h.backend.set(&other, "k", b"v"), get(&h.backend, &other, "k").map(|_| ()), h.backend.delete(&other, "k")] {
        match result {
            Err(StoreError::Configuration { detail }) => {
                assert!(detail.contains("\"ZZZZZ99999.not.ours\""), "{detail}");
                assert!(detail.contains("Keychain Sharing"), "{detail}");
            }
            other => panic!("unexpected {other:?}"),
        }
    }
}

#[test]
fn empty_access_group_is_rejected() {
    let h = warmed_up();
    let empty = Access { access_group: Some(""), ..access("svc") };
    assert!(matches!(h.backend.set(&empty, "k", b"v"), Err(StoreError::Configuration { .. })));
    assert!(h.fake.calls().is_empty());
}

#[test]
fn shared_groups_list_separately() {
    let h = warmed_up();
    let shared = Access { access_group: Some(SHARED_GROUPS[0]), ..access("svc") };
    h.backend.set(&shared, "only-shared", b"1").unwrap();
    h.backend.set(&access("svc"), "only-default", b"2").unwrap();
    assert_eq!(h.backend.list(&shared).unwrap().keys, ["only-shared"]);
    assert_eq!(h.backend.list(&access("svc")).unwrap().keys, ["only-default"]);
}

#[test]
fn tvos_rejects_authentication() {
    let fake = Arc::new(FakeKeychain::new());
    let backend = KeychainBackend::new(fake.clone(), BiometrySupport::Unsupported);
    match backend.set(&guarded("svc"), "k", b"v") {
        Err(StoreError::UnsupportedOption { option, reason }) => {
            assert_eq!(option, "requireAuthentication");
            assert!(reason.contains("tvOS"), "{reason}");
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(fake.calls().is_empty());
    backend.set(&access("svc"), "k", b"v").unwrap();
}

#[test]
fn always_classes_reject_authentication() {
    let h = warmed_up();
    for accessible in [Accessibility::Always, Accessibility::AlwaysThisDeviceOnly] {
        let always = Access { accessible, ..guarded("svc") };
        match h.backend.set(&always, "k", b"v") {
            Err(StoreError::UnsupportedOption { option, .. }) => assert_eq!(option, "keychainAccessible"),
            other => panic!("{accessible:?}: unexpected {other:?}"),
        }
    }
    assert!(h.fake.items().is_empty());
}

#[test]
fn foreign_accounts_count_as_unreadable() {
    let h = warmed_up();
    h.backend.set(&access("svc"), "mine", b"1").unwrap();
    for account in ["user@example.com", "", "a b", "x#other"] {
        h.fake.insert_foreign_item(ItemInfo {
            access_group: DEFAULT_TEST_ACCESS_GROUP.to_owned(),
            service: query::keychain_service("svc"),
            account: account.to_owned(),
            label: None,
            accessible: Accessibility::WhenUnlocked,
            access_controlled: false,
            data: zeroize::Zeroizing::new(b"foreign".to_vec()),
        });
    }
    let listing = h.backend.list(&access("svc")).unwrap();
    assert_eq!(listing.keys, ["mine"]);
    assert_eq!(listing.unreadable_entries, 4);
}

#[test]
fn failures_map_to_typed_errors() {
    let h = warmed_up();
    h.backend.set(&access("svc"), "k", b"v").unwrap();
    h.fake.fail_call(Operation::CopyMatching, 0, OsStatus::INTERACTION_NOT_ALLOWED);
    assert_eq!(get(&h.backend, &access("svc"), "k"), Err(StoreError::DeviceLocked));
    h.fake.fail_call(Operation::Delete, 0, OsStatus::DECODE);
    match h.backend.delete(&access("svc"), "k") {
        Err(StoreError::StorageFailure { operation, detail }) => {
            assert_eq!(operation, "delete the entry");
            assert_eq!(detail, "the Keychain returned errSecDecode (-26275)");
        }
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(get(&h.backend, &access("svc"), "k"), Ok(Some(b"v".to_vec())));
    h.fake.fail_call(Operation::Add, 0, OsStatus(-1));
    assert!(matches!(h.backend.set(&access("svc"), "k2", b"v"), Err(StoreError::StorageFailure { .. })));
}

#[test]
fn protection_is_os_credential_store() {
    let h = warmed_up();
    assert_eq!(h.backend.protection(&access("svc")), Protection::OsCredentialStore);
    assert_eq!(h.backend.protection(&guarded("svc")), Protection::OsCredentialStore);
}

#[test]
fn biometric_check_outside_apple() {
    // This test runs on Linux, where no Keychain and no LocalAuthentication exist.
    if !cfg!(target_vendor = "apple") {
        assert_eq!(can_use_biometric_authentication(), Some(false));
    }
}

#[test]
fn store_validates_before_keychain() {
    let fake = Arc::new(FakeKeychain::new());
    let backend = Arc::new(KeychainBackend::new(fake.clone(), BiometrySupport::Supported));
    let store = crate::store::Store::new(backend, crate::validate::DEFAULT_MAX_VALUE_BYTES).unwrap();
    let options = crate::store::EntryOptions::default();
    assert!(matches!(store.set("a/b", b"v", &options), Err(StoreError::InvalidKey { .. })));
    assert!(matches!(store.set("k", &[0u8; 2049], &options), Err(StoreError::ValueTooLarge { .. })));
    assert!(fake.calls().is_empty());

    store.set("k", b"v", &options).unwrap();
    assert_eq!(store.get("k", &options).unwrap().map(|v| v.to_vec()), Some(b"v".to_vec()));
    let item = fake.items().into_iter().find(|item| item.account == "k").unwrap();
    assert_eq!(item.service, "dev.securestore.v1/dev.securestore.default");
}
