//! The encrypted-files backend, used on Android and the desktop.
//!
//! Layout under the store's root directory:
//!
//! ```text
//! s-<SHA-256 of the service name>/   one directory per service, mode 0700
//!     root.key                       the service root key, wrapped by the platform key
//!     .lock                          advisory lock file
//!     e-<entry id>                   one file per entry (envelope v1), mode 0600
//!     .tmp-<random>                  temporary files of writes in progress
//! ```
//!
//! The entry id is HMAC-SHA256 of the key name under a key derived from the root key, so
//! neither key names nor values appear on disk, and no key can name a path.
//!
//! Invariants:
//! - Entry files are written only while holding the service lock (shared), after checking
//!   under that lock that the root key file is the one the entry is encrypted for. The root
//!   key file is created or replaced only under the exclusive lock. So a write that returns
//!   is never encrypted under a root key that another process has already replaced.
//! - A read never creates key material and takes no lock.
//! - A root key whose platform key is gone is replaced only by a write; reads of its old
//!   entries return `None`.

use std::collections::HashMap;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use zeroize::Zeroizing;

use crate::backend::{Access, Backend, KeyListing};
use crate::crypto::{self, SecretKey, ServiceKeys, ENTRY_ID_LEN, KEY_ID_LEN};
use crate::envelope::{self, Part};
use crate::error::{Result, StoreError};
use crate::fsutil::{self, TEMP_PREFIX};
use crate::provider::{KeyProvider, KeyRequest, Protection, ProviderError};
use crate::validate;

const ROOT_KEY_FILE: &str = "root.key";
const LOCK_FILE: &str = ".lock";
const SERVICE_PREFIX: &str = "s-";
const ENTRY_PREFIX: &str = "e-";

/// Encrypted entries in a private directory, with root keys wrapped by a [`KeyProvider`].
pub struct FileBackend {
    root: PathBuf,
    provider: Arc<dyn KeyProvider>,
    /// Unwrapped service keys, by service name, with the root key file they came from.
    cache: Mutex<HashMap<String, Arc<CachedKeys>>>,
}

struct CachedKeys {
    file: Vec<u8>,
    keys: ServiceKeys,
}

enum RootKeyState {
    Absent,
    Lost,
    Ready(Arc<CachedKeys>),
}

impl FileBackend {
    /// Opens the store in `root`, creating the directory (mode 0700) if needed. Opening
    /// reads no entries and unwraps no keys, so it costs the same for any number of entries.
    pub fn open(root: impl Into<PathBuf>, provider: Arc<dyn KeyProvider>) -> Result<Self> {
        let root = root.into();
        fsutil::create_private_dir(&root).map_err(|e| StoreError::storage("create the store directory", e))?;
        Ok(FileBackend { root, provider, cache: Mutex::new(HashMap::new()) })
    }

