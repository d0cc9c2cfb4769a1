//! The store: validates every input, then dispatches to one backend.

use std::sync::Arc;

use zeroize::Zeroizing;

use crate::backend::{Access, Accessibility, Backend, KeyListing};
use crate::error::{Result, StoreError};
use crate::provider::Protection;
use crate::validate;

/// Options of one operation, named as in expo-secure-store.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct EntryOptions {
    /// The service the entry belongs to; `(keychain_service, key)` identifies an entry.
    pub keychain_service: String,
    /// When the entry may be read, on Apple platforms.
    pub keychain_accessible: Accessibility,
    /// Bind the value to key material that needs user authentication.
    pub require_authentication: bool,
    /// The reason shown when the platform prompts the user to authenticate.
    pub authentication_prompt: Option<String>,
    /// The Keychain access group, on Apple platforms.
    pub access_group: Option<String>,
}

impl Default for EntryOptions {
    fn default() -> Self {
        EntryOptions {
            keychain_service: validate::DEFAULT_SERVICE.to_owned(),
            keychain_accessible: Accessibility::default(),
            require_authentication: false,
            authentication_prompt: None,
            access_group: None,
        }
    }
}

impl EntryOptions {
    /// Returns default options for `service`.
    pub fn for_service(service: &str) -> Self {
        EntryOptions { keychain_service: service.to_owned(), ..Default::default() }
    }

    fn access(&self) -> Result<Access<'_>> {
        validate::validate_service(&self.keychain_service)?;
        Ok(Access {
            service: &self.keychain_service,
            accessible: self.keychain_accessible,
            require_authentication: self.require_authentication,
            authentication_prompt: self.authentication_prompt.as_deref(),
            access_group: self.access_group.as_deref(),
        })
    }
}

/// A secret store over one backend.
pub struct Store {
    backend: Arc<dyn Backend>,
    max_value_bytes: u64,
}

impl Store {
    /// Creates a store. `max_value_bytes` must be between 1 and
    /// [`validate::MAX_CONFIGURABLE_VALUE_BYTES`].
    pub fn new(backend: Arc<dyn Backend>, max_value_bytes: u64) -> Result<Self> {
        if max_value_bytes == 0 || max_value_bytes > validate::MAX_CONFIGURABLE_VALUE_BYTES {
            return Err(StoreError::Configuration {
                detail: format!(
                    "maxValueBytes is {max_value_bytes}; choose a value from 1 to {}",
                    validate::MAX_CONFIGURABLE_VALUE_BYTES
                ),
            });
        }
        Ok(Store { backend, max_value_bytes })
    }

    /// Returns the maximum value size in bytes.
    pub fn max_value_bytes(&self) -> u64 {
        self.max_value_bytes
    }

    /// Reads a value. `Ok(None)` means absent, or key material permanently lost.
    pub fn get(&self, key: &str, options: &EntryOptions) -> Result<Option<Zeroizing<Vec<u8>>>> {
        validate::validate_key(key)?;
        self.backend.get(&options.access()?, key)
    }

    /// Writes a value durably. On error the previous value is unchanged.
    pub fn set(&self, key: &str, value: &[u8], options: &EntryOptions) -> Result<()> {
        validate::validate_key(key)?;
        validate::validate_value_size(value.len(), self.max_value_bytes)?;
        self.backend.set(&options.access()?, key, value)
    }

    /// Deletes a value durably. Deleting a missing key succeeds.
    pub fn delete(&self, key: &str, options: &EntryOptions) -> Result<()> {
        validate::validate_key(key)?;
        self.backend.delete(&options.access()?, key)
    }

    /// Lists the keys of the options' service.
    pub fn list(&self, options: &EntryOptions) -> Result<KeyListing> {
        self.backend.list(&options.access()?)
    }

    /// Deletes every entry of the options' service.
    pub fn delete_service(&self, options: &EntryOptions) -> Result<()> {
        self.backend.delete_service(&options.access()?)
    }

    /// Returns whether the store's storage can be used now.
    pub fn is_available(&self) -> bool {
        self.backend.is_available()
    }

    /// Reports the protection that entries written with `options` get.
    pub fn protection(&self, options: &EntryOptions) -> Result<Protection> {
        Ok(self.backend.protection(&options.access()?))
    }
}
