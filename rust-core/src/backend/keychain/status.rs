//! Keychain result codes and the one function that turns them into store outcomes.
//!
//! The numeric values are those of `SecBase.h` in Apple's SDKs.

use std::fmt;

use crate::error::{Result, StoreError};

/// An `OSStatus` result code of the Security framework.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct OsStatus(pub i32);

impl OsStatus {
    /// `errSecSuccess`.
    pub const SUCCESS: OsStatus = OsStatus(0);
    /// `errSecUnimplemented`: the call cannot express the request.
    pub const UNIMPLEMENTED: OsStatus = OsStatus(-4);
    /// `errSecParam`: a query or attribute was not valid.
    pub const PARAM: OsStatus = OsStatus(-50);
    /// `errSecUserCanceled`: the user dismissed the authentication prompt.
    pub const USER_CANCELED: OsStatus = OsStatus(-128);
    /// `errSecNotAvailable`: no keychain is available.
    pub const NOT_AVAILABLE: OsStatus = OsStatus(-25291);
    /// `errSecAuthFailed`: authentication failed.
    pub const AUTH_FAILED: OsStatus = OsStatus(-25293);
    /// `errSecDuplicateItem`: an item with the same identity exists.
    pub const DUPLICATE_ITEM: OsStatus = OsStatus(-25299);
    /// `errSecItemNotFound`: no item matched.
    pub const ITEM_NOT_FOUND: OsStatus = OsStatus(-25300);
    /// `errSecInteractionNotAllowed`: the item's protection class is locked, usually because
    /// the device is locked.
    pub const INTERACTION_NOT_ALLOWED: OsStatus = OsStatus(-25308);
    /// `errSecDecode`: the Keychain could not decode the item.
    pub const DECODE: OsStatus = OsStatus(-26275);
    /// `errSecMissingEntitlement`: the app lacks the entitlement for the access group.
    pub const MISSING_ENTITLEMENT: OsStatus = OsStatus(-34018);

    /// Returns the constant name of well-known codes.
    pub fn name(self) -> Option<&'static str> {
        let name = match self {
            OsStatus::SUCCESS => "errSecSuccess",
            OsStatus::UNIMPLEMENTED => "errSecUnimplemented",
            OsStatus::PARAM => "errSecParam",
            OsStatus::USER_CANCELED => "errSecUserCanceled",
            OsStatus::NOT_AVAILABLE => "errSecNotAvailable",
            OsStatus::AUTH_FAILED => "errSecAuthFailed",
            OsStatus::DUPLICATE_ITEM => "errSecDuplicateItem",
            OsStatus::ITEM_NOT_FOUND => "errSecItemNotFound",
            OsStatus::INTERACTION_NOT_ALLOWED => "errSecInteractionNotAllowed",
            OsStatus::DECODE => "errSecDecode",
            OsStatus::MISSING_ENTITLEMENT => "errSecMissingEntitlement",
            _ => return None,
        };
        Some(name)
    }
}

impl fmt::Display for OsStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => write!(f, "{name} ({})", self.0),
            None => write!(f, "OSStatus {}", self.0),
        }
    }
}

impl fmt::Debug for OsStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// The outcome of a Keychain call that did not fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The call succeeded.
    Success,
    /// No item matched: the entry is absent.
    Absent,
}

/// Maps the status of a Keychain call to its outcome.
///
/// `operation` names what the store was doing ("read the entry") and `access_group` the
/// group involved, if known; both appear in error messages. `errSecDuplicateItem` is
/// handled by `set` before it gets here, so reaching this function it is a storage failure.
pub fn map_status(status: OsStatus, operation: &str, access_group: Option<&str>) -> Result<Outcome> {
    match status {
        OsStatus::SUCCESS => Ok(Outcome::Success),
        OsStatus::ITEM_NOT_FOUND => Ok(Outcome::Absent),
        OsStatus::INTERACTION_NOT_ALLOWED => Err(StoreError::DeviceLocked),
        OsStatus::USER_CANCELED => Err(StoreError::AuthenticationCancelled),
        OsStatus::AUTH_FAILED => Err(StoreError::AuthenticationFailed {
            reason: format!("the Keychain rejected the authentication while trying to {operation} ({status})"),
        }),
        OsStatus::MISSING_ENTITLEMENT => {
            let group = match access_group {
                Some(group) => format!("access group {group:?}"),
                None => "the app's default access group".to_owned(),
            };
            Err(StoreError::Configuration {
                detail: format!(
                    "the app has no Keychain entitlement for {group} while trying to {operation} \
                     ({status}); enable the Keychain Sharing capability, list the group in the \
                     keychain-access-groups entitlement, and run a code-signed build"
                ),
            })
        }
        other => Err(StoreError::StorageFailure {
            operation: operation.to_owned(),
            detail: format!("the Keychain returned {other}"),
        }),
    }
}

