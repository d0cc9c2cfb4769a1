//! The Keychain backend: entries as generic-password items, written through [`KeychainApi`].

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use zeroize::Zeroizing;

use super::api::{FoundItem, KeychainApi};
use super::query::{self, AccountKind, ItemProtection, Scope};
use super::status::{map_status, require_success, OsStatus, Outcome};
use crate::backend::{Access, Accessibility, Backend, KeyListing};
use crate::error::{Result, StoreError};
use crate::provider::Protection;

/// Whether the device can bind items to biometric authentication.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BiometrySupport {
    /// Touch ID or Face ID may exist (iOS, iPadOS, macOS).
    Supported,
    /// The platform has no biometric authentication (tvOS), so `requireAuthentication` is
    /// rejected instead of storing the value without it.
    Unsupported,
}

/// Entries stored as Keychain generic-password items. See the module documentation of
/// [`crate::backend::keychain`] for the item layout and the overwrite protocol.
pub struct KeychainBackend {
    api: Arc<dyn KeychainApi>,
    biometry: BiometrySupport,
    /// The app's default access group, found on first use.
    default_access_group: Mutex<Option<String>>,
    /// Serializes the writes of this process, so that two overwrites of one key never
    /// interleave their steps.
    write_lock: Mutex<()>,
}

impl KeychainBackend {
    /// Creates a backend over `api`.
    pub fn new(api: Arc<dyn KeychainApi>, biometry: BiometrySupport) -> Self {
        KeychainBackend { api, biometry, default_access_group: Mutex::new(None), write_lock: Mutex::new(()) }
    }

    /// Creates a backend over the system Keychain.
    #[cfg(target_vendor = "apple")]
    pub fn system() -> Self {
        let biometry = if cfg!(target_os = "tvos") { BiometrySupport::Unsupported } else { BiometrySupport::Supported };
        Self::new(Arc::new(super::apple::SystemKeychain), biometry)
    }

    fn write_guard(&self) -> MutexGuard<'_, ()> {
        self.write_lock.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Returns the items of `access.service` in the requested or the default access group.
    fn scope(&self, access: &Access<'_>) -> Result<Scope> {
        let group = match access.access_group {
            Some("") => {
                return Err(StoreError::Configuration {
                    detail: "accessGroup is empty; pass a group from the app's keychain-access-groups \
                             entitlement, or none for the app's default group"
                        .to_owned(),
                })
            }
            Some(group) => group.to_owned(),
            None => self.default_access_group()?,
        };
        Ok(Scope::new(access.service, &group))
    }

    /// Finds the app's default access group: the group the Keychain gives an item added
    /// without one. Queries then always name their group, so an entry written without a group
    /// never matches an entry of the same key in a shared group.
    fn default_access_group(&self) -> Result<String> {
        let mut cached = self.default_access_group.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(group) = cached.as_ref() {
            return Ok(group.clone());
        }
        let operation = "find the default access group";
        let mut nonce = [0u8; 16];
        crate::crypto::fill_random(&mut nonce).map_err(|e| StoreError::storage(operation, e))?;
        // A random account keeps concurrent probes, and probes left by a crash, apart.
        let account = hex::encode(nonce);

        require_success(self.api.add(&query::new_probe(&account)), operation, None)?;
        let found = self.api.copy_matching(&query::probe_attributes(&account));
        // The probe contains no secret, so failing to delete it leaves only a harmless item.
        let _ = self.api.delete(&query::probe(&account));

        let found = found.map_err(|status| match map_status(status, operation, None) {
            Err(err) => err,
            Ok(_) => StoreError::storage(operation, format!("the probe item was not found ({status})")),
        })?;
        let group = found
            .into_iter()
            .find_map(|item| item.access_group)
            .filter(|group| !group.is_empty())
            .ok_or_else(|| StoreError::storage(operation, "the Keychain reported no access group for the probe item"))?;
        *cached = Some(group.clone());
        Ok(group)
    }

