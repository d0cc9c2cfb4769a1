//! [`KeychainApi`] over the system Keychain, through the crate `security-framework` 3.
//!
//! NOTE: this file is compiled only on Apple targets, so only macOS CI (the iOS simulator
//! tests) builds and runs it. The Linux build tests everything around it through the fake.
//!
//! The crate's safe functions cover the four calls as follows, and nothing here needs
//! `unsafe`:
//!
//! - `SecItemAdd`: [`add_item`] takes any dictionary, built from the neutral query with the
//!   constant strings of [`Attribute::cf_key`].
//! - `SecItemCopyMatching` for a value: [`generic_password`] takes any dictionary through
//!   [`PasswordOptions`], so `kSecUseOperationPrompt` and the access group reach the call.
//! - `SecItemCopyMatching` for attributes: [`ItemSearchOptions`], whose results are read as
//!   text by [`SearchResult::simplify_dict`], keyed by the same constant strings.
//! - `SecItemUpdate`: [`update_item`], which can change the value and the label but not the
//!   accessibility or access control, so [`SystemKeychain::can_update_protection`] is false.
//! - `SecItemDelete`: [`delete_generic_password_options`], again with any dictionary.
//!
//! Values pass through `CFData` buffers owned by Core Foundation, which are not zeroized
//! when released.

use std::collections::HashMap;

use core_foundation::base::{CFType, TCFType};
use core_foundation::boolean::CFBoolean;
use core_foundation::data::CFData;
use core_foundation::dictionary::CFDictionary;
use core_foundation::string::CFString;
#[allow(deprecated)]
use security_framework::item::add_item;
use security_framework::access_control::{ProtectionMode, SecAccessControl};
use security_framework::base::Error as SecurityError;
use security_framework::item::{update_item, ItemClass as SecItemClass, ItemSearchOptions, ItemUpdateOptions, ItemUpdateValue, Limit, SearchResult};
use security_framework::passwords::{delete_generic_password_options, generic_password, AccessControlOptions, PasswordOptions};
use zeroize::Zeroizing;

use super::api::{FoundItem, KeychainApi};
use super::query::{self, AccessConstraint, AccessControl, Attribute, MatchLimit, Query};
use super::status::OsStatus;
use crate::backend::Accessibility;

/// The system Keychain.
pub struct SystemKeychain;

fn status_of(error: SecurityError) -> OsStatus {
    OsStatus(error.code())
}

fn access_control(control: &AccessControl) -> Result<SecAccessControl, OsStatus> {
    let protection = match control.accessible {
        Accessibility::AfterFirstUnlock => ProtectionMode::AccessibleAfterFirstUnlock,
        Accessibility::AfterFirstUnlockThisDeviceOnly => ProtectionMode::AccessibleAfterFirstUnlockThisDeviceOnly,
        Accessibility::WhenPasscodeSetThisDeviceOnly => ProtectionMode::AccessibleWhenPasscodeSetThisDeviceOnly,
        Accessibility::WhenUnlocked => ProtectionMode::AccessibleWhenUnlocked,
        Accessibility::WhenUnlockedThisDeviceOnly => ProtectionMode::AccessibleWhenUnlockedThisDeviceOnly,
        // The backend rejects these with requireAuthentication before any call.
        Accessibility::Always | Accessibility::AlwaysThisDeviceOnly => return Err(OsStatus::PARAM),
    };
    let flags = match control.constraint {
        AccessConstraint::BiometryCurrentSet => AccessControlOptions::BIOMETRY_CURRENT_SET,
    };
    SecAccessControl::create_with_protection(Some(protection), flags.bits()).map_err(status_of)
}

/// Converts a query into dictionary pairs, leaving out the attributes `skip` selects.
fn dictionary_pairs(query: &Query, skip: impl Fn(&Attribute) -> bool) -> Result<Vec<(CFString, CFType)>, OsStatus> {
    let mut pairs = Vec::with_capacity(query.attributes().len());
    for attribute in query.attributes().iter().filter(|attribute| !skip(attribute)) {
        let value = match attribute {
            Attribute::Class(class) => CFString::from_static_string(class.cf_value()).into_CFType(),
            Attribute::Service(text)
            | Attribute::Account(text)
            | Attribute::AccessGroup(text)
            | Attribute::Label(text)
            | Attribute::UseOperationPrompt(text) => CFString::new(text).into_CFType(),
            Attribute::Accessible(accessible) => {
                CFString::from_static_string(query::accessible_cf_value(*accessible)).into_CFType()
            }
            Attribute::AccessControl(control) => access_control(control)?.into_CFType(),
            Attribute::ValueData(data) => CFData::from_buffer(data).into_CFType(),
            Attribute::UseDataProtectionKeychain | Attribute::ReturnData | Attribute::ReturnAttributes => {
                CFBoolean::true_value().into_CFType()
            }
            Attribute::MatchLimit(limit) => CFString::from_static_string(limit.cf_value()).into_CFType(),
        };
        pairs.push((CFString::from_static_string(attribute.cf_key()), value));
    }
    Ok(pairs)
}

