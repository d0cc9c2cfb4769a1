//! Direct JNI entry points for the three calls apps make most: `get`, `set` and `delete`.
//!
//! The UniFFI bindings reach the core through JNA, which makes five native calls for one
//! `get`. Measured on the desktop JVM, those cost about ten times the `get` itself. These
//! functions do the same work in one JNI call each.
//!
//! The UniFFI object registers its store here when it is opened with a JVM key provider, and
//! unregisters it when it is dropped, so a handle never outlives its store.
//!
//! The Kotlin side is `dev.securestore.internal.NativeStoreCalls`. A failure is thrown as
//! `dev.securestore.internal.NativeStoreException(int kind, String first, String second,
//! String third, long size, long limit)`, whose `kind` is one of the `KIND_*` constants
//! below. The Kotlin side turns it into the public exception of the same name. Any panic is
//! caught and thrown as `java.lang.IllegalStateException` without a message from the core.
#![allow(unsafe_code)]

use std::collections::HashMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use jni::objects::{JByteArray, JClass, JObject, JString, JValue};
use jni::sys::{jboolean, jbyteArray, jint, jlong, JNI_FALSE};
use jni::JNIEnv;
use zeroize::Zeroizing;

use crate::backend::Accessibility;
use crate::error::StoreError;
use crate::store::{EntryOptions, Store};

pub const KIND_INVALID_KEY: i32 = 1;
pub const KIND_INVALID_SERVICE: i32 = 2;
pub const KIND_VALUE_TOO_LARGE: i32 = 3;
pub const KIND_UNSUPPORTED_OPTION: i32 = 4;
pub const KIND_AUTHENTICATION_CANCELLED: i32 = 5;
pub const KIND_AUTHENTICATION_FAILED: i32 = 6;
pub const KIND_DEVICE_LOCKED: i32 = 7;
pub const KIND_INTEGRITY_FAILURE: i32 = 8;
pub const KIND_STORAGE_FAILURE: i32 = 9;
pub const KIND_KEY_STORE_UNAVAILABLE: i32 = 10;
pub const KIND_CONFIGURATION: i32 = 11;

const EXCEPTION_CLASS: &str = "dev/securestore/internal/NativeStoreException";
const EXCEPTION_CONSTRUCTOR: &str = "(ILjava/lang/String;Ljava/lang/String;Ljava/lang/String;JJ)V";

static NEXT_HANDLE: AtomicU64 = AtomicU64::new(1);

fn registry() -> &'static Mutex<HashMap<u64, Arc<Store>>> {
    static REGISTRY: OnceLock<Mutex<HashMap<u64, Arc<Store>>>> = OnceLock::new();
    REGISTRY.get_or_init(Default::default)
}

/// Makes `store` reachable from JNI and returns its handle, never 0.
pub(crate) fn register(store: Arc<Store>) -> u64 {
    let handle = NEXT_HANDLE.fetch_add(1, Ordering::Relaxed);
    registry().lock().unwrap_or_else(|poisoned| poisoned.into_inner()).insert(handle, store);
    handle
}

/// Forgets the store registered under `handle`. Calls already running keep their reference.
pub(crate) fn unregister(handle: u64) {
    registry().lock().unwrap_or_else(|poisoned| poisoned.into_inner()).remove(&handle);
}

fn registered(handle: jlong) -> Option<Arc<Store>> {
    let registry = registry().lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    registry.get(&(handle as u64)).map(Arc::clone)
}

/// A failure of a direct call, in the core or at the JNI boundary.
enum Failure {
    /// The core returned an error; it becomes a `NativeStoreException`.
    Store(StoreError),
    /// A JNI call failed, usually with a Java exception already pending.
    Jni(jni::errors::Error),
}

impl From<StoreError> for Failure {
    fn from(err: StoreError) -> Self {
        Failure::Store(err)
    }
}

impl From<jni::errors::Error> for Failure {
    fn from(err: jni::errors::Error) -> Self {
        Failure::Jni(err)
    }
}

/// The arguments that every entry call receives, as the Kotlin side passes them.
struct RawArguments<'local> {
    handle: jlong,
    key: JString<'local>,
    service: JString<'local>,
    accessible: jint,
    require_authentication: jboolean,
    prompt: JString<'local>,
    access_group: JString<'local>,
}