    /// Returns the protection for a write, rejecting combinations this platform cannot honour.
    fn protection_for(&self, access: &Access<'_>) -> Result<ItemProtection> {
        if access.require_authentication {
            if self.biometry == BiometrySupport::Unsupported {
                return Err(StoreError::UnsupportedOption {
                    option: "requireAuthentication".to_owned(),
                    reason: "this platform has no biometric authentication (tvOS), so the value \
                             cannot be bound to it"
                        .to_owned(),
                });
            }
            if matches!(access.accessible, Accessibility::Always | Accessibility::AlwaysThisDeviceOnly) {
                return Err(StoreError::UnsupportedOption {
                    option: "keychainAccessible".to_owned(),
                    reason: format!(
                        "{:?} cannot be combined with requireAuthentication because biometric access \
                         control needs an unlocked device; choose AfterFirstUnlock or a stricter class",
                        access.accessible
                    ),
                });
            }
        }
        Ok(ItemProtection { accessible: access.accessible, require_authentication: access.require_authentication })
    }

    /// Reads the value of the item with `account`. Returns `None` if the item does not exist,
    /// or exists but is no longer readable, as after a biometric enrolment change.
    fn read_value(&self, scope: &Scope, account: &str, prompt: Option<&str>) -> Result<Option<Zeroizing<Vec<u8>>>> {
        let operation = "read the entry";
        match self.api.copy_matching(&query::read_value(scope, account, prompt)) {
            Ok(items) => {
                let data = items.into_iter().find_map(|item| item.data);
                data.map(Some).ok_or_else(|| StoreError::storage(operation, "the Keychain returned no data for the item"))
            }
            Err(status) => match map_status(status, operation, Some(&scope.access_group))? {
                Outcome::Absent => Ok(None),
                Outcome::Success => Err(StoreError::storage(operation, "the Keychain returned no data for the item")),
            },
        }
    }

    /// Reads the attributes of the item with `account`, which never needs authentication.
    fn read_attributes(&self, scope: &Scope, account: &str) -> Result<Option<FoundItem>> {
        match self.api.copy_matching(&query::read_attributes(scope, account)) {
            Ok(items) => Ok(items.into_iter().next()),
            Err(status) => match map_status(status, "read the entry's attributes", Some(&scope.access_group))? {
                Outcome::Absent | Outcome::Success => Ok(None),
            },
        }
    }

    /// Deletes every item matching `query`; matching nothing succeeds.
    fn delete_matching(&self, scope: &Scope, query: &query::Query, operation: &str) -> Result<()> {
        match self.api.delete(query) {
            Ok(()) => Ok(()),
            Err(status) => map_status(status, operation, Some(&scope.access_group)).map(|_| ()),
        }
    }

    /// Replaces the value of a plain entry in one `SecItemUpdate`. Returns `false` if the
    /// item in place is not a plain item this update can handle, so the caller swaps instead.
    fn update_in_place(&self, scope: &Scope, key: &str, protection: ItemProtection, value: &[u8]) -> Result<bool> {
        let account = query::entry_account(key);
        let (target, changes) = if self.api.can_update_protection() {
            // Any plain item qualifies; the update applies the new accessibility with the value.
            let Some(existing) = self.read_attributes(scope, &account)? else {
                return Ok(false);
            };
            let plain_label = existing
                .label
                .filter(|label| ItemProtection::from_label(label).is_some_and(|p| !p.require_authentication));
            let Some(label) = plain_label else {
                return Ok(false);
            };
            (query::update_target(scope, &account, &label), query::value_and_protection_change(value, protection))
        } else {
            // Only an item with the same protection qualifies, which its label shows.
            (query::update_target(scope, &account, &protection.label()), query::value_change(value))
        };
        match self.api.update(&target, &changes) {
            Ok(()) => Ok(true),
            Err(status) => match map_status(status, "overwrite the entry", Some(&scope.access_group))? {
                Outcome::Success => Ok(true),
                Outcome::Absent => Ok(false),
            },
        }
    }

    /// Replaces the entry of `key` by a new item without ever leaving the key without a
    /// readable value. See the module documentation for the steps and their invariant.
    fn swap(&self, scope: &Scope, key: &str, protection: ItemProtection, value: &[u8]) -> Result<()> {
        let group = Some(scope.access_group.as_str());
        let entry = query::entry_account(key);
        let staged = query::staged_account(key);

        self.delete_matching(scope, &query::item(scope, &staged), "remove an old staged copy")?;
        require_success(self.api.add(&query::new_item(scope, &staged, protection, value)), "stage the new value", group)?;

        if let Err(err) = self.delete_matching(scope, &query::item(scope, &entry), "replace the entry") {
            // While the old entry exists, reads never return the staged copy, so a copy that
            // cannot be removed here is harmless and the next overwrite removes it.
            let _ = self.api.delete(&query::item(scope, &staged));
            return Err(err);
        }

        match self.api.add(&query::new_item(scope, &entry, protection, value)) {
            // A duplicate means another process wrote the entry since the delete; its value is
            // newer than this one, so the staged copy goes either way.
            Ok(()) | Err(OsStatus::DUPLICATE_ITEM) => {
                let _ = self.api.delete(&query::item(scope, &staged));
                Ok(())
            }
            // The staged copy contains the new value durably, and reads fall back to it while the
            // entry is missing, so the write has succeeded. The next overwrite tidies up.
            Err(_) => Ok(()),
        }
    }
}

