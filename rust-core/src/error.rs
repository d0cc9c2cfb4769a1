//! The typed errors of the store.
//!
//! Every failure a caller can act on has its own variant. Variants carry the offending
//! key, option or limit, never a value or key material, so an error can be logged safely.

use std::fmt;

/// An error returned by a store operation.
///
/// `get` never reports an absent entry as an error: absence (and permanently lost key
/// material) is `Ok(None)`. Everything else that keeps an operation from completing is one
/// of these variants.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, uniffi::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The key is empty or contains a character outside `A-Z a-z 0-9 . - _`.
    #[error("invalid key {:?}: {reason}", crate::validate::shortened(.key))]
    InvalidKey { key: String, reason: String },

    /// The service name is empty or too long.
    #[error("invalid keychainService {:?}: {reason}", crate::validate::shortened(.service))]
    InvalidService { service: String, reason: String },

    /// The value is larger than the configured limit, in UTF-8 bytes of the plaintext.
    #[error("value is {size} bytes, over the limit of {limit} bytes; the stored value is unchanged")]
    ValueTooLarge { size: u64, limit: u64 },

    /// The platform cannot honour an option (for example `requireAuthentication` on the
    /// desktop JVM), so nothing was stored with weaker protection.
    #[error("unsupported option {option}: {reason}")]
    UnsupportedOption { option: String, reason: String },

    /// The user dismissed the authentication prompt.
    #[error("authentication was cancelled by the user")]
    AuthenticationCancelled,

    /// Authentication failed, or the biometric sensor is locked out after too many attempts.
    #[error("authentication failed: {reason}")]
    AuthenticationFailed { reason: String },

    /// The device is locked and the entry's accessibility does not allow access now.
    #[error("the device is locked; the entry is readable again after the user unlocks it")]
    DeviceLocked,

    /// A stored entry failed authentication: it was modified, truncated, moved to another
    /// key or service, or written in an unknown format. The entry is left in place.
    #[error("entry {key:?} in service {service:?} failed its integrity check: {reason}")]
    IntegrityFailure { service: String, key: String, reason: String },

    /// Reading or writing the underlying storage failed. The previous state is intact, except
    /// when only the final directory sync failed: then the new state may already be visible
    /// but not yet durable, so read the entry again to learn which state it is in.
    #[error("storage failed while trying to {operation}: {detail}")]
    StorageFailure { operation: String, detail: String },

    /// The platform key store is not reachable right now; nothing was deleted.
    #[error("the platform key store is unavailable: {detail}")]
    KeyStoreUnavailable { detail: String },

    /// The app is misconfigured (for example a missing entitlement); the message explains the fix.
    #[error("configuration error: {detail}")]
    Configuration { detail: String },
}

impl StoreError {
    pub(crate) fn storage(operation: &str, err: impl fmt::Display) -> Self {
        StoreError::StorageFailure { operation: operation.to_owned(), detail: err.to_string() }
    }

    pub(crate) fn integrity(service: &str, key: &str, reason: impl Into<String>) -> Self {
        StoreError::IntegrityFailure {
            service: service.to_owned(),
            key: key.to_owned(),
            reason: reason.into(),
        }
    }
}

/// Shorthand for results of store operations.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;