impl RawArguments<'_> {
    /// Looks up the store and converts the key and the options.
    fn read(&self, env: &mut JNIEnv<'_>) -> Result<(Arc<Store>, String, EntryOptions), Failure> {
        let store = store_for(self.handle)?;
        let key = read_string(env, &self.key)?.unwrap_or_default();
        let options = EntryOptions {
            keychain_service: read_string(env, &self.service)?.unwrap_or_default(),
            keychain_accessible: accessibility(self.accessible)?,
            require_authentication: self.require_authentication != JNI_FALSE,
            authentication_prompt: read_string(env, &self.prompt)?,
            access_group: read_string(env, &self.access_group)?,
        };
        Ok((store, key, options))
    }
}

fn read_string(env: &mut JNIEnv<'_>, string: &JString<'_>) -> Result<Option<String>, Failure> {
    if string.is_null() {
        return Ok(None);
    }
    // SAFETY: every string argument is declared `String` in `NativeStoreCalls`, so the JVM
    // passes only java.lang.String objects. The checked `get_string` would look the class
    // up by name on every call, which costs more than a cached `get`.
    let text = unsafe { env.get_string_unchecked(string) }?;
    Ok(Some(text.into()))
}

fn accessibility(code: jint) -> Result<Accessibility, Failure> {
    Ok(match code {
        0 => Accessibility::AfterFirstUnlock,
        1 => Accessibility::AfterFirstUnlockThisDeviceOnly,
        2 => Accessibility::Always,
        3 => Accessibility::WhenPasscodeSetThisDeviceOnly,
        4 => Accessibility::AlwaysThisDeviceOnly,
        5 => Accessibility::WhenUnlocked,
        6 => Accessibility::WhenUnlockedThisDeviceOnly,
        other => {
            return Err(Failure::Store(StoreError::UnsupportedOption {
                option: "keychainAccessible".to_owned(),
                reason: format!("code {other} is not one of 0 to 6"),
            }))
        }
    })
}

fn store_for(handle: jlong) -> Result<Arc<Store>, Failure> {
    registered(handle).ok_or_else(|| {
        Failure::Store(StoreError::Configuration { detail: "the store was closed before this call; open it again".to_owned() })
    })
}

/// Runs `call`, turning an error or a panic into a pending Java exception and `on_error`.
fn run<'local, T>(
    env: &mut JNIEnv<'local>,
    on_error: T,
    call: impl FnOnce(&mut JNIEnv<'local>) -> Result<T, Failure>,
) -> T {
    match catch_unwind(AssertUnwindSafe(|| call(env))) {
        Ok(Ok(result)) => result,
        Ok(Err(Failure::Store(err))) => {
            throw_store_error(env, &err);
            on_error
        }
        Ok(Err(Failure::Jni(err))) => {
            if !env.exception_check().unwrap_or(true) {
                let _ = env.throw_new("java/lang/IllegalStateException", format!("a JNI call failed: {err}"));
            }
            on_error
        }
        Err(_) => {
            if !env.exception_check().unwrap_or(true) {
                let _ = env.throw_new("java/lang/IllegalStateException", "the SecureStore core failed unexpectedly");
            }
            on_error
        }
    }
}

