//! SecureStore core: encrypted storage of small secrets for every platform.
//!
//! The crate validates keys and value sizes ([`validate`]), encrypts entries with
//! AES-256-GCM under keys derived with HKDF-SHA256 from a random root key per service
//! ([`crypto`], [`envelope`]), stores them durably ([`backend::files`]) and protects the
//! root keys with a platform key ([`provider`]): Android Keystore or a JCA keystore,
//! reached through JNI ([`jni_provider`]). On the JVM and Android, `get`, `set` and `delete`
//! also have direct JNI entry points ([`jni_store`]). [`store::Store`] is the entry point; [`ffi`] is
//! the face that UniFFI exports to Kotlin.
//!
//! Unsafe code is denied everywhere except at the JNI boundary, whose exported functions
//! must have unmangled names.

#![deny(unsafe_code)]

pub mod backend;
pub mod crypto;
pub mod envelope;
pub mod error;
pub mod ffi;
pub mod fsutil;
#[cfg(feature = "jni")]
pub mod jni_provider;
#[cfg(feature = "jni")]
pub mod jni_store;
pub mod provider;
pub mod store;
pub mod testing;
pub mod validate;

pub use error::{Result, StoreError};
pub use store::{EntryOptions, Store};

uniffi::setup_scaffolding!("securestore");
