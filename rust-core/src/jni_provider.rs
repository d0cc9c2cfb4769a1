//! The key provider implemented by a JVM object and reached through JNI.
//!
//! On Android the object wraps keys with Android Keystore; on the desktop JVM with a JCA
//! keystore or a key the app supplies. Kotlin registers the object once with
//! `NativeKeyProviders.nativeRegister` and passes the returned handle to the store.
//!
//! The JVM object implements `dev.securestore.internal.PlatformKeyProvider`:
//!
//! ```text
//! byte[] wrap(String alias, byte[] aad, boolean authenticated, String prompt, byte[] key)
//! byte[] unwrap(String alias, byte[] aad, boolean authenticated, String prompt, byte[] wrapped)
//! void deleteKey(String alias)
//! int protection(boolean authenticated)
//! ```
//!
//! Failures are thrown as `dev.securestore.internal.KeyProviderException`, whose `getCode()`
//! returns one of the `CODE_*` constants below. Any other exception means the key store is
//! unavailable. Every pending Java exception is cleared before control returns to Rust.
#![allow(unsafe_code)]

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use jni::objects::{GlobalRef, JByteArray, JClass, JObject, JString, JThrowable, JValue};
use jni::sys::jlong;
use jni::{JNIEnv, JavaVM};
use zeroize::Zeroizing;

use crate::provider::{KeyProvider, KeyRequest, Protection, ProviderError};

/// The platform key is missing, permanently invalidated, or did not wrap these bytes.
pub const CODE_KEY_LOST: i32 = 1;
/// The user dismissed the authentication prompt.
pub const CODE_USER_CANCELLED: i32 = 2;
/// Authentication failed or is locked out.
pub const CODE_AUTHENTICATION_FAILED: i32 = 3;
/// The device is locked.
pub const CODE_DEVICE_LOCKED: i32 = 4;
/// The provider cannot honour an option; the message names it.
pub const CODE_UNSUPPORTED: i32 = 5;
/// The key store failed in a way that may pass.
pub const CODE_UNAVAILABLE: i32 = 6;
/// The provider is misconfigured. The message explains the fix, and the store keeps its entries.
pub const CODE_CONFIGURATION: i32 = 7;

static JVM: OnceLock<JavaVM> = OnceLock::new();
static NEXT_HANDLE: AtomicU64 = AtomicU64::new(1);

fn registry() -> &'static Mutex<HashMap<u64, Arc<JniKeyProvider>>> {
    static REGISTRY: OnceLock<Mutex<HashMap<u64, Arc<JniKeyProvider>>>> = OnceLock::new();
    REGISTRY.get_or_init(Default::default)
}

/// Returns the provider registered under `handle`.
pub fn registered(handle: u64) -> Option<Arc<dyn KeyProvider>> {
    let registry = registry().lock().expect("registry lock");
    registry.get(&handle).map(|p| Arc::clone(p) as Arc<dyn KeyProvider>)
}

/// Registers a JVM key provider and returns its handle, or 0 after throwing an exception.
#[no_mangle]
pub extern "system" fn Java_dev_securestore_internal_NativeKeyProviders_nativeRegister(
    mut env: JNIEnv<'_>,
    _class: JClass<'_>,
    provider: JObject<'_>,
) -> jlong {
    let result = (|| -> jni::errors::Result<u64> {
        if JVM.get().is_none() {
            // Another thread may win the race; both captured the same process-wide VM.
            let _ = JVM.set(env.get_java_vm()?);
        }
        let provider = JniKeyProvider { object: env.new_global_ref(provider)? };
        let handle = NEXT_HANDLE.fetch_add(1, Ordering::Relaxed);
        registry().lock().expect("registry lock").insert(handle, Arc::new(provider));
        Ok(handle)
    })();
    match result {
        Ok(handle) => handle as jlong,
        Err(err) => {
            if !env.exception_check().unwrap_or(true) {
                let _ = env.throw_new("java/lang/IllegalStateException", format!("registering the key provider failed: {err}"));
            }
            0
        }
    }
}

/// Forgets a registered provider. Stores opened with it keep their own reference.
#[no_mangle]
pub extern "system" fn Java_dev_securestore_internal_NativeKeyProviders_nativeUnregister(
    _env: JNIEnv<'_>,
    _class: JClass<'_>,
    handle: jlong,
) {
    registry().lock().expect("registry lock").remove(&(handle as u64));
}

struct JniKeyProvider {
    object: GlobalRef,
}