/// Converts a query for attributes or an update target into search options. Attributes the
/// options cannot express give `errSecUnimplemented`.
fn search_options(query: &Query) -> Result<ItemSearchOptions, OsStatus> {
    let mut options = ItemSearchOptions::new();
    for attribute in query.attributes() {
        match attribute {
            Attribute::Class(_) => {
                options.class(SecItemClass::generic_password());
            }
            Attribute::Service(service) => {
                options.service(service);
            }
            Attribute::Account(account) => {
                options.account(account);
            }
            Attribute::AccessGroup(group) => {
                options.access_group(group);
            }
            Attribute::Label(label) => {
                options.label(label);
            }
            Attribute::ReturnAttributes => {
                options.load_attributes(true);
            }
            Attribute::MatchLimit(MatchLimit::One) => {
                options.limit(1i64);
            }
            Attribute::MatchLimit(MatchLimit::All) => {
                options.limit(Limit::All);
            }
            Attribute::UseDataProtectionKeychain => {
                // iOS and tvOS have only the data protection keychain.
                #[cfg(target_os = "macos")]
                options.ignore_legacy_keychains();
            }
            _ => return Err(OsStatus::UNIMPLEMENTED),
        }
    }
    Ok(options)
}

/// Reads the attributes of one search result, keyed by the constant strings.
fn found_item(attributes: &HashMap<String, String>) -> FoundItem {
    let text = |key: &str| attributes.get(key).cloned();
    FoundItem {
        account: text("acct"),
        access_group: text("agrp"),
        label: text("labl"),
        accessible: attributes.get("pdmn").and_then(|value| query::accessibility_from_cf_value(value)),
        data: None,
    }
}

#[allow(deprecated)]
fn password_options(pairs: Vec<(CFString, CFType)>) -> PasswordOptions {
    // The crate deprecated this public field in favour of setters, which cannot set
    // kSecAttrAccessible or kSecUseOperationPrompt.
    PasswordOptions { query: pairs }
}

impl KeychainApi for SystemKeychain {
    fn add(&self, attributes: &Query) -> Result<(), OsStatus> {
        let pairs = dictionary_pairs(attributes, |_| false)?;
        let dictionary = CFDictionary::from_CFType_pairs(&pairs);
        #[allow(deprecated)]
        add_item(dictionary.to_untyped()).map_err(status_of)
    }

    fn copy_matching(&self, query: &Query) -> Result<Vec<FoundItem>, OsStatus> {
        if query.has_key_of(&Attribute::ReturnData) {
            // generic_password adds kSecReturnData itself and returns one value.
            let pairs = dictionary_pairs(query, |a| matches!(a, Attribute::ReturnData | Attribute::MatchLimit(_)))?;
            let data = generic_password(password_options(pairs)).map_err(status_of)?;
            return Ok(vec![FoundItem { data: Some(Zeroizing::new(data)), ..FoundItem::default() }]);
        }
        let results = search_options(query)?.search().map_err(status_of)?;
        let items = results.iter().filter_map(SearchResult::simplify_dict).map(|attributes| found_item(&attributes));
        Ok(items.collect())
    }

    fn update(&self, query: &Query, changes: &Query) -> Result<(), OsStatus> {
        let search = search_options(query)?;
        let mut update = ItemUpdateOptions::new();
        for change in changes.attributes() {
            match change {
                Attribute::ValueData(data) => {
                    update.set_value(ItemUpdateValue::Data(CFData::from_buffer(data)));
                }
                Attribute::Label(label) => {
                    update.set_label(label);
                }
                Attribute::Account(account) => {
                    update.set_account_name(account);
                }
                _ => return Err(OsStatus::UNIMPLEMENTED),
            }
        }
        update_item(&search, &update).map_err(status_of)
    }

    fn delete(&self, query: &Query) -> Result<(), OsStatus> {
        let pairs = dictionary_pairs(query, |_| false)?;
        delete_generic_password_options(password_options(pairs)).map_err(status_of)
    }

    fn can_update_protection(&self) -> bool {
        false
    }
}
