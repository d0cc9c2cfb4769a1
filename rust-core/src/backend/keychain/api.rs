//! The four Keychain calls the backend needs, over platform-neutral queries.

use std::fmt;

use zeroize::Zeroizing;

use super::query::Query;
use super::status::OsStatus;
use crate::backend::Accessibility;

/// An item returned by `SecItemCopyMatching`: its value if the query had `kSecReturnData`,
/// its attributes if it had `kSecReturnAttributes`.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct FoundItem {
    /// `kSecAttrAccount`.
    pub account: Option<String>,
    /// `kSecAttrAccessGroup`.
    pub access_group: Option<String>,
    /// `kSecAttrLabel`.
    pub label: Option<String>,
    /// `kSecAttrAccessible`.
    pub accessible: Option<Accessibility>,
    /// `kSecValueData`.
    pub data: Option<Zeroizing<Vec<u8>>>,
}

impl fmt::Debug for FoundItem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FoundItem")
            .field("account", &self.account)
            .field("access_group", &self.access_group)
            .field("label", &self.label)
            .field("accessible", &self.accessible)
            .field("data", &self.data.as_ref().map(|data| format!("<{} bytes>", data.len())))
            .finish()
    }
}

/// The Keychain: `SecItemAdd`, `SecItemCopyMatching`, `SecItemUpdate` and `SecItemDelete`.
///
/// Implementations return the `OSStatus` of the call unchanged, so that
/// [`super::status::map_status`] is the only place that interprets it.
pub trait KeychainApi: Send + Sync {
    /// `SecItemAdd(attributes)`.
    fn add(&self, attributes: &Query) -> Result<(), OsStatus>;

    /// `SecItemCopyMatching(query)`. Returns one item for `kSecMatchLimitOne` and every
    /// matching item for `kSecMatchLimitAll`; no match is `errSecItemNotFound`.
    fn copy_matching(&self, query: &Query) -> Result<Vec<FoundItem>, OsStatus>;

    /// `SecItemUpdate(query, changes)`: applies `changes` to every item that matches `query`.
    fn update(&self, query: &Query, changes: &Query) -> Result<(), OsStatus>;

    /// `SecItemDelete(query)`: deletes every item that matches `query`.
    fn delete(&self, query: &Query) -> Result<(), OsStatus>;

    /// Returns whether [`KeychainApi::update`] can change `kSecAttrAccessible`. When it cannot, an
    /// overwrite that changes an entry's protection writes a new item and swaps it in.
    fn can_update_protection(&self) -> bool;
}
