//! A software key provider for tests, benchmarks and fuzzing.
//!
//! [`MemoryKeyProvider`] keeps its platform keys in memory and can simulate the failures of
//! real key stores: a key lost after a backup restore, a key invalidated by a new biometric
//! enrolment, a cancelled prompt, a key store that is temporarily unavailable. It is never
//! used by the shipped bindings.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use zeroize::Zeroizing;

use crate::crypto::{self, SecretKey};
use crate::provider::{KeyProvider, KeyRequest, Protection, ProviderError};

/// In-memory platform keys with fault injection.
#[derive(Default)]
pub struct MemoryKeyProvider {
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    keys: HashMap<String, SecretKey>,
    queued_failures: VecDeque<ProviderError>,
    supports_authentication: bool,
    unwrap_calls: u64,
    created_keys: u64,
}

impl MemoryKeyProvider {
    /// Creates a provider without support for authenticated keys, like the desktop JVM.
    pub fn new() -> Self {
        Self::default()
    }

    /// Creates a provider that also supports authenticated keys, like Android Keystore.
    pub fn with_authentication() -> Self {
        let provider = Self::default();
        provider.state().supports_authentication = true;
        provider
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().expect("provider lock")
    }

    /// Deletes every platform key, as after a restore onto a new device.
    pub fn lose_all_keys(&self) {
        self.state().keys.clear();
    }

    /// Deletes one platform key, as after a new biometric enrolment.
    pub fn lose_key(&self, alias: &str) {
        self.state().keys.remove(alias);
    }

    /// Makes the next provider call fail with `error`.
    pub fn fail_next(&self, error: ProviderError) {
        self.state().queued_failures.push_back(error);
    }

    /// Returns the aliases of the platform keys that exist, sorted.
    pub fn aliases(&self) -> Vec<String> {
        let mut aliases: Vec<_> = self.state().keys.keys().cloned().collect();
        aliases.sort();
        aliases
    }

    /// Returns how many platform keys were created so far.
    pub fn created_keys(&self) -> u64 {
        self.state().created_keys
    }

    /// Returns how many unwrap calls were made so far.
    pub fn unwrap_calls(&self) -> u64 {
        self.state().unwrap_calls
    }

    fn check(state: &mut State, request: &KeyRequest<'_>) -> Result<(), ProviderError> {
        if let Some(error) = state.queued_failures.pop_front() {
            return Err(error);
        }
        if request.authenticated && !state.supports_authentication {
            return Err(ProviderError::Unsupported {
                option: "requireAuthentication".to_owned(),
                reason: "this key provider has no user authentication".to_owned(),
            });
        }
        Ok(())
    }
}

impl KeyProvider for MemoryKeyProvider {
    fn wrap(&self, request: &KeyRequest<'_>, key: &[u8]) -> Result<Vec<u8>, ProviderError> {
        let mut state = self.state();
        Self::check(&mut state, request)?;
        if !state.keys.contains_key(request.alias) {
            let key = SecretKey::generate().map_err(|e| ProviderError::Unavailable(e.to_string()))?;
            state.keys.insert(request.alias.to_owned(), key);
            state.created_keys += 1;
        }
        let cipher = state.keys[request.alias].cipher();
        crypto::seal(&cipher, request.aad, key).map_err(|e| ProviderError::Unavailable(format!("{e:?}")))
    }

    fn unwrap(&self, request: &KeyRequest<'_>, wrapped: &[u8]) -> Result<Zeroizing<Vec<u8>>, ProviderError> {
        let mut state = self.state();
        state.unwrap_calls += 1;
        Self::check(&mut state, request)?;
        let key = state.keys.get(request.alias).ok_or(ProviderError::KeyLost)?;
        crypto::open(&key.cipher(), request.aad, wrapped).ok_or(ProviderError::KeyLost)
    }

    fn delete_key(&self, alias: &str) -> Result<(), ProviderError> {
        let mut state = self.state();
        if let Some(error) = state.queued_failures.pop_front() {
            return Err(error);
        }
        state.keys.remove(alias);
        Ok(())
    }

    fn protection(&self, _authenticated: bool) -> Protection {
        Protection::Software
    }
}