enum Call<'a> {
    Wrap(&'a KeyRequest<'a>, &'a [u8]),
    Unwrap(&'a KeyRequest<'a>, &'a [u8]),
    Delete(&'a str),
    Protection(bool),
}

enum Reply {
    Bytes(Zeroizing<Vec<u8>>),
    Int(i32),
    Unit,
}

impl JniKeyProvider {
    /// Calls the JVM object on the current thread, attaching the thread if needed. The
    /// local frame frees every local reference the call creates.
    fn call(&self, call: Call<'_>) -> Result<Reply, ProviderError> {
        let vm = JVM.get().ok_or_else(|| ProviderError::Unavailable("the JVM is not registered".to_owned()))?;
        let mut env = vm
            .attach_current_thread()
            .map_err(|e| ProviderError::Unavailable(format!("attaching to the JVM failed: {e}")))?;
        env.with_local_frame(16, |env| -> Result<Reply, jni::errors::Error> {
            Ok(match call {
                Call::Wrap(request, bytes) => Reply::Bytes(self.call_bytes(env, "wrap", request, bytes)?),
                Call::Unwrap(request, bytes) => Reply::Bytes(self.call_bytes(env, "unwrap", request, bytes)?),
                Call::Delete(alias) => {
                    let alias = env.new_string(alias)?;
                    env.call_method(&self.object, "deleteKey", "(Ljava/lang/String;)V", &[JValue::Object(&alias)])?;
                    Reply::Unit
                }
                Call::Protection(authenticated) => {
                    let level = env
                        .call_method(&self.object, "protection", "(Z)I", &[JValue::Bool(authenticated.into())])?
                        .i()?;
                    Reply::Int(level)
                }
            })
        })
        .map_err(|err| Self::take_exception(&mut env, err))
    }

    fn call_bytes(
        &self,
        env: &mut JNIEnv<'_>,
        method: &str,
        request: &KeyRequest<'_>,
        bytes: &[u8],
    ) -> jni::errors::Result<Zeroizing<Vec<u8>>> {
        let alias = env.new_string(request.alias)?;
        let aad = env.byte_array_from_slice(request.aad)?;
        let prompt = match request.prompt {
            Some(prompt) => JObject::from(env.new_string(prompt)?),
            None => JObject::null(),
        };
        let input = env.byte_array_from_slice(bytes)?;
        let output = env
            .call_method(
                &self.object,
                method,
                "(Ljava/lang/String;[BZLjava/lang/String;[B)[B",
                &[
                    JValue::Object(&alias),
                    JValue::Object(&aad),
                    JValue::Bool(request.authenticated.into()),
                    JValue::Object(&prompt),
                    JValue::Object(&input),
                ],
            )?
            .l()?;
        if output.is_null() {
            return Err(jni::errors::Error::NullPtr("the key provider returned null"));
        }
        let output = JByteArray::from(output);
        Ok(Zeroizing::new(env.convert_byte_array(&output)?))
    }

    /// Clears a pending Java exception and turns it, or a JNI error, into a provider error.
    fn take_exception(env: &mut JNIEnv<'_>, err: jni::errors::Error) -> ProviderError {
        if !matches!(err, jni::errors::Error::JavaException) {
            return ProviderError::Unavailable(format!("JNI call failed: {err}"));
        }
        let Ok(throwable) = env.exception_occurred() else {
            return ProviderError::Unavailable("a Java exception could not be read".to_owned());
        };
        let _ = env.exception_clear();
        let error = Self::classify(env, &throwable)
            .unwrap_or_else(|_| ProviderError::Unavailable("a Java exception could not be read".to_owned()));
        // A failure while reading the exception throws again; never leave one pending.
        if env.exception_check().unwrap_or(false) {
            let _ = env.exception_clear();
        }
        let _ = env.delete_local_ref(throwable);
        error
    }

    fn classify(env: &mut JNIEnv<'_>, throwable: &JThrowable<'_>) -> jni::errors::Result<ProviderError> {
        let message = env.call_method(throwable, "getMessage", "()Ljava/lang/String;", &[])?.l()?;
        let message: String = if message.is_null() {
            String::new()
        } else {
            env.get_string(&JString::from(message))?.into()
        };
        let is_provider_exception = env.is_instance_of(throwable, "dev/securestore/internal/KeyProviderException")?;
        if !is_provider_exception {
            let class = env.call_method(throwable, "getClass", "()Ljava/lang/Class;", &[])?.l()?;
            let name = env.call_method(&class, "getName", "()Ljava/lang/String;", &[])?.l()?;
            let name: String = env.get_string(&JString::from(name))?.into();
            return Ok(ProviderError::Unavailable(format!("{name}: {message}")));
        }
        let code = env.call_method(throwable, "getCode", "()I", &[])?.i()?;
        Ok(match code {
            CODE_KEY_LOST => ProviderError::KeyLost,
            CODE_USER_CANCELLED => ProviderError::UserCancelled,
            CODE_AUTHENTICATION_FAILED => ProviderError::AuthenticationFailed(message),
            CODE_DEVICE_LOCKED => ProviderError::DeviceLocked,
            CODE_UNSUPPORTED => ProviderError::Unsupported { option: "requireAuthentication".to_owned(), reason: message },
            CODE_CONFIGURATION => ProviderError::Configuration(message),
            _ => ProviderError::Unavailable(message),
        })
    }
}

impl KeyProvider for JniKeyProvider {
    fn wrap(&self, request: &KeyRequest<'_>, key: &[u8]) -> Result<Vec<u8>, ProviderError> {
        match self.call(Call::Wrap(request, key))? {
            Reply::Bytes(bytes) => Ok(bytes.to_vec()),
            _ => unreachable!("wrap returns bytes"),
        }
    }

    fn unwrap(&self, request: &KeyRequest<'_>, wrapped: &[u8]) -> Result<Zeroizing<Vec<u8>>, ProviderError> {
        match self.call(Call::Unwrap(request, wrapped))? {
            Reply::Bytes(bytes) => Ok(bytes),
            _ => unreachable!("unwrap returns bytes"),
        }
    }

    fn delete_key(&self, alias: &str) -> Result<(), ProviderError> {
        self.call(Call::Delete(alias)).map(|_| ())
    }

    fn protection(&self, authenticated: bool) -> Protection {
        match self.call(Call::Protection(authenticated)) {
            Ok(Reply::Int(1)) => Protection::OsCredentialStore,
            Ok(Reply::Int(2)) => Protection::TrustedEnvironment,
            Ok(Reply::Int(3)) => Protection::StrongBox,
            Ok(Reply::Int(4)) => Protection::SecureEnclave,
            // Report the weakest level when the provider call fails.
            _ => Protection::Software,
        }
    }
}
