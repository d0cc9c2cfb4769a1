//! The platform key provider: the key that protects each service's root key.
//!
//! The provider holds a non-exportable platform key per alias (Android Keystore, a JCA
//! keystore on the desktop JVM, an app-supplied key) and wraps and unwraps key bytes with
//! it. The store never sees the platform key itself.
//!
//! Contract, which every implementation keeps:
//! - `wrap` creates the platform key for the alias if it does not exist yet.
//! - `unwrap` never creates key material. A missing key, a permanently invalidated key and
//!   bytes wrapped by a different key all give [`ProviderError::KeyLost`]; a failure that
//!   may pass (a busy Keystore, a locked device) gives another variant, so the store throws
//!   and deletes nothing.

use zeroize::Zeroizing;

use crate::error::StoreError;

/// The protection actually in force for a platform key, weakest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, uniffi::Enum)]
pub enum Protection {
    /// Key material in an ordinary file or in memory, protected by file permissions only.
    Software,
    /// The operating system's credential store (Keychain, Secret Service, Credential Manager).
    OsCredentialStore,
    /// A trusted execution environment, such as Android's TEE-backed Keystore.
    TrustedEnvironment,
    /// A separate secure element, such as Android StrongBox.
    StrongBox,
    /// Apple's Secure Enclave.
    SecureEnclave,
}

/// The platform key an operation uses and the data it binds.
#[derive(Debug, Clone, Copy)]
pub struct KeyRequest<'a> {
    /// The platform key's alias: one per service and authentication kind.
    pub alias: &'a str,
    /// Associated data bound to the wrapped bytes.
    pub aad: &'a [u8],
    /// Whether the platform key requires user authentication to unwrap.
    pub authenticated: bool,
    /// The reason shown when the platform prompts the user to authenticate.
    pub prompt: Option<&'a str>,
}

/// A failure of the platform key provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProviderError {
    /// The platform key is gone for good: missing, permanently invalidated (for example by
    /// a new biometric enrolment), or not the key that wrapped these bytes.
    KeyLost,
    /// The user dismissed the authentication prompt.
    UserCancelled,
    /// Authentication failed or is locked out.
    AuthenticationFailed(String),
    /// The device is locked.
    DeviceLocked,
    /// The provider cannot honour an option.
    Unsupported { option: String, reason: String },
    /// The platform key store failed in a way that may pass.
    Unavailable(String),
    /// The provider is misconfigured, for example an app-supplied key that is not the one the
    /// store was created with. Unlike [`ProviderError::KeyLost`], the store keeps its entries.
    Configuration(String),
}

impl ProviderError {
    /// Converts a provider failure other than [`ProviderError::KeyLost`] into the error
    /// returned to the caller. `KeyLost` is handled by the store, never surfaced as is.
    pub fn into_store_error(self) -> StoreError {
        match self {
            ProviderError::KeyLost => StoreError::KeyStoreUnavailable {
                detail: "the platform key was lost".to_owned(),
            },
            ProviderError::UserCancelled => StoreError::AuthenticationCancelled,
            ProviderError::AuthenticationFailed(reason) => StoreError::AuthenticationFailed { reason },
            ProviderError::DeviceLocked => StoreError::DeviceLocked,
            ProviderError::Unsupported { option, reason } => {
                StoreError::UnsupportedOption { option, reason }
            }
            ProviderError::Unavailable(detail) => StoreError::KeyStoreUnavailable { detail },
            ProviderError::Configuration(detail) => StoreError::Configuration { detail },
        }
    }
}

/// A platform key provider. See the module documentation for the contract.
pub trait KeyProvider: Send + Sync {
    /// Wraps `key` under the platform key named by `request`, creating that key if absent.
    fn wrap(&self, request: &KeyRequest<'_>, key: &[u8]) -> Result<Vec<u8>, ProviderError>;

    /// Unwraps bytes produced by [`KeyProvider::wrap`] with the same alias and associated data.
    fn unwrap(&self, request: &KeyRequest<'_>, wrapped: &[u8]) -> Result<Zeroizing<Vec<u8>>, ProviderError>;

    /// Deletes the platform key `alias`. Deleting a missing key succeeds.
    fn delete_key(&self, alias: &str) -> Result<(), ProviderError>;

    /// Reports the protection of the platform keys for `authenticated` or plain entries.
    fn protection(&self, authenticated: bool) -> Protection;
}