impl Backend for KeychainBackend {
    fn get(&self, access: &Access<'_>, key: &str) -> Result<Option<Zeroizing<Vec<u8>>>> {
        let scope = self.scope(access)?;
        let prompt = access.authentication_prompt;
        if let Some(value) = self.read_value(&scope, &query::entry_account(key), prompt)? {
            return Ok(Some(value));
        }
        // An overwrite that stopped after deleting the old item leaves the new value only in
        // the staged copy. The staged copy counts only while no entry item exists at all: an
        // entry that exists but is unreadable (biometric enrolment changed) is lost, and a
        // staged copy beside it is a leftover of an overwrite that failed.
        let Some(staged) = self.read_value(&scope, &query::staged_account(key), prompt)? else {
            return Ok(None);
        };
        if self.read_attributes(&scope, &query::entry_account(key))?.is_some() {
            return Ok(None);
        }
        Ok(Some(staged))
    }

    fn set(&self, access: &Access<'_>, key: &str, value: &[u8]) -> Result<()> {
        let protection = self.protection_for(access)?;
        let scope = self.scope(access)?;
        let group = Some(scope.access_group.as_str());
        let _guard = self.write_guard();

        match self.api.add(&query::new_item(&scope, &query::entry_account(key), protection, value)) {
            Ok(()) => return Ok(()),
            Err(OsStatus::DUPLICATE_ITEM) => {}
            Err(status) => return require_success(Err(status), "write the entry", group),
        }
        // Updating an item bound to biometrics would need the user to authenticate, and fails
        // once the enrolment changed, so such items are always swapped.
        if !protection.require_authentication && self.update_in_place(&scope, key, protection, value)? {
            return Ok(());
        }
        self.swap(&scope, key, protection, value)
    }

    fn delete(&self, access: &Access<'_>, key: &str) -> Result<()> {
        let scope = self.scope(access)?;
        let _guard = self.write_guard();
        // The staged copy goes first: deleting the entry first would make a leftover staged
        // copy readable again.
        self.delete_matching(&scope, &query::item(&scope, &query::staged_account(key)), "delete the entry")?;
        self.delete_matching(&scope, &query::item(&scope, &query::entry_account(key)), "delete the entry")
    }

    fn list(&self, access: &Access<'_>) -> Result<KeyListing> {
        let scope = self.scope(access)?;
        let items = match self.api.copy_matching(&query::list_items(&scope)) {
            Ok(items) => items,
            Err(status) => match map_status(status, "list the service's entries", Some(&scope.access_group))? {
                Outcome::Absent | Outcome::Success => Vec::new(),
            },
        };
        let mut keys = BTreeSet::new();
        let mut listing = KeyListing::default();
        for item in items {
            match item.account.as_deref().map(query::parse_account) {
                Some(AccountKind::Entry(key) | AccountKind::Staged(key)) => {
                    keys.insert(key);
                }
                Some(AccountKind::Foreign) | None => {
                    listing.unreadable_entries = listing.unreadable_entries.saturating_add(1);
                }
            }
        }
        listing.keys = keys.into_iter().collect();
        Ok(listing)
    }

    fn delete_service(&self, access: &Access<'_>) -> Result<()> {
        let scope = self.scope(access)?;
        let _guard = self.write_guard();
        self.delete_matching(&scope, &query::service_items(&scope), "delete the service's entries")
    }

    fn protection(&self, _access: &Access<'_>) -> Protection {
        // Keychain items are encrypted with keys of the device's data protection hierarchy,
        // but their values are decrypted into the app's memory, so the honest report is the
        // OS credential store, with or without biometric access control.
        Protection::OsCredentialStore
    }
}