/// Maps the result of a Keychain call that must find its item: absence is a storage failure.
pub fn require_success(result: Result<(), OsStatus>, operation: &str, access_group: Option<&str>) -> Result<()> {
    let Err(status) = result else {
        return Ok(());
    };
    match map_status(status, operation, access_group)? {
        Outcome::Success => Ok(()),
        Outcome::Absent => Err(StoreError::StorageFailure {
            operation: operation.to_owned(),
            detail: format!("the Keychain returned {status}"),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(code: i32) -> Result<Outcome> {
        map_status(OsStatus(code), "read the entry", Some("TEAM.shared"))
    }

    #[test]
    fn success_is_success() {
        assert_eq!(map(0), Ok(Outcome::Success));
    }

    #[test]
    fn item_not_found_is_absent() {
        assert_eq!(OsStatus::ITEM_NOT_FOUND.0, -25300);
        assert_eq!(map(-25300), Ok(Outcome::Absent));
    }

    #[test]
    fn interaction_not_allowed_is_device_locked() {
        assert_eq!(OsStatus::INTERACTION_NOT_ALLOWED.0, -25308);
        assert_eq!(map(-25308), Err(StoreError::DeviceLocked));
    }

    #[test]
    fn user_canceled_is_cancelled() {
        assert_eq!(OsStatus::USER_CANCELED.0, -128);
        assert_eq!(map(-128), Err(StoreError::AuthenticationCancelled));
    }

    #[test]
    fn auth_failed_is_authentication_failed() {
        assert_eq!(OsStatus::AUTH_FAILED.0, -25293);
        match map(-25293) {
            Err(StoreError::AuthenticationFailed { reason }) => {
                assert!(reason.contains("read the entry"), "{reason}");
                assert!(reason.contains("-25293"), "{reason}");
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn missing_entitlement_names_the_fix() {
        assert_eq!(OsStatus::MISSING_ENTITLEMENT.0, -34018);
        match map(-34018) {
            Err(StoreError::Configuration { detail }) => {
                assert!(detail.contains("\"TEAM.shared\""), "{detail}");
                assert!(detail.contains("Keychain Sharing"), "{detail}");
                assert!(detail.contains("keychain-access-groups"), "{detail}");
                assert!(detail.contains("-34018"), "{detail}");
            }
            other => panic!("unexpected {other:?}"),
        }
        match map_status(OsStatus::MISSING_ENTITLEMENT, "write the entry", None) {
            Err(StoreError::Configuration { detail }) => {
                assert!(detail.contains("default access group"), "{detail}");
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn duplicate_item_is_storage_failure() {
        assert_eq!(OsStatus::DUPLICATE_ITEM.0, -25299);
        match map(-25299) {
            Err(StoreError::StorageFailure { operation, detail }) => {
                assert_eq!(operation, "read the entry");
                assert_eq!(detail, "the Keychain returned errSecDuplicateItem (-25299)");
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn other_codes_are_storage_failures() {
        let cases = [
            (-4, "errSecUnimplemented (-4)"),
            (-50, "errSecParam (-50)"),
            (-25291, "errSecNotAvailable (-25291)"),
            (-26275, "errSecDecode (-26275)"),
            (-67671, "OSStatus -67671"),
            (1, "OSStatus 1"),
            (i32::MIN, "OSStatus -2147483648"),
        ];
        for (code, shown) in cases {
            match map(code) {
                Err(StoreError::StorageFailure { operation, detail }) => {
                    assert_eq!(operation, "read the entry");
                    assert_eq!(detail, format!("the Keychain returned {shown}"));
                }
                other => panic!("{code}: unexpected {other:?}"),
            }
        }
    }

    #[test]
    fn require_success_rejects_absence() {
        assert_eq!(require_success(Ok(()), "write the entry", None), Ok(()));
        assert!(matches!(
            require_success(Err(OsStatus::ITEM_NOT_FOUND), "write the entry", None),
            Err(StoreError::StorageFailure { .. })
        ));
        assert_eq!(
            require_success(Err(OsStatus::INTERACTION_NOT_ALLOWED), "write the entry", None),
            Err(StoreError::DeviceLocked)
        );
    }
}