    /// Returns the store's root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn service_dir(&self, service: &str) -> PathBuf {
        self.root.join(format!("{SERVICE_PREFIX}{}", hex::encode(crypto::service_id(service))))
    }

    /// Names the platform key of a service: one for plain entries, one for authenticated ones.
    fn alias(service: &str, authenticated: bool) -> String {
        let id = hex::encode(&crypto::service_id(service)[..16]);
        if authenticated {
            format!("securestore.v1.{id}.auth")
        } else {
            format!("securestore.v1.{id}")
        }
    }

    fn lock(&self, dir: &Path, exclusive: bool) -> Result<fs::File> {
        fsutil::lock_file(&dir.join(LOCK_FILE), exclusive).map_err(|e| StoreError::storage("lock the service", e))
    }

    fn load_root_key(&self, service: &str, dir: &Path) -> Result<RootKeyState> {
        let bytes = match fsutil::read_optional(&dir.join(ROOT_KEY_FILE)) {
            Ok(Some(bytes)) => bytes,
            Ok(None) => return Ok(RootKeyState::Absent),
            Err(err) => return Err(StoreError::storage("read the root key", err)),
        };
        if let Some(cached) = self.cache.lock().expect("cache lock").get(service) {
            if cached.file == bytes {
                return Ok(RootKeyState::Ready(Arc::clone(cached)));
            }
        }
        // A root key file that does not parse was not written by this store; like a key
        // wrapped by another device's platform key, it can never be unwrapped.
        let Ok(parsed) = envelope::parse_root_key(&bytes) else {
            return Ok(RootKeyState::Lost);
        };
        let alias = Self::alias(service, false);
        let aad = envelope::root_key_aad(service, &parsed.key_id);
        let request = KeyRequest { alias: &alias, aad: &aad, authenticated: false, prompt: None };
        let unwrapped = match self.provider.unwrap(&request, parsed.wrapped) {
            Ok(unwrapped) => unwrapped,
            Err(ProviderError::KeyLost) => return Ok(RootKeyState::Lost),
            Err(err) => return Err(err.into_store_error()),
        };
        let Some(root_key) = SecretKey::from_slice(&unwrapped) else {
            return Ok(RootKeyState::Lost);
        };
        let cached = Arc::new(CachedKeys { keys: ServiceKeys::derive(&root_key, parsed.key_id), file: bytes });
        self.cache.lock().expect("cache lock").insert(service.to_owned(), Arc::clone(&cached));
        Ok(RootKeyState::Ready(cached))
    }

    /// Creates a new root key for `service`. Must be called under the exclusive lock.
    fn create_root_key(&self, service: &str, dir: &Path, replaces_lost: bool) -> Result<Arc<CachedKeys>> {
        let root_key = SecretKey::generate().map_err(|e| StoreError::storage("generate a root key", e))?;
        let mut key_id = [0u8; KEY_ID_LEN];
        crypto::fill_random(&mut key_id).map_err(|e| StoreError::storage("generate a key id", e))?;

        let alias = Self::alias(service, false);
        let aad = envelope::root_key_aad(service, &key_id);
        let request = KeyRequest { alias: &alias, aad: &aad, authenticated: false, prompt: None };
        let wrapped = self.wrap_recreating(&request, root_key.expose())?;
        let file = envelope::encode_root_key(&key_id, &wrapped);
        fsutil::write_atomic(dir, ROOT_KEY_FILE, &file).map_err(|e| StoreError::storage("write the root key", e))?;

        if replaces_lost {
            // Entries under the lost root key can never be read again.
            self.remove_files(dir, |name| name.starts_with(ENTRY_PREFIX))
                .map_err(|e| StoreError::storage("remove entries of the lost root key", e))?;
        }
        let cached = Arc::new(CachedKeys { keys: ServiceKeys::derive(&root_key, key_id), file });
        self.cache.lock().expect("cache lock").insert(service.to_owned(), Arc::clone(&cached));
        Ok(cached)
    }

    /// Wraps `key`, replacing the platform key once if the provider reports it lost.
    fn wrap_recreating(&self, request: &KeyRequest<'_>, key: &[u8]) -> Result<Vec<u8>> {
        match self.provider.wrap(request, key) {
            Err(ProviderError::KeyLost) => {
                self.provider.delete_key(request.alias).map_err(ProviderError::into_store_error)?;
                self.provider.wrap(request, key).map_err(ProviderError::into_store_error)
            }
            other => other.map_err(ProviderError::into_store_error),
        }
    }

    /// Returns the service's keys for a write, creating or replacing the root key when
    /// needed, together with the lock that must be held until the write is durable.
    fn keys_for_write(&self, service: &str, dir: &Path) -> Result<(Arc<CachedKeys>, fs::File)> {
        let shared = self.lock(dir, false)?;
        if let RootKeyState::Ready(keys) = self.load_root_key(service, dir)? {
            return Ok((keys, shared));
        }
        drop(shared);
        let exclusive = self.lock(dir, true)?;
        let keys = match self.load_root_key(service, dir)? {
            RootKeyState::Ready(keys) => keys,
            RootKeyState::Absent => self.create_root_key(service, dir, false)?,
            RootKeyState::Lost => self.create_root_key(service, dir, true)?,
        };
        Ok((keys, exclusive))
    }

    fn remove_files(&self, dir: &Path, matches: impl Fn(&str) -> bool) -> io::Result<()> {
        let entries = match fs::read_dir(dir) {
            Ok(entries) => entries,
            Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(err) => return Err(err),
        };
        for entry in entries {
            let entry = entry?;
            if entry.file_name().to_str().is_some_and(&matches) {
                match fs::remove_file(entry.path()) {
                    Err(err) if err.kind() != io::ErrorKind::NotFound => return Err(err),
                    _ => {}
                }
            }
        }
        fsutil::sync_dir(dir)
    }

    fn open_value(
        &self,
        access: &Access<'_>,
        key: &str,
        keys: &CachedKeys,
        entry_id: &[u8; ENTRY_ID_LEN],
        bytes: &[u8],
    ) -> Result<Option<Zeroizing<Vec<u8>>>> {
        let integrity = |reason: &str| StoreError::integrity(access.service, key, reason);
        let parsed = envelope::parse_entry(bytes).map_err(|e| integrity(&e.to_string()))?;
        if parsed.key_id != keys.keys.key_id {
            return Err(integrity("the entry belongs to a different root key"));
        }
        let aad = envelope::entry_aad(Part::Value, parsed.header, access.service, entry_id);
        let value = match parsed.wrapped_data_key {
            None => crypto::open(keys.keys.value_cipher(), &aad, parsed.sealed_value),
            Some(wrapped) => {
                let alias = Self::alias(access.service, true);
                let key_aad = envelope::data_key_aad(access.service, entry_id);
                let request = KeyRequest {
                    alias: &alias,
                    aad: &key_aad,
                    authenticated: true,
                    prompt: access.authentication_prompt,
                };
                let data_key = match self.provider.unwrap(&request, wrapped) {
                    Ok(data_key) => data_key,
                    Err(ProviderError::KeyLost) => return Ok(None),
                    Err(err) => return Err(err.into_store_error()),
                };
                let data_key = SecretKey::from_slice(&data_key)
                    .ok_or_else(|| integrity("the wrapped data key has the wrong length"))?;
                crypto::open(&data_key.cipher(), &aad, parsed.sealed_value)
            }
        };
        value.map(Some).ok_or_else(|| integrity("authentication tag mismatch"))
    }

    /// Decrypts the key name of an entry file, or returns `None` if the file is not a valid
    /// entry of this service under its current root key.
    fn read_key_name(&self, service: &str, keys: &CachedKeys, file_name: &str, path: &Path) -> io::Result<Option<String>> {
        let Some(entry_id) = file_name
            .strip_prefix(ENTRY_PREFIX)
            .and_then(|id| hex::decode(id).ok())
            .and_then(|id| <[u8; ENTRY_ID_LEN]>::try_from(id).ok())
        else {
            return Ok(None);
        };
        let Some(bytes) = fsutil::read_optional(path)? else {
            return Ok(None);
        };
        let Ok(parsed) = envelope::parse_entry(&bytes) else {
            return Ok(None);
        };
        if parsed.key_id != keys.keys.key_id {
            return Ok(None);
        }
        let aad = envelope::entry_aad(Part::Name, parsed.header, service, &entry_id);
        let Some(name) = crypto::open(keys.keys.value_cipher(), &aad, parsed.sealed_name) else {
            return Ok(None);
        };
        let Ok(name) = String::from_utf8(name.to_vec()) else {
            return Ok(None);
        };
        let valid = validate::validate_key(&name).is_ok() && keys.keys.entry_id(&name) == entry_id;
        Ok(valid.then_some(name))
    }
}

