//! The UniFFI face of the store, which the Kotlin bindings are generated from.

use std::sync::Arc;

use crate::backend::files::FileBackend;
use crate::backend::KeyListing;
use crate::error::{Result, StoreError};
use crate::provider::{KeyProvider, Protection};
use crate::store::{EntryOptions, Store};

/// A store of encrypted entries, as seen from Kotlin.
#[derive(uniffi::Object)]
pub struct SecureStoreCore {
    store: Arc<Store>,
    /// The handle of `store` for the direct JNI calls, or 0 if it has none.
    jni_handle: u64,
}

impl SecureStoreCore {
    fn new(store: Store) -> Self {
        SecureStoreCore { store: Arc::new(store), jni_handle: 0 }
    }

    /// Opens a file-backed store in `directory` with any key provider.
    pub fn open_files(directory: String, provider: Arc<dyn KeyProvider>, max_value_bytes: u64) -> Result<Self> {
        let backend = FileBackend::open(directory, provider)?;
        Ok(Self::new(Store::new(Arc::new(backend), max_value_bytes)?))
    }
}

impl Drop for SecureStoreCore {
    fn drop(&mut self) {
        #[cfg(feature = "jni")]
        if self.jni_handle != 0 {
            crate::jni_store::unregister(self.jni_handle);
        }
    }
}

#[uniffi::export]
impl SecureStoreCore {
    /// Opens a file-backed store in `directory` whose root keys are wrapped by the JVM
    /// key provider registered under `provider_handle`.
    #[uniffi::constructor]
    pub fn open_with_jni_provider(directory: String, provider_handle: u64, max_value_bytes: u64) -> Result<Arc<Self>> {
        #[cfg(feature = "jni")]
        {
            let provider = crate::jni_provider::registered(provider_handle).ok_or_else(|| StoreError::Configuration {
                detail: format!("no key provider is registered under handle {provider_handle}"),
            })?;
            let mut core = Self::open_files(directory, provider, max_value_bytes)?;
            core.jni_handle = crate::jni_store::register(Arc::clone(&core.store));
            Ok(Arc::new(core))
        }
        #[cfg(not(feature = "jni"))]
        {
            let _ = (directory, provider_handle, max_value_bytes);
            Err(StoreError::Configuration { detail: "this build has no JNI support".to_owned() })
        }
    }

    /// Opens a store whose entries are items of the system Keychain (iOS, tvOS, macOS).
    #[uniffi::constructor]
    pub fn open_keychain(max_value_bytes: u64) -> Result<Arc<Self>> {
        #[cfg(target_vendor = "apple")]
        {
            let backend = crate::backend::keychain::KeychainBackend::system();
            Ok(Arc::new(Self::new(Store::new(Arc::new(backend), max_value_bytes)?)))
        }
        #[cfg(not(target_vendor = "apple"))]
        {
            let _ = max_value_bytes;
            Err(StoreError::Configuration {
                detail: "the Keychain exists only on Apple platforms; open a file-backed store instead".to_owned(),
            })
        }
    }

    /// Opens a store over an in-memory Keychain that behaves like the system one, for tests
    /// of the bindings on machines without a Keychain.
    #[uniffi::constructor]
    pub fn open_in_memory_keychain(max_value_bytes: u64) -> Result<Arc<Self>> {
        use crate::backend::keychain::{BiometrySupport, FakeKeychain, KeychainBackend};
        let backend = KeychainBackend::new(Arc::new(FakeKeychain::new()), BiometrySupport::Supported);
        Ok(Arc::new(Self::new(Store::new(Arc::new(backend), max_value_bytes)?)))
    }

    /// Reads a value; `None` if absent or if its key material was permanently lost.
    pub fn get(&self, key: String, options: EntryOptions) -> Result<Option<Vec<u8>>> {
        Ok(self.store.get(&key, &options)?.map(|value| value.to_vec()))
    }

    /// Writes a value durably.
    pub fn set(&self, key: String, value: Vec<u8>, options: EntryOptions) -> Result<()> {
        let value = zeroize::Zeroizing::new(value);
        self.store.set(&key, &value, &options)
    }

    /// Deletes a value durably; deleting a missing key succeeds.
    pub fn delete(&self, key: String, options: EntryOptions) -> Result<()> {
        self.store.delete(&key, &options)
    }

    /// Lists the keys of a service.
    pub fn list_keys(&self, options: EntryOptions) -> Result<KeyListing> {
        self.store.list(&options)
    }

    /// Deletes every entry of a service and its key material.
    pub fn delete_service(&self, options: EntryOptions) -> Result<()> {
        self.store.delete_service(&options)
    }

    /// Reports the protection that entries written with `options` get.
    pub fn protection(&self, options: EntryOptions) -> Result<Protection> {
        self.store.protection(&options)
    }

    /// Returns whether the store's storage can be used now.
    pub fn is_available(&self) -> bool {
        self.store.is_available()
    }

    /// Returns the maximum value size in bytes.
    pub fn max_value_bytes(&self) -> u64 {
        self.store.max_value_bytes()
    }

    /// Returns the handle that `NativeStoreCalls` reaches this store with, or 0 if the store
    /// was not opened with a JVM key provider. The handle is valid while this object lives.
    pub fn jni_handle(&self) -> u64 {
        self.jni_handle
    }
}

/// Returns the default maximum value size in bytes.
#[uniffi::export]
pub fn default_max_value_bytes() -> u64 {
    crate::validate::DEFAULT_MAX_VALUE_BYTES
}

/// Returns the default service name.
#[uniffi::export]
pub fn default_service() -> String {
    crate::validate::DEFAULT_SERVICE.to_owned()
}

/// Reports whether biometric authentication can protect entries: `Some(false)` where the
/// platform has none (tvOS) or no Keychain, `None` where only LocalAuthentication can tell
/// (iOS, macOS), where the Kotlin side checks it instead.
#[uniffi::export]
pub fn can_use_biometric_authentication() -> Option<bool> {
    crate::backend::keychain::can_use_biometric_authentication()
}
