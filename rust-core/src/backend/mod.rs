//! Storage backends behind the store.
//!
//! The store validates every input and then calls one backend: encrypted files on Android
//! and the desktop, the Keychain on Apple platforms. Backends receive only valid keys and
//! service names and values within the size limit.

#[cfg(test)]
pub(crate) mod contract;
pub mod files;
pub mod keychain;

use zeroize::Zeroizing;

use crate::error::Result;
use crate::provider::Protection;

/// When a Keychain item may be read, with the numeric codes of expo-secure-store SDK 54.
/// Backends without such a notion store the value and ignore this option.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, uniffi::Enum)]
pub enum Accessibility {
    /// Readable after the first unlock until restart; survives backup. Code 0.
    #[default]
    AfterFirstUnlock,
    /// As `AfterFirstUnlock`, never migrated to another device. Code 1.
    AfterFirstUnlockThisDeviceOnly,
    /// Always readable (deprecated by Apple). Code 2.
    Always,
    /// Readable only while a passcode is set, never migrated. Code 3.
    WhenPasscodeSetThisDeviceOnly,
    /// Always readable, never migrated (deprecated by Apple). Code 4.
    AlwaysThisDeviceOnly,
    /// Readable while the device is unlocked. Code 5.
    WhenUnlocked,
    /// Readable while the device is unlocked, never migrated. Code 6.
    WhenUnlockedThisDeviceOnly,
}

/// Options of a single operation, after validation.
#[derive(Debug, Clone, Copy)]
pub struct Access<'a> {
    /// The service the entry belongs to.
    pub service: &'a str,
    /// The Keychain accessibility class.
    pub accessible: Accessibility,
    /// Whether the value must be bound to key material that needs user authentication.
    pub require_authentication: bool,
    /// The reason shown when the platform prompts the user to authenticate.
    pub authentication_prompt: Option<&'a str>,
    /// The Keychain access group, on Apple platforms.
    pub access_group: Option<&'a str>,
}

/// The keys of one service.
#[derive(Debug, Clone, Default, PartialEq, Eq, uniffi::Record)]
pub struct KeyListing {
    /// The keys whose entries are readable, sorted.
    pub keys: Vec<String>,
    /// The number of entries that could not be read (damaged, foreign, or under a lost key).
    pub unreadable_entries: u32,
    /// Whether the service's root key is permanently lost, so none of its old entries
    /// will ever be readable again. The next write creates a new root key.
    pub root_key_lost: bool,
}

/// A storage backend.
pub trait Backend: Send + Sync {
    /// Reads an entry. `Ok(None)` means absent or permanently lost key material.
    fn get(&self, access: &Access<'_>, key: &str) -> Result<Option<Zeroizing<Vec<u8>>>>;

    /// Writes an entry durably, replacing any previous value atomically.
    fn set(&self, access: &Access<'_>, key: &str, value: &[u8]) -> Result<()>;

    /// Deletes an entry durably. Deleting a missing entry succeeds.
    fn delete(&self, access: &Access<'_>, key: &str) -> Result<()>;

    /// Lists the keys of a service.
    fn list(&self, access: &Access<'_>) -> Result<KeyListing>;

    /// Deletes every entry of a service and its key material.
    fn delete_service(&self, access: &Access<'_>) -> Result<()>;

    /// Reports the protection that entries written with `access` get.
    fn protection(&self, access: &Access<'_>) -> Protection;

    /// Returns whether the backend's storage can be used now.
    fn is_available(&self) -> bool {
        true
    }
}