fn entry_file_name(entry_id: &[u8; ENTRY_ID_LEN]) -> String {
    format!("{ENTRY_PREFIX}{}", hex::encode(entry_id))
}

impl Backend for FileBackend {
    fn get(&self, access: &Access<'_>, key: &str) -> Result<Option<Zeroizing<Vec<u8>>>> {
        let dir = self.service_dir(access.service);
        let RootKeyState::Ready(keys) = self.load_root_key(access.service, &dir)? else {
            return Ok(None);
        };
        let entry_id = keys.keys.entry_id(key);
        match fsutil::read_optional(&dir.join(entry_file_name(&entry_id))) {
            Ok(Some(bytes)) => self.open_value(access, key, &keys, &entry_id, &bytes),
            Ok(None) => Ok(None),
            Err(err) => Err(StoreError::storage("read the entry", err)),
        }
    }

    fn set(&self, access: &Access<'_>, key: &str, value: &[u8]) -> Result<()> {
        let dir = self.service_dir(access.service);
        fsutil::create_private_dir(&dir).map_err(|e| StoreError::storage("create the service directory", e))?;
        let (keys, _lock) = self.keys_for_write(access.service, &dir)?;
        let entry_id = keys.keys.entry_id(key);
        let sealing_error = |e: crypto::SealError| StoreError::storage("encrypt the entry", format!("{e:?}"));

        let (header, sealed_value) = if access.require_authentication {
            let data_key = SecretKey::generate().map_err(|e| StoreError::storage("generate a data key", e))?;
            let alias = Self::alias(access.service, true);
            let key_aad = envelope::data_key_aad(access.service, &entry_id);
            let request = KeyRequest {
                alias: &alias,
                aad: &key_aad,
                authenticated: true,
                prompt: access.authentication_prompt,
            };
            let wrapped = self.wrap_recreating(&request, data_key.expose())?;
            let header = envelope::entry_header(&keys.keys.key_id, Some(&wrapped));
            let aad = envelope::entry_aad(Part::Value, &header, access.service, &entry_id);
            let sealed = crypto::seal(&data_key.cipher(), &aad, value).map_err(sealing_error)?;
            (header, sealed)
        } else {
            let header = envelope::entry_header(&keys.keys.key_id, None);
            let aad = envelope::entry_aad(Part::Value, &header, access.service, &entry_id);
            let sealed = crypto::seal(keys.keys.value_cipher(), &aad, value).map_err(sealing_error)?;
            (header, sealed)
        };
        let name_aad = envelope::entry_aad(Part::Name, &header, access.service, &entry_id);
        let sealed_name = crypto::seal(keys.keys.value_cipher(), &name_aad, key.as_bytes()).map_err(sealing_error)?;
        let file = envelope::encode_entry(&header, &sealed_name, &sealed_value);
        fsutil::write_atomic(&dir, &entry_file_name(&entry_id), &file)
            .map_err(|e| StoreError::storage("write the entry", e))
    }

