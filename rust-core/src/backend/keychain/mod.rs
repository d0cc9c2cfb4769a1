//! The Keychain backend, used on iOS and tvOS: each entry is one generic-password item.
//!
//! # Item layout
//!
//! | attribute | value |
//! |---|---|
//! | `kSecClass` | `kSecClassGenericPassword` |
//! | `kSecAttrService` | `dev.securestore.v1/` followed by the service name |
//! | `kSecAttrAccount` | the key, unchanged |
//! | `kSecAttrAccessGroup` | the requested group, or the app's default group |
//! | `kSecAttrLabel` | the protection, for example `dev.securestore.v1;ck` or `dev.securestore.v1;ak;biometry-current-set` |
//! | `kSecAttrAccessible` | the accessibility class, for plain entries |
//! | `kSecAttrAccessControl` | class plus `kSecAccessControlBiometryCurrentSet`, for `requireAuthentication` |
//! | `kSecValueData` | the value |
//!
//! Every query also sets `kSecUseDataProtectionKeychain`, so macOS uses the same keychain as
//! iOS.
//!
//! The service prefix puts all of a service's entries under one exact `kSecAttrService`, so
//! listing the keys of a service is a single `SecItemCopyMatching` and deleting a service a
//! single `SecItemDelete`. Items written by other code do not match unless their service
//! starts with this prefix, and the version in the prefix lets a future layout use a new one. Keys contain only `A-Z a-z 0-9 . - _`, so they are valid accounts as they are,
//! and the Keychain matches them case-sensitively. An item in one of these services whose
//! account is not a key (see [`query::parse_account`]) is counted in
//! `KeyListing::unreadable_entries` and otherwise ignored.
//!
//! Queries always name the access group. A query without one matches every group the app
//! is entitled to, so an entry written without a group could be returned for the same key
//! of a shared group. The backend therefore finds the app's default group once, by adding a
//! short-lived item without a group and reading back the group the Keychain gave it.
//!
//! # Accessibility
//!
//! [`crate::backend::Accessibility`] maps one-to-one to the seven `kSecAttrAccessible`
//! constants ([`query::ACCESSIBLE_CONSTANTS`]). The default is `AfterFirstUnlock`: apps read
//! tokens in background work (push handling, background refresh, audio and location
//! sessions) that runs while the device is locked, where `WhenUnlocked` would fail with
//! `DeviceLocked`. The item stays encrypted from a restart until the first unlock. Callers
//! who keep secrets off backups and new devices choose a `ThisDeviceOnly` class.
//!
//! # Authentication
//!
//! `requireAuthentication` stores the item with a `SecAccessControl` of the chosen class and
//! `kSecAccessControlBiometryCurrentSet`, so the Keychain itself demands Face ID or Touch ID
//! of the fingers or face enrolled at write time, and a later enrolment change invalidates
//! the item: `get` then returns `None`, and the next `set` replaces it. Reads pass
//! `authenticationPrompt` as `kSecUseOperationPrompt`. The `Always` classes cannot be
//! combined with it, and tvOS, which has no biometric authentication, rejects the option
//! instead of storing the value without it.
//!
//! # Overwrite
//!
//! `set` first adds the item. If one exists (`errSecDuplicateItem`):
//!
//! - A plain entry with the same protection is updated in one `SecItemUpdate` whose query
//!   requires the old label, so the update never touches an item with other protection.
//!   Where the Keychain API can change `kSecAttrAccessible` in an update
//!   ([`KeychainApi::can_update_protection`]), any plain entry is updated in place and the
//!   same call applies the new class.
//! - Otherwise the new item is swapped in: (1) add it under the staged account `key#staged`,
//!   (2) delete the old item, (3) add the new item under `key`, (4) delete the staged copy.
//!
//! Items bound to biometrics are always swapped, because updating them would need the user to
//! authenticate and fails once the enrolment changed; deleting and adding them does not.
//! Invariant of the swap: at every step either `key` or `key#staged` contains a complete value,
//! and a read returns the staged copy only while no item exists under `key`. A failure in
//! step 1 or 2 leaves the old value, and a failure in step 3 or 4 leaves the new value
//! readable. The writes of one backend are serialized. Writers in other processes (an app
//! extension sharing the access group) are not, so two processes overwriting the same key at
//! the same moment can make one write fail or remove the other's staged copy.
//!
//! # Protection report
//!
//! Entries report [`crate::provider::Protection::OsCredentialStore`]. Keychain items are
//! encrypted under keys of the device's data protection hierarchy, which the Secure Enclave
//! guards on devices that have one, but each value is decrypted into the app's memory on
//! every read, so claiming Secure Enclave protection would overstate it.

pub mod api;
mod backend;
pub mod fake;
pub mod query;
pub mod status;

#[cfg(target_vendor = "apple")]
mod apple;
#[cfg(test)]
mod tests;

pub use api::{FoundItem, KeychainApi};
#[cfg(target_vendor = "apple")]
pub use apple::SystemKeychain;
pub use backend::{BiometrySupport, KeychainBackend};
pub use fake::FakeKeychain;
pub use status::{map_status, OsStatus, Outcome};

/// Reports whether biometric authentication can protect entries on this device, as
/// `canUseBiometricAuthentication` of expo-secure-store does.
///
/// Returns `Some(false)` on tvOS and on platforms without the Keychain, and `None` where
/// only LocalAuthentication can tell.
pub fn can_use_biometric_authentication() -> Option<bool> {
    if cfg!(target_os = "tvos") || !cfg!(target_vendor = "apple") {
        return Some(false);
    }
    // NOTE: the core has no LocalAuthentication binding. The binding of objc2-local-authentication
    // (`LAContext::canEvaluatePolicy_error`) is an `unsafe fn` and this crate denies unsafe
    // code, so on iOS the Kotlin actual calls
    // `LAContext().canEvaluatePolicy(LAPolicyDeviceOwnerAuthenticationWithBiometrics)` itself.
    None
}