fn throw_store_error(env: &mut JNIEnv<'_>, err: &StoreError) {
    let (kind, first, second, third, size, limit): (i32, Option<&str>, Option<&str>, Option<&str>, u64, u64) = match err {
        StoreError::InvalidKey { key, reason } => (KIND_INVALID_KEY, Some(key), Some(reason), None, 0, 0),
        StoreError::InvalidService { service, reason } => (KIND_INVALID_SERVICE, Some(service), Some(reason), None, 0, 0),
        StoreError::ValueTooLarge { size, limit } => (KIND_VALUE_TOO_LARGE, None, None, None, *size, *limit),
        StoreError::UnsupportedOption { option, reason } => {
            (KIND_UNSUPPORTED_OPTION, Some(option), Some(reason), None, 0, 0)
        }
        StoreError::AuthenticationCancelled => (KIND_AUTHENTICATION_CANCELLED, None, None, None, 0, 0),
        StoreError::AuthenticationFailed { reason } => (KIND_AUTHENTICATION_FAILED, Some(reason), None, None, 0, 0),
        StoreError::DeviceLocked => (KIND_DEVICE_LOCKED, None, None, None, 0, 0),
        StoreError::IntegrityFailure { service, key, reason } => {
            (KIND_INTEGRITY_FAILURE, Some(service), Some(key), Some(reason), 0, 0)
        }
        StoreError::StorageFailure { operation, detail } => {
            (KIND_STORAGE_FAILURE, Some(operation), Some(detail), None, 0, 0)
        }
        StoreError::KeyStoreUnavailable { detail } => (KIND_KEY_STORE_UNAVAILABLE, Some(detail), None, None, 0, 0),
        StoreError::Configuration { detail } => (KIND_CONFIGURATION, Some(detail), None, None, 0, 0),
    };
    let thrown = (|| -> jni::errors::Result<()> {
        let first = optional_string(env, first)?;
        let second = optional_string(env, second)?;
        let third = optional_string(env, third)?;
        let exception = env.new_object(
            EXCEPTION_CLASS,
            EXCEPTION_CONSTRUCTOR,
            &[
                JValue::Int(kind),
                JValue::Object(&first),
                JValue::Object(&second),
                JValue::Object(&third),
                JValue::Long(size.min(i64::MAX as u64) as i64),
                JValue::Long(limit.min(i64::MAX as u64) as i64),
            ],
        )?;
        env.throw(jni::objects::JThrowable::from(exception))
    })();
    if thrown.is_err() && !env.exception_check().unwrap_or(true) {
        let _ = env.throw_new("java/lang/IllegalStateException", "the SecureStore error could not be reported");
    }
}

fn optional_string<'local>(env: &mut JNIEnv<'local>, text: Option<&str>) -> jni::errors::Result<JObject<'local>> {
    Ok(match text {
        Some(text) => JObject::from(env.new_string(text)?),
        None => JObject::null(),
    })
}

/// Reads a value; returns null if it is absent or its key material was permanently lost.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub extern "system" fn Java_dev_securestore_internal_NativeStoreCalls_nativeGet<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    handle: jlong,
    _keep_alive: JObject<'local>,
    key: JString<'local>,
    service: JString<'local>,
    accessible: jint,
    require_authentication: jboolean,
    prompt: JString<'local>,
    access_group: JString<'local>,
) -> jbyteArray {
    let raw = RawArguments { handle, key, service, accessible, require_authentication, prompt, access_group };
    run(&mut env, std::ptr::null_mut(), |env| {
        let (store, key, options) = raw.read(env)?;
        match store.get(&key, &options)? {
            Some(value) => Ok(env.byte_array_from_slice(&value)?.into_raw()),
            None => Ok(std::ptr::null_mut()),
        }
    })
}

/// Writes a value durably.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub extern "system" fn Java_dev_securestore_internal_NativeStoreCalls_nativeSet<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    handle: jlong,
    _keep_alive: JObject<'local>,
    key: JString<'local>,
    value: JByteArray<'local>,
    service: JString<'local>,
    accessible: jint,
    require_authentication: jboolean,
    prompt: JString<'local>,
    access_group: JString<'local>,
) {
    let raw = RawArguments { handle, key, service, accessible, require_authentication, prompt, access_group };
    run(&mut env, (), |env| {
        let (store, key, options) = raw.read(env)?;
        let value = Zeroizing::new(env.convert_byte_array(&value)?);
        store.set(&key, &value, &options)?;
        Ok(())
    })
}

/// Deletes a value durably; deleting a missing key succeeds.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub extern "system" fn Java_dev_securestore_internal_NativeStoreCalls_nativeDelete<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    handle: jlong,
    _keep_alive: JObject<'local>,
    key: JString<'local>,
    service: JString<'local>,
    accessible: jint,
    require_authentication: jboolean,
    prompt: JString<'local>,
    access_group: JString<'local>,
) {
    let raw = RawArguments { handle, key, service, accessible, require_authentication, prompt, access_group };
    run(&mut env, (), |env| {
        let (store, key, options) = raw.read(env)?;
        store.delete(&key, &options)?;
        Ok(())
    })
}