    fn delete(&self, access: &Access<'_>, key: &str) -> Result<()> {
        let dir = self.service_dir(access.service);
        if !dir.is_dir() {
            return Ok(());
        }
        let _lock = self.lock(&dir, false)?;
        // Entries under an absent or lost root key are unreadable already.
        let RootKeyState::Ready(keys) = self.load_root_key(access.service, &dir)? else {
            return Ok(());
        };
        let entry_id = keys.keys.entry_id(key);
        fsutil::remove_durably(&dir, &entry_file_name(&entry_id)).map_err(|e| StoreError::storage("delete the entry", e))
    }

    fn list(&self, access: &Access<'_>) -> Result<KeyListing> {
        let dir = self.service_dir(access.service);
        let mut listing = KeyListing::default();
        let entries = match fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(listing),
            Err(err) => return Err(StoreError::storage("list the service directory", err)),
        };
        let state = self.load_root_key(access.service, &dir)?;
        listing.root_key_lost = matches!(state, RootKeyState::Lost);
        for entry in entries {
            let entry = entry.map_err(|e| StoreError::storage("list the service directory", e))?;
            let file_name = entry.file_name();
            let Some(file_name) = file_name.to_str() else {
                continue;
            };
            if !file_name.starts_with(ENTRY_PREFIX) {
                continue;
            }
            let name = match &state {
                RootKeyState::Ready(keys) => self
                    .read_key_name(access.service, keys, file_name, &entry.path())
                    .map_err(|e| StoreError::storage("read an entry", e))?,
                _ => None,
            };
            match name {
                Some(name) => listing.keys.push(name),
                None => listing.unreadable_entries += 1,
            }
        }
        listing.keys.sort();
        Ok(listing)
    }

    fn delete_service(&self, access: &Access<'_>) -> Result<()> {
        let dir = self.service_dir(access.service);
        if !dir.is_dir() {
            return Ok(());
        }
        let _lock = self.lock(&dir, true)?;
        self.remove_files(&dir, |name| name.starts_with(ENTRY_PREFIX) || name.starts_with(TEMP_PREFIX))
            .map_err(|e| StoreError::storage("delete the service's entries", e))?;
        fsutil::remove_durably(&dir, ROOT_KEY_FILE).map_err(|e| StoreError::storage("delete the root key", e))?;
        self.cache.lock().expect("cache lock").remove(access.service);
        for authenticated in [false, true] {
            self.provider
                .delete_key(&Self::alias(access.service, authenticated))
                .map_err(ProviderError::into_store_error)?;
        }
        Ok(())
    }

    fn protection(&self, access: &Access<'_>) -> Protection {
        self.provider.protection(access.require_authentication)
    }
}
